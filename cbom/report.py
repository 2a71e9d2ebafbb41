"""The audit report: a PDF (WeasyPrint, or a browser) and a single-file HTML page from one template set.

Both are pure functions of the CBOM document: `cbom report SCAN.cdx.json`
re-renders the same report on another machine. The view-model is built in
`_report_view`; `templates/report.html.j2` only lays it out, with Jinja2
autoescaping on, so a package named `<script>` is printed, never run.
Templates are found and rendered by `cbom.render` (its docstring gives the lookup order).

Text is English; every visible string of the templates passes through `_()`,
which looks it up in `templates/i18n/<lang>.json` (English text -> translation);
the texts collectors generated at scan time, numbers and dates are put in the
report's language by `cbom.i18n.Translator` (`--lang fr`: templates/i18n/fr.json).
"""
from __future__ import annotations

from typing import Optional

from . import __version__, i18n
from ._report_view import build_view
from .document import Document
from .render import (PdfEngine, ReportUnavailable, html_to_pdf, pdf_engine, render, templates_dir,
                     unavailable_reason)

TEMPLATE = "report.html.j2"
PAPERS = ("A4", "Letter")
LANGS_DIR = i18n.LANGS_DIR

__all__ = [
    "ReportUnavailable", "check_lang", "render_html", "render_pdf", "render_print_html", "html_to_pdf", "templates_dir",
    "unavailable_reason", "PAPERS",
]


def _catalogue(folder: str, lang: str) -> i18n.Catalogue:
    """The catalogue of `lang` in the templates `folder` (cbom.i18n.load_catalogue); ValueError if unusable."""
    return i18n.load_catalogue(folder, lang)


def check_lang(lang: str) -> None:
    """Raise ValueError (one line) when the report cannot be written in `lang`."""
    _catalogue(str(templates_dir()), lang)


def _render(document: Document, paper: str, lang: str, pdf: bool, engine: str = "") -> str:
    if paper not in PAPERS and paper.capitalize() not in PAPERS and paper.upper() not in PAPERS:
        raise ValueError(f"unknown paper size {paper!r} (choose {' or '.join(PAPERS)})")
    folder = str(templates_dir())
    translate = i18n.Translator(_catalogue(folder, lang))
    view = build_view(document.scan, document.json_sha256, paper=paper, pdf=pdf, translate=translate)
    # `engine` picks the print rules of the PDF's engine (report-browser.css for a browser);
    # `num` prints a count in the report's language (12,345 or 12 345).
    return render(TEMPLATE, folder, v=view, _=translate, num=translate.number, lang=lang,
                  generator=f"cbom {__version__}", engine=engine)


def render_html(document: Document, paper: str = "A4", lang: str = "en") -> bytes:
    """The single-file HTML report (inline CSS/SVG/JS, no external references), UTF-8."""
    return _render(document, paper, lang, pdf=False).encode("utf-8")


def render_print_html(document: Document, paper: str = "A4", lang: str = "en", engine: str = "weasyprint") -> str:
    """The HTML page the PDF is made from, for PDF engine `engine` ("weasyprint" or "browser")."""
    return _render(document, paper, lang, pdf=True, engine=engine)


def render_pdf(document: Document, paper: str = "A4", lang: str = "en", time_limit: Optional[float] = None,
               engine: Optional[PdfEngine] = None) -> bytes:
    """The PDF report, by `engine` (default `cbom.render.pdf_engine()`: WeasyPrint, else a browser).
    Raises ReportUnavailable where neither can run, or the browser fails or takes over `time_limit` s."""
    engine = engine or pdf_engine()  # fail before rendering the HTML when there is no PDF engine
    return html_to_pdf(render_print_html(document, paper, lang, engine.name), engine, time_limit)
