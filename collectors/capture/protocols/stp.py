"""Spanning Tree (IEEE 802.1D BPDUs on LLC SAP 0x42; Cisco PVST+ on SNAP 00:00:0c/0x010b): recognised.

Wireshark: packet-stp.c.
"""
from __future__ import annotations

from ._dissector import Dissector

STP = Dissector(name="stp", title="Spanning Tree", llc_saps=(0x42,), snap=((b"\x00\x00\x0c", 0x010B),))
