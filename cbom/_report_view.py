"""The report's view-model: plain dicts and strings built from a Scan, nothing else.

Templates only lay out what this module computes (counts, ages, chart bar
lengths, column layouts), so the report is a pure function of the CBOM JSON:
no clock, no host lookups. Every string that reaches a template goes through
`clean()` first, so hostile text stays visible text (autoescaping does the rest).

Long lists are the speed problem of the PDF: WeasyPrint 70 spends ~1.4 ms per
table cell (3,000 packages x 4 columns = 17 s), while monospaced lines in
`<pre>` blocks of ~100 lines cost ~0.9 ms per *row* (research notes,
feasibility.md section 1). So a `Listing` carries its rows once, and for the
PDF also pre-formatted fixed-width `blocks` when it is too big for a table.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from datetime import date, datetime, timezone
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from .model import Category, Component, Scan, Severity, Status

# Characters per line of a PDF listing: DejaVu Sans Mono at 7 pt is 4.2 pt wide,
# so 118 characters fit A4 (180 mm) and Letter (190 mm) text widths.
LINE_WIDTH = 118
# Above this many cells a PDF listing is laid out as text lines, not a table (~0.5 s of layout).
TABLE_CELL_LIMIT = 400
BLOCK_LINES = 100  # lines per <pre> block: measured sweet spot (feasibility.md section 1)

MAC = "cdx:device:macAddress"
SERIAL = "cdx:device:serialNumber"
# Property names are settled per collector; each field of the report tries the known spellings in turn.
ADDRESS_PROPS = ("cbom:ipv4", "cbom:ipv6", "cbom:net:ip", "cbom:ip", "cbom:address", "cbom:addr")
VENDOR_PROPS = ("cbom:net:vendor", "cbom:vendor", "cbom:oui:vendor")
HOSTNAME_PROPS = ("cbom:net:hostname", "cbom:hostname")
SOURCE_PROPS = ("cbom:source", "cbom:package-manager", "cbom:pkg:manager", "cbom:manager", "cbom:pkg:source")
ARCH_PROPS = ("cbom:arch", "cbom:architecture", "cbom:pkg:arch")
DATE_PROPS = ("cbom:release-date", "cbom:releaseDate", "cbom:release_date", "cbom:firmware:date", "cbom:date")
PACKETS_PROPS = ("cbom:packets", "cbom:net:packets", "cbom:pkts")
BYTES_PROPS = ("cbom:bytes", "cbom:net:bytes")
PORT_PROPS = ("cbom:port", "cbom:net:port")
PROTOCOL_PROPS = ("cbom:protocol", "cbom:net:protocol", "cbom:transport")
PROCESS_PROPS = ("cbom:process", "cbom:pid", "cbom:program")
FLOW_PREFIX = "cbom:flow"
CAPTURE_PREFIX = "cbom:capture:"

# Bidi embeddings/overrides/isolates would reorder the text *after* them (a file
# name can be made to read backwards); show them as code points instead.
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + r"\ud800-\udfff\ufffe\uffff]")


def clean(value: object) -> str:
    """`value` as display text: control, bidi-override and lone-surrogate characters as visible `<U+XXXX>`."""
    text = "" if value is None else str(value)
    return _UNSAFE.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def _short(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis (page headers only; the cover shows it whole)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_prop(c: Component, names: Sequence[str]) -> str:
    for name in names:
        value = c.prop(name)
        if value:
            return value
    return ""


def all_props(c: Component, names: Sequence[str]) -> List[str]:
    return [v for name in names for v in c.props(name) if v]


# --- dates -----------------------------------------------------------------------------------------

_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y%m%d", "%d.%m.%Y", "%Y/%m/%d", "%m/%d/%y")


def parse_date(text: str) -> Optional[date]:
    """A calendar date from the forms firmware reports (dmidecode `MM/DD/YYYY`, ISO, `YYYYMMDD`, WMI)."""
    text = text.strip()
    if not text:
        return None
    # WMI CIM_DATETIME "20190415000000.000000+000" and ISO timestamps: keep the date part.
    m = re.match(r"^(\d{8})\d{6}\.", text) or re.match(r"^(\d{4}-\d{2}-\d{2})[T ]", text)
    if m:
        text = m.group(1)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def age_years(released: date, at: date) -> float:
    """Age in years (one decimal) on the scan date: the report never looks at today's clock."""
    return round((at - released).days / 365.25, 1)


