"""The child process that lays out a long report with WeasyPrint, so that its time limit can stop it.

Python cannot stop WeasyPrint mid-layout in a thread: `cbom.writers.pdf` runs long documents here
instead, through `cbom._exec.run` (own process group, killed at the limit with whatever it started).
Protocol: argv[1] is a folder the parent made and removes afterwards (this process's temporary files,
fontconfig's cache among them, go there: a killed child runs no atexit handler); the HTML page is
read from stdin (UTF-8), the PDF written to stdout; exit 3 with one line on stderr when WeasyPrint
cannot make it.
"""
from __future__ import annotations

import sys
import tempfile
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    """Read the HTML on stdin, write its PDF on stdout (exit 0), or one line on stderr (exit 2 or 3)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m cbom._pdf_child TEMPORARY-FOLDER < page.html > page.pdf", file=sys.stderr)
        return 2
    # Before WeasyPrint loads: render._private_font_cache makes fontconfig's cache with mkdtemp.
    tempfile.tempdir = args[0]
    html = sys.stdin.buffer.read().decode("utf-8")
    from .render import PdfEngine, ReportUnavailable, _weasyprint

    try:
        pdf = PdfEngine("weasyprint", "WeasyPrint", _weasyprint()).to_pdf(html)
    except ReportUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 3
    sys.stdout.buffer.write(pdf)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
