"""Pure parsers of the network collector, fed real recorded text (tests/fixtures/network/SOURCES.md)."""
from __future__ import annotations

from pathlib import Path

import pytest

from cbom.collector import ScanContext
from cbom.model import Category, Gap, HostFact, Kind, Platform
from cbom.runner import run_one
from collectors.network import components_from_ipconfig
from _areas import area
from collectors.network._common import (
    Socket, interface_ref, normalize_mac, prefix_length, services_from_sockets, with_prefix,
)
from collectors.network._linux import (
    Route, classify_link, parse_ipv6_route, parse_proc_route, parse_resolv_conf, pci_address,
)
from collectors.network._windows import facts_from_ipconfig, parse_ipconfig

NetworkCollector = area("network")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "network"


def text(*parts: str) -> str:
    return FIXTURES.joinpath(*parts).read_text(encoding="utf-8")


def ip_route_lines(name: str) -> set:
    """(dev, "dest [via gw] [metric n]") from recorded `ip route` / `ip -6 route` output."""
    out = set()
    for line in text(*name.split("/")).splitlines():
        words = line.split()
        if not words:
            continue
        opts = dict(zip(words[1::2], words[2::2]))  # "dest key value key value ..."
        words_out = [words[0]]
        if "via" in opts:
            words_out += ["via", opts["via"]]
        if opts.get("metric", "0") != "0":
            words_out += ["metric", opts["metric"]]
        out.add((opts["dev"], " ".join(words_out)))
    return out


# --- /proc/net/route and /proc/net/ipv6_route ------------------------------------------------------

@pytest.mark.parametrize("sample", ["this-machine", "this-machine-netns"])
def test_routes_equal_recorded_ip_route(sample):
    v4, p4 = parse_proc_route(text(sample, "proc-net-route.txt"))
    v6, p6 = parse_ipv6_route(text(sample, "proc-net-ipv6_route.txt"))
    assert p4 == [] and p6 == []
    assert {(r.iface, r.text()) for r in v4} == ip_route_lines(f"{sample}/ip-route.txt")
    assert {(r.iface, r.text()) for r in v6} == ip_route_lines(f"{sample}/ip-6-route.txt")


def test_netns_routes_exact():
    v4, _ = parse_proc_route(text("this-machine-netns", "proc-net-route.txt"))
    assert v4 == [
        Route("cbt0", "0.0.0.0/0", "192.0.2.254", 100),
        Route("cbt0", "192.0.2.0/24", "", 0),
        Route("cbt1", "198.51.100.0/24", "", 0),
        Route("cbt1", "203.0.113.0/24", "198.51.100.1", 5),
    ]
    assert v4[0].text() == "default via 192.0.2.254 metric 100"
    assert v4[3].text() == "203.0.113.0/24 via 198.51.100.1 metric 5"
    v6, _ = parse_ipv6_route(text("this-machine-netns", "proc-net-ipv6_route.txt"))
    assert [r.text() for r in v6 if r.iface == "cbt0"] == [
        "2001:db8:1::/64 metric 256", "fe80::/64 metric 256", "default via 2001:db8:1::fe metric 1024",
    ]
    # local addresses, the lo reject route and multicast ff00::/8 are not routes of the main table
    assert not [r for r in v6 if r.iface == "lo"]


def test_proc_route_big_endian_byte_order():
    # s390x prints the same route with the bytes in network order.
    header = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    routes, problems = parse_proc_route(header + "eth0\t00000000\tC00002FE\t0003\t0\t0\t7\t00000000\t0\t0\t0\n",
                                        little_endian=False)
    assert problems == [] and routes == [Route("eth0", "0.0.0.0/0", "192.0.2.254", 7)]


def test_empty_route_table_is_not_a_problem():
    # /proc/net/route of a fresh network namespace is empty, header included (kernel 6.18).
    assert parse_proc_route("") == ([], [])


@pytest.mark.parametrize("garbage", ["\x00\x01binary", "Iface Destination Gateway\neth0 ZZZZ 00 0001 0 0 0",
                                     text("this-machine", "resolv.conf")])
def test_route_parsers_report_garbled_input(garbage):
    routes, problems = parse_proc_route(garbage)
    assert routes == [] and problems
    routes6, problems6 = parse_ipv6_route(garbage + "\nnot a route line")
    assert routes6 == [] and problems6


