"""`cbom diff OLD NEW`: what changed on a machine between two scans — and should it have?

Components are matched across the two documents by a stable identity, never by
position or bom-ref text alone (a cbom bom-ref that does not carry the version
is used, since collectors derive it from the same identity):

| category           | identity, tried in order                                                      |
|--------------------|-------------------------------------------------------------------------------|
| software           | PURL without version (type/namespace/name + `arch`), then group/name          |
| operating-system   | cbom identity ref, then name                                                  |
| hardware           | cbom identity ref (slot/bus), `cbom:bus`, `cdx:device:serialNumber`, name     |
| firmware           | `cbom:hardware-ref` + name, cbom identity ref, name                           |
| network-interface  | name, `cdx:device:macAddress`                                                 |
| listening-service  | `cbom:protocol`/`cbom:port`/`cbom:process`, then protocol/port                |
| observed-host      | `cdx:device:macAddress`, then IP address, then name                           |
| observed-protocol  | name (case-insensitive)                                                       |
| crypto and others  | cbom identity ref, then group/name                                            |

Several components with one identity (an RPM `kernel` installed twice) are
paired by ref, then exact content, then version; a component listed twice with
the same identity and version is reported under `duplicates`.

Version changes are ordered by the package's ecosystem (`cbom._versions`):
Debian (dpkg, epochs, `~`, `+bN` binNMU = rebuild), RPM (rpmvercmp with `~`/`^`,
epoch), PEP 440 (PyPI), and a generic semantic-ish order for the rest
(firmware, drivers). Volatile values (scan times, uptime, boot time, packet
and byte counters, PIDs, install dates, the BOM serial number and collector
durations) are ignored unless `include_volatile` / `--all`.

Exit codes follow diff(1): 0 no differences, 1 differences, 2 error.

JSON diff schema (`--format json`, `"schema": "cbom-diff/1"`; keys always present):

    {
      "schema": "cbom-diff/1",
      "identical": false,                     # true <=> exit code 0
      "include_volatile": false,              # --all
      "old": Side, "new": Side,
      "summary": {"added": 3, "removed": 1, "changed": 2, "notable": 4,
                  "findings_added": 0, "findings_removed": 0, "host_changed": 0},
      "notable": [Notable, ...],              # most severe first
      "host": [FieldChange, ...],             # the machine itself (metadata.component)
      "categories": [CategoryDiff, ...],      # every category present in either file, model order
      "findings": {"added": [Finding, ...], "removed": [Finding, ...]},
      "duplicates": [{"side": "old"|"new", "category": str, "identity": str, "version": str, "count": int}],
      "notes": [str, ...]                     # e.g. categories not compared, collectors that failed
    }
    Side        = {"file": str, "serialNumber": str, "timestamp": str (ISO 8601 UTC, "" if absent),
                   "host": str, "hostSerial": str, "tool": str, "specVersion": str,
                   "components": int, "categories": {category: count}}
    Notable     = {"severity": "critical|high|medium|low|info", "id": "CBOM-DIFF-…",
                   "category": str, "identity": str, "title": str (one line)}
    CategoryDiff= {"category": str, "compared": bool, "note": str,
                   "added": [Comp, ...], "removed": [Comp, ...], "changed": [Change, ...]}
    Comp        = {"identity": str, "name": str, "version": str, "purl": str, "bom-ref": str}
    Change      = {"identity": str, "name": str,
                   "old": Comp, "new": Comp,
                   "version": null | {"old": str, "new": str, "ecosystem": str,
                                      "change": "upgrade|downgrade|rebuild|same|changed"},
                   "fields": [FieldChange, ...]}
    FieldChange = {"field": str, "old": str, "new": str}
                  # field is a component field ("version", "manufacturer", "hashes", …) or
                  # "property:<name>" (multi-valued properties joined with ", ")
    Finding     = {"id": str, "severity": str, "title": str, "bom-ref": str}

`version.change`: `upgrade`/`downgrade` by the ecosystem's order; `rebuild` when
the version orders equal (or differs only by a Debian `+bN` binNMU suffix) but the
content changed; `same` when the version strings differ yet order equal and nothing
else changed; `changed` when a side has no version.
"""
from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple
from urllib.parse import unquote

from . import cyclonedx
from ._versions import compare_versions, is_debian_rebuild
from .model import Category, Component, Finding, Scan, Severity, make_ref

__all__ = [
    "Diff", "CategoryDiff", "Change", "FieldChange", "Notable", "DiffError", "Side",
    "diff_scans", "compare_versions", "read_scan", "identity", "ecosystem_of",
    "to_json", "write_text", "render_html", "render_pdf", "command",
]

# CycloneDX has JSON since 1.2; 1.0/1.1 were XML only, and no later spec than 1.7 exists yet.
SCHEMA = "cbom-diff/1"
MAC = "cdx:device:macAddress"
SERIAL = "cdx:device:serialNumber"
# Property names as the collectors write them.
IP_PROPS = ("cbom:ipv4", "cbom:ipv6", "cbom:net:ip")  # network (interfaces), capture (observed hosts)
SOURCE_PROPS = ("cbom:package-manager",)  # software
LOCATION_PROPS = ("cbom:pci:address", "cbom:usb:port", "cbom:bus-address")  # hardware
MACHINE_ID_PROPS = ("cbom:uuid",)  # hardware (SMBIOS system UUID)
EXIT_SAME, EXIT_DIFFERENT, EXIT_ERROR = 0, 1, 2

# Values that change between two scans of an unchanged machine. Matched against the
# property name: counters (packets, bytes, frames, errors of an interface or a flow),
# times (uptime, boot, first/last seen, install dates rewritten by a reinstall of the
# same version), process ids and socket inodes.
_VOLATILE = re.compile(
    r"(uptime|boot[-_]?time|booted|last[-_]?boot|packets?|pkts|bytes|octets|frames|"
    r"(^|[:_-])(rx|tx)([:_-]|$)|errors|dropped|drops|first[-_]?seen|last[-_]?seen|"
    r"timestamp|scan[-_]?time|duration|(^|:)pids?$|inode|install-date|load[-_]?avg)",
    re.IGNORECASE,
)
# Sizes are facts, not counters ("cbom:memory:total-bytes", "cbom:storage:size-bytes").
_NOT_VOLATILE = re.compile(r"size|total|capacity", re.IGNORECASE)


