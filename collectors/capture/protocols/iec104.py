"""IEC 60870-5-104 (TCP 2404): APCI start 0x68, length; I-format APDUs carry an ASDU.

Type ids 45-69 are commands in control direction (IEC 60870-5-101 table 8).
Identity: the common address of ASDU (IEC 60870-5-104 section 5: type id,
variable structure qualifier, cause of transmission (2 octets), common
address (2 octets, little-endian)) is the station address of the outstation,
the side listening on TCP 2404, in both directions.
Wireshark: packet-iec104.c (`iec60870_asdu.addr`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Tuple

from cbom.model import Severity

from .._records import TcpStream
from .._wire import ip
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

IEC104_CONTROL = set(range(45, 70))  # C_SC_NA_1 … C_BO_TA_1: commands in control direction

IEC104_COMMAND = EventKind("iec104_command", "CBOM-NET-ICS-WRITE", Severity.MEDIUM, "IEC 60870-5-104 commands seen",
                           "A controlling station sent commands (control direction ASDUs) to an outstation.")

_N_104 = ("iec60870_104",)
_N_104A = ("iec60870_104", "iec60870_asdu")


def check(p: bytes) -> bool:
    return len(p) >= 6 and p[0] == 0x68 and 4 <= p[1] <= 253


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if len(p) < i + 3:
        return None
    if p[i] != 0x68:
        return 0, ()
    ln = p[i + 1]
    return 2 + ln, (_N_104A if not p[i + 2] & 1 and ln > 4 else _N_104)  # I-format with an ASDU


_MAX_ADDRESSES = 16  # common addresses listed per station


def decode(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    if dport == 2404:
        an.serve("iec60870_104", dst, 2404, "tcp")
    if len(pdu) > 6 and not pdu[2] & 1:
        tid = pdu[6]
        if len(pdu) >= 12 and 2404 in (sport, dport):
            _common_address(an, src if sport == 2404 else dst, pdu[10] | pdu[11] << 8)
        if tid in IEC104_CONTROL and dport == 2404:
            an.event(IEC104_COMMAND, src.hex() + dst.hex() + "%02x" % tid, ts,
                     "IEC 60870-5-104 command (type %d) from %s to %s" % (tid, ip(src), ip(dst)))


def _common_address(an: Analyzer, station: bytes, ca: int) -> None:
    """Add `ca` to the station's list of common addresses ("1, 3"), in the order first seen."""
    d = an.ip_ident.setdefault(station, {})
    have = d.get("iec104-common-address", "")
    if have == str(ca):  # the usual case: one station, one address
        return
    seen = have.split(", ") if have else []
    if str(ca) not in seen and len(seen) < _MAX_ADDRESSES:
        d["iec104-common-address"] = ", ".join(seen + [str(ca)])


IEC104 = Dissector(name="iec60870_104", title="IEC 60870-5-104",
                   names={"iec60870_asdu": "IEC 60870-5-101/104 ASDU"}, scheme="iec104",
                   tcp_ports=(2404,), check=check, frame=frame, pdu=decode, events=(IEC104_COMMAND,))
