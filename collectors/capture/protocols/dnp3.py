"""DNP3 (IEEE 1815-2012, TCP/UDP 20000; found on any UDP port by its 0x0564 start bytes).

Link frame: start(2) length(1) control(1) dst(2) src(2) crc(2), then user data
in blocks of 16 bytes each followed by a 2-byte CRC. Master requests that
write or control become findings. Wireshark: packet-dnp.c.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Tuple

from cbom.model import Severity

from .._records import TcpStream
from .._wire import ip
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

# DNP3 application function codes (IEEE 1815 table 4-1).
DNP3_WRITES = {2: "Write", 3: "Select", 4: "Operate", 5: "Direct Operate", 6: "Direct Operate No Ack",
               13: "Cold Restart", 14: "Warm Restart", 18: "Stop Application"}

DNP3_WRITE = EventKind("dnp3_write", "CBOM-NET-ICS-WRITE", Severity.MEDIUM, "DNP3 control operations seen",
                       "A master issued write/select/operate/restart functions to an outstation.")

_NAMES = ("dnp3",)


def check(p: bytes) -> bool:
    return len(p) >= 10 and p[0] == 0x05 and p[1] == 0x64


def heuristic(p: bytes) -> bool:
    return len(p) >= 4 and p[0] == 0x05 and p[1] == 0x64


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if len(p) < i + 3:
        return None
    if p[i] != 0x05 or p[i + 1] != 0x64:
        return 0, ()
    n = p[i + 2] - 5  # the length counts control, destination and source: 5 bytes
    if n < 0:
        return 0, ()
    return 10 + n + 2 * ((n + 15) // 16), _NAMES


def decode_pdu(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    if dport == 20000:
        an.serve("dnp3", dst, 20000, "tcp")
    _application(an, ts, pdu, src, dst)


def decode_datagram(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
                    st: List[str], inner: bool) -> None:
    if check(pl):
        st.append("dnp3")
        if not inner:
            _application(an, ts, pl, src, dst)
    else:
        st.append("data")


def _application(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes) -> None:
    ctrl = pdu[3]
    # first user-data block after the 10-byte header: transport(1) app-control(1) function(1)
    if not ctrl & 0x40 or len(pdu) < 13:  # only primary (master) frames carry requests
        return
    tr = pdu[10]
    if not tr & 0x40:  # not the first transport segment
        return
    fc = pdu[12]
    if fc in DNP3_WRITES:
        an.event(DNP3_WRITE, src.hex() + dst.hex() + "%02x" % fc, ts, "DNP3 %s (function %d) from %s to %s"
                 % (DNP3_WRITES[fc], fc, ip(src), ip(dst)))


DNP3 = Dissector(name="dnp3", title="DNP 3.0", tcp_ports=(20000,), udp_ports=(20000,), udp_heuristic=heuristic,
                 check=check, frame=frame, pdu=decode_pdu, datagram=decode_datagram, events=(DNP3_WRITE,))