def is_volatile(name: str) -> bool:
    """Whether property `name` changes between two scans of an unchanged machine."""
    return bool(_VOLATILE.search(name)) and not _NOT_VOLATILE.search(name)


_SECURE_BOOT = re.compile(r"secure[-_ ]?boot", re.IGNORECASE)
_ON = {"on", "enabled", "enable", "true", "yes", "1", "active", "enforcing"}
_OFF = {"off", "disabled", "disable", "false", "no", "0", "inactive", "not enabled"}
# Industrial protocols whose first appearance on an OT network deserves more than a "new protocol".
_INDUSTRIAL = re.compile(
    r"\b(s7|s7comm|s7comm-plus|modbus|dnp3|enip|ethernet/ip|cip|profinet|pn-dcp|pn-rt|bacnet|"
    r"iec[- ]?104|iec[- ]?60870|goose|mms|iec[- ]?61850|opc[- ]?ua|fins|melsec|slmp|hart|ecat|ethercat)\b",
    re.IGNORECASE,
)
_SEV_ORDER = {s: i for i, s in enumerate(Severity)}


class DiffError(ValueError):
    """The two files cannot be compared; the message says why in one line."""


# --- model of a diff ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class Change:
    """One component present in both scans whose compared fields differ."""

    identity: str
    old: Component
    new: Component
    fields: Tuple[FieldChange, ...]
    version_change: str = ""  # upgrade | downgrade | rebuild | same | changed | "" (version unchanged)
    ecosystem: str = ""


@dataclass(frozen=True)
class CategoryDiff:
    category: Category
    added: Tuple[Tuple[str, Component], ...] = ()  # (identity, component)
    removed: Tuple[Tuple[str, Component], ...] = ()
    changed: Tuple[Change, ...] = ()
    compared: bool = True
    note: str = ""

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True)
class Notable:
    severity: Severity
    id: str
    category: str
    identity: str
    title: str


@dataclass(frozen=True)
class Side:
    """One of the two documents: the scan and what the file says about itself."""

    scan: Scan
    file: str = ""
    spec: str = ""
    tool: str = ""  # "cbom 0.1.0", "syft 1.4.1", "cyclonedx-py 4.1.0"

    @property
    def is_cbom(self) -> bool:
        return bool(self.scan.tool_version) or self.tool.startswith("cbom ")


@dataclass(frozen=True)
class Diff:
    old: Side
    new: Side
    categories: Tuple[CategoryDiff, ...]
    notable: Tuple[Notable, ...] = ()
    host: Tuple[FieldChange, ...] = ()
    findings_added: Tuple[Finding, ...] = ()
    findings_removed: Tuple[Finding, ...] = ()
    duplicates: Tuple[Tuple[str, str, str, str, int], ...] = ()  # side, category, identity, version, count
    notes: Tuple[str, ...] = ()
    include_volatile: bool = False

    @property
    def identical(self) -> bool:
        return not (
            self.notable or self.host or self.findings_added or self.findings_removed
            or any(not c.empty for c in self.categories)
        )

    def count(self, what: str) -> int:
        return sum(len(getattr(c, what)) for c in self.categories)


# --- identity -------------------------------------------------------------------------------------

# purl-spec PURL-TYPES: names (and namespaces) of these types are case-insensitive.
_LOWER_TYPES = {"deb", "pypi", "github", "bitbucket", "apk", "alpm", "nuget", "composer", "hex", "pub", "npm"}


def _unq(text: str) -> str:
    return unquote(text) if "%" in text else text


@lru_cache(maxsize=65536)
def split_purl(purl: str) -> Optional[Tuple[str, str, str, str, Dict[str, str]]]:
    """(type, namespace, name, version, qualifiers) of a purl, normalised; None if not a purl.

    A small parser instead of packageurl-python: 40,000 purls must parse in well under a
    second (tests check it agrees with packageurl-python on real purls).
    """
    if not purl.startswith("pkg:"):
        return None
    rest = purl[4:].lstrip("/")
    rest = rest.partition("#")[0]
    rest, _, query = rest.partition("?")
    typ, _, path = rest.partition("/")
    if not typ or not path:
        return None
    typ = typ.lower()
    ns, _, last = path.rstrip("/").rpartition("/")
    name, _, version = last.partition("@")
    name, ns, version = _unq(name), _unq(ns), _unq(version)
    if typ in _LOWER_TYPES:
        name, ns = name.lower(), ns.lower()
    if typ == "pypi":
        name = re.sub(r"[-_.]+", "-", name)
    quals: Dict[str, str] = {}
    if query:
        for pair in query.split("&"):
            k, _, v = pair.partition("=")
            if k and v:
                quals[k.lower()] = _unq(v)
    return typ, ns, name, version, quals


@lru_cache(maxsize=65536)
def _purl_key(purl: str) -> Optional[str]:
    """`pkg:type/namespace/name?arch=…`: the identity of a package whatever its version."""
    head, _, query = purl.partition("#")[0].partition("?")
    # Drop the version before anything is decoded: only the name part is needed.
    ns_name, at, _ = head.rpartition("@")
    if not at or "/" in _:
        ns_name = head
    p = split_purl(ns_name + ("?" + query if query else ""))
    if not p:
        return None
    typ, ns, name, _v, q = p
    return f"pkg:{typ}/{ns + '/' if ns else ''}{name}" + (f"?arch={q['arch']}" if q.get("arch") else "")


def _explicit_ref(c: Component) -> str:
    """The component's bom-ref when a cbom collector derived it from identity fields.

    A ref cbom derived by default contains the version (category + name@version), so it
    changes on every upgrade: only a ref that differs from that default identifies the thing.
    Refs of other tools ("requests==2.31.0", syft's "pkg:…?package-id=…") are not used.
    """
    ref = c.ref
    if not ref.startswith(c.category.value + ":"):
        return ""
    default = make_ref(c.category.value, c.purl or f"{c.group}/{c.name}@{c.version}")
    return "" if ref == default else ref


