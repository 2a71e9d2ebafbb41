"""The report's PDF printed by the machine's Chromium-based browser, where WeasyPrint cannot load.

On Windows WeasyPrint's Pango/GTK DLLs are on no registry cbom can use, but every Windows 10/11
has Microsoft Edge, whose `--headless --print-to-pdf` lays out the same self-contained HTML.
The same code runs Google Chrome or Chromium on Linux (tested with Debian 12's chromium 156)
and macOS (untested). `cbom.render` chooses between this and WeasyPrint.

What the browser is allowed to do, and why:
- Nothing reaches the network: no proxy lookup (`--no-proxy-server`: no WPAD), every host name
  resolves to "not found" (`--host-resolver-rules`), the background services that call home are
  switched off by their flags, and the page itself carries a Content-Security-Policy that refuses
  every fetch and every script (the PDF variant of the report has no script).
- Nothing is left behind: a fresh profile (`--user-data-dir`), the HTML, the PDF and the browser's
  HOME/TMP all live in one temporary folder removed afterwards, also on a timeout or an error.
  (Without the HOME redirection Chromium 156 on Linux writes ~/.config/chromium/Crash Reports and
  ~/.cache/dconf, whatever its flags.)
- It is time-limited, and on timeout its whole process tree is killed, as `cbom._exec` kills a
  command's (`ProcessTree`: its process group on POSIX; on Windows a Job Object, else
  `taskkill /T /F`). Browsers still running when cbom exits (Ctrl-C mid-print) are killed too.
"""
from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Set

from . import _exec

__all__ = ["Browser", "PrintFailed", "find_browser", "print_pdf", "destination_pages", "made_by", "candidates"]

BROWSER_ENV = "CBOM_BROWSER"  # a browser executable to use instead of the ones looked for
DEFAULT_TIME_LIMIT = 900.0  # as cbom.render.pdf_time_limit

# Flags of every run. Chromium ignores a switch it does not know, so switches of older and newer
# versions are given together (checked against the switch names in Chromium 156's binary):
# --no-pdf-header-footer (Chrome 111+) replaced --print-to-pdf-no-header (older Edge/Chrome);
# --disable-crash-reporter is gone from 156, --disable-breakpad remains.
FLAGS = (
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-component-extensions-with-background-pages",
    "--disable-crash-reporter",
    "--disable-breakpad",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-field-trial-config",
    "--no-pings",
    "--metrics-recording-only",  # metrics are kept in the (deleted) profile, never uploaded
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,"
    "AutofillServerCommunication,CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions",
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--disable-dev-shm-usage",  # Linux: shared memory files in TMPDIR (ours), not a small /dev/shm
    "--password-store=basic",  # Linux: no keyring daemon is asked
    "--use-mock-keychain",  # macOS: no keychain prompt
    "--no-pdf-header-footer",
    "--print-to-pdf-no-header",
    "--generate-pdf-document-outline",  # bookmarks from the headings (Chrome 120+)
)
# The page may show inline styles and data: images, and fetch or run nothing else. (Scripts are
# refused by this policy, not by --blink-settings=scriptEnabled=false: with that switch Chromium 156
# exits 0 and writes no PDF, its headless printing runs script of its own in the page.)
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"


class PrintFailed(RuntimeError):
    """No browser here, or it could not print; the message is one line for the auditor."""


@dataclass(frozen=True)
class Browser:
    """A browser executable and the name the auditor knows it by."""

    path: str
    name: str  # "Microsoft Edge", "Google Chrome", "Chromium"


# --- finding a browser ----------------------------------------------------------------------------

_NAMES = (("msedge", "Microsoft Edge"), ("microsoft-edge", "Microsoft Edge"), ("microsoft edge", "Microsoft Edge"),
          ("chromium", "Chromium"), ("chrome", "Google Chrome"))


def _name_of(path: str) -> str:
    base = os.path.basename(path).lower()
    return next((name for key, name in _NAMES if key in base), "the browser")


def candidates(system: str, env: Mapping[str, str]) -> List[str]:
    """Where a Chromium-based browser is installed by default on `system` (sys.platform), in the
    order tried (paths, not checked). Linux names are looked up on PATH by `find_browser`."""
    if system == "win32":
        # Edge (part of Windows 10/11) lives under Program Files (x86) even on 64-bit Windows;
        # Chrome per machine under Program Files, per user under %LocalAppData%.
        tails = (r"Microsoft\Edge\Application\msedge.exe", r"Google\Chrome\Application\chrome.exe")
        out = []
        for tail in tails:
            for var in ("ProgramFiles(x86)", "ProgramFiles", "ProgramW6432", "LocalAppData"):
                base = env.get(var) or env.get(var.upper())
                if base:
                    out.append(base.rstrip("\\") + "\\" + tail)
        return list(dict.fromkeys(out))
    if system == "darwin":  # untested: no macOS machine here
        apps = ("Google Chrome.app/Contents/MacOS/Google Chrome", "Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
                "Chromium.app/Contents/MacOS/Chromium")
        home = env.get("HOME", "")
        return [f"/Applications/{a}" for a in apps] + ([f"{home}/Applications/{a}" for a in apps] if home else [])
    return ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "microsoft-edge",
            "microsoft-edge-stable"]


