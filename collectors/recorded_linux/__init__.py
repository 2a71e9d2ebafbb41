"""`recorded.linux`: a Linux/Unix recording (collect.sh) read by its own composition — TRANSITIONAL.

The Windows and macOS recordings go through the normal collectors on the
recorded host backend (cbom/host.py). The Linux collectors do not yet: their
sysfs reads follow symlinks that collect.sh records as `device-path` files, a
fixture folder may hold several samples of one source, and `rpm -qai`/`lsblk`
text differ from what the live collectors run. Until they are ported, this
collector reads a Linux recording with the live collectors' parsers, as
`cbom ingest` did before the seam, and the Linux collectors stand aside for
recordings (cbom.cli.cmd_ingest). Delete this package once they are ported.
"""
from __future__ import annotations

from typing import Iterator

from cbom.collector import Collector, ScanContext
from cbom.host import RecordedHost
from cbom.model import Item, Platform

from ..hardware._common import Redactor
from ._items import items

__all__ = ["COLLECTORS", "RecordedLinux"]


class RecordedLinux(Collector):
    """Everything the Linux collectors would say, read from a recorded folder."""

    name = "recorded.linux"
    description = "a Linux recording (collect.sh) through the Linux parsers (transitional, cbom ingest only)"
    platforms = frozenset({Platform.LINUX})
    timeout = 300.0  # a 700-package dpkg status takes about a second

    @classmethod
    def unavailable(cls, ctx: ScanContext) -> str:
        return "" if ctx.recorded else "reads a recorded folder only (cbom ingest)"

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        host = ctx.host
        assert isinstance(host, RecordedHost)
        yield from items(host.recording, Redactor.from_options(ctx.options))


COLLECTORS = (RecordedLinux,)