def _location(c: Component) -> str:
    """Where a device sits: PCI address, USB port path… (`cbom:bus` alone may just say "pci")."""
    loc = _first(c, LOCATION_PROPS)
    if loc:
        return loc
    bus = c.prop("cbom:bus")
    return bus if any(ch.isdigit() for ch in bus) else ""


def _first(c: Component, names: Sequence[str]) -> str:
    for n in names:
        v = c.prop(n)
        if v:
            return v
    return ""


def _identities(c: Component) -> List[Optional[str]]:
    """The identity keys of `c`, one per matching pass (None: no key in that pass)."""
    cat = c.category
    name_key = f"name:{c.group}/{c.name}".lower() if c.name else None
    if cat == Category.SOFTWARE:
        return [_purl_key(c.purl) if c.purl else None, name_key]
    ref = _explicit_ref(c)
    if cat == Category.HARDWARE:
        bus, serial = _location(c), c.prop(SERIAL)
        return [f"ref:{ref}" if ref else None, f"bus:{bus}" if bus else None,
                f"serial:{serial}" if serial else None, name_key]
    if cat == Category.FIRMWARE:
        hw = c.prop("cbom:hardware-ref") or (c.depends_on[0] if c.depends_on else "")
        return [f"on:{hw}/{c.name}" if hw else None, f"ref:{ref}" if ref else None, name_key]
    if cat == Category.NETWORK_INTERFACE:
        mac = c.prop(MAC).lower()
        return [f"if:{c.name}" if c.name else None, f"mac:{mac}" if mac else None]
    if cat == Category.LISTENING_SERVICE:
        proto, port, proc = c.prop("cbom:protocol").lower(), c.prop("cbom:port"), c.prop("cbom:process")
        if proto and port:
            return [f"{proto}/{port}/{proc}", f"{proto}/{port}"]
        return [f"ref:{ref}" if ref else None, name_key]
    if cat == Category.OBSERVED_HOST:
        mac, ip = c.prop(MAC).lower(), _first(c, IP_PROPS)
        return [f"mac:{mac}" if mac else None, f"ip:{ip}" if ip else None, f"ref:{ref}" if ref else None, name_key]
    if cat == Category.OBSERVED_PROTOCOL:
        return [f"proto:{c.name.lower()}", f"ref:{ref}" if ref else None]
    return [f"ref:{ref}" if ref else None, name_key]


def identity(c: Component) -> str:
    """The identity a component is matched by (its first non-empty key), as shown in reports."""
    return next((k for k in _identities(c) if k), f"ref:{c.ref}")


def _display_identity(keys: List[Optional[str]], c: Component) -> str:
    for k in keys:
        if k:
            return k
    return f"ref:{c.ref}"


def ecosystem_of(c: Component) -> Tuple[str, str]:
    """(ecosystem, version as that ecosystem writes it) for ordering `c`'s versions."""
    p = split_purl(c.purl) if c.purl else None
    typ = p[0] if p else ""
    manager = _first(c, SOURCE_PROPS).lower()
    version = c.version
    if typ == "deb" or manager in ("dpkg", "deb", "apt"):
        eco = "debian"
    elif typ == "rpm" or manager in ("rpm", "yum", "dnf", "zypper"):
        eco = "rpm"
    elif typ == "pypi" or manager in ("python", "pip", "pypi"):
        eco = "pypi"
    else:
        eco = "generic"
    # purl-spec puts the rpm (and sometimes deb) epoch in a qualifier, not the version.
    if p and eco in ("debian", "rpm") and p[4].get("epoch") and ":" not in version:
        version = f"{p[4]['epoch']}:{version}"
    return eco, version


# --- matching -------------------------------------------------------------------------------------


def _content(c: Component) -> tuple:
    return (c.version, c.properties, c.hashes)


def _pair_group(olds: List[int], news: List[int], o_comps, n_comps) -> Tuple[List[Tuple[int, int]], List[int], List[int]]:
    """Pair components sharing one identity: same ref, then same content, then same version, then in order."""
    if len(olds) == 1 and len(news) == 1:
        return [(olds[0], news[0])], [], []
    pairs: List[Tuple[int, int]] = []
    for keyf in (lambda c: c.ref, _content, lambda c: c.version):
        index: Dict[Any, List[int]] = defaultdict(list)
        for j in news:
            index[keyf(n_comps[j])].append(j)
        rest = []
        taken = set()
        for i in olds:
            lst = index.get(keyf(o_comps[i]))
            if lst:
                j = lst.pop(0)
                pairs.append((i, j))
                taken.add(j)
            else:
                rest.append(i)
        olds, news = rest, [j for j in news if j not in taken]
    n = min(len(olds), len(news))
    pairs.extend(zip(olds[:n], news[:n]))
    return pairs, olds[n:], news[n:]


def _match(olds: Sequence[Component], news: Sequence[Component], compatible: Callable[[Component, Component, str], bool]):
    """Pair old and new components of one category in passes of decreasing identity strength."""
    okeys = [_identities(c) for c in olds]
    nkeys = [_identities(c) for c in news]
    passes = max([len(k) for k in okeys + nkeys] or [0])
    left_o = list(range(len(olds)))
    left_n = list(range(len(news)))
    pairs: List[Tuple[int, int]] = []
    for p in range(passes):
        if not left_o or not left_n:
            break
        go: Dict[str, List[int]] = defaultdict(list)
        gn: Dict[str, List[int]] = defaultdict(list)
        for i in left_o:
            k = okeys[i][p] if p < len(okeys[i]) else None
            if k:
                go[k].append(i)
        for j in left_n:
            k = nkeys[j][p] if p < len(nkeys[j]) else None
            if k:
                gn[k].append(j)
        used_o, used_n = set(), set()
        for k, ois in go.items():
            nis = gn.get(k)
            if not nis:
                continue
            if p:  # weaker passes must not pair things the stronger identity tells apart
                ois = [i for i in ois if any(compatible(olds[i], news[j], k) for j in nis)]
                if not ois:
                    continue
            got, _, _ = _pair_group(ois, nis, olds, news)
            for i, j in got:
                if p and not compatible(olds[i], news[j], k):
                    continue
                pairs.append((i, j))
                used_o.add(i)
                used_n.add(j)
        left_o = [i for i in left_o if i not in used_o]
        left_n = [j for j in left_n if j not in used_n]
    return pairs, left_o, left_n, okeys, nkeys


