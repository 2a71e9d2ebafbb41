"""Python distributions installed on the machine, read from their metadata files.

Nothing is imported and no interpreter is run: `*.dist-info/METADATA`,
`*.egg-info` (file or `PKG-INFO` inside) and `*.egg/EGG-INFO/PKG-INFO` in every
site directory found under the usual prefixes, pyenv/conda trees and
virtualenvs (a directory with `pyvenv.cfg`) in common places.
"""
from __future__ import annotations

import fnmatch
import os
import site
import sys
from typing import Dict, Iterator, List, Optional, Set, Tuple

from cbom import vocabulary as V
from cbom.collector import Note, ScanContext
from cbom.model import Gap, Item, Kind, Platform

from ._common import Distro, Package, summarise, to_component

# Site directories relative to the scanned root (glob patterns). Virtualenvs are found by
# their pyvenv.cfg in the VENV_PLACES below, whatever their directory is called.
SITE_GLOBS = (
    "usr/lib/python*/site-packages",
    "usr/lib/python*/dist-packages",
    "usr/lib64/python*/site-packages",
    "usr/local/lib/python*/site-packages",
    "usr/local/lib/python*/dist-packages",
    "usr/local/lib64/python*/site-packages",
    "opt/*/lib/python*/site-packages",
    "opt/conda/envs/*/lib/python*/site-packages",
    "opt/homebrew/lib/python*/site-packages",
    "Library/Frameworks/Python.framework/Versions/*/lib/python*/site-packages",
    "root/.local/lib/python*/site-packages",
    "home/*/.local/lib/python*/site-packages",
    "root/.pyenv/versions/*/lib/python*/site-packages",
    "home/*/.pyenv/versions/*/lib/python*/site-packages",
    "root/miniconda3/lib/python*/site-packages",
    "home/*/miniconda3/lib/python*/site-packages",
    "home/*/anaconda3/lib/python*/site-packages",
)
VENV_PLACES = ("opt/*", "opt/*/*", "srv/*", "srv/*/*", "root/*", "home/*/*", "home/*/*/*", "home/*/.virtualenvs/*",
               "var/lib/*", "usr/local/*", "usr/share/*")


def parse_metadata(text: str) -> Dict[str, List[str]]:
    """Header fields of a METADATA/PKG-INFO file (core metadata, RFC 822 style); body ignored."""
    fields: Dict[str, List[str]] = {}
    last: Optional[List[str]] = None
    for line in text.split("\n"):
        if not line.strip():
            break  # end of headers: the long description follows
        if line[0] in " \t":
            if last is not None and last:
                last[-1] += "\n" + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        last = fields.setdefault(key.strip().lower(), [])
        last.append(value.strip())
    return fields


def distribution_package(text: str, site_dir: str) -> Package:
    """A Package for one distribution's metadata text. Raises ValueError without Name/Version."""
    f = parse_metadata(text)
    name = (f.get("name") or [""])[0]
    version = (f.get("version") or [""])[0]
    if not name or not version:
        raise ValueError(f"no {'Name' if not name else 'Version'} field")
    licences: Tuple[str, ...] = ()
    expression = (f.get("license-expression") or [""])[0]  # PEP 639
    declared = (f.get("license") or [""])[0]
    classifiers = tuple(c.split(" :: ")[-1] for c in f.get("classifier", ()) if c.startswith("License ::"))
    if expression:
        licences = (expression,)
    elif declared and "\n" not in declared and len(declared) <= 80 and declared.upper() not in ("UNKNOWN", "NONE"):
        licences = (declared,)
    elif classifiers:
        licences = tuple(c for c in classifiers if c != "OSI Approved")
    author = (f.get("maintainer") or f.get("author") or [""])[0]
    if not author:
        email = (f.get("maintainer-email") or f.get("author-email") or [""])[0]
        author = email.split("<", 1)[0].strip().strip('"') if "<" in email else email
    return Package(
        manager="python",
        name=name,
        version=version,
        maintainer=author,
        description=(f.get("summary") or [""])[0],
        licenses=licences,
        homepage=(f.get("home-page") or [""])[0],
        kind=Kind.LIBRARY,
        ref_extra=(site_dir,),
        extra=[(V.PYTHON_SITE, site_dir)],
    )


