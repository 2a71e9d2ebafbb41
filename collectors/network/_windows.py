"""Pure parser for Windows `ipconfig /all` output (English labels, XP to 11 / Server 2016).

Layout, as recorded on XP, 7, 10, 11, Server 2008 and 2016: a
"Windows IP Configuration" block, then one block per adapter headed by a
non-indented "<Type> adapter <Name>:" line. Fields are "   Label . . . : value"
lines (exactly three spaces of indent, dot leaders); a value that continues
(several DNS servers, search domains, gateways) goes on deeper-indented lines.
XP says "IP Address" where Vista+ says "IPv4 Address"; Vista+ appends
"(Preferred)" and friends to addresses; IPv6 prefix lengths are never shown.
"""
from __future__ import annotations

import csv
import io
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Tuple

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.model import Component, Gap, HostFact, Item

from ._common import UNKNOWN_PROCESS, InterfaceInfo, Socket, normalize_mac, services_from_sockets, with_prefix
from ._linux import strip_zone

_HEADER = re.compile(r"^(?P<type>\S.*?) adapter (?P<name>.+?):\s*$")
_FIELD = re.compile(r"^ {3}(?P<label>[^ :][^:]*?)[ .]*: ?(?P<value>.*)$")
_CONTINUATION = re.compile(r"^ {4,}(?P<value>\S.*)$")
_STATUS = re.compile(r"\((Preferred|Deprecated|Tentative|Duplicate|Invalid|Optimistic)\)$", re.I)

# "<Type> adapter" -> cbom:kind
ADAPTER_KINDS = {
    "ethernet": "ether",
    "wireless lan": "wlan",
    "tunnel": "tunnel",
    "ppp": "ppp",
    "unknown": "unknown",
    "mobile broadband": "wwan",
}


@dataclass
class IpconfigAdapter:
    name: str
    type: str  # "Ethernet", "Wireless LAN", "Tunnel", "Unknown"…
    fields: List[Tuple[str, List[str]]] = field(default_factory=list)  # (label, values) in order

    def values(self, *labels: str) -> List[str]:
        wanted = {label.lower() for label in labels}
        return [v for label, vs in self.fields if label.lower() in wanted for v in vs]

    def value(self, *labels: str) -> str:
        return next(iter(self.values(*labels)), "")


@dataclass
class Ipconfig:
    """`ipconfig /all` split into the global block and the adapters."""

    globals: List[Tuple[str, List[str]]] = field(default_factory=list)
    adapters: List[IpconfigAdapter] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)

    def global_values(self, label: str) -> List[str]:
        return [v for name, vs in self.globals if name.lower() == label.lower() for v in vs]


def parse_ipconfig(text: str) -> Ipconfig:
    """Split `ipconfig /all` text into labelled fields; never raises."""
    result = Ipconfig()
    if text.startswith("\ufeff"):
        text = text[1:]
    current: List[Tuple[str, List[str]]] = result.globals
    seen_title = False
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if not line.strip():
            continue
        if line.strip() == "Windows IP Configuration":
            seen_title = True
            continue
        header = _HEADER.match(line)
        if header:
            adapter = IpconfigAdapter(header["name"], header["type"])
            result.adapters.append(adapter)
            current = adapter.fields
            continue
        match = _FIELD.match(line)
        if match:
            value = match["value"].strip()
            current.append((match["label"].strip(), [value] if value else []))
            continue
        cont = _CONTINUATION.match(line)
        if cont and current:
            current[-1][1].append(cont["value"].strip())
            continue
        result.problems.append(f"ipconfig line {number} not understood: {line.strip()[:80]!r}")
    if not seen_title and not result.adapters:
        result.problems.insert(0, "not `ipconfig /all` output (no 'Windows IP Configuration' title, no adapter)")
    return result


def _address(value: str) -> str:
    return _STATUS.sub("", value).strip()


