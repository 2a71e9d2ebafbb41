"""DNP3 (IEEE 1815-2012, TCP/UDP 20000; found on any UDP port by its 0x0564 start bytes).

Link frame: start(2) length(1) control(1) dst(2) src(2) crc(2), then user data
in blocks of 16 bytes each followed by a 2-byte CRC. Master requests that
write or control become findings; the link addresses a station sends from are
its identity (`dnp3-address`, with `dnp3-role` master/outstation from the DIR bit); so is a
destination address, which names the receiving station.

Wireshark: packet-dnp.c. Its `check_dnp3_header` accepts a TCP segment or UDP
datagram only when the 10-byte link header's CRC is right (a frame with a bad
header CRC is shown as "data"); `get_dnp3_message_len` then cuts every link frame
of the segment, so one segment may hold several frames and one frame may span
segments (the engine's framing loop handles both).
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
HEADER = 10  # start(2) length(1) control(1) destination(2) source(2) CRC(2)
# Link addresses 0xFFF0..0xFFFF are reserved or broadcast (IEEE 1815-2012 9.2.5.3 / 9.2.5.4):
# no station owns them.
FIRST_RESERVED = 0xFFF0


def _crc_table() -> Tuple[int, ...]:
    # DNP3 CRC-16: polynomial x^16+x^13+x^12+x^11+x^10+x^8+x^6+x^5+x^2+1 (0x3D65), processed
    # bit-reversed (0xA6BC), initial value 0, result complemented and sent low byte first
    # (IEEE 1815-2012 9.2.6; Wireshark packet-dnp.c crctable).
    out = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xA6BC if c & 1 else c >> 1
        out.append(c)
    return tuple(out)


_CRC = _crc_table()


def crc(data: bytes) -> int:
    """DNP3 CRC-16 of `data`, as the 16-bit value that follows it on the wire (little-endian)."""
    c = 0
    for b in data:
        c = (c >> 8) ^ _CRC[(c ^ b) & 0xFF]
    return ~c & 0xFFFF


def header_ok(p: bytes, i: int = 0) -> bool:
    """A full link header at `i` with start bytes 0x0564 and a correct header CRC."""
    return (len(p) >= i + HEADER and p[i] == 0x05 and p[i + 1] == 0x64
            and crc(p[i:i + 8]) == p[i + 8] | (p[i + 9] << 8))


def check(p: bytes) -> bool:
    # First payload of a TCP direction: the start bytes decide the dissector; the header CRC is
    # checked per frame by `frame` (a bad frame is "data", the next good one DNP3, as in Wireshark).
    return len(p) >= 2 and p[0] == 0x05 and p[1] == 0x64


def heuristic(p: bytes) -> bool:
    return header_ok(p)


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if len(p) < i + 2:
        return None
    if p[i] != 0x05 or p[i + 1] != 0x64:
        return 0, ()
    if len(p) < i + HEADER:  # Wireshark asks TCP for the whole 10-byte header before cutting
        return None
    if not header_ok(p, i):
        return 0, ()
    n = p[i + 2] - 5  # the length counts control, destination and source: 5 bytes
    if n < 0:
        return 0, ()
    return HEADER + n + 2 * ((n + 15) // 16), _NAMES


def decode_pdu(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    if dport == 20000:
        an.serve("dnp3", dst, 20000, "tcp")
    _link(an, pdu, src, dst)
    _application(an, ts, pdu, src, dst)


def decode_datagram(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
                    st: List[str], inner: bool) -> None:
    if header_ok(pl):
        st.append("dnp3")
        if not inner:
            if dport == 20000:
                an.serve("dnp3", dst, 20000, "udp")
            _link(an, pl, src, dst)
            _application(an, ts, pl, src, dst)
    else:
        st.append("data")


def _link(an: Analyzer, pdu: bytes, src: bytes, dst: bytes) -> None:
    """Link addresses as identity facts (IEEE 1815-2012 9.2.5): the source address is the sender's
    own, the destination the receiver's unless it is a broadcast/reserved one. A station may answer
    to several (a gateway to the outstations behind it): every distinct address is kept. The role
    comes from the DIR bit (control bit 7) of the frames a station sends: set from a master."""
    ctrl = pdu[3]
    daddr = pdu[4] | (pdu[5] << 8)
    saddr = pdu[6] | (pdu[7] << 8)
    if saddr < FIRST_RESERVED:
        _add(an, src, "dnp3-address", saddr)
    if daddr < FIRST_RESERVED:
        _add(an, dst, "dnp3-address", daddr)
    _add(an, src, "dnp3-role", "master" if ctrl & 0x80 else "outstation")


MAX_VALUES = 8  # addresses or roles listed per station


def _add(an: Analyzer, station: bytes, key: str, value: object) -> None:
    """Add `value` to the comma-separated identity `key` of `station` (sorted, distinct, bounded)."""
    d = an.ip_ident.setdefault(station, {})
    cur = d.get(key)
    v = str(value)
    if cur is None:
        d[key] = v
        return
    vals = cur.split(", ")
    if v in vals or len(vals) >= MAX_VALUES:
        return
    vals.append(v)
    vals.sort(key=lambda x: (len(x), x))  # numbers in numeric order, words alphabetically
    d[key] = ", ".join(vals)


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
