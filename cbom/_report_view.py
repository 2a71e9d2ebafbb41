"""The report's view-model: plain dicts and strings built from a Scan, nothing else.

Templates only lay out what this module computes (counts, ages, chart bar
lengths, column layouts), so the report is a pure function of the CBOM JSON:
no clock, no host lookups. Every string that reaches a template goes through
`clean()` first, so hostile text stays visible text (autoescaping does the rest).

Long lists are the speed problem of the PDF: WeasyPrint 70 spends ~1.4 ms per
table cell (3,000 packages x 4 columns = 17 s), while monospaced lines in
`<pre>` blocks of ~100 lines cost ~0.9 ms per *row* (research notes,
feasibility.md section 1). So a `Listing` carries its rows once, and for the
PDF also pre-formatted fixed-width `blocks` when it is too big for a table
(typeset by `_layout`; dates are read and printed by `_dates`).

`build_view` assembles the sections, one function each (`_cover`, `_summary`, `_hardware`…).
"""
from __future__ import annotations

import os
import re
from collections import Counter
from contextvars import ContextVar
from dataclasses import replace
from datetime import date, timezone
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from cbom import vocabulary as V

from ._dates import age_years, parse_date
from ._layout import column_widths, text_lines
from .document import clean
from .i18n import Translator
from .model import Category, Component, Conversation, Scan, Severity, Status

Translate = Callable[..., str]  # `_(text, **fields)`: the report's text in the report's language
# Above this many cells a PDF listing is laid out as text lines, not a table (~0.5 s of layout).
TABLE_CELL_LIMIT = 400
BLOCK_LINES = 100  # lines per <pre> block: measured sweet spot (feasibility.md section 1)

# The most rows all listings of one PDF print together; the rest are counted, said in the section
# and on the cover, and left to the HTML page and cbom.cdx.json. WeasyPrint 70 lays out ~1 ms per row
# on the 2-core build machine (20,000 observed hosts: 21 s for the whole `cbom report`, 455 pages);
# reading a CBOM of 100,000 components and building its rows costs ~25 s more, so 15,000 rows keep
# that whole command near 40 s (161 s unbounded). benchmarks/bench_pdf_size.py; issue 18 D16.
PDF_ROW_LIMIT = 15000
PDF_ROW_FLOOR = 100  # rows of each listing shown even when PDF_ROW_LIMIT is spent (see `listing`)
# Rows left to print in the PDF being built: set by `build_view`, spent by `listing` in section order.
_rows_left: ContextVar[Optional[List[Any]]] = ContextVar("cbom_pdf_rows_left", default=None)
# The language of the report being built (numbers, dates, generated texts): set by `build_view`.
_ENGLISH = Translator()
_locale: ContextVar[Translator] = ContextVar("cbom_report_locale", default=_ENGLISH)  # noqa: B039 (never mutated)

# Property names come from cbom/vocabulary.py, the one spelling collectors write and the report reads
# (tests/core/test_report_real.py renders real scans and compares every column with the JSON).
FIRMWARE_SYSTEM = "system-firmware"  # cbom:firmware:type of the BIOS/UEFI (its age is the report's headline figure)

