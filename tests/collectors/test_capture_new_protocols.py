"""capture collector: the issue-14 protocols (OMRON FINS, Beckhoff ADS/AMS, PTP, HART-IP, KNXnet/IP).

Real public captures in tests/fixtures/capture (see SOURCES.md there; `generated/` and `knxip/`
hold the two that cannot join the shared per-capture tests). Packet counts come from the tshark
4.0.17 oracles (`*.truth.json`); identities and operations were read with tshark (`-O omron`,
`-O hart_ip`, `-T fields -e ptp.v2.an.grandmasterclockidentity …`, quoted beside each value) or, for
the TwinCAT system service tshark shows as data, from the datagram bytes by eye.
"""
from __future__ import annotations

import json
import random
import struct
from pathlib import Path

import pytest

from cbom.collector import ScanContext
from cbom.model import Category, Component, Finding, Severity, Status
from cbom.runner import run_one
from collectors.capture import CaptureCollector
from collectors.capture._engine import Analyzer
from collectors.capture._pcap import CaptureFile
from collectors.capture.protocols.hartip import packed_ascii
from collectors.capture.protocols.knxip import individual_address

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "capture"
CAPTURES = [
    "omron_fins_tcp_udp_controller_data_read.pcap",
    "generated/omron_fins_every_command_generated.pcap",
    "hart_ip_tcp_udp_wihart_gateway.pcap",
    "beckhoff_ads_addroute_lldp_nbns_llmnr.pcapng",
    "ams_ads_readwrite_symbol_reads.pcapng",
    "ptp_v2_ethernet_announce_two_grandmasters.pcap",
    "ptp_v2_udp_ipv4_sync_announce.pcap",
    "ptp_v2_udp_ipv6_signalling.pcap",
    "knxip/knxip_search_tunnelling_feature.pcapng",
]
NEW = ("omron", "ams", "ptp", "hart_ip", "kip")

_cache: dict = {}


def _items(name: str):
    if name not in _cache:
        run, items = run_one(CaptureCollector, ScanContext(options={"pcap": [str(FIX / name)]}))
        assert run.status == Status.OK, run.reason
        _cache[name] = items
    return _cache[name]


def _truth(name: str) -> dict:
    return json.loads((FIX / (name.rsplit(".", 1)[0] + ".truth.json")).read_text())


def _host(name: str, ip: str = "", mac: str = "") -> Component:
    for c in _items(name):
        if isinstance(c, Component) and c.category == Category.OBSERVED_HOST:
            if (ip and ip in c.props("cbom:net:ip")) or (mac and c.prop("cdx:device:macAddress") == mac):
                return c
    raise AssertionError("no host %s%s in %s" % (ip, mac, name))


def _ident(host: Component) -> dict:
    p = "cbom:net:identity:"
    return {k[len(p):]: v for k, v in host.properties if k.startswith(p)}


def _writes(name: str) -> list:
    return [f for f in _items(name) if isinstance(f, Finding) and f.id == "CBOM-NET-ICS-WRITE"]


@pytest.mark.parametrize("name", CAPTURES)
def test_packet_counts_equal_tshark(name):
    truth = _truth(name)["protocols"]
    got = {c.name: int(c.prop("cbom:net:packets")) for c in _items(name)
           if isinstance(c, Component) and c.category == Category.OBSERVED_PROTOCOL}
    assert any(truth.get(p) for p in NEW)
    for proto in NEW + ("data", "tcp", "udp"):
        assert got.get(proto, 0) == truth.get(proto, 0), proto


def test_omron_fins_controller_identity():
    # tshark -O omron, frames 9 (TCP) and 18 (UDP): Controller model CP1L-EL20DR-D, version 01.00
    ident = _ident(_host("omron_fins_tcp_udp_controller_data_read.pcap", ip="10.1.1.164"))
    assert ident["omron-controller-model"] == "CP1L-EL20DR-D"
    assert ident["omron-controller-version"] == "01.00"
    assert "tcp/9600" in _host("omron_fins_tcp_udp_controller_data_read.pcap", ip="10.1.1.164").props("cbom:net:serves")
    assert _writes("omron_fins_tcp_udp_controller_data_read.pcap") == []  # reads only


# tshark -Y "omron && omron.icf.dtb==0" -T fields -e omron.command | sort | uniq -c: the commands
# (ICF data type bit 0) that change a controller, with their packet counts.
FINS_CONTROL = {0x0304: 1, 0x0305: 1, 0x0307: 1, 0x0308: 1, 0x0401: 4, 0x0402: 1, 0x2204: 1, 0x220C: 1,
                0x2301: 2, 0x2302: 1}
FINS_WRITES = {0x0102: 1, 0x0103: 1, 0x0105: 1, 0x0202: 1, 0x0203: 1, 0x0221: 1, 0x0702: 2, 0x0C02: 1,
               0x2101: 3, 0x2103: 1, 0x2203: 1, 0x2205: 2, 0x2206: 2, 0x2207: 1, 0x2208: 1, 0x220A: 1,
               0x220B: 1, 0x2211: 1, 0x2601: 1, 0x2602: 1}


