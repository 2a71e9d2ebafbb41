"""ARP (RFC 826): which MAC claims which IPv4 address. Wireshark: packet-arp.c."""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

from .._records import MAX_IPS_PER_HOST, HostRec, Truncated
from ._dissector import Dissector

if TYPE_CHECKING:
    from .._engine import Analyzer


def decode(an: Analyzer, ts: float, b: bytes, off: int, end: int, st: List[str], h: Optional[HostRec]) -> None:
    if len(b) < off + 28:
        raise Truncated
    if b[off + 4] != 6 or b[off + 5] != 4:  # hardware / protocol address lengths of Ethernet + IPv4
        return
    smac = b[off + 8:off + 14]
    sip = b[off + 14:off + 18]
    if sip == b"\0\0\0\0":  # ARP probe (RFC 5227): claims nothing yet
        return
    if h is not None and len(h.arp_ips) < MAX_IPS_PER_HOST:
        h.arp_ips[sip] = None
    macs = an.arp.setdefault(sip, {})
    if smac not in macs and len(macs) < 16:
        macs[smac] = ts


ARP = Dissector(name="arp", title="ARP", ethertypes=(0x0806,), link=decode)
