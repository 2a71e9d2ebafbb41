"""PROFINET Real-Time (EtherType 0x8892) and its DCP (frame ids 0xFEFC-0xFEFF).

DCP blocks (IEC 61158-6-10, Wireshark packet-pn-dcp.c): name of station,
type of station, vendor/device id, device role and IP settings from Identify
responses and Hello; the NameOfStation an Identify request filters on; a Set
request is an engineering tool changing a device (its new IP/name in the evidence).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

from cbom.model import Severity

from .._records import MAX_IPS_PER_HOST, HostRec, Truncated
from .._wire import mac, text, u16
from ._dissector import Dissector, EventKind, Subject

if TYPE_CHECKING:
    from .._engine import Analyzer

PN_DCP_SET = EventKind("pn_dcp_set", "CBOM-NET-ICS-WRITE", Severity.MEDIUM, "PROFINET DCP Set (name/IP change) seen",
                       "A station changed a PROFINET device's name of station or IP settings.", Subject.MAC)


def decode(an: Analyzer, ts: float, b: bytes, off: int, end: int, st: List[str], h: Optional[HostRec]) -> None:
    if len(b) < off + 2:
        raise Truncated
    fid = u16(b, off)[0]
    if 0xFEFC <= fid <= 0xFEFF:
        st.append("pn_dcp")
        _dcp(an, ts, b, off + 2, h)


# DeviceRoleDetails bits (packet-pn-dcp.c `pn_dcp_suboption_device_role`).
_ROLES = ((0x01, "IO-Device"), (0x02, "IO-Controller"), (0x04, "IO-Multidevice"), (0x08, "PN-Supervisor"))


def _dcp(an: Analyzer, ts: float, b: bytes, off: int, h: Optional[HostRec]) -> None:
    # DCP header: ServiceID, ServiceType, Xid (4), ResponseDelay/reserved (2), DCPDataLength (2);
    # then blocks: Option, Suboption, DCPBlockLength, value (padded to even length).
    if len(b) < off + 10:
        raise Truncated
    sid, stype = b[off], b[off + 1]
    dlen = u16(b, off + 8)[0]
    p, end = off + 10, min(len(b), off + 10 + dlen)
    response = stype != 0
    sets: List[str] = []
    while p + 4 <= end:
        opt, sub, blen = b[p], b[p + 1], u16(b, p + 2)[0]
        v = b[p + 4:p + 4 + blen]
        p += 4 + blen + (blen & 1)
        if sid == 5 and not response:
            # Identify request: its blocks are the filter, without BlockInfo. A station looking for
            # a NameOfStation may be that station (duplicate-name check) or a controller seeking
            # its device: kept under its own key, not as the sender's name.
            if opt == 2 and sub == 2 and h is not None:
                h.ident.setdefault("profinet-identify-request-name", text(v))
            continue
        if sid == 4 and not response:  # Set request: BlockQualifier (2), then the new value
            _set_block(sets, opt, sub, v[2:])
            continue
        if not (response or sid == 6) or h is None:  # responses and Hello carry the device's own blocks
            continue
        v = v[2:]  # BlockInfo precedes the value in responses
        if opt == 2 and sub == 2:
            h.add_name(text(v), "pn_dcp")
            h.ident.setdefault("profinet-name-of-station", text(v))
        elif opt == 2 and sub == 1:
            h.ident.setdefault("profinet-type-of-station", text(v))
        elif opt == 2 and sub == 3 and len(v) >= 4:
            h.ident.setdefault("profinet-vendor-id", "0x%04x" % u16(v, 0)[0])
            h.ident.setdefault("profinet-device-id", "0x%04x" % u16(v, 2)[0])
        elif opt == 2 and sub == 4 and v:
            roles = [n for bit, n in _ROLES if v[0] & bit]
            h.ident.setdefault("profinet-device-role", ", ".join(roles) or "0x%02x" % v[0])
        elif opt == 1 and sub == 2 and len(v) >= 4 and len(h.arp_ips) < MAX_IPS_PER_HOST:
            if v[0:4] != b"\0\0\0\0":
                h.ident.setdefault("profinet-ip", ".".join(str(x) for x in v[0:4]))
    if sid == 4 and not response:  # Set request: an engineering tool changes a device
        an.event(PN_DCP_SET, b[0:6].hex(), ts, "PROFINET DCP Set request to %s%s"
                 % (mac(b[0:6]), (" (" + "; ".join(sets) + ")") if sets else ""))


# Control option (5) suboptions (packet-pn-dcp.c PNDCP_SUBOPTION_CONTROL_*).
_CONTROLS = {1: "start transaction", 2: "end transaction", 3: "signal (flash LED)", 5: "factory reset",
             6: "reset to factory"}


def _set_block(sets: List[str], opt: int, sub: int, v: bytes) -> None:
    """What a Set request block changes, in words (IEC 61158-6-10 DCP options)."""
    if opt == 1 and sub == 2 and len(v) >= 12:
        sets.append("IP %s mask %s gateway %s" % tuple(".".join(str(x) for x in v[i:i + 4]) for i in (0, 4, 8)))
    elif opt == 2 and sub == 2:
        sets.append("NameOfStation %r" % text(v))
    elif opt == 5 and sub in _CONTROLS:
        sets.append(_CONTROLS[sub])
    else:
        sets.append("option %d/%d" % (opt, sub))


PROFINET = Dissector(name="pn_rt", title="PROFINET Real-Time", names={"pn_dcp": "PROFINET DCP"},
                     ethertypes=(0x8892,), link=decode, events=(PN_DCP_SET,))
