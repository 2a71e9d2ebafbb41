"""EtherNet/IP encapsulation (ODVA CIP Vol 2 chapter 2, TCP/UDP 44818; I/O on UDP 2222), CIP and PCCC in CIP.

Identity: ListIdentity responses (CPF item 0x0C) and Get_Attributes_All
responses of the Identity object (class 1) carry the same attributes 1-7
(CIP Vol 1 section 5A-2): vendor id, device type, product code, revision,
status, serial number, product name. The Get_Attributes_All reply does not
repeat its request path, so the request is remembered by its encapsulation
sender context (unconnected) or sequence count (connected), as Wireshark does.
Sent through Unconnected Send with a route path (RSLinx browsing a chassis),
it names the module in that backplane slot: kept under "enip-slot-N-*".
Writes: CIP set-attribute/control services, and PCCC commands carried by the
Execute PCCC service (0x4B) of the PCCC object (class 0x67), which Wireshark
4.0 names `cippccc`. A PCCC Diagnostic Status reply names the processor's
catalogue number ("1766-LEC").
Wireshark: packet-enip.c (encapsulation, CPF, ListIdentity), packet-cip.c
(services, paths, Identity attributes, the PCCC object and its function codes).
"""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Dict, List, MutableMapping, Optional, Tuple

from cbom.model import Severity

from .._records import TcpStream
from .._wire import ip, text, u16le, u32le
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

# CIP services that change a device's attributes, or its state (ODVA CIP Vol 1 table ).
CIP_WRITES = {0x02: "Set_Attributes_All", 0x04: "Set_Attribute_List", 0x10: "Set_Attribute_Single"}
CIP_CONTROLS = {0x05: "Reset", 0x06: "Start", 0x07: "Stop"}
# Logix controllers' tag writes, on a symbolic path (Rockwell publication 1756-PM020, "Logix 5000
# Controllers Data Access": services 0x4D, 0x4E, 0x53; Wireshark 4.0 shows them as unknown services
# outside a connection it saw open).
LOGIX_WRITES = {0x4D: "Write Tag", 0x4E: "Read Modify Write Tag", 0x53: "Write Tag Fragmented"}
# Requests carrying this much data to one vendor-specific object are a download (a firmware
# update moves its image in blocks of a few hundred bytes: 5,243 blocks of 354 bytes to class 0xA1
# in the real ControlFLASH capture of tests/fixtures/capture/SOURCES.md).
_DOWNLOAD_BYTES = 256

# PCCC commands that write data or change the processor (names as Wireshark 4.0's packet-cip.c
# `cip.pccc.fnc.code_0f` value strings; Rockwell publication 1770-6.5.16, DF1 command set).
PCCC_WRITES = {0x00: "Word range write", 0x02: "Bit write", 0x03: "File write", 0x08: "Physical write",
               0x18: "Write bytes physical", 0x26: "Read-modify-write", 0x5E: "Modify PLC-2 compatibility file",
               0x67: "Typed write", 0x79: "Read-modify-write N",
               0xA9: "Protected typed logical write with two address fields",
               0xAA: "Protected typed logical write with three address fields",
               0xAB: "Protected typed logical masked-write with three address fields",
               0xAF: "Protected typed file write"}
PCCC_CONTROLS = {0x05: "Download request", 0x07: "Shutdown", 0x0A: "Restart request", 0x3A: "Set CPU mode",
                 0x41: "Disable forces", 0x50: "Download all request", 0x52: "Download completed",
                 0x57: "Initialize memory", 0x80: "Change CPU mode"}
# Change CPU mode (function 0x80) argument (packet-cip.c `cip.pccc.cpu.mode_80`).
PCCC_MODES = {0x01: "Remote Program", 0x06: "Remote Run", 0x07: "Remote Test Continuous",
              0x08: "Remote Test Single", 0x09: "Remote Test Debug"}

CIP_WRITE = EventKind("cip_write", "CBOM-NET-ICS-WRITE", Severity.MEDIUM, "CIP attribute or tag writes seen",
                      "A client changed attributes of an EtherNet/IP device or tags of a Logix controller.")
CIP_CONTROL = EventKind("cip_control", "CBOM-NET-ICS-WRITE", Severity.HIGH, "CIP reset, start or stop of a device seen",
                        "A client reset, started or stopped an EtherNet/IP device or one of its objects.")
