"""HTTP/1.x (RFC 9112; TCP 80, 8080, 8000, 3128; found on any port) and WebSocket after an upgrade.

Messages are cut by Content-Length or chunked encoding (RFC 9112 section 6);
after "101 Switching Protocols" to WebSocket both directions carry frames
(RFC 6455 section 5.2). Server and User-Agent headers name software, Host
names the server, Basic authorization is a finding. Wireshark: packet-http.c.
"""
from __future__ import annotations

import re
import struct
from typing import TYPE_CHECKING, Optional, Tuple

from cbom.model import Severity

from .._records import StreamMode, TcpStream
from .._wire import ip, text, u16
from ._dissector import Dissector, EventKind
from ._eol import EOL_OS, report_eol

if TYPE_CHECKING:
    from .._engine import Analyzer

HTTP_METHODS = (b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE ", b"OPTIONS ", b"CONNECT ", b"TRACE ",
                b"PATCH ", b"NOTIFY ", b"M-SEARCH ", b"SUBSCRIBE ", b"UNSUBSCRIBE ")

HTTP_BASIC = EventKind("http_basic", "CBOM-NET-CLEARTEXT-CREDENTIALS", Severity.HIGH,
                       "HTTP Basic authentication in clear text",
                       "Basic authentication is base64, not encryption: the password is readable on the wire.")

_NAMES = ("http",)
_CL = re.compile(rb"\r\ncontent-length: *(\d+)", re.I)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding: *chunked", re.I)
_UPGRADE = re.compile(rb"\r\nupgrade: *websocket", re.I)
_SERVER = re.compile(rb"\r\nServer: *([^\r\n]+)", re.I)
_USER_AGENT = re.compile(rb"\r\nUser-Agent: *([^\r\n]+)", re.I)
_HOST = re.compile(rb"\r\nHost: *([^\r\n:]+)", re.I)
_BASIC = re.compile(rb"\r\nAuthorization: *Basic ", re.I)
_UPGRADED = StreamMode.UPGRADED


def check(p: bytes) -> bool:
    return p.startswith(HTTP_METHODS) or p.startswith(b"HTTP/1.")


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if dr.mode is _UPGRADED:  # WebSocket frames after a 101 Switching Protocols (RFC 6455 section 5.2)
        if len(p) < i + 2:
            return None
        ln = p[i + 1] & 0x7F
        hl = 2
        if ln == 126:
            if len(p) < i + 4:
                return None
            ln, hl = u16(p, i + 2)[0], 4
        elif ln == 127:
            if len(p) < i + 10:
                return None
            ln, hl = struct.unpack_from(">Q", p, i + 2)[0], 10
        if p[i + 1] & 0x80:  # masking key
            hl += 4
        return hl + ln, _NAMES
    e = p.find(b"\r\n\r\n", i)
    if e < 0:
        if p.startswith(HTTP_METHODS, i) or p.startswith(b"HTTP/", i):
            return None
        return 0, ()
    head = p[i:e]
    if not (head.startswith(HTTP_METHODS) or head.startswith(b"HTTP/")):
        return 0, ()
    hl = e + 4 - i
    if head.startswith(b"HTTP/"):
        code = head[9:12]
        if code == b"101" and _UPGRADE.search(head):
            dr.mode = StreamMode.UPGRADING  # switch after this response
        if code[:1] == b"1" or code in (b"204", b"304"):  # no body (RFC 9112 section 6.3)
            return hl, _NAMES
    m = _CL.search(head)
    if m:
        body = int(m.group(1))
    elif _CHUNKED.search(head):
        chunked = _chunked_len(p, i + hl)
        if chunked is None:
            return None
        body = chunked
    elif head.startswith(b"HTTP/"):
        return hl, _NAMES
    else:
        body = 0
    return hl + body, _NAMES


def _chunked_len(p: bytes, i: int) -> Optional[int]:
    start = i
    while True:
        e = p.find(b"\r\n", i)
        if e < 0:
            return None
        try:
            size = int(p[i:e].split(b";")[0].strip() or b"0", 16)
        except ValueError:
            return e + 2 - start
        i = e + 2 + size + 2
        if size == 0:
            # trailers end with an empty line; usually none
            return i - start
        if i > len(p):
            return None


def decode(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    head = pdu[:4096]
    if head.startswith(b"HTTP/"):
        an.serve("http", src, sport, "tcp")
        m = _SERVER.search(head)
        if m:
            an.ident_ip(src, "http-server", text(m.group(1)))
            report_eol(an, ts, src, text(m.group(1)), "HTTP Server header")
    else:
        m = _USER_AGENT.search(head)
        if m:
            an.ident_ip(src, "http-user-agent", text(m.group(1)))
            report_eol(an, ts, src, text(m.group(1)), "HTTP User-Agent")
        m = _HOST.search(head)
        if m:
            an.name_ip(dst, text(m.group(1)), "http-host")
        if _BASIC.search(head):
            an.event(HTTP_BASIC, src.hex() + dst.hex(), ts,
                     "HTTP Basic authentication (password in clear) from %s to %s:%d" % (ip(src), ip(dst), dport))


HTTP = Dissector(name="http", title="HTTP", tcp_ports=(80, 8080, 8000, 3128), tcp_heuristic=True, check=check,
                 frame=frame, pdu=decode, keep_pdu_start=True, fin_ends_stream=True, events=(HTTP_BASIC, EOL_OS))
