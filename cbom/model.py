"""The one typed model between collectors and writers.

Collectors yield `Component`, `Finding`, `Gap` and `HostFact` items; the runner
assembles them into a `Scan`; writers and the reader only see `Scan`.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Iterable, Optional, Tuple, Union

Props = Tuple[Tuple[str, str], ...]


class Category(str, Enum):
    """Value of the `cbom:category` property carried by every component."""

    HARDWARE = "hardware"
    FIRMWARE = "firmware"
    OPERATING_SYSTEM = "operating-system"
    SOFTWARE = "software"
    NETWORK_INTERFACE = "network-interface"
    LISTENING_SERVICE = "listening-service"
    OBSERVED_HOST = "observed-host"
    OBSERVED_PROTOCOL = "observed-protocol"
    CRYPTO = "crypto"
    POSTURE = "security-posture"  # accounts, groups, what starts by itself (collectors/posture)


class Kind(str, Enum):
    """CycloneDX component type."""

    APPLICATION = "application"
    LIBRARY = "library"
    FRAMEWORK = "framework"
    CONTAINER = "container"
    PLATFORM = "platform"
    OPERATING_SYSTEM = "operating-system"
    DEVICE = "device"
    DEVICE_DRIVER = "device-driver"
    FIRMWARE = "firmware"
    FILE = "file"
    DATA = "data"
    MACHINE_LEARNING_MODEL = "machine-learning-model"
    CRYPTOGRAPHIC_ASSET = "cryptographic-asset"


class Status(str, Enum):
    OK = "ok"
    PARTIAL = "partial"
    SKIPPED = "skipped"
    FAILED = "failed"


class Severity(str, Enum):
    """CycloneDX rating severities, most severe first."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"
    NONE = "none"
    UNKNOWN = "unknown"


class Platform(str, Enum):
    LINUX = "linux"
    WINDOWS = "windows"
    DARWIN = "darwin"


def make_ref(category: str, *identity: str) -> str:
    """A deterministic bom-ref from the fields that identify a component.

    Readable prefix plus a short hash, so two scans of one machine give the
    same ref for the same thing and refs never collide on odd characters.
    """
    key = "\x1f".join((category,) + tuple(identity))
    return f"{category}:{hashlib.sha256(key.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}"


@dataclass(frozen=True)
class Conversation:
    """One conversation the passive capture counted, carried typed to the writer.

    The CycloneDX writer serialises it as one property (cbom.cyclonedx.conversation_property)
    and the reader parses it back, so nothing between them handles its text form.
    """

    transport: str  # "tcp" or "udp"; "" on a protocol without IP (LLDP, PROFINET DCP…)
    src: str  # the side that spoke first: "192.0.2.1:1234", "[2001:db8::1]:80", or a MAC
    dst: str
    packets: int
    bytes: int
    first: str = ""  # ISO 8601 UTC, "" when unknown
    last: str = ""


@dataclass(frozen=True)
class Component:
    """One inventoried thing: a package, a device, an interface, a host seen on the wire…"""

    category: Category
    kind: Kind
    name: str
    version: str = ""
    ref: str = ""  # derived from category/name/version/purl when left empty
    group: str = ""
    manufacturer: str = ""
    supplier: str = ""
    publisher: str = ""
    description: str = ""
    purl: str = ""
    cpe: str = ""
    licenses: Tuple[str, ...] = ()  # SPDX ids, or free text where no id maps
    hashes: Tuple[Tuple[str, str], ...] = ()  # (CycloneDX alg, hex)
    properties: Props = ()  # (name, value); names may repeat (e.g. one per address)
    depends_on: Tuple[str, ...] = ()  # refs of the components this one runs on / needs
    conversations: Tuple[Conversation, ...] = ()  # an observed protocol's conversations

    def __post_init__(self) -> None:
        if not self.ref:
            object.__setattr__(
                self, "ref", make_ref(self.category.value, self.purl or f"{self.group}/{self.name}@{self.version}")
            )

    def prop(self, name: str, default: str = "") -> str:
        """First value of property `name`."""
        return next((v for k, v in self.properties if k == name), default)

    def props(self, name: str) -> Tuple[str, ...]:
        """Every value of property `name`, in order."""
        return tuple(v for k, v in self.properties if k == name)


@dataclass(frozen=True)
class Finding:
    """Something an auditor should look at, with its evidence."""

    id: str  # stable kind of finding, e.g. "CBOM-SECUREBOOT-OFF"
    title: str  # one line
    severity: Severity = Severity.INFO
    detail: str = ""
    evidence: Tuple[str, ...] = ()
    refs: Tuple[str, ...] = ()  # components concerned
    collector: str = ""
    ref: str = ""

    def __post_init__(self) -> None:
        if not self.ref:
            object.__setattr__(self, "ref", make_ref("finding", self.id, *self.refs, *self.evidence))

    @property
    def severity_rank(self) -> int:
        return list(Severity).index(self.severity)


