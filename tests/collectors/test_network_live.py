"""The network collector on this machine, compared with iproute2 (`ip -j addr`, `ss`), and inside a test netns."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import cbom.cyclonedx
import cbom.validate
from cbom.collector import ScanContext
from cbom.model import Category, Component, HostFact, Status
from cbom.runner import run_one, scan
from _areas import area
from conftest import skip_without_netns
from collectors.network._common import interface_ref

NetworkCollector = area("network")

REPO = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("ip") or not shutil.which("ss"),
                       reason="needs Linux with iproute2 (ip, ss)"),
]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def sh(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30).stdout


def collect(ctx=None):
    run, items = run_one(NetworkCollector, ctx or ScanContext())
    return run, [i for i in items if isinstance(i, Component)], [i for i in items if isinstance(i, HostFact)]


def interfaces(components):
    return {c.name: c for c in components if c.category == Category.NETWORK_INTERFACE}


def services(components):
    return {(c.prop("cbom:protocol"), int(c.prop("cbom:port")), c.name): c
            for c in components if c.category == Category.LISTENING_SERVICE}


def expected_from_ip(ip_json: list) -> dict:
    """What `ip -j addr` says, in the collector's terms."""
    out = {}
    for link in ip_json:
        up = "UP" in link["flags"] and link.get("operstate") in ("UP", "UNKNOWN")  # = IFF_RUNNING
        # A loopback's 00:00:00:00:00:00 is no hardware address: none, as in a recording's `ip addr`.
        mac = {"ether": link.get("address", ""), "loopback": ""}.get(link.get("link_type"))
        out[link["ifname"]] = {
            "mac": mac,
            "ipv4": {f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", []) if a["family"] == "inet"},
            "ipv6": {f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", []) if a["family"] == "inet6"},
            "mtu": str(link["mtu"]),
            "state": "up" if up else "down",
        }
    return out


def ours(iface: Component, with_mac: bool) -> dict:
    return {
        "mac": iface.prop("cdx:device:macAddress") if with_mac else None,
        "ipv4": set(iface.props("cbom:ipv4")),
        "ipv6": set(iface.props("cbom:ipv6")),
        "mtu": iface.prop("cbom:mtu"),
        "state": iface.prop("cbom:state"),
    }


def assert_interfaces_match_ip(components, ip_json):
    expected = expected_from_ip(ip_json)
    got = interfaces(components)
    assert set(got) == set(expected)
    for name, want in expected.items():
        assert ours(got[name], want["mac"] is not None) == want, name
        assert got[name].ref == interface_ref(name, got[name].prop("cdx:device:macAddress"))


def test_interfaces_equal_ip_j_addr():
    for attempt in range(3):  # addresses can change between the two reads (DHCP, SLAAC)
        _, components, _ = collect()
        ip_json = json.loads(sh("ip", "-j", "addr"))
        try:
            assert_interfaces_match_ip(components, ip_json)
            break
        except AssertionError:
            if attempt == 2:
                raise


def test_sysfs_facts_equal_sysfs():
    _, components, _ = collect()
    for name, iface in interfaces(components).items():
        link = Path("/sys/class/net", name, "device", "driver")
        assert iface.prop("cbom:driver") == (os.path.basename(os.readlink(link)) if link.exists() else "")
        if Path("/sys/class/net", name, "type").read_text().strip() == "772":
            assert iface.prop("cbom:kind") == "loopback"
        # The PCI address: the resolved device link's last part on PCI, its parent for virtio on PCI.
        device = Path("/sys/class/net", name, "device")
        bus = ""
        if device.exists():
            real = Path(os.path.realpath(device))
            subsystem = os.path.basename(os.readlink(device / "subsystem"))
            pci = re.compile(r"[0-9a-f]{4,}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]")
            candidate = {"pci": real.name, "virtio": real.parent.name}.get(subsystem, "")
            bus = candidate if pci.fullmatch(candidate) else ""
        assert iface.prop("cbom:bus") == bus, name


def ss_ports(with_processes: bool) -> dict:
    """(protocol, port) -> set of process names (empty when ss shows none), from `ss -ltnuH` / `-ltnupH`."""
    out: dict = {}
    for line in sh("ss", "-ltnupH" if with_processes else "-ltnuH").splitlines():
        words = line.split()
        port = int(words[4].rsplit(":", 1)[1])
        names = set()
        if with_processes and "users:((" in line:
            names = {part.split('"')[1] for part in line.split("users:((", 1)[1].split("),(")}
        out.setdefault((words[0], port), set()).update(names)
    return out


def test_listening_ports_equal_ss():
    # Our own listeners make sure both a TCP and a UDP socket exist (loopback only: no traffic).
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("127.0.0.1", 0))
        for attempt in range(3):  # short-lived sockets of other programs may come and go in between
            _, components, _ = collect()
            want = ss_ports(with_processes=IS_ROOT)
            got = {(p, port) for p, port, _ in services(components)}
            if got == set(want) or attempt == 2:
                break
        assert got == set(want)
        assert ("tcp", tcp.getsockname()[1]) in got and ("udp", udp.getsockname()[1]) in got
        mine = {k: c for k, c in services(components).items() if k[1] in (tcp.getsockname()[1], udp.getsockname()[1])}
        for c in mine.values():  # our own process is always readable, root or not
            assert c.prop("cbom:process-path") == os.path.realpath(sys.executable)
            assert c.props("cbom:address") == ("127.0.0.1",)
        if IS_ROOT:
            for (proto, port, name), _component in services(components).items():
                names = want[(proto, port)]
                if names:
                    # psutil completes a 15-character comm from the command line; ss shows the comm.
                    assert any(name == n or (len(n) == 15 and name.startswith(n)) for n in names), (proto, port)
                else:
                    assert name == "unknown"
    finally:
        tcp.close()
        udp.close()


def test_run_status_and_document_is_valid():
    run, _, _ = collect()
    assert run.status in (Status.OK, Status.PARTIAL), run.reason
    doc = cbom.cyclonedx.to_dict(scan([NetworkCollector], ScanContext(), host_name="x"))
    assert cbom.validate.errors(doc) == []
    assert any(c["properties"][0] == {"name": "cbom:category", "value": "network-interface"}
               for c in doc["components"])


def test_unowned_sockets_make_a_gap():
    """Built for real (root sees every owner on most machines, so the case must be made): a listener
    in a fresh network namespace, and the collector run in that namespace twice — in the listener's
    PID namespace (owner visible: no gap) and in a new PID namespace with its own /proc (owner
    hidden, as in a container: "unknown" services and one gap naming the count)."""
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) not installed")
    skip_without_netns()  # non-root, or a chroot/container where `ip netns add` fails
    ns = f"cbomown{os.getpid()}"
    listener = None
    try:
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        listener = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", LOOPBACK_LISTENER],
                                    stdout=subprocess.PIPE, text=True)
        assert listener.stdout.readline().strip() == "ready"
        comm = Path(f"/proc/{listener.pid}/comm").read_text().strip()

        def run(*prefix: str) -> dict:
            return json.loads(subprocess.run(["ip", "netns", "exec", ns, *prefix, sys.executable, "-c", RUN_COLLECTOR],
                                             cwd=REPO, capture_output=True, text=True, timeout=60, check=True).stdout)

        def services_of(result: dict) -> set:
            return {(c["name"], dict(c["properties"]).get("cbom:port")) for c in result["components"]
                    if c["category"] == Category.LISTENING_SERVICE.value}

        visible = run()
        assert (visible["status"], visible["gaps"]) == ("ok", [])
        assert services_of(visible) == {(comm, "5030"), (comm, "5031")}

        probe = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True, text=True)
        if probe.returncode != 0:
            pytest.skip(f"cannot make a PID namespace here: {probe.stderr.strip()}")
        hidden = run("unshare", "--pid", "--fork", "--mount-proc")
        assert services_of(hidden) == {("unknown", "5030"), ("unknown", "5031")}
        assert hidden["status"] == "partial"
        assert hidden["gaps"] == ["2 of 2 listening sockets: owning process could not be read "
                                  "(process not visible: another PID namespace or container)"]
    finally:
        if listener is not None:
            listener.kill()
            listener.wait(timeout=10)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


