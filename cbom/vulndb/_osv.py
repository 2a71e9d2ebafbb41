"""OSV records (ossf.github.io/osv-schema) as their publishers distribute them.

Accepted: an OSV export zip (osv.dev's `<ecosystem>/all.zip`: one `<ID>.json` per record), a folder
of `.json` records, or of `.yaml` records (pypa/advisory-database keeps OSV in YAML). Each record
gives `affected[]`: a package (`ecosystem`, `name`), `ranges[]` of `type` ECOSYSTEM, SEMVER or GIT
with ordered `events` (`introduced`, `fixed`, `last_affected`, `limit`), and an explicit
`versions[]` list.

Range semantics (OSV schema 1.6, "Evaluation"): events are sorted by version; a version is
affected after an `introduced` at or below it, until a `fixed` at or below it, or a
`last_affected` strictly below it. "0" as `introduced` means every version. `limit` only bounds
GIT ranges, which name commits: they cannot be evaluated from a package version and are skipped
(their `versions[]`, when given, still count). Versions are ordered the ecosystem's way: dpkg's for
Debian and Ubuntu, PEP 440 for PyPI, rpm's for the Red Hat family, SemVer-like otherwise.
"""
from __future__ import annotations

import functools
import json
import re
import zipfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import yaml

from .._versions import compare_debian, compare_generic, compare_pep440, compare_rpm_evr
from ._db import Builder, SourceInfo
from ._wesng import SourceError

URL = "https://osv.dev"

_DEBIAN_LIKE = ("Debian", "Ubuntu")
_RPM_LIKE = ("Red Hat", "AlmaLinux", "Rocky Linux", "openSUSE", "SUSE", "Mageia", "openEuler")


def ecosystem_family(ecosystem: str) -> str:
    """ "Debian:11" -> "Debian", "Ubuntu:Pro:18.04:LTS" -> "Ubuntu", "PyPI" -> "PyPI"."""
    return ecosystem.split(":", 1)[0]


@functools.lru_cache(maxsize=65536)
def _pep440_key(version: str) -> Optional[Any]:
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - packaging is a dependency
        return None
    try:
        return Version(version)
    except InvalidVersion:
        return None


def _compare_pep440_cached(a: str, b: str) -> int:
    """compare_pep440 with each version parsed once: a scan compares the same bounds thousands of times."""
    ka, kb = _pep440_key(a), _pep440_key(b)
    if ka is None or kb is None:
        return compare_pep440(a, b)
    return (ka > kb) - (ka < kb)


def comparator(ecosystem: str) -> Callable[[str, str], int]:
    family = ecosystem_family(ecosystem)
    if family in _DEBIAN_LIKE:
        return compare_debian
    if family == "PyPI":
        return _compare_pep440_cached
    if family in _RPM_LIKE:
        return compare_rpm_evr
    return compare_generic


def normal_name(ecosystem: str, name: str) -> str:
    """Package names as the ecosystem compares them (PEP 503 for PyPI)."""
    if ecosystem_family(ecosystem) == "PyPI":
        return re.sub(r"[-_.]+", "-", name).lower()
    return name


def range_affects(events: Sequence[Dict[str, str]], version: str, cmp: Callable[[str, str], int]) -> bool:
    """Whether `version` lies in one OSV ECOSYSTEM/SEMVER range (see the module docstring)."""
    keyed: List[Tuple[str, str]] = []
    for ev in events:
        for kind in ("introduced", "fixed", "last_affected"):
            if kind in ev:
                keyed.append((kind, str(ev[kind])))

    def order(a: Tuple[str, str], b: Tuple[str, str]) -> int:
        if a[1] == b[1]:
            return 0
        if a[0] == "introduced" and a[1] == "0":
            return -1
        if b[0] == "introduced" and b[1] == "0":
            return 1
        return cmp(a[1], b[1])

    affected = False
    for kind, at in sorted(keyed, key=functools.cmp_to_key(order)):
        c = -1 if (kind == "introduced" and at == "0") else cmp(at, version)
        if kind == "introduced" and c <= 0:
            affected = True
        elif kind == "fixed" and c <= 0:
            affected = False
        elif kind == "last_affected" and c < 0:
            affected = False
    return affected


