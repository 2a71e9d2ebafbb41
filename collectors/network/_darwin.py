"""The recorded macOS interfaces.

Live, psutil reads the interfaces; a recorded Mac (collect.sh, GLPI samples) has its
`ifconfig -a` text, parsed by `_unix.parse_ifconfig` (BSD and net-tools layouts).
"""
from __future__ import annotations

from typing import Iterator

from cbom.collector import ScanContext
from cbom.model import Gap, Item

from ._unix import parse_ifconfig

__all__ = ["recorded_items"]

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
