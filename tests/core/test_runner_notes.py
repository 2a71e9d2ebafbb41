"""What the runner records of a run: notes keep `ok`, no control character reaches the CBOM."""
from __future__ import annotations

from cbom.collector import Collector, Note, ScanContext
from cbom.model import Component, Category, Gap, Kind, Status
from cbom.runner import run_one


class _Noting(Collector):
    name = "test.noting"

    def collect(self, ctx):
        yield Component(category=Category.SOFTWARE, kind=Kind.APPLICATION, name="x")
        yield Note("not listed: /opt/tool/site-packages (the tool's own)")


class _Garbled(Collector):
    name = "test.garbled"

    def collect(self, ctx):
        # wmic's UTF-16 stderr read as bytes, and an ESC sequence from a tool's message
        yield Gap("`wmic` exited 4294967295: E\x00r\x00r\x00\n\x1b[2J")
        yield Note("skipped\tthis")


def test_a_note_keeps_ok_and_is_the_reason():
    run, items = run_one(_Noting, ScanContext())
    assert run.status == Status.OK and run.gaps == ()
    assert run.reason == "not listed: /opt/tool/site-packages (the tool's own)"


def test_gaps_and_reasons_hold_no_control_character():
    run, _ = run_one(_Garbled, ScanContext())
    assert run.status == Status.PARTIAL
    assert run.gaps == ("`wmic` exited 4294967295: Err  [2J",)
    assert run.reason == "`wmic` exited 4294967295: Err  [2J; skipped this"
