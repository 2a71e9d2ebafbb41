"""SNMP (RFC 3416 over BER, UDP 161/162): v1/v2c community strings travel in clear.

Wireshark: packet-snmp.c.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List

from cbom.model import Severity

from .._wire import ber_len_size, ip
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

SNMP_COMMUNITY = EventKind("snmp_community", "CBOM-NET-CLEARTEXT-CREDENTIALS", Severity.MEDIUM,
                           "SNMP v1/v2c community string in clear text",
                           "The community string is the SNMP password; v1/v2c send it unencrypted (use SNMPv3).")


def decode(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
           st: List[str], inner: bool) -> None:
    if len(pl) < 2 or pl[0] != 0x30:  # SEQUENCE
        st.append("data")
        return
    st.append("snmp")
    if inner:
        return
    try:
        p = 1 + ber_len_size(pl, 1)
        if pl[p] == 0x02 and pl[p + 1] == 1:  # INTEGER version, one byte
            version = pl[p + 2]
            p += 3
            if version in (0, 1) and pl[p] == 0x04:  # OCTET STRING community
                clen = pl[p + 1]
                if clen < 0x80:
                    community = pl[p + 2:p + 2 + clen]
                    if dport in (161, 162):  # the sender of a request/trap holds the community
                        an.event(SNMP_COMMUNITY, src.hex() + dst.hex(), ts,
                                 "SNMPv%s community string (%d characters) sent in clear from %s to %s"
                                 % ("1" if version == 0 else "2c", len(community), ip(src), ip(dst)))
            if sport in (161,):
                an.serve("snmp", src, 161, "udp")
    except IndexError:  # the header counted; the message is cut
        an.malformed_pdu("snmp")


SNMP = Dissector(name="snmp", title="SNMP", udp_ports=(161, 162), datagram=decode, events=(SNMP_COMMUNITY,))
