"""Telnet (RFC 854, TCP 23): any session is a finding (logins and commands in clear).

Wireshark: packet-telnet.c.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List

from cbom.model import Severity

from .._wire import ip
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

TELNET_SESSION = EventKind("telnet", "CBOM-NET-CLEARTEXT-CREDENTIALS", Severity.HIGH,
                           "Telnet: logins and commands in clear text",
                           "Anyone on this network segment can read the password and every command typed.")


def decode(an: Analyzer, ts: float, pl: bytes, st: List[str], src: bytes, dst: bytes, sport: int, dport: int) -> None:
    if dport == 23:
        an.serve("telnet", dst, 23, "tcp")
        an.event(TELNET_SESSION, src.hex() + dst.hex(), ts,
                 "Telnet session (login and commands in clear) from %s to %s" % (ip(src), ip(dst)))


TELNET = Dissector(name="telnet", title="Telnet", tcp_ports=(23,), stream=decode, events=(TELNET_SESSION,))