def _compatible(category: Category) -> Callable[[Component, Component, str], bool]:
    """Whether a weaker identity `key` may pair `o` and `n` that a stronger one did not."""
    if category == Category.SOFTWARE:
        # Two packages that both have a PURL and did not match by it are different packages
        # (pkg:deb/…/six is not pkg:pypi/six), whatever their names. A purl field that is
        # not a purl (syft's test documents write "a-purl-2") identifies nothing.
        return lambda o, n, key: not (o.purl and n.purl and _purl_key(o.purl) and _purl_key(n.purl))
    if category == Category.HARDWARE:
        # Same serial: the device moved. Same name in two different slots: two devices.
        return lambda o, n, key: key.startswith(("bus:", "serial:")) or not (
            (_explicit_ref(o) and _explicit_ref(n)) or (_location(o) and _location(n)))
    if category == Category.OBSERVED_HOST:
        # Same IP, two MACs: another device took the address.
        return lambda o, n, key: not (o.prop(MAC) and n.prop(MAC))
    return lambda o, n, key: True


# --- field comparison -----------------------------------------------------------------------------

_SCALARS = ("kind", "name", "group", "manufacturer", "supplier", "publisher", "description")


def _purl_sans_version(purl: str) -> str:
    p = split_purl(purl)
    if not p:
        return purl
    typ, ns, name, _, q = p
    quals = "&".join(f"{k}={q[k]}" for k in sorted(q))
    return f"pkg:{typ}/{ns + '/' if ns else ''}{name}" + (f"?{quals}" if quals else "")


def _prop_map(c: Component, include_volatile: bool) -> Dict[str, Tuple[str, ...]]:
    out: Dict[str, List[str]] = defaultdict(list)
    for k, v in c.properties:
        if include_volatile or not is_volatile(k):
            out[k].append(v)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _field_changes(o: Component, n: Component, include_volatile: bool) -> List[FieldChange]:
    out: List[FieldChange] = []
    if o.version != n.version:
        out.append(FieldChange("version", o.version, n.version))
    for f in _SCALARS:
        a, b = getattr(o, f), getattr(n, f)
        if a != b:
            out.append(FieldChange(f, getattr(a, "value", a), getattr(b, "value", b)))
    if o.purl != n.purl:
        a, b = _purl_sans_version(o.purl), _purl_sans_version(n.purl)
        if a != b:
            out.append(FieldChange("purl", o.purl, n.purl))
    if o.cpe != n.cpe and (not o.version or o.cpe.replace(o.version, n.version) != n.cpe):
        out.append(FieldChange("cpe", o.cpe, n.cpe))
    if sorted(o.licenses) != sorted(n.licenses):
        out.append(FieldChange("licenses", ", ".join(o.licenses), ", ".join(n.licenses)))
    if o.hashes != n.hashes:
        ho, hn = dict(o.hashes), dict(n.hashes)
        for alg in sorted(set(ho) | set(hn)):
            if ho.get(alg) != hn.get(alg):
                out.append(FieldChange(f"hash:{alg}", ho.get(alg, ""), hn.get(alg, "")))
    if o.properties != n.properties:
        po, pn = _prop_map(o, include_volatile), _prop_map(n, include_volatile)
        for k in sorted(set(po) | set(pn)):
            if po.get(k) != pn.get(k):
                out.append(FieldChange(f"property:{k}", ", ".join(po.get(k, ())), ", ".join(pn.get(k, ()))))
    if include_volatile and o.depends_on != n.depends_on:
        out.append(FieldChange("dependsOn", ", ".join(o.depends_on), ", ".join(n.depends_on)))
    return out


def _classify(o: Component, n: Component, others_changed: bool) -> Tuple[str, str]:
    eco, vo = ecosystem_of(o)
    _, vn = ecosystem_of(n)
    if o.version == n.version:
        return ("rebuild" if others_changed and o.hashes != n.hashes else ""), eco
    if not o.version or not n.version:
        return "changed", eco
    if eco == "debian" and is_debian_rebuild(vo, vn):
        return "rebuild", eco
    try:
        rc = compare_versions(vo, vn, eco)
    except Exception:  # a version no ordering understands is still a change, never a crash
        return "changed", eco
    if rc < 0:
        return "upgrade", eco
    if rc > 0:
        return "downgrade", eco
    return ("rebuild" if others_changed else "same"), eco


# --- notable changes ------------------------------------------------------------------------------


def _onoff(value: str) -> Optional[bool]:
    v = value.strip().lower()
    if v in _ON:
        return True
    if v in _OFF:
        return False
    return None


def _label(c: Component) -> str:
    if c.category == Category.LISTENING_SERVICE and c.prop("cbom:port"):
        addrs = ", ".join(c.props("cbom:address"))
        where = f" on {addrs}" if addrs else ""
        return f"{c.prop('cbom:protocol')}/{c.prop('cbom:port')} ({c.prop('cbom:process') or c.name}){where}"
    if c.category == Category.OBSERVED_HOST:
        bits = [x for x in (_first(c, IP_PROPS), c.prop(MAC)) if x]
        return c.name + (f" ({', '.join(bits)})" if bits and c.name not in bits else "")
    return f"{c.name} {c.version}".strip()


