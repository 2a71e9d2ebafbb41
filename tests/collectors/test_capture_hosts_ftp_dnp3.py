"""Issue 14: host identity behind shared MACs, anonymous FTP graded as such, DNP3 counts and addresses.

Real captures of tests/fixtures/capture (provenance in SOURCES.md there), checked against
tshark 4.0.17: the `.truth.json` oracles written by shared/tools/pcap_truth.py, and a few
values read from tshark output, each quoted with the command that printed it.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from cbom.collector import ScanContext
from cbom.model import Category, Component, Finding, Severity, Status
from cbom.runner import run_one
from collectors.capture import CaptureCollector
from collectors.capture._engine import Analyzer
from collectors.capture._pcap import CaptureFile
from collectors.capture._records import TcpStream
from collectors.capture.protocols import dnp3

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "capture"


def _items(path: Path):
    run, items = run_one(CaptureCollector, ScanContext(options={"pcap": [str(path)]}))
    assert run.status == Status.OK, run.reason
    return items


def _truth(path: Path) -> dict:
    return json.loads(path.with_suffix(".truth.json").read_text())


def _hosts(items):
    return [i for i in items if isinstance(i, Component) and i.category == Category.OBSERVED_HOST]


def _analyse(path: Path) -> Analyzer:
    an = Analyzer()
    with open(path, "rb") as f, CaptureFile(f) as cf:
        for ts, lt, frame, wl in cf:
            an.feed(ts, frame, wl, lt)
    return an


def _ts(epoch: float) -> str:
    # the document's time format: ISO 8601 UTC, milliseconds
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ------------------------------------------------------------------ hosts behind a shared MAC

ZEROED = FIX / "modbus_cotp_zeroed_macs_three_stations.pcap"


def test_zeroed_mac_stations_are_one_host_per_ip():
    items = _items(ZEROED)
    truth = _truth(ZEROED)
    assert {m["mac"] for m in truth["macs"]} == {"00:00:00:00:00:00"}  # every frame: a zeroed source MAC
    hosts = _hosts(items)
    # one host per address tshark saw sending, each with its own packet count (truth: ip.src counts)
    assert sorted(h.props("cbom:net:ip") for h in hosts) == sorted((i["ip"],) for i in truth["ips"])
    sent = {i["ip"]: i["packets"] for i in truth["ips"]}
    assert {h.prop("cbom:net:ip"): int(h.prop("cbom:net:packets")) for h in hosts} == sent
    # `tshark -n -q -z endpoints,ip -r modbus_cotp_zeroed_macs_three_stations.pcap`, column Tx Bytes
    tx_bytes = {"10.235.149.243": 484285, "10.235.149.240": 400380, "10.235.149.95": 86015}
    assert {h.prop("cbom:net:ip"): int(h.prop("cbom:net:bytes")) for h in hosts} == tx_bytes
    assert len({h.ref for h in hosts}) == 3
    for h in hosts:
        assert h.prop("cdx:device:macAddress") == "00:00:00:00:00:00"  # what the wire carried
        assert h.prop("cbom:net:vendor") == ""  # the OUI of a zeroed MAC says nothing (no "XEROX")
        assert "XEROX" not in h.name.upper() and h.name == h.prop("cbom:net:ip")
    # the server side of each conversation lands on its own station: `tshark -q -z conv,tcp` lists
    # 10.235.149.243:502 <-> .240:49226, .95:49447 <-> .243:102 and .240:102 <-> .95:49456
    serves = {h.prop("cbom:net:ip"): h.props("cbom:net:serves") for h in hosts}
    assert serves == {"10.235.149.243": ("tcp/102", "tcp/502"), "10.235.149.240": ("tcp/102",), "10.235.149.95": ()}
    # a finding between two of them points at both hosts, not at one merged "XEROX" host
    writes = [f for f in items if isinstance(f, Finding) and f.id == "CBOM-NET-ICS-WRITE"]
    by_ip = {h.prop("cbom:net:ip"): h.ref for h in hosts}
    assert writes and all(len(f.refs) == 2 for f in writes)
    assert {r for f in writes for r in f.refs} <= set(by_ip.values())


def _router_case(name: str):
    path = FIX / name
    truth = _truth(path)
    hosts = _hosts(_items(path))
    per_mac: dict = {}
    for h in truth["hosts"]:
        if h["ip"]:
            per_mac.setdefault(h["mac"], set()).add(h["ip"])
    router = next(m for m, ips in per_mac.items() if len(ips) > 3)
    arp = {a["ip"] for a in truth["arp_bindings"] if a["mac"] == router}
    return truth, hosts, router, per_mac[router], arp


def test_router_stays_one_host_and_its_remote_addresses_are_hosts_of_their_own():
    for name in ("web_browse_dns_http_nbns_llmnr_mdns.pcap", "lan_services_dns_mdns_ssh_http_ntp.pcap"):
        truth, hosts, router, behind, arp = _router_case(name)
        assert arp, name  # the router announced its own address in ARP
        mine = [h for h in hosts if h.prop("cdx:device:macAddress") == router]
        station = [h for h in mine if not h.description.startswith("Remote address")]
        assert len(station) == 1, name
        # its own addresses only: those it announced in ARP
        assert set(station[0].props("cbom:net:ip")) == arp, name
        assert station[0].description.startswith("Router: relays %d remote addresses" % len(behind - arp))
        remote = [h for h in mine if h is not station[0]]
        assert sorted(h.prop("cbom:net:ip") for h in remote) == sorted(behind - arp), name
        sent = {i["ip"]: i["packets"] for i in truth["ips"]}
        for h in remote:
            assert h.props("cbom:net:ip") == (h.prop("cbom:net:ip"),)
            assert h.description == "Remote address: its frames come through the router with MAC %s" % router
            assert h.prop("cbom:net:vendor") == ""
            assert int(h.prop("cbom:net:packets")) == sent[h.prop("cbom:net:ip")], (name, h.prop("cbom:net:ip"))


def test_remote_hosts_carry_what_was_learnt_of_them():
    # `tshark -n -r web_browse_dns_http_nbns_llmnr_mdns.pcap -Y "http.request" -T fields -e ip.dst -e http.host`:
    # upload.wikimedia.org is asked of 208.80.152.3; the name is that remote host's, not the router's
    _truth_, hosts, router, _behind, _arp = _router_case("web_browse_dns_http_nbns_llmnr_mdns.pcap")
    by_ip = {h.prop("cbom:net:ip"): h for h in hosts if h.prop("cbom:net:ip")}
    assert "upload.wikimedia.org" in by_ip["208.80.152.3"].props("cbom:net:hostname")
    assert "tcp/80" in by_ip["208.80.152.3"].props("cbom:net:serves")
    assert by_ip["141.142.220.1"].props("cbom:net:hostname") == ()
    assert by_ip["141.142.220.1"].props("cbom:net:serves") == ()


# ------------------------------------------------------------------ FTP logins


def _findings(name: str):
    return [i for i in _items(FIX / name) if isinstance(i, Finding)]


def test_anonymous_ftp_login_is_its_own_finding_not_a_password():
    # USER anonymous, PASS test, then "230" from the NetBSD server (tshark: frames 6, 9, 10)
    f = _findings("ftp_anonymous_login_netbsd.pcap")
    assert not [x for x in f if x.id == "CBOM-NET-CLEARTEXT-CREDENTIALS"]
    anon = [x for x in f if x.id == "CBOM-NET-FTP-ANONYMOUS"]
    assert len(anon) == 1
    a = anon[0]
    assert a.severity == Severity.MEDIUM and a.title == "Anonymous FTP access allowed"
    assert a.evidence[0] == "server 199.233.217.249 accepted an anonymous login (user 'anonymous') from 141.142.220.235"
    # `tshark -Y "ftp.response.code==230" -T fields -e frame.time_epoch`: 1329843166.520353
    assert a.evidence[1:] == ("first packet %s" % _ts(1329843166.520353), "packets 1")
    server = next(h for h in _hosts(_items(FIX / "ftp_anonymous_login_netbsd.pcap"))
                  if "199.233.217.249" in h.props("cbom:net:ip"))
    assert a.refs == (server.ref,)


def test_user_ftp_accepted_without_password_is_anonymous_access():
    # USER ftp answered "230 Anonymous user logged in" (Pure-FTPd, tshark frames 6 and 8): no PASS at all
    f = _findings("ftp_user_ftp_without_password.pcap")
    anon = [x for x in f if x.id == "CBOM-NET-FTP-ANONYMOUS"]
    assert [x.evidence for x in anon] == [(
        "server 192.168.56.101 accepted an anonymous login (user 'ftp') from 192.168.56.1",
        "first packet %s" % _ts(1395939402.088010), "packets 1")]
    assert not [x for x in f if x.id == "CBOM-NET-CLEARTEXT-CREDENTIALS"]


def test_real_ftp_password_stays_high():
    # USER Admin / PASS qwerty (tshark frame 9, 192.168.10.132 -> 192.168.10.188)
    f = _findings("ftp_password_in_clear.pcap")
    cred = [x for x in f if x.id == "CBOM-NET-CLEARTEXT-CREDENTIALS"]
    assert [(x.severity, x.evidence[0]) for x in cred] == [
        (Severity.HIGH, "FTP password sent in clear from 192.168.10.132 to 192.168.10.188")]
    assert cred[0].evidence[1] == "first packet %s" % _ts(1726666634.386765)
    assert not [x for x in f if x.id == "CBOM-NET-FTP-ANONYMOUS"]
    # the password itself is never written anywhere in the document
    assert all("qwerty" not in json.dumps([x.detail, x.evidence]) for x in f)


# ------------------------------------------------------------------ DNP3

DNP3_CAPTURES = ["dnp3_test_data_part1.pcap", "dnp3_test_data_part2.pcap", "dnp3_two_link_frames_per_segment.pcap",
                 "no_mac/dnp3_bad_header_crc_loopback.pcap"]


def test_dnp3_counts_equal_tshark():
    for name in DNP3_CAPTURES:
        an = _analyse(FIX / name)
        truth = _truth(FIX / name)["protocols"]
        assert an.protocols()["dnp3"][0] == truth["dnp3"], name
        assert an.protocols().get("data", (0, 0))[0] == truth.get("data", 0), name
        assert an.frames == _truth(FIX / name)["packets"]


def test_bad_header_crc_is_data_as_in_wireshark():
    # opendnp3 conformance 6.6.2.4: four requests, two with a wrong link header CRC. tshark shows
    # those two as "data" and the two others as DNP 3.0 (check_dnp3_header in packet-dnp.c).
    path = FIX / "no_mac" / "dnp3_bad_header_crc_loopback.pcap"
    with open(path, "rb") as f, CaptureFile(f) as cf:
        packets = [fr[4:] for _ts, _lt, fr, _wl in cf]  # BSD loopback: 4-byte address family, then IPv4
    payloads = []
    for p in packets:
        ihl = (p[0] & 15) * 4
        payloads.append(p[ihl + (p[ihl + 12] >> 4) * 4:])
    frames = [p for p in payloads if p[:2] == b"\x05\x64"]
    assert [dnp3.header_ok(p) for p in frames] == [False, True, False, True]
    # the CRC over the first 8 bytes is the little-endian value in bytes 8-9 of a good header
    good = frames[1]
    assert dnp3.crc(good[:8]) == good[8] | good[9] << 8


def test_two_link_frames_in_one_segment_and_one_frame_over_two_segments():
    # ITI write_vto_empty_string.pcap: tshark shows 4 and 5 DNP3 link frames (dnp3.len values)
    # in 2 frames, the second finishing a reassembled PDU; both frames are DNP3.
    an = _analyse(FIX / "dnp3_two_link_frames_per_segment.pcap")
    assert an.protocols()["dnp3"][0] == 2


def _addresses(name: str) -> dict:
    an = _analyse(FIX / name)
    return {".".join(str(b) for b in ip): (d.get("dnp3-address"), d.get("dnp3-role"))
            for ip, d in an.ip_ident.items() if "dnp3-address" in d}


def test_dnp3_link_addresses_are_identity_facts():
    # `tshark -n -Y dnp3 -T fields -e ip.src -e dnp3.src -e ip.dst -e dnp3.dst -e dnp3.ctl.dir | sort | uniq -c`:
    #   10.0.0.3 sends from 4 (and once from 6) with DIR=0 (outstation) to 10.0.0.8 (dst 3) and
    #   10.0.0.9 (dst 3 or 6); 10.0.0.8 and 10.0.0.9 send from 3 with DIR=1 (master), to 4 or to
    #   65535 (broadcast, nobody's address).
    assert _addresses("dnp3_test_data_part1.pcap") == {
        "10.0.0.3": ("4, 6", "outstation"), "10.0.0.8": ("3", "master"), "10.0.0.9": ("3, 6", "master")}
    #   192.168.66.33 sends from 3 with DIR=1 to 4; 192.168.66.34 answers from 4 with DIR=0.
    assert _addresses("dnp3_test_data_part2.pcap") == {
        "192.168.66.33": ("3", "master"), "192.168.66.34": ("4", "outstation")}
    # and they reach the host in the document
    hosts = _hosts(_items(FIX / "dnp3_test_data_part2.pcap"))
    outstation = next(h for h in hosts if "192.168.66.34" in h.props("cbom:net:ip"))
    assert outstation.prop("cbom:net:identity:dnp3-address") == "4"
    assert outstation.prop("cbom:net:identity:dnp3-role") == "outstation"


def test_malformed_dnp3_never_raises():
    # hand-made: a link header whose length byte is below the 5 it must count, with a right CRC
    head = b"\x05\x64\x02\xc4\x01\x00\x03\x00"
    c = dnp3.crc(head)
    bad = head + bytes([c & 0xFF, c >> 8])
    eth = b"\x02\0\0\0\0\2" + b"\x02\0\0\0\0\1" + b"\x08\x00"
    udp = (20000).to_bytes(2, "big") * 2 + (8 + len(bad)).to_bytes(2, "big") + b"\0\0"
    ip4 = (b"\x45\0" + (20 + len(udp) + len(bad)).to_bytes(2, "big") + b"\0\0\0\0\x40\x11\0\0"
           + bytes([192, 0, 2, 1]) + bytes([192, 0, 2, 2]))
    an = Analyzer()
    for cut in range(len(bad) + 1):
        an.feed(1.0, eth + ip4 + udp + bad[:cut])
    assert an.undecodable == 0 and not an.dissector_errors
    assert dnp3.frame(bad, 0, TcpStream(None)) == (0, ())  # not a frame: no length
