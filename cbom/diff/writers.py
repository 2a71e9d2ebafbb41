"""The diff's writers: readable text, JSON (schema below), and HTML/PDF through `cbom.render`.

Text, HTML and PDF speak the language of `--lang` (`translator()`: the report's catalogue,
templates/i18n/<lang>.json, and `cbom.i18n`'s numbers and dates); JSON is always English.

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
      "vulnerabilities": {"fixed": [Vuln, ...], "introduced": [Vuln, ...]},  # both scans matched (--db)
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
    Vuln        = {"id": str, "severity": str, "title": str, "component": str, "bom-ref": str}

`version.change`: `upgrade`/`downgrade` by the ecosystem's order; `rebuild` when
the version orders equal (or differs only by a Debian `+bN` binNMU suffix) but the
content changed; `same` when the version strings differ yet order equal and nothing
else changed; `changed` when a side has no version.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Any, Callable, Dict, List, Optional

from .. import i18n
from ..document import clean
from ..model import Category, Component, Finding, Severity
from ..render import MissingTemplate, ReportUnavailable, html_to_pdf, render, templates_dir
from .categories import display_name, rules_for
from .model import Diff, DiffError, FieldChange, Side

__all__ = ["SCHEMA", "FORMATS", "to_json", "text_lines", "write_text", "render_html", "render_pdf", "translator"]

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
        "vulnerabilities": {change: [{"id": v.id, "severity": v.severity.value, "title": v.title,
                                      "component": v.component, "bom-ref": v.ref}
                                     for v in d.vulnerabilities if v.change == change]
                            for change in ("fixed", "introduced")},
        "duplicates": [{"side": s, "category": c, "identity": i, "version": v, "count": n}
                       for s, c, i, v, n in d.duplicates],
        "notes": list(d.notes),
    }


# --- text -----------------------------------------------------------------------------------------
#
# Every text of the diff itself goes through a `cbom.i18n.Translator` (`--lang`, the report's
# catalogue templates/i18n/<lang>.json): labels by `t(...)`, the generated texts (notable-change
# titles, notes, field names) by `t.generated(...)`, the catalogue's patterns. English is the
# identity and prints exactly what it always printed (counts without grouping, "N components").


def translator(lang: str = "en") -> i18n.Translator:
    """The diff's texts in `lang`. ValueError or OSError (one line) when there is no such catalogue."""
    if lang == "en":
        return _EN
    return i18n.Translator(i18n.load_catalogue(str(templates_dir()), lang))


_EN = i18n.Translator()


def _num(t: i18n.Translator, n: int) -> str:
    return str(n) if t.lang == "en" else t.number(n)


def _components(t: i18n.Translator, n: int) -> str:
    return f"{n} components" if t.lang == "en" else t.plural(n, "{n} component", "{n} components")


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _short_tr(t: i18n.Translator, text: str, width: int) -> str:
    """`_short` of a translated text: the no-break spaces its typography put in are kept."""
    if t.lang == "en":
        return _short(text, width)
    # Private-use characters stand in for them while `_short` collapses the other spaces.
    marks = {i18n.NBSP: "\ue000", i18n.NNBSP: "\ue001"}
    for space, mark in marks.items():
        text = text.replace(space, mark)
    text = _short(text, width)
    for space, mark in marks.items():
        text = text.replace(mark, space)
    return text


def _describe_side(label: str, s: Side, t: i18n.Translator = _EN) -> str:
    tool = f", {s.tool}" if s.tool else ""
    fields = dict(label=t(label), file=s.file or t("(scan)"), host=s.scan.host.name or "?", tool=tool,
                  components=_components(t, len(s.scan.components)))
    if not _when(s):
        return t("{label}: {file}  host {host}, scanned no timestamp{tool}, {components}", **fields)
    when = s.scan.started.strftime("%Y-%m-%d %H:%M UTC") if t.lang == "en" else t.time(s.scan.started)
    return t("{label}: {file}  host {host}, scanned {when}{tool}, {components}", when=when, **fields)


