"""OPC UA Binary (OPC 10000-6 section 7.1, TCP 4840; found on any port by its message header).

Header: message type (3 ASCII), chunk type (F/C/A), message size (uint32 LE).
An OpenSecureChannel with SecurityPolicy#None is a finding. On such a channel
the services are readable, and identity comes from: the Hello's EndpointUrl
(the address the client asked for), the EndpointDescriptions of a
GetEndpoints or CreateSession response (the server's endpoint URL, application
URI, product URI and name) and the ClientDescription of a CreateSession
request (the client's). Encodings follow OPC 10000-6 section 5.2 (String,
LocalizedText, NodeId, DiagnosticInfo, ExtensionObject) and the service
structures of OPC 10000-4 section 5.4/5.6. Wireshark: packet-opcua.c,
opcua_application_layer.c, opcua_complextypeparser.c (`opcua.EndpointUrl`,
`opcua.ApplicationUri`, `opcua.ProductUri`, `opcua.loctext.Text`).
"""
from __future__ import annotations

import struct
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
# Binary encoding node ids of the services read (namespace 0, OPC UA NodeIds.csv).
_GET_ENDPOINTS_RESPONSE = 431
_CREATE_SESSION_REQUEST = 461
_CREATE_SESSION_RESPONSE = 464
_APP_TYPES = {0: "Server", 1: "Client", 2: "ClientAndServer", 3: "DiscoveryServer"}
_MAX_CHANNELS = 1024

# The analyser's memory of "opcua": connections (lower endpoint + higher endpoint) whose secure channel uses SecurityPolicy None.


def check(p: bytes) -> bool:
    return len(p) >= 8 and p[:3] in OPCUA_TYPES and p[3:4] in (b"F", b"C", b"A") and u32le(p, 4)[0] >= 8


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if len(p) < i + 8:
        return None
    if p[i:i + 3] not in OPCUA_TYPES:
        return 0, ()
    return u32le(p, i + 4)[0], _NAMES


