"""The process that lays out the report with WeasyPrint, started ahead of time and stoppable.

Why a process: Python cannot stop WeasyPrint mid-layout in a thread, and a process started early
loads WeasyPrint (0.23 s here) and warms it up (its C types, fonts, font subsetting: ~0.2 s) while
the parent runs the collectors or reads the CBOM and renders the page; the layout of a big report
then also runs beside the parent writing the YAML and HTML (2 cores). Issue 17.

Child side (`main`): argv[1] is a folder the parent made and removes afterwards (this process's
temporary files, fontconfig's cache among them, go there: a killed child runs no atexit handler).
It loads WeasyPrint (on failure: exit 3 with one line on stderr, before reading anything), warms
up unless the page is already waiting, reads the HTML page on stdin (UTF-8) and writes the PDF on
stdout. Empty stdin (the parent needed no PDF after all, or died) ends it with exit 0.

Parent side: `prepare()` starts one such process for the next PDF, `take()` hands it over (or
starts one), `Child.pdf()` gives it the page and waits, killing its tree at the time limit.
"""
from __future__ import annotations

import atexit
import gc
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

EXIT_UNAVAILABLE = 3
_WARM_UP = ('<html><head><style>body{font-family:"DejaVu Sans",sans-serif} code{font-family:"DejaVu Sans Mono",'
            'monospace}</style></head><body><h1>cbom</h1><p>é <b>b</b> <i>i</i> <code>m <b>mb</b></code></p>'
            '<table><tr><th>a</th><td>1</td></tr></table></body></html>')


def main(argv: Optional[List[str]] = None) -> int:
    """Read the HTML on stdin, write its PDF on stdout (exit 0), or one line on stderr (exit 2 or 3)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m cbom._pdf_child TEMPORARY-FOLDER < page.html > page.pdf", file=sys.stderr)
        return 2
    # Before WeasyPrint loads: render._private_font_cache makes fontconfig's cache with mkdtemp.
    tempfile.tempdir = args[0]
    # A short-lived process: without the cyclic collector, which walks WeasyPrint's objects again
    # and again as they are made, loading and laying out take ~0.05-0.1 s less (1 and 3,000
    # components); the peak memory measured the same (77/79 MB, 109/111 MB).
    gc.disable()
    from .render import PdfEngine, ReportUnavailable, _weasyprint

    try:
        engine = PdfEngine("weasyprint", "WeasyPrint", _weasyprint())
    except ReportUnavailable as exc:
        print(f"no PDF: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    if not _input_waiting():
        try:  # the first layout pays for cffi's C type parsing, font loading and subsetting
            engine.to_pdf(_WARM_UP)
        except ReportUnavailable:
            pass  # said again, with its reason, by the real page
    html = sys.stdin.buffer.read().decode("utf-8")
    if not html:  # the parent is gone (killed) or needed no PDF: leave nothing behind
        shutil.rmtree(args[0], ignore_errors=True)
        return 0
    try:
        pdf = engine.to_pdf(html)
    except ReportUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_UNAVAILABLE
    sys.stdout.buffer.write(pdf)
    sys.stdout.buffer.flush()
    return 0


def _input_waiting() -> bool:
    """Whether the page is already on stdin (then warming up would only delay it). POSIX only;
    elsewhere the warm-up is skipped."""
    if os.name != "posix":
        return True
    import select

    try:
        return bool(select.select([sys.stdin.buffer], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class Child:
    """One started layout process, for one PDF."""

    def __init__(self) -> None:
        from . import _exec

        self.folder = tempfile.mkdtemp(prefix="cbom-pdf-")
        # -c with the package's folder first: the child imports this cbom whatever the working folder.
        here = str(Path(__file__).resolve().parents[1])
        code = f"import sys; sys.path.insert(0, {here!r}); from cbom._pdf_child import main; sys.exit(main())"
        self.running = _exec.start([sys.executable, "-c", code, self.folder], stdin=True, limit=1 << 30)
        atexit.register(self.close)  # a scan that ends before its PDF leaves no process behind

    def pdf(self, html: str, limit: float) -> bytes:
        """The PDF of `html`, laid out within `limit` seconds (`send`, then `result`)."""
        self.send(html)
        return self.result(limit)

    def send(self, html: str) -> None:
        """Give the process its page (it starts laying it out as soon as WeasyPrint is loaded)."""
        from . import _exec

        if isinstance(self.running, _exec.Running):
            self.running.send(html.encode("utf-8"))

    def result(self, limit: float) -> bytes:
        """The PDF of the page sent, waited for at most `limit` seconds; the process is ended then.
        Raises TimeoutError, or ReportUnavailable (its `unavailable` attribute True when WeasyPrint
        does not load here)."""
        from . import _exec
        from .render import ReportUnavailable

        started = self.running
        try:
            if isinstance(started, _exec.CommandResult):
                exc = ReportUnavailable(f"no PDF: WeasyPrint's process could not start ({started.why()})")
                exc.not_started = True  # type: ignore[attr-defined]
                raise exc
            res = started.finish(None, limit)
        finally:
            self.close()
        if res.error and "timed out" in res.error:
            raise TimeoutError(f"the PDF took more than {limit:g} s to lay out: given up")
        if res.rc != 0 or not res.raw.startswith(b"%PDF"):
            lines = [line for line in res.stderr.splitlines() if line.strip()]
            why = lines[-1] if lines else (res.error or f"exit {res.rc}")
            exc = ReportUnavailable(why if why.startswith("no PDF") else f"no PDF: WeasyPrint's process failed ({why})")
            exc.unavailable = res.rc == EXIT_UNAVAILABLE and "cannot load" in why  # type: ignore[attr-defined]
            raise exc
        return res.raw

    def close(self) -> None:
        """Stop the process (when still running) and remove its folder."""
        from . import _exec

        if isinstance(self.running, _exec.Running):
            self.running.close()
        shutil.rmtree(self.folder, ignore_errors=True)


_prepared: Optional[Child] = None


def made_by() -> str:
    """"WeasyPrint 70.0": the engine the layout process runs, named without loading it here."""
    from importlib import metadata

    try:
        return f"WeasyPrint {metadata.version('weasyprint')}"
    except (metadata.PackageNotFoundError, ValueError):
        return "WeasyPrint"


def usable() -> bool:
    """Whether a layout process can be started: a Python interpreter to run it (a frozen cbom has
    none) and WeasyPrint installed beside cbom (found without loading it)."""
    if getattr(sys, "frozen", False):
        return False
    import importlib.util

    try:
        if importlib.util.find_spec("weasyprint") is None:
            return False
    except (ImportError, ValueError):
        return False
    if os.name == "nt":  # WeasyPrint's wheel installs on Windows, its Pango DLLs rarely exist there
        import ctypes.util

        return bool(os.environ.get("WEASYPRINT_DLL_DIRECTORIES") or ctypes.util.find_library("libpango-1.0-0")
                    or ctypes.util.find_library("pango-1.0-0"))
    return True


def prepare() -> None:
    """Start the layout process of the next PDF now, so that it loads while cbom does the rest."""
    global _prepared
    if _prepared is None and usable():
        _prepared = Child()


def take() -> Child:
    """The prepared layout process (started now when none was), handed over to one PDF."""
    global _prepared
    child, _prepared = _prepared, None
    return child or Child()


if __name__ == "__main__":
    sys.exit(main())