def _app_paths() -> List[str]:
    """Windows' "App Paths" registration of msedge.exe / chrome.exe (what `start msedge` runs)."""
    if sys.platform != "win32":
        return []
    import winreg

    out = []
    for exe in ("msedge.exe", "chrome.exe"):
        for hive in (winreg.HKEY_LOCAL_MACHINE, winreg.HKEY_CURRENT_USER):
            try:
                with winreg.OpenKey(hive, rf"SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths\{exe}") as key:
                    value, _kind = winreg.QueryValueEx(key, "")
            except OSError:
                continue
            if isinstance(value, str) and value:
                out.append(os.path.expandvars(value.strip('"')))
    return out


def _runnable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_browser(env: Optional[Mapping[str, str]] = None, system: str = sys.platform) -> Browser:
    """The browser to print with: $CBOM_BROWSER, else the first one installed. Raises PrintFailed."""
    env = os.environ if env is None else env
    chosen = env.get(BROWSER_ENV)
    if chosen:  # a path, or a command name looked up on PATH
        found = chosen if _runnable(chosen) else None if os.sep in chosen else shutil.which(chosen, path=env.get("PATH"))
        if not found:
            what = "not an executable file" if os.path.exists(chosen) else "no such file"
            raise PrintFailed(f"{BROWSER_ENV}={chosen}: {what}")
        return Browser(found, _name_of(found))
    looked = candidates(system, env)
    if system not in ("win32", "darwin"):
        for name in looked:
            found = shutil.which(name, path=env.get("PATH"))
            if found:
                return Browser(found, _name_of(found))
        raise PrintFailed(f"no Chromium, Chrome or Edge browser on PATH (looked for {', '.join(looked)})")
    for path in looked + (_app_paths() if system == "win32" else []):
        if _runnable(path):
            return Browser(path, _name_of(path))
    if system == "win32":
        raise PrintFailed("neither Microsoft Edge nor Google Chrome is installed in its usual folder")
    raise PrintFailed("neither Google Chrome, Microsoft Edge nor Chromium is in /Applications")


# --- running it -------------------------------------------------------------------------------------

# Browsers running now: killed at exit should cbom be stopped mid-print (Ctrl-C), so that no
# browser outlives it; their temporary folders likewise removed.
_running: Set[_exec.ProcessTree] = set()
_folders: Set[str] = set()
_lock = threading.Lock()


def _at_exit() -> None:
    with _lock:
        browsers, folders = list(_running), list(_folders)
    for tree in browsers:
        tree.close()
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


atexit.register(_at_exit)


# Chromium on Linux/macOS makes its profile's lock socket as $TMPDIR/.org.chromium.Chromium.XXXXXX/
# SingletonSocket; past the 107 bytes of a Unix socket path it aborts (SIGABRT, "zygote ... Broken
# pipe", measured with Chromium 156 and a 71-character TMPDIR). Its TMPDIR (our folder) stays shorter.
MAX_TMP_PATH = 60


def _work_folder() -> str:
    """A new private temporary folder, registered for removal at exit; under /tmp on POSIX when the
    usual one ($TMPDIR, macOS' /var/folders/…) would make too long a path for Chromium."""
    work = tempfile.mkdtemp(prefix="cbom-pdf-")
    if os.name == "posix" and len(work) > MAX_TMP_PATH and os.path.isdir("/tmp"):
        os.rmdir(work)
        work = tempfile.mkdtemp(prefix="cbom-pdf-", dir="/tmp")
    with _lock:
        _folders.add(work)
    return work


def _child_env(work: str) -> Dict[str, str]:
    """The browser's environment: its HOME, caches and temporary files inside `work`."""
    env = dict(os.environ)
    env.pop(BROWSER_ENV, None)
    home = os.path.join(work, "home")
    os.makedirs(home, exist_ok=True)
    env.update(HOME=home, TMPDIR=work, TMP=work, TEMP=work,
               XDG_CONFIG_HOME=os.path.join(home, ".config"), XDG_CACHE_HOME=os.path.join(home, ".cache"),
               XDG_DATA_HOME=os.path.join(home, ".local", "share"),
               GSETTINGS_BACKEND="memory")  # GIO: no ~/.cache/dconf
    return env


