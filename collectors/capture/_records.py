"""Typed records of the capture engine's tables: hosts, flows, TCP streams, events, failures.

The per-packet accumulators (`HostRec`, `Flow`, `L2Flow`, `TcpStream`) are
slotted classes updated in place: a frozen record would allocate a new object
for every frame of the hot path. What is written once and read later (`Event`,
`Failure`) is an immutable NamedTuple.
"""
from __future__ import annotations

import enum
import struct
from typing import TYPE_CHECKING, Dict, NamedTuple, Optional, Tuple

if TYPE_CHECKING:
    from .protocols._dissector import Dissector, EventKind

# Limits: memory grows with hosts and flows, never with packets. A hit cap is reported.
MAX_HOSTS = 20000
MAX_FLOWS = 200000
MAX_L2FLOWS = 50000
MAX_IPS_PER_HOST = 64
MAX_NAMES_PER_HOST = 16
MAX_EVENTS_PER_KIND = 64  # distinct (finding kind, hosts) pairs kept with evidence
# TCP reassembly (issue 18, D10: 8,000 hostile streams once held 566 MB). Directions tracked, least
# recently used dropped first; bytes one direction may hold while a PDU header is incomplete (HTTP
# headers are the largest: servers refuse more than 8-32 KiB); bytes all directions together may hold.
MAX_TCP_STREAMS = 131072
MAX_STREAM_BUFFER = 65536
MAX_BUFFERED = 32 << 20


class Truncated(Exception):
    """Truncated header: the frame is undecodable beyond this point."""


# What hostile or cut data raises in a decoder (UnicodeError is a ValueError). Anything
# else (TypeError, NameError, AttributeError, KeyError…) is a bug and is reported as one.
MALFORMED = (Truncated, IndexError, struct.error, ValueError)


class HostRec:
    """What one source MAC did on the wire."""

    __slots__ = ("pkts", "bytes", "first", "last", "ips", "arp_ips", "names", "ident", "serves")

    def __init__(self, ts: float) -> None:
        self.pkts = 0
        self.bytes = 0
        self.first = ts
        self.last = ts
        self.ips: Dict[bytes, None] = {}
        self.arp_ips: Dict[bytes, None] = {}
        self.names: Dict[str, str] = {}  # hostname -> how learned
        self.ident: Dict[str, str] = {}  # "lldp-system-description" -> value
        self.serves: Dict[Tuple[str, int], None] = {}  # ("tcp", 502)

    def add_name(self, name: str, how: str) -> None:
        """Keep a non-empty name the station announced about itself (first `how` wins)."""
        if name and len(self.names) < MAX_NAMES_PER_HOST:
            self.names.setdefault(name, how)


FlowKey = Tuple[int, bytes, bytes]  # (IP protocol, lower endpoint, higher endpoint); endpoint = ip + port
L2FlowKey = Tuple[int, bytes, bytes]  # (EtherType or 0 for LLC, lower MAC, higher MAC)


class Flow:
    """One TCP/UDP conversation, counted from the side that sent its first packet."""

    __slots__ = ("initiator", "pkts_fwd", "pkts_back", "bytes_fwd", "bytes_back", "first", "last", "app")

    def __init__(self, initiator: bytes, ts: float, wl: int) -> None:
        self.initiator = initiator  # endpoint (ip + port) of the first packet's sender
        self.pkts_fwd = 1
        self.pkts_back = 0
        self.bytes_fwd = wl
        self.bytes_back = 0
        self.first = ts
        self.last = ts
        self.app = ""  # display-filter name of the application protocol, "" when unrecognised

    @property
    def pkts(self) -> int:
        return self.pkts_fwd + self.pkts_back

    @property
    def bytes(self) -> int:
        return self.bytes_fwd + self.bytes_back


class L2Flow:
    """Non-IP frames between two MAC addresses under one EtherType."""

    __slots__ = ("pkts", "bytes", "first", "last", "initiator")

    def __init__(self, initiator: bytes, ts: float, wl: int) -> None:
        self.pkts = 1
        self.bytes = wl
        self.first = ts
        self.last = ts
        self.initiator = initiator  # source MAC of the first frame


class StreamMode(enum.Enum):
    """How the next bytes of a TCP direction are cut into PDUs."""

    PDUS = "pdus"  # the protocol's own framing
    FRAGMENT = "fragment"  # a PDU continues in the next one (COTP DT without EOT)
    UPGRADING = "upgrading"  # this segment ends the handshake: both directions switch to UPGRADED
    UPGRADED = "upgraded"  # both directions carry the upgraded protocol's frames (WebSocket)
    BODY = "body"  # inside a message body cut in pieces (HTTP chunks): pieces are skipped, not decoded


class TcpStream:
    """TCP state of one direction of one connection: PDU framing across segments."""

    __slots__ = ("dissector", "next_seq", "need", "pending", "buf", "mode", "conn")

    def __init__(self, dissector: Optional[Dissector], conn: Optional[Dict[bytes, object]] = None) -> None:
        self.dissector = dissector  # None: payload not recognised, shown as "data"
        self.next_seq = -1
        self.need = 0  # bytes still missing from the PDU in progress
        self.pending: Tuple[str, ...] = ()  # names of the PDU in progress
        self.buf = b""  # a header split across segments
        self.mode = StreamMode.PDUS
        # What a framer remembers of the connection, shared by both directions (a request seen, so
        # that its reply is named as Wireshark names it); the other direction's when it exists.
        self.conn: Dict[bytes, object] = {} if conn is None else conn


class Event(NamedTuple):
    """Evidence of one finding kind between given hosts: how often, first time, first detail."""

    kind: EventKind
    packets: int
    first: float
    detail: str


class Failure(NamedTuple):
    """Packets on which one dissector raised a bug (not malformed data), with the first error."""

    packets: int
    error: str  # "TypeError: message" of the first failure
