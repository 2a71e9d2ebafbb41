"""SSDP (UPnP Device Architecture 2.0 section 1, UDP 1900): the SERVER header names OS and product.

Wireshark: packet-ssdp.c (HTTP over UDP).
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, List

from .._wire import text
from ._dissector import Dissector
from ._eol import EOL_OS, report_eol

if TYPE_CHECKING:
    from .._engine import Analyzer

_SERVER = re.compile(rb"\r\nSERVER: *([^\r\n]+)", re.I)


def decode(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
           st: List[str], inner: bool) -> None:
    if pl.startswith((b"NOTIFY ", b"M-SEARCH ", b"HTTP/1.")):
        st.append("ssdp")
        if not inner:
            m = _SERVER.search(pl)
            if m:
                an.ident_ip(src, "ssdp-server", text(m.group(1)))
                report_eol(an, ts, src, text(m.group(1)), "SSDP Server header")
    else:
        st.append("data")


SSDP = Dissector(name="ssdp", title="SSDP", udp_ports=(1900,), datagram=decode, events=(EOL_OS,))
