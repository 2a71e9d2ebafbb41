"""Precision Time Protocol, IEEE 1588 (Wireshark display filter `ptp`).

Wireshark's packet-ptp.c takes EtherType 0x88F7 (PTPv2 over Ethernet, IEEE 1588-2008
annex F) and UDP ports 319 (event) and 320 (general messages, annex D/E). PTPv1
(IEEE 1588-2002) has versionPTP = 1 in its first two bytes; PTPv2 has it in the low
nibble of byte 1.

PTPv2 common header (IEEE 1588-2008 section 13.3, 34 bytes): transportSpecific and
messageType, versionPTP, messageLength, domainNumber, reserved, flags, correctionField,
reserved, sourcePortIdentity (clockIdentity, 8 bytes, and portNumber), sequenceId,
controlField, logMessageInterval. An Announce message (13.5) carries the grandmaster:
originTimestamp (10), currentUtcOffset (2), reserved, grandmasterPriority1,
grandmasterClockQuality (clockClass, clockAccuracy, offsetScaledLogVariance),
grandmasterPriority2, grandmasterIdentity (8), stepsRemoved (2), timeSource.
A Management message (15) with action SET or COMMAND changes a clock's data sets.
The first grandmaster a clock announces is kept, and so is its first change.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from cbom.model import Severity

from .._records import HostRec
from .._wire import ip, mac
from ._dissector import Dissector, EventKind, Subject

if TYPE_CHECKING:
    from .._engine import Analyzer

# timeSource (IEEE 1588-2008 table 7).
TIME_SOURCES = {0x10: "ATOMIC_CLOCK", 0x20: "GPS", 0x30: "TERRESTRIAL_RADIO", 0x40: "PTP", 0x50: "NTP",
                0x60: "HAND_SET", 0x90: "OTHER", 0xA0: "INTERNAL_OSCILLATOR"}
MM_ACTIONS = {1: "SET", 3: "COMMAND"}  # actionField values that change a clock (table 38)

PTP_MANAGEMENT = EventKind("ptp_management_set", "CBOM-NET-ICS-WRITE", Severity.MEDIUM,
                           "PTP management SET/COMMAND seen",
                           "A station changed a PTP clock's data sets (priority, domain, time properties) "
                           "with a management message: it can move the grandmaster of the plant's time.")
PTP_MANAGEMENT_L2 = EventKind("ptp_management_set_l2", "CBOM-NET-ICS-WRITE", Severity.MEDIUM,
                              "PTP management SET/COMMAND seen (Ethernet)",
                              "A station changed a PTP clock's data sets (priority, domain, time properties) "
                              "with a management message: it can move the grandmaster of the plant's time.",
                              Subject.MAC)


def clock_id(b: bytes) -> str:
    """An 8-byte clockIdentity, as hex with colons (EUI-64 form)."""
    return mac(b)


def facts(m: bytes) -> List[Tuple[str, str]]:
    """(key, value) identity facts of one PTPv2 message; [] for other versions."""
    if len(m) < 34 or m[1] & 0x0F != 2:
        return []
    kind = m[0] & 0x0F
    out = [("ptp-clock-identity", clock_id(m[20:28])), ("ptp-domain", str(m[4]))]
    if kind == 0x0B and len(m) >= 64:  # Announce
        out += [("ptp-role", "master (sends Announce)"),
                ("ptp-grandmaster-identity", clock_id(m[53:61])),
                ("ptp-grandmaster-priority1", str(m[47])),
                ("ptp-grandmaster-clock-class", str(m[48])),
                ("ptp-grandmaster-priority2", str(m[52])),
                ("ptp-time-source", TIME_SOURCES.get(m[63], "0x%02x" % m[63]))]
    return out


def management_action(m: bytes) -> Optional[str]:
    """SET/COMMAND of a PTPv2 management message (targetPortIdentity, hops, actionField), else None."""
    if len(m) >= 47 and m[1] & 0x0F == 2 and m[0] & 0x0F == 0x0D:
        return MM_ACTIONS.get(m[46] & 0x0F)
    return None


def _learn(known: Dict[str, str], new: List[Tuple[str, str]]) -> List[Tuple[str, str]]:
    """The facts to add to what a clock already said: first values are kept, and the first change of
    grandmaster (a better clock appeared, or the grandmaster failed) is kept as "old -> new"."""
    out = [(k, v) for k, v in new if k not in known]
    gm = dict(new).get("ptp-grandmaster-identity")
    old = known.get("ptp-grandmaster-identity")
    if gm and old and gm != old and "ptp-grandmaster-change" not in known:
        out.append(("ptp-grandmaster-change", "%s -> %s" % (old, gm)))
    return out


def decode_link(an: Analyzer, ts: float, b: bytes, off: int, end: int, st: List[str], h: Optional[HostRec]) -> None:
    m = b[off:end]
    if h is not None:
        for k, v in _learn(h.ident, facts(m)):
            h.ident[k] = v
    action = management_action(m)
    if action:
        an.event(PTP_MANAGEMENT_L2, b[6:12].hex(), ts, "PTP management %s from %s to %s"
                 % (action, mac(b[6:12]), mac(b[0:6])))


def decode_datagram(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
                    st: List[str], inner: bool) -> None:
    st.append("ptp")
    if inner:
        return
    for k, v in _learn(an.ip_ident.get(src, {}), facts(pl)):
        an.ident_ip(src, k, v)
    action = management_action(pl)
    if action:
        an.event(PTP_MANAGEMENT, src.hex() + dst.hex(), ts, "PTP management %s from %s to %s"
                 % (action, ip(src), ip(dst)))


PTP = Dissector(name="ptp", title="Precision Time Protocol (IEEE 1588)", ethertypes=(0x88F7,), udp_ports=(319, 320),
                link=decode_link, datagram=decode_datagram, events=(PTP_MANAGEMENT, PTP_MANAGEMENT_L2))
