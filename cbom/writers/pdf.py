"""cbom.pdf: the audit report as PDF (WeasyPrint or a browser, chosen by `cbom.render.pdf_engine`
only when a PDF is asked for)."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, ClassVar, Dict

from ..document import Document

# No PDF is worth more than this: the report of 100,000 components took ~160 s here before the
# listings were bounded (cbom._report_view.PDF_ROW_LIMIT), the time a hostile value could cost is
# unbounded. Past it the PDF is given up, and said so; the rest is kept.
# $CBOM_PDF_TIMEOUT overrides it (cbom.render.pdf_time_limit).
TIME_LIMIT = 900.0
# A browser is stopped by cbom.pdf_browser at the limit itself, a WeasyPrint child by cbom._exec;
# this is the time their processes are given to be killed and their temporary folder removed
# before the writer stops waiting.
CLEANUP_GRACE = 30.0
log = logging.getLogger("cbom.render")


class PdfWriter:
    """The report's PDF (options `paper` and `lang` of the document). Raises ReportUnavailable."""

    name: ClassVar[str] = "pdf"
    file_name: ClassVar[str] = "cbom.pdf"
    time_limit: float = TIME_LIMIT

    def render(self, document: Document) -> bytes:
        """The PDF file; raises TimeoutError or ReportUnavailable after `time_limit` seconds."""
        return self.begin(document)()

    def begin(self, document: Document) -> Callable[[], bytes]:
        """Start the PDF and return the call that waits for it (`render`): between the two, cbom
        writes the other formats while the PDF is laid out. Raises ReportUnavailable."""
        # Imported here: the report's view and Jinja cost every command ~10 ms of start-up.
        from .. import _pdf_child
        from ..render import ReportUnavailable, engine_choice, pdf_engine, pdf_time_limit

        limit = pdf_time_limit(self.time_limit)
        deadline = time.monotonic() + limit
        choice = engine_choice()
        if choice == "browser" or not _pdf_child.usable():
            return self._in_thread(document, pdf_engine(), limit)
        # WeasyPrint in its own process (cbom._pdf_child), started ahead of time by prepare().
        child = _pdf_child.take()
        try:
            child.send(self._html(document, "weasyprint"))
        except BaseException:
            child.close()
            raise

        def wait() -> bytes:
            try:
                pdf = child.result(max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise TimeoutError(f"the PDF took more than {limit:g} s to lay out: given up") from None
            except ReportUnavailable as exc:
                if getattr(exc, "not_started", False):  # no interpreter to run it: this process
                    engine = pdf_engine()
                elif getattr(exc, "unavailable", False):
                    # WeasyPrint does not load here: auto chooses a browser, as pdf_engine would;
                    # forced, pdf_engine says why with its advice.
                    engine = pdf_engine(str(exc).replace("no PDF: ", "", 1))
                else:
                    raise
                return self._in_thread(document, engine, max(1.0, deadline - time.monotonic()))()
            log.info("PDF made by %s", _pdf_child.made_by())
            return pdf

        return wait

    @staticmethod
    def _html(document: Document, engine: str) -> str:
        from ..report import render_print_html

        return render_print_html(document, paper=str(document.options.get("paper", "A4")),
                                 lang=str(document.options.get("lang", "en")), engine=engine)

    def _in_thread(self, document: Document, engine: Any, limit: float) -> Callable[[], bytes]:
        """The PDF by `engine` in this process (a browser, or WeasyPrint in a frozen cbom), made in a
        thread started now; the returned call waits for it."""
        from ..render import html_to_pdf

        result: Dict[str, Any] = {}

        def work() -> None:
            try:
                result["pdf"] = html_to_pdf(self._html(document, engine.name), engine, limit)
            except BaseException as exc:  # handed to the caller's thread
                result["error"] = exc

        # A daemon thread: Python cannot stop an in-process WeasyPrint mid-layout, but cbom need not
        # wait for it, and it ends with the process. A browser is killed at `limit`.
        thread = threading.Thread(target=work, name="cbom-pdf", daemon=True)
        thread.start()
        deadline = time.monotonic() + limit

        def wait() -> bytes:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive() and engine.name == "browser":
                thread.join(CLEANUP_GRACE)
            if thread.is_alive() or isinstance(result.get("error"), TimeoutError):
                raise TimeoutError(f"the PDF took more than {limit:g} s to lay out: given up")
            if "error" in result:
                raise result["error"]
            return result["pdf"]

        return wait


def prepare() -> None:
    """Start the PDF's layout process now (`cbom scan`/`report` asked for a PDF): it loads WeasyPrint
    while the collectors run or the CBOM is read. Never raises."""
    from .. import _pdf_child
    from ..render import ReportUnavailable, engine_choice

    try:
        if engine_choice() != "browser":
            _pdf_child.prepare()
    except (ReportUnavailable, OSError) as exc:  # said when the PDF is written
        log.debug("PDF layout process not started ahead: %s", exc)