def test_omron_fins_writes_and_control_are_graded_findings():
    found = {}
    for f in _writes("generated/omron_fins_every_command_generated.pcap"):
        detail, first, packets = f.evidence
        code = int(detail.split("(command ")[1][:4], 16)
        assert detail.endswith("from 10.4.14.102 to 10.130.130.130")
        assert first.startswith("first packet 2009-01-27T20:44:42")
        found[code] = (f.severity, int(packets.split()[1]))
    assert found == {**{c: (Severity.HIGH, n) for c, n in FINS_CONTROL.items()},
                     **{c: (Severity.MEDIUM, n) for c, n in FINS_WRITES.items()}}
    # reads (Memory Area Read 0101, Controller Data Read 0501, …) are not findings
    assert 0x0101 not in found and 0x0501 not in found


def test_hart_ip_field_device_identity():
    # tshark -O hart_ip, command 0 response: Expanded Device Type 0x264e, HART Universal Revision 7,
    # Device Revision 4, Device Software Revision 1, Device ID 0000d2, Manufacturer ID 38;
    # command 20: long tag "wihartgw"; command 13: tag "@@@@@@@@" (packed-ASCII zeros: unset).
    name = "hart_ip_tcp_udp_wihart_gateway.pcap"
    ident = _ident(_host(name, ip="192.168.0.10"))
    assert ident["hart-device-type"] == "0x264e"
    assert ident["hart-manufacturer-id"] == "38"
    assert ident["hart-device-id"] == "0000d2"
    assert (ident["hart-universal-revision"], ident["hart-device-revision"], ident["hart-software-revision"]) \
        == ("7", "4", "1")
    assert ident["hart-long-tag"] == "wihartgw"
    assert "hart-tag" not in ident and "hart-descriptor" not in ident
    # command 12 message, as tshark prints it
    assert ident["hart-message"] == "@ABCDEFGHIJKLMNO/ !-#$%&'()*+,-."
    assert {"tcp/5094", "udp/5094"} <= set(_host(name, ip="192.168.0.10").props("cbom:net:serves"))
    assert _writes(name) == []  # commands 0, 1, 2, 3, 9, 12, 13, 20, 48: all reads


def test_packed_ascii_matches_hart_spec_examples():
    # HCF_SPEC-99 packed ASCII: 6-bit codes, 0x00-0x1F are '@'..'_', 0x20-0x3F are ' '..'?'
    assert packed_ascii(b"\x00\x00\x00") == "@@@@"
    assert packed_ascii(bytes([0b00000100, 0b00100000, 0b11000100])) == "ABCD"


def test_ads_identity_and_addroute_password():
    name = "beckhoff_ads_addroute_lldp_nbns_llmnr.pcapng"
    plc = _ident(_host(name, ip="192.168.1.8"))
    # tshark -T fields -e ams.sendernetid / ams.ads_devicename / ams.ads_versionversion,revision,build
    assert plc["ams-net-id"] == "5.13.117.96.1.1"
    assert plc["ads-device-name"] == "PLC Server"
    assert plc["ads-version"] == "2.11.2103"
    # UDP 48899 discovery response (frame 147, data to tshark): tag 5 "CX_0D7560", tag 3 02 0b b4 08,
    # tag 4 an OSVERSIONINFO with major 6, minor 0, build 0, platform 3 (Windows CE)
    assert plc["ads-hostname"] == "CX_0D7560"
    assert plc["twincat-version"] == "2.11.2228"
    assert plc["ads-os-version"] == "Windows CE 6.0 (build 0)"
    client = _ident(_host(name, ip="192.168.1.99"))
    assert client["ams-net-id"] == "192.168.1.99.1.1"
    assert client["ads-route-name"] == "SHENHUAJ6-PC"  # AddRoute (frame 192) tag 0x0C
    cred = [f for f in _items(name) if isinstance(f, Finding) and f.id == "CBOM-NET-CLEARTEXT-CREDENTIALS"]
    assert [f.evidence[0] for f in cred] == [
        "TwinCAT AddRoute from 192.168.1.99 to 192.168.1.8 with user 'Administrator' and its password in clear"]
    assert cred[0].severity == Severity.HIGH
    assert "1" not in cred[0].evidence[0].split("user")[1]  # the password itself (tag 2, "1") is never shown
    # Read Device Info, Read, Read State, Read Write and notifications only: no write finding
    assert _writes(name) == []
    assert _writes("ams_ads_readwrite_symbol_reads.pcapng") == []  # Read Write of 0xF003/0xF080 only


