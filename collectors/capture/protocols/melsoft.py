"""Mitsubishi MELSOFT engineering protocol (GX Works to MELSEC iQ-F PLCs: UDP 5560, TCP 5562).

Wireshark 4.0 has no MELSOFT dissector (it shows these packets as "data"): the name
"melsoft" is cbom's. There is no public specification; the layout below is read from
the public captures of ITI/ICS-Security-Tools (pcaps/MELSEC, GX Works 3 and an FX5U):
- a message: type (1: 0x57 'W' request, 0xD7 reply), 18 header bytes (bytes 5-6 are
  0x11 0x11), then the length of the rest (2, little-endian) at offset 19, then the rest;
- the rest: 24 bytes of routing, then a request's command (2, big-endian) and serial
  (2), or a reply's status (2), command (2) and serial (2);
- the reply to command 0x0121 carries the CPU model name (16 ASCII bytes, NUL-padded)
  after 2 more bytes: "FX5U-32MT/ES" in those captures;
- UDP 5560 also carries a short discovery exchange (0x5A request, 0xDA reply).
Write and run/stop commands are not flagged: their codes are not publicly documented.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Tuple

from .._records import TcpStream
from .._wire import text, u16, u16le
from ._dissector import Dissector

if TYPE_CHECKING:
    from .._engine import Analyzer

HEADER = 21
_CPU_MODEL = 0x0121
_NAMES = ("melsoft",)


def _message(p: bytes, i: int) -> bool:
    return p[i] in (0x57, 0xD7) and p[i + 5] == 0x11 and p[i + 6] == 0x11


def check(p: bytes) -> bool:
    return len(p) >= HEADER and _message(p, 0)


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
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


def decode_pdu(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    if pdu[0] == 0x57:
        an.serve("melsoft", dst, dport, "tcp")
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
        model = identity(pl) if len(pl) >= HEADER else ""
        if model:
            an.ident_ip(src, "melsoft-cpu-model", model)
    else:
        st.append("data")


MELSOFT = Dissector(name="melsoft", title="Mitsubishi MELSOFT (GX Works engineering; no Wireshark 4.0 dissector)",
                    tcp_ports=(5562,), udp_ports=(5560,), check=check, frame=frame, pdu=decode_pdu,
                    keep_pdu_start=True, datagram=decode_datagram)
