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
  evidence as `cbom:evidence` properties), then the known vulnerabilities and end-of-life
  cycles matched from the offline database (model.Vulnerability: source with name/url, rating
  with severity/score/vector/method, `affects` with the version range, published/updated,
  recommendation; `cbom:vuln:kind` tells them from findings when read back). The database's age
  is in metadata.properties (`cbom:vulndb:knowledge-date`, `:built`, `:source`, `:stale`).
"""
from __future__ import annotations

import json
import os
import re
import stat
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

from cbom import vocabulary as V

from .crypto_props import crypto_properties
from .model import (
    Category, CollectorRun, Component, Conversation, Finding, Host, Kind, Scan, Severity, Status, Vulnerability,
    VulnKind,
)

DEFAULT_SPEC = "1.6"
SPECS = ("1.6", "1.7")  # written
READABLE = ("1.2", "1.3", "1.4", "1.5", "1.6", "1.7")  # the component model cbom reads is the same in these
TOOL = "cbom"
RUN_FIELDS = ("status", "duration", "reason", "components", "gap")  # cbom:collector:<name>:<field>


class ReadError(ValueError):
    """The file is not a CycloneDX document cbom can read; the message says why in one line."""


class NotJson(ReadError):
    """The file parses with Python's json but is not JSON (RFC 8259): it holds NaN or Infinity.

    `cbom validate` calls such a document invalid (exit 1); `report` and `diff` refuse it (exit 2)."""


class NotCycloneDX(ReadError):
    """The file is JSON (or SPDX tag-value) of another format: `validate` cannot tell (exit 2)."""


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
    crypto = crypto_properties(c)  # CycloneDX 1.6 cryptoProperties, from the asset's cbom:crypto:* properties
    if crypto:
        d["cryptoProperties"] = crypto
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


def _datetime(day: str) -> str:
    """ "2017-03-14" -> "2017-03-14T00:00:00Z" (CycloneDX dates are date-times); "" when not a date."""
    if re.match(r"\d{4}-\d\d-\d\d$", day):
        return day + "T00:00:00Z"
    if re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", day):
        return day
    return ""


def _vers(v: Vulnerability, versions: Dict[str, str]) -> List[Dict[str, Any]]:
    """`affects[].versions`: the affected component's own version, and the source's range (VERS) when known."""
    out = []
    for ref in v.refs:
        entry: Dict[str, Any] = {"ref": ref}
        vs: List[Dict[str, str]] = []
        if versions.get(ref):
            vs.append({"version": versions[ref][:1024], "status": "affected"})
        if v.vers and len(v.vers) <= 4096:
            vs.append({"range": v.vers, "status": "affected"})
        if vs:
            entry["versions"] = vs
        out.append(entry)
    return out


def _vulnerability_dict(v: Vulnerability, versions: Dict[str, str]) -> Dict[str, Any]:
    rating: Dict[str, Any] = {"source": {"name": v.source}, "severity": v.severity.value, "method": v.method or "other"}
    if v.score is not None:
        rating["score"] = v.score
    if v.vector:
        rating["vector"] = v.vector
    d: Dict[str, Any] = {"bom-ref": make_vuln_ref(v), "id": v.id, "source": {"name": v.source}}
    if v.source_url:
        d["source"]["url"] = v.source_url
    d["ratings"] = [rating]
    if v.title:
        d["description"] = v.title
    if v.detail:
        d["detail"] = v.detail
    if v.recommendation:
        d["recommendation"] = v.recommendation
    for key, value in (("published", v.published), ("updated", v.updated)):
        if _datetime(value):
            d[key] = _datetime(value)
    if v.refs:
        d["affects"] = _vers(v, versions)
    props = [(V.VULN_KIND, v.kind.value)]
    if v.affected:
        props.append((V.VULN_AFFECTED, v.affected))
    if v.exploited:
        props.append((V.VULN_EXPLOITED, "true"))
    if v.confidence:
        props.append((V.VULN_CONFIDENCE, v.confidence))
    if v.eol_date:
        props.append((V.VULN_EOL_DATE, v.eol_date))
    if v.cycle:
        props.append((V.VULN_CYCLE, v.cycle))
    props.extend((V.VULN_ALIAS, a) for a in v.aliases)
    d["properties"] = _props(props)
    return d


def make_vuln_ref(v: Vulnerability) -> str:
    from .model import make_ref

    return make_ref("vulnerability", v.source, v.id, *v.refs)


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
    if scan.findings or scan.vulnerabilities:
        versions = {c.ref: c.version for c in scan.components}
        doc["vulnerabilities"] = [_finding_dict(f) for f in scan.findings] + \
            [_vulnerability_dict(v, versions) for v in scan.vulnerabilities]
    return doc


def dumps(doc: Dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# --- reading -------------------------------------------------------------------------------------

# The largest file `validate`, `report` and `diff` read. A CycloneDX document of 100,000 components
# is ~60 MB; past this a file is refused by name rather than parsed (json.loads needs ~10x its size
# in memory: 128 MiB is already ~1.3 GB, the most an old plant PC can spare).
MAX_BYTES = 128 << 20
_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def read_json(path: str) -> Any:
    """The parsed JSON of file `path`. Raises ReadError with one line saying what is wrong."""
    return parse_json(read_bytes(path), path)


def read_bytes(path: str, limit: int = MAX_BYTES) -> bytes:
    """The bytes of regular file `path`, at most `limit` of them. Raises ReadError (one line).

    Anything but a regular file is refused before a byte is read: a FIFO would block for ever
    and /dev/zero never ends (symlinks are followed: what they point to is checked).
    """
    # O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer (fifo(7)); for a regular
    # file the flag has no effect on reads. Windows has no such flag and no FIFO in its file system.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ReadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ReadError(f"{path}: is a directory, not a CycloneDX file") from None
    except OSError as exc:
        # Windows refuses to open a directory as a file with EACCES ("Permission denied"), and so
        # does POSIX for a directory the user may not list: a directory is said to be one.
        if os.path.isdir(path):
            raise ReadError(f"{path}: is a directory, not a CycloneDX file") from None
        raise ReadError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ReadError(f"{path}: is a directory, not a CycloneDX file")
        if not stat.S_ISREG(st.st_mode):
            what = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
            raise ReadError(f"{path}: is {what}, not a file: refused")
        if st.st_size > limit:
            raise ReadError(f"{path}: {st.st_size:,} bytes, more than the {limit:,} bytes cbom reads: refused")
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(limit + 1)  # +1: a file that grew while being read is still caught
    except OSError as exc:
        raise ReadError(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ReadError(f"{path}: more than the {limit:,} bytes cbom reads (the file grew while read): refused")
    return data


def parse_json(raw: bytes, path: str) -> Any:
    """`raw` (the bytes of file `path`) parsed as JSON. Raises ReadError."""
    if not raw.strip():
        raise ReadError(f"{path}: empty file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        # Python's json reads NaN, Infinity and -Infinity (JavaScript literals) as floats; RFC 8259
        # section 6: "Numeric values that cannot be represented ... (such as Infinity and NaN) are not
        # permitted". Such a file is refused here, for every command, rather than read as a number.
        return json.loads(text, parse_constant=_refuse_constant)
    except _Constant as exc:
        line, column = _constant_at(text)
        raise NotJson(f"{path}: not valid JSON (line {line}, column {column}: {exc} is not a JSON value, "
                      "RFC 8259)") from None
    except json.JSONDecodeError as exc:
        if _SPDX_TAG_VALUE.match(text):
            raise NotCycloneDX(f"{path}: an SPDX tag-value document, not CycloneDX JSON") from None
        what = "truncated" if _unclosed(text) else "not valid JSON"
        raise ReadError(f"{path}: {what} (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise ReadError(f"{path}: JSON nested too deeply to be a CycloneDX document") from None


class _Constant(Exception):
    """NaN, Infinity or -Infinity met by json.loads (the message is the literal)."""


def _refuse_constant(literal: str) -> Any:
    raise _Constant(literal)


# Strings (unrolled, no backtracking: the text parsed, every string is closed) or a non-JSON literal.
_LITERAL = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|-?Infinity|NaN', re.DOTALL)
# SPDX 2.x tag-value files open with comments or "SPDXVersion: SPDX-2.3" (SPDX spec, clause 6.1).
_SPDX_TAG_VALUE = re.compile(r"(?:\s*#[^\n]*\n)*\s*SPDXVersion\s*:")


def _constant_at(text: str) -> Tuple[int, int]:
    """Line and column (from 1) of the first NaN/Infinity outside a string of JSON-like `text`."""
    for m in _LITERAL.finditer(text):
        if m.group()[0] != '"':
            start = m.start()
            return text.count("\n", 0, start) + 1, start - text.rfind("\n", 0, start)
    return 0, 0  # not reached: json.loads met one


# One token per escape, quote or bracket: linear in the text, constant memory per match (a regex
# matching whole strings backtracked through ~240 bytes per character of a long cut-off string).
_TOKEN = re.compile(r'\\.|["\[\]{}]', re.DOTALL)


def _unclosed(text: str) -> bool:
    """Whether JSON `text` ends inside a string or with brackets left open (a file cut short)."""
    depth, in_string = 0, False
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok == '"':
            in_string = not in_string
        elif not in_string and tok[0] != "\\":
            depth += 1 if tok in "[{" else -1
    return in_string or depth > 0


# A lone UTF-16 surrogate (`"\ud800"` in JSON) is valid JSON text (RFC 8259 section 8.2 allows it) but
# no UTF-8 can hold it; json.loads joins every valid pair, so any surrogate left is a lone one.
_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogates(doc: Any) -> int:
    """How many lone surrogates the strings of `doc` hold (read as U+FFFD by `from_dict`)."""
    stack, n = [doc], 0
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            n += len(_SURROGATE.findall(v))
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return n


def load(path: str) -> Scan:
    """Read a CycloneDX JSON file into the model. Raises ReadError (one clear line)."""
    return from_dict(read_json(path), source=path)


class _Malformed(ValueError):
    """A part of the document that holds components has the wrong type (message: where and what)."""


class _Reader:
    """Reads the values of a parsed document by their expected JSON type.

    A value of the wrong type (a name given as a number, a list where an object belongs) is left
    out and noted (`notes`, first `NOTES_KEPT` of them), never passed on: every string of the
    model is a `str` and every list a list, whatever the file says.
    """

    NOTES_KEPT = 20

    def __init__(self) -> None:
        self.notes: List[str] = []
        self.ignored = 0
        self.surrogates = 0

    def note(self, where: str, value: Any, expected: str) -> None:
        self.ignored += 1
        if len(self.notes) < self.NOTES_KEPT:
            self.notes.append(f"{where} is {_json_type(value)}, not {expected}: ignored")

    def text(self, d: Dict[str, Any], key: str, where: str) -> str:
        """The string `d[key]`; "" when absent, null or of another type (noted)."""
        v = d.get(key)
        if v is None:
            return ""
        if not isinstance(v, str):
            self.note(_at(where, key), v, "a string")
            return ""
        if not v.isascii() and _SURROGATE.search(v):  # isascii() is a flag of the string: no scan
            self.surrogates += 1
            v = _SURROGATE.sub("\ufffd", v)
        return v

    def obj(self, d: Dict[str, Any], key: str, where: str, strict: bool = False) -> Dict[str, Any]:
        """The object `d[key]`; {} when absent, null or of another type (noted, or with `strict` an error)."""
        v = d.get(key)
        if v is None:
            return {}
        if not isinstance(v, dict):
            self.wrong(_at(where, key), v, "an object", strict)
            return {}
        return v

    def entries(self, d: Dict[str, Any], key: str, where: str, strict: bool = False) -> List[Tuple[str, Dict[str, Any]]]:
        """(where, object) of each object of list `d[key]`; entries of another type (and a non-list)
        noted and left out, or with `strict` a ReadError (a component left out would show in a
        diff as removed: the document's own lists must hold what they say)."""
        v = d.get(key)
        if v is None:
            return []
        if not isinstance(v, list):
            self.wrong(_at(where, key), v, "an array", strict)
            return []
        out = []
        for i, e in enumerate(v):
            if isinstance(e, dict):
                out.append((f"{_at(where, key)}[{i}]", e))
            else:
                self.wrong(f"{_at(where, key)}[{i}]", e, "an object", strict)
        return out

    def wrong(self, where: str, value: Any, expected: str, strict: bool) -> None:
        if strict:
            raise _Malformed(f"{where} is {_json_type(value)}, not {expected}")
        self.note(where, value, expected)

    def objects(self, d: Dict[str, Any], key: str, where: str) -> List[Dict[str, Any]]:
        """The objects of list `d[key]` (see `entries`)."""
        return [e for _, e in self.entries(d, key, where)]

    def texts(self, d: Dict[str, Any], key: str, where: str) -> List[str]:
        """The strings of list `d[key]` (other entries noted and left out)."""
        v = d.get(key)
        if v is None:
            return []
        if not isinstance(v, list):
            self.note(_at(where, key), v, "an array")
            return []
        out = []
        for i, e in enumerate(v):
            text = self.text({"v": e}, "v", f"{_at(where, key)}[{i}]")
            if text:
                out.append(text)
        return out

    def properties(self, d: Dict[str, Any], where: str) -> List[Tuple[str, str]]:
        """`d.properties` as (name, value) pairs; an entry without a string name is left out."""
        v = d.get("properties")
        if not isinstance(v, list):
            self.entries(d, "properties", where)  # noted unless absent
            return []
        out = []
        for i, p in enumerate(v):
            name, value = (p.get("name"), p.get("value")) if isinstance(p, dict) else (None, None)
            # The common case without a message to prepare: two ASCII strings (a component has ~25
            # properties; their locations as text were half the time of reading a 20,000-component CBOM).
            if type(name) is str and type(value) is str and name.isascii() and value.isascii():
                if name:
                    out.append((name, value))
                continue
            at = f"{_at(where, 'properties')}[{i}]"
            if not isinstance(p, dict):
                self.note(at, p, "an object")
                continue
            name = self.text(p, "name", at)
            if name:
                out.append((name, self.text(p, "value", at)))
        return out

    def name(self, d: Dict[str, Any], key: str, where: str) -> str:
        """The `name` of organisational entity `d[key]` (manufacturer, supplier)."""
        return self.text(self.obj(d, key, where), "name", f"{where}.{key}")


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    names: Dict[type, str] = {dict: "an object", list: "an array", str: "a string"}
    return names.get(type(value), type(value).__name__)


def from_dict(doc: Any, source: str = "document") -> Scan:
    """The Scan a CycloneDX JSON document describes (components of other tools included).

    Raises ReadError when `doc` is not a CycloneDX document of a readable version; values of the
    wrong type are left out (`read_dict` also returns the notes saying which).
    """
    return read_dict(doc, source)[0]


def check_format(doc: Any, source: str = "document") -> None:
    """Raise NotCycloneDX (one line) unless parsed JSON `doc` says it is CycloneDX ("bomFormat")."""
    if isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX":
        return
    kinds: Dict[type, str] = {dict: "object", list: "array"}
    what = "a JSON " + kinds.get(type(doc), type(doc).__name__)
    other = ""
    if isinstance(doc, dict) and "spdxVersion" in doc:  # SPDX 2.x JSON (SPDX spec 2.3, clause 6.1)
        version = doc["spdxVersion"]
        other = f": an SPDX document ({version[:20] if isinstance(version, str) else 'spdxVersion'})"
    raise NotCycloneDX(f"{source}: not a CycloneDX document ({what} without \"bomFormat\": \"CycloneDX\"){other}")


def read_dict(doc: Any, source: str = "document", like: Optional[Tuple[Any, Scan]] = None) -> Tuple[Scan, List[str]]:
    """`from_dict`, and one note per value left out for its type (at most a few, then a count).

    `like`: another document and the Scan read from it without a note (the OLD scan of a diff).
    A component whose JSON object equals the one of the same bom-ref there, with the same
    dependencies, is that Scan's Component, not read again: the result is the same, in a quarter of
    the time when two scans of one machine differ by a few components."""
    check_format(doc, source)
    spec = doc.get("specVersion")
    if spec not in READABLE:
        shown = spec if isinstance(spec, str) and spec else "(missing)" if spec is None else json.dumps(spec)[:40]
        raise ReadError(f"{source}: CycloneDX spec version {shown} is not supported "
                        f"(supported: {', '.join(READABLE)})")
    r = _Reader()
    try:
        meta = r.obj(doc, "metadata", "", strict=True)
        host = _read_host(r, r.obj(meta, "component", "metadata"))
        tools = meta.get("tools")
        tool_list = r.objects(meta, "tools", "metadata") if isinstance(tools, list) else \
            r.objects(r.obj(meta, "tools", "metadata"), "components", "metadata.tools")
        tool_version = next((r.text(t, "version", "metadata.tools") for t in tool_list
                             if t.get("name") == TOOL), "")
        authors = r.objects(meta, "authors", "metadata")
        props = r.properties(meta, "metadata")
        finished = next((_parse_ts_or_none(v) for k, v in props if k == V.SCAN_FINISHED), None)
        runs, rest = _read_runs(r, props)
        deps: Dict[str, Tuple[str, ...]] = {}
        for at, d in r.entries(doc, "dependencies", "", strict=True):
            ref = r.text(d, "ref", at)
            if ref:
                deps[ref] = tuple(r.texts(d, "dependsOn", at))
        known = _known_components(*like) if like else {}
        components = tuple(_known(known, c, deps) or _read_component(r, c, where, deps) for c, where in _flatten(r, doc))
        entries = r.entries(doc, "vulnerabilities", "", strict=True)
        # a known vulnerability (model.Vulnerability) carries cbom:vuln:kind; a Finding does not
        is_known = [any(isinstance(p, dict) and p.get("name") == V.VULN_KIND for p in (v.get("properties") or []))
                    for _at, v in entries]
        findings = tuple(_read_finding(r, v, at) for (at, v), k in zip(entries, is_known) if not k)
        vulnerabilities = tuple(_read_vulnerability(r, v, at) for (at, v), k in zip(entries, is_known) if k)
        scan = Scan(
            id=r.text(doc, "serialNumber", ""),
            started=_started(meta.get("timestamp")),
            tool_version=tool_version,
            host=host,
            operator=r.text(authors[0], "name", "metadata.authors[0]") if authors else "",
            finished=finished,
            components=components,
            findings=findings,
            vulnerabilities=vulnerabilities,
            runs=runs,
            properties=tuple(rest),
        )
    except RecursionError:
        raise ReadError(f"{source}: malformed CycloneDX {spec}: nested too deeply") from None
    except _Malformed as exc:
        raise ReadError(f"{source}: malformed CycloneDX {spec}: {exc}") from None
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # a last guard: tests/adversarial fuzz it
        raise ReadError(f"{source}: malformed CycloneDX {spec}: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    notes = [f"{source}: {n}" for n in r.notes]
    if r.ignored > len(r.notes):
        notes.append(f"{source}: {r.ignored - len(r.notes)} more values of the wrong type ignored")
    if r.surrogates:
        notes.append(f"{source}: {r.surrogates} string(s) hold a lone UTF-16 surrogate (\\ud800-\\udfff), "
                     "which no UTF-8 text can hold: read as U+FFFD")
    return scan, notes


def _known_components(doc: Any, scan: Scan) -> Dict[str, Tuple[Dict[str, Any], Component]]:
    """bom-ref -> (JSON object, Component) of a document `scan` was read from (see `read_dict`)."""
    try:
        dicts = [c for c, _where in _flatten(_Reader(), doc)]  # the walk that made scan.components
    except _Malformed:
        return {}
    if len(dicts) != len(scan.components):  # not the document `scan` was read from: nothing known
        return {}
    return {c.ref: (d, c) for d, c in zip(dicts, scan.components) if c.ref}


def _known(known: Dict[str, Tuple[Dict[str, Any], Component]], d: Dict[str, Any],
           deps: Dict[str, Tuple[str, ...]]) -> Optional[Component]:
    """The known Component of JSON object `d` (equal object, same dependencies), or None."""
    ref = d.get("bom-ref")
    if not isinstance(ref, str):
        return None
    hit = known.get(ref)
    if hit is not None and hit[0] == d and hit[1].depends_on == deps.get(ref, ()):
        return hit[1]
    return None


def _started(value: Any) -> datetime:
    """metadata.timestamp; the epoch when absent or not a date (syft's golden files say
    "timestamp:redacted", cyclonedx-py --output-reproducible writes none)."""
    return _parse_ts_or_none(value) or datetime.fromtimestamp(0, timezone.utc)


def _parse_ts_or_none(value: Any) -> Optional[datetime]:
    if not isinstance(value, str) or not value:
        return None
    try:
        return _parse_ts(value)
    except (ValueError, OverflowError):
        return None


def _parse_ts(value: str) -> datetime:
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _flatten(r: _Reader, doc: Dict[str, Any]) -> List[Tuple[Dict[str, Any], str]]:
    """Every component, nested ones after their parent, with where it is in the document."""
    out: List[Tuple[Dict[str, Any], str]] = []
    stack = [(c, at) for at, c in r.entries(doc, "components", "", strict=True)][::-1]
    while stack:  # a loop, not recursion: nesting depth is the file's choice
        c, where = stack.pop()
        out.append((c, where))
        stack.extend([(s, at) for at, s in r.entries(c, "components", where, strict=True)][::-1])
    return out


def _read_host(r: _Reader, d: Dict[str, Any]) -> Host:
    props = r.properties(d, "metadata.component")
    model = next((v for k, v in props if k == V.HOST_MODEL), "")
    serial = next((v for k, v in props if k == V.SERIAL_NUMBER), "")
    rest = tuple((k, v) for k, v in props if k not in (V.HOST_MODEL, V.SERIAL_NUMBER))
    return Host(name=r.text(d, "name", "metadata.component"), manufacturer=r.name(d, "manufacturer", "metadata.component"),
                model=model, serial=serial, properties=rest)


def _number(r: _Reader, value: str, where: str, convert: Any) -> Any:
    """`convert(value)` (int or float); 0 when empty, not a finite number (noted) or out of range."""
    if not value:
        return 0
    try:
        n = convert(value)
    except (ValueError, OverflowError):
        n = None
    if n is None or n != n or n in (float("inf"), float("-inf")) or n < 0:
        r.ignored += 1
        if len(r.notes) < r.NOTES_KEPT:
            r.notes.append(f"{where} is {value[:40]!r}, not a finite number: ignored")
        return 0
    return n


def _read_runs(r: _Reader, props: List[Tuple[str, str]]) -> Tuple[Tuple[CollectorRun, ...], List[Tuple[str, str]]]:
    fields: Dict[str, Dict[str, Any]] = {}
    rest = []
    for k, v in props:
        if k == V.SCAN_FINISHED:
            continue
        if k.startswith(V.COLLECTOR_PREFIX) and k.rsplit(":", 1)[-1] in RUN_FIELDS and k.count(":") >= 3:
            name, field = k[len(V.COLLECTOR_PREFIX):].rsplit(":", 1)
            entry = fields.setdefault(name, {"gap": []})
            if field == "gap":
                entry["gap"].append(v)
            else:
                entry[field] = v
        else:
            rest.append((k, v))
    runs = []
    for name, f in fields.items():
        where = f"metadata.properties {V.COLLECTOR_PREFIX}{name}"
        try:
            status = Status(f.get("status", "failed"))
        except ValueError:
            r.note(f"{where}:status", f.get("status"), "ok/partial/skipped/failed")
            status = Status.FAILED
        runs.append(CollectorRun(
            name=name,
            status=status,
            duration=float(_number(r, f.get("duration", ""), f"{where}:duration", float)),
            reason=f.get("reason", ""),
            components=int(_number(r, f.get("components", ""), f"{where}:components", int)),
            gaps=tuple(f["gap"]),
        ))
    return tuple(runs), rest


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


def _read_license(r: _Reader, entry: Dict[str, Any], where: str) -> str:
    if "expression" in entry:
        return r.text(entry, "expression", where)
    lic = r.obj(entry, "license", where)
    return r.text(lic, "id", f"{where}.license") or r.text(lic, "name", f"{where}.license")


def _read_component(r: _Reader, d: Dict[str, Any], where: str, deps: Dict[str, Tuple[str, ...]]) -> Component:
    try:
        kind = Kind(r.text(d, "type", where) or "library")
    except ValueError:  # a type of a newer spec than this cbom knows
        kind = Kind.LIBRARY
    props = r.properties(d, where)
    ref = r.text(d, "bom-ref", where)
    conversations: List[Conversation] = []
    rest: List[Tuple[str, str]] = []
    for k, v in props:
        t = parse_conversation_property(k, v) if k in (V.NET_CONVERSATION, V.NET_L2_CONVERSATION) else None
        if t is not None:
            conversations.append(t)
        elif k != V.CATEGORY:
            rest.append((k, v))
    hashes = []
    for at, h in r.entries(d, "hashes", where):
        alg, content = r.text(h, "alg", at), r.text(h, "content", at)
        if alg and content:
            hashes.append((alg, content))
    return Component(
        category=_category(props, kind),
        kind=kind,
        name=r.text(d, "name", where),
        version=r.text(d, "version", where),
        ref=ref,
        group=r.text(d, "group", where),
        manufacturer=r.name(d, "manufacturer", where),
        supplier=r.name(d, "supplier", where),
        publisher=r.text(d, "publisher", where),
        description=r.text(d, "description", where),
        purl=r.text(d, "purl", where),
        cpe=r.text(d, "cpe", where),
        licenses=tuple(x for x in (_read_license(r, e, at) for at, e in r.entries(d, "licenses", where)) if x),
        hashes=tuple(hashes),
        properties=tuple(rest),
        depends_on=deps.get(ref, ()),
        conversations=tuple(conversations),
    )


def _read_finding(r: _Reader, d: Dict[str, Any], where: str) -> Finding:
    ratings = r.objects(d, "ratings", where)
    severity = r.text(ratings[0], "severity", f"{where}.ratings[0]") if ratings else ""
    try:
        sev = Severity(severity or "unknown")
    except ValueError:
        r.note(f"{where}.ratings[0].severity", severity, "a CycloneDX severity")
        sev = Severity.UNKNOWN
    props = r.properties(d, where)
    return Finding(
        id=r.text(d, "id", where),
        title=r.text(d, "description", where),
        severity=sev,
        detail=r.text(d, "detail", where),
        evidence=tuple(v for k, v in props if k == V.EVIDENCE),
        refs=tuple(x for x in (r.text(a, "ref", at) for at, a in r.entries(d, "affects", where)) if x),
        collector=next((v for k, v in props if k == V.FINDING_COLLECTOR), ""),
        ref=r.text(d, "bom-ref", where),
    )


def _read_vulnerability(r: _Reader, d: Dict[str, Any], where: str) -> Vulnerability:
    ratings = r.objects(d, "ratings", where)
    rating = ratings[0] if ratings else {}
    at = f"{where}.ratings[0]"
    try:
        sev = Severity(r.text(rating, "severity", at) or "unknown")
    except ValueError:
        r.note(f"{at}.severity", rating.get("severity"), "a CycloneDX severity")
        sev = Severity.UNKNOWN
    score = rating.get("score")
    props = r.properties(d, where)
    pd: Dict[str, str] = {}
    for k, v in props:
        pd.setdefault(k, v)
    try:
        kind = VulnKind(pd.get(V.VULN_KIND, VulnKind.VULNERABILITY.value))
    except ValueError:
        r.note(f"{where}.properties", pd.get(V.VULN_KIND), "a cbom vulnerability kind")
        kind = VulnKind.VULNERABILITY
    source = r.obj(d, "source", where)
    return Vulnerability(
        id=r.text(d, "id", where),
        source=r.text(source, "name", f"{where}.source"),
        source_url=r.text(source, "url", f"{where}.source"),
        kind=kind,
        severity=sev,
        score=float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None,
        vector=r.text(rating, "vector", at),
        method=r.text(rating, "method", at),
        title=r.text(d, "description", where),
        detail=r.text(d, "detail", where),
        refs=tuple(x for x in (r.text(a, "ref", at2) for at2, a in r.entries(d, "affects", where)) if x),
        affected=pd.get(V.VULN_AFFECTED, ""),
        published=r.text(d, "published", where)[:10],
        updated=r.text(d, "updated", where)[:10],
        recommendation=r.text(d, "recommendation", where),
        exploited=pd.get(V.VULN_EXPLOITED) == "true",
        confidence=pd.get(V.VULN_CONFIDENCE, ""),
        eol_date=pd.get(V.VULN_EOL_DATE, ""),
        cycle=pd.get(V.VULN_CYCLE, ""),
        aliases=tuple(v for k, v in props if k == V.VULN_ALIAS),
        vers=next((r.text(x, "range", at2) for at2, a in r.entries(d, "affects", where)[:1]
                   for _at3, x in r.entries(a, "versions", at2) if x.get("range")), ""),
    )
