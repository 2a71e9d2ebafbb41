"""Pure functions for the report section "Known vulnerabilities and end of life" and for the diff.

They see only `model.Scan`; the report template and `cbom diff` call them (no I/O, no database).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Dict, List, Sequence, Tuple

from ..model import Scan, Severity, VulnKind, Vulnerability
from .. import vocabulary as V
from ._db import STALE_DAYS


@dataclass(frozen=True)
class ReportRow:
    """One component of the section, with its vulnerabilities, most urgent first."""

    ref: str
    component: str  # "windows 6.1.7601 (Microsoft Windows 7 Enterprise)"
    worst: Severity
    exploited: int  # how many of its vulnerabilities have a known exploit
    end_of_life: Tuple[Vulnerability, ...]
    vulnerabilities: Tuple[Vulnerability, ...]


@dataclass(frozen=True)
class VulnChange:
    """A vulnerability present in one scan and not in the other, for one component (by ref)."""

    change: str  # "fixed" (in old, not in new) or "introduced" (in new, not in old)
    id: str
    ref: str
    component: str
    severity: Severity
    title: str


def _urgency(v: Vulnerability) -> Tuple[int, int, float, str]:
    # Severity first, then a known exploit, then the CVSS score, then the id for a stable order.
    return (v.severity_rank, 0 if v.exploited else 1, -(v.score or 0.0), v.id)


def report_rows(scan: Scan) -> List[ReportRow]:
    """Rows grouped by component, components ordered by their worst (severity, exploitability)."""
    names = {c.ref: f"{c.name} {c.version}".strip() + (f" ({c.description})" if c.description else "")
             for c in scan.components}
    by_ref: Dict[str, List[Vulnerability]] = {}
    for v in scan.vulnerabilities:
        for ref in v.refs or ("",):
            by_ref.setdefault(ref, []).append(v)
    rows = []
    for ref, vs in by_ref.items():
        vs.sort(key=_urgency)
        eol = tuple(v for v in vs if v.kind == VulnKind.END_OF_LIFE)
        vulns = tuple(v for v in vs if v.kind != VulnKind.END_OF_LIFE)
        rows.append(ReportRow(ref=ref, component=names.get(ref, ref), worst=vs[0].severity,
                              exploited=sum(1 for v in vulns if v.exploited), end_of_life=eol, vulnerabilities=vulns))
    rows.sort(key=lambda r: (list(Severity).index(r.worst), -r.exploited, -len(r.vulnerabilities), r.component))
    return rows


def stale_warning(knowledge_date: str, today: date, limit_days: int = STALE_DAYS) -> str:
    """"" or the one-line warning that the database is older than `limit_days`."""
    if not knowledge_date:
        return "the vulnerability database states no date: its knowledge cannot be dated"
    age = (today - date.fromisoformat(knowledge_date[:10])).days
    if age > limit_days:
        return (f"the vulnerability database is {age} days old (knowledge as of {knowledge_date[:10]}, "
                f"more than {limit_days} days): vulnerabilities published since are not reported")
    return ""


def knowledge_line(scan: Scan) -> Tuple[str, str]:
    """("knowledge as of 2026-06-28", stale warning or "") from a scan's properties; ("", "") without a database."""
    props = dict(scan.properties)
    day = props.get(V.VULNDB_KNOWLEDGE_DATE)
    if day is None:
        return "", ""
    return (f"knowledge as of {day}" if day else "knowledge of unknown date"), props.get(V.VULNDB_STALE, "")


def vulnerability_changes(old: Scan, new: Scan) -> List[VulnChange]:
    """Vulnerabilities fixed (in `old` only) and introduced (in `new` only), matched by (id, component ref).

    Both scans must have been matched (a scan without a database has no vulnerabilities: everything
    of the other would look fixed or introduced; callers check `knowledge_line` of both first).
    """
    def index(scan: Scan) -> Dict[Tuple[str, str], Tuple[str, str, Vulnerability]]:
        # A package's ref changes with its version (it derives from the PURL): the component is
        # identified by its PURL without version, or category/group/name, so that an upgrade that
        # fixes a vulnerability shows as "fixed", not as one fixed and one introduced.
        comps = {c.ref: c for c in scan.components}
        out = {}
        for v in scan.vulnerabilities:
            for r in v.refs:
                c = comps.get(r)
                key = (c.purl.split("@")[0] if c.purl else f"{c.category.value}/{c.group}/{c.name}") if c else r
                out[(v.id, key)] = (r, f"{c.name} {c.version}".strip() if c else r, v)
        return out

    a, b = index(old), index(new)
    out = [VulnChange("fixed", k[0], r, n, v.severity, v.title) for k, (r, n, v) in a.items() if k not in b]
    out += [VulnChange("introduced", k[0], r, n, v.severity, v.title) for k, (r, n, v) in b.items() if k not in a]
    out.sort(key=lambda c: (c.change, list(Severity).index(c.severity), c.component, c.id))
    return out


def severity_counts(vulns: Sequence[Vulnerability]) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for v in vulns:
        out[v.severity.value] = out.get(v.severity.value, 0) + 1
    return out