def fmt_time(when: Optional[datetime]) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if when else ""


def fmt_int(n: int) -> str:
    return f"{n:,}"


def _number(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return 0.0


# --- listings --------------------------------------------------------------------------------------


def _chunks(text: str, width: int) -> List[str]:
    """`text` hard-wrapped to `width` characters, preferring breaks after separators."""
    out = []
    while len(text) > width:
        cut = max(text.rfind(sep, 0, width) for sep in " /-_.:,;@+=&?")
        cut = cut + 1 if cut >= width // 2 else width
        out.append(text[:cut].rstrip(" "))
        text = text[cut:].lstrip(" ")
    out.append(text)
    return out


def _isolate(text: str, width: int) -> str:
    """`text` padded to `width`; right-to-left text is wrapped in a bidi isolate (FSI…PDI)
    so it cannot reorder the other columns of its line."""
    padded = text.ljust(width)
    if any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text):
        return "\u2068" + text + "\u2069" + padded[len(text):]
    return padded


def _typical(lengths: Sequence[int]) -> int:
    """Column width that fits 97% of the values: one odd long value wraps instead of widening the column."""
    return lengths[min(len(lengths) - 1, int(len(lengths) * 0.97))] if lengths else 0


def text_lines(
    rows: Sequence[Sequence[str]], caps: Sequence[int], headers: Sequence[str], width: int = LINE_WIDTH
) -> Tuple[str, List[List[str]]]:
    """Fixed-width text layout of `rows`: (header spacing template, lines per row).

    Column i is as wide as its heading and 97% of its values (up to caps[i]); columns
    shrink when they do not fit `width` and grow towards their longest value with what
    is left. A value wider than its column is wrapped inside the column, except in the
    first column (the name), which then gets a line of its own so it is never split:
    every name stays searchable in the PDF text.
    """
    n = len(caps)
    floor = [max(len(h), 4) for h in headers]
    floor[-1] = max(floor[-1], min(24, _typical(sorted(len(r[-1]) for r in rows))))  # room for the details
    longest = [max(floor[i], min(cap, max(len(r[i]) for r in rows))) for i, cap in enumerate(caps)]
    widths = [max(floor[i], min(cap, _typical(sorted(len(r[i]) for r in rows)))) for i, cap in enumerate(caps)]
    floor[0] = widths[0]  # names are never squeezed: a narrow name column puts every name on its own line
    room = width - 2 * (n - 1)
    while sum(widths) > room:
        i = max(range(n), key=lambda j: widths[j] - floor[j])
        if widths[i] <= floor[i]:
            break
        widths[i] -= 1
    for i in range(n - 1):  # slack: let columns grow to their longest value, left to right
        widths[i] += max(0, min(longest[i] - widths[i], room - sum(widths)))
    widths[-1] += max(0, room - sum(widths))
    out = []
    for row in rows:
        lines: List[str] = []
        first = row[0]
        if len(first) > widths[0]:
            lines.extend(_chunks(first, width))  # a name longer than a whole line still wraps
            first = ""
        cells = [_chunks(first, widths[0])] + [_chunks(v, widths[i]) for i, v in enumerate(row) if i]
        for k in range(max(len(c) for c in cells)):
            parts = [_isolate((c[k] if k < len(c) else ""), widths[i]) for i, c in enumerate(cells)]
            lines.append("  ".join(parts).rstrip())
        out.append(lines)
    return "  ".join("{:<%d}" % w for w in widths), out


