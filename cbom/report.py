"""The audit report: a PDF (WeasyPrint) and a single-file HTML page from one template set.

Both are pure functions of the CBOM document: `cbom report SCAN.cdx.json`
re-renders the same report on another machine. The view-model is built in
`_report_view`; `templates/report.html.j2` only lays it out, with Jinja2
autoescaping on, so a package named `<script>` is printed, never run.

Templates are looked up, first match wins (the folder must hold report.html.j2):
1. `$CBOM_TEMPLATES` (a folder; for trying a modified design),
2. `<sys._MEIPASS>/templates` when frozen by PyInstaller (`--add-data templates:templates`),
3. `<folder of the cbom package>/../templates` (source checkout, editable install, USB bundle tree),
4. `<folder of the cbom package>/templates` (templates shipped inside the package),
5. `<sys.prefix>/share/cbom/templates` (installed as data files).

Text is English; every visible string of the templates passes through `_()`,
which looks it up in `templates/i18n/<lang>.json` (English text -> translation),
so a French catalogue can be added without touching the templates.
"""
from __future__ import annotations

import json
import logging
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from . import __version__
from ._report_view import build_view

if TYPE_CHECKING:
    from .output import Document

TEMPLATE = "report.html.j2"
PAPERS = ("A4", "Letter")
LANGS_DIR = "i18n"

__all__ = ["ReportUnavailable", "render_html", "render_pdf", "html_to_pdf", "templates_dir", "PAPERS"]


class ReportUnavailable(RuntimeError):
    """No PDF can be made here (WeasyPrint or its Pango libraries cannot load); one-line reason."""


def _candidates() -> List[Path]:
    here = Path(__file__).resolve().parent
    out: List[Path] = []
    env = os.environ.get("CBOM_TEMPLATES")
    if env:
        out.append(Path(env))
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:
        out.append(Path(meipass) / "templates")
    out += [here.parent / "templates", here / "templates", Path(sys.prefix) / "share" / "cbom" / "templates"]
    return out


def templates_dir() -> Path:
    """The folder holding the report templates (see the module docstring for the lookup order)."""
    for folder in _candidates():
        if (folder / TEMPLATE).is_file():
            return folder
    tried = ", ".join(str(p) for p in _candidates())
    raise FileNotFoundError(f"report templates not found (looked for {TEMPLATE} in: {tried})")


@lru_cache(maxsize=4)
def _catalogue(folder: str, lang: str) -> Dict[str, str]:
    if lang == "en":
        return {}
    path = Path(folder) / LANGS_DIR / f"{lang}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no report translation for language {lang!r} ({path} missing)") from None


def _css_string(text: str) -> str:
    """`text` as a CSS string literal (for `content:` of page margins), safe for any input."""
    return '"' + "".join(c if c.isalnum() or c in " .,:;-_()/" else f"\\{ord(c):x} " for c in str(text)) + '"'


@lru_cache(maxsize=2)
def _environment(folder: str):
    import jinja2
    import markupsafe

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,  # every template here is HTML (or CSS/JS included into it)
        undefined=jinja2.StrictUndefined,  # a typo in a template fails the tests, not silently blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["css_string"] = lambda text: markupsafe.Markup(_css_string(text))
    env.filters["thousands"] = lambda n: f"{int(n):,}"
    return env


def _render(document: "Document", paper: str, lang: str, pdf: bool) -> str:
    if paper not in PAPERS and paper.capitalize() not in PAPERS and paper.upper() not in PAPERS:
        raise ValueError(f"unknown paper size {paper!r} (choose {' or '.join(PAPERS)})")
    folder = str(templates_dir())
    env = _environment(folder)
    messages = _catalogue(folder, lang)

    def translate(text: str, **kwargs: Any) -> str:
        text = messages.get(text, text)
        return text.format(**kwargs) if kwargs else text

    view = build_view(document.scan, document.json_sha256, paper=paper, pdf=pdf, translate=translate)

    return env.get_template(TEMPLATE).render(v=view, _=translate, lang=lang, generator=f"cbom {__version__}")


def render_html(document: "Document", paper: str = "A4", lang: str = "en") -> bytes:
    """The single-file HTML report (inline CSS/SVG/JS, no external references), UTF-8."""
    return _render(document, paper, lang, pdf=False).encode("utf-8")


def _weasyprint() -> Any:
    # WeasyPrint sets its logger to WARNING on import (CSS notes on stderr): keep the level the CLI chose.
    level = logging.getLogger("weasyprint").level or logging.ERROR
    try:
        import weasyprint

        logging.getLogger("weasyprint").setLevel(level)
    except (ImportError, OSError) as exc:  # OSError: cffi could not dlopen gobject/pango
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ReportUnavailable(
            f"no PDF: WeasyPrint cannot load ({why}); install libpango-1.0-0 libpangoft2-1.0-0 "
            "(Debian) or use the USB bundle"
        ) from None
    return weasyprint


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict:
    """The report is self-contained: nothing is ever fetched (no file, no network), whatever the CBOM says."""
    raise ValueError(f"external resource refused: {url[:80]}")


def render_pdf(document: "Document", paper: str = "A4", lang: str = "en") -> bytes:
    """The PDF report (fonts embedded and subset). Raises ReportUnavailable where WeasyPrint cannot run."""
    _weasyprint()  # fail before rendering the HTML when there is no PDF engine
    return html_to_pdf(_render(document, paper, lang, pdf=True))


def html_to_pdf(html: str) -> bytes:
    """PDF of a self-contained HTML page; nothing is fetched. Raises ReportUnavailable."""
    weasyprint = _weasyprint()
    try:
        return weasyprint.HTML(string=html, base_url=None, url_fetcher=_no_fetch).write_pdf()
    except OSError as exc:  # a Pango/fontconfig library failing on first use
        raise ReportUnavailable(f"no PDF: WeasyPrint failed ({str(exc).splitlines()[0]})") from None


def unavailable_reason() -> Optional[str]:
    """Why no PDF can be made here, or None when it can (for `cbom scan` to state it up front)."""
    try:
        _weasyprint()
    except ReportUnavailable as exc:
        return str(exc)
    return None