class VulnKind(str, Enum):
    """What a matched piece of offline knowledge says about a component."""

    VULNERABILITY = "vulnerability"  # a published advisory (CVE, GHSA, OSV, CSAF) applies
    END_OF_LIFE = "end-of-life"  # the component's release cycle is out of support


@dataclass(frozen=True)
class Vulnerability:
    """A known vulnerability or end of life matched from the offline database (cbom/vulndb).

    Distinct from `Finding` (what cbom itself observed): this is what a publisher states,
    with the publisher named in `source` and the reason of the match in `matched`.
    """

    id: str  # "CVE-2017-0144", "GHSA-…", "PYSEC-…", "EOL-windows-5-sp3"
    source: str  # publisher: "WES-NG", "OSV", "endoflife.date", "CISA ICS (CSAF)"
    source_url: str = ""
    kind: VulnKind = VulnKind.VULNERABILITY
    severity: Severity = Severity.UNKNOWN
    score: Optional[float] = None  # CVSS base score when the source gives one
    vector: str = ""  # CVSS vector when the source gives one
    method: str = ""  # CycloneDX rating method: CVSSv2, CVSSv3, CVSSv31, CVSSv4, other
    title: str = ""
    detail: str = ""
    refs: Tuple[str, ...] = ()  # bom-refs of the affected components
    affected: str = ""  # the affected version range as the source states it (vers: or text)
    published: str = ""  # ISO 8601 date
    updated: str = ""
    recommendation: str = ""  # e.g. "Install KB5034441", "Upgrade to 2.31.0"
    exploited: bool = False  # the source lists a public exploit / known exploitation
    confidence: str = ""  # "exact" (identifier match) or "name/version text" (CSAF by name)
    eol_date: str = ""  # END_OF_LIFE: the cycle's end of support, ISO date
    cycle: str = ""  # END_OF_LIFE: the release cycle (endoflife.date "releaseCycle")
    aliases: Tuple[str, ...] = ()
    vers: str = ""  # the affected range in the package-url VERS syntax, when it can be stated exactly

    @property
    def severity_rank(self) -> int:
        return list(Severity).index(self.severity)


@dataclass(frozen=True)
class Gap:
    """Something a collector could not collect, and why (makes its run `partial`)."""

    reason: str


@dataclass(frozen=True)
class HostFact:
    """A fact about the scanned machine itself (metadata.component).

    Names `manufacturer`, `model` and `serial` fill the machine's fields, `hostname`
    its name (a recorded machine's name as its own outputs state it); any other name
    becomes a property of the machine.
    """

    name: str
    value: str


Item = Union[Component, Finding, Gap, HostFact]


@dataclass(frozen=True)
class CollectorRun:
    """What one collector did in this scan."""

    name: str
    status: Status
    duration: float = 0.0  # seconds
    reason: str = ""  # one line; empty when ok
    components: int = 0
    gaps: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Host:
    """The scanned machine (CycloneDX metadata.component, type device)."""

    name: str
    manufacturer: str = ""
    model: str = ""
    serial: str = ""
    properties: Props = ()

    @property
    def ref(self) -> str:
        return make_ref("host", self.name, self.serial)

    def with_facts(self, facts: Iterable[HostFact]) -> "Host":
        fields = {}
        props = list(self.properties)
        for fact in facts:
            if fact.name in ("manufacturer", "model", "serial"):
                fields[fact.name] = fact.value
            elif fact.name == "hostname":
                fields["name"] = fact.value
            else:
                props.append((fact.name, fact.value))
        return replace(self, properties=tuple(props), **fields)


@dataclass(frozen=True)
class Scan:
    """One scan of one machine: everything a writer needs."""

    id: str  # urn:uuid:…
    started: datetime  # UTC, tz-aware
    tool_version: str
    host: Host
    operator: str = ""
    finished: Optional[datetime] = None
    components: Tuple[Component, ...] = ()
    findings: Tuple[Finding, ...] = ()
    runs: Tuple[CollectorRun, ...] = ()
    properties: Props = ()  # document-level facts (site, root, command line…)
    # known vulnerabilities and end of life matched from an offline database (cbom/vulndb)
    vulnerabilities: Tuple[Vulnerability, ...] = ()

    def by_category(self, category: Category) -> Tuple[Component, ...]:
        return tuple(c for c in self.components if c.category == category)

    @property
    def status(self) -> Status:
        """Worst status among runs, skipped collectors not counted as failures."""
        statuses = {r.status for r in self.runs}
        if Status.FAILED in statuses:
            return Status.FAILED
        if Status.PARTIAL in statuses:
            return Status.PARTIAL
        return Status.OK


def sort_components(components: Iterable[Component]) -> Tuple[Component, ...]:
    """Stable output order: by category, then name, version, ref."""
    order = {c: i for i, c in enumerate(Category)}
    return tuple(sorted(components, key=lambda c: (order[c.category], c.name.lower(), c.name, c.version, c.ref)))

