"""The `recording` collector: what a recorded folder lacks, or what changed in it since it was recorded.

Runs only for `cbom ingest DIR`. The other collectors say which of their own
inputs were not recorded; this one checks the folder as a whole against what
collect.sh / collect.bat / collect.ps1 write and against its SHA256SUMS.
"""
from __future__ import annotations

from typing import Iterator

from cbom.collector import Collector, ScanContext
from cbom.host import RecordedHost
from cbom.model import Gap, Item, Platform
from cbom.recording import altered_files, missing_files

__all__ = ["COLLECTORS", "RecordingCheck"]


class RecordingCheck(Collector):
    """Expected files missing from a recorded folder, and files altered since it was recorded."""

    name = "recording"
    description = "checks a recorded folder (cbom ingest): expected files present, SHA256SUMS intact"
    platforms = frozenset(Platform)
    default = False  # `cbom ingest` adds it
    order = 10

    @classmethod
    def unavailable(cls, ctx: ScanContext) -> str:
        return "" if ctx.recorded else "reads a recorded folder only (cbom ingest)"

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        host = ctx.host
        assert isinstance(host, RecordedHost)
        rec = host.recording
        for problem in rec.problems:
            yield Gap(problem)
        if ctx.platform is not None:
            absent = missing_files(rec, ctx.platform)
            if absent:
                yield Gap(f"expected files missing from the recording: {', '.join(absent)}")
        for name, why in altered_files(rec):
            yield Gap(f"{name}: {why}")


COLLECTORS = (RecordingCheck,)
