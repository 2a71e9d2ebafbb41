"""The diff's writers: readable text, JSON (schema below), and HTML/PDF through `cbom.render`.

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
from collections import Counter
from typing import Any, Callable, Dict, List

from ..document import clean
from ..model import Component, Finding, Severity
from ..render import MissingTemplate, ReportUnavailable, html_to_pdf, render
from .categories import display_name, rules_for
from .model import Diff, DiffError, FieldChange, Side

__all__ = ["SCHEMA", "FORMATS", "to_json", "text_lines", "write_text", "render_html", "render_pdf"]

SCHEMA = "cbom-diff/1"
TEMPLATE = "diff.html.j2"
_ARROW = "→"


# --- JSON -----------------------------------------------------------------------------------------


def _when(s: Side) -> str:
    # The reader puts the epoch when metadata.timestamp is missing (cyclonedx-py --output-reproducible).
    return "" if s.scan.started.timestamp() == 0 else s.scan.started.isoformat().replace("+00:00", "Z")


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
                             "change": ch.version_change}
                            if ch.old.version != ch.new.version or ch.version_change else None),
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


# --- text -----------------------------------------------------------------------------------------


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _describe_side(label: str, s: Side) -> str:
    when = s.scan.started.strftime("%Y-%m-%d %H:%M UTC") if _when(s) else "no timestamp"
    tool = f", {s.tool}" if s.tool else ""
    return (f"{label}: {s.file or '(scan)'}  host {s.scan.host.name or '?'}, scanned {when}{tool}, "
            f"{len(s.scan.components)} components")


def _extra(c: Component) -> str:
    return rules_for(c.category).extra(c)


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
    if d.categories:
        lines.append(f"  {'category':<20}{'added':>7}{'removed':>9}{'changed':>9}")
        for c in d.categories:
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
        for sign, items in (("+", c.added), ("-", c.removed)):
            for _ident, x in items:
                lines.append(f"  {sign} {_short(display_name(x), 40):<40} {_short(x.version, 30):<30} "
                             f"{_short(_extra(x), 40)}".rstrip())
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
                old, new = _short(f.old, 50) or "(none)", _short(f.new, 50) or "(none)"
                lines.append(f"      {f.field}: {old} {_ARROW} {new}")
        lines.append("")
    if d.findings_added or d.findings_removed:
        lines.append("Findings")
        for sign, findings in (("+", d.findings_added), ("-", d.findings_removed)):
            for fd in findings:
                lines.append(f"  {sign} {fd.severity.value.upper():<8} {fd.id}: {_short(fd.title, 80)}")
        lines.append("")
    if d.duplicates:
        lines.append("Duplicated components (listed more than once in one file)")
        for s, cat, ident, ver, count in d.duplicates:
            lines.append(f"  {s.upper()}: {cat} {_short(ident, 60)} {ver} x{count}")
        lines.append("")
    if d.notes:
        lines.append("Notes")
        lines.extend(f"  - {note}" for note in d.notes)
        lines.append("")
    return lines


def write_text(d: Diff) -> str:
    """The readable summary as one string ending in a newline.

    It goes to a terminal: every line is cleaned (names learned from a network or a file may hold
    ESC sequences that clear the screen or set the title, NUL, BEL, newlines)."""
    return "\n".join(clean(line, one_line=True) for line in text_lines(d)).rstrip("\n") + "\n"


# --- HTML / PDF -----------------------------------------------------------------------------------


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
    try:
        return render(TEMPLATE, d=_view(d))
    except MissingTemplate as exc:
        raise DiffError(str(exc)) from None


def render_pdf(d: Diff) -> bytes:
    """The HTML diff as PDF through the report's engine choice (WeasyPrint, else a browser; nothing fetched)."""
    try:
        return html_to_pdf(render_html(d))
    except ReportUnavailable as exc:
        raise DiffError(str(exc)) from None


# --format name -> the bytes written (to standard output or -o FILE).
FORMATS: Dict[str, Callable[[Diff], bytes]] = {
    "text": lambda d: write_text(d).encode("utf-8"),
    "json": lambda d: (json.dumps(to_json(d), indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
    "html": lambda d: render_html(d).encode("utf-8"),
    "pdf": render_pdf,
}