def find_site_dirs(ctx: ScanContext) -> List[str]:
    """Site directories on the scanned system (host paths), each once.

    The globs run through `ctx.glob`, which resolves every symlink inside the scanned
    machine: an image's /home/x -> / names the image's own root, never the auditor's.
    Scanning the running machine, the interpreter running cbom is looked at too (a Python of
    the host, a virtualenv); `find_sites` also says which of them are cbom's own.
    """
    return find_sites(ctx)[0]


def find_sites(ctx: ScanContext) -> Tuple[List[str], List[str]]:
    """(site directories to list, cbom's own site directories left out), host paths, each once."""
    found: List[str] = []
    globs = SITE_GLOBS + (WINDOWS_SITE_GLOBS if ctx.platform == Platform.WINDOWS else ())
    for pattern in globs:
        found.extend(p for p in ctx.glob(pattern) if ctx.is_dir(p))
    for place in VENV_PLACES:
        for cfg in ctx.glob(place + "/pyvenv.cfg"):
            venv = cfg[:-len("/pyvenv.cfg")]
            found.extend(p for p in ctx.glob(venv + "/lib/python*/site-packages") if ctx.is_dir(p))
            found.extend(p for p in ctx.glob(venv + "/Lib/site-packages") if ctx.is_dir(p))
    own: Set[str] = set()  # real paths of the sites of cbom's own interpreter
    if ctx.local:
        here = running_sites()
        own = {os.path.realpath(p) for p in here} if cbom_own_interpreter(here) else set()
        found.extend(_host_path(ctx, p) for p in here if os.path.isdir(p))
    seen = set()
    out: List[str] = []
    skipped: List[str] = []
    for p in found:
        real = os.path.realpath(ctx.path(p))  # ctx.path resolved the links inside the machine already
        if real in seen:
            continue
        seen.add(real)
        (skipped if real in own else out).append(p)
    return out, skipped


# Where Python for Windows installs (python.org installer: per machine under Program Files or
# C:\PythonXY on older versions, per user under AppData\Local\Programs; the user site under
# AppData\Roaming), and conda's defaults. Host paths relative to the system drive's root.
WINDOWS_SITE_GLOBS = (
    "Python*/Lib/site-packages",
    "Program Files/Python*/Lib/site-packages",
    "Program Files (x86)/Python*/Lib/site-packages",
    "Users/*/AppData/Local/Programs/Python/Python*/Lib/site-packages",
    "Users/*/AppData/Roaming/Python/Python*/site-packages",
    "ProgramData/Anaconda3/Lib/site-packages",
    "ProgramData/Miniconda3/Lib/site-packages",
    "Users/*/Anaconda3/Lib/site-packages",
    "Users/*/miniconda3/Lib/site-packages",
)
# What marks cbom's own installation in a site directory (pyproject.toml: name = "cbom-scanner";
# an editable install leaves its dist-info and an __editable__ finder, a plain one the package).
_CBOM_MARKS = ("cbom_scanner-*.dist-info", "cbom_scanner-*.egg-info", "__editable__*cbom_scanner*", "cbom")


def running_sites() -> List[str]:
    """Local site directories of the interpreter running cbom (its own, a virtualenv's, the user site)."""
    here = list(getattr(site, "getsitepackages", lambda: [])())
    if site.ENABLE_USER_SITE and site.getusersitepackages():
        here.append(site.getusersitepackages())
    return here