def _remove(folder: str) -> None:
    """Remove `folder`; on Windows a killed browser's files can stay locked for a moment."""
    for _attempt in range(20):
        shutil.rmtree(folder, ignore_errors=True)
        if not os.path.exists(folder):
            break
        time.sleep(0.25)
    with _lock:
        _folders.discard(folder)


def _tail(path: str) -> str:
    """The last meaningful line the browser wrote to stderr (its errors end there)."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 8192))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and "dbus" not in ln.lower()]
    return lines[-1][:200] if lines else ""


def _run(browser: Browser, page: str, out: str, work: str, time_limit: float) -> None:
    """One `--print-to-pdf` of `page` into `out`; raises PrintFailed."""
    argv = [browser.path, *FLAGS, f"--user-data-dir={os.path.join(work, 'profile')}", f"--print-to-pdf={out}"]
    if os.name == "posix" and sys.platform != "darwin" and os.geteuid() == 0:
        # Chromium refuses to run as root with its sandbox ("Running as root without --no-sandbox
        # is not supported"); the page it opens is cbom's own, with no script.
        argv.append("--no-sandbox")
    argv.append(Path(page).as_uri())
    log = os.path.join(work, "browser.log")
    extra: dict = ({"start_new_session": True} if os.name == "posix" else
                   {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
                    | getattr(subprocess, "CREATE_NO_WINDOW", 0)})
    with open(log, "wb") as err:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                    env=_child_env(work), cwd=work, **extra)
        except OSError as exc:
            raise PrintFailed(f"{browser.name} ({browser.path}) could not start: {exc.strerror or exc}") from None
        tree = _exec.ProcessTree(proc)  # its process group, or on Windows a Job Object
        with _lock:
            _running.add(tree)
        try:
            proc.wait(timeout=max(0.1, time_limit))
        except subprocess.TimeoutExpired:
            raise PrintFailed(f"{browser.name} did not finish printing within {round(time_limit, 1):g} s: "
                              "stopped with every process it started") from None
        finally:
            # On success too: a helper it left running (crash handler, GPU process) goes with it.
            tree.close()
            proc.wait()
            with _lock:
                _running.discard(tree)
    if proc.returncode != 0 or not os.path.isfile(out):
        why = _tail(log)
        raise PrintFailed(f"{browser.name} exited {proc.returncode} without a PDF" + (f": {why}" if why else ""))


def _with_head(html: str, extra: str) -> str:
    """`html` with `extra` at the start of its <head> (or at its start when it has none)."""
    m = re.search(r"<head(\s[^>]*)?>", html, re.I)
    return html[:m.end()] + extra + html[m.end():] if m else extra + html


def _print_once(browser: Browser, html: str, work: str, n: int, time_limit: float) -> bytes:
    page = os.path.join(work, f"report-{n}.html")
    out = os.path.join(work, f"report-{n}.pdf")
    with open(page, "w", encoding="utf-8") as f:
        f.write(html)
    _run(browser, page, out, work, time_limit)
    with open(out, "rb") as f:
        pdf = f.read()
    if not pdf.startswith(b"%PDF-"):
        raise PrintFailed(f"{browser.name} wrote no PDF ({len(pdf)} bytes that are not a PDF)")
    return pdf


# --- the table of contents' page numbers --------------------------------------------------------------

# The ids the contents (<nav class="toc">) link to; only plain ids are used in CSS selectors.
_TOC = re.compile(r'<nav class="toc">(.*?)</nav>', re.S)
_HREF = re.compile(r'href="#([A-Za-z][A-Za-z0-9_-]*)"')


def _toc_ids(html: str) -> List[str]:
    m = _TOC.search(html)
    return list(dict.fromkeys(_HREF.findall(m.group(1)))) if m else []


def _objects(pdf: bytes) -> Dict[int, bytes]:
    """The dictionary of each object of a PDF with one classic xref table (Skia writes PDF 1.4 so),
    read through the xref offsets: bytes inside compressed streams are never taken for objects."""
    m = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", pdf[-1024:])
    head = re.compile(rb"xref\s+(\d+)\s+(\d+)\s*?\r?\n").match(pdf, int(m.group(1))) if m else None
    if not head:
        return {}
    first, count = int(head.group(1)), int(head.group(2))
    entry = re.compile(rb"(\d{10}) (\d{5}) ([nf])[ \r\n]{2}")
    out: Dict[int, bytes] = {}
    for i in range(count):
        e = entry.match(pdf, head.end() + 20 * i)  # every xref entry is 20 bytes (PDF 1.7, 7.5.4)
        if not e:
            return {}
        if e.group(3) != b"n":
            continue
        obj = re.compile(rb"(\d+) (\d+) obj\s*").match(pdf, int(e.group(1)))
        if not obj or int(obj.group(1)) != first + i:
            return {}
        end = pdf.find(b"endobj", obj.end())
        stream = pdf.find(b"stream", obj.end(), end if end >= 0 else None)
        out[first + i] = pdf[obj.end(): stream if stream >= 0 else end]
    return out


def _name(raw: bytes) -> str:
    """A PDF name's text (#xx escapes decoded)."""
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw).decode("utf-8", "replace")


