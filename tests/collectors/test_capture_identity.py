"""capture collector: identity facts and write/control findings of the industrial protocols (issue 14).

Every expected value is read from the same capture by tshark 4.0 (`tshark -T fields`
or `-V`), never from our own output: EtherNet/IP ListIdentity, PCCC in CIP,
BACnet/IP and BACnet over LLC, PROFINET DCP, SNMP system group, OPC UA
endpoints, IEC 60870-5-104 common addresses and GOOSE control blocks.
Fixtures and their provenance: tests/fixtures/capture/SOURCES.md.
"""
from __future__ import annotations

import collections
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from cbom.collector import ScanContext
from cbom.model import Category, Component, Finding, Status
from cbom.runner import run_one
from collectors.capture import CaptureCollector
from collectors.capture._engine import Analyzer
from collectors.capture._pcap import CaptureFile

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "capture"
IDENT = "cbom:net:identity:"

needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark (the oracle) is not installed")

_cache: Dict[str, tuple] = {}


def _scan(name: str) -> tuple:
    if name not in _cache:
        run, items = run_one(CaptureCollector, ScanContext(options={"pcap": [str(FIX / name)]}))
        assert run.status == Status.OK, run.reason
        _cache[name] = (run, items)
    return _cache[name]


def _hosts(name: str) -> List[Component]:
    return [i for i in _scan(name)[1] if isinstance(i, Component) and i.category == Category.OBSERVED_HOST]


def _ident_by_ip(name: str) -> Dict[str, Dict[str, str]]:
    """ip -> identity facts of the observed host holding it."""
    out: Dict[str, Dict[str, str]] = {}
    for h in _hosts(name):
        facts = {k[len(IDENT):]: v for k, v in h.properties if k.startswith(IDENT)}
        for ip in h.props("cbom:net:ip"):
            out[ip] = facts
    return out


def _ident_by_mac(name: str) -> Dict[str, Dict[str, str]]:
    return {h.prop("cdx:device:macAddress"): {k[len(IDENT):]: v for k, v in h.properties if k.startswith(IDENT)}
            for h in _hosts(name)}


def _findings(name: str) -> List[Finding]:
    return [i for i in _scan(name)[1] if isinstance(i, Finding)]


def _decode_as(name: str) -> List[str]:
    rules = json.loads((FIX / "decode_as.json").read_text()).get(name, [])
    return [a for r in rules for a in ("-d", r)]


