"""FTP control connection (RFC 959, TCP 21): the server banner, and PASS commands in clear.

Wireshark: packet-ftp.c.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List

from cbom.model import Severity

from .._wire import ip, text
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

FTP_PASS = EventKind("ftp_pass", "CBOM-NET-CLEARTEXT-CREDENTIALS", Severity.HIGH, "FTP password sent in clear text",
                     "The FTP PASS command carries the password unencrypted.")


def decode(an: Analyzer, ts: float, pl: bytes, st: List[str], src: bytes, dst: bytes, sport: int, dport: int) -> None:
    if dport == 21:
        an.serve("ftp", dst, 21, "tcp")
        if pl[:5].upper() == b"PASS ":
            an.event(FTP_PASS, src.hex() + dst.hex(), ts,
                     "FTP password sent in clear from %s to %s" % (ip(src), ip(dst)))
    elif pl[:4] == b"220 " or pl[:4] == b"220-":  # service ready
        an.ident_ip(src, "ftp-banner", text(pl[4:].split(b"\r\n")[0]))


FTP = Dissector(name="ftp", title="FTP", tcp_ports=(21,), stream=decode, events=(FTP_PASS,))
