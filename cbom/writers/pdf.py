"""cbom.pdf: the audit report as PDF (WeasyPrint or a browser, chosen by `cbom.render.pdf_engine`
only when a PDF is asked for)."""
from __future__ import annotations

import logging
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, ClassVar, Dict

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
# HTML pages from this many characters are laid out by WeasyPrint in a child process
# (cbom._pdf_child), killed at the time limit. A child costs ~0.5 s more, its interpreter loading
# WeasyPrint again: the whole `cbom report` of a 1-component CBOM takes 1.85 s instead of 1.17 s
# (median of 7, 2-core build machine). A smaller page (up to ~1,000 components, its values cut to
# 500 characters: 175,000 characters, 2.0 s) is laid out here, which the limit need not stop; a
# larger one pays little (3,000 components, 553,000 characters: 4.2 s instead of 3.9 s). Issue 18.
CHILD_MIN_CHARS = 256 * 1024
log = logging.getLogger("cbom.render")


class PdfWriter:
    """The report's PDF (options `paper` and `lang` of the document). Raises ReportUnavailable."""

    name: ClassVar[str] = "pdf"
    file_name: ClassVar[str] = "cbom.pdf"
    time_limit: float = TIME_LIMIT
    child_min_chars: int = CHILD_MIN_CHARS

    def render(self, document: Document) -> bytes:
        """The PDF file; raises TimeoutError (WeasyPrint) or ReportUnavailable (a browser) after
        `time_limit` seconds."""
        # Imported here: the report's view and Jinja cost every command ~10 ms of start-up.
        from ..render import html_to_pdf, pdf_engine, pdf_time_limit
        from ..report import render_print_html

        limit = pdf_time_limit(self.time_limit)
        deadline = time.monotonic() + limit
        result: Dict[str, Any] = {}

        def work() -> None:
            try:
                engine = result["engine"] = pdf_engine()
                html = render_print_html(document, paper=str(document.options.get("paper", "A4")),
                                         lang=str(document.options.get("lang", "en")), engine=engine.name)
                # A frozen cbom (PyInstaller) has no interpreter to start; its build has no WeasyPrint.
                if engine.name == "weasyprint" and len(html) >= self.child_min_chars and not getattr(sys, "frozen", False):
                    left = deadline - time.monotonic()
                    if left <= 0:  # the limit passed while the page was rendered: no layout started
                        raise TimeoutError("no time left for the layout")
                    result["child"] = True
                    result["pdf"] = _in_child(html, left)
                    log.info("PDF made by %s", engine.made_by(result["pdf"]))
                else:
                    result["pdf"] = html_to_pdf(html, engine, limit)
            except BaseException as exc:  # handed to the caller's thread
                result["error"] = exc

        # A daemon thread: Python cannot stop WeasyPrint mid-layout, but cbom need not wait for it,
        # and it ends with the process. A browser, or a WeasyPrint child, is killed at `limit`.
        thread = threading.Thread(target=work, name="cbom-pdf", daemon=True)
        thread.start()
        thread.join(limit)
        if thread.is_alive() and (result.get("child") or getattr(result.get("engine"), "name", "") == "browser"):
            thread.join(CLEANUP_GRACE)
        if thread.is_alive() or isinstance(result.get("error"), TimeoutError):
            raise TimeoutError(f"the PDF took more than {limit:g} s to lay out: given up")
        if "error" in result:
            raise result["error"]
        return result["pdf"]


def _in_child(html: str, limit: float) -> bytes:
    """The PDF of `html` by WeasyPrint in `python -m cbom._pdf_child`, killed after `limit` seconds.

    Raises TimeoutError, or ReportUnavailable with the child's last line."""
    from .. import _exec
    from ..render import ReportUnavailable

    folder = tempfile.mkdtemp(prefix="cbom-pdf-")
    try:
        # -c with the package's folder first: the child imports this cbom whatever the working folder.
        here = str(Path(__file__).resolve().parents[2])
        code = f"import sys; sys.path.insert(0, {here!r}); from cbom._pdf_child import main; sys.exit(main())"
        res = _exec.run([sys.executable, "-c", code, folder], timeout=limit, input=html, limit=1 << 30)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if res.error and "timed out" in res.error:
        raise TimeoutError(res.error)
    if res.rc != 0 or not res.raw.startswith(b"%PDF"):
        lines = [line for line in res.stderr.splitlines() if line.strip()]
        why = lines[-1] if lines else (res.error or f"exit {res.rc}")
        raise ReportUnavailable(why if why.startswith("no PDF") else f"no PDF: WeasyPrint's process failed ({why})")
    return res.raw
