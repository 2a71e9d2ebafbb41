"""Modbus/TCP (Modbus Messaging on TCP/IP Implementation Guide V1.0b, TCP 502).

MBAP header: transaction id(2) protocol id(2) = 0, length(2), unit id(1), then
the function code. Writes become findings; Read Device Identification (43/14)
responses name the vendor and product. Wireshark: packet-mbtcp.c. Function 90
carries Schneider Electric UMAS, named "umas" (no Wireshark 4.0 dissector).
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

# Schneider Electric UMAS, carried in Modbus function code 90 (0x5A): request = session key (1),
# UMAS function (1), data. Wireshark 4.0 has no UMAS dissector (it shows Modbus function 90);
# the codes follow the published research: Kaspersky ICS CERT, "The secrets of Schneider
# Electric's UMAS protocol" (2022), and Liras en la red, "The Unity (UMAS) protocol" (2017).
UMAS_FC = 0x5A
UMAS_FUNCTIONS = {0x01: "INIT_COMM", 0x02: "READ_ID", 0x03: "READ_PROJECT_INFO", 0x04: "READ_PLC_INFO",
                  0x06: "READ_CARD_INFO", 0x0A: "REPEAT", 0x10: "TAKE_PLC_RESERVATION",
                  0x11: "RELEASE_PLC_RESERVATION", 0x12: "KEEP_ALIVE", 0x20: "READ_MEMORY_BLOCK",
                  0x22: "READ_VARIABLES", 0x23: "WRITE_VARIABLES", 0x24: "READ_COILS_REGISTERS",
                  0x25: "WRITE_COILS_REGISTERS", 0x26: "DATA_DICTIONARY", 0x30: "INITIALIZE_UPLOAD",
                  0x31: "UPLOAD_BLOCK", 0x32: "END_STRATEGY_UPLOAD", 0x33: "INITIALIZE_DOWNLOAD",
                  0x34: "DOWNLOAD_BLOCK", 0x35: "END_STRATEGY_DOWNLOAD", 0x39: "READ_ETH_MASTER_DATA",
                  0x40: "START_PLC", 0x41: "STOP_PLC", 0x50: "MONITOR_PLC", 0x58: "CHECK_PLC",
                  0x70: "READ_IO_OBJECT", 0x71: "WRITE_IO_OBJECT", 0x73: "GET_STATUS_MODULE"}
UMAS_REPLIES = (0xFE, 0xFD)  # OK, error
UMAS_WRITES = {0x23: "WRITE_VARIABLES", 0x25: "WRITE_COILS_REGISTERS", 0x71: "WRITE_IO_OBJECT"}
UMAS_CONTROLS = {0x30: "INITIALIZE_UPLOAD (program transfer to the PLC)", 0x31: "UPLOAD_BLOCK",
                 0x32: "END_STRATEGY_UPLOAD", 0x40: "START_PLC", 0x41: "STOP_PLC"}

def umas_plc_model(pdu: bytes) -> str:
    """The PLC model a UMAS READ_ID (0x02) reply names, or "". The reply (after MBAP, function 90,
    key, 0xFE) is 22 bytes of range, identifiers, versions and crash code, the length-prefixed
    name, then a count of memory banks and 8 bytes per bank (Apache PLC4X umas.mspec,
    UmasPDUPlcIdentResponse). The reply does not say which request it answers, so the whole
    layout must fit exactly."""
    n = pdu[32]
    end = 33 + n
    if not 4 <= n <= 64 or len(pdu) <= end or len(pdu) != end + 1 + 8 * pdu[end]:
        return ""
    name = pdu[33:end]
    if not all(0x20 <= b < 0x7F for b in name):
        return ""
    return name.decode("ascii").strip()


MODBUS_WRITE = EventKind("modbus_write", "CBOM-NET-ICS-WRITE", Severity.MEDIUM, "Modbus write operations seen",
                         "A client changed coils or registers of a Modbus server; confirm it is an authorised master.")

UMAS_WRITE = EventKind("umas_write", "CBOM-NET-ICS-WRITE", Severity.MEDIUM, "UMAS variable writes seen",
                       "A client wrote variables, coils/registers or I/O objects of a Schneider Electric PLC "
                       "through UMAS (Modbus function 90).")
UMAS_CONTROL = EventKind("umas_control", "CBOM-NET-ICS-WRITE", Severity.HIGH, "UMAS program download or PLC "
                         "start/stop seen", "A client transferred a program (strategy) to a Schneider Electric "
                         "PLC, or started or stopped it, through UMAS (Modbus function 90).")

_NAMES = ("mbtcp", "modbus")
_N_UMAS = ("mbtcp", "modbus", "umas")


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
    if len(p) > i + 9 and p[i + 7] == UMAS_FC and (p[i + 9] in UMAS_FUNCTIONS or p[i + 9] in UMAS_REPLIES):
        # a request naming a UMAS function, or a UMAS reply; not a function-code sweep's probe
        return 6 + ln, _N_UMAS
    return 6 + ln, _NAMES


def decode(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    fc = pdu[7]
    if dport == 502:
        an.serve("mbtcp", dst, 502, "tcp")
        if fc == UMAS_FC and len(pdu) > 9:
            umas = pdu[9]
            if umas in UMAS_WRITES or umas in UMAS_CONTROLS:
                kind = UMAS_WRITE if umas in UMAS_WRITES else UMAS_CONTROL
                an.event(kind, src.hex() + dst.hex() + "%02x" % umas, ts, "UMAS %s (0x%02x) from %s to %s"
                         % (UMAS_WRITES.get(umas) or UMAS_CONTROLS[umas], umas, ip(src), ip(dst)))
        elif fc in MODBUS_WRITES:
            an.event(MODBUS_WRITE, src.hex() + dst.hex(), ts, "Modbus %s (function %d) from %s to %s"
                     % (MODBUS_WRITES[fc], fc, ip(src), ip(dst)))
    elif sport == 502 and fc == UMAS_FC and len(pdu) > 32 and pdu[9] == 0xFE:
        model = umas_plc_model(pdu)
        if model:
            an.ident_ip(src, "umas-plc-model", model)
    elif sport == 502 and fc == 43 and len(pdu) > 14 and pdu[8] == 14:
        # Read Device Identification response: objects id, len, value
        count = pdu[13]
        p = 14
        for _ in range(count):
            oid, ln = pdu[p], pdu[p + 1]
            if oid in DEVICE_ID_OBJECTS:
                an.ident_ip(src, DEVICE_ID_OBJECTS[oid], text(pdu[p + 2:p + 2 + ln]))
            p += 2 + ln


MODBUS = Dissector(name="mbtcp", title="Modbus/TCP",
                   names={"modbus": "Modbus", "umas": "Schneider Electric UMAS (Modbus function 90; Wireshark 4.0 "
                                              "has no dissector)"}, scheme="modbus",
                   tcp_ports=(502,), check=check, frame=frame, pdu=decode, keep_pdu_start=True,
                   events=(MODBUS_WRITE, UMAS_WRITE, UMAS_CONTROL))
