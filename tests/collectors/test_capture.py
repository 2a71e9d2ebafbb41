"""capture collector, file mode: every shared real capture against its tshark 4.0.17 oracle.

Fixtures: tests/fixtures/capture/ (see SOURCES.md there). Each test runs the
collector through cbom.runner.run_one exactly as `cbom scan --only capture
--pcap FILE` does, then compares hosts, protocol counts and conversations
with the `.truth.json` written by tshark.
"""
from __future__ import annotations

import collections
import ipaddress
import json
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from cbom import cyclonedx, validate
from cbom.collector import ScanContext
from cbom.model import Category, Component, Finding, Gap, Status
from cbom.runner import run_one, scan
from collectors.capture import CaptureCollector
from collectors.capture._engine import Analyzer
from collectors.capture._live import REMEDY, has_cap_net_raw
from collectors.capture._oui import vendor
from collectors.capture._pcap import CaptureFile, PcapError, PcapWriter

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "capture"
CAPTURES = sorted(p.name for p in FIX.iterdir() if p.suffix in (".pcap", ".pcapng"))
# Names from the list (strict 1 %) and the lower layers we also recognise.
LISTED = set("arp lldp cdp dhcp dns mdns nbns ssdp http tls ssh smb smb2 mbtcp modbus s7comm cotp enip cip dnp3 "
             "bacnet bvlc iec60870_104 opcua pn_dcp pn_rt ntp snmp ftp telnet omron ams ptp hart_ip kip mms "
             "cippccc".split())
ALSO = set("eth vlan ip ipv6 icmp icmpv6 igmp tcp udp llc stp llmnr nbdgm browser bacapp iec60870_asdu goose ses pres acse "
           "synphasor dhcpv6 tpkt nbss".split())


def _run(*files: str):
    ctx = ScanContext(options={"pcap": [str(FIX / f) for f in files]})
    run, items = run_one(CaptureCollector, ctx)
    return run, items


_cache: dict = {}


def _items(name: str):
    if name not in _cache:
        _cache[name] = _run(name)
    return _cache[name]


def _truth(name: str) -> dict:
    return json.loads((FIX / (name.rsplit(".", 1)[0] + ".truth.json")).read_text())


def _comps(items, cat):
    return [i for i in items if isinstance(i, Component) and i.category == cat]


def _parse_ep(s: str):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


@pytest.mark.parametrize("name", CAPTURES)
def test_hosts_match_tshark(name):
    run, items = _items(name)
    assert run.status == Status.OK, run.reason
    truth = _truth(name)
    unspecified = {"0.0.0.0", "::"}
    want = {(h["mac"], h["ip"]) for h in truth["hosts"] if h["ip"] and h["ip"] not in unspecified}
    want |= {(a["mac"], a["ip"]) for a in truth["arp_bindings"] if a["ip"] not in unspecified}
    got = set()
    macs = set()
    for c in _comps(items, Category.OBSERVED_HOST):
        mac = c.prop("cdx:device:macAddress")
        macs.add(mac)
        got |= {(mac, ip) for ip in c.props("cbom:net:ip")}
    assert got == want
    assert macs == {m["mac"] for m in truth["macs"]}


@pytest.mark.parametrize("name", CAPTURES)
def test_protocols_match_tshark(name):
    _, items = _items(name)
    truth = _truth(name)["protocols"]
    got = {c.name: int(c.prop("cbom:net:packets")) for c in _comps(items, Category.OBSERVED_PROTOCOL)}
    for proto in sorted(LISTED | ALSO):
        t, g = truth.get(proto, 0), got.get(proto, 0)
        assert (t > 0) == (g > 0), (proto, t, g)
        # Listed protocols: within 1 %. Lower layers: 1 % or one frame (TCP keep-alive corner cases).
        slack = 0.01 * t if proto in LISTED else max(1, 0.01 * t)
        assert abs(t - g) <= slack, (proto, t, g)


