"""NetBIOS Datagram Service (RFC 1002 section 4.4, UDP 138) and the Browser announcements in it.

Host Announcements ([MS-BRWS] 2.2.1) on \\MAILSLOT\\BROWSE name the server and its OS version.
Wireshark: packet-nbdgm.c, packet-smb-browse.c.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List

from .._wire import text
from ._dissector import Dissector

if TYPE_CHECKING:
    from .._engine import Analyzer


def decode(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
           st: List[str], inner: bool) -> None:
    st.append("nbdgm")
    if len(pl) > 14 and pl[0] in (0x10, 0x11, 0x12):  # direct unique/group, broadcast datagram
        i = pl.find(b"\xffSMB", 14)
        if i >= 0:
            st.append("smb")
            if b"\\MAILSLOT\\BROWSE" in pl or b"\\MAILSLOT\\LANMAN" in pl:
                st.append("browser")
                # Host Announcement (opcode 1/15): server name is 16 bytes after 6 header bytes
                j = pl.find(b"\\MAILSLOT\\BROWSE\x00")
                if j >= 0 and j + 17 < len(pl) and pl[j + 17] in (1, 15) and not inner:
                    an.name_ip(src, text(pl[j + 23:j + 39]), "browser")
                    m = pl[j + 39:j + 41]
                    if len(m) == 2 and m[0] < 6 and not inner:
                        an.ident_ip(src, "netbios-os-version", "%d.%d" % (m[0], m[1]))


NBDGM = Dissector(name="nbdgm", title="NetBIOS Datagram Service",
                  names={"browser": "Microsoft Windows Browser Protocol"}, udp_ports=(138,), datagram=decode)