LOOPBACK_LISTENER = """
import socket, time
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM); t.bind(("127.0.0.1", 5030)); t.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 5031))
print("ready", flush=True)
time.sleep(60)
"""


# --- inside a network namespace ------------------------------------------------------------------------

LISTENER = """
import socket, sys, time
t4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM); t4.bind(("0.0.0.0", 5020)); t4.listen()
t6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
t6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1); t6.bind(("::", 5020)); t6.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("198.51.100.7", 5021))
print("ready", flush=True)
time.sleep(60)
"""

RUN_COLLECTOR = """
import json
from cbom.collector import ScanContext
from cbom.model import Component, HostFact
from cbom.runner import run_one
from collectors.network import NetworkLinux
run, items = run_one(NetworkLinux, ScanContext())
print(json.dumps({
    "status": run.status.value, "gaps": list(run.gaps),
    "components": [dict(name=i.name, category=i.category.value, ref=i.ref, properties=i.properties,
                        depends_on=i.depends_on) for i in items if isinstance(i, Component)],
    "facts": [[i.name, i.value] for i in items if isinstance(i, HostFact)],
}))
"""


def test_collector_inside_network_namespace():
    skip_without_netns()  # non-root, or a chroot/container where `ip netns add` fails
    ns = f"cbomtest{os.getpid()}"
    etc_netns = Path("/etc/netns")
    made_etc_netns = not etc_netns.exists()
    listener = None
    try:
        sh("ip", "netns", "add", ns)
        for cmd in (
            "link set lo up",
            "link add cbt0 address 02:00:00:00:00:a1 type veth peer name cbt1 address 02:00:00:00:00:a2",
            "addr add 192.0.2.1/24 dev cbt0",
            "addr add 2001:db8:1::1/64 dev cbt0 nodad",
            "addr add 192.0.2.9/24 dev cbt0 label cbt0:1",  # an ifconfig-style alias
            "addr add 198.51.100.7/24 dev cbt1",
            "link set cbt0 mtu 1400 up",
            "link set cbt1 up",
            "route add default via 192.0.2.254 dev cbt0 metric 100",
        ):
            sh("ip", "-n", ns, *cmd.split())
        # `ip netns exec` bind-mounts this file over /etc/resolv.conf inside the namespace.
        (etc_netns / ns).mkdir(parents=True)
        (etc_netns / ns / "resolv.conf").write_text("nameserver 192.0.2.53\nsearch example.test corp.example\n")
        listener = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", LISTENER],
                                    stdout=subprocess.PIPE, text=True)
        assert listener.stdout.readline().strip() == "ready"
        comm = Path(f"/proc/{listener.pid}/comm").read_text().strip()  # ip netns exec execs in place

        out = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", RUN_COLLECTOR], cwd=REPO,
                             capture_output=True, text=True, timeout=60, check=True).stdout
        ip_json = json.loads(sh("ip", "-n", ns, "-j", "addr"))
        result = json.loads(out)
        comps = [Component(category=Category(c["category"]), kind=_kind(c["category"]), name=c["name"],
                           ref=c["ref"], properties=tuple(tuple(p) for p in c["properties"]),
                           depends_on=tuple(c["depends_on"])) for c in result["components"]]

        assert result["status"] == "ok", result["gaps"]
        assert_interfaces_match_ip(comps, ip_json)
        ifs = interfaces(comps)
        assert set(ifs) == {"lo", "cbt0", "cbt1"}
        cbt0, cbt1 = ifs["cbt0"], ifs["cbt1"]
        assert cbt0.prop("cdx:device:macAddress") == "02:00:00:00:00:a1"
        assert cbt0.props("cbom:ipv4") == ("192.0.2.1/24", "192.0.2.9/24") and "2001:db8:1::1/64" in cbt0.props("cbom:ipv6")
        assert (cbt0.prop("cbom:mtu"), cbt0.prop("cbom:state"), cbt0.prop("cbom:kind")) == ("1400", "up", "virtual")
        assert cbt0.props("cbom:route")[:2] == ("default via 192.0.2.254 metric 100", "192.0.2.0/24")
        assert "2001:db8:1::/64 metric 256" in cbt0.props("cbom:route")
        assert cbt1.props("cbom:ipv4") == ("198.51.100.7/24",) and cbt1.props("cbom:route")[0] == "198.51.100.0/24"
        assert ifs["lo"].prop("cbom:kind") == "loopback" and ifs["lo"].props("cbom:ipv4") == ("127.0.0.1/8",)

        svc = services(comps)
        assert set(svc) == {("tcp", 5020, comm), ("udp", 5021, comm)}
        tcp, udp = svc[("tcp", 5020, comm)], svc[("udp", 5021, comm)]
        assert tcp.props("cbom:address") == ("0.0.0.0", "::")  # two sockets, one service
        assert tcp.prop("cbom:process-path") == os.path.realpath(sys.executable)
        assert tcp.prop("cbom:user") == "root"
        assert udp.props("cbom:address") == ("198.51.100.7",) and udp.depends_on == (cbt1.ref,)

        assert [tuple(f) for f in result["facts"]] == [
            ("cbom:default-gateway", "192.0.2.254"), ("cbom:dns-server", "192.0.2.53"),
            ("cbom:dns-search", "example.test"), ("cbom:dns-search", "corp.example"),
        ]
    finally:
        if listener is not None:
            listener.kill()
            listener.wait(timeout=10)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(etc_netns / ns, ignore_errors=True)
        if made_etc_netns:
            shutil.rmtree(etc_netns, ignore_errors=True)


def _kind(category: str):
    from cbom.model import Kind

    return Kind.DEVICE if category == Category.NETWORK_INTERFACE.value else Kind.APPLICATION