def _tshark(name: str, display_filter: str, *fields: str) -> List[List[str]]:
    """Rows of tshark field values (one list per packet) for the packets the filter selects."""
    cmd = ["tshark", "-n", "-r", str(FIX / name), *_decode_as(name), "-Y", display_filter, "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def _tshark_text(name: str, display_filter: str) -> str:
    cmd = ["tshark", "-n", "-r", str(FIX / name), *_decode_as(name), "-Y", display_filter, "-V"]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def _truth(name: str) -> dict:
    return json.loads((FIX / (name.rsplit(".", 1)[0] + ".truth.json")).read_text())


def _protocol_packets(name: str) -> Dict[str, int]:
    return {c.name: int(c.prop("cbom:net:packets")) for c in _scan(name)[1]
            if isinstance(c, Component) and c.category == Category.OBSERVED_PROTOCOL}


# ---------------------------------------------------------------------------------------- EtherNet/IP, PCCC

@needs_tshark
def test_enip_list_identity_matches_tshark():
    name = "enip_list_identity_1756_enbt.pcap"
    rows = _tshark(name, "enip.command == 0x63 && enip.length > 0", "ip.src", "enip.lir.vendor", "enip.lir.devtype",
                   "enip.lir.prodcode", "enip.lir.revision", "enip.lir.serial", "enip.lir.name")
    assert rows, "the capture holds a ListIdentity response"
    ident = _ident_by_ip(name)
    for src, vendor, dtype, pcode, rev, serial, pname in rows:
        got = ident[src]
        assert got["enip-vendor-id"] == str(int(vendor, 16))
        assert got["enip-device-type"] == dtype
        assert got["enip-product-code"] == pcode
        # tshark reads the two revision bytes as one big-endian word and shows "major.minor" (4.03)
        assert got["enip-revision"] == "%d.%02d" % (int(rev) >> 8, int(rev) & 0xFF)
        assert got["enip-serial"] == serial
        assert got["enip-product-name"] == pname


@needs_tshark
def test_cip_get_attributes_all_identity_per_backplane_slot_matches_tshark():
    name = "enip_cip_chassis_browse_l61_enbt_mvi56.pcap"
    rows = _tshark(name, "cip.id.product_name", "ip.src", "cip.port", "cip.linkaddress.byte", "cip.id.vendor_id",
                   "cip.id.device_type", "cip.id.product_code", "cip.id.major_rev", "cip.id.minor_rev",
                   "cip.id.serial_number", "cip.id.product_name")
    slots = {r[2] for r in rows}
    assert len(slots) == 4 and {r[1] for r in rows} == {"1"}  # backplane port 1, slots 0-3
    ident = _ident_by_ip(name)
    for src, _port, slot, vendor, dtype, pcode, major, minor, serial, pname in rows:
        pre = "enip-slot-%s-" % slot
        got = ident[src]
        assert got[pre + "vendor-id"] == str(int(vendor, 16))
        assert got[pre + "device-type"] == str(int(dtype, 16))
        assert got[pre + "product-code"] == pcode
        assert got[pre + "revision"] == "%s.%02d" % (major, int(minor))
        assert got[pre + "serial"] == serial
        assert got[pre + "product-name"] == pname
    # modules behind the adapter are not the adapter's own identity
    assert not any(k.startswith("enip-product") for k in ident[rows[0][0]])


@needs_tshark
def test_pccc_named_catalogue_and_findings_match_tshark():
    name = "pccc_cip_micrologix_mode_masked_write.pcap"
    truth = _truth(name)["protocols"]
    got = _protocol_packets(name)
    # tshark names PCCC in CIP `cippccc`; a reply whose request is not in the capture is `cipcls` to it
    assert truth["cippccc"] <= got["cippccc"] <= truth["cippccc"] + truth.get("cipcls", 0)
    assert got["cip"] == truth["cip"] and got["enip"] == truth["enip"]
    # Diagnostic Status reply (command 0x46): 11-character catalogue number after 5 status bytes
    rows = _tshark(name, "cip.pccc.resp.code == 0x46", "ip.src", "cip.pccc.data")
    assert rows
    src, data = rows[0]
    catalogue = bytes.fromhex(data.replace(":", ""))[5:16].decode("ascii").strip()
    assert catalogue.startswith("1766-")  # a MicroLogix 1400, read by eye in tshark's hex
    assert _ident_by_ip(name)[src]["pccc-catalog-number"] == catalogue
    # every Change CPU mode and masked write request is evidence, with tshark's mode names
    modes = _tshark_text(name, "cip.pccc.fnc.code_0f == 0x80")
    want_modes = set(re.findall(r"CPU Mode: ([A-Za-z ]+) \(0x", modes))
    assert want_modes == {"Remote Program", "Remote Run"}
    ev = [f.evidence[0] for f in _findings(name) if f.id == "CBOM-NET-ICS-WRITE"]
    for mode in want_modes:
        assert any("PCCC Change CPU mode to %s (function 0x80)" % mode in e for e in ev), ev
    writes = _tshark(name, "cip.pccc.fnc.code_0f == 0xab", "ip.src", "ip.dst")
    assert writes
    masked = [f for f in _findings(name) if "masked-write" in f.evidence[0]]
    assert len(masked) == 1 and masked[0].evidence[2] == "packets %d" % len(writes)
    assert "from %s to %s" % tuple(writes[0]) in masked[0].evidence[0]
    high = {f.severity.value for f in _findings(name) if "CPU mode" in f.evidence[0]}
    assert high == {"high"}


@needs_tshark
def test_cip_firmware_download_and_reset_are_high_findings_matching_tshark():
    name = "enip_controlflash_firmware_update_excerpt.pcap"
    # the firmware blocks: service 0x4D to class 0xA1 (Wireshark 4.0: "Unknown class 0xa1"), 454-byte frames
    blocks = _tshark(name, "cip.class == 0xa1 && cip.service == 0x4d", "ip.src", "ip.dst", "frame.len")
    assert len(blocks) == 5 and {r[2] for r in blocks} == {"454"}
    down = [f for f in _findings(name) if "vendor-specific class 0xa1" in f.evidence[0]]
    assert len(down) == 1 and down[0].severity.value == "high"
    assert down[0].evidence[2] == "packets %d" % len(blocks)
    assert "service 0x4d" in down[0].evidence[0] and "from %s to %s" % tuple(blocks[0][:2]) in down[0].evidence[0]
    # then the Identity object's Reset (its type: Cycle Power) and, after the restart, the module's identity
    (reset,) = _tshark(name, "cip.service == 0x05", "ip.src", "ip.dst", "cip.class")
    assert reset[2] == "0x01"
    ev = [f for f in _findings(name) if "Reset (service 0x05)" in f.evidence[0]]
    assert len(ev) == 1 and ev[0].severity.value == "high"
    assert "of class 0x01 from %s to %s" % tuple(reset[:2]) in ev[0].evidence[0]
    # three Get_Attribute_All replies, all alike
    (src, pname, major, minor), = {tuple(r) for r in _tshark(name, "cip.id.product_name", "ip.src",
                                                             "cip.id.product_name", "cip.id.major_rev",
                                                             "cip.id.minor_rev")}
    got = _ident_by_ip(name)[src]
    assert got["enip-product-name"] == pname == "1756-ENBT/A"
    assert got["enip-revision"] == "%s.%02d" % (major, int(minor))


@needs_tshark
def test_logix_tag_writes_inside_multiple_service_packets_match_tshark():
    name = "plant_mixed_modbus_s7comm_enip_profinet_lldp.pcap"
    # Read Modify Write Tag (0x4E) requests on symbolic paths, four to a Multiple Service Packet
    rows = _tshark(name, "cip.service == 0x4e", "ip.src", "ip.dst", "cip.service", "cip.symbol")
    want: Dict[Tuple[str, str], int] = {}
    for src, dst, services, _symbols in rows:
        want[(src, dst)] = want.get((src, dst), 0) + services.split("|").count("0x4e")
    assert len(want) == 4 and sum(want.values()) == 367
    got = {}
    for f in _findings(name):
        if "Logix Read Modify Write Tag" in f.evidence[0]:
            m = re.search(r"from (\S+) to (\S+)$", f.evidence[0])
            assert m and f.severity.value == "medium"
            got[(m.group(1), m.group(2))] = int(f.evidence[2].split()[1])
    assert got == want
    first = rows[0][3].split("|")[0]
    assert any("'%s'" % first in f.evidence[0] for f in _findings(name))


# Modbus Application Protocol v1.1b3, 6.21 (Read Device Identification): basic object ids
MODBUS_OBJECTS = {"0": "modbus-vendor", "1": "modbus-product-code", "2": "modbus-revision"}


@needs_tshark
@pytest.mark.parametrize("name", ["modbus_read_device_id_test_server_loopback.pcap",
                                  "modbus_read_device_id_4sics_short_reply.pcap"])
def test_modbus_read_device_identification_matches_tshark(name):
    rows = _tshark(name, "modbus.mei == 14 && tcp.srcport == 502", "ip.src", "modbus.object_id",
                   "modbus.object_str_value")
    assert len(rows) == 1
    src, ids, values = rows[0]
    want = dict(zip((MODBUS_OBJECTS[i] for i in ids.split("|") if i), values.split("|") if values else ()))
    got = {k: v for k, v in _ident_by_ip(name)[src].items() if k.startswith("modbus-")}
    assert got == want
    # the test server's three objects; the 4SICS device's short reply holds none (tshark: 0 objects)
    assert len(want) == (3 if "test_server" in name else 0)
    truth = _truth(name)["protocols"]
    assert _protocol_packets(name)["modbus"] == truth["modbus"]
    assert not [f for f in _findings(name) if "Modbus" in f.title and "decod" in f.title.lower()]


def test_enip_cut_list_identity_is_contained():
    # Hand-made malformed input: a ListIdentity reply whose product name runs past the item.
    an = Analyzer()
    eth = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00"
    # encapsulation version, socket address, vendor .. serial, product name length 64 with no name
    item = struct.pack("<H", 1) + b"\0" * 16 + struct.pack("<HHHBBHI", 1, 12, 58, 4, 3, 0x30, 7) + b"\x40"
    body = struct.pack("<H", 1) + struct.pack("<HH", 0x0C, len(item)) + item
    enc = struct.pack("<HHII8sI", 0x63, len(body), 0, 0, b"", 0) + body
    udp = struct.pack(">HHHH", 44818, 50000, 8 + len(enc), 0) + enc
    iph = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    an.feed(1.0, eth + iph + udp)
    assert an.dissector_errors == {} and an.malformed == {"enip": 1} and an.undecodable == 0
    assert "enip-product-name" not in an.ip_ident.get(bytes([10, 0, 0, 1]), {})


# ---------------------------------------------------------------------------------------- BACnet

@needs_tshark
def test_bacnet_i_am_identity_matches_tshark():
    name = "bacnet_ip_llc_services_iam_writes.pcap"
    # I-Am sent by the device itself (no SNET: not relayed from behind a router), first per address
    rows = _tshark(name, "bacapp.unconfirmed_service == 0 && ip && bacnet.control_src == 0 && bvlc.function == 0x0b",
                   "frame.number", "ip.src", "bacapp.instance_number", "bacapp.vendor_identifier")
    first: Dict[str, Tuple[str, str, str]] = {}
    for num, src, inst, vendor in rows:
        first.setdefault(src, (num, inst, vendor))
    assert len(first) >= 3
    ident = _ident_by_ip(name)
    for src, (num, inst, vendor) in first.items():
        assert ident[src]["bacnet-device-instance"] == inst, src
        assert ident[src]["bacnet-vendor-id"] == vendor, src
        text = _tshark_text(name, "frame.number == %s" % num)
        max_apdu = re.search(r"Maximum ADPU Length Accepted: \(Unsigned\) (\d+)", text)
        assert max_apdu and ident[src]["bacnet-max-apdu"] == max_apdu.group(1)


@needs_tshark
def test_bacnet_over_llc_is_named_bacnet_and_routed_devices_are_kept_apart():
    name = "bacnet_ip_llc_services_iam_writes.pcap"
    truth = _truth(name)["protocols"]
    got = _protocol_packets(name)
    for proto in ("llc", "bacnet", "bacapp", "bvlc"):
        assert got[proto] == truth[proto], proto
    # every I-Am over LLC here is relayed by a router (SNET present) for a device behind it:
    # kept on the router under the source network and address, never as the router's own
    rows = _tshark(name, "llc && bacapp.unconfirmed_service == 0", "eth.src", "bacnet.snet", "bacnet.sadr_mstp",
                   "bacnet.sadr_eth", "bacapp.instance_number", "bacapp.vendor_identifier")
    assert rows
    ident = _ident_by_mac(name)
    for router, snet, mstp, eth, inst, vendor in rows:
        pre = "bacnet-net-%s-addr-%s-" % (snet, mstp or eth.replace(":", ""))
        assert ident[router][pre + "device-instance"] == inst
        assert ident[router][pre + "vendor-id"] == vendor
    router = rows[0][0]
    own = _tshark(name, "eth.src == %s && bacapp.unconfirmed_service == 0 && bacnet.control_src == 0" % router,
                  "bacapp.instance_number")
    assert ident[router].get("bacnet-device-instance") == (own[0][0] if own else None)


@needs_tshark
@pytest.mark.parametrize("name", ["bacnet_ip_llc_services_iam_writes.pcap", "bacnet_ip_test.pcap"])
def test_bacnet_read_property_naming_matches_tshark(name):
    # a routed device's (behind a router: SNET/SADR) and a device's own (JCI NAE) naming properties
    props = {"vendor-name": 121, "model-name": 70, "firmware-revision": 44, "application-software-version": 12,
             "object-name": 77}
    ident = _ident_by_mac(name)
    seen = 0
    for key, pid in props.items():
        rows = _tshark(name, "bacapp.type == 3 && bacapp.confirmed_service == 12 && bacapp.objectType == 8 && "
                             "bacapp.property_identifier == %d" % pid, "frame.number", "eth.src", "bacnet.snet",
                       "bacnet.sadr_mstp", "bacapp.instance_number")
        for num, src, snet, mstp, _inst in rows[:1]:
            text = _tshark_text(name, "frame.number == %s" % num)
            value = re.search(r"(?:%s: (?:UTF-8|ISO 10646 UCS-2|ISO 8859-1) '([^']*)'|Object Name: (.*))" % key, text)
            assert value, text
            want = (value.group(1) or value.group(2) or "").strip()
            pre = "bacnet-net-%s-addr-%s-" % (snet, mstp) if snet else "bacnet-"
            assert ident[src].get(pre + key) == (want or None)  # an empty string is no fact
            seen += 1
    assert seen == len(props)
    for num, src, snet, mstp in _tshark(name, "bacapp.type == 3 && bacapp.confirmed_service == 12 && "
                                              "bacapp.property_identifier == 120 && bacapp.objectType == 8",
                                        "frame.number", "eth.src", "bacnet.snet", "bacnet.sadr_mstp"):
        pre = "bacnet-net-%s-addr-%s-" % (snet, mstp) if snet else "bacnet-"
        vendor = re.findall(r"vendor-identifier: \(Unsigned\) (\d+)", _tshark_text(name, "frame.number == %s" % num))
        assert vendor and ident[src][pre + "vendor-id"] == vendor[0]
    # the wildcard instance 4194303 a client may ask about is not the device's: its object-identifier is
    for num, src, snet, mstp, inst in _tshark(name, "bacapp.type == 3 && bacapp.confirmed_service == 12 && "
                                                    "bacapp.objectType == 8", "frame.number", "eth.src",
                                              "bacnet.snet", "bacnet.sadr_mstp", "bacapp.instance_number")[:1]:
        pre = "bacnet-net-%s-addr-%s-" % (snet, mstp) if snet else "bacnet-"
        real = re.findall(r"ObjectIdentifier: device, (\d+)", _tshark_text(name, "frame.number == %s" % num))
        if inst.split("|")[0] == "4194303" and len(real) > 1:  # asked with the wildcard, answered with its id
            assert ident[src][pre + "device-instance"] == real[1]


@needs_tshark
def test_bacnet_writes_and_control_match_tshark():
    name = "bacnet_ip_llc_services_iam_writes.pcap"
    names = {"15": "WriteProperty", "16": "WritePropertyMultiple", "7": "AtomicWriteFile",
             "17": "DeviceCommunicationControl", "20": "ReinitializeDevice"}
    rows = _tshark(name, "bacapp.type == 0", "ip.src", "ip.dst", "bacapp.confirmed_service")
    want = collections.Counter((names[s], a, b) for a, b, s in rows if s in names)
    assert len(want) == 4
    got: collections.Counter[Tuple[str, ...]] = collections.Counter()
    for f in _findings(name):
        m = re.match(r"BACnet (\w+) from (\S+) to (\S+)$", f.evidence[0])
        if m:
            got[m.groups()] = int(f.evidence[2].split()[1])
    assert got == want
    sev = {f.evidence[0].split()[1]: f.severity.value for f in _findings(name) if f.evidence[0].startswith("BACnet")}
    assert sev == {"WriteProperty": "medium", "AtomicWriteFile": "high", "DeviceCommunicationControl": "high",
                   "ReinitializeDevice": "high"}


@needs_tshark
def test_bacnet_read_property_multiple_identity_matches_tshark():
    # ReadPropertyMultiple "all" of a device behind a BACnet router (NPDU SNET/SADR), answered twice
    name = "bacnet_rpm_device_lithonia_behind_router.pcap"
    rows = _tshark(name, "bacapp.type == 3 && bacapp.confirmed_service == 14", "ip.src", "bacnet.snet",
                   "bacnet.sadr_mstp")
    assert len(rows) == 2 and len({tuple(r) for r in rows}) == 1
    router, snet, sadr = rows[0]
    text = _tshark_text(name, "bacapp.type == 3 && bacapp.confirmed_service == 14")
    device = text.split("ObjectIdentifier: analog-input")[0]  # the device object's results come first
    want = {"device-instance": re.search(r"ObjectIdentifier: device, (\d+)", device).group(1),
            "object-name": re.search(r"Object Name: (.+)", device).group(1),
            "vendor-id": re.search(r"vendor-identifier: \(Unsigned\) (\d+)", device).group(1)}
    for prop in ("vendor-name", "model-name", "firmware-revision", "application-software-version"):
        want[prop] = re.search(r"%s: UTF-8 '(.*)'" % prop, device).group(1)
    pre = "bacnet-net-%s-addr-%s-" % (snet, sadr)
    got = {k[len(pre):]: v for k, v in _ident_by_ip(name)[router].items() if k.startswith(pre)}
    assert got == want
    assert want["model-name"] == "SYSC MLX"  # read by eye in tshark's tree
    assert _protocol_packets(name)["bacapp"] == _truth(name)["protocols"]["bacapp"]


def test_bacnet_read_property_multiple_cut_anywhere_is_contained():
    # the real answer of the capture above, cut after every byte and with its tags garbled
    with open(FIX / "bacnet_rpm_device_lithonia_behind_router.pcap", "rb") as f, CaptureFile(f) as cf:
        frame = list(cf)[1][2]
    an = Analyzer()
    for cut in range(len(frame) + 1):
        an.feed(1.0, frame[:cut])
    garbled = bytearray(frame)
    for k in range(60, len(frame), 7):  # tag octets and lengths inside the APDU
        garbled[k] ^= 0x0E
        an.feed(1.0, bytes(garbled))
    assert not an.dissector_errors, an.dissector_errors
    assert an.malformed.get("bacnet", 0) > 0


def test_bacnet_cut_i_am_is_contained():
    # Hand-made malformed input: an I-Am cut after its object identifier.
    an = Analyzer()
    npdu = b"\x01\x00" + b"\x10\x00" + b"\xc4\x02\x00\x00"
    bvlc = b"\x81\x0b" + struct.pack(">H", 4 + len(npdu)) + npdu
    udp = struct.pack(">HHHH", 47808, 47808, 8 + len(bvlc), 0) + bvlc
    iph = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([10, 0, 0, 1]),
                      bytes([10, 0, 0, 255]))
    an.feed(1.0, b"\xff" * 6 + b"\x04" * 6 + b"\x08\x00" + iph + udp)
    assert an.dissector_errors == {} and an.malformed == {"bacnet": 1} and an.undecodable == 0
    assert an.ip_ident.get(bytes([10, 0, 0, 1]), {}) == {}


