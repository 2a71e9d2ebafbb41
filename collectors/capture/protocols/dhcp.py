"""DHCP (RFC 2131/2132, UDP 67/68): host name (option 12), FQDN (81) and vendor class (60) of a client.

DHCPv6 (RFC 8415, UDP 546/547) is recognised only. Wireshark: packet-dhcp.c, packet-dhcpv6.c.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List

from .._wire import text
from ._dissector import Dissector

if TYPE_CHECKING:
    from .._engine import Analyzer

MAGIC = b"\x63\x82\x53\x63"  # RFC 2131 section 3: the options start with this cookie


def decode(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
           st: List[str], inner: bool) -> None:
    if len(pl) < 240 or pl[236:240] != MAGIC:
        st.append("data")
        return
    st.append("dhcp")
    if inner:
        return
    chaddr = pl[28:34]
    p, n = 240, len(pl)
    opts: Dict[int, bytes] = {}
    while p < n:
        code = pl[p]
        if code == 255:  # End
            break
        if code == 0:  # Pad
            p += 1
            continue
        ln = pl[p + 1]
        opts.setdefault(code, pl[p + 2:p + 2 + ln])
        p += 2 + ln
    hr = an.hosts.get(chaddr)
    if hr is not None:
        if 12 in opts:
            hr.add_name(text(opts[12]), "dhcp")
        if 81 in opts and len(opts[81]) > 3:  # flags, rcode1, rcode2, then the name (RFC 4702)
            hr.add_name(text(opts[81][3:]), "dhcp-fqdn")
        if 60 in opts:
            hr.ident.setdefault("dhcp-vendor-class", text(opts[60]))


DHCP = Dissector(name="dhcp", title="DHCP", udp_ports=(67, 68), datagram=decode)
DHCPV6 = Dissector(name="dhcpv6", title="DHCPv6", udp_ports=(546, 547))
