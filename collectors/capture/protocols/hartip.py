"""HART-IP, TCP and UDP 5094 (Wireshark display filter `hart_ip`).

Follows Wireshark's packet-hartip.c and the FieldComm Group specifications HCF_SPEC-85
(HART-IP), -81 (data link), -127 (universal commands) and -151 (common practice
commands). A HART-IP message is an 8-byte header (version, message type 0 request /
1 response / 2 publish / 3 NAK / 15 error, message id 0 session initiate / 1 close /
2 keep alive / 3 pass through, status, sequence number, message length including the
header) and a body. A Pass Through body is one HART frame: delimiter (0x80 = 5-byte
long address; frame type 2 = STX request, 6 = ACK response, 1 = BACK burst), address,
expansion bytes, command, byte count, then in a response the response code and field
device status before the data.

Responses name the field device: command 0 (expanded device type, revisions, device
id, manufacturer id), 13 (tag, descriptor: packed ASCII), 20 (long tag), 12 (message).
Requests of the commands that write configuration or act on the device (HCF_SPEC-127
and -151) become findings.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Tuple

from cbom.model import Severity

from .._records import TcpStream
from .._wire import ip, text, u16
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

# Commands that act on the process or the device: loop current forced, reset, lock, simulation.
HART_CONTROL = {40: "Enter/Exit Fixed Current Mode", 41: "Perform Self Test", 42: "Perform Device Reset",
                45: "Trim Loop Current Zero", 46: "Trim Loop Current Gain", 66: "Enter/Exit Fixed Analog Channel Mode",
                71: "Lock Device", 79: "Write Device Variable (simulation)"}
# Commands that write configuration (universal and common-practice commands).
HART_WRITES = {6: "Write Polling Address", 17: "Write Message", 18: "Write Tag, Descriptor, Date",
               19: "Write Final Assembly Number", 22: "Write Long Tag", 34: "Write PV Damping Value",
               35: "Write PV Range Values", 36: "Set PV Upper Range Value", 37: "Set PV Lower Range Value",
               38: "Reset Configuration Changed Flag", 43: "Set PV Zero", 44: "Write PV Units",
               47: "Write PV Transfer Function", 49: "Write PV Transducer Serial Number",
               51: "Write Dynamic Variable Assignments", 52: "Set Device Variable Zero",
               53: "Write Device Variable Units", 55: "Write Device Variable Damping Value",
               59: "Write Number Of Response Preambles"}

HART_CONTROL_EV = EventKind("hart_control", "CBOM-NET-ICS-WRITE", Severity.HIGH,
                            "HART device command (fixed current, reset, lock, trim) seen",
                            "A host forced the loop current of a HART field device, reset, locked or trimmed it, "
                            "or simulated one of its variables.")
HART_WRITE_EV = EventKind("hart_write", "CBOM-NET-ICS-WRITE", Severity.MEDIUM, "HART configuration write seen",
                          "A host changed the configuration of a HART field device (tag, range, units, damping, "
                          "polling address…); confirm it is an authorised asset-management station.")

PORT = 5094
_NAMES = ("hart_ip",)


def is_session_datagram(p: bytes) -> bool:
    """A HART-IP message on any UDP port: the server of a UDP session answers its Session Initiate
    from a new port and the session stays on that port pair (packet-hartip.c binds the conversation
    to HART-IP). The engine has no conversation binding, so the header decides: version 1 or 2,
    a message type and id Wireshark 4.0 knows, and a message length equal to the datagram's."""
    return (len(p) >= 8 and p[0] in (1, 2) and p[1] in (0, 1, 2, 3, 15) and p[2] <= 3
            and u16(p, 6)[0] == len(p))


def check(p: bytes) -> bool:
    return len(p) < 2 or (p[0] in (1, 2) and p[1] in (0, 1, 2, 3, 15))


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if len(p) < i + 8:
        return None
    ln = u16(p, i + 6)[0]
    if p[i] not in (1, 2) or ln < 8:
        return 0, ()
    return ln, _NAMES