def _extra(c: Component) -> str:
    return rules_for(c.category).extra(c)


def _name(c: Component, t: i18n.Translator) -> str:
    """How the diff names `c`: a listening service's label says "on" its addresses (a pattern)."""
    name = display_name(c)
    return t.generated(name) if c.category is Category.LISTENING_SERVICE else name


def _change(t: i18n.Translator, field: str, old: str, new: str) -> str:
    """One changed field: `name: old → new`, the field named in the diff's language."""
    return t("{field}: {old} → {new}", field=t.generated(field), old=old or t("(none)"), new=new or t("(none)"))


def text_lines(d: Diff, t: Optional[i18n.Translator] = None) -> List[str]:
    """The readable summary: header, notable changes, counts per category, a table per category."""
    t = t or _EN
    lines = [_describe_side("OLD", d.old, t), _describe_side("NEW", d.new, t), ""]
    if d.identical:
        lines.append(t("No differences (volatile fields compared too).") if d.include_volatile else
                     t("No differences (volatile fields such as times and counters ignored; --all compares them)."))
    if d.notable:
        lines.append(t("Notable changes ({n})", n=_num(t, len(d.notable))))
        width = max([18] + [len(t(n.category)) + 1 for n in d.notable])
        for n in d.notable:
            lines.append(f"  {t(n.severity.value).upper():<8} {t(n.category):<{width}} "
                         f"{_short_tr(t, t.generated(n.title), 100)}")
        lines.append("")
    if d.categories:
        heads = [t("category"), t("added"), t("removed"), t("changed")]
        cw = max([20] + [len(t(c.category.value)) + 2 for c in d.categories] + [len(heads[0]) + 2])
        aw, rw, chw = (max(w, len(h) + 2) for w, h in zip((7, 9, 9), heads[1:]))
        lines.append(f"  {heads[0]:<{cw}}{heads[1]:>{aw}}{heads[2]:>{rw}}{heads[3]:>{chw}}")
        for c in d.categories:
            if c.compared:
                lines.append(f"  {t(c.category.value):<{cw}}{_num(t, len(c.added)):>{aw}}"
                             f"{_num(t, len(c.removed)):>{rw}}{_num(t, len(c.changed)):>{chw}}")
            else:
                lines.append(f"  {t(c.category.value):<{cw}}{t('not compared'):>{aw + rw + chw}}")
        lines.append(f"  {t('total'):<{cw}}{_num(t, d.count('added')):>{aw}}{_num(t, d.count('removed')):>{rw}}"
                     f"{_num(t, d.count('changed')):>{chw}}")
        lines.append("")
    if d.host:
        lines.append(t("Machine"))
        for f in d.host:
            lines.append("  ~ " + _change(t, f.field, _short(f.old, 60), _short(f.new, 60)))
        lines.append("")
    for c in d.categories:
        if c.empty:
            continue
        lines.append(f"{t(c.category.value)} (+{_num(t, len(c.added))} -{_num(t, len(c.removed))} "
                     f"~{_num(t, len(c.changed))})")
        for sign, items in (("+", c.added), ("-", c.removed)):
            for _ident, x in items:
                lines.append(f"  {sign} {_short(_name(x, t), 40):<40} {_short(x.version, 30):<30} "
                             f"{_short(_extra(x), 40)}".rstrip())
        for ch in c.changed:
            head = f"  ~ {_short(_name(ch.new, t), 40):<40}"
            if ch.old.version != ch.new.version:
                head += f" {ch.old.version or t('(none)')} {_ARROW} {ch.new.version or t('(none)')}"
            if ch.version_change:
                head += "  " + t(f"[{ch.version_change.upper() if ch.version_change == 'downgrade' else ch.version_change}]")
            lines.append(head)
            for f in ch.fields:
                if f.field == "version":
                    continue
                lines.append("      " + _change(t, f.field, _short(f.old, 50), _short(f.new, 50)))
        lines.append("")
    if d.findings_added or d.findings_removed:
        lines.append(t("Findings"))
        for sign, findings in (("+", d.findings_added), ("-", d.findings_removed)):
            for fd in findings:
                lines.append(f"  {sign} {t(fd.severity.value).upper():<8} "
                             + t("{id}: {title}", id=fd.id, title=_short_tr(t, t.generated(fd.title), 80)))
        lines.append("")
    if d.vulnerabilities:
        lines.append(t("Known vulnerabilities"))
        for v in d.vulnerabilities:
            sign = "-" if v.change == "fixed" else "+"
            lines.append(f"  {sign} {t(v.severity.value).upper():<8} "
                         + t("{id} ({change}) in {component}", id=v.id, change=t(v.change),
                             component=_short(v.component, 60)))
        lines.append("")
    if d.duplicates:
        lines.append(t("Duplicated components (listed more than once in one file)"))
        for s, cat, ident, ver, count in d.duplicates:
            lines.append("  " + t("{side}: {category} {identity} {version} x{count}", side=t(s.upper()),
                                  category=t(cat), identity=_short(ident, 60), version=ver, count=_num(t, count)))
        lines.append("")
    if d.notes:
        lines.append(t("Notes"))
        lines.extend(f"  - {t.generated(note)}" for note in d.notes)
        lines.append("")
    return lines


