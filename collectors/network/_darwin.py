"""Pure parser for BSD/macOS `ifconfig -a` output, and the recorded macOS interfaces.

Live, psutil reads the interfaces; a recorded Mac (collect.sh, GLPI samples) has its
`ifconfig -a` text: "en0: flags=8863<UP,BROADCAST,...> mtu 1500" heads, then indented
"ether", "inet 192.168.1.2 netmask 0xffffff00", "inet6 fe80::1%lo0 prefixlen 64" and
"status: active" lines. The Linux net-tools layout (HWaddr, "inet addr:", "Mask:") is
read too, as old collect.sh recordings hold it.
"""
from __future__ import annotations

import re
from typing import Iterator, List

from cbom.collector import ScanContext
from cbom.model import Gap, Item

from ._common import InterfaceInfo, normalize_mac, with_prefix

__all__ = ["parse_ifconfig", "recorded_items"]

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


def recorded_items(ctx: ScanContext) -> Iterator[Item]:
    """Interfaces of a recorded Mac, from its `ifconfig -a` output (the first one recorded)."""
    res = ctx.run(["ifconfig", "-a"])
    if not res.ok:
        yield Gap(f"interfaces not read: {res.why()}")
        return
    infos = parse_ifconfig(res.stdout)
    if not infos:
        yield Gap("ifconfig output: no interface found (not ifconfig output?)")
    for info in infos:
        yield info.component()
