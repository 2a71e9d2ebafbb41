"""Parsers of the Unix network tools a recording holds: `ip addr`, `ip route`, `ss -ltnup`, `ifconfig`.

The running machine's interfaces come from psutil; a recorded machine's from
these outputs, parsed into the same `InterfaceInfo` / `Socket` records so one
builder makes the components (iproute2 ip(8), ss(8); BSD and net-tools ifconfig).
"""
from __future__ import annotations

import re
from typing import List, Tuple

from ._common import UNKNOWN_PROCESS, InterfaceInfo, Socket, normalize_mac, with_prefix

__all__ = ["parse_ifconfig", "parse_ip_addr", "parse_ip_route_defaults", "parse_ss"]

_IP_HEAD = re.compile(r"^\d+:\s+(?P<name>[^:@\s]+)(?:@\S+)?:\s+<(?P<flags>[^>]*)>(?P<rest>.*)$")


def parse_ip_addr(text: str) -> List[InterfaceInfo]:
    """Interfaces of `ip addr` (iproute2 or busybox) output."""
    out: List[InterfaceInfo] = []
    for line in text.replace("\r", "").split("\n"):
        m = _IP_HEAD.match(line)
        if m:
            info = InterfaceInfo(name=m.group("name"))
            mtu = re.search(r"\bmtu (\d+)", m.group("rest"))
            info.mtu = int(mtu.group(1)) if mtu else None
            flags = m.group("flags").split(",")
            info.state = "up" if "UP" in flags else "down"
            if "LOOPBACK" in flags:
                info.kind = "loopback"
            out.append(info)
            continue
        if not out:
            continue
        words = line.split()
        if len(words) >= 2 and words[0].startswith("link/"):
            if words[0] != "link/loopback":
                out[-1].mac = normalize_mac(words[1])
        elif len(words) >= 2 and words[0] == "inet":
            out[-1].ipv4.append(words[1] if "/" in words[1] else with_prefix(words[1], None))
        elif len(words) >= 2 and words[0] == "inet6":
            out[-1].ipv6.append(words[1].split("%", 1)[0])
    return out


def parse_ip_route_defaults(text: str) -> List[Tuple[str, str]]:
    """(gateway, interface) of every default route in `ip route` output."""
    out = []
    for line in text.replace("\r", "").split("\n"):
        m = re.match(r"^default via (\S+)(?:.*?\bdev (\S+))?", line.strip())
        if m:
            out.append((m.group(1), m.group(2) or ""))
    return out


def _split_hostport(value: str) -> Tuple[str, int]:
    host, _, port = value.rpartition(":")
    host = host.strip("[]").split("%", 1)[0]
    if host == "*":
        host = "0.0.0.0"
    return host, int(port) if port.isdigit() else -1


def parse_ss(text: str) -> List[Socket]:
    """Listening sockets of `ss -ltnup` (or `netstat -ltnup`) output."""
    out: List[Socket] = []
    for line in text.replace("\r", "").split("\n"):
        words = line.split()
        if len(words) < 5:
            continue
        proto = words[0].lower()
        if proto.startswith(("tcp", "udp")) and words[1] in ("LISTEN", "UNCONN"):  # ss
            local = words[4]
        elif proto.startswith(("tcp", "udp")) and words[1].isdigit():  # netstat: Proto Recv-Q Send-Q Local …
            local = words[3]
            if proto.startswith("tcp") and "LISTEN" not in words:
                continue
        else:
            continue
        address, port = _split_hostport(local)
        if port < 0:
            continue
        process = UNKNOWN_PROCESS
        m = re.search(r'users:\(\("([^"]+)"', line) or re.search(r"\b\d+/(\S+)\s*$", line)
        if m:
            process = m.group(1)
        out.append(Socket("tcp" if proto.startswith("tcp") else "udp", address, port, process))
    return out




_IFCONFIG_HEAD = re.compile(r"^(?P<name>[A-Za-z][\w.:-]*?):? (?:flags=\S*<(?P<flags>[^>]*)>)?(?P<rest>.*)$")


def parse_ifconfig(text: str) -> List[InterfaceInfo]:
    """Interfaces of `ifconfig -a` (macOS/BSD and Linux net-tools layouts)."""
    out: List[InterfaceInfo] = []
    for line in text.replace("\r", "").split("\n"):
        if not line.strip():
            continue
        if not line[0].isspace():
            m = _IFCONFIG_HEAD.match(line)
            if not m:
                continue
            info = InterfaceInfo(name=m.group("name").rstrip(":"))
            flags = (m.group("flags") or "").split(",")
            mtu = re.search(r"\bmtu:? ?(\d+)", line, re.IGNORECASE)
            info.mtu = int(mtu.group(1)) if mtu else None
            if "UP" in flags or re.search(r"\bUP\b", line):
                info.state = "up"
            if "LOOPBACK" in flags or "Loopback" in line:
                info.kind = "loopback"
            hw = re.search(r"HWaddr (\S+)", line)  # old net-tools
            if hw:
                info.mac = normalize_mac(hw.group(1))
            out.append(info)
            continue
        if not out:
            continue
        words = line.split()
        info = out[-1]
        if words[0] == "ether" and len(words) > 1:
            info.mac = normalize_mac(words[1])
        elif words[0] == "inet" and len(words) > 1:
            address = words[1].replace("addr:", "")
            mask = None
            for i, w in enumerate(words):
                if w == "netmask" and i + 1 < len(words):
                    mask = words[i + 1]
                elif w.startswith("Mask:"):
                    mask = w[5:]
            if mask and mask.startswith("0x"):  # BSD prints the netmask in hex
                mask = ".".join(str(int(mask[i:i + 2], 16)) for i in (2, 4, 6, 8))
            info.ipv4.append(with_prefix(address, mask))
        elif words[0] == "inet6" and len(words) > 1:
            address = words[1].replace("addr:", "").split("%", 1)[0]
            plen = re.search(r"prefixlen (\d+)", line)
            if "/" not in address and plen:
                address = f"{address}/{plen.group(1)}"
            info.ipv6.append(address)
        elif words[0] == "status:":
            info.state = "up" if words[-1] == "active" else "down"
    return out