# ---------------------------------------------------------------------------------------- PROFINET DCP

@needs_tshark
@pytest.mark.parametrize("name", ["profinet_dcp_change_ip.pcap", "profinet_dcp_identify_set_name_s7_300.pcap",
                                  "profinet_dcp_identify_requests_siemens.pcap",
                                  "plant_mixed_modbus_s7comm_enip_profinet_lldp.pcap"])
def test_profinet_dcp_identity_matches_tshark(name):
    ident = _ident_by_mac(name)
    responses = _tshark(name, "pn_dcp.service_type == 1 && pn_dcp.service_id == 5", "eth.src",
                        "pn_dcp.suboption_device_nameofstation", "pn_dcp.suboption_device_devicevendorvalue",
                        "pn_dcp.suboption_vendor_id", "pn_dcp.suboption_device_id", "pn_dcp.suboption_device_role")
    roles = {1: "IO-Device", 2: "IO-Controller", 4: "IO-Multidevice", 8: "PN-Supervisor"}
    for src, station, typ, vendor, device, role in responses:
        got = ident[src]
        assert got["profinet-name-of-station"] == station.strip()
        assert got["profinet-type-of-station"] == typ
        assert got["profinet-vendor-id"] == vendor and got["profinet-device-id"] == device
        assert got["profinet-device-role"] == ", ".join(n for bit, n in roles.items() if int(role, 16) & bit)
    requests = _tshark(name, "pn_dcp.service_type == 0 && pn_dcp.service_id == 5 && "
                             "pn_dcp.suboption_device_nameofstation", "eth.src",
                       "pn_dcp.suboption_device_nameofstation")
    for src, _station in requests:
        assert ident[src]["profinet-identify-request-name"] in {s for m, s in requests if m == src}
        # the name a station searched for is not claimed as its own name
        assert "profinet-name-of-station" not in ident[src] or (src, ) in {(r[0],) for r in responses}
    assert responses or requests


