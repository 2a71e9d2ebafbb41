"""Pure parsers for Linux network text: /proc/net/route, /proc/net/ipv6_route, resolv.conf, sysfs link facts.

Every function takes text (or plain values read by the caller) and returns data
plus a list of one-line problems; none does I/O and none raises on bad input.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

# Route flags from <linux/route.h> and <linux/ipv6_route.h>.
RTF_UP = 0x0001
RTF_GATEWAY = 0x0002
RTF_REJECT = 0x0200
RTF_CACHE = 0x01000000
RTF_LOCAL = 0x80000000

# ARPHRD_* link types from <linux/if_arp.h> (the number in /sys/class/net/IF/type).
ARPHRD_KINDS = {
    1: "ether",
    24: "ieee1394",
    32: "infiniband",
    280: "can",
    512: "ppp",
    768: "ipip",
    769: "ip6tnl",
    772: "loopback",
    776: "sit",
    778: "gre",
    783: "irda",
    801: "wlan",  # ARPHRD_IEEE80211 (monitor interfaces)
    803: "wlan",  # ARPHRD_IEEE80211_RADIOTAP
    823: "ip6gre",
    65534: "none",  # tun, wireguard: no link layer
}


@dataclass(frozen=True)
class Route:
    """One route of the main table, as the kernel lists it."""

    iface: str
    destination: str  # network with prefix: "192.0.2.0/24", "::/0"
    gateway: str = ""  # "" when on-link
    metric: int = 0

    @property
    def is_default(self) -> bool:
        return self.destination in ("0.0.0.0/0", "::/0")

    def text(self) -> str:
        """`ip route`-like one-liner: "default via 192.0.2.254 metric 100", "192.0.2.0/24"."""
        words = ["default" if self.is_default else self.destination]
        if self.gateway:
            words += ["via", self.gateway]
        if self.metric:
            words += ["metric", str(self.metric)]
        return " ".join(words)


def _ipv4_from_hex(word: str, little_endian: bool) -> ipaddress.IPv4Address:
    # The kernel prints the __be32 address with "%08X" as a host-order u32, so the
    # bytes come out reversed on little-endian machines (x86, arm64) but not on s390x.
    raw = bytes.fromhex(word)
    if len(raw) != 4:
        raise ValueError(word)
    return ipaddress.IPv4Address(raw[::-1] if little_endian else raw)


def parse_proc_route(text: str, little_endian: bool = True) -> Tuple[List[Route], List[str]]:
    """Routes from /proc/net/route (IPv4 main table; net/ipv4/fib_trie.c fib_route_seq_show)."""
    routes: List[Route] = []
    problems: List[str] = []
    lines = text.splitlines()
    if not text.strip():
        return [], []  # a namespace without a main table prints nothing at all, not even the header
    if not lines or not lines[0].split()[:3] == ["Iface", "Destination", "Gateway"]:
        return [], ["/proc/net/route: header `Iface Destination Gateway ...` missing"]
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split()
        if not fields:
            continue
        try:
            iface, dest, gateway, flags = fields[0], fields[1], fields[2], int(fields[3], 16)
            metric, mask = int(fields[6]), fields[7]
            if not flags & RTF_UP or flags & RTF_REJECT or iface == "*":
                continue
            net = ipaddress.IPv4Network(
                f"{_ipv4_from_hex(dest, little_endian)}/{_ipv4_from_hex(mask, little_endian)}", strict=False
            )
            via = str(_ipv4_from_hex(gateway, little_endian)) if flags & RTF_GATEWAY else ""
        except (ValueError, IndexError):
            problems.append(f"/proc/net/route line {number} not understood: {line.strip()[:80]!r}")
            continue
        routes.append(Route(iface, str(net), via, metric))
    return routes, problems


def _ipv6_from_hex(word: str) -> ipaddress.IPv6Address:
    if len(word) != 32:
        raise ValueError(word)
    return ipaddress.IPv6Address(bytes.fromhex(word))


def parse_ipv6_route(text: str) -> Tuple[List[Route], List[str]]:
    """Routes from /proc/net/ipv6_route (net/ipv6/route.c ipv6_route_native_seq_show).

    That file lists every table; local addresses (RTF_LOCAL), unreachable
    entries (RTF_REJECT), cached clones and multicast ff00::/8 are left out so
    the result matches `ip -6 route` (main table).
    """
    routes: List[Route] = []
    problems: List[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            if len(fields) != 10:
                raise ValueError("field count")
            dest = _ipv6_from_hex(fields[0])
            plen = int(fields[1], 16)
            gateway = _ipv6_from_hex(fields[4])
            metric, flags = int(fields[5], 16), int(fields[8], 16)
            iface = fields[9]
            net = ipaddress.IPv6Network(f"{dest}/{plen}", strict=False)
        except (ValueError, IndexError):
            problems.append(f"/proc/net/ipv6_route line {number} not understood: {line.strip()[:80]!r}")
            continue
        if not flags & RTF_UP or flags & (RTF_REJECT | RTF_LOCAL | RTF_CACHE) or net.is_multicast:
            continue
        via = str(gateway) if flags & RTF_GATEWAY and not gateway.is_unspecified else ""
        routes.append(Route(iface, str(net), via, metric))
    return routes, problems


@dataclass(frozen=True)
class ResolvConf:
    nameservers: Tuple[str, ...] = ()
    search: Tuple[str, ...] = ()
    problems: Tuple[str, ...] = ()


def parse_resolv_conf(text: str, source: str = "/etc/resolv.conf") -> ResolvConf:
    """Name servers and search domains of a resolv.conf (resolv.conf(5)).

    `search` and `domain` override each other: the last one in the file wins,
    as in glibc. A name server that is not an IP address is a problem.
    """
    servers: List[str] = []
    search: List[str] = []
    problems: List[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        words = line.split()
        key, args = words[0], words[1:]
        if key == "nameserver":
            value = strip_zone(args[0]) if args else ""
            try:
                ipaddress.ip_address(value)
            except ValueError:
                problems.append(f"{source} line {number}: name server is not an IP address: {line[:80]!r}")
                continue
            if value not in servers:
                servers.append(value)
        elif key in ("search", "domain"):
            search = [w for w in args if not w.startswith(("#", ";"))]
        elif "\x00" in line or not line.isprintable():
            problems.append(f"{source} line {number} is not text")
    return ResolvConf(tuple(servers), tuple(search), tuple(problems))


def strip_zone(address: str) -> str:
    """'fe80::1%eth0' -> 'fe80::1' (the scope zone is local to one machine)."""
    return address.split("%", 1)[0]


_PCI_ADDRESS = re.compile(r"^[0-9a-f]{4,}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$")


def pci_address(device_path: str, subsystem: str) -> str:
    """PCI address of a NIC from the resolved sysfs path of /sys/class/net/IF/device.

    Only when the device is on PCI itself, or is a virtio device on a PCI
    transport (virtio-net: .../0000:00:03.0/virtio2); a USB NIC gets "".
    """
    parts = [p for p in device_path.split("/") if p]
    if subsystem == "pci" and parts and _PCI_ADDRESS.match(parts[-1]):
        return parts[-1]
    if subsystem == "virtio" and len(parts) > 1 and _PCI_ADDRESS.match(parts[-2]):
        return parts[-2]
    return ""


def classify_link(arphrd: Optional[int], devtype: str, has_device: bool, wireless: bool) -> str:
    """`cbom:kind` of a Linux interface from sysfs facts.

    arphrd is /sys/class/net/IF/type, devtype the DEVTYPE of its uevent
    (bridge, vlan, bond, wlan, wwan…), has_device whether it has a `device`
    link (real hardware), wireless whether `wireless`/`phy80211` exist.
    """
    if arphrd == 772:
        return "loopback"
    if wireless:
        return "wlan"
    if devtype:
        return devtype
    if arphrd == 1:
        return "ether" if has_device else "virtual"
    if arphrd is None:
        return "unknown"
    return ARPHRD_KINDS.get(arphrd, f"arphrd-{arphrd}")


def parse_uevent(text: str) -> dict:
    """KEY=value lines of a sysfs uevent file."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out
