"""cbom.html: the audit report as one self-contained HTML page."""
from __future__ import annotations

from typing import ClassVar

from ..document import Document


class HtmlWriter:
    """The report's single-file HTML page (options `paper` and `lang` of the document)."""

    name: ClassVar[str] = "html"
    file_name: ClassVar[str] = "cbom.html"

    def render(self, document: Document) -> bytes:
        """The HTML page, UTF-8."""
        # Imported here: the report's view and Jinja cost every command ~10 ms of start-up.
        from ..report import render_html

        return render_html(document, paper=str(document.options.get("paper", "A4")),
                           lang=str(document.options.get("lang", "en")))