def cbom_own_interpreter(sites: List[str]) -> str:
    """Why the interpreter running cbom is cbom's own rather than one of the host ("" when it is the
    host's). An auditor wants the host's software, not the ~47 packages the tool brought along:

    - a frozen build (PyInstaller `cbom`/`cbom.exe`: `sys.frozen`);
    - an embeddable Python (a `python3X._pth` beside the executable: the USB bundle's Windows
      folder; python.org ships it for embedding in one application, never as the machine's Python);
    - a virtualenv (a launcher's temporary venv, `.venv` of a checkout) whose site-packages hold
      cbom itself.

    A host's own Python that merely runs cbom (a system or per-user install, not a virtualenv)
    stays listed in full: what was installed into it, cbom included, is installed on the host.
    """
    if getattr(sys, "frozen", False):
        return "its frozen build"
    exe_dir = os.path.dirname(os.path.abspath(sys.executable or ""))
    if exe_dir and any(name.lower().endswith("._pth") for name in _names(exe_dir)):
        return "an embeddable Python (a ._pth file beside it)"
    venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
    if venv and any(_holds_cbom(p) for p in sites):
        return "a virtualenv holding cbom"
    return ""


def _names(folder: str) -> List[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _holds_cbom(site_dir: str) -> bool:
    names = _names(site_dir)
    return any(fnmatch.fnmatch(n, mark) for n in names for mark in _CBOM_MARKS)


def _host_path(ctx: ScanContext, local: str) -> str:
    """The host path ("/…", as globs give them) of local path `local` of the running machine."""
    root = os.path.abspath(str(ctx.root))
    rel = os.path.relpath(os.path.abspath(local), root) if _same_drive(local, root) else ""
    if not rel or rel.startswith(".."):
        return local  # outside the scanned root (another drive): kept as it is
    return "/" + rel.replace(os.sep, "/")


def _same_drive(a: str, b: str) -> bool:
    return os.path.splitdrive(os.path.abspath(a))[0].lower() == os.path.splitdrive(os.path.abspath(b))[0].lower()


def _metadata_files(ctx: ScanContext, site_dir: str) -> Iterator[Tuple[str, str]]:
    """(entry name, host path of its metadata file) of each distribution in `site_dir`."""
    try:
        entries = ctx.listdir(site_dir)
    except OSError:
        return
    for name in entries:
        path = f"{site_dir.rstrip('/')}/{name}"
        if name.endswith(".dist-info"):
            yield name, path + "/METADATA"
        elif name.endswith(".egg-info"):
            yield name, (path + "/PKG-INFO") if ctx.is_dir(path) else path
        elif name.endswith(".egg") and ctx.is_dir(path):
            yield name, path + "/EGG-INFO/PKG-INFO"


def _shown(ctx: ScanContext, site_dir: str) -> str:
    """`site_dir` as the auditor knows it: on a running Windows machine the native path with its
    drive ("C:\\Program Files\\Python311\\Lib\\site-packages"), not the drive-less host path."""
    return str(ctx.path(site_dir)) if ctx.local and ctx.platform == Platform.WINDOWS else site_dir


def collect_python(ctx: ScanContext, distro: Distro) -> Iterator[Item]:
    sites, skipped = find_sites(ctx)
    if skipped:
        why = cbom_own_interpreter(running_sites())
        yield Note(f"not listed: {', '.join(_shown(ctx, s) for s in skipped)} (cbom runs from {why}; the "
                   "tool's own packages are not the host's software)")
    for site_dir in sites:
        problems: List[str] = []
        for entry, meta in _metadata_files(ctx, site_dir):
            try:
                text = ctx.read(meta)
                pkg = distribution_package(text, _shown(ctx, site_dir))
            except OSError as exc:
                problems.append(f"{entry}: {exc.strerror or exc}")
                continue
            except ValueError as exc:
                problems.append(f"{entry}: {exc}")
                continue
            yield to_component(pkg, distro)
        if problems:
            yield Gap(summarise(f"python {_shown(ctx, site_dir)}", problems))