def _notables(cd: CategoryDiff) -> List[Notable]:
    cat = cd.category
    out: List[Notable] = []

    def add(sev: Severity, nid: str, ident: str, title: str) -> None:
        out.append(Notable(sev, nid, cat.value, ident, title))

    for ident, c in cd.added:
        if cat == Category.LISTENING_SERVICE:
            add(Severity.MEDIUM, "CBOM-DIFF-NEW-LISTENER", ident, f"new listening service {_label(c)}")
        elif cat == Category.OBSERVED_HOST:
            add(Severity.MEDIUM, "CBOM-DIFF-NEW-HOST", ident, f"new host on the network: {_label(c)}")
        elif cat == Category.OBSERVED_PROTOCOL:
            industrial = bool(_INDUSTRIAL.search(c.name))
            add(Severity.HIGH if industrial else Severity.MEDIUM, "CBOM-DIFF-NEW-PROTOCOL", ident,
                f"protocol never seen before: {c.name}" + (" (industrial)" if industrial else ""))
        elif cat == Category.HARDWARE:
            add(Severity.MEDIUM, "CBOM-DIFF-HARDWARE-ADDED", ident, f"hardware added: {_label(c)}")
        elif cat == Category.FIRMWARE:
            add(Severity.MEDIUM, "CBOM-DIFF-FIRMWARE-ADDED", ident, f"firmware appeared: {_label(c)}")
        elif cat == Category.NETWORK_INTERFACE:
            add(Severity.MEDIUM, "CBOM-DIFF-INTERFACE-ADDED", ident, f"new network interface {c.name}"
                + (f" ({c.prop(MAC)})" if c.prop(MAC) else ""))
        elif cat == Category.OPERATING_SYSTEM:
            add(Severity.HIGH, "CBOM-DIFF-OS-REPLACED", ident, f"operating system appeared: {_label(c)}")
    for ident, c in cd.removed:
        if cat == Category.HARDWARE:
            add(Severity.LOW, "CBOM-DIFF-HARDWARE-REMOVED", ident, f"hardware removed: {_label(c)}")
        elif cat == Category.FIRMWARE:
            add(Severity.LOW, "CBOM-DIFF-FIRMWARE-REMOVED", ident, f"firmware no longer reported: {_label(c)}")
        elif cat == Category.NETWORK_INTERFACE:
            add(Severity.LOW, "CBOM-DIFF-INTERFACE-REMOVED", ident, f"network interface gone: {c.name}")
    for ch in cd.changed:
        o, n = ch.old, ch.new
        names = {f.field for f in ch.fields}
        vtxt = f"{o.version} → {n.version}"
        if ch.version_change == "downgrade":
            sev = Severity.HIGH if cat in (Category.FIRMWARE, Category.OPERATING_SYSTEM) else Severity.MEDIUM
            add(sev, f"CBOM-DIFF-{_CAT_ID.get(cat, 'SOFTWARE')}-DOWNGRADE", ch.identity,
                f"{cat.value} downgraded: {n.name} {vtxt}")
        elif cat == Category.FIRMWARE and ch.version_change in ("upgrade", "changed", "same"):
            add(Severity.MEDIUM, "CBOM-DIFF-FIRMWARE-CHANGED", ch.identity, f"firmware changed: {n.name} {vtxt}")
        elif cat == Category.FIRMWARE and ch.version_change == "rebuild":
            add(Severity.HIGH, "CBOM-DIFF-FIRMWARE-REBUILT", ch.identity,
                f"firmware image changed without a version change: {n.name} {n.version}")
        elif cat == Category.OPERATING_SYSTEM and ch.version_change:
            add(Severity.LOW, "CBOM-DIFF-OS-CHANGED", ch.identity, f"operating system changed: {n.name} {vtxt}")
        if cat == Category.HARDWARE and names & {f"property:{SERIAL}", "name", "manufacturer"}:
            what = ", ".join(f"{f.field.replace('property:', '')} {f.old or '(none)'} → {f.new or '(none)'}"
                             for f in ch.fields if f.field in (f"property:{SERIAL}", "name", "manufacturer"))
            add(Severity.HIGH, "CBOM-DIFF-HARDWARE-SWAPPED", ch.identity, f"hardware swapped in the same place: {what}")
        if cat == Category.NETWORK_INTERFACE and f"property:{MAC}" in names:
            add(Severity.MEDIUM, "CBOM-DIFF-MAC-CHANGED", ch.identity,
                f"interface {n.name} MAC changed {o.prop(MAC) or '(none)'} → {n.prop(MAC) or '(none)'}")
        if cat == Category.LISTENING_SERVICE:
            if "property:cbom:process" in names:
                add(Severity.MEDIUM, "CBOM-DIFF-LISTENER-PROCESS", ch.identity,
                    f"{o.prop('cbom:protocol')}/{o.prop('cbom:port')} now served by {n.prop('cbom:process')} "
                    f"(was {o.prop('cbom:process')})")
            if "property:cbom:address" in names:
                add(Severity.MEDIUM, "CBOM-DIFF-LISTENER-EXPOSURE", ch.identity,
                    f"{_label(o).split(' on ')[0]} now listens on {', '.join(n.props('cbom:address'))} "
                    f"(was {', '.join(o.props('cbom:address'))})")
        for f in ch.fields:
            if f.field.startswith("property:") and _SECURE_BOOT.search(f.field):
                out.extend(_secure_boot(f, cat.value, ch.identity))
    return out


_CAT_ID = {Category.FIRMWARE: "FIRMWARE", Category.OPERATING_SYSTEM: "OS", Category.SOFTWARE: "SOFTWARE",
           Category.HARDWARE: "HARDWARE", Category.CRYPTO: "CRYPTO"}


def _secure_boot(f: FieldChange, category: str, ident: str) -> List[Notable]:
    was, now = _onoff(f.old), _onoff(f.new)
    if was is not False and now is False:
        return [Notable(Severity.HIGH, "CBOM-DIFF-SECUREBOOT-OFF", category, ident,
                        f"Secure Boot turned off ({f.old or '(none)'} → {f.new})")]
    if was is not True and now is True:
        return [Notable(Severity.INFO, "CBOM-DIFF-SECUREBOOT-ON", category, ident,
                        f"Secure Boot turned on ({f.old or '(none)'} → {f.new})")]
    return []


# --- host and machine identity --------------------------------------------------------------------

_PLACEHOLDER_SERIALS = {"", "0", "none", "n/a", "not specified", "to be filled by o.e.m.", "default string",
                        "system serial number", "not applicable", "0123456789", "123456789", "unknown"}


def _real(value: str) -> str:
    return "" if value.strip().lower() in _PLACEHOLDER_SERIALS else value.strip()


