"""The one rendering set-up of cbom: the templates folder, the Jinja environment and the PDF engine.

The audit report (`cbom.report`) and the diff's HTML/PDF (`cbom.diff.writers`) both render
through this module, so they share one lookup of the templates, one set of Jinja options
and one choice of PDF engine (`pdf_engine`), which never fetches anything:
WeasyPrint where it loads, else the machine's Edge/Chrome/Chromium printing headless
(`cbom.pdf_browser`; WeasyPrint's Pango DLLs cannot be shipped for Windows).
`CBOM_PDF_ENGINE=weasyprint|browser|auto` forces the choice, `CBOM_BROWSER` names the browser,
`CBOM_PDF_TIMEOUT` bounds the seconds a PDF may take.

Templates are looked up, first match wins (the folder must hold report.html.j2):
1. `$CBOM_TEMPLATES` (a folder; for trying a modified design),
2. `<sys._MEIPASS>/templates` when frozen by PyInstaller (`--add-data templates:templates`),
3. `<folder of the cbom package>/../templates` (source checkout, editable install, USB bundle tree),
4. `<folder of the cbom package>/templates` (templates shipped inside the package),
5. `<sys.prefix>/share/cbom/templates` (installed as data files).
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, List, Optional

__all__ = [
    "ENGINES", "MissingTemplate", "advice", "engine_choice", "PdfEngine", "ReportUnavailable", "environment",
    "html_to_pdf", "pdf_engine", "pdf_time_limit", "render", "templates_dir", "unavailable_reason",
]
log = logging.getLogger("cbom.render")

MARKER = "report.html.j2"  # a templates folder is one that holds this file


class ReportUnavailable(RuntimeError):
    """No PDF can be made here (no engine loads, or the browser failed or timed out); one-line reason."""


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


# $CBOM_PDF_ENGINE: which engine makes PDFs. "auto" (the default): WeasyPrint where it loads, else
# the machine's Chromium-based browser (Windows: Edge or Chrome; cbom.pdf_browser).
ENGINE_ENV = "CBOM_PDF_ENGINE"
ENGINES = ("auto", "weasyprint", "browser")
TIMEOUT_ENV = "CBOM_PDF_TIMEOUT"  # seconds a PDF may take (tests set a short one)
DEFAULT_TIME_LIMIT = 900.0


@dataclass(frozen=True)
class PdfEngine:
    """The engine that makes this run's PDFs; `name` ("weasyprint" or "browser") is also the
    template variant the report is rendered for (report-browser.css)."""

    name: str
    label: str  # "WeasyPrint 70.0", "Chromium (/usr/bin/chromium)"
    module: Any = None  # weasyprint, or the Browser to print with

    def to_pdf(self, html: str, time_limit: Optional[float] = None) -> bytes:
        """PDF of a self-contained HTML page; nothing is fetched. Raises ReportUnavailable."""
        limit = pdf_time_limit() if time_limit is None else time_limit
        if self.name == "weasyprint":
            try:  # no time limit here: Python cannot stop WeasyPrint (PdfWriter gives up waiting)
                return self.module.HTML(string=html, base_url=None, url_fetcher=_no_fetch).write_pdf()
            except OSError as exc:  # a Pango/fontconfig library failing on first use
                raise ReportUnavailable(f"no PDF: WeasyPrint failed ({_first_line(exc)})") from None
        from . import pdf_browser

        try:
            return pdf_browser.print_pdf(html, self.module, time_limit=limit)
        except pdf_browser.PrintFailed as exc:
            raise ReportUnavailable(f"no PDF: {exc}") from None

    def made_by(self, pdf: bytes) -> str:
        """Who made `pdf`, for the one line cbom prints: "WeasyPrint 70.0", "Chromium 156 (path)"."""
        if self.name == "weasyprint":
            return self.label
        from . import pdf_browser

        return f"{pdf_browser.made_by(pdf, self.module)} ({self.module.path}, headless)"


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text.strip() else type(exc).__name__


def pdf_time_limit(default: float = DEFAULT_TIME_LIMIT) -> float:
    """Seconds a PDF may take: $CBOM_PDF_TIMEOUT when it is a number above 0, else `default`."""
    try:
        value = float(os.environ.get(TIMEOUT_ENV, ""))
    except ValueError:
        return default
    return value if 0 < value < 7 * 24 * 3600 else default


def _weasyprint() -> Any:
    """The WeasyPrint module; raises ReportUnavailable (one line) where it cannot load."""
    # WeasyPrint sets its logger to WARNING on import (CSS notes on stderr): keep the level the CLI chose.
    level = logging.getLogger("weasyprint").level or logging.ERROR
    if "weasyprint" not in sys.modules:
        _private_font_cache()
    # WeasyPrint 70 prints a multi-line "could not import some external libraries" banner before
    # re-raising when Pango cannot load (weasyprint/text/ffi.py); cbom says it in one line instead.
    banner = io.StringIO()
    try:
        with contextlib.redirect_stdout(banner), contextlib.redirect_stderr(banner), _no_library_search():
            import weasyprint

        logging.getLogger("weasyprint").setLevel(level)
    except (ImportError, OSError) as exc:  # OSError: cffi could not dlopen gobject/pango
        raise ReportUnavailable(f"WeasyPrint cannot load ({_first_line(exc)})") from None
    return weasyprint


@contextlib.contextmanager
def _no_library_search() -> Iterator[None]:
    """While WeasyPrint loads on Linux, `ctypes.util.find_library` finds nothing, without running
    anything.

    WeasyPrint tries each library under several names, Windows-style ones first
    ("libpango-1.0-0"); cffi's dlopen of such a name fails and falls back to find_library, which
    on Linux runs `ldconfig -p`, then `gcc`/`cc` and `ld` (CPython Lib/ctypes/util.py): 54 programs
    started on the audited machine and 0.14 s of each PDF's start here. The names that exist on
    Linux ("libpango-1.0.so.0") are opened by the dynamic loader directly, from the same
    ld.so.cache ldconfig reads. macOS and Windows find_library start no program: left as it is."""
    if not sys.platform.startswith("linux"):
        yield
        return
    import ctypes.util

    found = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        yield
    finally:
        ctypes.util.find_library = found


def _browser() -> Any:
    """The browser to print with; raises ReportUnavailable (one line) where there is none."""
    from . import pdf_browser

    try:
        return pdf_browser.find_browser()
    except pdf_browser.PrintFailed as exc:
        raise ReportUnavailable(str(exc)) from None


def advice(system: str = sys.platform, choice: str = "auto") -> str:
    """What to install for a PDF on `system` (a sys.platform value) with engine `choice`, for the
    one-line reason."""
    browser = "set CBOM_BROWSER to a Chrome, Chromium or Edge executable"
    if system == "win32":  # the Windows build leaves WeasyPrint out (no Pango DLLs): never advise Pango
        if choice == "weasyprint":
            return "WeasyPrint needs Pango DLLs cbom does not ship for Windows: use CBOM_PDF_ENGINE=auto (Edge or Chrome)"
        return "install Microsoft Edge or Google Chrome, or set CBOM_BROWSER to msedge.exe or chrome.exe"
    if system == "darwin":
        return {"weasyprint": "install Pango (Homebrew: brew install pango)",
                "browser": f"install Google Chrome or Microsoft Edge, or {browser}"}.get(
                    choice, f"install Google Chrome, Microsoft Edge or Pango (brew install pango), or {browser}")
    return {"weasyprint": "install libpango-1.0-0 libpangoft2-1.0-0 (Debian) or use the USB bundle",
            "browser": f"install chromium (Debian) or {browser}"}.get(
                choice, f"install libpango-1.0-0 libpangoft2-1.0-0 or chromium (Debian), use the USB bundle, or {browser}")


def engine_choice() -> str:
    """$CBOM_PDF_ENGINE: "auto" (the default), "weasyprint" or "browser"; raises ReportUnavailable."""
    choice = (os.environ.get(ENGINE_ENV) or "auto").strip().lower()
    if choice not in ENGINES:
        raise ReportUnavailable(f"no PDF: {ENGINE_ENV}={choice} is not one of {', '.join(ENGINES)}")
    return choice


def pdf_engine(weasyprint_failed: str = "") -> PdfEngine:
    """The engine for PDFs here, as $CBOM_PDF_ENGINE asks; raises ReportUnavailable (one line).
    `weasyprint_failed`: why WeasyPrint did not load in a layout process (cbom._pdf_child), so it is
    not loaded here again."""
    choice = engine_choice()
    why = [weasyprint_failed] if weasyprint_failed and sys.platform != "win32" else []
    if choice in ("auto", "weasyprint") and not weasyprint_failed:
        try:
            module = _weasyprint()
            return PdfEngine("weasyprint", f"WeasyPrint {getattr(module, '__version__', '')}".rstrip(), module)
        except ReportUnavailable as exc:
            if sys.platform != "win32" or choice == "weasyprint":  # expected on Windows: not worth saying
                why.append(str(exc))
    if choice in ("auto", "browser"):
        try:
            browser = _browser()
            return PdfEngine("browser", f"{browser.name} ({browser.path})", browser)
        except ReportUnavailable as exc:
            why.append(str(exc))
    raise ReportUnavailable(f"no PDF: {'; '.join(why)}; {advice(sys.platform, choice)}")


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict:
    """Reports are self-contained: nothing is ever fetched (no file, no network), whatever the CBOM says."""
    raise ValueError(f"external resource refused: {url[:80]}")


def html_to_pdf(html: str, engine: Optional[PdfEngine] = None, time_limit: Optional[float] = None) -> bytes:
    """PDF of a self-contained HTML page by `engine` (default: `pdf_engine()`); nothing is fetched.

    Says which engine made it in one line (log level INFO). Raises ReportUnavailable."""
    engine = engine or pdf_engine()
    pdf = engine.to_pdf(html, time_limit)
    log.info("PDF made by %s", engine.made_by(pdf))
    return pdf


def unavailable_reason() -> Optional[str]:
    """Why no PDF can be made here, or None when it can (for `cbom scan` to state it up front)."""
    try:
        pdf_engine()
    except ReportUnavailable as exc:
        return str(exc)
    return None