@pytest.mark.parametrize("name", CAPTURES)
def test_conversations_match_tshark(name):
    _, items = _items(name)
    truth = _truth(name)["conversations"]
    want = collections.Counter()
    for l4 in ("tcp", "udp"):
        for c in truth[l4]:
            # tshark 4.0 may split one UDP endpoint pair in two rows (SNMP); compare by pair
            want[(l4,) + tuple(sorted([(c["addr_a"], c["port_a"]), (c["addr_b"], c["port_b"])]))] += c["frames"]
    got = collections.Counter()
    for c in _comps(items, Category.OBSERVED_PROTOCOL):
        for conv in c.conversations:
            if conv.transport:
                got[(conv.transport,) + tuple(sorted([_parse_ep(conv.src), _parse_ep(conv.dst)]))] += conv.packets
    assert got == want


def test_every_capture_together_validates_and_is_small():
    ctx = ScanContext(options={"pcap": [str(FIX / f) for f in CAPTURES]})
    s = scan([CaptureCollector], ctx, host_name="auditor")
    doc = cyclonedx.to_dict(s)
    assert validate.errors(doc) == []
    assert len(json.dumps(doc)) < 2_000_000
    facts = dict(s.host.properties)
    assert facts["cbom:capture:packets"] == str(sum(_truth(n)["packets"] for n in CAPTURES))
    assert facts["cbom:capture:undecodable"] == "0"
    assert "ieee-data 20220827.1" in facts["cbom:capture:oui-database"]
    # round trip through the reader keeps the observed components
    back = cyclonedx.from_dict(doc)
    assert {c.ref for c in back.components} == {c.ref for c in s.components}


def _host(items, mac):
    return next(c for c in _comps(items, Category.OBSERVED_HOST) if c.prop("cdx:device:macAddress") == mac)


def _public_by_mac(name: str) -> tuple:
    """From tshark's truth of a capture: the globally routable addresses a station sent from with a MAC
    of its own (at most 3 addresses on that MAC), and those behind a MAC carrying more (a router)."""
    per_mac: dict = collections.defaultdict(set)
    for h in _truth(name)["hosts"]:
        if h["ip"]:
            per_mac[h["mac"]].add(h["ip"])
    own, routed = set(), set()
    for ips in per_mac.values():
        public = {ip for ip in ips if ipaddress.ip_address(ip).is_global and not ipaddress.ip_address(ip).is_multicast}
        (own if len(ips) <= 3 else routed).update(public)
    return own, routed


def _public_findings(name: str) -> dict:
    _, items = _items(name)
    out = {}
    for f in items:
        if isinstance(f, Finding) and f.id in ("CBOM-NET-INTERNET-TRAFFIC", "CBOM-NET-PUBLIC-RANGE-LAN"):
            out[f.id] = {e.split()[0] for e in f.evidence if not e.startswith("…")}
    return out


def test_a_plant_lan_in_a_public_range_is_not_internet_traffic():
    """The plant capture's stations are numbered 141.81.0.0/24 (globally routable) and each sends with
    its own MAC (tshark): one low finding saying so, no "internet traffic". The office capture reaches
    Google and others through its router's MAC: that stays internet traffic."""
    own, routed = _public_by_mac("plant_mixed_modbus_s7comm_enip_profinet_lldp.pcap")
    found = _public_findings("plant_mixed_modbus_s7comm_enip_profinet_lldp.pcap")
    assert own and not routed and "CBOM-NET-INTERNET-TRAFFIC" not in found
    assert found["CBOM-NET-PUBLIC-RANGE-LAN"] <= own and len(found["CBOM-NET-PUBLIC-RANGE-LAN"]) == 20  # first 20 listed
    own, routed = _public_by_mac("lan_services_dns_mdns_ssh_http_ntp.pcap")
    found = _public_findings("lan_services_dns_mdns_ssh_http_ntp.pcap")
    assert routed and found["CBOM-NET-INTERNET-TRAFFIC"] == routed and "CBOM-NET-PUBLIC-RANGE-LAN" not in found