def machine_mismatch(old: Side, new: Side) -> str:
    """Why the two scans look like two different machines, or "" when they may be one."""
    ho, hn = old.scan.host, new.scan.host
    so, sn = _real(ho.serial), _real(hn.serial)
    if so and sn:
        return "" if so == sn else f"serial numbers differ ({so} vs {sn})"
    for name in MACHINE_ID_PROPS:
        a = next((v for k, v in ho.properties if k == name), "")
        b = next((v for k, v in hn.properties if k == name), "")
        if a and b:
            return "" if a == b else f"{name} differs ({a} vs {b})"
    if old.is_cbom and new.is_cbom and ho.name and hn.name and ho.name.lower() != hn.name.lower():
        return f"host names differ ({ho.name} vs {hn.name})"
    return ""


def _host_changes(old: Scan, new: Scan, include_volatile: bool) -> List[FieldChange]:
    ho, hn = old.host, new.host
    out = [FieldChange(f, getattr(ho, f), getattr(hn, f))
           for f in ("name", "manufacturer", "model", "serial") if getattr(ho, f) != getattr(hn, f)]
    po: Dict[str, List[str]] = defaultdict(list)
    pn: Dict[str, List[str]] = defaultdict(list)
    for src, dst in ((ho.properties, po), (hn.properties, pn)):
        for k, v in src:
            if include_volatile or not is_volatile(k):
                dst[k].append(v)
    for k in sorted(set(po) | set(pn)):
        a, b = sorted(po.get(k, [])), sorted(pn.get(k, []))
        if a != b:
            out.append(FieldChange(f"property:{k}", ", ".join(a), ", ".join(b)))
    if include_volatile:
        for f, a, b in (("serialNumber", old.id, new.id),
                        ("timestamp", old.started.isoformat(), new.started.isoformat()),
                        ("tool", old.tool_version, new.tool_version)):
            if a != b:
                out.append(FieldChange(f"bom:{f}", a, b))
        do, dn = sorted(old.properties), sorted(new.properties)
        if do != dn:
            out.append(FieldChange("bom:properties", "; ".join(f"{k}={v}" for k, v in do),
                                   "; ".join(f"{k}={v}" for k, v in dn)))
    return out


def _run_notes(old: Scan, new: Scan) -> List[str]:
    ro = {r.name: r for r in old.runs}
    rn = {r.name: r for r in new.runs}
    notes = []
    for name in sorted(set(ro) | set(rn)):
        a, b = ro.get(name), rn.get(name)
        sa = a.status.value if a else "not run"
        sb = b.status.value if b else "not run"
        if sa != sb:
            why = b.reason if b and b.reason else (a.reason if a and a.reason else "")
            notes.append(f"collector {name}: {sa} in OLD, {sb} in NEW" + (f" ({why})" if why else "")
                         + ": differences in its area may be collection gaps, not changes")
    return notes


# --- the diff -------------------------------------------------------------------------------------


def diff_scans(old: Scan, new: Scan, include_volatile: bool = False,
               old_side: Optional[Side] = None, new_side: Optional[Side] = None) -> Diff:
    """Compare two scans of one machine: pure, no I/O."""
    so = old_side or Side(old)
    sn = new_side or Side(new)
    both_cbom = so.is_cbom and sn.is_cbom
    by_o: Dict[Category, List[Component]] = defaultdict(list)
    by_n: Dict[Category, List[Component]] = defaultdict(list)
    for c in old.components:
        by_o[c.category].append(c)
    for c in new.components:
        by_n[c.category].append(c)
    cats: List[CategoryDiff] = []
    notable: List[Notable] = []
    duplicates: List[Tuple[str, str, str, str, int]] = []
    notes: List[str] = []
    for cat in Category:
        olds, news = by_o.get(cat, []), by_n.get(cat, [])
        if not olds and not news:
            continue
        if not (olds and news) and not both_cbom:
            lacking = sn if olds else so
            which = "NEW" if olds else "OLD"
            note = (f"not compared: {which} ({lacking.tool or 'another tool'}) has no {cat.value} components")
            cats.append(CategoryDiff(cat, compared=False, note=note))
            notes.append(f"{cat.value}: {note}")
            continue
        pairs, lo, ln, okeys, nkeys = _match(olds, news, _compatible(cat))
        for side, comps, keys in (("old", olds, okeys), ("new", news, nkeys)):
            # Same identity, version and ref: listed twice (one package in two site directories
            # has two refs and is not a duplicate).
            seen = Counter((_display_identity(keys[i], c), c.version, c.ref) for i, c in enumerate(comps))
            duplicates.extend((side, cat.value, k, v, n) for (k, v, _), n in seen.items() if n > 1)
        changed: List[Change] = []
        for i, j in pairs:
            o, n = olds[i], news[j]
            if o == n:
                continue
            fc = _field_changes(o, n, include_volatile)
            if not fc:
                continue
            others = any(f.field != "version" for f in fc)
            vc, eco = _classify(o, n, others)
            changed.append(Change(_display_identity(okeys[i], o), o, n, tuple(fc), vc, eco))
        added = tuple(sorted(((_display_identity(nkeys[j], news[j]), news[j]) for j in ln), key=_sort_key))
        removed = tuple(sorted(((_display_identity(okeys[i], olds[i]), olds[i]) for i in lo), key=_sort_key))
        changed.sort(key=lambda ch: (ch.new.name.lower(), ch.identity))
        cd = CategoryDiff(cat, added, removed, tuple(changed))
        cats.append(cd)
        notable.extend(_notables(cd))
    if not both_cbom:
        # Documents of other tools (Syft, Trivy, cyclonedx-py) inventory software only: say
        # what was not compared rather than let "no differences" cover hardware and network.
        absent = [cat.value for cat in Category if not by_o.get(cat) and not by_n.get(cat)]
        if absent:
            notes.append(f"categories not compared: {', '.join(absent)}: neither OLD ({so.tool or 'another tool'}) "
                         f"nor NEW ({sn.tool or 'another tool'}) has components of these categories")
    host = _host_changes(old, new, include_volatile)
    for f in host:
        if f.field.startswith("property:") and _SECURE_BOOT.search(f.field):
            notable.extend(_secure_boot(f, "host", "host"))
    if any(f.field == "serial" for f in host) and old.host.serial and new.host.serial:
        notable.append(Notable(Severity.HIGH, "CBOM-DIFF-MACHINE-SERIAL", "host", "host",
                               f"machine serial number changed {old.host.serial} → {new.host.serial}"))
    fo = {f.ref: f for f in old.findings}
    fn = {f.ref: f for f in new.findings}
    f_added = tuple(sorted((f for r, f in fn.items() if r not in fo), key=lambda f: (f.severity_rank, f.id)))
    f_removed = tuple(sorted((f for r, f in fo.items() if r not in fn), key=lambda f: (f.severity_rank, f.id)))
    for f in f_added:
        notable.append(Notable(f.severity, f.id, "finding", f.ref, f"new finding: {f.title}"))
    notes.extend(_run_notes(old, new))
    notable.sort(key=lambda x: (_SEV_ORDER[x.severity], x.category, x.id, x.identity))
    return Diff(so, sn, tuple(cats), tuple(notable), tuple(host), f_added, f_removed,
                tuple(sorted(duplicates)), tuple(notes), include_volatile)


