"""The diff of two scans: pairs components (`match`), compares their fields, classifies versions.

Version changes are ordered by the package's ecosystem (`cbom._versions`):
Debian (dpkg, epochs, `~`, `+bN` binNMU = rebuild), RPM (rpmvercmp with `~`/`^`,
epoch), PEP 440 (PyPI), and a generic semantic-ish order for the rest
(firmware, drivers). Volatile values (scan times, uptime, boot time, packet
and byte counters, PIDs, install dates, the BOM serial number and collector
durations) are ignored unless `include_volatile` / `--all`.

Several components with one identity (an RPM `kernel` installed twice) are
paired by ref, then exact content, then version; a component listed twice with
the same identity and version is reported under `duplicates`.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Dict, List, Optional, Tuple

from .._versions import compare_versions, is_debian_rebuild
from ..cyclonedx import conversation_property
from ..model import Category, Component, Scan
from .categories import MACHINE_ID_PROPS, SOURCE_PROPS, first, identity, rules_for
from .match import match
from .model import CategoryDiff, Change, Diff, FieldChange, Notable, Side
from .purl import purl_sans_version, split_purl
from .rules import category_notables, finding_notables, host_notables, ordered

__all__ = ["diff_scans", "ecosystem_of", "is_volatile", "machine_mismatch"]

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


def ecosystem_of(c: Component) -> Tuple[str, str]:
    """(ecosystem, version as that ecosystem writes it) for ordering `c`'s versions."""
    p = split_purl(c.purl) if c.purl else None
    typ = p[0] if p else ""
    manager = first(c, SOURCE_PROPS).lower()
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


# --- field comparison -----------------------------------------------------------------------------

_SCALARS = ("kind", "name", "group", "manufacturer", "supplier", "publisher", "description")


def _prop_map(c: Component, include_volatile: bool) -> Dict[str, Tuple[str, ...]]:
    """Properties by name, a component's conversations among them in their written form."""
    out: Dict[str, List[str]] = defaultdict(list)
    for k, v in c.properties + tuple(conversation_property(t) for t in c.conversations):
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
        a, b = purl_sans_version(o.purl), purl_sans_version(n.purl)
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
    if o.properties != n.properties or o.conversations != n.conversations:
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
        for f, was, now in (("serialNumber", old.id, new.id),
                            ("timestamp", old.started.isoformat(), new.started.isoformat()),
                            ("tool", old.tool_version, new.tool_version)):
            if was != now:
                out.append(FieldChange(f"bom:{f}", was, now))
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


def _sort_key(item: Tuple[str, Component]) -> Tuple[str, str, str]:
    ident, c = item
    return (c.name.lower(), c.version, ident)


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
        pairs, lo, ln, okeys, nkeys = match(olds, news, rules_for(cat))
        for side, comps, keys in (("old", olds, okeys), ("new", news, nkeys)):
            # Same identity, version and ref: listed twice (one package in two site directories
            # has two refs and is not a duplicate).
            seen = Counter((identity(c, keys[i]), c.version, c.ref) for i, c in enumerate(comps))
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
            changed.append(Change(identity(o, okeys[i]), o, n, tuple(fc), vc, eco))
        added = tuple(sorted(((identity(news[j], nkeys[j]), news[j]) for j in ln), key=_sort_key))
        removed = tuple(sorted(((identity(olds[i], okeys[i]), olds[i]) for i in lo), key=_sort_key))
        changed.sort(key=lambda ch: (ch.new.name.lower(), ch.identity))
        cd = CategoryDiff(cat, added, removed, tuple(changed))
        cats.append(cd)
        notable.extend(category_notables(cd))
    if not both_cbom:
        # Documents of other tools (Syft, Trivy, cyclonedx-py) inventory software only: say
        # what was not compared rather than let "no differences" cover hardware and network.
        absent = [cat.value for cat in Category if not by_o.get(cat) and not by_n.get(cat)]
        if absent:
            notes.append(f"categories not compared: {', '.join(absent)}: neither OLD ({so.tool or 'another tool'}) "
                         f"nor NEW ({sn.tool or 'another tool'}) has components of these categories")
    host = _host_changes(old, new, include_volatile)
    notable.extend(host_notables(old, new, host))
    fo = {f.ref: f for f in old.findings}
    fn = {f.ref: f for f in new.findings}
    f_added = tuple(sorted((f for r, f in fn.items() if r not in fo), key=lambda f: (f.severity_rank, f.id)))
    f_removed = tuple(sorted((f for r, f in fo.items() if r not in fn), key=lambda f: (f.severity_rank, f.id)))
    notable.extend(finding_notables(f_added))
    notes.extend(_run_notes(old, new))
    vulns, note = _vulnerability_changes(old, new)
    notes.extend([note] if note else [])
    return Diff(so, sn, tuple(cats), tuple(ordered(notable)), tuple(host), f_added, f_removed,
                tuple(sorted(duplicates)), tuple(notes), include_volatile, vulns)


def _vulnerability_changes(old: Scan, new: Scan) -> Tuple[Tuple[object, ...], str]:
    """Known vulnerabilities fixed and introduced when both scans were matched against an offline
    database (cbom.vulndb); else none, and a note when only one of them was."""
    from ..vulndb import knowledge_line, vulnerability_changes

    matched = bool(knowledge_line(old)[0]), bool(knowledge_line(new)[0])
    if all(matched):
        return tuple(vulnerability_changes(old, new)), ""
    if any(matched):
        which = "OLD" if matched[0] else "NEW"
        return (), (f"known vulnerabilities not compared: only {which} was matched against a vulnerability "
                    "database (cbom scan/ingest/report --db)")
    return (), ""
