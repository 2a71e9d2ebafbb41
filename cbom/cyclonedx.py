"""CycloneDX JSON from the model, and back.

The document is built directly from the model as plain dicts (cyclonedx-python-lib
takes seconds for thousands of components, see README "Design"); it is
validated against the library's own schema files, and tests load it with the
library's deserializer and strict validator.

Mapping (all custom names in the `cbom:` namespace):
- metadata.component: the machine (device); serial in `cdx:device:serialNumber`.
- metadata.authors: the operator.
- metadata.properties: scan facts, and one group per collector run:
  `cbom:collector:<name>:status|duration|reason|components|gap`.
- components: every Component, `cbom:category` first among its properties.
- dependencies: Component.depends_on (e.g. firmware → the hardware it runs on).
- vulnerabilities: Findings (source `cbom`, one rating with the severity,
  evidence as `cbom:evidence` properties).
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

from cbom import vocabulary as V

from .model import (
    Category, CollectorRun, Component, Conversation, Finding, Host, Kind, Scan, Severity, Status,
)

DEFAULT_SPEC = "1.6"
SPECS = ("1.6", "1.7")  # written
READABLE = ("1.2", "1.3", "1.4", "1.5", "1.6", "1.7")  # the component model cbom reads is the same in these
TOOL = "cbom"
RUN_FIELDS = ("status", "duration", "reason", "components", "gap")  # cbom:collector:<name>:<field>


class ReadError(ValueError):
    """The file is not a CycloneDX document cbom can read; the message says why in one line."""


def _ts(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _props(pairs) -> List[Dict[str, str]]:
    return [{"name": k, "value": v} for k, v in pairs]


@lru_cache(maxsize=1)
def spdx_ids() -> FrozenSet[str]:
    """The SPDX licence ids CycloneDX accepts in `license.id` (from the schema files)."""
    from .validate import _load

    return frozenset(_load("spdx.SNAPSHOT.schema.json")["enum"])


def _licenses(values: Tuple[str, ...]) -> List[dict]:
    if len(values) == 1 and any(op in values[0] for op in (" AND ", " OR ", " WITH ")):
        return [{"expression": values[0]}]
    ids = spdx_ids()
    return [{"license": {"id": v}} if v in ids else {"license": {"name": v}} for v in values]


def component_dict(c: Component) -> Dict[str, Any]:
    d: Dict[str, Any] = {"type": c.kind.value, "bom-ref": c.ref}
    if c.supplier:
        d["supplier"] = {"name": c.supplier}
    if c.manufacturer:
        d["manufacturer"] = {"name": c.manufacturer}
    if c.publisher:
        d["publisher"] = c.publisher
    if c.group:
        d["group"] = c.group
    d["name"] = c.name
    if c.version:
        d["version"] = c.version
    if c.description:
        d["description"] = c.description
    if c.hashes:
        d["hashes"] = [{"alg": a, "content": h} for a, h in c.hashes]
    if c.licenses:
        d["licenses"] = _licenses(c.licenses)
    if c.cpe:
        d["cpe"] = c.cpe
    if c.purl:
        d["purl"] = c.purl
    d["properties"] = _props(((V.CATEGORY, c.category.value),) + c.properties
                             + tuple(conversation_property(t) for t in c.conversations))
    return d


def conversation_property(t: Conversation) -> Tuple[str, str]:
    """A conversation as one property: `cbom:net:conversation` = "tcp A:p B:p PKTS BYTES FIRST LAST",
    or on a protocol without IP `cbom:net:l2-conversation` = "MAC MAC PKTS BYTES FIRST LAST"
    (A is the side that spoke first; FIRST/LAST are ISO 8601 UTC, empty when unknown)."""
    if t.transport:
        return V.NET_CONVERSATION, "%s %s %s %d %d %s %s" % (t.transport, t.src, t.dst, t.packets, t.bytes,
                                                             t.first, t.last)
    return V.NET_L2_CONVERSATION, "%s %s %d %d %s %s" % (t.src, t.dst, t.packets, t.bytes, t.first, t.last)


def parse_conversation_property(name: str, value: str) -> Optional[Conversation]:
    """The Conversation of a `conversation_property`, None when `value` is malformed (then the
    property is kept as it is, for the report to show)."""
    parts = value.split()
    transport = ""
    if name == V.NET_CONVERSATION:
        if not parts or parts[0] not in ("tcp", "udp"):
            return None
        transport, parts = parts[0], parts[1:]
    elif name != V.NET_L2_CONVERSATION:
        return None
    if len(parts) < 4 or not parts[2].isdigit() or not parts[3].isdigit():
        return None
    return Conversation(transport, parts[0], parts[1], int(parts[2]), int(parts[3]),
                        parts[4] if len(parts) > 4 else "", parts[5] if len(parts) > 5 else "")


def _host_dict(h: Host) -> Dict[str, Any]:
    d: Dict[str, Any] = {"type": "device", "bom-ref": h.ref}
    if h.manufacturer:
        d["manufacturer"] = {"name": h.manufacturer}
    d["name"] = h.name
    props = []
    if h.model:
        props.append((V.HOST_MODEL, h.model))
    if h.serial:
        props.append((V.SERIAL_NUMBER, h.serial))
    props.extend(h.properties)
    if props:
        d["properties"] = _props(props)
    return d


def _run_props(run: CollectorRun) -> List[Tuple[str, str]]:
    def p(field: str) -> str:
        return V.collector_property(run.name, field)

    out = [(p("status"), run.status.value), (p("duration"), f"{run.duration:.3f}")]
    if run.reason:
        out.append((p("reason"), run.reason))
    out.append((p("components"), str(run.components)))
    out.extend((p("gap"), g) for g in run.gaps)
    return out


def _finding_dict(f: Finding) -> Dict[str, Any]:
    d: Dict[str, Any] = {
        "bom-ref": f.ref,
        "id": f.id,
        "source": {"name": TOOL},
        "ratings": [{"severity": f.severity.value, "method": "other"}],
        "description": f.title,
    }
    if f.detail:
        d["detail"] = f.detail
    if f.refs:
        d["affects"] = [{"ref": r} for r in f.refs]
    props = [(V.EVIDENCE, e) for e in f.evidence]
    if f.collector:
        props.append((V.FINDING_COLLECTOR, f.collector))
    if props:
        d["properties"] = _props(props)
    return d


def to_dict(scan: Scan, spec: str = DEFAULT_SPEC) -> Dict[str, Any]:
    """The CycloneDX document (as plain JSON-able dicts) for `scan`."""
    if spec not in SPECS:
        raise ValueError(f"CycloneDX {spec} is not written (choose {' or '.join(SPECS)})")
    meta: Dict[str, Any] = {
        "timestamp": _ts(scan.started),
        "lifecycles": [{"phase": "operations"}],
        "tools": {"components": [{"type": "application", "name": TOOL, "version": scan.tool_version}]},
    }
    if scan.operator:
        meta["authors"] = [{"name": scan.operator}]
    meta["component"] = _host_dict(scan.host)
    props: List[Tuple[str, str]] = []
    if scan.finished:
        props.append((V.SCAN_FINISHED, _ts(scan.finished)))
    props.extend(scan.properties)
    for run in scan.runs:
        props.extend(_run_props(run))
    if props:
        meta["properties"] = _props(props)
    doc: Dict[str, Any] = {
        "$schema": f"http://cyclonedx.org/schema/bom-{spec}.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": spec,
        "serialNumber": scan.id,
        "version": 1,
        "metadata": meta,
        "components": [component_dict(c) for c in scan.components],
    }
    deps = [{"ref": c.ref, "dependsOn": list(c.depends_on)} for c in scan.components if c.depends_on]
    if deps:
        doc["dependencies"] = deps
    if scan.findings:
        doc["vulnerabilities"] = [_finding_dict(f) for f in scan.findings]
    return doc


def dumps(doc: Dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# --- reading -------------------------------------------------------------------------------------


def read_json(path: str) -> Any:
    """The parsed JSON of file `path`. Raises ReadError with one line saying what is wrong."""
    return parse_json(read_bytes(path), path)


def read_bytes(path: str) -> bytes:
    """The bytes of file `path`. Raises ReadError with one line saying what is wrong."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise ReadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ReadError(f"{path}: is a directory, not a CycloneDX file") from None
    except OSError as exc:
        raise ReadError(f"{path}: cannot read: {exc.strerror or exc}") from None


