"""Python distributions installed on the machine, read from their metadata files.

Nothing is imported and no interpreter is run: `*.dist-info/METADATA`,
`*.egg-info` (file or `PKG-INFO` inside) and `*.egg/EGG-INFO/PKG-INFO` in every
site directory found under the usual prefixes, pyenv/conda trees and
virtualenvs (a directory with `pyvenv.cfg`) in common places.
"""
from __future__ import annotations

import os
import site
import sys
from typing import Dict, Iterator, List, Optional, Tuple

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.model import Gap, Item, Kind

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
    """
    found: List[str] = []
    for pattern in SITE_GLOBS:
        found.extend(p for p in ctx.glob(pattern) if ctx.is_dir(p))
    for place in VENV_PLACES:
        for cfg in ctx.glob(place + "/pyvenv.cfg"):
            venv = cfg[:-len("/pyvenv.cfg")]
            found.extend(p for p in ctx.glob(venv + "/lib/python*/site-packages") if ctx.is_dir(p))
            found.extend(p for p in ctx.glob(venv + "/Lib/site-packages") if ctx.is_dir(p))
    if ctx.local and not getattr(sys, "frozen", False):
        # The interpreter running cbom (its own site, a virtualenv, the user site) when it
        # is a Python of this machine and not one shipped inside the USB bundle.
        here = list(getattr(site, "getsitepackages", lambda: [])())
        if site.ENABLE_USER_SITE and site.getusersitepackages():
            here.append(site.getusersitepackages())
        found.extend(p for p in here if os.path.isdir(p))
    seen = set()
    out = []
    for p in found:
        real = os.path.realpath(ctx.path(p))  # ctx.path resolved the links inside the machine already
        if real in seen:
            continue
        seen.add(real)
        out.append(p)
    return out


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


def collect_python(ctx: ScanContext, distro: Distro) -> Iterator[Item]:
    for site_dir in find_site_dirs(ctx):
        problems: List[str] = []
        for entry, meta in _metadata_files(ctx, site_dir):
            try:
                text = ctx.read(meta)
                pkg = distribution_package(text, site_dir)
            except OSError as exc:
                problems.append(f"{entry}: {exc.strerror or exc}")
                continue
            except ValueError as exc:
                problems.append(f"{entry}: {exc}")
                continue
            yield to_component(pkg, distro)
        if problems:
            yield Gap(summarise(f"python {site_dir}", problems))
