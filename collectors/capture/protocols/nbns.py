"""NetBIOS Name Service (RFC 1002 section 4.2, UDP 137): names of registering and answering hosts.

Wireshark: packet-nbns.c.
"""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING, List, Tuple

from .._wire import u16
from ._dissector import Dissector

if TYPE_CHECKING:
    from .._engine import Analyzer


def decode(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
           st: List[str], inner: bool) -> None:
    st.append("nbns")
    if inner or len(pl) < 12:
        return
    opcode = (pl[2] >> 3) & 0xF
    qd, ans = struct.unpack_from(">HH", pl, 4)
    ar = u16(pl, 10)[0]
    try:
        p = 12
        name = ""
        if qd:
            name, p = nb_name(pl, p)
            p += 4
        resp = pl[2] & 0x80
        if (not resp and opcode in (5, 8, 15) and ar) or (resp and ans):
            # registration/refresh request (name + address in the additional record) or positive answer
            rname, p = nb_name(pl, p) if pl[p] != 0xC0 else (name, p + 2)
            rdlen = u16(pl, p + 8)[0]
            if rdlen >= 6:
                ip = pl[p + 12:p + 16]
                an.name_ip(ip, rname or name, "nbns")
    except (IndexError, struct.error, ValueError):  # the header counted; the records are cut
        an.malformed_pdu("nbns")


def nb_name(p: bytes, i: int) -> Tuple[str, int]:
    """A NetBIOS first-level encoded name (RFC 1001 section 14.1), without the suffix byte."""
    ln = p[i]
    enc = p[i + 1:i + 1 + ln]
    i += 1 + ln
    while p[i] != 0:  # scope labels
        i += 1 + p[i]
    i += 1
    if ln != 32:
        return "", i
    raw = bytes(((enc[k] - 65) << 4) | (enc[k + 1] - 65) for k in range(0, 32, 2))
    return raw[:15].decode("latin-1").rstrip(" \0"), i


NBNS = Dissector(name="nbns", title="NetBIOS Name Service", udp_ports=(137,), datagram=decode)