def decode(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    kind = pdu[:3]
    a, b = src + struct.pack(">H", sport), dst + struct.pack(">H", dport)
    conn = a + b if a < b else b + a
    if kind == b"HEL":
        an.serve("opcua", dst, dport, "tcp")
        # Hello: version, 4 buffer/size limits (uint32 each), then EndpointUrl (OPC 10000-6 7.1.2.3)
        url, _ = _string(pdu, 8 + 20)
        if url:
            an.ident_ip(dst, "opcua-hello-endpoint-url", url)
    elif kind == b"OPN" and b"SecurityPolicy#None" in pdu[:200]:
        clear = an.memory("opcua")
        if len(clear) < _MAX_CHANNELS:
            clear[conn] = None
        if sport > dport:
            an.event(OPCUA_NONE, src.hex() + dst.hex(), ts,
                     "OPC UA secure channel with SecurityPolicy None from %s to %s:%d" % (ip(src), ip(dst), dport))
    elif kind == b"MSG" and conn in an.memory("opcua"):
        try:
            _message(an, pdu, src)
        except (IndexError, ValueError, struct.error):
            # A large response is kept from its first 4 kB only: what was read before the cut stays.
            pass


def _message(an: Analyzer, m: bytes, src: bytes) -> None:
    # MSG chunk: header (8), SecureChannelId (4), TokenId (4), SequenceNumber (4), RequestId (4),
    # then the service's ExpandedNodeId type id and body (OPC 10000-6 6.7.2).
    q = 24
    ns, nid, q = _nodeid(m, q)
    if ns != 0 or nid not in (_GET_ENDPOINTS_RESPONSE, _CREATE_SESSION_REQUEST, _CREATE_SESSION_RESPONSE):
        return
    if nid == _CREATE_SESSION_REQUEST:
        q = _request_header(m, q)
        _application(an, m, q, src)  # ClientDescription
        return
    q = _response_header(m, q)
    if nid == _CREATE_SESSION_RESPONSE:
        q = _nodeid(m, q)[2]  # SessionId
        q = _nodeid(m, q)[2]  # AuthenticationToken
        q += 8  # RevisedSessionTimeout
        q = _bytestring(m, q)  # ServerNonce
        q = _bytestring(m, q)  # ServerCertificate
    count = _i32(m, q)
    q += 4
    for _ in range(max(0, min(count, 16))):  # EndpointDescription[]
        url, q = _string(m, q)
        an.ident_ip(src, "opcua-endpoint-url", url)
        q = _application(an, m, q, src)
        q = _bytestring(m, q)  # ServerCertificate
        q += 4  # SecurityMode
        q = _string(m, q)[1]  # SecurityPolicyUri
        n = _i32(m, q)
        q += 4
        for _ in range(max(0, n)):  # UserTokenPolicy: PolicyId, TokenType, IssuedTokenType, IssuerEndpointUrl, uri
            q = _string(m, q)[1] + 4
            for _ in range(3):
                q = _string(m, q)[1]
        q = _string(m, q)[1] + 1  # TransportProfileUri, SecurityLevel


def _application(an: Analyzer, m: bytes, q: int, who: bytes) -> int:
    """ApplicationDescription (OPC 10000-4 7.2): its URIs, name and type become identity of `who`."""
    uri, q = _string(m, q)
    product, q = _string(m, q)
    name, q = _localized(m, q)
    atype = _i32(m, q)
    an.ident_ip(who, "opcua-application-uri", uri)
    an.ident_ip(who, "opcua-product-uri", product)
    an.ident_ip(who, "opcua-application-name", name)
    an.ident_ip(who, "opcua-application-type", _APP_TYPES.get(atype, str(atype)))
    q = _string(m, q + 4)[1]  # GatewayServerUri
    q = _string(m, q)[1]  # DiscoveryProfileUri
    n = _i32(m, q)
    q += 4
    for _ in range(max(0, n)):  # DiscoveryUrls
        q = _string(m, q)[1]
    return q


def _i32(m: bytes, q: int) -> int:
    if q + 4 > len(m):
        raise IndexError("cut")
    return int(struct.unpack_from("<i", m, q)[0])


def _string(m: bytes, q: int) -> Tuple[str, int]:
    """String: Int32 length (-1: null), UTF-8 bytes."""
    n = _i32(m, q)
    q += 4
    if n <= 0:
        return "", q
    if q + n > len(m):
        raise IndexError("string cut")
    return m[q:q + n].decode("utf-8", "replace"), q + n


def _bytestring(m: bytes, q: int) -> int:
    n = _i32(m, q)
    if q + 4 + max(n, 0) > len(m):
        raise IndexError("bytes cut")
    return q + 4 + max(n, 0)


def _localized(m: bytes, q: int) -> Tuple[str, int]:
    """LocalizedText: mask (1 locale, 2 text), then those strings."""
    mask = m[q]
    q += 1
    if mask & 1:
        q = _string(m, q)[1]
    text = ""
    if mask & 2:
        text, q = _string(m, q)
    return text, q


def _nodeid(m: bytes, q: int) -> Tuple[int, int, int]:
    """(namespace, numeric id or -1, next offset) of a (Expanded)NodeId (OPC 10000-6 5.2.2.9)."""
    enc = m[q]
    form = enc & 0x0F
    q += 1
    if form == 0:
        ns, nid, q = 0, m[q], q + 1
    elif form == 1:
        ns, nid, q = m[q], struct.unpack_from("<H", m, q + 1)[0], q + 3
    elif form == 2:
        ns, nid = struct.unpack_from("<HI", m, q)
        q += 6
    elif form in (3, 5):
        ns, nid = struct.unpack_from("<H", m, q)[0], -1
        q = _bytestring(m, q + 2)
    elif form == 4:
        ns, nid, q = struct.unpack_from("<H", m, q)[0], -1, q + 18
    else:
        raise ValueError("NodeId encoding")
    if enc & 0x80:  # NamespaceUri
        q = _string(m, q)[1]
    if enc & 0x40:  # ServerIndex
        q += 4
    return ns, nid, q


def _extension_object(m: bytes, q: int) -> int:
    q = _nodeid(m, q)[2]
    enc = m[q]
    q += 1
    return _bytestring(m, q) if enc in (1, 2) else q


def _diagnostic(m: bytes, q: int) -> int:
    """Skip a DiagnosticInfo (OPC 10000-6 5.2.2.12)."""
    mask = m[q]
    q += 1
    for bit in (0x01, 0x02, 0x08, 0x04):  # SymbolicId, NamespaceUri, Locale, LocalizedText
        if mask & bit:
            q += 4
    if mask & 0x10:
        q = _string(m, q)[1]
    if mask & 0x20:
        q += 4
    if mask & 0x40:
        q = _diagnostic(m, q)
    return q


def _request_header(m: bytes, q: int) -> int:
    # AuthenticationToken, Timestamp, RequestHandle, ReturnDiagnostics, AuditEntryId, TimeoutHint, AdditionalHeader
    q = _nodeid(m, q)[2] + 8 + 4 + 4
    q = _string(m, q)[1] + 4
    return _extension_object(m, q)


def _response_header(m: bytes, q: int) -> int:
    # Timestamp, RequestHandle, ServiceResult, ServiceDiagnostics, StringTable, AdditionalHeader
    q = _diagnostic(m, q + 16)
    n = _i32(m, q)
    q += 4
    for _ in range(max(0, n)):
        q = _string(m, q)[1]
    return _extension_object(m, q)


OPCUA = Dissector(name="opcua", title="OPC UA Binary", tcp_ports=(4840,), tcp_heuristic=True, check=check,
                  frame=frame, pdu=decode, keep_pdu_start=True, events=(OPCUA_NONE,))
