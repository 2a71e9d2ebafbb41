"""TLS records (RFC 8446 section 5.1; TCP 443, 8443, 636, 993, 995, 465; found on any port).

The server name (SNI, RFC 6066 section 3) of a ClientHello names the server.
Wireshark: packet-tls.c.
"""
from __future__ import annotations

import re
import struct
from typing import TYPE_CHECKING, Optional, Tuple

from .._records import TcpStream
from .._wire import u16
from ._dissector import Dissector

if TYPE_CHECKING:
    from .._engine import Analyzer

_NAMES = ("tls",)
# A record header (RFC 8446 section 5.1; RFC 5246 section 6.2): content type 20-23 (change_cipher_spec,
# alert, handshake, application_data), version 3.0-3.4, length at most 2^14 + 2048 (the largest
# TLSCiphertext fragment, RFC 5246 section 6.2.3).
_HEADER = re.compile(rb"[\x14-\x17]\x03[\x00-\x04]")
_MAX_RECORD = (1 << 14) + 2048


def _sslv2_hello(p: bytes, i: int) -> int:
    """Length of an SSL 2.0-compatible ClientHello record at `i` (2-byte header with the high bit
    set, message type 1, version 2.0 or 3.x: RFC 6101 appendix E.2, packet-tls.c
    ssl_looks_like_sslv2), or 0."""
    if len(p) >= i + 5 and p[i] & 0x80 and p[i + 2] == 1 and (p[i + 3], p[i + 4]) in _SSLV2_VERSIONS:
        return 2 + (((p[i] & 0x7F) << 8) | p[i + 1])
    return 0


_SSLV2_VERSIONS = frozenset([(0, 2), (3, 0), (3, 1), (3, 2), (3, 3)])


def check(p: bytes) -> bool:
    # content type, version 3.x; or an SSL 2.0-compatible ClientHello (old clients, scanners)
    return (len(p) >= 5 and 0x14 <= p[0] <= 0x17 and p[1] == 3 and p[2] <= 4) or _sslv2_hello(p, 0) > 0


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if len(p) < i + 5:
        return None
    if 0x14 <= p[i] <= 0x17 and p[i + 1] == 3 and p[i + 2] <= 4:
        ln = u16(p, i + 3)[0]
        if ln <= _MAX_RECORD:
            return 5 + ln, _NAMES
    ln = _sslv2_hello(p, i)
    if ln:
        return ln, _NAMES
    # Not a record start: the capture began inside a record, or a segment was lost. Like
    # Wireshark ("Continuation Data") the bytes are TLS; framing resumes at the next plausible
    # record header in the segment (or at the start of the next segment).
    for m in _HEADER.finditer(p, i + 1):
        j = m.start()
        if len(p) < j + 5 or u16(p, j + 3)[0] <= _MAX_RECORD:
            return j - i, _NAMES  # skip to it (a header cut by the segment end waits for the rest)
    return len(p) - i, _NAMES


def decode(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    if len(pdu) < 5 or (pdu[0] & 0x80 == 0 and len(pdu) != 5 + u16(pdu, 3)[0]):
        return  # the bytes skipped to resynchronise (or an SSL 2.0 hello: no SNI)
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


TLS = Dissector(name="tls", title="TLS", tcp_ports=(443, 8443, 636, 993, 995, 465), tcp_heuristic=True, owns_ports=True,
                check=check, frame=frame, pdu=decode, shows_partial=True, partial_names=_NAMES)
