"""NTP (RFC 5905, UDP 123): recognised by size or mode. Wireshark: packet-ntp.c."""
from __future__ import annotations

from typing import TYPE_CHECKING, List

from ._dissector import Dissector

if TYPE_CHECKING:
    from .._engine import Analyzer


def decode(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
           st: List[str], inner: bool) -> None:
    # 48-byte header, or a shorter packet of mode 1-4 (symmetric, client, server)
    if len(pl) >= 48 or (len(pl) >= 12 and (pl[0] >> 3) & 7 in (1, 2, 3, 4)):
        st.append("ntp")
    else:
        st.append("data")


NTP = Dissector(name="ntp", title="NTP", udp_ports=(123,), datagram=decode)
