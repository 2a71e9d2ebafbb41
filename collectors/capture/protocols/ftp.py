"""FTP control connection (RFC 959, TCP 21): the server banner, logins and passwords in clear.

A login as "anonymous" or "ftp" is the anonymous access of RFC 1635: its PASS is by
convention an e-mail address, not a secret, so it is not reported as a password in clear;
a server that accepts it (reply 230, RFC 959 section 4.2) is reported as allowing anonymous
access, graded medium as vulnerability scanners grade it (Tenable Nessus plugin 10079
"Anonymous FTP Enabled"). Any other PASS is a real password sent in clear: high.

Wireshark: packet-ftp.c.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List

from cbom.model import Severity

from .._wire import ip, text
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

FTP_PASS = EventKind("ftp_pass", "CBOM-NET-CLEARTEXT-CREDENTIALS", Severity.HIGH, "FTP password sent in clear text",
                     "The FTP PASS command carries the password unencrypted.")
FTP_ANONYMOUS = EventKind("ftp_anonymous", "CBOM-NET-FTP-ANONYMOUS", Severity.MEDIUM,
                          "Anonymous FTP access allowed",
                          "The FTP server accepted a login as anonymous/ftp: anyone on the network can read "
                          "(and, if the server permits, write) its files without a password.")

# RFC 1635: the user names of anonymous FTP.
ANONYMOUS_USERS = (b"anonymous", b"ftp")
_MAX_LOGINS = 256  # connections whose last USER is remembered (oldest dropped)
# The analyser's memory of "ftp": client endpoint + server address -> the user name of the last USER command.


def _logins(an: Analyzer) -> Dict[bytes, bytes]:
    return an.memory("ftp")


def _conn(client: bytes, port: int, server: bytes) -> bytes:
    return client + port.to_bytes(2, "big") + server


def decode(an: Analyzer, ts: float, pl: bytes, st: List[str], src: bytes, dst: bytes, sport: int, dport: int) -> None:
    if dport == 21:
        an.serve("ftp", dst, 21, "tcp")
        cmd = pl[:5].upper()
        if cmd == b"USER ":
            logins = _logins(an)
            key = _conn(src, sport, dst)
            logins.pop(key, None)
            logins[key] = pl[5:].split(b"\r\n")[0].strip().lower()
            if len(logins) > _MAX_LOGINS:
                del logins[next(iter(logins))]
        elif cmd == b"PASS ":
            if _logins(an).get(_conn(src, sport, dst)) not in ANONYMOUS_USERS:
                an.event(FTP_PASS, src.hex() + dst.hex(), ts,
                         "FTP password sent in clear from %s to %s" % (ip(src), ip(dst)))
    elif sport == 21 and (pl[:4] == b"230 " or pl[:4] == b"230-"):  # user logged in
        user = _logins(an).get(_conn(dst, dport, src))
        if user in ANONYMOUS_USERS:
            # keyed by the server: the finding is about it; its count is the logins it accepted
            an.event(FTP_ANONYMOUS, src.hex(), ts, "server %s accepted an anonymous login (user %r) from %s"
                     % (ip(src), (user or b"").decode("ascii", "replace"), ip(dst)))
    elif pl[:4] == b"220 " or pl[:4] == b"220-":  # service ready
        an.ident_ip(src, "ftp-banner", text(pl[4:].split(b"\r\n")[0]))


FTP = Dissector(name="ftp", title="FTP", tcp_ports=(21,), stream=decode, events=(FTP_PASS, FTP_ANONYMOUS))
