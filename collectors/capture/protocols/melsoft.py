"""Mitsubishi MELSOFT engineering protocol (GX Works to MELSEC PLCs: iQ-F on UDP 5560 and TCP 5562,
iQ-R on TCP 5007).

Wireshark 4.0 has no MELSOFT dissector (it shows these packets as "data"): the name
"melsoft" is cbom's. There is no public specification; the layout below is read from
the public captures of ITI/ICS-Security-Tools (pcaps/MELSEC, GX Works 3 and an FX5U):
- a message: type (1: 0x57 'W' request, 0xD7 reply), 18 header bytes (bytes 5-6 are
  0x11 0x11), then the length of the rest (2, little-endian) at offset 19, then the rest;
- the rest: 24 bytes of routing, then a request's command (2, big-endian) and serial
  (2), or a reply's status (2), command (2) and serial (2);
- the reply to command 0x0121 carries the CPU model name (16 ASCII bytes, NUL-padded)
  after 2 more bytes: "FX5U-32MT/ES" in those captures;
- UDP 5560 also carries a short discovery exchange (0x5A request, 0xDA reply), which also
  opens every TCP connection to an iQ-R (4-byte request, 28-byte reply, no length field).
The same header, TCP port 5007 and the command codes flagged below are those of Nozomi
Networks' MELSOFT dissector (NozomiNetworks/blackhat23-melsoft, melsoft_bhmea2023.lua: 21-byte
Ethernet header, 24-byte command header, then the command code), reverse-engineered against
an iQ-R Safety PLC. Its other codes (0x0410 "Modify Value" among them, sent by GX Works while
it monitors) are not flagged: what they change is not established.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Tuple

from cbom.model import Severity

from .._records import TcpStream
from .._wire import ip, text, u16, u16le
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

HEADER = 21
_CPU_MODEL = 0x0121
_NAMES = ("melsoft",)
# Request command codes (Nozomi's dissector, names as there).
CONTROLS = {0x1001: "Remote Control Run", 0x1002: "Remote Control Stop", 0x1003: "Remote Control Pause",
            0x1006: "Remote Reset Ex", 0x1120: "Safety Run Mode Change"}
WRITES = {0x1133: "User Information Registration", 0x1869: "File Write"}

MELSOFT_CONTROL = EventKind("melsoft_control", "CBOM-NET-ICS-WRITE", Severity.HIGH,
                            "MELSOFT remote run/stop/reset or safety mode change seen",
                            "An engineering station ran, stopped, paused or reset a Mitsubishi PLC, or changed "
                            "its safety operating mode, through the MELSOFT protocol.")
MELSOFT_WRITE = EventKind("melsoft_write", "CBOM-NET-ICS-WRITE", Severity.MEDIUM,
                          "MELSOFT file writes or user registrations seen",
                          "An engineering station wrote a file (a program or parameters) to a Mitsubishi PLC, or "
                          "registered or changed one of its user accounts, through the MELSOFT protocol.")


def _message(p: bytes, i: int) -> bool:
    return p[i] in (0x57, 0xD7) and p[i + 5] == 0x11 and p[i + 6] == 0x11


def _discovery(p: bytes, i: int) -> bool:
    return p[i] in (0x5A, 0xDA) and p[i + 1] == 0


def check(p: bytes) -> bool:
    return len(p) >= HEADER and _message(p, 0) or len(p) >= 4 and _discovery(p, 0)


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if len(p) >= i + 4 and _discovery(p, i):
        return len(p) - i, _NAMES  # no length field: the segment
    if len(p) < i + HEADER:
        return None
    if not _message(p, i):
        return 0, ()
    return HEADER + u16le(p, i + 19)[0], _NAMES


def identity(msg: bytes) -> str:
    """The CPU model name a reply to command 0x0121 carries, or ""."""
    body = msg[HEADER:]
    if msg[0] == 0xD7 and len(body) >= 48 and u16(body, 24)[0] == 0 and u16(body, 26)[0] == _CPU_MODEL:
        return text(body[32:48])
    return ""


def _command(an: Analyzer, ts: float, msg: bytes, src: bytes, dst: bytes) -> None:
    """Events of a request's command code (after the Ethernet and command headers)."""
    if len(msg) < HEADER + 26:
        return
    cmd = u16(msg, HEADER + 24)[0]
    kind, name = (MELSOFT_CONTROL, CONTROLS[cmd]) if cmd in CONTROLS else (
        (MELSOFT_WRITE, WRITES[cmd]) if cmd in WRITES else (None, ""))
    if kind is not None:
        an.event(kind, src.hex() + dst.hex() + "%04x" % cmd, ts,
                 "MELSOFT %s (command 0x%04x) from %s to %s" % (name, cmd, ip(src), ip(dst)))


def decode_pdu(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    if pdu[0] == 0x57:
        an.serve("melsoft", dst, dport, "tcp")
        _command(an, ts, pdu, src, dst)
    model = identity(pdu)
    if model:
        an.ident_ip(src, "melsoft-cpu-model", model)


def decode_datagram(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
                    st: List[str], inner: bool) -> None:
    if len(pl) >= HEADER and _message(pl, 0) or len(pl) >= 4 and pl[0] in (0x5A, 0xDA) and pl[1] == 0:
        st.append("melsoft")
        if inner:
            return
        if pl[0] == 0x57 and dport == 5560:
            an.serve("melsoft", dst, 5560, "udp")
        if pl[0] == 0x57 and len(pl) >= HEADER:
            _command(an, ts, pl, src, dst)
        model = identity(pl) if len(pl) >= HEADER else ""
        if model:
            an.ident_ip(src, "melsoft-cpu-model", model)
    else:
        st.append("data")


MELSOFT = Dissector(name="melsoft", title="Mitsubishi MELSOFT (GX Works engineering; no Wireshark 4.0 dissector)",
                    tcp_ports=(5562, 5007), udp_ports=(5560,), check=check, frame=frame, pdu=decode_pdu,
                    keep_pdu_start=True, datagram=decode_datagram, events=(MELSOFT_CONTROL, MELSOFT_WRITE))
