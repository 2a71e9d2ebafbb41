"""Test helper: every built-in collector of one area ("software") for one platform, run as one.

The product runs per-source collectors (`software.dpkg`, `software.rpm`…); many tests are
about what an area yields on a machine as a whole, as they were before the split. The area is
selected as `--only AREA` selects it (sources serving it too: `firmware` includes hardware.dmi).
"""
from __future__ import annotations

from typing import Iterator, Type

from cbom import runner
from cbom.collector import Collector, ScanContext
from cbom.model import Item, Platform
from collectors import BUILTIN


def area(name: str, platform: Platform = Platform.LINUX) -> Type[Collector]:
    """A collector running, in turn, every built-in collector of area `name` available in `ctx`."""
    members = [c for c in runner.select(BUILTIN, [name], platform=platform) if platform in c.platforms]
    assert members, f"no built-in collector of area {name!r} for {platform.value}"

    class Area(Collector):
        platforms = frozenset({platform})
        timeout = sum(c.timeout for c in members)
        cli_options = tuple(o for c in members for o in c.cli_options)

        def collect(self, ctx: ScanContext) -> Iterator[Item]:
            for member in members:
                if not member.unavailable(ctx):
                    yield from member().collect(ctx)

    Area.name = name
    return Area