def test_garbled_line_keeps_the_good_ones():
    good = text("this-machine-netns", "proc-net-ipv6_route.txt")
    routes, problems = parse_ipv6_route("ffff not hex\n" + good)
    assert len(routes) == 4 and len(problems) == 1 and "line 1" in problems[0]


# --- resolv.conf -------------------------------------------------------------------------------------

def test_resolv_conf_this_machine():
    conf = parse_resolv_conf(text("this-machine", "resolv.conf"))
    assert conf.nameservers == ("10.255.255.53",) and conf.search == () and conf.problems == ()


def test_resolv_conf_rules():
    conf = parse_resolv_conf(
        "# comment\n; other comment\ndomain old.example\nnameserver 192.0.2.53\n"
        "nameserver fe80::1%eth0\nnameserver 192.0.2.53\noptions edns0 trust-ad\n"
        "search example.test corp.example\nnameserver dns.example\n"
    )
    assert conf.nameservers == ("192.0.2.53", "fe80::1")
    assert conf.search == ("example.test", "corp.example")  # the last of search/domain wins
    assert len(conf.problems) == 1 and "line 9" in conf.problems[0]


def test_resolv_conf_binary_is_a_problem_not_an_exception():
    conf = parse_resolv_conf("\x7fELF\x02\x01\x01\x00\x00garbage\n")
    assert conf.nameservers == () and conf.problems


# --- sysfs facts -------------------------------------------------------------------------------------

def test_classify_and_pci_address():
    assert classify_link(772, "", False, False) == "loopback"
    assert classify_link(1, "", True, False) == "ether"
    assert classify_link(1, "", False, False) == "virtual"
    assert classify_link(1, "bridge", False, False) == "bridge"
    assert classify_link(1, "", True, True) == "wlan"
    assert classify_link(65534, "", False, False) == "none"
    assert classify_link(None, "", False, False) == "unknown"
    # this VM: /sys/class/net/eth0/device -> ../../devices/pci0000:00/0000:00:03.0/virtio2
    assert pci_address("/sys/devices/pci0000:00/0000:00:03.0/virtio2", "virtio") == "0000:00:03.0"
    assert pci_address("/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0", "pci") == "0000:02:00.0"
    assert pci_address("/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0", "usb") == ""


# --- helpers -----------------------------------------------------------------------------------------

def test_address_helpers():
    assert normalize_mac("F8-E4-3B-AD-F2-6D") == "f8:e4:3b:ad:f2:6d"
    assert normalize_mac("") == normalize_mac(None) == normalize_mac("not-a-mac") == ""
    assert prefix_length("255.255.255.0") == 24 and prefix_length("ffff:ffff:ffff:ffff::") == 64
    assert prefix_length("255.0.255.0") is None and prefix_length(None) is None
    assert with_prefix("fe80::1%eth0", "ffff:ffff:ffff:ffff::") == "fe80::1/64"
    assert with_prefix("192.0.2.1", None) == "192.0.2.1"


def test_listening_services_merge_by_protocol_port_process():
    sockets = [
        Socket("tcp", "0.0.0.0", 22, "sshd", "/usr/sbin/sshd", "root"),
        Socket("tcp", "::", 22, "sshd", "/usr/sbin/sshd", "root"),
        Socket("udp", "198.51.100.7", 5021, "python3"),
        Socket("tcp", "0.0.0.0", 8080),
    ]
    from collectors.network._common import InterfaceInfo

    cbt1 = InterfaceInfo("cbt1", ipv4=["198.51.100.7/24"]).component()
    services = {(c.prop("cbom:protocol"), c.prop("cbom:port")): c for c in services_from_sockets(sockets, [cbt1])}
    assert set(services) == {("tcp", "22"), ("udp", "5021"), ("tcp", "8080")}
    sshd = services[("tcp", "22")]
    assert sshd.name == "sshd" and sshd.category == Category.LISTENING_SERVICE and sshd.kind == Kind.APPLICATION
    assert sshd.props("cbom:address") == ("0.0.0.0", "::")
    assert sshd.prop("cbom:process-path") == "/usr/sbin/sshd" and sshd.prop("cbom:user") == "root"
    assert services[("udp", "5021")].depends_on == (cbt1.ref,)
    assert services[("tcp", "8080")].name == "unknown"
    # identity is stable: the same sockets give the same refs
    assert [c.ref for c in services_from_sockets(reversed(sockets))] == [
        c.ref for c in services_from_sockets(sockets)]


# --- ipconfig /all -----------------------------------------------------------------------------------

