"""BACnet (ASHRAE 135): BACnet/IP (Annex J, UDP 47808: BVLC, NPDU, APDU) and BACnet over
ISO 8802-2 LLC (clause 7, DSAP = SSAP = 0x82, no IP).

Identity: I-Am (unconfirmed service 0) names the sender's device instance,
max APDU length accepted and vendor id; a ReadProperty-ACK or a
ReadPropertyMultiple-ACK of the device object its vendor name, model name,
firmware revision, application software version, object name, location and
description. A device a router relays
(NPDU with SNET/SADR: an MS/TP device, say) has no address of its own on the
capture: its facts are kept on the router as "bacnet-net-<SNET>-addr-<SADR>-*". Writes and control: the confirmed
services WriteProperty, WritePropertyMultiple, AtomicWriteFile, Create/
DeleteObject, DeviceCommunicationControl and ReinitializeDevice.
Wireshark: packet-bvlc.c, packet-bacnet.c (NPDU, `bacnet` also over LLC),
packet-bacapp.c (APDU, service choices, I-Am fields `bacapp.instance_number`,
`bacapp.vendor_identifier`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Tuple

from cbom.model import Severity

from .._records import HostRec, Truncated
from .._wire import ip, mac, text, u16
from ._dissector import Dissector, EventKind, Subject

if TYPE_CHECKING:
    from .._engine import Analyzer

# Confirmed service choices (ASHRAE 135 clause 21, BACnetConfirmedServiceChoice; packet-bacapp.c
# `BACnetConfirmedServiceChoice`) that change a device's data, files or objects ...
BACNET_WRITES = {15: "WriteProperty", 16: "WritePropertyMultiple", 10: "CreateObject", 11: "DeleteObject",
                 8: "AddListElement", 9: "RemoveListElement"}
# ... or its operation (communication off, restart, file download).
BACNET_CONTROLS = {17: "DeviceCommunicationControl", 20: "ReinitializeDevice", 7: "AtomicWriteFile"}

# Facts of devices behind a router (their instance, vendor and naming properties; not their max
# APDU) are kept on the router's host while it has fewer than this many.
_MAX_ROUTED_FACTS = 120

BACNET_WRITE = EventKind("bacnet_write", "CBOM-NET-ICS-WRITE", Severity.MEDIUM, "BACnet write services seen",
                         "A client wrote properties or created/deleted objects of a BACnet device.")
BACNET_CONTROL = EventKind("bacnet_control", "CBOM-NET-ICS-WRITE", Severity.HIGH,
                           "BACnet device control or file download seen",
                           "A client disabled communication of, restarted, or wrote a file (program, "
                           "configuration, firmware) to a BACnet device.")
# Over LLC there are only MAC addresses: one piece of evidence per device written to.
BACNET_WRITE_L2 = EventKind("bacnet_write_l2", "CBOM-NET-ICS-WRITE", Severity.MEDIUM,
                            "BACnet write services seen (BACnet over Ethernet LLC)",
                            "A station wrote properties or created/deleted objects of a BACnet device.", Subject.MAC)
BACNET_CONTROL_L2 = EventKind("bacnet_control_l2", "CBOM-NET-ICS-WRITE", Severity.HIGH,
                              "BACnet device control or file download seen (BACnet over Ethernet LLC)",
                              "A station disabled communication of, restarted, or wrote a file to a BACnet device.",
                              Subject.MAC)


def decode(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
           st: List[str], inner: bool) -> None:
    if len(pl) < 4 or pl[0] != 0x81:  # BVLC type: BACnet/IP
        st.append("data")
        return
    st.append("bvlc")
    fn = pl[1]
    p = 4
    dev = src
    if fn == 0x04:  # Forwarded-NPDU carries the original source B/IP address
        p = 10
        dev = pl[4:8]
    elif fn not in (0x0A, 0x0B):  # only Original-Unicast/Broadcast-NPDU carry an NPDU
        return
    if len(pl) > p + 1 and pl[p] == 0x01:  # NPDU version 1
        st.append("bacnet")
        apdu = _npdu(pl, p)
        if apdu is not None:
            st.append("bacapp")
        if inner:
            return
        an.serve("bacnet", src if sport == 47808 else dst, 47808, "udp")
        if apdu is not None:
            try:
                _application(an, ts, pl, apdu, src, dst, dev)
            except (Truncated, IndexError, ValueError):  # the datagram is fine, its APDU is cut or garbled
                an.malformed_pdu("bacnet")


def _application(an: Analyzer, ts: float, pl: bytes, apdu: Tuple[str, int], src: bytes, dst: bytes,
                 dev: bytes) -> None:
    """Identity of an I-Am, and the write/control services of a Confirmed-Request (BACnet/IP)."""
    source, a = apdu
    for k, v in _facts(pl, a):
        if not source or k != "max-apdu" and len(an.ip_ident.get(dev, ())) < _MAX_ROUTED_FACTS:
            an.ident_ip(dev, _key(source, k), v)
    svc = _confirmed_service(pl, a)
    if svc in BACNET_WRITES:
        an.event(BACNET_WRITE, src.hex() + dst.hex() + "%02x" % svc, ts,
                 "BACnet %s from %s to %s" % (BACNET_WRITES[svc], ip(src), ip(dst)))
    elif svc in BACNET_CONTROLS:
        an.event(BACNET_CONTROL, src.hex() + dst.hex() + "%02x" % svc, ts,
                 "BACnet %s from %s to %s" % (BACNET_CONTROLS[svc], ip(src), ip(dst)))


def decode_llc(an: Analyzer, ts: float, b: bytes, off: int, end: int, st: List[str], h: Optional[HostRec]) -> None:
    """BACnet over ISO 8802-2 (ASHRAE 135 clause 7): the NPDU follows the LLC header directly."""
    if end < off + 2:
        raise Truncated
    if b[off] != 0x01:  # not NPDU version 1: named, not decoded
        return
    pl = b[:end]
    apdu = _npdu(pl, off)
    if apdu is None:
        return
    st.append("bacapp")
    try:
        _application_llc(an, ts, b, pl, apdu, h)
    except (Truncated, IndexError, ValueError):  # the frame is fine, its APDU is cut or garbled
        an.malformed_pdu("bacnet")


def _application_llc(an: Analyzer, ts: float, b: bytes, pl: bytes, apdu: Tuple[str, int],
                     h: Optional[HostRec]) -> None:
    source, a = apdu
    if h is not None:
        for k, v in _facts(pl, a):
            if not source or k != "max-apdu" and len(h.ident) < _MAX_ROUTED_FACTS:
                h.ident.setdefault(_key(source, k), v)
    svc = _confirmed_service(pl, a)
    if svc in BACNET_WRITES:
        an.event(BACNET_WRITE_L2, b[0:6].hex(), ts,
                 "BACnet %s from %s to %s" % (BACNET_WRITES[svc], mac(b[6:12]), mac(b[0:6])))
    elif svc in BACNET_CONTROLS:
        an.event(BACNET_CONTROL_L2, b[0:6].hex(), ts,
                 "BACnet %s from %s to %s" % (BACNET_CONTROLS[svc], mac(b[6:12]), mac(b[0:6])))


def _key(source: str, fact: str) -> str:
    """"bacnet-model-name" of the sender, "bacnet-net-3-addr-29-model-name" of a device behind it."""
    return "bacnet-%s-%s" % (source, fact) if source else "bacnet-" + fact


def _npdu(pl: bytes, p: int) -> Optional[Tuple[str, int]]:
    """(source behind a router, APDU offset) of an NPDU, or None for a network-layer message.

    ASHRAE 135 clause 6.2: version, control; DNET/DLEN/DADR if bit 5; SNET/SLEN/SADR if
    bit 3; hop count if bit 5; bit 7 is a network-layer message instead of an APDU. The
    source is "" for the sender itself, "net-3-addr-29" for a device a router relays
    (SADR: a one-octet MS/TP address in decimal, longer ones in hex, as Wireshark shows them).
    """
    ctrl = pl[p + 1]
    if ctrl & 0x80:
        return None
    q = p + 2
    if ctrl & 0x20:
        q += 3 + pl[q + 2]
    source = ""
    if ctrl & 0x08:
        slen = pl[q + 2]
        sadr = pl[q + 3:q + 3 + slen]
        source = "net-%d-addr-%s" % (u16(pl, q)[0], str(sadr[0]) if slen == 1 else sadr.hex())
        q += 3 + slen
    if ctrl & 0x20:
        q += 1
    if q >= len(pl):
        raise Truncated
    return source, q


def _confirmed_service(pl: bytes, a: int) -> int:
    """Service choice of a Confirmed-Request PDU (clause 20.1.2), or -1."""
    if pl[a] >> 4 != 0:
        return -1
    # type/flags, max segments/max APDU, invoke id; sequence number and window size if segmented
    return pl[a + (5 if pl[a] & 0x08 else 3)]


def _facts(pl: bytes, a: int) -> List[Tuple[str, str]]:
    """Identity facts of an APDU: an I-Am (clause 16.10: object id, max APDU, segmentation,
    vendor id), a ReadProperty-ACK (clause 15.5) or ReadPropertyMultiple-ACK (clause 15.7) of a
    device object's naming properties."""
    kind = pl[a] >> 4
    if kind == 1 and pl[a + 1] == 0:  # Unconfirmed-Request, service i-Am
        q = a + 2
        if pl[q] != 0xC4:  # application tag 12 (object identifier), 4 bytes
            raise ValueError("I-Am without an object identifier")
        oid = int.from_bytes(pl[q + 1:q + 5], "big")
        q += 5
        max_apdu, q = _unsigned(pl, q)
        if pl[q] >> 4 != 9:  # segmentation supported: enumerated
            raise ValueError("I-Am without segmentation")
        q += 1 + (pl[q] & 7)
        vendor, q = _unsigned(pl, q)
        if oid >> 22 != 8:  # object type device
            return []
        return [("device-instance", str(oid & 0x3FFFFF)), ("max-apdu", str(max_apdu)), ("vendor-id", str(vendor))]
    if kind == 3:  # Complex-ACK: flags, invoke id, (sequence number, window size), service
        segmented = pl[a] & 0x08
        q = a + (4 if segmented else 2)
        if segmented and pl[a + 2]:  # a later segment: the middle of a value
            return []
        if pl[q] == 12 and pl[q + 1] == 0x0C:  # readProperty; context tag 0: object identifier
            return _read_property_ack(pl, q + 1)
        if pl[q] == 14:  # readPropertyMultiple
            return _read_property_multiple_ack(pl, q + 1, cut=bool(segmented))
    return []