CIP_DOWNLOAD = EventKind("cip_download", "CBOM-NET-ICS-WRITE", Severity.HIGH,
                         "Download to a vendor-specific CIP object seen",
                         "A client sent blocks of data to a vendor-specific object of an EtherNet/IP device, "
                         "as a firmware update or program download does.")
PCCC_WRITE = EventKind("pccc_write", "CBOM-NET-ICS-WRITE", Severity.MEDIUM, "PCCC (DF1) data writes seen",
                       "A client wrote data table values of an Allen-Bradley processor through PCCC in CIP.")
PCCC_CONTROL = EventKind("pccc_control", "CBOM-NET-ICS-WRITE", Severity.HIGH,
                         "PCCC (DF1) CPU mode change or program download seen",
                         "A client changed an Allen-Bradley processor's mode (run/program/test), its program "
                         "or its memory through PCCC in CIP.")

_N_ENIP = ("enip",)
_N_CIP = ("enip", "cip")
_N_PCCC = ("enip", "cip", "cippccc")
_CLASS_IDENTITY = 0x01
_CLASS_ROUTER = 0x02
_CLASS_SYMBOL = 0x6B
_CLASS_PCCC = 0x67
_MAX_PENDING = 256  # requests remembered per capture until their reply (oldest dropped)

# Requests waiting for their reply (the analyser's memory of "enip"): (client, server, sender context or sequence
# count) -> (CIP service, class, route label) and (client, server, PCCC TNS) -> (command, function, "").
_Request = Tuple[int, int, str]


def check(p: bytes) -> bool:
    return len(p) >= 24 and u16le(p, 0)[0] in (0x01, 0x04, 0x63, 0x64, 0x65, 0x66, 0x6F, 0x70)


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if len(p) < i + 24:
        return None
    cmd = u16le(p, i)[0]
    ln = 24 + u16le(p, i + 2)[0]
    if cmd in (0x6F, 0x70):  # SendRRData, SendUnitData: CIP inside
        return ln, (_N_PCCC if _is_pccc(p, i, i + ln, dr.conn) else _N_CIP)
    if cmd in (0x01, 0x04, 0x63, 0x64, 0x65, 0x66):
        return ln, _N_ENIP
    return 0, ()


# Execute PCCC requests seen on a connection, by what their reply repeats (Wireshark's enip request
# tracking, packet-enip.c enip_match_request: session handle and sender context when unconnected,
# the CIP sequence count when connected): a reply is `cippccc` only when its request was seen, as in
# tshark, which names a reply without one (the capture began after it) by its generic class.
_MAX_ASKED = 256  # requests awaiting their reply on one connection


def _is_pccc(p: bytes, i: int, end: int, asked: Dict[bytes, object]) -> bool:
    """Is the CIP message of this encapsulation an Execute PCCC request or reply? (no copy: every PDU)"""
    if len(p) < end or end < i + 32:
        return False
    q = i + 32  # header (24), interface handle (4), timeout (2), item count (2)
    for _ in range(min(p[i + 30], 4)):
        if q + 4 > end:
            return False
        itype, ilen = p[q] | p[q + 1] << 8, p[q + 2] | p[q + 3] << 8
        q += 4
        if itype in (0xB1, 0xB2):
            m = q + 2 if itype == 0xB1 else q  # connected data: sequence count first
            if m + 4 > end or p[m] & 0x7F != 0x4B:
                return False
            key = p[i + 4:i + 8] + (p[q:q + 2] if itype == 0xB1 else p[i + 12:i + 20])
            key = b"pccc" + key
            if p[m] & 0x80:
                return asked.pop(key, False) is None
            if _path_class(p[m:m + 6]) != _CLASS_PCCC:
                return False
            if len(asked) >= _MAX_ASKED:
                del asked[next(iter(asked))]
            asked[key] = None
            return True
        q += ilen
    return False


def _items(pl: bytes, q: int = 30) -> List[Tuple[int, bytes]]:
    """The Common Packet Format items (CIP Vol 2 section 2-6) from the item count at `q`
    (SendRRData/SendUnitData: after header (24), interface handle (4) and timeout (2))."""
    count = u16le(pl, q)[0]
    q += 2
    out = []
    for _ in range(min(count, 4)):
        itype, ilen = struct.unpack_from("<HH", pl, q)
        out.append((itype, pl[q + 4:q + 4 + ilen]))
        q += 4 + ilen
    return out


