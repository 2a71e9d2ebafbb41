"""Pure parsers for recorded outputs that no live collector reads (the live ones use sysfs/psutil).

`ip addr`, `ip route`, `ss -ltnup`, `rpm -qai`, `lsblk` (text), BSD/macOS
`ifconfig`, and `sysctl -a`. Each takes text and returns plain records.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Dict, List, Optional, Tuple

from ..network._common import (
    UNKNOWN_PROCESS,
    InterfaceInfo,
    Socket,
    normalize_mac,
    with_prefix,
)
from ..software._common import Package

__all__ = ["parse_ip_addr", "parse_ip_route_defaults", "parse_ss", "parse_rpm_qai", "parse_lsblk_text",
           "parse_ifconfig", "parse_sysctl"]

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




def _rpm_date(value: str) -> str:
    """rpm's localised install date in the C locale ("Wed 16 Oct 2019 09:21:42 AM PDT") as a date."""
    v = " ".join(value.split()[:5]) if re.search(r"[AP]M", value) else value
    for fmt in ("%a %d %b %Y %I:%M:%S %p", "%a %d %b %Y %H:%M:%S", "%a %b %d %H:%M:%S %Y"):
        try:
            return datetime.strptime(v.strip(), fmt).strftime("%Y-%m-%d")
        except ValueError:
            continue
    return ""


def parse_rpm_qai(text: str) -> Tuple[List[Package], List[str]]:
    """Packages of `rpm -qai` ("Name        : make" blocks; Description runs to the next Name)."""
    packages: List[Package] = []
    problems: List[str] = []
    fields: Dict[str, str] = {}
    in_description = False

    def flush() -> None:
        if not fields:
            return
        name, version, release = fields.get("Name", ""), fields.get("Version", ""), fields.get("Release", "")
        if name == "gpg-pubkey":
            return
        if not name or not version:
            problems.append(f"package {name or '?'}: no name or version")
            return
        size = fields.get("Size", "")
        epoch = fields.get("Epoch", "")
        packages.append(Package(
            manager="rpm", name=name, version=f"{version}-{release}" if release else version,
            arch=fields.get("Architecture", ""), epoch="" if epoch == "(none)" else epoch,
            source=fields.get("Source RPM", ""), maintainer=fields.get("Packager", ""), vendor=fields.get("Vendor", ""),
            description=fields.get("Summary", ""),
            licenses=(fields["License"],) if fields.get("License") else (),
            size=int(size) if size.isdigit() else None, install_date=_rpm_date(fields.get("Install Date", "")),
            homepage=fields.get("URL", ""), section=fields.get("Group", ""),
        ))

    for line in text.replace("\r", "").split("\n"):
        # rpm pads every tag to 12 columns ("Name        : make"): a "Name:" inside a Description is text.
        m = re.match(r"^([A-Z][A-Za-z ]{1,11}?)\s*: ?(.*)$", line) if line[12:14] in (": ", ":") else None
        if m and m.group(1) == "Name" and (in_description or fields):
            flush()
            fields, in_description = {}, False
        if in_description:
            continue
        if m and m.group(1) in ("Name", "Epoch", "Version", "Release", "Architecture", "Install Date", "Group",
                                "Size", "License", "Source RPM", "Packager", "Vendor", "URL", "Summary",
                                "Signature", "Build Date", "Build Host", "Relocations", "Description"):
            if m.group(1) == "Description":
                in_description = True
            else:
                fields[m.group(1)] = m.group(2).strip()
    flush()
    return packages, problems


def parse_lsblk_text(text: str) -> List[Dict[str, str]]:
    """Top-level devices of `lsblk` text output: [{'name', 'size', 'rm', 'type', and MODEL/SERIAL/… when shown}].

    The leading columns (NAME MAJ:MIN RM SIZE RO TYPE) never hold spaces; the
    free-text ones (MODEL "VMware Virtual S", VENDOR) are cut at the header's
    column starts.
    """
    lines = [ln for ln in text.replace("\r", "").split("\n") if ln.strip()]
    if not lines or not lines[0].startswith("NAME"):
        return []
    header = lines[0]
    names = header.split()
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    out = []
    for ln in lines[1:]:
        if not ln[:1].isalnum():
            continue  # tree-drawn children (partitions, LVM volumes)
        row = {k.lower(): v for k, v in zip(names[:6], ln.split()[:6])}
        for i, col in enumerate(names):
            if col in ("MODEL", "SERIAL", "VENDOR", "TRAN", "REV", "WWN"):
                hi = starts[i + 1] if i + 1 < len(starts) else len(ln)
                row[col.lower()] = ln[starts[i]:hi].strip()
        out.append(row)
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
            if mask and mask.startswith("0x"):
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


def parse_sysctl(text: str) -> Dict[str, str]:
    """`sysctl -a` "name: value" (macOS/BSD) or "name = value" (Linux) lines."""
    out: Dict[str, str] = {}
    for line in text.replace("\r", "").split("\n"):
        m = re.match(r"^([a-z][\w.]*)\s*[:=]\s?(.*)$", line)
        if m:
            out.setdefault(m.group(1), m.group(2).strip())
    return out


def parse_boot_mode(text: str) -> Optional[bool]:
    """collect.sh's boot-mode.txt: 'uefi' → True, 'legacy' → False."""
    v = text.strip().lower()
    return True if v == "uefi" else (False if v == "legacy" else None)