def _read_property_ack(pl: bytes, q: int) -> List[Tuple[str, str]]:
    oid = int.from_bytes(pl[q + 1:q + 5], "big")
    q += 5
    if pl[q] & 0xF8 != 0x18:  # context tag 1: property identifier
        raise ValueError("ReadProperty-ACK without a property")
    n = pl[q] & 7
    prop = int.from_bytes(pl[q + 1:q + 1 + n], "big")
    q += 1 + n
    if oid >> 22 != 8 or pl[q] != 0x3E:  # device object; opening tag 3 (no array index)
        return []
    fact = _device_fact(pl, q + 1, prop)
    inst = oid & 0x3FFFFF
    # 4194303 is the wildcard instance ("the device that answers", clause 12.11.1), echoed back
    if fact is None or fact[0] in ("device-instance", "vendor-id") or inst == 0x3FFFFF:
        return [fact] if fact else []
    return [fact, ("device-instance", str(inst))]


def _read_property_multiple_ack(pl: bytes, q: int, cut: bool) -> List[Tuple[str, str]]:
    """Facts of a ReadPropertyMultiple-ACK (clause 15.7.1.3.1): for each object its identifier
    (context tag 0), then inside context tag 1 each property (tag 2, optional array index 3) with
    its value (inside tag 4) or an error (inside tag 5). The first segment of a segmented answer
    (`cut`) gives the facts of what it holds."""
    facts: List[Tuple[str, str]] = []
    try:
        while q < len(pl):
            if pl[q] != 0x0C or pl[q + 5] != 0x1E:
                raise ValueError("ReadPropertyMultiple-ACK: object identifier and results expected")
            oid = int.from_bytes(pl[q + 1:q + 5], "big")
            device = oid >> 22 == 8
            named = False
            q += 6
            while pl[q] != 0x1F:  # closing tag 1
                num, ctx, n, v = _tag(pl, q)
                if not ctx or num != 2 or not 1 <= n <= 4:
                    raise ValueError("ReadPropertyMultiple-ACK: property identifier expected")
                prop = int.from_bytes(pl[v:v + n], "big")
                num, ctx, n, v = _tag(pl, v + n)
                indexed = ctx and num == 3 and n < 6
                if indexed:
                    num, ctx, n, v = _tag(pl, v + n)
                if not ctx or num not in (4, 5) or n != 6:
                    raise ValueError("ReadPropertyMultiple-ACK: property value or error expected")
                fact = _device_fact(pl, v, prop) if device and num == 4 and not indexed else None
                if fact:
                    facts.append(fact)
                    named = named or fact[0] not in ("device-instance", "vendor-id")
                q = _after_closing(pl, v, num)
            q += 1
            if named and oid & 0x3FFFFF != 0x3FFFFF:
                facts.append(("device-instance", str(oid & 0x3FFFFF)))
    except IndexError:
        if not cut:
            raise
    return facts


