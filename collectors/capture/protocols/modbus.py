"""Modbus/TCP (Modbus Messaging on TCP/IP Implementation Guide V1.0b, TCP 502).

MBAP header: transaction id(2) protocol id(2) = 0, length(2), unit id(1), then
the function code. Writes become findings; Read Device Identification (43/14)
responses name the vendor and product. Wireshark: packet-mbtcp.c.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Tuple

from cbom.model import Severity

from .._records import TcpStream
from .._wire import ip, text, u16
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

# Function codes that change a server (Modbus Application Protocol V1.1b3 section 6).
MODBUS_WRITES = {5: "Write Single Coil", 6: "Write Single Register", 15: "Write Multiple Coils",
                 16: "Write Multiple Registers", 22: "Mask Write Register", 23: "Read/Write Multiple Registers"}
# Read Device Identification object ids (section 6.21).
DEVICE_ID_OBJECTS = {0: "modbus-vendor", 1: "modbus-product-code", 2: "modbus-revision", 4: "modbus-product-name",
                     5: "modbus-model-name"}

MODBUS_WRITE = EventKind("modbus_write", "CBOM-NET-ICS-WRITE", Severity.MEDIUM, "Modbus write operations seen",
                         "A client changed coils or registers of a Modbus server; confirm it is an authorised master.")

_NAMES = ("mbtcp", "modbus")


def check(p: bytes) -> bool:
    return len(p) >= 8 and p[2] == 0 and p[3] == 0 and 2 <= u16(p, 4)[0] <= 260


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if len(p) < i + 6:
        return None
    if p[i + 2] or p[i + 3]:  # protocol id must be 0
        return 0, ()
    ln = u16(p, i + 4)[0]
    if ln < 2:
        return 0, ()
    return 6 + ln, _NAMES


def decode(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    fc = pdu[7]
    if dport == 502:
        an.serve("mbtcp", dst, 502, "tcp")
        if fc in MODBUS_WRITES:
            an.event(MODBUS_WRITE, src.hex() + dst.hex(), ts, "Modbus %s (function %d) from %s to %s"
                     % (MODBUS_WRITES[fc], fc, ip(src), ip(dst)))
    elif sport == 502 and fc == 43 and len(pdu) > 14 and pdu[8] == 14:
        # Read Device Identification response: objects id, len, value
        count = pdu[13]
        p = 14
        for _ in range(count):
            oid, ln = pdu[p], pdu[p + 1]
            if oid in DEVICE_ID_OBJECTS:
                an.ident_ip(src, DEVICE_ID_OBJECTS[oid], text(pdu[p + 2:p + 2 + ln]))
            p += 2 + ln


MODBUS = Dissector(name="mbtcp", title="Modbus/TCP", names={"modbus": "Modbus"}, scheme="modbus",
                   tcp_ports=(502,), check=check, frame=frame, pdu=decode, keep_pdu_start=True,
                   events=(MODBUS_WRITE,))