def destination_pages(pdf: bytes) -> Dict[str, int]:
    """Named destination -> page number (1-based) of a PDF Chromium printed (Skia writes the
    catalog's /Dests as one dictionary: /id [page 0 R /XYZ x y 0]). Empty when unreadable."""
    try:
        objects = _objects(pdf)
        catalog = next((body for body in objects.values() if re.search(rb"/Type\s*/Catalog\b", body)), b"")
        dests_ref = re.search(rb"/Dests\s+(\d+)\s+0\s+R", catalog)
        root_ref = re.search(rb"/Pages\s+(\d+)\s+0\s+R", catalog)
        if not dests_ref or not root_ref:
            return {}
        order: Dict[int, int] = {}

        def walk(num: int, depth: int) -> None:
            body = objects.get(num, b"")
            kids = re.search(rb"/Kids\s*\[([^\]]*)\]", body)
            if kids and re.search(rb"/Type\s*/Pages\b", body) and depth < 64:
                for ref in re.findall(rb"(\d+)\s+0\s+R", kids.group(1)):
                    walk(int(ref), depth + 1)
            elif re.search(rb"/Type\s*/Page\b", body):
                order[num] = len(order) + 1

        walk(int(root_ref.group(1)), 0)
        dests = objects.get(int(dests_ref.group(1)), b"")
        return {_name(name): order[int(page)]
                for name, page in re.findall(rb"/([^\s/\[\]<>()]+)\s*\[\s*(\d+)\s+0\s+R", dests)
                if int(page) in order}
    except (ValueError, RecursionError):
        return {}


def _with_toc_pages(html: str, pages: Mapping[str, int]) -> str:
    """`html` with each contents link given its page (`--toc-page`, shown by report-browser.css)."""
    rules = "".join(f'nav.toc a[href="#{i}"]{{--toc-page:"{n}"}}' for i, n in pages.items())
    return _with_head(html, f"<style>{rules}</style>")


# --- the one entry point ------------------------------------------------------------------------------


def print_pdf(html: str, browser: Optional[Browser] = None, time_limit: float = DEFAULT_TIME_LIMIT) -> bytes:
    """The PDF of the self-contained page `html`, printed by `browser` (default: `find_browser()`).

    When the page has a table of contents, a first print tells on which page each section
    starts, and a second one shows those numbers (kept only if the sections stayed on their
    pages; else the first print is returned: working links, no numbers). Raises PrintFailed."""
    browser = browser or find_browser()
    deadline = time.monotonic() + time_limit
    html = _with_head(html, f'\n<meta http-equiv="Content-Security-Policy" content="{CSP}">')
    try:
        work = _work_folder()
    except OSError as exc:
        raise PrintFailed(f"no temporary folder for {browser.name}: {exc.strerror or exc}") from None
    try:
        started = time.monotonic()
        pdf = _print_once(browser, html, work, 1, time_limit)
        ids = _toc_ids(html)
        if not ids:
            return pdf
        pages = destination_pages(pdf)
        left = deadline - time.monotonic()
        if not all(i in pages for i in ids) or left < 2 * (time.monotonic() - started):
            return pdf
        try:
            numbered = _print_once(browser, _with_toc_pages(html, {i: pages[i] for i in ids}), work, 2, left)
        except PrintFailed:  # the first print stands: the same content, contents without numbers
            return pdf
        again = destination_pages(numbered)
        return numbered if all(again.get(i) == pages[i] for i in ids) else pdf
    finally:
        _remove(work)


def made_by(pdf: bytes, browser: Browser) -> str:
    """"Chromium 156" from the PDF's /Creator (the browser's user agent) or /Producer ("Skia/PDF m156")."""
    info = pdf[:8192]
    m = re.search(rb"/Creator\s*\(((?:\\.|[^\\)])*)\)", info)
    agent = m.group(1).decode("latin-1") if m else ""
    version = re.search(r"Edg\w*/(\d+)", agent) or re.search(r"Chrom\w*/(\d+)", agent)
    skia = re.search(rb"/Producer\s*\(Skia/PDF m(\d+)\)", info)
    number = version.group(1) if version else skia.group(1).decode() if skia else ""
    return f"{browser.name} {number}".rstrip()