def _path_class(msg: bytes) -> int:
    """Class id of a CIP request's logical path (8- or 16-bit class segment first), or -1."""
    words = msg[1]
    path = msg[2:2 + 2 * words]
    if len(path) >= 2 and path[0] == 0x20:
        return path[1]
    if len(path) >= 4 and path[0] == 0x21:
        return u16le(path, 2)[0]
    return -1


def decode_pdu(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    _encapsulation(an, ts, pdu, src, dst, sport == 44818)


def decode_datagram(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
                    st: List[str], inner: bool) -> None:
    if sport == 2222 or dport == 2222:  # implicit (I/O) messaging: CIP without encapsulation
        st.append("enip")
        st.append("cip")
        return
    if len(pl) >= 24 and u16le(pl, 2)[0] + 24 <= len(pl):
        st.append("enip")
        if not inner:
            try:
                _encapsulation(an, ts, pl, src, dst, sport == 44818)
            except (IndexError, ValueError, struct.error):  # the datagram is fine, its content is cut
                an.malformed_pdu("enip")
    else:
        st.append("data")


def _encapsulation(an: Analyzer, ts: float, pl: bytes, src: bytes, dst: bytes, from_server: bool) -> None:
    cmd = u16le(pl, 0)[0]
    if cmd == 0x63 and from_server and len(pl) > 30:
        # ListIdentity response: CPF items; the CIP Identity item (0x0C) holds encapsulation
        # version (2) and socket address (16) before the Identity attributes.
        for itype, body in _items(pl, 24):  # no interface handle/timeout: item count right after the header
            if itype == 0x0C:
                _identity(an, src, body[18:])
    elif cmd in (0x6F, 0x70):
        if not from_server:
            an.serve("enip", dst, 44818, "tcp")
        for itype, body in _items(pl):
            if itype not in (0xB2, 0xB1) or not body:  # unconnected / connected data item
                continue
            if itype == 0xB1:  # connected: sequence count, then the CIP message
                tag, msg = body[:2], body[2:]
            else:  # unconnected: the encapsulation sender context pairs request and reply
                tag, msg = pl[12:20], body
            if not msg:
                continue
            if msg[0] & 0x80:
                if from_server:
                    _reply(an, msg, src, dst, tag)
            elif not from_server:
                _request(an, ts, msg, src, dst, tag, itype)


def _identity(an: Analyzer, dev: bytes, v: bytes, route: str = "") -> None:
    """Identity object attributes 1-7 (CIP Vol 1 5A-2.2; packet-cip.c `cip.id.*`).

    A module reached through a route path (`route`: "slot-0") is another device in the chassis
    behind `dev`'s adapter: its facts are named "enip-slot-0-product-name", not "enip-product-name".
    """
    pre = "enip-%s-" % route if route else "enip-"
    vendor, dtype, pcode = struct.unpack_from("<HHH", v, 0)
    serial = u32le(v, 10)[0]
    nlen = v[14]
    if len(v) < 15 + nlen:
        raise IndexError("product name cut")
    # Wireshark shows revision as major.minor with two minor digits ("4.03").
    an.ident_ip(dev, pre + "product-name", text(v[15:15 + nlen]))
    an.ident_ip(dev, pre + "revision", "%d.%02d" % (v[6], v[7]))
    an.ident_ip(dev, pre + "vendor-id", str(vendor))
    an.ident_ip(dev, pre + "device-type", str(dtype))
    an.ident_ip(dev, pre + "product-code", str(pcode))
    an.ident_ip(dev, pre + "serial", "0x%08x" % serial)


def _pending(an: Analyzer) -> Dict[bytes, _Request]:
    return an.memory("enip")


def _remember(table: MutableMapping[bytes, _Request], key: bytes, value: _Request) -> None:
    table.pop(key, None)
    table[key] = value
    if len(table) > _MAX_PENDING:
        del table[next(iter(table))]


def _request(an: Analyzer, ts: float, msg: bytes, src: bytes, dst: bytes, tag: bytes, itype: int) -> None:
    svc = msg[0]
    route = ""
    if svc == 0x52 and itype == 0xB2 and len(msg) > 2:  # Unconnected Send: the embedded request counts
        # CIP Vol 1 3-5.5.2: path, priority/tick, timeout ticks, message size, message (padded to
        # even length), route path size (words), reserved, route path (to the module addressed)
        p = 2 + msg[1] * 2
        size = u16le(msg, p + 2)[0]
        inner = msg[p + 4:p + 4 + size]
        if inner and not inner[0] & 0x80:
            q = p + 4 + size + (size & 1)
            route = _route_label(msg[q + 2:q + 2 + 2 * msg[q]]) if q < len(msg) else ""
            msg, svc = inner, inner[0]
    cls = _path_class(msg) if len(msg) > 1 else -1
    if svc == 0x0A and cls == _CLASS_ROUTER:  # Multiple Service Packet: the requests it holds count
        _multiple(an, ts, msg, src, dst)
    else:
        _changes(an, ts, msg, svc, cls, src, dst)
    if svc == 0x01 and cls == _CLASS_IDENTITY or svc == 0x4B and cls == _CLASS_PCCC:
        _remember(_pending(an), src + dst + tag, (svc, cls, route))
    if svc == 0x4B and cls == _CLASS_PCCC:
        _pccc_request(an, ts, msg[2 + msg[1] * 2:], src, dst)


def _changes(an: Analyzer, ts: float, msg: bytes, svc: int, cls: int, src: bytes, dst: bytes) -> None:
    """Events of one request `msg` (service, path size in words, path, data) that changes the device.
    Most requests change nothing: the evidence text is made only for those that do."""
    tail = ""
    if svc in CIP_WRITES:
        kind, sub, what = CIP_WRITE, "%02x" % svc, "CIP %s (service 0x%02x)" % (CIP_WRITES[svc], svc)
    elif svc in CIP_CONTROLS:
        of = " of class 0x%02x" % cls if cls >= 0 else ""
        kind, sub, what = CIP_CONTROL, "%02x" % svc, "CIP %s (service 0x%02x)%s" % (CIP_CONTROLS[svc], svc, of)
    elif svc in LOGIX_WRITES and (len(msg) > 3 and msg[2] == 0x91 or cls == _CLASS_SYMBOL):
        # 0x91: ANSI extended symbol segment (CIP Vol 1 C-1.5): length, then the tag name
        tag = " '%s'" % text(msg[4:4 + msg[3]]) if msg[2] == 0x91 else ""
        kind, sub, what = CIP_WRITE, "%02x" % svc, "Logix %s%s (service 0x%02x)" % (LOGIX_WRITES[svc], tag, svc)
    elif 0x64 <= cls <= 0xC7 or 0x300 <= cls <= 0x4FF:  # the vendor-specific class code ranges (CIP Vol 1, ch. 5)
        size = len(msg) - 2 - 2 * msg[1]
        if size < _DOWNLOAD_BYTES:
            return
        kind, sub = CIP_DOWNLOAD, "%04x" % cls
        what = "CIP service 0x%02x with %d bytes of data to vendor-specific class 0x%02x" % (svc, size, cls)
        tail = " (requests of %d bytes or more are counted)" % _DOWNLOAD_BYTES
    else:
        return
    an.event(kind, src.hex() + dst.hex() + sub, ts, "%s from %s to %s%s" % (what, ip(src), ip(dst), tail))


def _multiple(an: Analyzer, ts: float, msg: bytes, src: bytes, dst: bytes) -> None:
    """The requests of a Multiple Service Packet (service 0x0A of the Message Router, as packet-cip.c
    reads it: number of services, their offsets from that number, then the requests)."""
    d = msg[2 + 2 * msg[1]:]
    n = u16le(d, 0)[0]
    offsets = [u16le(d, 2 + 2 * k)[0] for k in range(min(n, 64))]
    for k, start in enumerate(offsets):
        sub = d[start:offsets[k + 1] if k + 1 < len(offsets) else len(d)]
        if len(sub) >= 2 and not sub[0] & 0x80:
            _changes(an, ts, sub, sub[0], _path_class(sub), src, dst)


def _route_label(path: bytes) -> str:
    """Name of the module a route path reaches: "slot-3" for backplane port 1, link 3 (the chassis
    behind the adapter at this IP); "route-<port>-<link>-…" otherwise (CIP Vol 1 C-1.4.1 port segment)."""
    parts: List[str] = []
    q = 0
    while q < len(path) and len(parts) < 8:
        seg = path[q]
        if seg & 0xE0:  # not a port segment
            break
        port = seg & 0x0F
        if seg & 0x10:  # extended link address: size, then the address (an IP address as text)
            n = path[q + 1]
            link = text(path[q + 2:q + 2 + n])
            q += 2 + n + (n & 1)
        else:
            link = str(path[q + 1])
            q += 2
        parts.append("%d-%s" % (port, link))
    if len(parts) == 1 and parts[0].startswith("1-"):
        return "slot-" + parts[0][2:]
    return "route-" + "-".join(parts) if parts else ""


def _reply(an: Analyzer, msg: bytes, src: bytes, dst: bytes, tag: bytes) -> None:
    # reply: service | 0x80, reserved, general status, additional status size (words), status, data
    req = _pending(an).pop(dst + src + tag, None)
    if req is None or msg[2] != 0:
        return
    data = msg[4 + 2 * msg[3]:]
    if req[:2] == (0x01, _CLASS_IDENTITY) and msg[0] == 0x81:
        _identity(an, src, data, req[2])
    elif req[0] == 0x4B and msg[0] == 0xCB:
        _pccc_reply(an, data, src, dst)


def _pccc_body(d: bytes) -> bytes:
    # Requestor ID: its length byte counts itself, then CIP vendor id (2) and serial (4), then
    # CMD, STS, TNS (2) (packet-cip.c dissect_cip_pccc).
    n = d[0]
    if n < 7:
        raise ValueError("PCCC requestor id too short")
    return d[n:]


def _pccc_request(an: Analyzer, ts: float, d: bytes, src: bytes, dst: bytes) -> None:
    b = _pccc_body(d)
    cmd, tns = b[0], u16le(b, 2)[0]
    fnc = b[4] if cmd in (0x06, 0x07, 0x0F) else -1
    _remember(_pending(an), src + dst + b"pccc" + struct.pack("<H", tns), (cmd, fnc, ""))
    if cmd != 0x0F:
        return
    if fnc in PCCC_CONTROLS:
        what, key = PCCC_CONTROLS[fnc], "%02x" % fnc
        if fnc == 0x80 and len(b) > 5:  # one piece of evidence per target mode
            what += " to %s" % PCCC_MODES.get(b[5], "mode 0x%02x" % b[5])
            key += "%02x" % b[5]
        an.event(PCCC_CONTROL, src.hex() + dst.hex() + key, ts,
                 "PCCC %s (function 0x%02x) from %s to %s" % (what, fnc, ip(src), ip(dst)))
    elif fnc in PCCC_WRITES:
        an.event(PCCC_WRITE, src.hex() + dst.hex() + "%02x" % fnc, ts,
                 "PCCC %s (function 0x%02x) from %s to %s" % (PCCC_WRITES[fnc], fnc, ip(src), ip(dst)))


def _pccc_reply(an: Analyzer, d: bytes, src: bytes, dst: bytes) -> None:
    b = _pccc_body(d)
    cmd, sts, tns = b[0], b[1], u16le(b, 2)[0]
    req = _pending(an).pop(dst + src + b"pccc" + struct.pack("<H", tns), None)
    if req != (0x06, 0x03, "") or cmd != 0x46 or sts != 0:
        return
    # Diagnostic Status reply of SLC 500 / MicroLogix / PLC-5 class processors (1770-6.5.16,
    # "Diagnostic Status"): mode/status, type extender 0xEE, extended interface type, extended
    # processor type, series/revision, then the 11-character catalogue number ("1766-LEC   ").
    data = b[4:]
    if len(data) >= 16 and data[1] == 0xEE:
        cat = data[5:16]
        if all(0x20 <= x < 0x7F for x in cat):
            an.ident_ip(src, "pccc-catalog-number", cat.decode("ascii"))


ENIP = Dissector(name="enip", title="EtherNet/IP",
                 names={"cip": "Common Industrial Protocol", "cippccc": "CIP PCCC Object"},
                 tcp_ports=(44818,), udp_ports=(44818, 2222), check=check, frame=frame, pdu=decode_pdu,
                 keep_pdu_start=True, datagram=decode_datagram,
                 events=(CIP_WRITE, CIP_CONTROL, CIP_DOWNLOAD, PCCC_WRITE, PCCC_CONTROL))