def _sort_key(item: Tuple[str, Component]) -> Tuple[str, str, str]:
    ident, c = item
    return (c.name.lower(), c.version, ident)


# --- reading --------------------------------------------------------------------------------------


def _tool_name(doc: dict) -> str:
    tools = (doc.get("metadata") or {}).get("tools") or []
    if isinstance(tools, dict):
        tools = list(tools.get("components") or []) + list(tools.get("services") or [])
    for t in tools if isinstance(tools, list) else []:
        if isinstance(t, dict) and t.get("name"):
            return f"{t['name']} {t.get('version', '')}".strip()
    return ""


def read_scan(path: str) -> Side:
    """Read one CycloneDX JSON file. Raises DiffError with one line saying what is wrong."""
    try:
        doc = cyclonedx.read_json(path)
        scan = cyclonedx.from_dict(doc, source=path)
    except cyclonedx.ReadError as exc:
        raise DiffError(str(exc)) from None
    return Side(scan, path, str(doc["specVersion"]), _tool_name(doc))


# --- writers --------------------------------------------------------------------------------------


def display_name(c: Component) -> str:
    """How a component is named in a report (a listening service by protocol/port/process)."""
    if c.category in (Category.LISTENING_SERVICE, Category.OBSERVED_HOST):
        return _label(c)
    return c.name


def _comp_json(ident: str, c: Component) -> Dict[str, str]:
    return {"identity": ident, "name": display_name(c), "version": c.version, "purl": c.purl, "bom-ref": c.ref}


def _side_json(s: Side) -> Dict[str, Any]:
    cats = Counter(c.category.value for c in s.scan.components)
    return {
        "file": s.file, "serialNumber": s.scan.id, "timestamp": _when(s),
        "host": s.scan.host.name, "hostSerial": s.scan.host.serial, "tool": s.tool, "specVersion": s.spec,
        "components": len(s.scan.components), "categories": {k: cats[k] for k in sorted(cats)},
    }


def to_json(d: Diff) -> Dict[str, Any]:
    """The diff as JSON-able dicts (schema in this module's docstring)."""
    def fc(f: FieldChange) -> Dict[str, str]:
        return {"field": f.field, "old": f.old, "new": f.new}

    def finding(f: Finding) -> Dict[str, str]:
        return {"id": f.id, "severity": f.severity.value, "title": f.title, "bom-ref": f.ref}

    cats = []
    for c in d.categories:
        cats.append({
            "category": c.category.value, "compared": c.compared, "note": c.note,
            "added": [_comp_json(i, x) for i, x in c.added],
            "removed": [_comp_json(i, x) for i, x in c.removed],
            "changed": [{
                "identity": ch.identity, "name": display_name(ch.new),
                "old": _comp_json(ch.identity, ch.old), "new": _comp_json(ch.identity, ch.new),
                "version": ({"old": ch.old.version, "new": ch.new.version, "ecosystem": ch.ecosystem,
                             "change": ch.version_change} if ch.old.version != ch.new.version or ch.version_change else None),
                "fields": [fc(f) for f in ch.fields],
            } for ch in c.changed],
        })
    return {
        "schema": SCHEMA,
        "identical": d.identical,
        "include_volatile": d.include_volatile,
        "old": _side_json(d.old),
        "new": _side_json(d.new),
        "summary": {"added": d.count("added"), "removed": d.count("removed"), "changed": d.count("changed"),
                    "notable": len(d.notable), "findings_added": len(d.findings_added),
                    "findings_removed": len(d.findings_removed), "host_changed": len(d.host)},
        "notable": [{"severity": n.severity.value, "id": n.id, "category": n.category,
                     "identity": n.identity, "title": n.title} for n in d.notable],
        "host": [fc(f) for f in d.host],
        "categories": cats,
        "findings": {"added": [finding(f) for f in d.findings_added],
                     "removed": [finding(f) for f in d.findings_removed]},
        "duplicates": [{"side": s, "category": c, "identity": i, "version": v, "count": n}
                       for s, c, i, v, n in d.duplicates],
        "notes": list(d.notes),
    }


_ARROW = "→"


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(s: Side) -> str:
    # The reader puts the epoch when metadata.timestamp is missing (cyclonedx-py --output-reproducible).
    return "" if s.scan.started.timestamp() == 0 else s.scan.started.isoformat().replace("+00:00", "Z")


def _describe_side(label: str, s: Side) -> str:
    when = s.scan.started.strftime("%Y-%m-%d %H:%M UTC") if _when(s) else "no timestamp"
    tool = f", {s.tool}" if s.tool else ""
    return f"{label}: {s.file or '(scan)'}  host {s.scan.host.name or '?'}, scanned {when}{tool}, {len(s.scan.components)} components"


