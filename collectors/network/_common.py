"""Platform-neutral pieces of the network collector: address helpers and component builders.

The live collector (psutil + sysfs) and the recorded-output parsers (ipconfig)
build components through the same functions, so a scanned and an ingested
machine give the same properties and the same refs.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from cbom import vocabulary as V
from cbom.model import Category, Component, Kind, make_ref

UNKNOWN_PROCESS = "unknown"


def normalize_mac(value: Optional[str]) -> str:
    """'F8-E4-3B-AD-F2-6D' or 'f8:e4:…' -> 'f8:e4:3b:ad:f2:6d'; '' when not a hardware address."""
    if not value:
        return ""
    parts = value.strip().replace("-", ":").lower().split(":")
    if len(parts) < 2 or not all(len(p) == 2 and all(c in "0123456789abcdef" for c in p) for p in parts):
        return ""
    return ":".join(parts)


def prefix_length(netmask: Optional[str]) -> Optional[int]:
    """Prefix length of a dotted or IPv6 netmask ('255.255.255.0' -> 24); None when not a netmask."""
    if not netmask:
        return None
    try:
        bits = ipaddress.ip_address(netmask.split("%", 1)[0])
    except ValueError:
        return None
    value, width = int(bits), bits.max_prefixlen
    length = bin(value).count("1")
    # Only contiguous masks have a prefix length (some BSD stacks report odd masks).
    if value != ((1 << width) - 1) ^ ((1 << (width - length)) - 1):
        return None
    return length


def with_prefix(address: str, netmask: Optional[str]) -> str:
    """'192.0.2.1' + '255.255.255.0' -> '192.0.2.1/24'; the zone of an IPv6 address is dropped."""
    address = address.split("%", 1)[0]
    length = prefix_length(netmask)
    return address if length is None else f"{address}/{length}"


def interface_ref(name: str, mac: str) -> str:
    return make_ref(Category.NETWORK_INTERFACE.value, name, mac)


@dataclass
class InterfaceInfo:
    """What is known about one interface, from any source, before it becomes a Component."""

    name: str
    mac: str = ""
    ipv4: List[str] = field(default_factory=list)  # "192.0.2.1/24"
    ipv6: List[str] = field(default_factory=list)  # "2001:db8::1/64"
    mtu: Optional[int] = None
    speed_mbps: Optional[int] = None
    state: str = ""  # up | down
    driver: str = ""
    bus: str = ""  # PCI address
    kind: str = ""
    routes: List[str] = field(default_factory=list)
    description: str = ""
    extra: List[Tuple[str, str]] = field(default_factory=list)

    def component(self) -> Component:
        props: List[Tuple[str, str]] = []
        if self.mac:
            props.append((V.MAC_ADDRESS, self.mac))
        props += [(V.IPV4, a) for a in self.ipv4]
        props += [(V.IPV6, a) for a in self.ipv6]
        if self.mtu:
            props.append((V.IF_MTU, str(self.mtu)))
        if self.speed_mbps:
            props.append((V.IF_SPEED_MBPS, str(self.speed_mbps)))
        for name, value in ((V.IF_STATE, self.state), (V.DRIVER, self.driver),
                            (V.BUS, self.bus), (V.IF_KIND, self.kind)):
            if value:
                props.append((name, value))
        props += [(V.IF_ROUTE, r) for r in self.routes]
        props += self.extra
        return Component(
            category=Category.NETWORK_INTERFACE,
            kind=Kind.DEVICE,
            name=self.name,
            description=self.description,
            ref=interface_ref(self.name, self.mac),
            properties=tuple(props),
        )


@dataclass(frozen=True)
class Socket:
    """One listening TCP or bound, unconnected UDP socket."""

    protocol: str  # tcp | udp
    address: str
    port: int
    process: str = UNKNOWN_PROCESS
    exe: str = ""
    user: str = ""


def service_ref(protocol: str, port: int, process: str) -> str:
    return make_ref(Category.LISTENING_SERVICE.value, protocol, str(port), process)


def services_from_sockets(
    sockets: Iterable[Socket], interfaces: Sequence[Component] = ()
) -> List[Component]:
    """One component per (protocol, port, process): 0.0.0.0 and :: of one daemon are merged.

    A service bound to a specific address depends on the interface holding it.
    """
    groups: Dict[Tuple[str, int, str], List[Socket]] = {}
    for s in sockets:
        groups.setdefault((s.protocol, s.port, s.process), []).append(s)
    owners: Dict[str, str] = {}
    for iface in interfaces:
        for value in iface.props(V.IPV4) + iface.props(V.IPV6):
            owners.setdefault(value.split("/", 1)[0], iface.ref)
    out = []
    for (protocol, port, process), group in sorted(groups.items()):
        addresses = sorted({s.address for s in group}, key=_address_key)
        props: List[Tuple[str, str]] = [(V.SVC_PROTOCOL, protocol), (V.SVC_PORT, str(port))]
        props += [(V.SVC_ADDRESS, a) for a in addresses]
        props.append((V.SVC_PROCESS, process))
        exe = next((s.exe for s in group if s.exe), "")
        user = next((s.user for s in group if s.user), "")
        if exe:
            props.append((V.SVC_PROCESS_PATH, exe))
        if user:
            props.append((V.SVC_USER, user))
        depends = tuple(sorted({owners[a] for a in addresses if a in owners}))
        out.append(
            Component(
                category=Category.LISTENING_SERVICE,
                kind=Kind.APPLICATION,
                name=process,
                description=f"{protocol}/{port}",
                ref=service_ref(protocol, port, process),
                properties=tuple(props),
                depends_on=depends,
            )
        )
    return out


def _address_key(address: str) -> Tuple[int, str]:
    try:
        ip = ipaddress.ip_address(address)
        return ip.version, f"{int(ip):040d}"
    except ValueError:
        return 9, address
