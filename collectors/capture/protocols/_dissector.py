"""The dissector contract: one frozen record per protocol, and the lookup table built from them."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from cbom.model import Severity

if TYPE_CHECKING:
    from .._engine import Analyzer
    from .._records import HostRec, TcpStream

__all__ = ["Check", "DatagramDecoder", "Dissector", "EventKind", "Framer", "LinkDecoder", "PduDecoder",
           "StreamDecoder", "Subject", "Table"]

# Signatures of the decoders a Dissector may provide (`an` is the engine's tables).
Check = Callable[[bytes], bool]
# (stream payload, PDU start, stream state) -> None: header incomplete, wait for more data;
# (0, ()) : not a PDU start; (length, display-filter names of the PDU).
Framer = Callable[[bytes, int, "TcpStream"], Optional[Tuple[int, Tuple[str, ...]]]]
# One complete TCP PDU: (an, ts, pdu, src ip, dst ip, sport, dport).
PduDecoder = Callable[["Analyzer", float, bytes, bytes, bytes, int, int], None]
# One segment of an unframed TCP stream (the name is already on the stack):
# (an, ts, payload, stack, src ip, dst ip, sport, dport).
StreamDecoder = Callable[["Analyzer", float, bytes, List[str], bytes, bytes, int, int], None]
# One UDP payload; appends its display-filter names (or "data") to the stack:
# (an, ts, payload, sport, dport, src ip, dst ip, stack, inner). `inner` is a datagram quoted
# in an ICMP error: count it, learn nothing from it.
DatagramDecoder = Callable[["Analyzer", float, bytes, int, int, bytes, bytes, List[str], bool], None]
# One link-layer payload (the name is already on the stack):
# (an, ts, frame, payload offset, payload end, stack, host of the source MAC or None).
LinkDecoder = Callable[["Analyzer", float, bytes, int, int, List[str], Optional["HostRec"]], None]


class Subject(enum.Enum):
    """What an event key starts with, to tie the finding to observed hosts."""

    ADDRESSES = "addresses"  # hex of the source (and destination) IP addresses
    MAC = "mac"  # hex of one MAC address


@dataclass(frozen=True, eq=False)
class EventKind:
    """A kind of event a dissector raises, and the finding it becomes."""

    name: str  # "dnp3_write": sorts the findings, unique across dissectors
    finding_id: str  # "CBOM-NET-ICS-WRITE"
    severity: Severity
    title: str
    explanation: str
    subject: Subject = Subject.ADDRESSES


@dataclass(frozen=True, eq=False)
class Dissector:
    """Everything about one protocol: where it is found, how it is cut and decoded, what it reports.

    `name` is the Wireshark display-filter name of the protocol (its component name,
    the label of its conversations and endpoints); `names` lists the other
    display-filter names it puts on a frame's stack, with their titles.
    """

    name: str
    title: str
    names: Mapping[str, str] = field(default_factory=dict)
    # Where to look (content still decides).
    tcp_ports: Tuple[int, ...] = ()
    udp_ports: Tuple[int, ...] = ()
    ethertypes: Tuple[int, ...] = ()
    llc_saps: Tuple[int, ...] = ()  # 802.2 DSAP = SSAP
    snap: Tuple[Tuple[bytes, int], ...] = ()  # 802.2 SNAP (OUI, protocol id)
    tcp_heuristic: bool = False  # also recognised by `check` on any TCP port
    # On its own TCP ports a first payload that `check` rejects is still its own (a capture begun
    # inside a TLS record: Wireshark's port table decides there, and the framer resynchronises).
    owns_ports: bool = False
    udp_heuristic: Optional[Check] = None  # recognised on any UDP port without a port match
    # TCP: `check` accepts the first payload of a direction (None: any); `frame` cuts PDUs and
    # `pdu` decodes each; without `frame`, `stream` sees every segment as it comes.
    check: Optional[Check] = None
    frame: Optional[Framer] = None
    pdu: Optional[PduDecoder] = None
    stream: Optional[StreamDecoder] = None
    keep_pdu_start: bool = False  # decode a PDU spread over segments from its first 4 kB
    partial_names: Tuple[str, ...] = ()  # names of a segment without a complete PDU header
    shows_partial: bool = False  # names the PDU in the segment where it starts (TLS)
    fin_ends_stream: bool = False  # a FIN ends the framing state (the connection may be reused)
    # UDP: decodes the datagram and appends its names; None: the name alone.
    datagram: Optional[DatagramDecoder] = None
    # Link layer (EtherType, LLC, SNAP): decodes the payload; None: the name alone.
    link: Optional[LinkDecoder] = None
    # Output.
    scheme: str = ""  # URL scheme of its endpoints (default: name)
    events: Tuple[EventKind, ...] = ()


class Table:
    """Lookup tables of a set of dissectors, built once per analyser (ports, types, titles)."""

    def __init__(self, dissectors: Sequence[Dissector]) -> None:
        self.dissectors = tuple(dissectors)
        self.tcp_ports: Dict[int, Dissector] = {}
        self.udp_ports: Dict[int, Dissector] = {}
        self.ethertypes: Dict[int, Dissector] = {}
        self.llc_saps: Dict[int, Dissector] = {}
        self.snap: Dict[Tuple[bytes, int], Dissector] = {}
        self.titles: Dict[str, str] = {}
        self.schemes: Dict[str, str] = {}
        self.event_kinds: Dict[str, EventKind] = {}
        for d in self.dissectors:
            for port in d.tcp_ports:
                _put(self.tcp_ports, port, d, "TCP port")
            for port in d.udp_ports:
                _put(self.udp_ports, port, d, "UDP port")
            for et in d.ethertypes:
                _put(self.ethertypes, et, d, "EtherType")
            for sap in d.llc_saps:
                _put(self.llc_saps, sap, d, "LLC SAP")
            for sn in d.snap:
                _put(self.snap, sn, d, "SNAP id")
            for n, title in [(d.name, d.title), *d.names.items()]:
                if n in self.titles:
                    raise ValueError("capture dissectors: name %r declared twice" % n)
                self.titles[n] = title
            if d.scheme:
                self.schemes[d.name] = d.scheme
            for k in d.events:
                if self.event_kinds.setdefault(k.name, k) is not k:
                    raise ValueError("capture dissectors: event kind %r declared twice" % k.name)
        self.tcp_heuristics = tuple(d for d in self.dissectors if d.tcp_heuristic)
        self.udp_heuristics: Tuple[Tuple[Check, Dissector], ...] = tuple(
            (d.udp_heuristic, d) for d in self.dissectors if d.udp_heuristic is not None)
        # EtherType -> name of the non-IP protocols whose conversations are MAC pairs.
        self.l2_names = {et: d.name for et, d in self.ethertypes.items()}


def _put(table: Dict, key: object, d: Dissector, what: str) -> None:
    other = table.setdefault(key, d)
    if other is not d:
        raise ValueError("capture dissectors: %s %r claimed by %s and %s" % (what, key, other.name, d.name))