def text_lines(d: Diff) -> List[str]:
    """The readable summary: header, notable changes, counts per category, a table per category."""
    lines = [_describe_side("OLD", d.old), _describe_side("NEW", d.new), ""]
    if d.identical:
        lines.append("No differences" + (" (volatile fields compared too)." if d.include_volatile else
                                         " (volatile fields such as times and counters ignored; --all compares them)."))
    if d.notable:
        lines.append(f"Notable changes ({len(d.notable)})")
        for n in d.notable:
            lines.append(f"  {n.severity.value.upper():<8} {n.category:<18} {_short(n.title, 100)}")
        lines.append("")
    rows = [c for c in d.categories]
    if rows:
        lines.append(f"  {'category':<20}{'added':>7}{'removed':>9}{'changed':>9}")
        for c in rows:
            if c.compared:
                lines.append(f"  {c.category.value:<20}{len(c.added):>7}{len(c.removed):>9}{len(c.changed):>9}")
            else:
                lines.append(f"  {c.category.value:<20}{'not compared':>25}")
        lines.append(f"  {'total':<20}{d.count('added'):>7}{d.count('removed'):>9}{d.count('changed'):>9}")
        lines.append("")
    if d.host:
        lines.append("Machine")
        for f in d.host:
            lines.append(f"  ~ {f.field}: {_short(f.old, 60) or '(none)'} {_ARROW} {_short(f.new, 60) or '(none)'}")
        lines.append("")
    for c in d.categories:
        if c.empty:
            continue
        lines.append(f"{c.category.value} (+{len(c.added)} -{len(c.removed)} ~{len(c.changed)})")
        for ident, x in c.added:
            lines.append(f"  + {_short(display_name(x), 40):<40} {_short(x.version, 30):<30} {_short(_extra(x), 40)}".rstrip())
        for ident, x in c.removed:
            lines.append(f"  - {_short(display_name(x), 40):<40} {_short(x.version, 30):<30} {_short(_extra(x), 40)}".rstrip())
        for ch in c.changed:
            head = f"  ~ {_short(display_name(ch.new), 40):<40}"
            if ch.old.version != ch.new.version:
                head += f" {ch.old.version or '(none)'} {_ARROW} {ch.new.version or '(none)'}"
            if ch.version_change:
                head += f"  [{ch.version_change.upper() if ch.version_change == 'downgrade' else ch.version_change}]"
            lines.append(head)
            for f in ch.fields:
                if f.field == "version":
                    continue
                lines.append(f"      {f.field}: {_short(f.old, 50) or '(none)'} {_ARROW} {_short(f.new, 50) or '(none)'}")
        lines.append("")
    if d.findings_added or d.findings_removed:
        lines.append("Findings")
        for f in d.findings_added:
            lines.append(f"  + {f.severity.value.upper():<8} {f.id}: {_short(f.title, 80)}")
        for f in d.findings_removed:
            lines.append(f"  - {f.severity.value.upper():<8} {f.id}: {_short(f.title, 80)}")
        lines.append("")
    if d.duplicates:
        lines.append("Duplicated components (listed more than once in one file)")
        for s, cat, ident, ver, n in d.duplicates:
            lines.append(f"  {s.upper()}: {cat} {_short(ident, 60)} {ver} x{n}")
        lines.append("")
    if d.notes:
        lines.append("Notes")
        lines.extend(f"  - {n}" for n in d.notes)
        lines.append("")
    return lines


def _extra(c: Component) -> str:
    if c.category == Category.LISTENING_SERVICE:
        return ", ".join(c.props("cbom:address"))
    if c.category in (Category.NETWORK_INTERFACE, Category.OBSERVED_HOST):
        return " ".join(x for x in (c.prop(MAC), _first(c, IP_PROPS)) if x)
    if c.category == Category.HARDWARE:
        return _location(c) or c.manufacturer
    return c.purl and _purl_sans_version(c.purl).split("?")[0]


def write_text(d: Diff) -> str:
    return "\n".join(text_lines(d)).rstrip("\n") + "\n"


# --- HTML / PDF -----------------------------------------------------------------------------------

TEMPLATE = "diff.html.j2"


def _view(d: Diff) -> Dict[str, Any]:
    j = to_json(d)
    sev_rank = {s.value: i for i, s in enumerate(Severity)}
    j["notable"].sort(key=lambda n: sev_rank.get(n["severity"], 99))
    j["old_label"] = _describe_side("OLD", d.old)
    j["new_label"] = _describe_side("NEW", d.new)
    j["text"] = write_text(d)
    return j


def render_html(d: Diff) -> str:
    """A self-contained HTML page of the diff (inline CSS, no external references)."""
    import jinja2

    from .report import templates_dir

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    try:
        return env.get_template(TEMPLATE).render(d=_view(d))
    except jinja2.TemplateNotFound:
        raise DiffError(f"template {TEMPLATE} not found in {templates_dir()}") from None


def render_pdf(d: Diff) -> bytes:
    """The HTML diff as PDF through the report's WeasyPrint set-up (nothing fetched)."""
    from .report import ReportUnavailable, html_to_pdf

    try:
        return html_to_pdf(render_html(d))
    except ReportUnavailable as exc:
        raise DiffError(str(exc)) from None


# --- command --------------------------------------------------------------------------------------


def _out(data: bytes, output: Optional[str]) -> None:
    if output is None:
        sys.stdout.buffer.write(data) if hasattr(sys.stdout, "buffer") else sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()
        return
    from .output import atomic_write

    path = Path(output)
    atomic_write(path, data)


def command(args: Any) -> int:
    """`cbom diff`: exit 0 no differences, 1 differences, 2 error (one line on stderr)."""
    fmt = getattr(args, "format", "text") or "text"
    output = getattr(args, "output", None)
    try:
        if fmt == "pdf" and not output:
            raise DiffError("--format pdf needs -o FILE (PDF is not written to a terminal)")
        old, new = read_scan(args.old), read_scan(args.new)
        why = machine_mismatch(old, new)
        if why and not getattr(args, "force", False):
            raise DiffError(f"{args.old} and {args.new} are scans of different machines: {why} (use --force to diff anyway)")
        d = diff_scans(old.scan, new.scan, include_volatile=bool(getattr(args, "all", False)),
                       old_side=old, new_side=new)
        if why:
            d = replace(d, notes=(f"different machines ({why}); compared because of --force",) + d.notes)
        if fmt == "json":
            data = (json.dumps(to_json(d), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        elif fmt == "html":
            data = render_html(d).encode("utf-8")
        elif fmt == "pdf":
            data = render_pdf(d)
        else:
            data = write_text(d).encode("utf-8")
        _out(data, output)
    except DiffError as exc:
        print(f"cbom diff: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # writing -o FILE
        print(f"cbom diff: cannot write {output or 'output'}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_SAME if d.identical else EXIT_DIFFERENT