def decode_pdu(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    if dport == PORT:
        an.serve("hart_ip", dst, PORT, "tcp")
    _message(an, ts, pdu, src, dst)


def decode_datagram(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
                    st: List[str], inner: bool) -> None:
    st.append("hart_ip")
    if not inner:
        if dport == PORT:
            an.serve("hart_ip", dst, PORT, "udp")
        _message(an, ts, pl, src, dst)


def packed_ascii(b: bytes) -> str:
    """HART packed ASCII (HCF_SPEC-99): four 6-bit characters in three bytes; codes 0-31 are '@'..'_'."""
    out = []
    for n in range(0, len(b) - 2, 3):
        v = (b[n] << 16) | (b[n + 1] << 8) | b[n + 2]
        for shift in (18, 12, 6, 0):
            c = (v >> shift) & 0x3F
            out.append(chr(c if c & 0x20 else c | 0x40))
    return "".join(out).rstrip()


def _meaningful(s: str) -> str:
    """'' for an unset packed-ASCII field (all '@', the packed form of zero bytes, or spaces)."""
    return "" if set(s) <= {"@", " "} else s


def _message(an: Analyzer, ts: float, m: bytes, src: bytes, dst: bytes) -> None:
    if len(m) < 8 or m[2] != 3:  # only Pass Through carries HART commands
        return
    mtype = m[1]
    f = m[8:u16(m, 6)[0]]
    delim = f[0]
    p = 1 + (5 if delim & 0x80 else 1) + ((delim >> 5) & 3)
    addr = f[1:p]
    cmd, count = f[p], f[p + 1]
    data = f[p + 2:p + 2 + count]
    ftype = delim & 0x07
    dev = addr.hex() if delim & 0x80 else "polling address %d" % (addr[0] & 0x3F)
    if mtype == 0 and ftype == 2:  # STX request from a host
        if cmd in HART_CONTROL:
            kind, name = HART_CONTROL_EV, HART_CONTROL[cmd]
        elif cmd in HART_WRITES:
            kind, name = HART_WRITE_EV, HART_WRITES[cmd]
        else:
            return
        an.event(kind, src.hex() + dst.hex() + "%02x" % cmd, ts, "HART command %d (%s) from %s to %s, device %s"
                 % (cmd, name, ip(src), ip(dst), dev))
    elif mtype == 1 and ftype == 6 and len(data) >= 2 and data[0] == 0:  # ACK, response code 0 (success)
        d = data[2:]
        if cmd == 0 and len(d) >= 12 and d[0] == 254:
            # HART 7: expanded device type in bytes 1-2, 16-bit manufacturer id in bytes 17-18;
            # HART 5/6: manufacturer id in byte 1, device type in byte 2.
            if d[4] >= 7 and len(d) >= 19:
                an.ident_ip(src, "hart-manufacturer-id", str(u16(d, 17)[0]))
                an.ident_ip(src, "hart-device-type", "0x%04x" % u16(d, 1)[0])
            else:
                an.ident_ip(src, "hart-manufacturer-id", str(d[1]))
                an.ident_ip(src, "hart-device-type", "0x%02x" % d[2])
            an.ident_ip(src, "hart-universal-revision", str(d[4]))
            an.ident_ip(src, "hart-device-revision", str(d[5]))
            an.ident_ip(src, "hart-software-revision", str(d[6]))
            an.ident_ip(src, "hart-device-id", d[9:12].hex())
        elif cmd == 13 and len(d) >= 18:
            an.ident_ip(src, "hart-tag", _meaningful(packed_ascii(d[0:6])))
            an.ident_ip(src, "hart-descriptor", _meaningful(packed_ascii(d[6:18])))
        elif cmd == 20 and len(d) >= 32:
            an.ident_ip(src, "hart-long-tag", text(d[0:32]))
        elif cmd == 12 and len(d) >= 24:
            an.ident_ip(src, "hart-message", _meaningful(packed_ascii(d[0:24])))


HARTIP = Dissector(name="hart_ip", title="HART-IP", tcp_ports=(PORT,), udp_ports=(PORT,), check=check, frame=frame,
                   pdu=decode_pdu, keep_pdu_start=True, datagram=decode_datagram, udp_heuristic=is_session_datagram,
                   events=(HART_CONTROL_EV, HART_WRITE_EV))