def listing(
    _: Callable[[str], str],
    pdf: bool,
    key: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    caps: Optional[Sequence[int]] = None,
    numeric: Sequence[int] = (),
    force_lines: bool = False,
) -> Dict[str, Any]:
    """One table of the report; with `blocks` of text lines for the PDF when it is large."""
    rows = [[clean(v) for v in r] for r in rows]
    caps = list(caps or [40] * len(columns))
    assert len(caps) == len(columns), key
    # A column empty in every row is left out (the first, the name, always stays).
    keep = [i for i in range(len(columns)) if i == 0 or any(r[i] for r in rows)]
    if len(keep) < len(columns):
        rows = [[r[i] for i in keep] for r in rows]
        numeric = [keep.index(i) for i in numeric if i in keep]
        caps = [caps[i] for i in keep]
        columns = [columns[i] for i in keep]
    columns = [_(c) for c in columns]
    out: Dict[str, Any] = {"key": key, "columns": columns, "rows": rows, "numeric": set(numeric), "blocks": None}
    # Column widths (percent) for a fixed table layout: WeasyPrint's automatic layout measures
    # the min-content width of every cell, which takes minutes for a 5,000-character value.
    want = [
        max(len(h), 3, min(caps[i], _typical(sorted(len(r[i]) for r in rows)))) + 2
        for i, h in enumerate(columns)
    ]
    out["widths"] = [round(w * 100.0 / sum(want), 1) for w in want]
    if pdf and rows and (force_lines or len(rows) * len(columns) > TABLE_CELL_LIMIT):
        spec, per_row = text_lines(rows, caps, columns)
        out["head"] = spec.format(*columns).rstrip()
        flat = [line for lines in per_row for line in lines]
        out["blocks"] = ["\n".join(flat[i:i + BLOCK_LINES]) for i in range(0, len(flat), BLOCK_LINES)]
    return out


def _details(c: Component, skip: Iterable[str] = ()) -> str:
    """Every property not shown in its own column, as `name=value; …` (cbom: prefix dropped)."""
    skip = set(skip)
    parts = []
    for k, v in c.properties:
        if k in skip:
            continue
        parts.append(f"{k[5:] if k.startswith('cbom:') else k}={v}")
    for extra, label in ((c.description, "description"), (c.cpe, "cpe"), (c.purl, "purl")):
        if extra and label not in skip:
            parts.append(f"{label}={extra}")
    if c.hashes:
        parts.extend(f"{alg}={h}" for alg, h in c.hashes)
    return "; ".join(parts)


def _vendor(c: Component) -> str:
    return c.manufacturer or c.supplier or c.publisher or first_prop(c, VENDOR_PROPS)


# --- the view --------------------------------------------------------------------------------------

# Collector run names (`hardware` or `hardware.dmi`) whose area feeds each section.
SECTION_AREAS = {
    "hardware": ("hardware",),
    "firmware": ("firmware",),
    "os": ("os", "osinfo"),
    "software": ("software",),
    "network": ("network",),
    "observed": ("capture", "network"),
}

CATEGORY_LABELS = {
    Category.HARDWARE: "Hardware",
    Category.FIRMWARE: "Firmware",
    Category.OPERATING_SYSTEM: "Operating system",
    Category.SOFTWARE: "Installed software",
    Category.NETWORK_INTERFACE: "Network interfaces",
    Category.LISTENING_SERVICE: "Listening services",
    Category.OBSERVED_HOST: "Observed hosts",
    Category.OBSERVED_PROTOCOL: "Observed protocols",
    Category.CRYPTO: "Cryptographic assets",
}


def _status_for(scan: Scan, section: str) -> List[Dict[str, str]]:
    """The runs behind a section that did not finish ok (to say why it is empty or incomplete)."""
    areas = SECTION_AREAS.get(section, ())
    return [
        {"name": clean(r.name), "status": r.status.value, "reason": clean(r.reason)}
        for r in scan.runs
        if r.name.split(".")[0] in areas and r.status != Status.OK
    ]


