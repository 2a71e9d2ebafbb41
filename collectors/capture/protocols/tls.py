"""TLS records (RFC 8446 section 5.1; TCP 443, 8443, 636, 993, 995, 465; found on any port).

The server name (SNI, RFC 6066 section 3) of a ClientHello names the server.
Wireshark: packet-tls.c.
"""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Optional, Tuple

from .._records import TcpStream
from .._wire import u16
from ._dissector import Dissector

if TYPE_CHECKING:
    from .._engine import Analyzer

_NAMES = ("tls",)


def check(p: bytes) -> bool:
    return len(p) >= 5 and 0x14 <= p[0] <= 0x17 and p[1] == 3 and p[2] <= 4  # content type, version 3.x


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if len(p) < i + 5:
        return None
    if not (0x14 <= p[i] <= 0x17 and p[i + 1] == 3):
        return 0, ()
    return 5 + u16(p, i + 3)[0], _NAMES


def decode(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    if pdu[0] == 0x16 and len(pdu) > 9 and pdu[5] == 1:  # ClientHello: SNI
        an.serve("tls", dst, dport, "tcp")
        sni = server_name(pdu)
        if sni:
            an.name_ip(dst, sni, "tls-sni")


def server_name(p: bytes) -> str:
    """The host name of the server_name extension of a ClientHello record, or ""."""
    # record(5) handshake(4) version(2) random(32) session id, cipher suites, compression, extensions
    i = 5 + 4 + 2 + 32
    i += 1 + p[i]
    i += 2 + u16(p, i)[0]
    i += 1 + p[i]
    end = i + 2 + u16(p, i)[0]
    i += 2
    while i + 4 <= min(end, len(p)):
        et, ln = struct.unpack_from(">HH", p, i)
        if et == 0 and ln > 5:
            nl = u16(p, i + 7)[0]
            return p[i + 9:i + 9 + nl].decode("ascii", "replace")
        i += 4 + ln
    return ""


TLS = Dissector(name="tls", title="TLS", tcp_ports=(443, 8443, 636, 993, 995, 465), tcp_heuristic=True,
                check=check, frame=frame, pdu=decode, shows_partial=True)
