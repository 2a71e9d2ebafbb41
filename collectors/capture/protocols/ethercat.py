"""EtherCAT (IEC 61158-4-12, EtherType 0x88A4): recognised, not decoded. Wireshark: packet-ethercat-frame.c."""
from __future__ import annotations

from ._dissector import Dissector

ECAT = Dissector(name="ecat", title="EtherCAT", ethertypes=(0x88A4,))
