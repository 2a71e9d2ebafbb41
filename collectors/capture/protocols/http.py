"""HTTP/1.x (RFC 9112; TCP 80, 8080, 8000, 3128; found on any port) and WebSocket after an upgrade.

Messages are cut by Content-Length or chunked encoding (RFC 9112 sections 6 and 7.1);
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
_BODY = StreamMode.BODY
_PDUS = StreamMode.PDUS


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
    if dr.mode is _BODY:
        return _chunks(p, i, dr)
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
        if len(m.group(1)) > 18:  # RFC 9110 section 8.6: guard against overflowing numerals
            raise ValueError("HTTP Content-Length of %d digits" % len(m.group(1)))
        body = int(m.group(1))
    elif _CHUNKED.search(head):
        # The chunks follow: `_chunks` cuts them as they come, without holding the body, and
        # the message counts in the frame where its last chunk ends (Wireshark's dechunking).
        dr.mode = _BODY
        return hl, ()
    elif head.startswith(b"HTTP/"):
        return hl, _NAMES
    else:
        body = 0
    return hl + body, _NAMES


# RFC 9112 section 7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF, chunk-size = 1*HEXDIG,
# chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ). No sign, no leading white space, no "0x"
# (int(x, 16) accepts all three: a size of "-6" once sent the parser back to the same line forever,
# issue 18, D1). At most 16 digits: section 7.1 asks recipients to guard against overflow.
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})(?:[ \t]*;[^\r\n]*)?\r\n")
MAX_CHUNK_LINE = 4096  # a size line with its extensions
MAX_TRAILERS = 16384  # the trailer section after the last chunk (section 7.1.2)


def _chunks(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    """The chunks at `i` of a chunked body as one piece: up to the end of the last chunk started
    (the engine skips what is not here yet), or to the end of the message after the last-chunk."""
    start, n = i, len(p)
    while i < n:  # each turn moves `i` past one whole chunk (5 bytes at least) or leaves
        e = p.find(b"\r\n", i, i + MAX_CHUNK_LINE)
        if e < 0:
            if n - i >= MAX_CHUNK_LINE:
                raise ValueError("HTTP chunk-size line longer than %d bytes" % MAX_CHUNK_LINE)
            break  # the size line continues in the next segment
        m = _CHUNK_SIZE.fullmatch(p, i, e + 2)
        if m is None:
            raise ValueError("HTTP chunk size %r is not 1 to 16 hexadecimal digits" % p[i:e][:20])
        size = int(m.group(1), 16)
        if size == 0:  # last-chunk, then trailer fields, then an empty line
            t = p.find(b"\r\n\r\n", e)
            if t < 0:
                if n - e >= MAX_TRAILERS:
                    raise ValueError("HTTP trailer section longer than %d bytes" % MAX_TRAILERS)
                break
            dr.mode = _PDUS
            return t + 4 - start, _NAMES
        end = e + 2 + size + 2
        if end > n:
            return end - start, ()
        if p[end - 2:end] != b"\r\n":
            raise ValueError("HTTP chunk data not followed by CRLF")
        i = end
    return (i - start, ()) if i > start else None


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