def _device_fact(pl: bytes, q: int, prop: int) -> Optional[Tuple[str, str]]:
    """The identity fact a device object's property `prop` holds in the value at pl[q], if any."""
    if prop == 75:  # object-identifier: the real instance behind a wildcard
        if pl[q] != 0xC4:
            return None
        oid = int.from_bytes(pl[q + 1:q + 5], "big")
        return ("device-instance", str(oid & 0x3FFFFF)) if oid >> 22 == 8 else None
    if prop == 120:  # vendor-identifier (Unsigned)
        return ("vendor-id", str(_unsigned(pl, q)[0]))
    name = _DEVICE_PROPERTIES.get(prop)
    value = _character_string(pl, q) if name else ""
    return (name, value) if name and value else None


def _tag(pl: bytes, q: int) -> Tuple[int, bool, int, int]:
    """A tag (clause 20.2.1): (number, context class, length, offset of the content). Length 6 or 7
    of a context tag is an opening or closing tag; an application Boolean holds its value in the
    tag (length 0)."""
    t = pl[q]
    num, ctx, n = t >> 4, bool(t & 0x08), t & 7
    q += 1
    if num == 15:  # extended tag number
        num, q = pl[q], q + 1
    if ctx and n >= 6:
        return num, ctx, n, q
    if not ctx and num == 1:
        return num, ctx, 0, q
    if n == 5:  # extended length
        n, q = pl[q], q + 1
        if n == 254:
            n, q = u16(pl, q)[0], q + 2
        elif n == 255:
            n, q = int.from_bytes(pl[q:q + 4], "big"), q + 4
    return num, ctx, n, q


