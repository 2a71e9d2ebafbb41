"""BACnet/IP (ASHRAE 135 Annex J, UDP 47808): BVLC, NPDU and APDU layers.

Wireshark: packet-bvlc.c, packet-bacnet.c, packet-bacapp.c.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List

from ._dissector import Dissector

if TYPE_CHECKING:
    from .._engine import Analyzer


def decode(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
           st: List[str], inner: bool) -> None:
    if len(pl) < 4 or pl[0] != 0x81:  # BVLC type: BACnet/IP
        st.append("data")
        return
    st.append("bvlc")
    fn = pl[1]
    p = 4
    if fn == 0x04:  # Forwarded-NPDU carries the original source B/IP address
        p = 10
    elif fn not in (0x0A, 0x0B):  # only Original-Unicast/Broadcast-NPDU carry an NPDU
        return
    if len(pl) > p + 1 and pl[p] == 0x01:  # NPDU version 1
        st.append("bacnet")
        ctrl = pl[p + 1]
        if not ctrl & 0x80:  # not a network-layer message: an APDU follows
            st.append("bacapp")
        if not inner:
            an.serve("bacnet", src if sport == 47808 else dst, 47808, "udp")


BACNET = Dissector(name="bvlc", title="BACnet Virtual Link Control",
                   names={"bacnet": "BACnet NPDU", "bacapp": "BACnet APDU"}, udp_ports=(47808,), datagram=decode)
