"""NetBIOS Frames over 802.2 LLC (SAP 0xF0), and the SMB it carries. Wireshark: packet-netbios.c."""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

from .._records import HostRec
from ._dissector import Dissector

if TYPE_CHECKING:
    from .._engine import Analyzer


def decode(an: Analyzer, ts: float, b: bytes, off: int, end: int, st: List[str], h: Optional[HostRec]) -> None:
    # Searched from the 3-byte LLC header on, as since the first version (same counts).
    if b"\xffSMB" in b[off - 3:end]:
        st.append("smb")


NETBIOS = Dissector(name="netbios", title="NetBIOS over LLC", llc_saps=(0xF0,), link=decode)
