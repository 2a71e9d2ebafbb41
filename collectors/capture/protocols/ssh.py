"""SSH (RFC 4253 section 4.2, TCP 22; found on any port by its "SSH-" banner): the banner names the software.

Wireshark: packet-ssh.c.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List

from .._wire import text
from ._dissector import Dissector
from ._eol import EOL_OS, report_eol

if TYPE_CHECKING:
    from .._engine import Analyzer


def check(p: bytes) -> bool:
    return p.startswith(b"SSH-")


def decode(an: Analyzer, ts: float, pl: bytes, st: List[str], src: bytes, dst: bytes, sport: int, dport: int) -> None:
    if pl.startswith(b"SSH-"):
        banner = text(pl.split(b"\r\n", 1)[0].split(b"\n", 1)[0])
        an.ident_ip(src, "ssh-banner", banner)
        report_eol(an, ts, src, banner, "SSH banner")


SSH = Dissector(name="ssh", title="SSH", tcp_ports=(22,), tcp_heuristic=True, check=check, stream=decode,
                events=(EOL_OS,))