def build_view(
    scan: Scan, json_sha256: str, paper: str = "A4", pdf: bool = True, translate: Optional[Callable[[str], str]] = None
) -> Dict[str, Any]:
    """Everything the report template shows, computed from `scan` alone (texts through `translate`)."""
    _ = translate or (lambda text: text)
    by_cat: Dict[Category, List[Component]] = {c: [] for c in Category}
    for comp in scan.components:
        by_cat[comp.category].append(comp)
    scan_date = scan.started.astimezone(timezone.utc).date()
    scan_props = list(scan.properties)

    def sprop(*names: str) -> str:
        return next((clean(v) for k, v in scan_props for n in names if k == n and v), "")

    duration = ""
    if scan.finished:
        duration = f"{(scan.finished - scan.started).total_seconds():.0f} s"
    cover = {
        "machine": clean(scan.host.name) or "(unnamed)",
        "machine_short": _short(clean(scan.host.name) or "(unnamed)", 60),
        "started": fmt_time(scan.started),
        "finished": fmt_time(scan.finished),
        "duration": duration,
        "operator": clean(scan.operator),
        "site": sprop("cbom:site", "cbom:scan:site"),
        "tool_version": clean(scan.tool_version),
        "serial": clean(scan.id),
        "sha256": json_sha256,
        "manufacturer": clean(scan.host.manufacturer),
        "model": clean(scan.host.model),
        "host_serial": clean(scan.host.serial),
        "status": scan.status.value,
        "date": scan_date.isoformat(),
    }

    severities = Counter(f.severity for f in scan.findings)
    run_status = Counter(r.status for r in scan.runs)
    gaps = [
        {"collector": clean(r.name), "status": r.status.value, "reason": clean(g)}
        for r in scan.runs
        for g in (r.gaps or ((r.reason,) if r.status in (Status.FAILED, Status.SKIPPED) and r.reason else ()))
    ]
    summary = {
        "categories": [
            {"key": c.value, "label": _(CATEGORY_LABELS[c]), "count": len(by_cat[c])} for c in Category
        ],
        "components": len(scan.components),
        "severities": [{"key": s.value, "count": severities.get(s, 0)} for s in Severity],
        "findings": len(scan.findings),
        "runs": [{"key": s.value, "count": run_status.get(s, 0)} for s in Status],
        "runs_total": len(scan.runs),
        "gaps": gaps,
    }
    runs = listing(
        _, pdf, "runs",
        ["Collector", "Status", "Duration (s)", "Components", "Reason"],
        [[r.name, r.status.value, f"{r.duration:.2f}", str(r.components), r.reason] for r in scan.runs],
        numeric=(2, 3),
    )

    machine_facts = [(clean(k), clean(v)) for k, v in scan.host.properties]

    hardware = listing(
        _, pdf, "hardware",
        ["Name", "Vendor", "Version", "Serial", "Details"],
        [[c.name, _vendor(c), c.version, c.prop(SERIAL), _details(c, (SERIAL,))] for c in by_cat[Category.HARDWARE]],
        caps=(36, 20, 14, 16, 40),
    )

    firmware_rows = []
    bios_age = None
    for c in by_cat[Category.FIRMWARE]:
        raw = first_prop(c, DATE_PROPS) or next((v for k, v in c.properties if "date" in k.lower() and v), "")
        released = parse_date(raw)
        age = age_years(released, scan_date) if released else None
        is_bios = any(w in c.name.lower() for w in ("bios", "uefi", "system firmware"))
        if is_bios and age is not None and bios_age is None:
            bios_age = {"name": clean(c.name), "version": clean(c.version), "date": released.isoformat(), "age": f"{age:.1f}"}
        firmware_rows.append([
            c.name, _vendor(c), c.version, released.isoformat() if released else raw,
            f"{age:.1f}" if age is not None else "", _details(c, DATE_PROPS),
        ])
    firmware = listing(
        _, pdf, "firmware", ["Name", "Vendor", "Version", "Release date", "Age (years)", "Details"], firmware_rows,
        caps=(30, 18, 18, 10, 6, 40), numeric=(4,),
    )

    os_items = [
        {"name": clean(c.name), "version": clean(c.version), "vendor": clean(_vendor(c)),
         "props": [(clean(k), clean(v)) for k, v in c.properties] + ([("description", clean(c.description))] if c.description else [])}
        for c in by_cat[Category.OPERATING_SYSTEM]
    ]

    # Installed software, grouped by where it came from (package manager property, else PURL type).
    groups: Dict[str, List[Component]] = {}
    for c in by_cat[Category.SOFTWARE]:
        source = first_prop(c, SOURCE_PROPS)
        if not source and c.purl.startswith("pkg:"):
            source = c.purl[4:].split("/", 1)[0]
        groups.setdefault(source or "other", []).append(c)
    software = []
    for source in sorted(groups, key=lambda s: (-len(groups[s]), s)):
        comps = groups[source]
        software.append({
            "source": clean(source),
            "count": len(comps),
            # The PDF leaves out supplier and PURL: the line count and glyph count are the
            # PDF's cost (about 2 s for 3,000 four-column lines); the HTML and JSON have them.
            "listing": listing(
                _, pdf, "sw-" + re.sub(r"[^a-z0-9]+", "-", source.lower()),
                ["Name", "Version", "Arch", "Licence"] if pdf else ["Name", "Version", "Arch", "Licence", "Supplier", "PURL"],
                [[c.name, c.version, first_prop(c, ARCH_PROPS), " ".join(c.licenses)]
                 + ([] if pdf else [c.supplier or c.publisher, c.purl]) for c in comps],
                caps=(38, 30, 7, 40) if pdf else (38, 30, 7, 40, 40, 60),
                force_lines=pdf,
            ),
        })

    interfaces = listing(
        _, pdf, "interfaces",
        ["Interface", "MAC address", "Addresses", "Details"],
        [[c.name, c.prop(MAC), ", ".join(all_props(c, ADDRESS_PROPS)), _details(c, (MAC,) + ADDRESS_PROPS)]
         for c in by_cat[Category.NETWORK_INTERFACE]],
        caps=(16, 17, 40, 40),
    )
    services = listing(
        _, pdf, "services",
        ["Service", "Protocol", "Address", "Port", "Process", "Details"],
        [[c.name, first_prop(c, PROTOCOL_PROPS), ", ".join(all_props(c, ADDRESS_PROPS)), first_prop(c, PORT_PROPS),
          first_prop(c, PROCESS_PROPS), _details(c, ADDRESS_PROPS + PORT_PROPS + PROTOCOL_PROPS + PROCESS_PROPS)]
         for c in by_cat[Category.LISTENING_SERVICE]],
        caps=(20, 8, 30, 6, 20, 30), numeric=(3,),
    )
    hosts = listing(
        _, pdf, "hosts",
        ["Host", "MAC address", "Addresses", "Vendor", "Hostnames", "Packets", "Details"],
        [[c.name, c.prop(MAC), ", ".join(all_props(c, ADDRESS_PROPS)), first_prop(c, VENDOR_PROPS),
          ", ".join(all_props(c, HOSTNAME_PROPS)), first_prop(c, PACKETS_PROPS),
          _details(c, (MAC,) + ADDRESS_PROPS + VENDOR_PROPS + HOSTNAME_PROPS + PACKETS_PROPS)]
         for c in by_cat[Category.OBSERVED_HOST]],
        caps=(24, 17, 32, 24, 24, 8, 30), numeric=(5,),
    )

    protos = by_cat[Category.OBSERVED_PROTOCOL]
    proto_rows = sorted(
        ((c, _number(first_prop(c, PACKETS_PROPS)), _number(first_prop(c, BYTES_PROPS))) for c in protos),
        key=lambda t: (-t[1], -t[2], t[0].name),
    )
    protocols = listing(
        _, pdf, "protocols",
        ["Protocol", "Packets", "Bytes", "Details"],
        [[c.name, first_prop(c, PACKETS_PROPS), first_prop(c, BYTES_PROPS), _details(c, PACKETS_PROPS + BYTES_PROPS)]
         for c, _, _ in proto_rows],
        caps=(24, 12, 14, 60), numeric=(1, 2),
    )
    chart = protocol_chart([(c.name, p) for c, p, _ in proto_rows if p > 0])

    flows = [clean(v) for k, v in scan_props if k.startswith(FLOW_PREFIX)]
    capture = [(clean(k[len(CAPTURE_PREFIX):]), clean(v)) for k, v in scan_props if k.startswith(CAPTURE_PREFIX)]
    capture += [(clean(k[len(CAPTURE_PREFIX):]), clean(v)) for k, v in scan.host.properties if k.startswith(CAPTURE_PREFIX)]

    names = {c.ref: f"{c.name} {c.version}".strip() for c in scan.components}
    findings = [
        {
            "id": clean(f.id), "title": clean(f.title), "severity": f.severity.value, "detail": clean(f.detail),
            "evidence": [clean(e) for e in f.evidence], "refs": [clean(names.get(r, r)) for r in f.refs],
            "collector": clean(f.collector),
        }
        for f in sorted(scan.findings, key=lambda f: (f.severity_rank, f.id, f.ref))
    ]

    facts = [(clean(k), clean(v)) for k, v in scan_props if not k.startswith((FLOW_PREFIX, CAPTURE_PREFIX))]
    databases = [(k, v) for k, v in facts if re.search(r"oui|pci|usb|ids|database|\bdb\b|version", k, re.I)]

    return {
        "pdf": pdf,
        "paper": "Letter" if paper.lower() == "letter" else "A4",
        "cover": cover,
        "summary": summary,
        "runs": runs,
        "machine_facts": machine_facts,
        "hardware": hardware,
        "firmware": firmware,
        "bios_age": bios_age,
        "os": os_items,
        "software": software,
        "software_total": len(by_cat[Category.SOFTWARE]),
        "interfaces": interfaces,
        "services": services,
        "hosts": hosts,
        "protocols": protocols,
        "chart": chart,
        "flows": {"count": len(flows), "sample": flows[:50]},
        "capture": capture,
        "findings": findings,
        "facts": facts,
        "databases": databases,
        "not_ok": {s: _status_for(scan, s) for s in SECTION_AREAS},
        "crypto": listing(
            _, pdf, "crypto", ["Name", "Version", "Details"],
            [[c.name, c.version, _details(c)] for c in by_cat[Category.CRYPTO]], caps=(36, 16, 60),
        ),
    }


def protocol_chart(values: Sequence[Tuple[str, float]], top: int = 15, width: float = 260.0) -> Dict[str, Any]:
    """Horizontal bars (inline SVG geometry) for the `top` protocols by packets; the rest summed in a line."""
    values = list(values)
    shown = values[:top]
    biggest = max((v for _, v in shown), default=0) or 1
    total = sum(v for _, v in values) or 1
    bars = [
        {"label": clean(name), "value": fmt_int(int(v)), "width": round(max(1.0, v / biggest * width), 1),
         "y": i * 16, "share": f"{v / total * 100:.1f}"}
        for i, (name, v) in enumerate(shown)
    ]
    if len(values) > top:  # the rest as one line of text, no bar: its sum would dwarf the real bars
        rest = sum(v for _, v in values[top:])
        bars.append({"label": f"({len(values) - top} others)", "value": fmt_int(int(rest)), "width": 0,
                     "y": len(bars) * 16, "share": f"{rest / total * 100:.1f}"})
    return {"bars": bars, "height": len(bars) * 16, "width": width}
