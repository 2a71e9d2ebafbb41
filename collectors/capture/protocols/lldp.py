"""LLDP (IEEE 802.1AB section 8.5): station name, description, chassis id, management address.

Wireshark: packet-lldp.c.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

from .._records import HostRec
from .._wire import text, u16
from ._dissector import Dissector

if TYPE_CHECKING:
    from .._engine import Analyzer


def decode(an: Analyzer, ts: float, b: bytes, off: int, end: int, st: List[str], h: Optional[HostRec]) -> None:
    n = len(b)
    while off + 2 <= n:
        t = u16(b, off)[0]
        typ, ln = t >> 9, t & 0x1FF  # 7-bit TLV type, 9-bit length
        v = b[off + 2:off + 2 + ln]
        off += 2 + ln
        if typ == 0:  # End of LLDPDU
            break
        if h is None:
            continue
        if typ == 5:  # System Name
            h.add_name(text(v), "lldp")
        elif typ == 6:  # System Description
            h.ident.setdefault("lldp-system-description", text(v))
        elif typ == 1 and v[:1] == b"\x07":  # Chassis ID, subtype 7 = locally assigned
            h.ident.setdefault("lldp-chassis-id", text(v[1:]))
        elif typ == 8 and len(v) >= 6 and v[1] == 1 and v[0] == 5:  # Management Address, IPv4
            h.ident.setdefault("lldp-management-address", ".".join(str(x) for x in v[2:6]))


LLDP = Dissector(name="lldp", title="LLDP", ethertypes=(0x88CC,), link=decode)