def test_s7_module_identity_from_szl_reads():
    """SZL 0x0011 and 0x001C read responses name the CPU: the values tshark 4.0.17 shows for
    them (`tshark -V`, s7comm.szl.xy11.0001.mlfb, s7comm.szl.001c.000x). Before, the first record's
    index (00 01) ended the text at its NUL and nothing was read."""
    _, items = _items("s7comm_reading_plc_status.pcap")
    plc = [c for c in _comps(items, Category.OBSERVED_HOST) if c.prop("cbom:net:identity:s7-order-number")]
    assert len(plc) == 1
    ident = {k.rsplit(":", 1)[1]: v for k, v in plc[0].properties if k.startswith("cbom:net:identity:s7-")}
    assert ident == {
        "s7-order-number": "6ES7 151-8AB01-0AB0",  # MlfB of index 0x0001
        "s7-firmware-version": "V3.2.6",  # index 0x0007: Ausbg 0x5603 ("V", 3), Ausbe 0x0206
        "s7-station-name": "IM151-8-CPU",
        "s7-module-name": "IM151-8 PN/DP CPU",
        "s7-serial-number": "S C-C6TW74882012",
        "s7-module-type": "IM151-8 PN/DP CPU",
    }


def test_szl_records_cut_short_or_hostile():
    from collectors.capture.protocols.s7comm import szl_identity

    head = bytes([0xFF, 0x09, 0x00, 0x00])
    record = b"\x00\x01" + b"6ES7 000-0AA00-0AA0 " + b"\x00\xc0\x00\x01\x00\x00"
    assert szl_identity(head + struct.pack(">HHHH", 0x0011, 0, 28, 1) + record) == [
        ("s7-order-number", "6ES7 000-0AA00-0AA0")]
    assert szl_identity(head + struct.pack(">HHHH", 0x0011, 0, 28, 9999) + record[:10]) == []  # cut short
    assert szl_identity(head + struct.pack(">HHHH", 0x0011, 0, 0, 65535) + record) == []  # size 0: no loop
    assert szl_identity(head + struct.pack(">HHHH", 0x0074, 0, 28, 1) + record) == []  # another list


def test_identity_and_names_learned_passively():
    _, items = _items("lldp_announcement.pcap")
    h = _host(items, "00:22:2d:81:db:10")
    assert h.name == "SMCGS8P-Smart"
    assert h.prop("cbom:net:identity:lldp-system-description") == "SMCGS8P-Smart - SMCGS8P-Smart v3.20"
    assert h.prop("cbom:net:identity:lldp-management-address") == "192.168.2.10"

    _, items = _items("cdp_v1_announcement.pcap")
    h = _host(items, "00:e0:1e:d5:d5:15")
    assert h.props("cbom:net:hostname") == ("R1",)
    assert h.prop("cbom:net:identity:cdp-platform") == "cisco 1601"
    assert h.prop("cbom:net:vendor") == "Cisco Systems, Inc"

    _, items = _items("dhcp_discover_offer_request_ack.pcap")
    assert "btest.is.cool" in _host(items, "90:b1:1c:99:49:29").props("cbom:net:hostname")

    _, items = _items("profinet_dcp_change_ip.pcap")
    h = _host(items, "08:00:06:93:cf:32")
    assert h.name == "X208-BORD"
    assert h.prop("cbom:net:identity:profinet-vendor-id") == "0x002a"
    assert h.prop("cbom:net:identity:profinet-device-id") == "0x0a01"
    assert h.prop("cbom:net:identity:profinet-ip") == "192.168.0.6"

    _, items = _items("plant_mixed_modbus_s7comm_enip_profinet_lldp.pcap")
    h = _host(items, "00:1b:1b:02:e6:1f")
    assert h.name == "Switch1"
    assert h.description == "Siemens, SIMATIC NET, SCALANCE X212-2, 6GK5 212-2BB00-2AA3, HW: 7, FW: V4.02"
    assert "tcp/502" in _host(items, "00:04:17:02:23:88").props("cbom:net:serves")
    mb = next(c for c in _comps(items, Category.OBSERVED_PROTOCOL) if c.name == "mbtcp")
    assert "modbus://141.81.0.26:502" in mb.props("cbom:net:endpoint")

    _, items = _items("lan_services_dns_mdns_ssh_http_ntp.pcap")
    names = {n for c in _comps(items, Category.OBSERVED_HOST) for n in c.props("cbom:net:hostname")}
    assert "tangent.local" in names  # mDNS PTR answer for 172.16.238.1
    banners = {v for c in _comps(items, Category.OBSERVED_HOST) for v in c.props("cbom:net:identity:ssh-banner")}
    truth = {b["banner"] for b in _truth("lan_services_dns_mdns_ssh_http_ntp.pcap")["hostnames"]["ssh_banner"]}
    assert banners == truth


