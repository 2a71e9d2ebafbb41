"""OMRON FINS over UDP and TCP 9600 (Wireshark display filter `omron`).

Follows Wireshark's packet-omron-fins.c and OMRON's "FINS Commands Reference Manual"
(W227): a FINS frame is a 10-byte header (ICF, RSV, GCT, DNA, DA1, DA2, SNA, SA1, SA2,
SID) and a 2-byte command code (MRC, SRC), then command parameters or, in a response
(ICF bit 0x40), a 2-byte end code and the response data. Wireshark takes a datagram as
FINS when it is at least 12 bytes long, RSV is 0 and GCT is 2. FINS/TCP puts a 16-byte
header ("FINS", length of what follows the length field, command, error code) before
each frame; command 2 (Frame Send) carries a FINS frame, commands 0/1 exchange node
addresses.

Controller Data Read (0501) responses name the controller: model (20 bytes) and
version (20 bytes). Commands that change a controller (operating mode, program, memory,
files, forced bits) become findings.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Tuple

from cbom.model import Severity

from .._records import TcpStream
from .._wire import ip, text, u16, u32
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

# Commands that change the operating mode or the program of a controller (W227 section 5).
FINS_CONTROL = {0x0304: "Program Area Protect", 0x0305: "Program Area Protect Clear", 0x0307: "Program Area Write",
                0x0308: "Program Area Clear", 0x0401: "Run", 0x0402: "Stop", 0x0403: "Reset",
                0x2204: "Memory Card Format", 0x220C: "Program Area File Transfer",
                0x2301: "Forced Set/Reset", 0x2302: "Forced Set/Reset Cancel"}
# Commands that write data, parameters, the clock or files.
FINS_WRITES = {0x0102: "Memory Area Write", 0x0103: "Memory Area Fill", 0x0105: "Memory Area Transfer",
               0x0202: "Parameter Area Write", 0x0203: "Parameter Area Clear", 0x0221: "Data Link Table Write",
               0x0702: "Clock Write", 0x0C02: "Access Right Forced Acquire", 0x2101: "Error Clear",
               0x2103: "Error Log Clear", 0x2203: "Single File Write", 0x2205: "File Delete",
               0x2206: "Volume Label Create/Delete", 0x2207: "File Copy", 0x2208: "File Name Change",
               0x220A: "Memory Area File Transfer", 0x220B: "Parameter Area File Transfer",
               0x2211: "File Memory Write", 0x2601: "Name Set", 0x2602: "Name Delete"}

FINS_CONTROL_EV = EventKind("fins_control", "CBOM-NET-ICS-WRITE", Severity.HIGH,
                            "OMRON FINS run/stop, program or forced-bit command seen",
                            "A station changed the operating mode or the program of an OMRON controller, "
                            "or forced its I/O bits.")
FINS_WRITE_EV = EventKind("fins_write", "CBOM-NET-ICS-WRITE", Severity.MEDIUM,
                          "OMRON FINS memory, parameter or file write seen",
                          "A station wrote memory areas, parameters, the clock or files of an OMRON controller; "
                          "confirm it is an authorised engineering station or HMI.")

PORT = 9600
_NAMES = ("omron",)


def is_fins(f: bytes) -> bool:
    """Wireshark's test for a FINS frame: 12 bytes or more, RSV 0, GCT 2."""
    return len(f) >= 12 and f[1] == 0 and f[2] == 2


def check(p: bytes) -> bool:
    return len(p) < 4 or p[:4] == b"FINS"


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if len(p) < i + 8:
        return None
    if p[i:i + 4] != b"FINS":
        return 0, ()
    return 8 + u32(p, i + 4)[0], _NAMES


def decode_pdu(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    if dport == PORT:
        an.serve("omron", dst, PORT, "tcp")
    if u32(pdu, 8)[0] == 2 and len(pdu) > 16:  # Frame Send: a FINS frame follows the 16-byte header
        _frame(an, ts, pdu[16:], src, dst)


def decode_datagram(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
                    st: List[str], inner: bool) -> None:
    if not is_fins(pl):
        st.append("data")
        return
    st.append("omron")
    if not inner:
        if dport == PORT:
            an.serve("omron", dst, PORT, "udp")
        _frame(an, ts, pl, src, dst)


def _frame(an: Analyzer, ts: float, f: bytes, src: bytes, dst: bytes) -> None:
    if not is_fins(f):
        return
    cmd = u16(f, 10)[0]
    if not f[0] & 0x40:  # a command
        if cmd in FINS_CONTROL:
            kind, name = FINS_CONTROL_EV, FINS_CONTROL[cmd]
        elif cmd in FINS_WRITES:
            kind, name = FINS_WRITE_EV, FINS_WRITES[cmd]
        else:
            return
        an.event(kind, src.hex() + dst.hex() + "%04x" % cmd, ts, "FINS %s (command %04x) from %s to %s"
                 % (name, cmd, ip(src), ip(dst)))
    elif cmd == 0x0501 and len(f) >= 14 + 40 and f[12:14] == b"\0\0":
        # Controller Data Read response, normal completion: model (20 bytes), version (20 bytes)
        an.ident_ip(src, "omron-controller-model", text(f[14:34]))
        an.ident_ip(src, "omron-controller-version", text(f[34:54]))


OMRON = Dissector(name="omron", title="OMRON FINS", tcp_ports=(PORT,), udp_ports=(PORT,), check=check,
                  frame=frame, pdu=decode_pdu, keep_pdu_start=True, datagram=decode_datagram,
                  events=(FINS_CONTROL_EV, FINS_WRITE_EV))
