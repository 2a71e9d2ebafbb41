"""cbom.pdf: the audit report as PDF (WeasyPrint or a browser, chosen by `cbom.render.pdf_engine`
only when a PDF is asked for)."""
from __future__ import annotations

import threading
from typing import Any, ClassVar, Dict

from ..document import Document

# No PDF is worth more than this: the report of 100,000 components takes ~160 s here, the time a
# hostile value could cost is unbounded. Past it the PDF is given up, and said so; the rest is kept.
# $CBOM_PDF_TIMEOUT overrides it (cbom.render.pdf_time_limit).
TIME_LIMIT = 900.0
# A browser is stopped by cbom.pdf_browser at the limit itself; this is the time its processes
# are given to be killed and its temporary folder removed before the writer stops waiting.
CLEANUP_GRACE = 30.0


class PdfWriter:
    """The report's PDF (options `paper` and `lang` of the document). Raises ReportUnavailable."""

    name: ClassVar[str] = "pdf"
    file_name: ClassVar[str] = "cbom.pdf"
    time_limit: float = TIME_LIMIT

    def render(self, document: Document) -> bytes:
        """The PDF file; raises TimeoutError (WeasyPrint) or ReportUnavailable (a browser) after
        `time_limit` seconds."""
        # Imported here: the report's view and Jinja cost every command ~10 ms of start-up.
        from ..render import pdf_engine, pdf_time_limit
        from ..report import render_pdf

        limit = pdf_time_limit(self.time_limit)
        result: Dict[str, Any] = {}

        def work() -> None:
            try:
                engine = result["engine"] = pdf_engine()
                result["pdf"] = render_pdf(document, paper=str(document.options.get("paper", "A4")),
                                           lang=str(document.options.get("lang", "en")), time_limit=limit,
                                           engine=engine)
            except BaseException as exc:  # handed to the caller's thread
                result["error"] = exc

        # A daemon thread: Python cannot stop WeasyPrint mid-layout, but cbom need not wait for it,
        # and it ends with the process. A browser is killed at `limit` by the thread itself.
        thread = threading.Thread(target=work, name="cbom-pdf", daemon=True)
        thread.start()
        thread.join(limit)
        if thread.is_alive() and getattr(result.get("engine"), "name", "") == "browser":
            thread.join(CLEANUP_GRACE)
        if thread.is_alive():
            raise TimeoutError(f"the PDF took more than {limit:g} s to lay out: given up")
        if "error" in result:
            raise result["error"]
        return result["pdf"]
