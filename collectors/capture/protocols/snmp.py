"""SNMP (RFC 3416 over BER, UDP 161/162): v1/v2c community strings travel in clear.

Identity: the system group (RFC 3418 SNMPv2-MIB, 1.3.6.1.2.1.1.x.0) in the
varbinds of a v1/v2c GetResponse names the agent: sysDescr, sysObjectID,
sysName, sysLocation. A SetRequest is a write to the agent.
Wireshark: packet-snmp.c (`snmp.name`, `snmp.value.octets`, `snmp.value.oid`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List

from cbom.model import Severity

from .._wire import ber_len_size, ber_tlv, ip
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

SNMP_COMMUNITY = EventKind("snmp_community", "CBOM-NET-CLEARTEXT-CREDENTIALS", Severity.MEDIUM,
                           "SNMP v1/v2c community string in clear text",
                           "The community string is the SNMP password; v1/v2c send it unencrypted (use SNMPv3).")
SNMP_SET = EventKind("snmp_set", "CBOM-NET-SNMP-SET", Severity.MEDIUM, "SNMP set-request seen",
                     "A manager changed values on an SNMP agent (configuration of a device).")

# system group objects (RFC 3418) -> identity key; the encoded OID body after 06 08.
_SYSTEM = {1: "snmp-sysdescr", 2: "snmp-sysobjectid", 5: "snmp-sysname", 6: "snmp-syslocation"}
_SYS_PREFIX = bytes([0x2B, 6, 1, 2, 1, 1])  # 1.3.6.1.2.1.1


def decode(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
           st: List[str], inner: bool) -> None:
    if len(pl) < 2 or pl[0] != 0x30:  # SEQUENCE
        st.append("data")
        return
    st.append("snmp")
    if inner:
        return
    try:
        p = 1 + ber_len_size(pl, 1)
        if pl[p] == 0x02 and pl[p + 1] == 1:  # INTEGER version, one byte
            version = pl[p + 2]
            p += 3
            if version in (0, 1) and pl[p] == 0x04:  # OCTET STRING community
                clen = pl[p + 1]
                if clen < 0x80:
                    community = pl[p + 2:p + 2 + clen]
                    if dport in (161, 162):  # the sender of a request/trap holds the community
                        an.event(SNMP_COMMUNITY, src.hex() + dst.hex(), ts,
                                 "SNMPv%s community string (%d characters) sent in clear from %s to %s"
                                 % ("1" if version == 0 else "2c", len(community), ip(src), ip(dst)))
                    _pdu(an, ts, pl, p + 2 + clen, src, dst, version)
            if sport in (161,):
                an.serve("snmp", src, 161, "udp")
    except (IndexError, ValueError):  # the header counted; the message is cut or garbled
        an.malformed_pdu("snmp")


def _oid(v: bytes) -> str:
    """Dotted text of a BER OBJECT IDENTIFIER value (X.690 8.19)."""
    arcs: List[int] = []
    n = 0
    for x in v:
        n = (n << 7) | (x & 0x7F)
        if not x & 0x80:
            arcs.append(n)
            n = 0
    if not arcs:
        return ""
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(a) for a in head + arcs[1:])


def _pdu(an: Analyzer, ts: float, pl: bytes, p: int, src: bytes, dst: bytes, version: int) -> None:
    # PDU: [tag] { request-id, error-status, error-index, variable-bindings } (RFC 3416 section 3)
    tag, q, end = ber_tlv(pl, p)
    if tag not in (0xA2, 0xA3):  # GetResponse, SetRequest
        return
    for _ in range(3):
        q = ber_tlv(pl, q)[2]
    t, q, vend = ber_tlv(pl, q)  # SEQUENCE OF VarBind
    if t != 0x30:
        raise ValueError("varbind list")
    oids: List[str] = []
    while q < vend and len(oids) < 64:
        t, vb, q = ber_tlv(pl, q)
        ot, os_, oe = ber_tlv(pl, vb)
        if ot != 0x06:
            raise ValueError("varbind name")
        oid = pl[os_:oe]
        oids.append(_oid(oid))
        if tag != 0xA2:
            continue
        # system group scalar: 1.3.6.1.2.1.1.N.0
        if len(oid) == 8 and oid[:6] == _SYS_PREFIX and oid[7] == 0 and oid[6] in _SYSTEM:
            vt, vs, ve = ber_tlv(pl, oe)
            if vt == 0x04:  # OCTET STRING (DisplayString)
                an.ident_ip(src, _SYSTEM[oid[6]], pl[vs:ve].decode("utf-8", "replace"))
            elif vt == 0x06:  # OBJECT IDENTIFIER (sysObjectID)
                an.ident_ip(src, _SYSTEM[oid[6]], _oid(pl[vs:ve]))
    if tag == 0xA3:
        an.event(SNMP_SET, src.hex() + dst.hex(), ts, "SNMPv%s set-request of %s from %s to %s"
                 % ("1" if version == 0 else "2c", " ".join(oids[:4]) + (" …" if len(oids) > 4 else ""),
                    ip(src), ip(dst)))


SNMP = Dissector(name="snmp", title="SNMP", udp_ports=(161, 162), datagram=decode, events=(SNMP_COMMUNITY, SNMP_SET))
