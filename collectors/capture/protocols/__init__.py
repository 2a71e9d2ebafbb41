"""The protocols the capture analyser recognises: one module each, one `Dissector` record each.

A module declares, in one place, the protocol's Wireshark display-filter name,
where it is found (TCP/UDP ports, heuristics, EtherTypes, LLC), how a TCP
stream is cut into PDUs, how a PDU or datagram is decoded, the identity facts
it learns (`an.ident_ip`, `an.name_ip`, `an.serve`), and the events it raises
with the finding each becomes (`EventKind`). Adding a protocol is one module,
one line in `DISSECTORS` (or a `register()` call from elsewhere) and its tests.
A minimal one, for a made-up "ping" protocol on UDP port 40000:

    from cbom.model import Severity
    from collectors.capture.protocols import Dissector, EventKind, register

    RESET = EventKind("ping_reset", "CBOM-NET-ICS-WRITE", Severity.MEDIUM,
                      "Ping reset seen", "A station reset a ping responder.")

    def decode(an, ts, pl, sport, dport, src, dst, st, inner):
        st.append("ping")                      # the display-filter name of this datagram
        if not inner and pl[:1] == b"R":       # pl[0] on an empty payload: IndexError = malformed
            an.event(RESET, src.hex() + dst.hex(), ts, "reset from %s" % src.hex())
        elif not inner:
            an.ident_ip(src, "ping-version", pl[1:].decode("ascii", "replace"))

    PING = register(Dissector(name="ping", title="Ping (example)", udp_ports=(40000,),
                              datagram=decode, events=(RESET,)))

Decoders raise IndexError, struct.error or ValueError on cut or garbled data
(counted as malformed); any other exception is a bug, counted per protocol and
reported as a gap of the capture run.
"""
from __future__ import annotations

from typing import List

from ._dissector import Dissector, EventKind, Subject
from .arp import ARP
from .bacnet import BACNET, BACNET_LLC
from .cdp import CDP
from .dhcp import DHCP, DHCPV6
from .dnp3 import DNP3
from .dns import DNS, LLMNR, MDNS
from .dtp import DTP
from .enip import ENIP
from .ethercat import ECAT
from .ftp import FTP
from .http import HTTP
from .iec104 import IEC104
from .iec61850 import GOOSE, SV
from .lldp import LLDP
from .melsoft import MELSOFT
from .mms import MMS
from .modbus import MODBUS
from .nbdgm import NBDGM
from .nbns import NBNS
from .netbios import NETBIOS
from .ntp import NTP
from .opcua import OPCUA
from .profinet import PROFINET
from .s7comm import S7COMM
from .smb import SMB
from .snmp import SNMP
from .ssdp import SSDP
from .ssh import SSH
from .stp import STP
from .synphasor import SYNPHASOR
from .telnet import TELNET
from .tls import TLS
# issue 14: OMRON FINS, Beckhoff ADS/AMS, PTP, HART-IP, KNXnet/IP
from .ads import AMS
from .fins import OMRON
from .hartip import HARTIP
from .knxip import KNXIP
from .ptp import PTP

__all__ = ["DISSECTORS", "Dissector", "EventKind", "Subject", "register"]

# Every analyser is built from this list. Order matters only among the protocols recognised
# on any port (`tcp_heuristic`, `udp_heuristic`): they are tried in this order.
DISSECTORS: List[Dissector] = [
    # link layer
    ARP, LLDP, CDP, DTP, STP, NETBIOS, PROFINET, GOOSE, SV, ECAT, BACNET_LLC,
    # UDP
    DNS, MDNS, LLMNR, NBNS, NBDGM, DHCP, DHCPV6, SSDP, NTP, SNMP, BACNET,
    # industrial, TCP and UDP
    MODBUS, S7COMM, MMS, MELSOFT, ENIP, DNP3, IEC104, SYNPHASOR,
    # issue 14: FINS, ADS/AMS, PTP (EtherType and UDP), HART-IP, KNXnet/IP (port-registered, no heuristics)
    OMRON, AMS, PTP, HARTIP, KNXIP,
    # TCP, then the ones recognised on any port, in the order they are tried
    SMB, FTP, TELNET, OPCUA, TLS, SSH, HTTP,
]


def register(dissector: Dissector) -> Dissector:
    """Add a dissector for every analyser created from now on; returns it (so a module can keep it)."""
    DISSECTORS.append(dissector)
    return dissector