def write_text(d: Diff, t: Optional[i18n.Translator] = None) -> str:
    """The readable summary as one string ending in a newline.

    It goes to a terminal: every line is cleaned (names learned from a network or a file may hold
    ESC sequences that clear the screen or set the title, NUL, BEL, newlines)."""
    return "\n".join(clean(line, one_line=True) for line in text_lines(d, t)).rstrip("\n") + "\n"


# --- HTML / PDF -----------------------------------------------------------------------------------


def _view(d: Diff, t: i18n.Translator = _EN) -> Dict[str, Any]:
    j = to_json(d)
    sev_rank = {s.value: i for i, s in enumerate(Severity)}
    j["notable"].sort(key=lambda n: sev_rank.get(n["severity"], 99))
    j["old_label"] = _describe_side("OLD", d.old, t)
    j["new_label"] = _describe_side("NEW", d.new, t)
    j["text"] = write_text(d, t)
    for c in j["categories"]:  # a listening service's label says "on" its addresses
        if c["category"] == Category.LISTENING_SERVICE.value:
            for x in c["added"] + c["removed"] + c["changed"]:
                x["name"] = t.generated(x["name"])
    return j


def render_html(d: Diff, t: Optional[i18n.Translator] = None) -> str:
    """A self-contained HTML page of the diff (inline CSS, no external references), in `t`'s language."""
    t = t or _EN
    try:
        # `_`: a text of the template; `g`: a generated one (a notable change's title, a note, a
        # field's name); `num`: a count; `lang`: the page's language.
        return render(TEMPLATE, d=_view(d, t), _=t, g=t.generated, num=lambda n: _num(t, n), lang=t.lang)
    except MissingTemplate as exc:
        raise DiffError(str(exc)) from None


def render_pdf(d: Diff, t: Optional[i18n.Translator] = None) -> bytes:
    """The HTML diff as PDF through the report's engine choice (WeasyPrint, else a browser; nothing fetched)."""
    try:
        return html_to_pdf(render_html(d, t))
    except ReportUnavailable as exc:
        raise DiffError(str(exc)) from None


# --format name -> the bytes written (to standard output or -o FILE).
# The second argument is the language (`translator()`); JSON is a machine format: always English.
FORMATS: Dict[str, Callable[..., bytes]] = {
    "text": lambda d, t=None: write_text(d, t).encode("utf-8"),
    "json": lambda d, t=None: (json.dumps(to_json(d), indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
    "html": lambda d, t=None: render_html(d, t).encode("utf-8"),
    "pdf": render_pdf,
}