def test_ptp_grandmaster_identity_over_ethernet_and_udp():
    # tshark -Y ptp.v2.messagetype==11 -T fields -e eth.src -e ptp.v2.clockidentity
    #   -e ptp.v2.an.grandmasterclockidentity -e ptp.v2.an.grandmasterclockclass -e ptp.v2.timesource:
    # 74:83:ef:01:ac:5b announces itself (frames 3-15), then 0x000006ffff010000 from frame 22 on; class 248, NTP
    ident = _ident(_host("ptp_v2_ethernet_announce_two_grandmasters.pcap", mac="74:83:ef:01:ac:5b"))
    assert ident["ptp-clock-identity"] == "74:83:ef:ff:ff:01:ac:16"
    assert ident["ptp-grandmaster-identity"] == "74:83:ef:ff:ff:01:ac:16"
    assert ident["ptp-grandmaster-change"] == "74:83:ef:ff:ff:01:ac:16 -> 00:00:06:ff:ff:01:00:00"
    assert ident["ptp-grandmaster-clock-class"] == "248"
    assert ident["ptp-time-source"] == "NTP"
    slave = _ident(_host("ptp_v2_ethernet_announce_two_grandmasters.pcap", mac="00:00:06:02:00:00"))
    assert slave["ptp-clock-identity"] == "00:00:06:ff:ff:02:00:00"  # Delay_Req sender
    assert "ptp-grandmaster-identity" not in slave
    # UDP/IPv4: 11.0.0.9 Announce, grandmaster 0x000200fffe000001, time source 0xa0, class 248
    ident = _ident(_host("ptp_v2_udp_ipv4_sync_announce.pcap", ip="11.0.0.9"))
    assert ident["ptp-grandmaster-identity"] == "00:02:00:ff:fe:00:00:01"
    assert ident["ptp-time-source"] == "INTERNAL_OSCILLATOR"
    # UDP/IPv6: the Announce of clock 0x00b0aefffe01f920 names itself grandmaster (time source 0x60)
    ident = _ident(_host("ptp_v2_udp_ipv6_signalling.pcap", ip="fe80::2b0:aeff:fe01:f921"))
    assert ident["ptp-grandmaster-identity"] == "00:b0:ae:ff:fe:01:f9:20"
    assert ident["ptp-time-source"] == "HAND_SET"


def test_knxip_tunnelling_interface_address():
    # tshark -O kip, frame 3: Tunneling Feature Response/Info, IndividualAddress $1087
    ident = _ident(_host("knxip/knxip_search_tunnelling_feature.pcapng", ip="192.168.1.28"))
    assert ident["knx-tunnel-individual-address"] == "1.0.135"
    assert individual_address(0x1087) == "1.0.135"


def _frames(name: str) -> list:
    with open(FIX / name, "rb") as fh:
        return [(ts, lt, fr) for ts, lt, fr, _ in CaptureFile(fh)]


def test_cut_and_garbled_pdus_are_malformed_never_bugs():
    """Every frame of the real captures, cut at random lengths and with random bytes flipped after
    the IP header: counted, no decoder bug (dissector_errors), nothing raised."""
    rnd = random.Random(14)
    an = Analyzer()
    n = 0
    for name in CAPTURES:
        for ts, lt, fr in _frames(name):
            for _ in range(4):
                b = bytearray(fr[:rnd.randint(14, len(fr))])
                for _ in range(rnd.randint(0, 3)):
                    if len(b) > 42:
                        b[rnd.randrange(42, len(b))] = rnd.randrange(256)
                an.feed(ts, bytes(b), len(fr), lt)
                n += 1
    assert an.frames == n
    assert {k: v for k, v in an.dissector_errors.items() if k in NEW} == {}


def test_hand_made_truncated_headers():
    """Hand-made cut PDUs (the only synthetic inputs here): each is counted, none is a bug."""
    def udp(port: int, payload: bytes) -> bytes:
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), 0, 0, 64, 17, 0, b"\x0a\0\0\1", b"\x0a\0\0\2")
        return b"\0" * 6 + b"\2" * 6 + b"\x08\x00" + ip + struct.pack(">HHHH", 40000, port, 8 + len(payload), 0) + payload

    an = Analyzer()
    an.feed(0.0, udp(9600, b"\x80\x00\x02\0\0\0\0\0\0\0\x05\x01"), 0, 1)  # FINS command, no data
    an.feed(0.0, udp(9600, b"\xc0\x00\x02\0\0\0\0\0\0\0\x05\x01\0\0CP1"), 0, 1)  # response cut in the model
    an.feed(0.0, udp(5094, b"\x01\x01\x03\0\0\1\0\x0e\x86\x26"), 0, 1)  # pass-through cut in the address
    an.feed(0.0, udp(3671, b"\x06\x10\x02\x02\x00\x40\x08\x01"), 0, 1)  # search response cut in the HPAI
    an.feed(0.0, udp(320, b"\x0b\x02\x00\x40"), 0, 1)  # Announce cut in the header
    an.feed(0.0, udp(48899, b"\x03\x66\x14\x71\0\0\0\0\x01\0\0\x80\5\x0d\x75\x60\1\1\x10\x27\3\0\0\0\5\0"), 0, 1)
    eth = b"\x01\x1b\x19\0\0\0" + b"\2" * 6 + b"\x88\xf7" + b"\x0b\x02\x00\x40" + b"\0" * 30  # L2 Announce, no body
    an.feed(0.0, eth, 0, 1)
    assert an.frames == 7
    assert an.dissector_errors == {}
    assert an.protocols()["omron"][0] == 2
    assert an.protocols()["ptp"][0] == 2
    assert an.ip_ident == {}
