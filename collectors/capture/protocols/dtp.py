"""Cisco Dynamic Trunking Protocol over SNAP (OUI 00:00:0c, id 0x2004): recognised, not decoded.

Wireshark: packet-dtp.c.
"""
from __future__ import annotations

from ._dissector import Dissector

DTP = Dissector(name="dtp", title="Cisco Dynamic Trunking Protocol", snap=((b"\x00\x00\x0c", 0x2004),))