def affects(ranges: Sequence[Dict[str, Any]], versions: Sequence[str], ecosystem: str, version: str) -> bool:
    if version in versions:
        return True
    cmp = comparator(ecosystem)
    for r in ranges:
        if r.get("type") in ("ECOSYSTEM", "SEMVER") and range_affects(r.get("events") or [], version, cmp):
            return True
    return False


def describe_ranges(ranges: Sequence[Dict[str, Any]]) -> str:
    """ "introduced 2.3.0, fixed 2.31.0" for the CBOM's `affects` range text."""
    parts = []
    for r in ranges:
        if r.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue
        for ev in r.get("events") or []:
            for k, v in ev.items():
                parts.append(f"{k} {v}")
    return ", ".join(parts)


_VERS_SCHEMES = {"PyPI": "pypi", "Debian": "deb", "Ubuntu": "deb", "npm": "npm"}


def to_vers(ecosystem: str, ranges: Sequence[Dict[str, Any]]) -> str:
    """The range as a package-url VERS string ("vers:pypi/>=2.3.0|<2.31.0"), or "" when not exact.

    Only one ECOSYSTEM/SEMVER range of a known scheme is written: several ranges would need their
    constraints merged in version order, which VERS requires and OSV does not promise.
    """
    scheme = _VERS_SCHEMES.get(ecosystem_family(ecosystem))
    usable = [r for r in ranges if r.get("type") in ("ECOSYSTEM", "SEMVER")]
    if not scheme or len(usable) != 1:
        return ""
    parts = []
    for ev in usable[0].get("events") or []:
        for kind, op in (("introduced", ">="), ("fixed", "<"), ("last_affected", "<=")):
            if kind in ev and not (kind == "introduced" and str(ev[kind]) == "0"):
                parts.append(f"{op}{ev[kind]}")
    if any("|" in p for p in parts):
        return ""
    return f"vers:{scheme}/" + ("|".join(parts) if parts else "*")


def fixed_versions(ranges: Sequence[Dict[str, Any]]) -> List[str]:
    return [str(ev["fixed"]) for r in ranges if r.get("type") in ("ECOSYSTEM", "SEMVER")
            for ev in r.get("events") or [] if "fixed" in ev]


# --- reading records ---------------------------------------------------------------------------------

def is_record(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("id"), str) and "modified" in doc \
        and isinstance(doc.get("affected", []), list)