# name -> (MAC, IPv4s, DNS servers); from the recordings themselves.
IPCONFIG = {
    "ipconfig-xp.txt": {
        "Local Area Connection": ("00:0c:29:25:b6:4d", ("192.168.22.135/24",), ("192.168.22.151",)),
    },
    "ipconfig-7.txt": {
        "Local Area Connection": ("00:0c:29:37:3b:4e", ("192.168.22.33/24",), ("192.168.22.151",)),
        "isatap.{E24F3EA8-436E-3B26-8BB9-CED33928744B}": ("00:00:00:00:00:00:00:e0", (), ()),
    },
    "ipconfig-10.txt": {
        "Tailscale": ("", ("100.115.71.66/32",), ("fec0:0:0:ffff::1", "fec0:0:0:ffff::2", "fec0:0:0:ffff::3")),
        "Ethernet 2": ("f8:e4:3b:ad:f2:6d", ("10.50.13.132/24",), ("10.50.13.1",)),
        "Bluetooth Network Connection": ("1c:c1:0c:c3:25:b4", (), ()),
    },
    "ipconfig-11.txt": {
        "Ethernet": ("24:4b:fe:ab:43:c3", (), ()),
        "Ethernet 2": ("24:4b:fe:57:3d:f2", (), ()),
        "OpenVPN Data Channel Offload for NordVPN": ("", (), ()),
        "Local Area Connection": ("00:ff:4c:f4:5e:49", (), ()),
        "Local Area Connection* 1": ("a8:7e:ea:5a:7f:de", (), ()),
        "Local Area Connection* 2": ("aa:7e:ea:f3:64:c3", (), ()),
        "VMware Network Adapter VMnet1": ("00:50:56:cc:27:73", ("192.168.181.1/24",), ()),
        "VMware Network Adapter VMnet8": ("00:50:56:c9:a3:78", ("192.168.213.1/24",), ()),
        "Wi-Fi": ("a8:7e:ea:55:26:b0", ("192.168.1.169/24",), ("192.168.1.1",)),
        "Bluetooth Network Connection": ("a8:7e:ea:43:23:14", (), ()),
    },
    "ipconfig-2008.txt": {
        "Local Area Connection": ("00:0c:29:76:c8:d0", ("192.168.23.154/24",), ("192.168.23.151",)),
        "isatap.{F856FDB3-CE70-489D-A231-704790DC1351}": ("00:00:00:00:00:00:00:e0", (), ()),
    },
    "ipconfig-2016.txt": {
        "Ethernet0": ("00:0c:29:d6:12:2e", ("192.168.22.153/24",), ("192.168.22.151",)),
        "isatap.{17A4D79E-85D7-47FC-8972-ABBD8B58DC71}": ("00:00:00:00:00:00:00:e0", (), ()),
    },
}


@pytest.mark.parametrize("name", sorted(IPCONFIG))
def test_ipconfig_adapters_exact(name):
    raw = text("jc-ipconfig", name)
    assert parse_ipconfig(raw).problems == []
    components = components_from_ipconfig(raw)
    got = {c.name: (c.prop("cdx:device:macAddress"), c.props("cbom:ipv4"), c.props("cbom:dns-server"))
           for c in components}
    assert got == IPCONFIG[name]
    assert [c.name for c in components] == list(IPCONFIG[name])  # order as printed
    for c in components:
        assert c.category == Category.NETWORK_INTERFACE and c.kind == Kind.DEVICE
        assert c.ref == interface_ref(c.name, c.prop("cdx:device:macAddress"))
    # CRLF line ends (as written by ipconfig.exe) parse the same
    assert components_from_ipconfig(raw.replace("\n", "\r\n")) == components


def test_ipconfig_windows10_details():
    parsed = parse_ipconfig(text("jc-ipconfig", "ipconfig-10.txt"))
    by_name = {c.name: c for c in components_from_ipconfig(text("jc-ipconfig", "ipconfig-10.txt"))}
    tailscale, eth2, bt = by_name["Tailscale"], by_name["Ethernet 2"], by_name["Bluetooth Network Connection"]
    assert tailscale.props("cbom:ipv6") == ("fd7a:115c:a1e0:ab12:4843:cd96:6293:47b2", "fe80::99d0:ec2d:b2e7:536b/64")
    assert tailscale.description == "Tailscale Tunnel" and tailscale.prop("cbom:kind") == "unknown"
    assert eth2.description == "ASIX AX88179 USB 3.0 to Gigabit Ethernet Adapter #2"
    assert eth2.props("cbom:route") == ("default via 10.50.13.1",) and eth2.prop("cbom:state") == "up"
    assert bt.prop("cbom:state") == "down" and bt.props("cbom:ipv4") == ()
    assert facts_from_ipconfig(parsed) == [
        HostFact("cbom:dns-server", "fec0:0:0:ffff::1"), HostFact("cbom:dns-server", "fec0:0:0:ffff::2"),
        HostFact("cbom:dns-server", "fec0:0:0:ffff::3"), HostFact("cbom:dns-server", "10.50.13.1"),
        HostFact("cbom:default-gateway", "10.50.13.1"),
        HostFact("cbom:dns-search", "tailff123.ts.net"), HostFact("cbom:dns-search", "internal.companyname.com"),
    ]