@needs_tshark
def test_profinet_dcp_set_evidence_says_what_was_set():
    name = "profinet_dcp_change_ip.pcap"
    (dst, ip, mask, gw), = _tshark(name, "pn_dcp.service_id == 4 && pn_dcp.service_type == 0", "eth.dst",
                                   "pn_dcp.suboption_ip_ip", "pn_dcp.suboption_ip_subnetmask",
                                   "pn_dcp.suboption_ip_standard_gateway")
    ev = [f.evidence[0] for f in _findings(name)]
    assert ev == ["PROFINET DCP Set request to %s (IP %s mask %s gateway %s)" % (dst, ip, mask, gw)]
    name = "profinet_dcp_identify_set_name_s7_300.pcap"
    (dst, station), = _tshark(name, "pn_dcp.service_id == 4 && pn_dcp.service_type == 0", "eth.dst",
                              "pn_dcp.suboption_device_nameofstation")
    ev = [f.evidence[0] for f in _findings(name)]
    assert len(ev) == 1 and ev[0].startswith("PROFINET DCP Set request to %s (NameOfStation %r" % (dst, station.strip()))


# ---------------------------------------------------------------------------------------- SNMP

@needs_tshark
@pytest.mark.parametrize("name", ["snmp_v1_get_sysname_printer.pcap", "snmp_v2c_walk_system_group.pcap"])
def test_snmp_system_group_matches_tshark(name):
    keys = {"1.3.6.1.2.1.1.1.0": "snmp-sysdescr", "1.3.6.1.2.1.1.2.0": "snmp-sysobjectid",
            "1.3.6.1.2.1.1.5.0": "snmp-sysname", "1.3.6.1.2.1.1.6.0": "snmp-syslocation"}
    want: Dict[str, Dict[str, str]] = collections.defaultdict(dict)
    for src, names, octets, oids in _tshark(name, "snmp.get_response_element", "ip.src", "snmp.name",
                                            "snmp.value.octets", "snmp.value.oid"):
        # values of one packet in order: the octet strings and OIDs of the varbinds named
        octs, ois = iter(octets.split("|") if octets else []), iter(oids.split("|") if oids else [])
        for n in names.split("|"):
            key = keys.get(n)
            if key == "snmp-sysobjectid":
                want[src].setdefault(key, next(ois))
            elif key:
                want[src].setdefault(key, bytes.fromhex(next(octs)).decode())
            elif n.startswith("1.3.6.1.4.1.253.8.64.4.2.1.7.10"):
                next(octs)  # the printer's private octet strings, not identity
    assert want
    ident = _ident_by_ip(name)
    for src, facts in want.items():
        assert {k: ident[src].get(k) for k in facts} == facts