def _is_ip(value: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(strip_zone(value)).version == version
    except ValueError:
        return False


def interfaces_from_ipconfig(parsed: Ipconfig) -> List[InterfaceInfo]:
    """One InterfaceInfo per adapter of a parsed `ipconfig /all`."""
    out = []
    for adapter in parsed.adapters:
        info = InterfaceInfo(name=adapter.name, description=adapter.value("Description"))
        info.mac = normalize_mac(adapter.value("Physical Address"))
        info.kind = ADAPTER_KINDS.get(adapter.type.lower(), adapter.type.lower().replace(" ", "-"))
        # IPv4 addresses and subnet masks come in pairs, in this order.
        v4 = [_address(v) for v in adapter.values("IPv4 Address", "IP Address", "Autoconfiguration IPv4 Address",
                                                    "Autoconfiguration IP Address")]
        masks = adapter.values("Subnet Mask")
        for i, address in enumerate(v4):
            if _is_ip(address, 4):
                info.ipv4.append(with_prefix(address, masks[i] if i < len(masks) else None))
        for label in ("IPv6 Address", "Temporary IPv6 Address", "Link-local IPv6 Address"):
            for value in adapter.values(label):
                address = strip_zone(_address(value))
                if _is_ip(address, 6):
                    # ipconfig never prints IPv6 prefix lengths; link-local is fe80::/64 on Windows.
                    link_local = ipaddress.ip_address(address).is_link_local
                    info.ipv6.append(f"{address}/64" if link_local else address)
        media = adapter.value("Media State").lower()
        if "disconnected" in media:
            info.state = "down"
        elif info.ipv4 or info.ipv6:
            info.state = "up"
        for gateway in adapter.values("Default Gateway"):
            gateway = strip_zone(gateway)
            if _is_ip(gateway, 4) or _is_ip(gateway, 6):
                info.routes.append(f"default via {gateway}")
        for server in adapter.values("DNS Servers"):
            info.extra.append((V.DNS_SERVER, strip_zone(server)))
        dhcp = adapter.value("DHCP Enabled")
        if dhcp:
            info.extra.append((V.IF_DHCP, "true" if dhcp.lower() == "yes" else "false"))
        out.append(info)
    return out


def components_from_ipconfig(text: str) -> List[Component]:
    """Network-interface components from recorded `ipconfig /all` text (same shape as a live scan)."""
    return [i.component() for i in interfaces_from_ipconfig(parse_ipconfig(text))]


def facts_from_ipconfig(parsed: Ipconfig) -> List[HostFact]:
    """DNS servers, DNS search domains and default gateways of the machine, de-duplicated."""
    facts: List[HostFact] = []
    for info in interfaces_from_ipconfig(parsed):
        for name, value in info.extra:
            if name == V.DNS_SERVER:
                facts.append(HostFact(V.DNS_SERVER, value))
        for route in info.routes:
            facts.append(HostFact(V.DEFAULT_GATEWAY, route.split()[-1]))
    for domain in parsed.global_values("DNS Suffix Search List"):
        facts.append(HostFact(V.DNS_SEARCH, domain))
    return list(dict.fromkeys(facts))


# --- listening sockets (`netstat -ano`, process names from `tasklist /fo csv /nh`) -----------------

# "LISTENING" as German and French Windows print it.
_LISTENING = ("LISTENING", "ABH\u00d6REN", "ECOUTE", "\u00c9COUTE")


def parse_netstat_ano(text: str, images: Dict[str, str]) -> List[Socket]:
    """Listening TCP and bound UDP sockets of `netstat -ano`; process names from tasklist when known."""
    out: List[Socket] = []
    for line in text.replace("\r", "").split("\n"):
        w = line.split()
        if len(w) < 4 or w[0] not in ("TCP", "UDP"):
            continue
        if w[0] == "TCP" and (len(w) < 5 or w[3] not in _LISTENING):
            continue
        host, _, port = w[1].rpartition(":")
        if not port.isdigit():
            continue
        address = host.strip("[]").split("%", 1)[0]
        out.append(Socket(w[0].lower(), address, int(port), images.get(w[-1], UNKNOWN_PROCESS)))
    return out


def parse_tasklist_csv(text: str) -> Dict[str, str]:
    """{pid: image name} of `tasklist /fo csv /nh`."""
    out: Dict[str, str] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) >= 2 and row[1].strip().isdigit():
            out[row[1].strip()] = row[0].strip()
    return out


def recorded_items(ctx: ScanContext) -> Iterator[Item]:
    """Interfaces, DNS/gateway facts and listening services of a recorded Windows machine.

    Live, psutil gives interfaces and sockets; a recording has collect.bat's `ipconfig /all`
    (every sample of it, in a folder of samples) and `netstat -ano` + `tasklist` instead.
    """
    for res in ctx.run_each(["ipconfig", "/all"]):
        if not res.ok:
            yield Gap(f"interfaces not read: {res.why()}")
            continue
        parsed = parse_ipconfig(res.stdout)
        if not parsed.adapters:
            yield Gap("ipconfig output: no adapter block (not `ipconfig /all` output?)")
            continue
        yield from components_from_ipconfig(res.stdout)
        yield from facts_from_ipconfig(parsed)
    net = ctx.run(["netstat", "-ano"])
    if not net.ok or net.empty:  # netstat prints its column header even with no socket: empty is a failure
        yield Gap(f"listening services not read: {net.why()}")
        return
    tasks = ctx.run(["tasklist", "/fo", "csv", "/nh"])
    images = parse_tasklist_csv(tasks.stdout) if tasks.ok else {}
    yield from services_from_sockets(parse_netstat_ano(net.stdout, images))
