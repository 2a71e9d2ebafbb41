"""Hostile external commands: hangs, children that outlive their parent, endless output, UTF-16, silence.

Reproductions of issue 18 (D3 "command output", D11 "processes left behind", the NUL and
empty-output items): real commands (sh, sleep, yes, python) stand in for a broken
dmidecode or wmic. Nothing here is mocked.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from cbom import _exec
from cbom.collector import ScanContext
from cbom.model import Gap, Platform
from cbom.runner import run_one

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups and sh: POSIX")


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie awaiting its reaper counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _gone(pid: int, within: float = 5.0) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_timeout_kills_the_grandchildren(tmp_path):
    pidfile = tmp_path / "pid"
    start = time.monotonic()
    res = _exec.run(["sh", "-c", f"sleep 300 & echo $! > {pidfile}; sleep 300; echo done"], timeout=1)
    assert time.monotonic() - start < 10
    assert not res.ok and "timed out after 1 s" in res.error
    assert _gone(int(pidfile.read_text())), "the background sleep outlived the timed-out command"


def test_child_holding_the_pipe_does_not_hang_the_scan(tmp_path):
    pidfile = tmp_path / "pid"
    start = time.monotonic()
    # The command itself exits at once, but its background child keeps stdout open.
    res = _exec.run(["sh", "-c", f"sleep 300 & echo $! > {pidfile}; echo hello"], timeout=4)
    assert time.monotonic() - start < 8
    assert res.stdout.strip() == "hello" and res.rc == 0
    assert _gone(int(pidfile.read_text()))


def test_endless_output_is_cut_and_said(tmp_path):
    start = time.monotonic()
    res = _exec.run(["yes"], timeout=30, limit=1 << 20)
    assert time.monotonic() - start < 20
    assert res.cut and len(res.raw) == 1 << 20
    assert "printed more than 1 MiB" in res.why()


def test_stderr_is_kept_in_the_error(tmp_path):
    # tr upper-cases the message: the text checked comes from stderr, not from the command line.
    res = _exec.run(["sh", "-c", "echo 'permission denied: /dev/mem' | tr a-z A-Z >&2; sleep 30"], timeout=1)
    assert "timed out" in res.why() and "PERMISSION DENIED: /DEV/MEM" in res.why()
    res = _exec.run(["sh", "-c", "echo first >&2; echo '  ' >&2; exit 3"])
    assert res.why() == "`sh -c echo first >&2; echo '  ' >&2; exit 3` exited 3: first"


def test_utf16_output_has_no_nul():
    code = "import sys; sys.stdout.buffer.write('Caption=Microsoft Windows XP\\r\\n'.encode('utf-16-le'))"
    res = _exec.run([sys.executable, "-c", code])
    assert res.ok and "\x00" not in res.stdout
    assert res.stdout == "Caption=Microsoft Windows XP\n"


def test_exit_0_with_no_output_is_a_gap(tmp_path, monkeypatch):
    """A dmidecode that succeeds silently: the hardware collector says so instead of nothing."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dmidecode"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    res = _exec.run(["dmidecode", "-t", "1"])
    assert res.empty and res.why() == "`dmidecode -t 1` exited 0 but printed nothing"
    from collectors.hardware import COLLECTORS

    dmi = next(c for c in COLLECTORS if c.name == "hardware.dmi")
    ctx = ScanContext(platform=Platform.LINUX, root=Path("/"), admin=True)
    _, items = run_one(dmi, ctx)
    gaps = [i.reason for i in items if isinstance(i, Gap)]
    assert any("dmidecode" in g and "printed nothing" in g for g in gaps), gaps


def test_hanging_command_inside_a_collector_is_bounded(tmp_path, monkeypatch):
    """The reliability repro: `exec yes` as dmidecode; the collector ends and says why."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dmidecode"
    fake.write_text("#!/bin/sh\nexec yes\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    from collectors.hardware import COLLECTORS

    dmi = next(c for c in COLLECTORS if c.name == "hardware.dmi")
    start = time.monotonic()
    run, items = run_one(dmi, ScanContext(platform=Platform.LINUX, root=Path("/"), admin=True))
    assert time.monotonic() - start < 60
    assert run.status.value != "failed" or "MemoryError" not in run.error