# ---------------------------------------------------------------------------------------- OPC UA

@needs_tshark
def test_opcua_endpoints_and_application_match_tshark():
    name = "opcua_nonstandard_port_12001.pcap"
    ident = _ident_by_ip(name)
    (server, hello_url), = {tuple(r) for r in _tshark(name, "opcua.transport.type == \"HEL\"", "ip.dst",
                                                      "opcua.transport.endpoint")}
    assert ident[server]["opcua-hello-endpoint-url"] == hello_url
    src, urls, app_uris, names = _tshark(name, "opcua.servicenodeid.numeric == 431", "ip.src", "opcua.EndpointUrl",
                                         "opcua.ApplicationUri", "opcua.loctext.Text")[0]
    assert src == server
    assert ident[server]["opcua-endpoint-url"] == urls.split("|")[0]
    assert ident[server]["opcua-application-uri"] == app_uris.split("|")[0]
    assert ident[server]["opcua-application-name"] == names.split("|")[0]
    client, app_uri, product = _tshark(name, "opcua.servicenodeid.numeric == 461", "ip.src", "opcua.ApplicationUri",
                                       "opcua.ProductUri")[0]
    assert ident[client]["opcua-application-uri"] == app_uri
    assert ident[client]["opcua-product-uri"] == product
    assert ident[client]["opcua-application-type"] == "Client"