def _short(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis (page headers only; the cover shows it whole)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fmt_int(n: int) -> str:
    """A count as printed: 12,345 (French: 12 345)."""
    return _locale.get().number(n)


def _dec(x: float, digits: int) -> str:
    """A decimal number as printed: 1.50 (French: 1,50)."""
    return _locale.get().decimal(x, digits)


def _gen(text: str) -> str:
    """A text a collector generated at scan time (a gap, a reason, a finding), in the report's language."""
    return _locale.get().generated(text)


# --- listings --------------------------------------------------------------------------------------


def listing(
    _: Callable[[str], str],
    pdf: bool,
    key: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    caps: Optional[Sequence[int]] = None,
    numeric: Sequence[int] = (),
    force_lines: bool = False,
    detail_line: bool = False,
    whole: Sequence[int] = (),
) -> Dict[str, Any]:
    """One table of the report; with `blocks` of text lines for the PDF when it is large.

    `whole`: columns whose values (up to their cap) are never wrapped in the PDF lines, e.g.
    versions, which an auditor copies and searches as one string."""
    budget = _rows_left.get() if pdf else None
    more = 0
    if budget is not None:  # [rows left, cut listings, floor rows left]: the PDF's bound (PDF_ROW_LIMIT)
        # Once the rows are spent, a listing still shows its first PDF_ROW_FLOOR rows (no section
        # left blank), from a second allowance of PDF_ROW_LIMIT: never more than twice it in all.
        take = min(len(rows), max(budget[0], min(PDF_ROW_FLOOR, budget[2])))
        over = max(0, take - budget[0])
        budget[0] -= take - over
        budget[2] -= over
        more = len(rows) - take
        if more:
            rows = rows[:take]
            budget[1].append((key, take, more))
    rows = [[clean(v) for v in r] for r in rows]
    caps = list(caps or [40] * len(columns))
    assert len(caps) == len(columns), key
    # A column empty in every row is left out (the first, the name, always stays).
    keep = [i for i in range(len(columns)) if i == 0 or any(r[i] for r in rows)]
    if len(keep) < len(columns):
        detail_line = detail_line and keep[-1] == len(columns) - 1
        rows = [[r[i] for i in keep] for r in rows]
        numeric = [keep.index(i) for i in numeric if i in keep]
        whole = [keep.index(i) for i in whole if i in keep]
        caps = [caps[i] for i in keep]
        columns = [columns[i] for i in keep]
    columns = [_(c) for c in columns]
    out: Dict[str, Any] = {"key": key, "columns": columns, "rows": rows, "numeric": set(numeric), "blocks": None,
                           "more": fmt_int(more) if more else "", "shown": fmt_int(len(rows))}
    # Column widths (percent) for a fixed table layout: WeasyPrint's automatic layout measures
    # the min-content width of every cell, which takes minutes for a 5,000-character value.
    out["widths"] = column_widths(columns, rows, caps)
    if pdf and rows and (force_lines or len(rows) * len(columns) > TABLE_CELL_LIMIT):
        spec, per_row = text_lines(rows, caps, columns, numeric=numeric, detail_line=detail_line, whole=whole)
        out["head"] = spec.format(*columns).rstrip()
        out["blocks"] = _blocks(per_row)
    return out


def _blocks(per_row: Sequence[Sequence[str]]) -> List[str]:
    """The <pre> blocks of a listing's text lines, BLOCK_LINES lines each (a block never ends inside
    a row: a row's lines stay in one block)."""
    blocks: List[str] = []
    part: List[str] = []
    for lines in per_row:
        part.extend(lines)
        if len(part) >= BLOCK_LINES:
            blocks.append("\n".join(part))
            part = []
    if part:
        blocks.append("\n".join(part))
    return blocks


def _label(name: str) -> str:
    """A property name as printed: the `cbom:` namespace is implied."""
    return name[5:] if name.startswith(V.CBOM_NAMESPACE) else name


def _details(c: Component, skip: Iterable[str] = ()) -> str:
    """Every property not shown in its own column, as `name=value; …`.

    A name repeated (13 `cpu:flag`, one `ipv6` per address) is printed once with its
    values comma-separated, so a CPU's flags take one line, not thirteen entries.
    """
    skip = set(skip)
    grouped: Dict[str, List[str]] = {}
    for k, v in c.properties:
        if k not in skip and v:
            grouped.setdefault(k, []).append(v)
    parts = [f"description={c.description}"] if c.description and "description" not in skip else []
    parts += [f"{_label(k)}={', '.join(vs)}" for k, vs in grouped.items()]
    for extra, label in ((c.cpe, "cpe"), (c.purl, "purl")):
        if extra and label not in skip:
            parts.append(f"{label}={extra}")
    parts.extend(f"{alg}={h}" for alg, h in c.hashes)
    return "; ".join(parts)


def _vendor(c: Component) -> str:
    return c.manufacturer or c.supplier or c.publisher


def _thousands(text: str) -> str:
    """A count as printed (12,345); anything that is not a whole number is shown as it is."""
    return fmt_int(int(text)) if text.isdigit() else text


def _int(text: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return 0


# --- conversations (capture) -----------------------------------------------------------------------


def _split_endpoint(text: str) -> str:
    """The address of 'ADDR:PORT' or '[IPV6]:PORT' (the port dropped)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        return text
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _flow(protocol: str, t: Conversation) -> Dict[str, Any]:
    """One conversation as a row of the flows summary."""
    return {
        "protocol": protocol, "transport": t.transport, "src": t.src, "dst": t.dst,
        "src_addr": _split_endpoint(t.src) if t.transport else t.src,
        "dst_addr": _split_endpoint(t.dst) if t.transport else t.dst,
        "packets": t.packets, "bytes": t.bytes, "first": t.first, "last": t.last,
    }


def _flows(
    _: Callable[[str], str], pdf: bool, protocols: Sequence[Component], hosts: Sequence[Component],
    recorded_ip: int, top_talkers: int = 10, top_rows: int = 50,
) -> Dict[str, Any]:
    """The flows summary: counts, top talkers by bytes, the largest conversations."""
    flows: List[Dict[str, Any]] = []
    bad: List[str] = []
    total = 0
    for c in protocols:
        total += len(c.conversations)
        flows.extend(_flow(c.name, t) for t in c.conversations)
        # What the reader could not parse as a conversation stays a property: shown as malformed.
        for key in (V.NET_CONVERSATION, V.NET_L2_CONVERSATION):
            for value in c.props(key):
                total += 1
                bad.append(clean(f"{c.name}: {value}"))
    by_transport = Counter(f["transport"] or "non-IP" for f in flows)
    ip_count = sum(n for t, n in by_transport.items() if t != "non-IP")
    names: Dict[str, str] = {}
    for h in hosts:
        for addr in h.props(V.NET_IP) + h.props(V.MAC_ADDRESS):
            names.setdefault(addr, h.name)
    talk: Dict[str, List[Any]] = {}  # address -> [bytes, packets, conversations, peers]
    for f in flows:
        for me, peer in ((f["src_addr"], f["dst_addr"]), (f["dst_addr"], f["src_addr"])):
            t = talk.setdefault(me, [0, 0, 0, set()])
            t[0] += f["bytes"]
            t[1] += f["packets"]
            t[2] += 1
            t[3].add(peer)
    ranked = sorted(talk.items(), key=lambda kv: (-kv[1][0], kv[0]))[:top_talkers]
    talkers = listing(
        _, pdf, "talkers", ["Address", "Host", "Bytes", "Packets", "Conversations", "Peers"],
        [[a, names.get(a, ""), fmt_int(t[0]), fmt_int(t[1]), fmt_int(t[2]), fmt_int(len(t[3]))] for a, t in ranked],
        caps=(39, 30, 14, 12, 13, 6), numeric=(2, 3, 4, 5),
    )
    largest = sorted(flows, key=lambda f: (-f["bytes"], -f["packets"], f["first"], f["src"], f["dst"]))
    shown = largest[:top_rows] if pdf else largest
    # Times on one date (a capture of minutes) print as time of day; the date is said once.
    dates = {t[:10] for f in flows for t in (f["first"], f["last"]) if len(t) > 11 and t[10] == "T"}
    one_date = next(iter(dates)) if len(dates) == 1 else ""

    def when(t: str) -> str:
        return t[11:].rstrip("Z") if one_date and t.startswith(one_date + "T") else t

    rows = listing(
        _, pdf, "conversations", ["Protocol", "Source", "Destination", "Packets", "Bytes", "First", "Last"],
        [[f["protocol"] + ("/" + f["transport"] if f["transport"] and f["transport"] != f["protocol"] else ""),
          f["src"], f["dst"], fmt_int(f["packets"]), fmt_int(f["bytes"]), when(f["first"]), when(f["last"])]
         for f in shown],
        caps=(14, 23, 23, 7, 11, 24, 24), numeric=(3, 4), force_lines=pdf,
    )
    return {
        "count": total,
        "ip": ip_count,
        "l2": by_transport.get("non-IP", 0),
        "transports": [{"name": t, "count": n} for t, n in sorted(by_transport.items()) if t != "non-IP"],
        "packets": fmt_int(sum(f["packets"] for f in flows)),
        "bytes": fmt_int(sum(f["bytes"] for f in flows)),
        "malformed": bad,
        "talkers": talkers,
        "largest": rows,
        "shown": len(shown),
        "date": _locale.get().iso_date(one_date),
        # The capture counts every IP conversation; the collector writes at most 2,000 of them.
        "capture_ip": recorded_ip,
        "truncated": recorded_ip > ip_count,
    }


# --- the view --------------------------------------------------------------------------------------

# Collector run names (`hardware` or `hardware.dmi`) whose area feeds each section.
SECTION_AREAS = {
    "hardware": ("hardware",),
    "firmware": ("firmware",),
    "os": ("os", "osinfo"),
    "software": ("software",),
    "network": ("network",),
    "observed": ("capture",),
    "posture": ("posture",),
    "crypto": ("crypto",),
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
    Category.POSTURE: "Security posture",
}

# Host facts shown in a section of their own (everything else is a machine fact under Hardware).
NETWORK_FACTS = ((V.DEFAULT_GATEWAY, "Default gateways"), (V.DNS_SERVER, "DNS servers"), (V.DNS_SEARCH, "DNS search domains"))
FIRMWARE_FACTS = ((V.BOOT_MODE, "Boot mode"), (V.SECURE_BOOT, "Secure Boot"))
DATABASE_FACTS = (
    (V.CAPTURE_OUI_DATABASE, "MAC vendor names (OUI)", "capture"),
    (V.PCI_IDS, "PCI device names", "hardware"),
    (V.USB_IDS, "USB device names", "hardware"),
)
# Capture statistics (collectors/capture/__init__.py and _model.py _stats), in the order printed.
CAPTURE_LABELS = (
    (V.CAPTURE_MODE, "Mode"), (V.CAPTURE_SOURCE, "Source"), (V.CAPTURE_INTERFACES, "Interfaces"),
    (V.CAPTURE_FILTER, "Capture filter (BPF)"), (V.CAPTURE_SECONDS, "Listening time (s)"),
    (V.CAPTURE_FIRST_PACKET, "First packet (UTC)"), (V.CAPTURE_DURATION, "First to last packet (s)"),
    (V.CAPTURE_RECEIVED, "Packets received"), (V.CAPTURE_PACKETS, "Packets analysed"),
    (V.CAPTURE_BYTES, "Bytes analysed"), (V.CAPTURE_UNDECODABLE, "Undecodable packets"),
    (V.CAPTURE_KERNEL_DROPS, "Dropped by the kernel"), (V.CAPTURE_INTERFACE_DROPS, "Dropped by the interfaces"),
    (V.CAPTURE_QUEUE_DROPS, "Dropped by the analysis queue (memory bound)"),
    (V.CAPTURE_HOSTS, "Hosts (source MAC addresses)"), (V.CAPTURE_CONVERSATIONS, "IP conversations"),
)
DROP_KEYS = (V.CAPTURE_KERNEL_DROPS, V.CAPTURE_INTERFACE_DROPS, V.CAPTURE_QUEUE_DROPS)
# Protocols every packet of a capture is carried in: left out of the chart so the bars compare
# what the machines actually speak (the table below the chart still lists them).
CARRIERS = frozenset({"eth", "ethertype", "vlan", "sll", "llc", "ip", "ipv6", "tcp", "udp"})


def _status_for(scan: Scan, section: str) -> List[Dict[str, str]]:
    """The runs behind a section that did not finish ok (to say why it is empty or incomplete)."""
    areas = SECTION_AREAS.get(section, ())
    return [
        {"name": clean(r.name), "status": r.status.value, "reason": clean(_gen(r.reason))}
        for r in scan.runs
        if r.name.split(".")[0] in areas and r.status != Status.OK
    ]


def _facts(
    props: Sequence[Tuple[str, str]], wanted: Sequence[Tuple[str, str]], _: Callable[[str], str]
) -> List[Tuple[str, str]]:
    """(label, values joined) for each wanted property present (names may repeat: gateways, DNS servers)."""
    out = []
    for name, label in wanted:
        values = [clean(v) for k, v in props if k == name and v]
        if values:
            out.append((_(label), ", ".join(values)))
    return out


def _capture(scan: Scan, _: Translate) -> Dict[str, Any]:
    """The capture collector's run and its statistics (host facts `cbom:capture:*`)."""
    run = next((r for r in scan.runs if r.name.split(".")[0] == "capture"), None)
    stats = {k: v for k, v in scan.host.properties if k.startswith(V.CAPTURE_PREFIX)}
    stats.pop(V.CAPTURE_OUI_DATABASE, None)  # a database version: appendix
    labels = dict(CAPTURE_LABELS)
    cap_hit = V.CAPTURE_CAP_HIT_PREFIX
    locale = _locale.get()
    # Counts and seconds in the language's convention; the mode ("file", "live") is a word of cbom's.
    rows = [(_(label), clean(_gen(stats[key]) if key == V.CAPTURE_MODE else locale.numeral(stats[key])))
            for key, label in CAPTURE_LABELS if key in stats]
    rows += [(_("Table full: {table} (packets not tracked)", table=clean(k[len(cap_hit):])), clean(locale.numeral(v)))
             for k, v in stats.items() if k.startswith(cap_hit)]
    rows += [(clean(k[len(V.CAPTURE_PREFIX):]), clean(v)) for k, v in stats.items()
             if k not in labels and not k.startswith(cap_hit)]
    drops = [(key, _int(stats[key])) for key in DROP_KEYS if key in stats]
    return {
        "run": None if run is None else {
            "name": clean(run.name), "status": run.status.value, "reason": clean(_gen(run.reason)),
            "duration": _dec(run.duration, 2), "gaps": [clean(_gen(g)) for g in run.gaps],
        },
        "stats": rows,
        "mode": clean(_gen(stats.get(V.CAPTURE_MODE, ""))),
        "packets": _int(stats.get(V.CAPTURE_PACKETS, "")),
        "drops_known": bool(drops),
        "dropped": fmt_int(sum(n for _k, n in drops)),
        "any_dropped": any(n for _k, n in drops),
    }


# --- the sections ----------------------------------------------------------------------------------
# One function per section of the report, each a pure function of what it is given.


def _cover(scan: Scan, json_sha256: str, _: Translate) -> Dict[str, Any]:
    """The cover page: the machine, the scan and the document's identity."""
    duration = ""
    if scan.finished:
        duration = f"{(scan.finished - scan.started).total_seconds():.0f} s"
    locale = _locale.get()
    return {
        "machine": clean(scan.host.name) or _("(unnamed)"),
        "machine_short": _short(clean(scan.host.name) or _("(unnamed)"), 60),
        "started": locale.time(scan.started),
        "finished": locale.time(scan.finished),
        "duration": duration,
        "operator": clean(scan.operator),
        "site": next((clean(v) for k, v in scan.properties if k == V.SITE and v), ""),
        "tool_version": clean(scan.tool_version),
        "serial": clean(scan.id),
        "sha256": json_sha256,
        "manufacturer": clean(scan.host.manufacturer),
        "model": clean(scan.host.model),
        "host_serial": clean(scan.host.serial),
        "status": scan.status.value,
        "date": _scan_date(scan).isoformat(),
    }


def _summary(scan: Scan, by_cat: Dict[Category, List[Component]], _: Translate) -> Dict[str, Any]:
    """Counts per category, severity and collector status, and every collection gap."""
    severities = Counter(f.severity for f in scan.findings)
    run_status = Counter(r.status for r in scan.runs)
    gaps = [
        {"collector": clean(r.name), "status": r.status.value, "reason": clean(_gen(g))}
        for r in scan.runs
        for g in (r.gaps or ((r.reason,) if r.status in (Status.FAILED, Status.SKIPPED) and r.reason else ()))
    ]
    return {
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


def _runs(_: Translate, pdf: bool, scan: Scan) -> Dict[str, Any]:
    """The collectors that ran, with status, duration and components."""
    return listing(
        _, pdf, "runs",
        ["Collector", "Status", "Duration (s)", "Components", "Reason"],
        [[r.name, _(r.status.value), _dec(r.duration, 2), str(r.components), _gen(r.reason)] for r in scan.runs],
        numeric=(2, 3),
    )


def _machine_facts(scan: Scan, _: Translate) -> List[Tuple[str, str]]:
    """The machine's own facts (Hardware): host facts no other section claims."""
    claimed = {n for n, _l in NETWORK_FACTS + FIRMWARE_FACTS} | {n for n, _l, _c in DATABASE_FACTS} | {V.HOST_OS}
    facts = [(_("Manufacturer"), clean(scan.host.manufacturer)), (_("Model"), clean(scan.host.model)),
             (_("Serial number"), clean(scan.host.serial))]
    facts = [(k, v) for k, v in facts if v]
    facts += [(clean(_label(k)), clean(v)) for k, v in scan.host.properties
              if k not in claimed and not k.startswith((V.CAPTURE_PREFIX, V.POSTURE_FACT_PREFIX))]
    return facts


def _hardware(_: Translate, pdf: bool, comps: Sequence[Component]) -> Dict[str, Any]:
    """The hardware components."""
    return listing(
        _, pdf, "hardware",
        ["Name", "Type", "Vendor", "Version", "Serial", "Details"],
        [[c.name, c.prop(V.DEVICE_TYPE), _vendor(c), c.version, c.prop(V.SERIAL_NUMBER),
          _details(c, (V.SERIAL_NUMBER, V.DEVICE_TYPE))]
         for c in comps],
        caps=(30, 16, 18, 14, 16, 40),
    )


def _firmware(
    _: Translate, pdf: bool, comps: Sequence[Component], by_ref: Dict[str, Component], scan_date: date
) -> Tuple[Dict[str, Any], Optional[Dict[str, str]]]:
    """The firmware listing with ages on the scan date, and the system firmware's age (the headline)."""
    rows = []
    bios_age = None
    for c in comps:
        raw = c.prop(V.FIRMWARE_RELEASE_DATE)
        released = parse_date(raw)
        age = age_years(released, scan_date) if released else None
        if released and c.prop(V.FIRMWARE_TYPE) == FIRMWARE_SYSTEM and age is not None and bios_age is None:
            bios_age = {"name": clean(c.name), "version": clean(c.version), "date": _locale.get().date(released),
                        "age": _dec(age, 1)}
        hw = by_ref.get(c.prop(V.HARDWARE_REF) or (c.depends_on[0] if c.depends_on else ""))
        rows.append([
            c.name, c.prop(V.FIRMWARE_TYPE), _vendor(c), c.version, _locale.get().short_date(released) if released else raw,
            _dec(age, 1) if age is not None else "", hw.name if hw else "",
            _details(c, (V.FIRMWARE_RELEASE_DATE, V.FIRMWARE_TYPE, V.HARDWARE_REF)),
        ])
    firmware = listing(
        _, pdf, "firmware",
        ["Name", "Type", "Vendor", "Version", "Release date", "Age (years)", "Runs on", "Details"], rows,
        caps=(24, 16, 14, 18, 10, 6, 20, 30), numeric=(5,),
    )
    return firmware, bios_age


def _operating_systems(_: Translate, comps: Sequence[Component]) -> List[Dict[str, Any]]:
    """Each operating system with all its properties."""
    return [
        {"name": clean(c.name), "version": clean(c.version), "vendor": clean(_vendor(c)),
         "props": ([(_("description"), clean(c.description))] if c.description else [])
         + ([("cpe", clean(c.cpe))] if c.cpe else [])
         + [(clean(_label(k)), clean(v)) for k, v in c.properties]}
        for c in comps
    ]


def _software(_: Translate, pdf: bool, comps: Sequence[Component]) -> List[Dict[str, Any]]:
    """Installed software, grouped by package manager (else PURL type), largest group first."""
    groups: Dict[str, List[Component]] = {}
    for c in comps:
        source = c.prop(V.PACKAGE_MANAGER)
        if not source and c.purl.startswith("pkg:"):
            source = c.purl[4:].split("/", 1)[0]
        groups.setdefault(source or "other", []).append(c)
    software = []
    for source in sorted(groups, key=lambda s: (-len(groups[s]), s)):
        members = groups[source]
        software.append({
            "source": _("other") if source == "other" else clean(source),
            "count": len(members),
            # The PDF leaves out supplier and PURL: the line count and glyph count are the
            # PDF's cost (about 2 s for 3,000 four-column lines); the HTML and JSON have them.
            "listing": listing(
                _, pdf, "sw-" + re.sub(r"[^a-z0-9]+", "-", source.lower()),
                ["Name", "Version", "Arch", "Licence"] + ([] if pdf else ["Supplier", "PURL"]),
                [[c.name, c.version, c.prop(V.PACKAGE_ARCH), " ".join(c.licenses)]
                 + ([] if pdf else [c.supplier or c.publisher, c.purl]) for c in members],
                caps=(38, 40, 7, 40) if pdf else (38, 40, 7, 40, 40, 60),
                force_lines=pdf, whole=(1,),
            ),
        })
    return software


def _interfaces(_: Translate, pdf: bool, comps: Sequence[Component]) -> Dict[str, Any]:
    """The network interfaces."""
    return listing(
        _, pdf, "interfaces",
        ["Interface", "Kind", "State", "MAC address", "Addresses", "MTU", "Details"],
        [[c.name, c.prop(V.IF_KIND), c.prop(V.IF_STATE), c.prop(V.MAC_ADDRESS), ", ".join(c.props(V.IPV4) + c.props(V.IPV6)),
          c.prop(V.IF_MTU), _details(c, (V.MAC_ADDRESS, V.IPV4, V.IPV6, V.IF_KIND, V.IF_STATE, V.IF_MTU))]
         for c in comps],
        caps=(12, 8, 7, 17, 30, 5, 40), numeric=(5,),
    )


def _services(_: Translate, pdf: bool, comps: Sequence[Component]) -> Dict[str, Any]:
    """The listening services, by protocol and port."""
    svc = sorted(comps, key=lambda c: (c.prop(V.SVC_PROTOCOL), _int(c.prop(V.SVC_PORT)), c.name))
    return listing(
        _, pdf, "services",
        ["Process", "Protocol", "Port", "Addresses", "User", "Details"],
        [[c.prop(V.SVC_PROCESS) or c.name, c.prop(V.SVC_PROTOCOL), c.prop(V.SVC_PORT), ", ".join(c.props(V.SVC_ADDRESS)),
          c.prop(V.SVC_USER), _details(c, (V.SVC_PROCESS, V.SVC_PROTOCOL, V.SVC_PORT, V.SVC_ADDRESS, V.SVC_USER, "description"))]
         for c in svc],
        caps=(20, 8, 6, 30, 12, 40), numeric=(2,),
    )


def _hosts(_: Translate, pdf: bool, comps: Sequence[Component]) -> Dict[str, Any]:
    """The hosts a capture observed.

    PDF: the identities (and the rare host names) follow each row on an indented line, so the
    columns keep room for a whole MAC address and vendor name. HTML: one column each.
    """
    host_skip = (V.MAC_ADDRESS, V.NET_IP, V.NET_VENDOR, V.NET_HOSTNAME, V.NET_HOSTNAME_SOURCE, V.NET_SERVES,
                 V.NET_PACKETS, V.NET_BYTES, V.NET_FIRST_SEEN, V.NET_LAST_SEEN)
    rows = []
    for c in comps:
        # Identities (LLDP, CDP, SMB, EtherNet/IP…) first; any property this report does not know after them.
        ident = [f"{k[len(V.NET_IDENTITY_PREFIX):]}={v}" for k, v in c.properties if k.startswith(V.NET_IDENTITY_PREFIX)]
        identity_keys = tuple(k for k, _v in c.properties if k.startswith(V.NET_IDENTITY_PREFIX))
        rest = _details(c, host_skip + identity_keys + ("description",))
        hostnames = ", ".join(c.props(V.NET_HOSTNAME))
        # The capture's own word on how the host is keyed (a router, a remote address, an IP behind a
        # zeroed MAC), unless it merely repeats an identity value.
        said = c.description if c.description and c.description not in {v for _k, v in c.properties} else ""
        identity = "; ".join(([_gen(said)] if said else []) + ident + ([rest] if rest else []))
        row = [c.name, c.prop(V.MAC_ADDRESS), ", ".join(c.props(V.NET_IP)), c.prop(V.NET_VENDOR)]
        row += [] if pdf else [hostnames]
        row += [", ".join(c.props(V.NET_SERVES)), _thousands(c.prop(V.NET_PACKETS)), _thousands(c.prop(V.NET_BYTES))]
        if pdf:
            row.append("; ".join(x for x in ((f"{_('hostnames')}={hostnames}" if hostnames else ""), identity) if x))
        else:
            row += [identity, c.prop(V.NET_FIRST_SEEN), c.prop(V.NET_LAST_SEEN)]
        rows.append(row)
    return listing(
        _, pdf, "hosts",
        ["Host", "MAC address", "IP addresses", "Vendor", "Serves", "Packets", "Bytes", "Host names and identity"]
        if pdf else
        ["Host", "MAC address", "IP addresses", "Vendor", "Host names", "Serves", "Packets", "Bytes", "Identity",
         "First seen", "Last seen"],
        rows,
        caps=(18, 17, 15, 22, 16, 7, 10, 60) if pdf else (18, 17, 15, 22, 16, 16, 7, 10, 40, 24, 24),
        numeric=(5, 6) if pdf else (6, 7), detail_line=True,
    )


def _by_packets(comps: Sequence[Component]) -> List[Component]:
    """Observed protocols, most packets first."""
    return sorted(comps, key=lambda c: (-_int(c.prop(V.NET_PACKETS)), -_int(c.prop(V.NET_BYTES)), c.name))


def _protocols(_: Translate, pdf: bool, protos: Sequence[Component]) -> Dict[str, Any]:
    """The observed protocols (already ordered by packets)."""
    known = (V.NET_PACKETS, V.NET_BYTES, V.NET_HOSTS, V.NET_ENDPOINT, V.NET_CONVERSATION, V.NET_L2_CONVERSATION, "description")
    rows = []
    for c in protos:
        extra = _details(c, known)  # anything the capture collector adds later
        endpoints = " ".join(e.split("://", 1)[-1] for e in c.props(V.NET_ENDPOINT))
        rows.append([
            c.name, c.description, _thousands(c.prop(V.NET_PACKETS)), _thousands(c.prop(V.NET_BYTES)), c.prop(V.NET_HOSTS),
            str(len(c.conversations) + len(c.props(V.NET_CONVERSATION)) + len(c.props(V.NET_L2_CONVERSATION))),
            "; ".join(x for x in (endpoints, extra) if x),
        ])
    return listing(
        _, pdf, "protocols", ["Protocol", "Name", "Packets", "Bytes", "Hosts", "Conversations", "Server endpoints"],
        rows, caps=(12, 26, 8, 10, 5, 6, 50), numeric=(2, 3, 4, 5),
    )


def _chart(protos: Sequence[Component], host_props: Sequence[Tuple[str, str]]) -> Dict[str, Any]:
    """The protocol chart: packets per protocol, carriers (eth, ip, tcp…) left out when others exist."""
    packets_total = _int(next((v for k, v in host_props if k == V.CAPTURE_PACKETS), ""))
    spoken = [(c.name, float(_int(c.prop(V.NET_PACKETS)))) for c in protos if c.name not in CARRIERS]
    everything = [(c.name, float(_int(c.prop(V.NET_PACKETS)))) for c in protos]
    chart = protocol_chart([(n, p) for n, p in (spoken or everything) if p > 0], total=packets_total)
    chart["carriers"] = ", ".join(clean(c.name) for c in protos if c.name in CARRIERS) if spoken else ""
    return chart


def _databases(scan: Scan, _: Translate) -> List[Tuple[str, str]]:
    """The name databases used (OUI, PCI and USB ids) and their versions, or why none was."""
    has_run = {r.name.split(".")[0] for r in scan.runs}
    databases = []
    for name, label, area in DATABASE_FACTS:
        value = ", ".join(clean(_gen(v)) for k, v in scan.host.properties if k == name and v)
        if not value:
            value = (_("not recorded in this CBOM") if area in has_run
                     else _("not used: the {area} collector did not run", area=area))
        databases.append((_(label), value))
    return databases


# PDF column caps of the posture and crypto tables (cbom.posture_view), and those whose last column
# (a fingerprint, a file) is printed on a line of its own under its row.
TABLE_CAPS = {
    "accounts": (18, 6, 6, 9, 10, 14, 28, 18), "groups": (18, 7, 16, 60), "startup": (30, 10, 14, 10, 44, 60),
    "serial": (12, 16, 10, 5, 14), "settings": (48, 60), "certificates": (30, 34, 10, 10, 24, 9, 12, 95),
    "keys": (26, 12, 14, 5, 22, 50, 95), "libraries": (24, 14, 60), "algorithms": (28, 18, 18, 10),
}
DETAIL_LAST = {"startup", "certificates", "keys"}
# Columns printed whole (never wrapped): a certificate's signature algorithm, an OpenSSL name an
# auditor searches for ("sha256WithRSAEncryptio" over "n" was printed).
TABLE_WHOLE = {"certificates": (4,)}


def _tables(_: Translate, pdf: bool, tables: Sequence[Any]) -> List[Dict[str, Any]]:
    """Sub-sections made by cbom.posture_view (a title, columns, rows of plain text), as listings.
    Only cbom's own words are translated (the table's `words` columns and `word_cells`); a collected
    value (an account, a unit, a path, a certificate's name) stays as collected, even one that reads
    like a text of the catalogue."""
    def cell(t: Any, i: int, j: int, text: str) -> str:
        return _gen(text) if j in t.words or (i, j) in t.word_cells else text

    return [{"key": t.key, "title": _(t.title), "count": fmt_int(len(t.rows)),
             "listing": listing(_, pdf, t.key, list(t.columns),
                                [[cell(t, i, j, text) for j, text in enumerate(row)] for i, row in enumerate(t.rows)],
                                caps=TABLE_CAPS.get(t.key) or [24] * len(t.columns),
                                detail_line=t.key in DETAIL_LAST, force_lines=t.key in DETAIL_LAST,
                                whole=TABLE_WHOLE.get(t.key, ()))}
            for t in tables]


def _crypto(_: Translate, pdf: bool, scan: Scan) -> List[Dict[str, Any]]:
    """The cryptographic assets: certificates, keys (never their secret part), libraries, algorithms."""
    from .posture_view import cryptographic_assets

    return _tables(_, pdf, cryptographic_assets(scan))


def _posture(_: Translate, pdf: bool, scan: Scan) -> List[Dict[str, Any]]:
    """Accounts, groups, what starts by itself, serial ports and the machine's security settings."""
    from .posture_view import security_posture

    return _tables(_, pdf, security_posture(scan))


def _day(text: str) -> Optional[date]:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _vulnerabilities(scan: Scan, _: Translate, pdf: bool) -> Dict[str, Any]:
    """"Known vulnerabilities and end of life": what the offline database (cbom/vulndb) matched,
    components ordered by their worst (severity, known exploit, score), and the age of that knowledge."""
    from .vulndb import knowledge_line, report_rows

    knowledge, stale = knowledge_line(scan)
    locale = _locale.get()
    today = _scan_date(scan)
    rows = report_rows(scan)
    eol: List[List[str]] = []
    groups: List[Dict[str, Any]] = []
    for row in rows:
        for v in row.end_of_life:
            end = _day(v.eol_date)
            ago = (today - end).days if end else None
            since = (_("{n} days ago", n=fmt_int(ago)) if ago is not None and ago >= 0 else
                     _("in {n} days", n=fmt_int(-ago)) if ago is not None else "")
            eol.append([row.component, v.cycle, locale.short_date(end) if end else v.eol_date, since, v.source])
        if not row.vulnerabilities:
            continue
        cells = [[v.id, _(v.severity.value), _dec(v.score, 1) if v.score is not None else "",
                  _("yes") if v.exploited else "", _gen(v.recommendation), locale.short_date(_day(v.published)),
                  v.source, _gen(v.confidence) if v.confidence and v.confidence != "exact" else ""]
                 for v in row.vulnerabilities]
        groups.append({"component": clean(row.component), "count": fmt_int(len(cells)), "worst": row.worst.value,
                       "exploited": fmt_int(row.exploited),
                       "listing": listing(_, pdf, f"vulns-{len(groups) + 1}",
                                          ["Identifier", "Severity", "Score", "Exploited", "Fix", "Published",
                                           "Source", "Match"], cells,
                                          caps=(20, 9, 5, 9, 40, 10, 14, 16), numeric=(2,))})
    counts = {s.value: 0 for s in Severity}
    for v in scan.vulnerabilities:
        if v.kind.value != "end-of-life":
            counts[v.severity.value] += 1
    return {
        "matched": bool(knowledge),
        "knowledge": _gen(knowledge),
        "stale": _gen(stale),
        "components": fmt_int(len(groups)),
        "total": fmt_int(sum(len(r.vulnerabilities) for r in rows)),
        "severities": [{"key": k, "count": fmt_int(n)} for k, n in counts.items() if n],
        "eol": listing(_, pdf, "eol", ["Component", "Release cycle", "End of support", "Since", "Source"], eol,
                       caps=(44, 14, 14, 16, 16)),
        "groups": groups,
    }


def _scan_date(scan: Scan) -> date:
    return scan.started.astimezone(timezone.utc).date()


# The longest value the PDF prints. WeasyPrint's line breaking is super-linear in an unbreakable
# run (a 2,500-character name took 8 s, 10,000 took 43 s, a 10 MB version 353 s and 950 MB): longer
# values are cut with a visible mark and listed on the cover; cbom.cdx.json keeps them whole.
VALUE_LIMIT = 500
CUT_MARK = "…[cut]"


def shorten(scan: Scan, limit: int = VALUE_LIMIT) -> Tuple[Scan, List[str]]:
    """`scan` with every string longer than `limit` cut (ending in CUT_MARK), and one line per cut
    value saying where it was and how long it is (the first 20, then a count)."""
    cut: List[str] = []

    def s(value: str, where: str) -> str:
        if len(value) <= limit:
            return value
        cut.append(f"{where}: {len(value):,} characters")
        return value[:limit] + CUT_MARK

    def pairs(props: Iterable[Tuple[str, str]], where: str) -> Tuple[Tuple[str, str], ...]:
        return tuple((s(k, f"{where}: a property name"), s(v, f"{where}: property {k[:60]}")) for k, v in props)

    def component(c: Component) -> Component:
        where = f"{c.category.value} {c.name[:60]!r}"
        fields: Dict[str, Any] = {f: s(getattr(c, f), f"{where}: {f}") for f in (
            "name", "version", "group", "manufacturer", "supplier", "publisher", "description", "purl", "cpe")}
        return replace(c, **fields, licenses=tuple(s(x, f"{where}: licence") for x in c.licenses),
                       hashes=tuple((a, s(h, f"{where}: hash")) for a, h in c.hashes),
                       properties=pairs(c.properties, where))

    long_ = any(len(x) > limit for c in scan.components for x in _texts(c))
    components = tuple(component(c) for c in scan.components) if long_ else scan.components
    host = replace(scan.host, name=s(scan.host.name, "machine: name"),
                   manufacturer=s(scan.host.manufacturer, "machine: manufacturer"),
                   model=s(scan.host.model, "machine: model"), serial=s(scan.host.serial, "machine: serial"),
                   properties=pairs(scan.host.properties, "machine"))
    findings = tuple(replace(f, title=s(f.title, f"finding {f.id[:40]}: title"),
                             detail=s(f.detail, f"finding {f.id[:40]}: detail"),
                             evidence=tuple(s(e, f"finding {f.id[:40]}: evidence") for e in f.evidence))
                     for f in scan.findings)
    runs = tuple(replace(r, reason=s(r.reason, f"collector {r.name}: reason"),
                         gaps=tuple(s(g, f"collector {r.name}: gap") for g in r.gaps)) for r in scan.runs)
    vulns = tuple(replace(v, id=s(v.id, "vulnerability: id"), title=s(v.title, f"vulnerability {v.id[:40]}: title"),
                          recommendation=s(v.recommendation, f"vulnerability {v.id[:40]}: recommendation"),
                          source=s(v.source, f"vulnerability {v.id[:40]}: source"),
                          cycle=s(v.cycle, f"vulnerability {v.id[:40]}: cycle"))
                  for v in scan.vulnerabilities)
    out = replace(scan, components=components, host=host, findings=findings, runs=runs, vulnerabilities=vulns,
                  operator=s(scan.operator, "operator"), properties=pairs(scan.properties, "scan"))
    if len(cut) > 20:
        cut = cut[:20] + [f"and {len(cut) - 20:,} more values"]
    return out, cut


def _texts(c: Component) -> Iterable[str]:
    yield from (c.name, c.version, c.group, c.manufacturer, c.supplier, c.publisher, c.description, c.purl, c.cpe)
    yield from c.licenses
    for pair in c.hashes + c.properties:
        yield from pair


def build_view(
    scan: Scan, json_sha256: str, paper: str = "A4", pdf: bool = True, translate: Optional[Translate] = None
) -> Dict[str, Any]:
    """Everything the report template shows, computed from `scan` alone (texts through `translate`).

    In the PDF, values longer than VALUE_LIMIT are cut first (`shorten`) and `cut` says which;
    the HTML page, which a browser lays out in linear time, keeps them whole."""
    _ = translate or (lambda text, **kw: text.format(**kw) if kw else text)
    budget: List[Any] = [PDF_ROW_LIMIT, [], PDF_ROW_LIMIT]
    token = _rows_left.set(budget if pdf else None)
    # A cbom.i18n.Translator also gives the language's numbers, dates and generated texts.
    locale = _locale.set(translate if isinstance(translate, Translator) else _ENGLISH)
    try:
        view = _build_view(scan, json_sha256, paper, pdf, _)
        view["rows_cut"] = [{"title": _listing_title(key, _), "shown": fmt_int(shown), "more": fmt_int(more)}
                            for key, shown, more in budget[1]]
        view["row_limit"] = fmt_int(PDF_ROW_LIMIT)
    finally:
        _rows_left.reset(token)
        _locale.reset(locale)
    return view


def _listing_title(key: str, _: Translate) -> str:
    """The section a listing (by its key) is printed in, for the cover's list of shortened listings."""
    if key.startswith("sw-"):
        return _("Installed software") + f" ({clean(key[3:])})"
    titles = {"runs": "Collection status", "hardware": "Devices", "firmware": "Firmware",
              "certificates": "Cryptographic assets", "keys": "Cryptographic assets", "libraries": "Cryptographic assets",
              "algorithms": "Cryptographic assets", "accounts": "Security posture", "groups": "Security posture",
              "startup": "Security posture", "serial": "Security posture", "settings": "Security posture",
              "interfaces": "Network interfaces", "services": "Listening services", "hosts": "Observed hosts",
              "protocols": "Protocols", "talkers": "Flows", "conversations": "Flows",
              "eol": "End of life"}
    if key.startswith("vulns-"):
        return _("Known vulnerabilities")
    return _(titles.get(key, key))


def _build_view(scan: Scan, json_sha256: str, paper: str, pdf: bool, _: Translate) -> Dict[str, Any]:
    scan, cut = shorten(scan) if pdf else (scan, [])
    by_cat: Dict[Category, List[Component]] = {c: [] for c in Category}
    for comp in scan.components:
        by_cat[comp.category].append(comp)
    host_props = list(scan.host.properties)
    firmware, bios_age = _firmware(_, pdf, by_cat[Category.FIRMWARE], {c.ref: c for c in scan.components},
                                   _scan_date(scan))
    protos = _by_packets(by_cat[Category.OBSERVED_PROTOCOL])
    recorded_ip = _int(next((v for k, v in host_props if k == V.CAPTURE_CONVERSATIONS), ""))
    return {
        "pdf": pdf,
        "paper": "Letter" if paper.lower() == "letter" else "A4",
        "cover": _cover(scan, json_sha256, _),
        "summary": _summary(scan, by_cat, _),
        "runs": _runs(_, pdf, scan),
        "machine_facts": _machine_facts(scan, _),
        "hardware": _hardware(_, pdf, by_cat[Category.HARDWARE]),
        "firmware": firmware,
        "firmware_facts": _facts(host_props, FIRMWARE_FACTS, _),
        "bios_age": bios_age,
        "os": _operating_systems(_, by_cat[Category.OPERATING_SYSTEM]),
        "os_reported": [clean(v) for k, v in host_props if k == V.HOST_OS and v],
        "software": _software(_, pdf, by_cat[Category.SOFTWARE]),
        "software_total": len(by_cat[Category.SOFTWARE]),
        "interfaces": _interfaces(_, pdf, by_cat[Category.NETWORK_INTERFACE]),
        "services": _services(_, pdf, by_cat[Category.LISTENING_SERVICE]),
        "network_facts": _facts(host_props, NETWORK_FACTS, _),
        "hosts": _hosts(_, pdf, by_cat[Category.OBSERVED_HOST]),
        "protocols": _protocols(_, pdf, protos),
        "chart": _chart(protos, host_props),
        "flows": _flows(_, pdf, protos, by_cat[Category.OBSERVED_HOST], recorded_ip),
        "capture": _capture(scan, _),
        "findings": finding_groups(scan),
        "findings_total": len(scan.findings),
        "facts": [(clean(_label(k)), clean(v)) for k, v in scan.properties],
        "databases": _databases(scan, _),
        "not_ok": {s: _status_for(scan, s) for s in SECTION_AREAS},
        "crypto": _crypto(_, pdf, scan),
        "posture": _posture(_, pdf, scan),
        "known": _vulnerabilities(scan, _, pdf),
        "cut": [clean(_gen(line)) for line in cut],
        "value_limit": VALUE_LIMIT,
    }


def _explanation(details: Sequence[str]) -> str:
    """The sentences every detail of a group starts with (the finding kind's explanation), '' if none."""
    common = os.path.commonprefix(list(details))
    if len(details) < 2 or not common:
        return ""
    if common in details:  # one detail is the explanation alone
        return common
    cut = common.rfind(". ")
    return common[: cut + 1] if cut >= 0 else ""


def finding_groups(scan: Scan) -> List[Dict[str, Any]]:
    """Findings grouped by kind (id, title, severity), most severe first, each occurrence with its evidence.

    A capture raises one finding per pair of stations (23 "Modbus write" findings on a plant
    network): the auditor reads the explanation once, then one line of evidence per occurrence.
    Nothing is dropped: the text of each detail beyond the shared explanation stays with its
    occurrence unless it repeats that occurrence's evidence word for word.
    """
    names = {c.ref: f"{c.name} {c.version}".strip() for c in scan.components}
    groups: Dict[Tuple[int, str, str], List[Any]] = {}
    # Titles, details and cbom's own evidence lines in the report's language (collected values stay).
    findings = [replace(f, title=_gen(f.title), detail=_gen(f.detail), evidence=tuple(_gen(e) for e in f.evidence))
                for f in scan.findings]
    for f in sorted(findings, key=lambda f: (f.severity_rank, f.id, f.title, f.ref)):
        groups.setdefault((f.severity_rank, f.id, f.title), []).append(f)
    out = []
    for (_rank, fid, title), members in groups.items():
        explanation = _explanation([f.detail for f in members])
        occurrences = []
        for f in members:
            rest = f.detail[len(explanation):].strip() if explanation else f.detail
            occurrences.append({
                "detail": "" if rest in f.evidence else clean(rest),
                "evidence": [clean(e) for e in f.evidence],
                "refs": [clean(names.get(r, r)) for r in f.refs],
            })
        collectors = sorted({f.collector for f in members if f.collector})
        out.append({
            "id": clean(fid), "title": clean(title), "severity": members[0].severity.value,
            "explanation": clean(explanation), "count": len(members), "occurrences": occurrences,
            "collector": clean(", ".join(collectors)),
        })
    return out


def protocol_chart(
    values: Sequence[Tuple[str, float]], top: int = 15, width: float = 260.0, total: float = 0
) -> Dict[str, Any]:
    """Horizontal bars (inline SVG geometry) for the `top` protocols by packets; the rest summed in a line.

    Shares are of `total` (the packets of the capture) when given: protocols nest (s7comm
    rides in cotp in tpkt), so their counts overlap and do not add up to the capture.
    """
    values = list(values)
    shown = values[:top]
    biggest = max((v for _, v in shown), default=0) or 1
    total = total or sum(v for _, v in values) or 1
    bars = [
        {"label": clean(name), "value": fmt_int(int(v)), "width": round(max(1.0, v / biggest * width), 1),
         "y": i * 16, "share": _dec(v / total * 100, 1)}
        for i, (name, v) in enumerate(shown)
    ]
    if len(values) > top:  # the rest as one line of text, no bar: its sum would dwarf the real bars
        rest = sum(v for _, v in values[top:])
        bars.append({"label": _locale.get()("({n} others)", n=len(values) - top), "value": fmt_int(int(rest)), "width": 0,
                     "y": len(bars) * 16, "share": _dec(rest / total * 100, 1)})
    return {"bars": bars, "height": len(bars) * 16, "width": width}
