"""What every package source shares: the package record, PURLs, licences, os-release.

Parsers of each source return `Package` records and a list of problems (one
line each); `to_component()` turns a record into the model's Component, so
every source gets the same PURL, property and licence rules.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Dict, Iterator, List, Optional, Tuple

from cbom import vocabulary as V
from cbom.model import Category, Component, Gap, Item, Kind, make_ref

# One os-release parser for the whole product (os-release(5) shell quoting and trailing comments):
# VERSION_ID="12" # LTS is 12 in the OS component and in every PURL's distro= qualifier alike.
from ..osinfo._linux import parse_os_release

# PURL type and default namespace per package manager (purl-spec PURL-TYPES).
PURL_TYPES: Dict[str, Tuple[str, str]] = {
    "dpkg": ("deb", "debian"),
    "rpm": ("rpm", ""),
    "apk": ("apk", "alpine"),
    "pacman": ("alpm", "arch"),
    "python": ("pypi", ""),
}


@dataclass
class Package:
    """One installed package as its database describes it (strings as read)."""

    manager: str
    name: str
    version: str
    arch: str = ""
    epoch: str = ""  # rpm only: dpkg keeps the epoch inside the version, as the purl spec does
    source: str = ""  # source package ("name" or "name version")
    maintainer: str = ""
    vendor: str = ""
    description: str = ""
    licenses: Tuple[str, ...] = ()  # declared strings, normalised by to_component()
    size: Optional[int] = None  # installed size in bytes
    install_date: str = ""  # ISO 8601
    homepage: str = ""
    section: str = ""
    kind: Optional[Kind] = None
    ref_extra: Tuple[str, ...] = ()  # identity beyond the PURL (e.g. the site directory of a Python dist)
    extra: List[Tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Distro:
    """The scanned system's os-release identity, for PURL namespace and `distro` qualifier."""

    id: str = ""
    version_id: str = ""
    codename: str = ""

    @property
    def qualifier(self) -> str:
        # purl-spec examples: distro=debian-12, distro=fedora-25, distro=alpine-3.14.0.
        if self.id and self.version_id:
            return f"{self.id}-{self.version_id}"
        if self.id and self.codename:
            return f"{self.id}-{self.codename}"
        return ""


def distro_from_os_release(text: str) -> Distro:
    d = parse_os_release(text)
    return Distro(id=d.get("ID", "").lower(), version_id=d.get("VERSION_ID", ""), codename=d.get("VERSION_CODENAME", ""))


def iso_from_epoch(value: str) -> str:
    """'1665878640' -> '2022-10-16T00:04:00Z'; '' when not a plausible Unix time."""
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return ""
    if seconds <= 0:
        return ""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def person_name(value: str) -> str:
    """'Debian GCC Maintainers <debian-gcc@lists.debian.org>' -> 'Debian GCC Maintainers'."""
    name = value.split("<", 1)[0].strip().strip('"')
    return name or value.strip()


# --- licences ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def spdx_ids() -> Dict[str, str]:
    """SPDX licence ids known to CycloneDX, keyed by lower case (ids match case-insensitively)."""
    try:
        from cbom.cyclonedx import spdx_ids as known

        ids = known()
    except Exception:  # no schema files: every licence stays declared text
        ids = frozenset()
    return {i.lower(): i for i in ids}


# Trove classifiers and old short names that denote exactly one SPDX licence. Ambiguous ones
# ("BSD License", "Apache Software License", Arch's "GPL") stay as declared text on purpose.
_ALIASES = {
    "mit license": "MIT",
    "isc license (iscl)": "ISC",
    "mozilla public license 2.0 (mpl 2.0)": "MPL-2.0",
    "python software foundation license": "PSF-2.0",
    "the unlicense (unlicense)": "Unlicense",
    "boost software license 1.0 (bsl-1.0)": "BSL-1.0",
    "gnu general public license v2 or later (gplv2+)": "GPL-2.0-or-later",
    "gnu general public license v3 or later (gplv3+)": "GPL-3.0-or-later",
    "gnu lesser general public license v2 or later (lgplv2+)": "LGPL-2.0-or-later",
    "gnu lesser general public license v3 or later (lgplv3+)": "LGPL-3.0-or-later",
    "gnu affero general public license v3 or later (agplv3+)": "AGPL-3.0-or-later",
    "european union public licence 1.2 (eupl 1.2)": "EUPL-1.2",
    "zlib/libpng license": "Zlib",
    "expat": "MIT",
}

_EXPR_TOKEN = re.compile(r"\(|\)|[A-Za-z0-9.+\-:]+")
_OPS = {"and": "AND", "or": "OR", "with": "WITH"}


def spdx_expression(text: str) -> Optional[str]:
    """`text` as a clean SPDX expression of known ids ('mit' -> 'MIT'), or None.

    A single id, or ids joined by AND/OR/WITH with parentheses. Exceptions after
    WITH and LicenseRef- ids are accepted as written.
    """
    text = text.strip()
    if not text or len(text) > 200:
        return None
    ids = spdx_ids()
    tokens = _EXPR_TOKEN.findall(text)
    if "".join(tokens) != re.sub(r"\s+", "", text):
        return None
    out: List[str] = []
    expect_id = True
    after_with = False
    for tok in tokens:
        low = tok.lower()
        if tok in "()":
            out.append(tok)
            continue
        if expect_id:
            if after_with or tok.startswith("LicenseRef-"):
                out.append(tok)
            elif low in ids:
                out.append(ids[low])
            elif low.endswith("+") and low[:-1] in ids:
                out.append(ids[low[:-1]] + "+")
            else:
                return None
            expect_id, after_with = False, False
        else:
            if low not in _OPS:
                return None
            out.append(_OPS[low])
            expect_id, after_with = True, low == "with"
    if expect_id:
        return None
    result = " ".join(out).replace("( ", "(").replace(" )", ")")
    return result