def _findings(name):
    return [i for i in _items(name)[1] if isinstance(i, Finding)]


def test_findings():
    f = _findings("lan_services_dns_mdns_ssh_http_ntp.pcap")
    assert any(x.id == "CBOM-NET-CLEARTEXT-CREDENTIALS" and "FTP password" in x.title for x in f)
    f = _findings("iec61850_mms_goose_nbns_snmp_stp.pcap")
    ids = {x.id for x in f}
    assert {"CBOM-NET-CLEARTEXT-CREDENTIALS", "CBOM-NET-SMB1", "CBOM-NET-EOL-OS"} <= ids
    eol = next(x for x in f if x.id == "CBOM-NET-EOL-OS")
    assert "'Windows 5.0' in SMB NativeOS" in eol.evidence[0] and eol.refs
    f = _findings("plant_mixed_modbus_s7comm_enip_profinet_lldp.pcap")
    assert any("S7comm Write Var from 141.81.0.10 to 141.81.0.146" == x.evidence[0] for x in f)
    assert any("Modbus Write Multiple Coils (function 15)" in x.evidence[0] for x in f)
    f = _findings("enip_cip_change_date_attempt_stp_lldp.pcap")
    assert [x.evidence[0] for x in f if x.id == "CBOM-NET-ICS-WRITE"] == [
        "CIP Set_Attribute_List (service 0x04) from 192.168.10.105 to 192.168.10.120"]
    f = _findings("profinet_dcp_change_ip.pcap")
    assert [x.evidence[0] for x in f] == [
        "PROFINET DCP Set request to 08:00:06:93:cf:32 (IP 192.168.0.10 mask 255.255.255.0 gateway 192.168.0.1)"]
    f = _findings("modbus_tcp_test_data_part2.pcap")
    # one public server, one MAC, no ARP: it may be a router's MAC relaying it, so it stays "internet"
    internet = next(x for x in f if x.id == "CBOM-NET-INTERNET-TRAFFIC")
    assert internet.evidence[0].startswith("166.161.16.230 packets ")
    # nothing alarming in a plain TLS handshake
    assert all(x.id in ("CBOM-NET-INTERNET-TRAFFIC", "CBOM-NET-PUBLIC-RANGE-LAN")
               for x in _findings("tls12_handshake.pcap"))


def test_arp_conflict_finding():
    an = Analyzer()

    def arp(mac, ip):
        eth = b"\xff" * 6 + mac + b"\x08\x06"
        return eth + struct.pack(">HHBBH", 1, 0x0800, 6, 4, 2) + mac + ip + b"\0" * 6 + bytes([192, 0, 2, 99])

    an.feed(1.0, arp(b"\x02\0\0\0\0\1", bytes([192, 0, 2, 1])))
    an.feed(2.0, arp(b"\x02\0\0\0\0\2", bytes([192, 0, 2, 1])))
    from collectors.capture._model import items_from

    f = [i for i in items_from(an, "t") if isinstance(i, Finding)]
    assert [x.id for x in f] == ["CBOM-NET-ARP-CONFLICT"]
    assert f[0].title == "IP address 192.0.2.1 claimed by 2 MAC addresses"


