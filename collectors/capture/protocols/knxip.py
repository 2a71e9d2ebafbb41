"""KNXnet/IP, UDP and TCP 3671 (Wireshark display filter `kip`).

Follows Wireshark's packet-knxip.c and the KNX Standard, volume 3 part 8 (KNXnet/IP):
a 6-byte header (header length 6, protocol version 0x10, service type, total length)
then the body. Search Responses (0x0202, 0x020C) carry the server's control endpoint
(HPAI, 8 bytes) and description blocks (DIBs), Description Responses (0x0204) the DIBs
alone. The Device Information DIB (type 1) names the device: KNX medium, status, KNX
individual address, project-installation id, serial number (6 bytes), routing
multicast address, MAC address and a 30-byte friendly name. The Manufacturer Data DIB
(type 0xFE) starts with the KNX manufacturer id. Tunnelling Feature Response/Info
(0x0423/0x0425) of feature 6 and Connect Responses (0x0206, tunnelling CRD) give the
individual address of a tunnelling interface.

Device Configuration Requests (0x0310) carrying cEMI M_PropWrite.req or M_Reset.req,
and Remote Configuration/Reset Requests (0x0742/0x0743), change a KNXnet/IP device
and become findings.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Tuple

from cbom.model import Severity

from .._records import TcpStream
from .._wire import ip, mac, text, u16
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

KNX_CONFIG = EventKind("knx_device_config", "CBOM-NET-ICS-WRITE", Severity.MEDIUM,
                       "KNXnet/IP device configuration write or reset seen",
                       "A station wrote interface-object properties of a KNXnet/IP device or reset it.")

PORT = 3671
_NAMES = ("kip",)
_CEMI_CHANGES = {0xF6: "M_PropWrite.req", 0xF1: "M_Reset.req"}
_REMOTE = {0x0742: "Remote Configuration Request", 0x0743: "Remote Reset Request"}


def individual_address(a: int) -> str:
    """KNX individual address area.line.device."""
    return "%d.%d.%d" % (a >> 12, (a >> 8) & 0x0F, a & 0xFF)


def _header_ok(p: bytes, i: int = 0) -> bool:
    return p[i] == 6 and p[i + 1] in (0x10, 0x20)


def check(p: bytes) -> bool:
    return len(p) < 2 or _header_ok(p)


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if len(p) < i + 6:
        return None
    ln = u16(p, i + 4)[0]
    if not _header_ok(p, i) or ln < 6:
        return 0, ()
    return ln, _NAMES


def decode_pdu(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    if dport == PORT:
        an.serve("kip", dst, PORT, "tcp")
    _message(an, ts, pdu, src, dst)


def decode_datagram(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
                    st: List[str], inner: bool) -> None:
    if len(pl) < 6 or not _header_ok(pl):
        st.append("data")
        return
    st.append("kip")
    if not inner:
        _message(an, ts, pl, src, dst)


def dib_facts(b: bytes) -> List[Tuple[str, str]]:
    """(key, value) identity facts of a sequence of DIBs (structure length, type, data)."""
    out = []
    p = 0
    while p + 2 <= len(b):
        ln, typ = b[p], b[p + 1]
        if ln < 2:
            break
        d = b[p + 2:p + ln]
        p += ln
        if typ == 0x01 and len(d) >= 52:  # Device Information
            out += [("knx-friendly-name", text(d[22:52])),
                    ("knx-individual-address", individual_address(u16(d, 2)[0])),
                    ("knx-serial-number", d[6:12].hex()),
                    ("knx-mac", mac(d[16:22]))]
        elif typ == 0xFE and len(d) >= 2:  # Manufacturer Data
            out.append(("knx-manufacturer-id", str(u16(d, 0)[0])))
    return [(k, v) for k, v in out if v]


def _message(an: Analyzer, ts: float, m: bytes, src: bytes, dst: bytes) -> None:
    svc = u16(m, 2)[0]
    body = m[6:u16(m, 4)[0]]
    if svc in (0x0202, 0x020C):  # Search Response (Extended): HPAI, then DIBs
        for k, v in dib_facts(body[8:]):
            an.ident_ip(src, k, v)
    elif svc == 0x0204:  # Description Response
        for k, v in dib_facts(body):
            an.ident_ip(src, k, v)
    elif svc in (0x0423, 0x0425) and len(body) >= 8 and body[4] == 6:
        # Tunnelling Feature Response/Info: connection header (4), feature id, status, value
        an.ident_ip(src, "knx-tunnel-individual-address", individual_address(u16(body, 6)[0]))
    elif svc == 0x0206 and len(body) >= 2 and body[1] == 0:
        # Connect Response, no error: channel, status, HPAI (8), CRD (length, type 4 = tunnel, address)
        crd = body[10:]
        if len(crd) >= 4 and crd[1] == 4:
            an.ident_ip(src, "knx-tunnel-individual-address", individual_address(u16(crd, 2)[0]))
    elif svc == 0x0310 and len(body) >= 5 and body[4] in _CEMI_CHANGES:
        # Device Configuration Request: connection header (4), cEMI message code
        an.event(KNX_CONFIG, src.hex() + dst.hex() + "%02x" % body[4], ts, "KNXnet/IP %s from %s to %s"
                 % (_CEMI_CHANGES[body[4]], ip(src), ip(dst)))
    elif svc in _REMOTE:
        an.event(KNX_CONFIG, src.hex() + dst.hex() + "%04x" % svc, ts, "KNXnet/IP %s from %s to %s"
                 % (_REMOTE[svc], ip(src), ip(dst)))


KNXIP = Dissector(name="kip", title="KNXnet/IP", tcp_ports=(PORT,), udp_ports=(PORT,), check=check, frame=frame,
                  pdu=decode_pdu, keep_pdu_start=True, datagram=decode_datagram, events=(KNX_CONFIG,))