def parse_json(raw: bytes, path: str) -> Any:
    """`raw` (the bytes of file `path`) parsed as JSON. Raises ReadError."""
    if not raw.strip():
        raise ReadError(f"{path}: empty file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        what = "truncated" if _unclosed(text) else "not valid JSON"
        raise ReadError(f"{path}: {what} (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise ReadError(f"{path}: JSON nested too deeply to be a CycloneDX document") from None


_STRUCT = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _unclosed(text: str) -> bool:
    """Whether JSON `text` ends inside a string or with brackets left open (a file cut short)."""
    depth = 0
    for m in _STRUCT.finditer(text):
        tok = m.group()
        if tok[0] == '"':
            if not _STRING.fullmatch(tok):
                return True  # a string that runs to the end of the text
            continue
        depth += 1 if tok in "[{" else -1
    return depth > 0


def load(path: str) -> Scan:
    """Read a CycloneDX JSON file into the model. Raises ReadError (one clear line)."""
    return from_dict(read_json(path), source=path)


def from_dict(doc: Any, source: str = "document") -> Scan:
    """The Scan a CycloneDX JSON document describes (components of other tools included)."""
    if not isinstance(doc, dict) or doc.get("bomFormat") != "CycloneDX":
        kinds: Dict[type, str] = {dict: "object", list: "array"}
        what = "a JSON " + kinds.get(type(doc), type(doc).__name__)
        raise ReadError(f"{source}: not a CycloneDX document ({what} without \"bomFormat\": \"CycloneDX\")")
    spec = str(doc.get("specVersion", ""))
    if spec not in READABLE:
        raise ReadError(f"{source}: CycloneDX spec version {spec or '(missing)'} is not supported "
                        f"(supported: {', '.join(READABLE)})")
    try:
        meta = doc.get("metadata") or {}
        host = _read_host(meta.get("component") or {})
        tools = meta.get("tools") or {}
        tool_list = tools.get("components", []) if isinstance(tools, dict) else tools
        tool_version = next((t.get("version", "") for t in tool_list if t.get("name") == TOOL), "")
        authors = meta.get("authors") or []
        props = [(p["name"], p.get("value", "")) for p in meta.get("properties") or []]
        finished = next((_parse_ts(v) for k, v in props if k == V.SCAN_FINISHED), None)
        runs, rest = _read_runs(props)
        deps = {d["ref"]: tuple(d.get("dependsOn") or ()) for d in doc.get("dependencies") or []}
        components = tuple(_read_component(c, deps) for c in _flatten(doc.get("components") or []))
        findings = tuple(_read_finding(v) for v in doc.get("vulnerabilities") or [])
        return Scan(
            id=doc.get("serialNumber", ""),
            started=_started(meta.get("timestamp")),
            tool_version=tool_version,
            host=host,
            operator=authors[0].get("name", "") if authors else "",
            finished=finished,
            components=components,
            findings=findings,
            runs=runs,
            properties=tuple(rest),
        )
    except ReadError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError) as exc:
        raise ReadError(f"{source}: malformed CycloneDX {spec}: {type(exc).__name__}: {exc}".splitlines()[0]) from None


def _started(value: Any) -> datetime:
    """metadata.timestamp; the epoch when absent or not a date (syft's golden files say
    "timestamp:redacted", cyclonedx-py --output-reproducible writes none)."""
    if isinstance(value, str) and value:
        try:
            return _parse_ts(value)
        except ValueError:
            pass
    return datetime.fromtimestamp(0, timezone.utc)


def _parse_ts(value: str) -> datetime:
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _flatten(components: List[dict]) -> List[dict]:
    out = []
    for c in components:
        out.append(c)
        out.extend(_flatten(c.get("components") or []))
    return out


def _name(entity: Any) -> str:
    return entity.get("name", "") if isinstance(entity, dict) else ""


def _read_host(d: dict) -> Host:
    props = [(p["name"], p.get("value", "")) for p in d.get("properties") or []]
    model = next((v for k, v in props if k == V.HOST_MODEL), "")
    serial = next((v for k, v in props if k == V.SERIAL_NUMBER), "")
    rest = tuple((k, v) for k, v in props if k not in (V.HOST_MODEL, V.SERIAL_NUMBER))
    return Host(name=d.get("name", ""), manufacturer=_name(d.get("manufacturer")), model=model, serial=serial, properties=rest)


def _read_runs(props: List[Tuple[str, str]]) -> Tuple[Tuple[CollectorRun, ...], List[Tuple[str, str]]]:
    fields: Dict[str, Dict[str, Any]] = {}
    rest = []
    for k, v in props:
        if k == V.SCAN_FINISHED:
            continue
        if k.startswith(V.COLLECTOR_PREFIX) and k.rsplit(":", 1)[-1] in RUN_FIELDS:
            name, field = k[len(V.COLLECTOR_PREFIX):].rsplit(":", 1)
            entry = fields.setdefault(name, {"gap": []})
            if field == "gap":
                entry["gap"].append(v)
            else:
                entry[field] = v
        else:
            rest.append((k, v))
    runs = tuple(
        CollectorRun(
            name=name,
            status=Status(f.get("status", "failed")),
            duration=float(f.get("duration", 0) or 0),
            reason=f.get("reason", ""),
            components=int(f.get("components", 0) or 0),
            gaps=tuple(f["gap"]),
        )
        for name, f in fields.items()
    )
    return runs, rest


def _category(props: List[Tuple[str, str]], kind: Kind) -> Category:
    value = next((v for k, v in props if k == V.CATEGORY), "")
    try:
        return Category(value)
    except ValueError:
        pass
    # Documents of other tools (Syft, Trivy, cyclonedx-py) carry no category: infer it from the type.
    return {
        Kind.DEVICE: Category.HARDWARE,
        Kind.FIRMWARE: Category.FIRMWARE,
        Kind.OPERATING_SYSTEM: Category.OPERATING_SYSTEM,
        Kind.CRYPTOGRAPHIC_ASSET: Category.CRYPTO,
    }.get(kind, Category.SOFTWARE)


def _read_license(entry: dict) -> str:
    if "expression" in entry:
        return entry["expression"]
    lic = entry.get("license") or {}
    return lic.get("id") or lic.get("name") or ""


def _read_component(d: dict, deps: Dict[str, Tuple[str, ...]]) -> Component:
    try:
        kind = Kind(d.get("type", "library"))
    except ValueError:  # a type of a newer spec than this cbom knows
        kind = Kind.LIBRARY
    props = [(p["name"], p.get("value", "")) for p in d.get("properties") or []]
    ref = d.get("bom-ref") or ""
    conversations: List[Conversation] = []
    rest: List[Tuple[str, str]] = []
    for k, v in props:
        t = parse_conversation_property(k, v) if k in (V.NET_CONVERSATION, V.NET_L2_CONVERSATION) else None
        if t is not None:
            conversations.append(t)
        elif k != V.CATEGORY:
            rest.append((k, v))
    return Component(
        category=_category(props, kind),
        kind=kind,
        name=d.get("name", ""),
        version=d.get("version", "") or "",
        ref=ref,
        group=d.get("group", "") or "",
        manufacturer=_name(d.get("manufacturer")),
        supplier=_name(d.get("supplier")),
        publisher=d.get("publisher", "") or "",
        description=d.get("description", "") or "",
        purl=d.get("purl", "") or "",
        cpe=d.get("cpe", "") or "",
        licenses=tuple(x for x in (_read_license(e) for e in d.get("licenses") or []) if x),
        hashes=tuple((h["alg"], h["content"]) for h in d.get("hashes") or []),
        properties=tuple(rest),
        depends_on=deps.get(ref, ()),
        conversations=tuple(conversations),
    )


def _read_finding(d: dict) -> Finding:
    ratings = d.get("ratings") or [{}]
    props = [(p["name"], p.get("value", "")) for p in d.get("properties") or []]
    return Finding(
        id=d.get("id", ""),
        title=d.get("description", ""),
        severity=Severity(ratings[0].get("severity", "unknown")),
        detail=d.get("detail", ""),
        evidence=tuple(v for k, v in props if k == V.EVIDENCE),
        refs=tuple(a["ref"] for a in d.get("affects") or []),
        collector=next((v for k, v in props if k == V.FINDING_COLLECTOR), ""),
        ref=d.get("bom-ref", ""),
    )