def test_fuzzed_frames_never_raise_and_are_all_counted():
    rng = random.Random(20251123)
    frames = []
    for name in CAPTURES:
        with open(FIX / name, "rb") as fh, CaptureFile(fh) as cf:
            frames += [(lt, fr) for _ts, lt, fr, _wl in cf][:400]
    an = Analyzer()
    fed = 0
    for i in range(6000):
        lt, fr = frames[rng.randrange(len(frames))]
        b = bytearray(fr)
        op = rng.randrange(4)
        if op == 0 and b:
            del b[rng.randrange(len(b)):]  # truncate
        elif op == 1:
            for _ in range(rng.randrange(1, 8)):
                if b:
                    b[rng.randrange(len(b))] = rng.randrange(256)  # flip bytes
        elif op == 2 and len(b) > 14:
            pos = rng.randrange(14, len(b))
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
        else:
            b = bytearray(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
        an.feed(float(i), bytes(b), 0, lt)
        fed += 1
    assert an.frames == fed
    assert sum(n for n, _ in an.stacks.values()) == fed
    assert an.undecodable > 0


def test_truncated_and_garbled_files_become_gaps(tmp_path):
    data = (FIX / "modbus_tcp_test_data_part2.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) // 2])
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"this is not a capture")
    run, items = run_one(CaptureCollector, ScanContext(options={"pcap": [str(cut), str(junk), str(tmp_path / "none")]}))
    assert run.status == Status.PARTIAL
    gaps = [i.reason for i in items if isinstance(i, Gap)]
    assert any("last record truncated" in g for g in gaps)
    assert any("not a pcap or pcapng file" in g for g in gaps)
    assert any("cannot read" in g for g in gaps)
    assert any(isinstance(i, Component) for i in items)  # the readable half is analysed


def test_pcap_writer_round_trip(tmp_path):
    src = []
    with open(FIX / "beckhoff_ads_addroute_lldp_nbns_llmnr.pcapng", "rb") as fh, CaptureFile(fh) as cf:
        assert cf.format == "pcapng"
        src = list(cf)
    out = tmp_path / "out.pcap"
    with open(out, "wb") as fh:
        w = PcapWriter(fh, linktype=1)
        for ts, _lt, fr, wl in src:
            w.write(ts, fr, wl)
    with open(out, "rb") as fh, CaptureFile(fh) as cf:
        back = list(cf)
    assert [(lt, fr, wl) for _t, lt, fr, wl in back] == [(lt, fr, wl) for _t, lt, fr, wl in src]
    assert all(abs(a[0] - b[0]) < 1e-5 for a, b in zip(back, src))
    with pytest.raises(PcapError):
        CaptureFile(open(FIX / "SOURCES.md", "rb"))


def test_oui_lookup():
    assert vendor("00:0c:29:6b:2d:28") == "VMware, Inc."
    assert vendor("00:1b:1b:02:e6:1f") == "Siemens AG"
    assert vendor("02:00:00:00:00:01") == ""  # locally administered


def test_privilege_and_off_switch():
    assert CaptureCollector.unavailable(ScanContext(options={"capture_seconds": 0})).startswith("live capture off")
    assert CaptureCollector.unavailable(ScanContext(options={"capture_seconds": 0, "pcap": ["x"]})) == ""
    assert CaptureCollector.unavailable(ScanContext(root=Path("/tmp"), options={})).startswith(
        "live capture only on the running system")
    assert "setcap cap_net_raw,cap_net_admin=eip" in REMEDY
    assert has_cap_net_raw("Name:\tx\nCapEff:\t0000000000002000\n")
    assert not has_cap_net_raw("Name:\tx\nCapEff:\t0000000000000000\n")


@pytest.mark.slow
def test_cli_scan_writes_the_capture(tmp_path):
    f = FIX / "modbus_tcp_test_data_part2.pcap"
    proc = subprocess.run([sys.executable, "-m", "cbom", "scan", "--only", "capture", "--pcap", str(f),
                           "-o", str(tmp_path / "out"), "--format", "json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "out" / "cbom.cdx.json").read_text())
    assert validate.errors(doc) == []
    hosts = [c for c in doc["components"] if {"name": "cbom:category", "value": "observed-host"} in c["properties"]]
    assert {p["value"] for c in hosts for p in c["properties"] if p["name"] == "cbom:net:ip"} == {
        "192.168.66.235", "166.161.16.230"}
    protos = {c["name"]: c for c in doc["components"]
              if {"name": "cbom:category", "value": "observed-protocol"} in c["properties"]}
    assert {"name": "cbom:net:packets", "value": "281"} in protos["modbus"]["properties"]
