"""Cisco Discovery Protocol over SNAP (OUI 00:00:0c, id 0x2000): device id, platform, software, address.

Wireshark: packet-cdp.c.
"""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING, List, Optional

from .._records import MAX_IPS_PER_HOST, HostRec
from .._wire import text, u16, u32
from ._dissector import Dissector

if TYPE_CHECKING:
    from .._engine import Analyzer

CISCO_OUI = b"\x00\x00\x0c"


def decode(an: Analyzer, ts: float, b: bytes, off: int, end: int, st: List[str], h: Optional[HostRec]) -> None:
    off += 4  # version, ttl, checksum
    end = min(end, len(b))
    while off + 4 <= end:
        typ, ln = struct.unpack_from(">HH", b, off)
        if ln < 4:
            break
        v = b[off + 4:off + ln]
        off += ln
        if h is None:
            continue
        if typ == 1:  # Device ID
            h.add_name(text(v), "cdp")
        elif typ == 6:  # Platform
            h.ident.setdefault("cdp-platform", text(v))
        elif typ == 5:  # Software version
            h.ident.setdefault("cdp-software", text(v).splitlines()[0] if text(v) else "")
        elif typ == 2 and len(v) >= 4:
            # Addresses: count, then (ptype, plen, proto, alen, addr); NLPID 0xcc = IPv4
            p = 4
            for _ in range(min(u32(v, 0)[0], 8)):
                if p + 2 > len(v):
                    break
                plen = v[p + 1]
                proto = v[p + 2:p + 2 + plen]
                alen = u16(v, p + 2 + plen)[0]
                addr = v[p + 4 + plen:p + 4 + plen + alen]
                if proto == b"\xcc" and alen == 4 and len(h.arp_ips) < MAX_IPS_PER_HOST:
                    h.ident.setdefault("cdp-address", ".".join(str(x) for x in addr))
                p += 4 + plen + alen


CDP = Dissector(name="cdp", title="Cisco Discovery Protocol", snap=((CISCO_OUI, 0x2000),), link=decode)