def normalise_license(text: str) -> Tuple[str, bool]:
    """(value for Component.licenses, True when it is a clean SPDX id/expression)."""
    text = " ".join(text.split())
    expr = spdx_expression(text)
    if expr:
        return expr, True
    alias = _ALIASES.get(text.lower())
    if alias and alias.lower() in spdx_ids():
        return alias, True
    # Free text must not look like an expression to the writer (it treats ' AND ' as one).
    return re.sub(r" (AND|OR|WITH) ", lambda m: f" {m.group(1).lower()} ", text), False


# --- components ----------------------------------------------------------------------------------

_LIB_SECTIONS = frozenset({"libs", "libdevel", "oldlibs", "python", "perl", "ruby", "javascript", "java", "php", "lisp",
                           "ocaml", "haskell", "rust", "golang"})


def guess_kind(pkg: Package) -> Kind:
    """Library for shared libraries and language modules, application otherwise."""
    if pkg.kind is not None:
        return pkg.kind
    section = pkg.section.rsplit("/", 1)[-1].lower()
    if section in _LIB_SECTIONS or "librar" in section:
        return Kind.LIBRARY
    if pkg.name.startswith("lib") and not pkg.name.startswith(("libreoffice", "librewolf")):
        return Kind.LIBRARY
    return Kind.APPLICATION


def make_purl(pkg: Package, distro: Distro) -> str:
    from packageurl import PackageURL

    if pkg.manager not in PURL_TYPES:
        return ""
    ptype, default_ns = PURL_TYPES[pkg.manager]
    qualifiers: Dict[str, str] = {}
    namespace = default_ns
    if ptype != "pypi":
        namespace = distro.id or default_ns
        if pkg.arch:
            qualifiers["arch"] = pkg.arch
        if distro.qualifier:
            qualifiers["distro"] = distro.qualifier
        if pkg.epoch and pkg.epoch not in ("0", "(none)"):
            qualifiers["epoch"] = pkg.epoch
    name = pkg.name
    if ptype == "pypi":
        # purl-spec PyPI type: the name is normalised as PyPI does (PEP 503, "Names and
        # normalization"): lower case, every run of "-", "_" and "." one "-" (zope.interface ->
        # zope-interface), so that two tools' PURLs of one distribution compare equal.
        name = re.sub(r"[-_.]+", "-", name).lower()
    try:
        return PackageURL(
            type=ptype, namespace=namespace or None, name=name, version=pkg.version or None,
            qualifiers=qualifiers or None,
        ).to_string()
    except ValueError:  # a name the PURL grammar refuses: no PURL rather than a wrong one
        return ""


def to_component(pkg: Package, distro: Distro) -> Component:
    """The Component of one package record."""
    purl = make_purl(pkg, distro)
    licenses: List[str] = []
    declared: List[str] = []
    for text in pkg.licenses:
        value, clean = normalise_license(text)
        if value and value not in licenses:
            licenses.append(value)
        if clean and value != " ".join(text.split()):
            declared.append(text.strip())  # keep the database's words when an id replaced them
    props: List[Tuple[str, str]] = [(V.PACKAGE_MANAGER, pkg.manager)]
    if pkg.arch:
        props.append((V.PACKAGE_ARCH, pkg.arch))
    if pkg.source:
        props.append((V.PACKAGE_SOURCE, pkg.source))
    if pkg.maintainer:
        props.append((V.PACKAGE_MAINTAINER, pkg.maintainer))
    if pkg.size is not None:
        props.append((V.PACKAGE_INSTALLED_SIZE, str(pkg.size)))
    if pkg.install_date:
        props.append((V.PACKAGE_INSTALL_DATE, pkg.install_date))
    if pkg.homepage:
        props.append((V.PACKAGE_HOMEPAGE, pkg.homepage))
    if pkg.section:
        props.append((V.PACKAGE_SECTION, pkg.section))
    props.extend((V.PACKAGE_LICENSE_DECLARED, d) for d in declared if d)
    props.extend(pkg.extra)
    ref = ""
    if pkg.ref_extra or not purl:
        ref = make_ref(Category.SOFTWARE.value, pkg.manager, purl or f"{pkg.name}@{pkg.version}@{pkg.arch}", *pkg.ref_extra)
    version = pkg.version
    if pkg.manager == "rpm" and pkg.epoch and pkg.epoch != "0":
        version = f"{pkg.epoch}:{version}"  # E:V-R, as rpm compares it; the PURL carries epoch= instead
    return Component(
        category=Category.SOFTWARE,
        kind=guess_kind(pkg),
        name=pkg.name,
        version=version,
        ref=ref,
        supplier=person_name(pkg.vendor or pkg.maintainer) if (pkg.vendor or pkg.maintainer) else "",
        description=pkg.description,
        purl=purl,
        licenses=tuple(licenses),
        properties=tuple(props),
    )


def summarise(source: str, problems: List[str], limit: int = 3) -> str:
    """One gap line for all problems of one source: count, then the first few."""
    shown = "; ".join(problems[:limit])
    more = f"; … {len(problems) - limit} more" if len(problems) > limit else ""
    noun = "problem" if len(problems) == 1 else "problems"
    return f"{source}: {len(problems)} {noun} ({shown}{more})"


def package_items(where: str, packages: List[Package], problems: List[str], distro: Distro) -> Iterator[Item]:
    """What one package database gave: a gap summarising its unreadable entries, then its packages."""
    if problems:
        yield Gap(summarise(where, problems))
    for pkg in packages:
        yield to_component(pkg, distro)
