"""cbom.pdf: the audit report as PDF (WeasyPrint, imported only when a PDF is asked for)."""
from __future__ import annotations

from typing import ClassVar

from ..document import Document


class PdfWriter:
    """The report's PDF (options `paper` and `lang` of the document). Raises ReportUnavailable."""

    name: ClassVar[str] = "pdf"
    file_name: ClassVar[str] = "cbom.pdf"

    def render(self, document: Document) -> bytes:
        """The PDF file."""
        # Imported here: the report's view and Jinja cost every command ~10 ms of start-up.
        from ..report import render_pdf

        return render_pdf(document, paper=str(document.options.get("paper", "A4")),
                          lang=str(document.options.get("lang", "en")))