def test_ipconfig_11_wifi_and_xp_search_list():
    wifi = {c.name: c for c in components_from_ipconfig(text("jc-ipconfig", "ipconfig-11.txt"))}["Wi-Fi"]
    assert wifi.prop("cbom:kind") == "wlan"
    assert wifi.props("cbom:ipv6") == ("fd63:cc9c:65eb:3f95:57c2:aa:10d8:db08",
                                       "fd63:cc9c:65eb:3f95:8928:348e:d692:b7ef", "fe80::4fae:1380:5a1b:8b6b/64")
    xp = parse_ipconfig(text("jc-ipconfig", "ipconfig-xp.txt"))
    assert xp.global_values("DNS Suffix Search List") == ["somecompany.corp", "somecompany.xyz"]
    assert xp.global_values("Host Name") == ["DESKTOP-PC4"]


@pytest.mark.parametrize("garbage", ["", "\x00\xff\xfe garbage", text("this-machine", "proc-net-route.txt")])
def test_ipconfig_garbled_is_a_problem_not_an_exception(garbage):
    parsed = parse_ipconfig(garbage)
    assert parsed.adapters == [] and parsed.problems
    assert components_from_ipconfig(garbage) == []


# --- collector under --root ----------------------------------------------------------------------------

def test_collector_under_root_reads_recorded_files(tmp_path):
    """With --root, routes and DNS come from the image; live interfaces are a gap, not a guess."""
    for src, dst in (("this-machine-netns/proc-net-route.txt", "proc/net/route"),
                     ("this-machine-netns/proc-net-ipv6_route.txt", "proc/net/ipv6_route")):
        (tmp_path / dst).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / dst).write_text(text(*src.split("/")))
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/resolv.conf").write_text("nameserver 192.0.2.53\nsearch example.test\n")
    run, items = run_one(NetworkCollector, ScanContext(platform=Platform.LINUX, root=tmp_path))
    facts = [i for i in items if isinstance(i, HostFact)]
    assert facts == [
        HostFact("cbom:default-gateway", "192.0.2.254"), HostFact("cbom:default-gateway", "2001:db8:1::fe"),
        HostFact("cbom:dns-server", "192.0.2.53"), HostFact("cbom:dns-search", "example.test"),
    ]
    assert run.status.value == "partial" and [i for i in items if isinstance(i, Gap)]


def test_collector_turns_garbled_files_into_gaps(tmp_path):
    (tmp_path / "proc/net").mkdir(parents=True)
    (tmp_path / "proc/net/route").write_bytes(b"\x00\x01\x02 not a route table")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/resolv.conf").write_text("nameserver not-an-ip\n")
    run, items = run_one(NetworkCollector, ScanContext(platform=Platform.LINUX, root=tmp_path))
    reasons = " | ".join(run.gaps)
    assert run.status.value == "partial"
    assert "/proc/net/route" in reasons and "not an IP address" in reasons
    assert not [i for i in items if isinstance(i, HostFact)]


def test_ipconfig_components_make_a_valid_document():
    import uuid
    from datetime import datetime, timezone

    import cbom.cyclonedx
    import cbom.validate
    from cbom.model import Host, Scan, sort_components

    components = [c for name in IPCONFIG for c in components_from_ipconfig(text("jc-ipconfig", name))]
    unique = {c.ref: c for c in components}
    doc = cbom.cyclonedx.to_dict(Scan(id=f"urn:uuid:{uuid.uuid4()}", started=datetime.now(timezone.utc),
                                      tool_version="test", host=Host("x"),
                                      components=sort_components(unique.values())))
    assert cbom.validate.errors(doc) == []
    assert len(doc["components"]) == len(unique) == len(components) == 20