def _after_closing(pl: bytes, q: int, number: int) -> int:
    """The offset after the closing tag `number` that ends the constructed value starting at q."""
    depth = 0
    while True:
        num, ctx, n, v = _tag(pl, q)
        if ctx and n == 6:
            depth += 1
            q = v
        elif ctx and n == 7:
            if not depth:
                if num != number:
                    raise ValueError("BACnet tags do not balance")
                return v
            depth -= 1
            q = v
        else:
            q = v + n


# Naming properties of the device object (clause 12.11; packet-bacapp.c BACnetPropertyIdentifier).
_DEVICE_PROPERTIES = {121: "vendor-name", 70: "model-name", 44: "firmware-revision",
                      12: "application-software-version", 77: "object-name", 58: "location", 28: "description"}
# Character sets of a CharacterString (clause 20.2.9): 0 UTF-8, 4 UCS-2, 5 ISO 8859-1.
_CHARSETS = {0: "utf-8", 4: "utf-16-be", 5: "latin-1"}


def _character_string(pl: bytes, q: int) -> str:
    """An application-tagged CharacterString (tag 7), or "" for any other value."""
    tag = pl[q]
    if tag >> 4 != 7 or tag & 0x08:
        return ""
    n, q = tag & 7, q + 1
    if n == 5:  # extended length (clause 20.2.1.3.1)
        n, q = pl[q], q + 1
        if n == 254:
            n, q = u16(pl, q)[0], q + 2
        elif n == 255:
            n, q = int.from_bytes(pl[q:q + 4], "big"), q + 4
    if n < 1 or q + n > len(pl):
        raise IndexError("character string cut")
    return text(pl[q + 1:q + n].decode(_CHARSETS.get(pl[q], "latin-1"), "replace").encode())


def _unsigned(pl: bytes, q: int) -> Tuple[int, int]:
    """An application-tagged Unsigned (tag 2, length 1-4 in the tag octet): (value, next offset)."""
    tag = pl[q]
    n = tag & 7
    if tag >> 4 != 2 or not 1 <= n <= 4 or q + 1 + n > len(pl):
        raise ValueError("expected an application-tagged unsigned")
    return int.from_bytes(pl[q + 1:q + 1 + n], "big"), q + 1 + n


BACNET = Dissector(name="bvlc", title="BACnet Virtual Link Control", udp_ports=(47808,), datagram=decode,
                   events=(BACNET_WRITE, BACNET_CONTROL))
BACNET_LLC = Dissector(name="bacnet", title="BACnet NPDU", names={"bacapp": "BACnet APDU"}, llc_saps=(0x82,),
                       link=decode_llc, events=(BACNET_WRITE_L2, BACNET_CONTROL_L2))
