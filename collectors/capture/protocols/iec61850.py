"""IEC 61850-8-1 GOOSE (EtherType 0x88B8) and 9-2 Sampled Values (0x88BA): recognised, not decoded.

Wireshark: packet-goose.c, packet-sv.c.
"""
from __future__ import annotations

from ._dissector import Dissector

GOOSE = Dissector(name="goose", title="IEC 61850 GOOSE", ethertypes=(0x88B8,))
SV = Dissector(name="sv", title="IEC 61850 Sampled Values", ethertypes=(0x88BA,))
