"""OPC UA Binary (OPC 10000-6 section 7.1, TCP 4840; found on any port by its message header).

Header: message type (3 ASCII), chunk type (F/C/A), message size (uint32 LE).
An OpenSecureChannel with SecurityPolicy#None is a finding. Wireshark: packet-opcua.c.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Tuple

from cbom.model import Severity

from .._records import TcpStream
from .._wire import ip, u32le
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

OPCUA_TYPES = (b"HEL", b"ACK", b"ERR", b"RHE", b"OPN", b"MSG", b"CLO")

OPCUA_NONE = EventKind("opcua_none", "CBOM-NET-OPCUA-NO-SECURITY", Severity.MEDIUM, "OPC UA without message security",
                       "SecurityPolicy None: messages are neither signed nor encrypted.")

_NAMES = ("opcua",)


def check(p: bytes) -> bool:
    return len(p) >= 8 and p[:3] in OPCUA_TYPES and p[3:4] in (b"F", b"C", b"A") and u32le(p, 4)[0] >= 8


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if len(p) < i + 8:
        return None
    if p[i:i + 3] not in OPCUA_TYPES:
        return 0, ()
    return u32le(p, i + 4)[0], _NAMES


def decode(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    if pdu[:3] == b"HEL":
        an.serve("opcua", dst, dport, "tcp")
    if pdu[:3] == b"OPN" and b"SecurityPolicy#None" in pdu[:200] and sport > dport:
        an.event(OPCUA_NONE, src.hex() + dst.hex(), ts,
                 "OPC UA secure channel with SecurityPolicy None from %s to %s:%d" % (ip(src), ip(dst), dport))


OPCUA = Dissector(name="opcua", title="OPC UA Binary", tcp_ports=(4840,), tcp_heuristic=True, check=check,
                  frame=frame, pdu=decode, keep_pdu_start=True, events=(OPCUA_NONE,))
