"""`_exec.run` on Windows: the whole process tree ends, no wait is unbounded, exit codes read signed.

Windows has no process groups: before the Job Object, a command whose child kept the output pipe
open (wine's wmic starting `explorer.exe /desktop`, any tool leaving a helper running) held cbom
until that child ended, because CPython's reader threads were joined, and the pipes closed, without
a bound (windows-under-wine.md §7 F: 60 s, the collector's whole limit, "0 components kept").
Real processes only: the Windows Python itself as child and grandchild, cmd.exe's `start /b`.
Run by the Windows test tier under wine's Windows Python; skipped elsewhere (the POSIX path is
tests/adversarial/test_commands.py).
"""
from __future__ import annotations

import os
import sys
import time

import pytest

from cbom import _exec

pytestmark = pytest.mark.skipif(os.name != "nt", reason="Windows process trees (Job Objects); POSIX: test_commands.py")

# A child that starts a grandchild holding the same stdout/stderr (handles passed explicitly, so
# they are inherited), writes the grandchild's pid, and exits at once.
SPAWN = (
    "import subprocess, sys, time; "
    "g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], stdout=sys.stdout, stderr=sys.stderr); "
    "open(sys.argv[1], 'w').write(str(g.pid)); print('child done', flush=True); "
    "time.sleep(float(sys.argv[2]))"
)


def _alive(pid: int) -> bool:
    """True while process `pid` runs (OpenProcess + WaitForSingleObject, no tool of the host)."""
    import ctypes
    from ctypes import wintypes

    k32 = ctypes.WinDLL("kernel32", use_last_error=True)
    k32.OpenProcess.restype = wintypes.HANDLE
    k32.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
    k32.WaitForSingleObject.argtypes = (wintypes.HANDLE, wintypes.DWORD)
    k32.CloseHandle.argtypes = (wintypes.HANDLE,)
    synchronize = 0x00100000
    handle = k32.OpenProcess(synchronize, False, pid)
    if not handle:
        return False
    try:
        return k32.WaitForSingleObject(handle, 0) == 0x102  # WAIT_TIMEOUT: still running
    finally:
        k32.CloseHandle(handle)


def _gone(pid: int, within: float = 10.0) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_grandchild_holding_the_pipe_does_not_hang_the_run(tmp_path):
    pidfile = tmp_path / "pid"
    start = time.monotonic()
    res = _exec.run([sys.executable, "-c", SPAWN, str(pidfile), "0"], timeout=5)
    took = time.monotonic() - start
    assert took < 15, f"run() waited {took:.0f} s for a grandchild holding its pipe"
    assert res.rc == 0 and res.stdout.strip() == "child done", res
    assert _gone(int(pidfile.read_text())), "the grandchild outlived the command"


def test_timeout_kills_the_whole_tree(tmp_path):
    pidfile = tmp_path / "pid"
    start = time.monotonic()
    res = _exec.run([sys.executable, "-c", SPAWN, str(pidfile), "300"], timeout=3)
    assert time.monotonic() - start < 15
    assert not res.ok and "timed out after 3 s" in res.error
    assert _gone(int(pidfile.read_text())), "the grandchild outlived the timed-out command"


def test_cmd_start_b_background_child_is_ended():
    """`start /b` leaves ping running with cmd's stdout: the run ends at its limit, not ping's 100 s."""
    start = time.monotonic()
    res = _exec.run(["cmd", "/c", "start /b ping -n 100 127.0.0.1 & echo started"], timeout=5)
    assert time.monotonic() - start < 15
    assert "started" in res.stdout


def test_unsigned_exit_code_reads_signed():
    """exit(-1) (what wmic returns on a refused query) comes back from Windows as 4294967295."""
    code = "import ctypes; ctypes.windll.kernel32.ExitProcess(0xFFFFFFFF)"
    res = _exec.run([sys.executable, "-c", code])
    assert res.rc == 4294967295
    assert "exited -1 (0xFFFFFFFF)" in res.why()
    res = _exec.run([sys.executable, "-c", "import ctypes; ctypes.windll.kernel32.ExitProcess(0xC0000005)"])
    assert "exited -1073741819 (0xC0000005)" in res.why()


def test_utf16_stderr_keeps_the_error_text():
    """wmic writes its errors in UTF-16LE: the reason holds the text, no NUL."""
    code = ("import sys; sys.stderr.buffer.write('Error: Invalid query\\n'.encode('utf-16-le')); "
            "import ctypes; ctypes.windll.kernel32.ExitProcess(0xFFFFFFFF)")
    why = _exec.run([sys.executable, "-c", code]).why()
    assert why.endswith("exited -1 (0xFFFFFFFF): Error: Invalid query") and "\x00" not in why