def parse_record(raw: bytes, label: str) -> Dict[str, Any]:
    """One OSV record from JSON or YAML bytes; SourceError when it is not one."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{label}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        if label.endswith((".yaml", ".yml")):
            # libyaml's loader when PyYAML has it: ~10x faster on a full advisory database
            doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        else:
            doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{label}: malformed JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except yaml.YAMLError as exc:
        raise SourceError(f"{label}: malformed YAML ({str(exc).splitlines()[0]})") from None
    if not is_record(doc):
        raise SourceError(f"{label}: not an OSV record (no \"id\"/\"modified\")")
    return doc


def _severity(doc: Dict[str, Any]) -> Tuple[str, str]:
    """(CVSS vector or "", severity word or "") as the record states them."""
    vector = ""
    for s in doc.get("severity") or []:
        if isinstance(s, dict) and str(s.get("type", "")).startswith("CVSS") and s.get("score"):
            vector = str(s["score"])
    word = ""
    for holder in [doc.get("database_specific")] + [a.get("ecosystem_specific") for a in doc.get("affected") or []
                                                      if isinstance(a, dict)]:
        if isinstance(holder, dict):
            # GHSA/PyPA: database_specific.severity; Debian: urgency; Ubuntu: ubuntu_priority
            value = holder.get("severity") or holder.get("urgency") or holder.get("ubuntu_priority")
            if isinstance(value, str) and value:
                word = value
                break
    if not word:
        for s in doc.get("severity") or []:
            if isinstance(s, dict) and s.get("type") == "Ubuntu" and s.get("score"):
                word = str(s["score"])
    return vector, word


def _url(doc: Dict[str, Any]) -> str:
    refs = [r for r in doc.get("references") or [] if isinstance(r, dict) and r.get("url")]
    for kind in ("ADVISORY", "WEB"):
        for r in refs:
            if r.get("type") == kind:
                return str(r["url"])
    return f"https://osv.dev/vulnerability/{doc['id']}"


def iter_zip(zf: zipfile.ZipFile, label: str) -> Iterator[Tuple[str, bytes]]:
    for name in zf.namelist():
        if name.endswith((".json", ".yaml", ".yml")):
            try:
                yield f"{label}:{name}", zf.read(name)
            except (zipfile.BadZipFile, EOFError, OSError) as exc:  # zlib.error is caught by the caller
                raise SourceError(f"{label}: {name}: unreadable ({exc})".splitlines()[0]) from None


def record_files(folder: Path) -> List[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".json", ".yaml", ".yml") and p.is_file())


def iter_files(files: Iterable[Path]) -> Iterator[Tuple[str, bytes]]:
    for path in files:
        try:
            yield str(path), path.read_bytes()
        except OSError as exc:
            raise SourceError(f"{path}: unreadable ({exc.strerror or exc})") from None


def load_records(items: Iterable[Tuple[str, bytes]], label: str, builder: Builder, licence: str) -> SourceInfo:
    info = SourceInfo(kind="osv", name="OSV records", path=label, date="", licence=licence, url=URL, records=0)
    source_id = builder.add_source(info)
    vulns: List[tuple] = []
    affected: List[tuple] = []
    ecosystems: Dict[str, int] = {}
    newest = ""
    seen = set()
    for where, raw in items:
        doc = parse_record(raw, where)
        vid = doc["id"]
        if vid in seen or doc.get("withdrawn"):
            continue
        seen.add(vid)
        modified = str(doc.get("modified") or "")
        newest = max(newest, modified[:10])
        vector, word = _severity(doc)
        aliases = [str(a) for a in doc.get("aliases") or []]
        vulns.append((vid, source_id, str(doc.get("summary") or doc.get("details") or "")[:300].split("\n")[0],
                       json.dumps(aliases), str(doc.get("published") or "")[:10], modified[:10], vector, word,
                       _url(doc)))
        for a in doc.get("affected") or []:
            pkg = a.get("package") if isinstance(a, dict) else None
            if not isinstance(pkg, dict) or not pkg.get("ecosystem") or not pkg.get("name"):
                continue
            eco = str(pkg["ecosystem"])
            ecosystems[ecosystem_family(eco)] = ecosystems.get(ecosystem_family(eco), 0) + 1
            ranges = [{"type": r.get("type"), "events": r.get("events") or []}
                      for r in a.get("ranges") or [] if isinstance(r, dict)]
            affected.append((vid, eco, normal_name(eco, str(pkg["name"])), json.dumps(ranges),
                             json.dumps([str(v) for v in a.get("versions") or []])))
    if not vulns:
        raise SourceError(f"{label}: no OSV record found")
    builder.con.executemany("INSERT OR IGNORE INTO osv_vuln VALUES (?,?,?,?,?,?,?,?,?)", vulns)
    builder.con.executemany("INSERT INTO osv_affected VALUES (?,?,?,?,?)", affected)
    fams = ", ".join(f"{k}" for k in sorted(ecosystems))
    builder.con.execute("UPDATE sources SET name = ?, date = ?, records = ? WHERE id = ?",
                        (f"OSV records ({fams})", newest, len(vulns), source_id))
    return SourceInfo("osv", f"OSV records ({fams})", label, newest, licence, URL, len(vulns))


def licence_of(folder: Optional[Path]) -> str:
    """The licence a folder's LICENSE file names (pypa/advisory-database: CC-BY-4.0), else a note."""
    if folder is not None:
        for name in ("LICENSE", "LICENSE.txt", "LICENSE.md", "COPYING"):
            p = folder / name
            if p.is_file():
                head = p.read_text(encoding="utf-8", errors="replace")[:400]
                for pat, spdx in (("Attribution 4.0", "CC-BY-4.0"), ("Apache License", "Apache-2.0"),
                                  ("MIT License", "MIT"), ("CC0", "CC0-1.0")):
                    if pat in head:
                        return spdx
                return head.strip().splitlines()[0][:80]
    return "per record publisher (OSV export)"
