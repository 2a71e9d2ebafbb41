"""EtherNet/IP encapsulation (ODVA CIP Vol 2 chapter 2, TCP/UDP 44818; I/O on UDP 2222) and CIP.

ListIdentity responses name the device; SendRRData/SendUnitData requests
carry CIP services, of which those that change a device become findings.
Wireshark: packet-enip.c, packet-cip.c.
"""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING, List, Optional, Tuple

from cbom.model import Severity

from .._records import TcpStream
from .._wire import ip, text, u16le, u32le
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

# CIP services that change a device (ODVA CIP Vol 1 table ).
CIP_WRITES = {0x02: "Set_Attributes_All", 0x04: "Set_Attribute_List", 0x10: "Set_Attribute_Single",
              0x05: "Reset", 0x06: "Start", 0x07: "Stop"}

CIP_WRITE = EventKind("cip_write", "CBOM-NET-ICS-WRITE", Severity.MEDIUM, "CIP set-attribute or control services seen",
                      "A client changed attributes or the state of an EtherNet/IP device.")

_N_ENIP = ("enip",)
_N_CIP = ("enip", "cip")


def check(p: bytes) -> bool:
    return len(p) >= 24 and u16le(p, 0)[0] in (0x01, 0x04, 0x63, 0x64, 0x65, 0x66, 0x6F, 0x70)


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if len(p) < i + 24:
        return None
    cmd = u16le(p, i)[0]
    ln = 24 + u16le(p, i + 2)[0]
    if cmd in (0x6F, 0x70):  # SendRRData, SendUnitData: CIP inside
        return ln, _N_CIP
    if cmd in (0x01, 0x04, 0x63, 0x64, 0x65, 0x66):
        return ln, _N_ENIP
    return 0, ()


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
            _encapsulation(an, ts, pl, src, dst, sport == 44818)
    else:
        st.append("data")


def _encapsulation(an: Analyzer, ts: float, pl: bytes, src: bytes, dst: bytes, from_server: bool) -> None:
    cmd = u16le(pl, 0)[0]
    if cmd == 0x63 and from_server and len(pl) > 30:
        # ListIdentity response: CPF count, item type 0x0c, len, identity object
        q = 24 + 2 + 4  # header, item count, item type+len
        q += 2 + 16  # encapsulation version, socket address
        vendor, dtype, pcode = struct.unpack_from("<HHH", pl, q)
        rev = "%d.%d" % (pl[q + 6], pl[q + 7])
        serial = u32le(pl, q + 10)[0]
        nlen = pl[q + 14]
        name = text(pl[q + 15:q + 15 + nlen])
        an.ident_ip(src, "enip-product-name", name)
        an.ident_ip(src, "enip-revision", rev)
        an.ident_ip(src, "enip-vendor-id", str(vendor))
        an.ident_ip(src, "enip-device-type", str(dtype))
        an.ident_ip(src, "enip-product-code", str(pcode))
        an.ident_ip(src, "enip-serial", "0x%08x" % serial)
    elif cmd in (0x6F, 0x70) and not from_server:
        an.serve("enip", dst, 44818, "tcp")
        # CPF: interface handle(4) timeout(2) count(2) items...
        q = 24 + 6
        count = u16le(pl, q)[0]
        q += 2
        for _ in range(min(count, 4)):
            itype, ilen = struct.unpack_from("<HH", pl, q)
            body = pl[q + 4:q + 4 + ilen]
            q += 4 + ilen
            if itype in (0xB2, 0xB1) and body:  # unconnected / connected data item
                svc = body[2] if itype == 0xB1 and len(body) > 2 else body[0]
                if svc & 0x80:  # a reply, not a request
                    continue
                if svc == 0x52 and itype == 0xB2 and len(body) > 2:  # Unconnected Send: embedded request
                    ps = body[1] * 2
                    inner = body[2 + ps + 4:]
                    if inner and not inner[0] & 0x80:
                        svc = inner[0]
                if svc in CIP_WRITES:
                    an.event(CIP_WRITE, src.hex() + dst.hex() + "%02x" % svc, ts,
                             "CIP %s (service 0x%02x) from %s to %s" % (CIP_WRITES[svc], svc, ip(src), ip(dst)))


ENIP = Dissector(name="enip", title="EtherNet/IP", names={"cip": "Common Industrial Protocol"},
                 tcp_ports=(44818,), udp_ports=(44818, 2222), check=check, frame=frame, pdu=decode_pdu,
                 keep_pdu_start=True, datagram=decode_datagram, events=(CIP_WRITE,))