# ---------------------------------------------------------------------------------------- IEC 104, GOOSE

@needs_tshark
def test_iec104_common_addresses_match_tshark():
    name = "iec104_diverse.pcap"
    want: Dict[str, List[str]] = collections.defaultdict(list)
    for src, dst, sport, addrs in _tshark(name, "iec60870_asdu && tcp.port == 2404", "ip.src", "ip.dst",
                                          "tcp.srcport", "iec60870_asdu.addr"):
        station = src if sport == "2404" else dst
        for a in addrs.split("|"):
            if a not in want[station]:
                want[station].append(a)
    assert want
    ident = _ident_by_ip(name)
    for station, found in want.items():
        assert ident[station]["iec104-common-address"] == ", ".join(found)


@needs_tshark
@pytest.mark.parametrize("name", ["iec61850_mms_goose_nbns_snmp_stp.pcap", "goose_ge_f650_gocb.pcap"])
def test_goose_control_blocks_match_tshark(name):
    want: Dict[str, Dict[str, List[str]]] = collections.defaultdict(lambda: collections.defaultdict(list))
    for src, *vals in _tshark(name, "goose", "eth.src", "goose.gocbRef", "goose.datSet", "goose.goID"):
        for key, v in zip(("goose-gocbref", "goose-datset", "goose-goid"), vals):
            if v not in want[src][key]:
                want[src][key].append(v)
    assert want
    ident = _ident_by_mac(name)
    for src, facts in want.items():
        for key, values in facts.items():
            assert ident[src][key] == ", ".join(values)


def test_goose_cut_pdu_is_contained():
    # Hand-made malformed input: a goosePdu whose gocbRef length runs past the frame.
    an = Analyzer()
    frame = b"\x01\x0c\xcd\x01\x00\x01" + b"\x00\x01\x02\x03\x04\x05" + b"\x88\xb8" + b"\x00\x01\x00\x20\x00\x00\x00\x00"
    frame += b"\x61\x30\x80\x40AA1"
    an.feed(1.0, frame)
    assert an.dissector_errors == {} and an.malformed == {"goose": 1} and an.undecodable == 0
    h = an.hosts[b"\x00\x01\x02\x03\x04\x05"]
    assert "goose-gocbref" not in h.ident
