"""IEEE C37.118.2 synchrophasor (TCP 4712/4713, UDP 4713): SYNC byte 0xAA, frame size. Recognised.

Wireshark: packet-synphasor.c.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Tuple

from .._records import TcpStream
from .._wire import u16
from ._dissector import Dissector

if TYPE_CHECKING:
    from .._engine import Analyzer

_NAMES = ("synphasor",)


def check(p: bytes) -> bool:
    return len(p) >= 4 and p[0] == 0xAA and (p[1] >> 4) in (0, 1, 2, 3, 4, 5)  # frame types 0-5


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if len(p) < i + 4:
        return None
    if p[i] != 0xAA:
        return 0, ()
    return u16(p, i + 2)[0], _NAMES


def decode_datagram(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
                    st: List[str], inner: bool) -> None:
    if len(pl) >= 4 and pl[0] == 0xAA:
        st.append("synphasor")
    else:
        st.append("data")


SYNPHASOR = Dissector(name="synphasor", title="IEEE C37.118 Synchrophasor", tcp_ports=(4712, 4713),
                      udp_ports=(4713,), check=check, frame=frame, datagram=decode_datagram)
