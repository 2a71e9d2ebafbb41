"""The one rendering set-up of cbom: the templates folder, the Jinja environment and WeasyPrint.

The audit report (`cbom.report`) and the diff's HTML/PDF (`cbom.diff.writers`) both render
through this module, so they share one lookup of the templates, one set of Jinja options
and one PDF engine that never fetches anything.

Templates are looked up, first match wins (the folder must hold report.html.j2):
1. `$CBOM_TEMPLATES` (a folder; for trying a modified design),
2. `<sys._MEIPASS>/templates` when frozen by PyInstaller (`--add-data templates:templates`),
3. `<folder of the cbom package>/../templates` (source checkout, editable install, USB bundle tree),
4. `<folder of the cbom package>/templates` (templates shipped inside the package),
5. `<sys.prefix>/share/cbom/templates` (installed as data files).
"""
from __future__ import annotations

import logging
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, List, Optional

__all__ = [
    "MissingTemplate", "ReportUnavailable", "environment", "html_to_pdf", "pdf_engine", "render",
    "templates_dir", "unavailable_reason",
]

MARKER = "report.html.j2"  # a templates folder is one that holds this file


class ReportUnavailable(RuntimeError):
    """No PDF can be made here (WeasyPrint or its Pango libraries cannot load); one-line reason."""


class MissingTemplate(LookupError):
    """The templates folder has no such template; the message names both."""


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
        if (folder / MARKER).is_file():
            return folder
    tried = ", ".join(str(p) for p in _candidates())
    raise FileNotFoundError(f"report templates not found (looked for {MARKER} in: {tried})")


def _css_string(text: str) -> str:
    """`text` as a CSS string literal (for `content:` of page margins), safe for any input."""
    return '"' + "".join(c if c.isalnum() or c in " .,:;-_()/" else f"\\{ord(c):x} " for c in str(text)) + '"'


@lru_cache(maxsize=2)
def environment(folder: str) -> Any:
    """The Jinja environment of the templates in `folder` (Jinja2 is imported on first use)."""
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


def render(template: str, folder: Optional[str] = None, **context: Any) -> str:
    """`template` of `folder` (default: `templates_dir()`) rendered with `context`. Raises MissingTemplate."""
    import jinja2

    folder = folder or str(templates_dir())
    try:
        return environment(folder).get_template(template).render(**context)
    except jinja2.TemplateNotFound as exc:
        if exc.name != template:  # a template included by this one: a broken template set
            raise
        raise MissingTemplate(f"template {template} not found in {folder}") from None


# fonts-conf(5): "If multiple <cachedir> elements are specified ..., the directory that can be accessed
# first in the list will be used to store the cache files"; FONTCONFIG_FILE "is used to override the
# default configuration file". So a file naming a temporary cache folder first, then including the
# configuration in force, keeps every font and rule and moves the writes: without it, fontconfig
# writes /var/cache/fontconfig (root) or ~/.cache/fontconfig on the audited machine.
_FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <cachedir>{cache}</cachedir>
  <include ignore_missing="yes">{system}</include>
</fontconfig>
"""
SYSTEM_FONTS_CONF = "/etc/fonts/fonts.conf"  # fontconfig's default on Linux (FONTCONFIG_PATH /etc/fonts)
_font_cache_done = False  # a module flag, not an environment variable: child processes must not inherit it


def _private_font_cache() -> None:
    """Point fontconfig's cache at a temporary folder removed at exit, and GLib's settings at memory.

    Done once, before WeasyPrint loads Pango/fontconfig/GIO (they read the environment then)."""
    import atexit
    import shutil
    import tempfile
    from xml.sax.saxutils import escape

    global _font_cache_done
    if _font_cache_done:
        return
    _font_cache_done = True
    system = os.environ.get("FONTCONFIG_FILE") or SYSTEM_FONTS_CONF
    # GIO's documented GSETTINGS_BACKEND: "memory" keeps settings in memory, so no ~/.cache/dconf.
    os.environ.setdefault("GSETTINGS_BACKEND", "memory")
    if not os.path.isfile(system):
        return  # no fontconfig file to wrap (Windows: GTK's own set-up)
    try:
        folder = tempfile.mkdtemp(prefix="cbom-fontconfig-")
    except OSError:  # no writable temporary folder: fontconfig falls back to its own list
        return
    atexit.register(shutil.rmtree, folder, True)
    conf = os.path.join(folder, "fonts.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(_FONTS_CONF.format(cache=escape(os.path.join(folder, "cache")), system=escape(system)))
    os.environ["FONTCONFIG_FILE"] = conf


def pdf_engine() -> Any:
    """The WeasyPrint module; raises ReportUnavailable (one line) where it cannot load."""
    # WeasyPrint sets its logger to WARNING on import (CSS notes on stderr): keep the level the CLI chose.
    level = logging.getLogger("weasyprint").level or logging.ERROR
    if "weasyprint" not in sys.modules:
        _private_font_cache()
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
    """Reports are self-contained: nothing is ever fetched (no file, no network), whatever the CBOM says."""
    raise ValueError(f"external resource refused: {url[:80]}")


def html_to_pdf(html: str) -> bytes:
    """PDF of a self-contained HTML page; nothing is fetched. Raises ReportUnavailable."""
    weasyprint = pdf_engine()
    try:
        return weasyprint.HTML(string=html, base_url=None, url_fetcher=_no_fetch).write_pdf()
    except OSError as exc:  # a Pango/fontconfig library failing on first use
        raise ReportUnavailable(f"no PDF: WeasyPrint failed ({str(exc).splitlines()[0]})") from None


def unavailable_reason() -> Optional[str]:
    """Why no PDF can be made here, or None when it can (for `cbom scan` to state it up front)."""
    try:
        pdf_engine()
    except ReportUnavailable as exc:
        return str(exc)
    return None
