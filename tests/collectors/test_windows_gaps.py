"""The live Windows collectors on what wine 8.0's tools really answered (tests/fixtures/wine/SOURCES.md).

Under wine, cbom's Windows collectors met the failure shapes a locked-down or broken Windows gives:
PowerShell exiting 0 with nothing printed, wmic printing a table although asked for /format:list,
wmic refusing a class with "Error: Invalid query" in UTF-16LE on stderr and exit code -1 (4294967295
as the Windows Python reports it). Each must become a gap that names what was not read and why —
never "ok" with nothing, never a NUL or a lost error text in the CBOM (windows-under-wine.md §7 B, C, D).

The recorded outputs are replayed by a real process (this Python writing the recorded bytes to its
stdout and stderr) through the real `_exec.run`, so decoding, `why()` and the collectors are the
product's own; only the exit code, which a Linux process cannot return above 255, is set back to the
recorded Windows value.
"""
from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Optional, Sequence

import pytest

from cbom import _exec
from cbom.collector import ScanContext
from cbom.host import HostBackend
from cbom.model import Component, Gap, Platform, Status
from cbom.runner import run_one
from collectors.hardware import HardwareWindows
from collectors.osinfo import OsWindows
from collectors.software import _windows as SW

WINE = Path(__file__).resolve().parents[1] / "fixtures" / "wine" / "wine-8.0-win10"
REPLAY = ("import sys; sys.stdout.buffer.write(open(sys.argv[1], 'rb').read()); "
          "sys.stderr.buffer.write(open(sys.argv[2], 'rb').read()); sys.exit(int(sys.argv[3]))")


def recorded_name(argv: Sequence[str]) -> Optional[str]:
    """Which recording answers `argv`. wine's PowerShell is a stub that answers every script alike."""
    low = [a.lower() for a in argv]
    if low[0] == "powershell":
        if "-encodedcommand" in low:
            return "powershell-os"
        return "powershell-qfe" if "win32_quickfixengineering" in low[-1] else "powershell-cim-hardware"
    if low[:2] == ["wmic", "path"]:
        return "wmic-" + argv[2]
    if low[:2] in (["wmic", "os"], ["wmic", "qfe"]):
        return "wmic-" + low[1]
    if low == ["systeminfo"]:
        return "systeminfo"
    return None


class WineReplay(HostBackend):
    """The running machine as wine 8.0 answered (kind "local": the collectors' live paths)."""

    kind = "local"

    def __init__(self) -> None:
        self.root = WINE
        self.codes = {name: entry["returncode"]
                      for name, entry in json.loads((WINE / "commands.json").read_text()).items()}

    def run(self, argv: Sequence[str], timeout: float = _exec.DEFAULT_TIMEOUT) -> _exec.CommandResult:
        name = recorded_name(argv)
        if name is None or not (WINE / f"{name}.stdout").exists():
            return _exec.CommandResult(tuple(argv), 127, "", "", error=f"`{argv[0]}` not found on PATH")
        rc = self.codes[name]
        res = _exec.run([sys.executable, "-c", REPLAY, str(WINE / f"{name}.stdout"), str(WINE / f"{name}.stderr"),
                         str(rc & 0xFF)], timeout=timeout)
        assert not res.error, res.error
        return replace(res, argv=tuple(argv), rc=rc)

    def which(self, command: str) -> Optional[str]:
        return command if command.lower() in ("powershell", "wmic", "systeminfo") else None


def _ctx() -> ScanContext:
    return ScanContext(platform=Platform.WINDOWS, host=WineReplay(), admin=True)


def _no_controls(text: str) -> bool:
    return not any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text)


def test_the_recording_is_what_the_notes_describe():
    """The premise, read from the bytes: UTF-16LE error text, unsigned -1, table output, silent stubs."""
    assert (WINE / "wmic-Win32_DiskDrive.stderr").read_bytes() == "Error: Invalid query\n".encode("utf-16-le")
    assert WineReplay().codes["wmic-Win32_DiskDrive"] == 4294967295
    bios = (WINE / "wmic-Win32_BIOS.stdout").read_bytes().decode("utf-16")
    assert "=" not in bios and bios.startswith("EmbeddedControllerMajorVersion")
    assert (WINE / "powershell-qfe.stdout").read_bytes() == b"" and WineReplay().codes["powershell-qfe"] == 0


def test_wmic_table_and_refusals_are_gaps_naming_the_class():
    run, items = run_one(HardwareWindows, _ctx())
    assert run.status == Status.PARTIAL
    gaps = run.gaps
    # wine printed tables for these four: nothing parsed, each said (it used to be 0 records, no gap).
    for cls in ("Win32_BIOS", "Win32_BaseBoard", "Win32_ComputerSystemProduct", "Win32_VideoController"):
        (gap,) = [g for g in gaps if g.startswith(cls + " ")]
        assert "no 'Property=value' instance" in gap and "not /format:list" in gap, gap
    # Refused classes: both sources named, the UTF-16 error text kept, the exit code signed.
    (disk,) = [g for g in gaps if g.startswith("Win32_DiskDrive ")]
    assert disk.startswith("Win32_DiskDrive not read (PowerShell CIM: exited 0 but printed nothing; wmic: `wmic path")
    assert disk.endswith("exited -1 (0xFFFFFFFF): Error: Invalid query)"), disk
    assert "4294967295" not in " ".join(gaps)
    assert all(_no_controls(g) for g in gaps) and _no_controls(run.reason)
    assert not [i for i in items if isinstance(i, Component)]


def test_powershell_silent_and_wmic_qfe_refused_is_a_hotfix_gap():
    items = list(SW.live_hotfixes(_ctx()))
    (gap,) = items
    assert isinstance(gap, Gap)
    assert gap.reason.startswith("hotfixes not read (PowerShell Win32_QuickFixEngineering: exited 0 but printed nothing;")
    assert gap.reason.endswith("wmic: `wmic qfe get /format:list` exited 1: Error: Alias not found)"), gap.reason
    assert _no_controls(gap.reason)


def test_os_windows_says_each_source_printed_nothing_or_refused():
    run, items = run_one(OsWindows, _ctx())
    assert run.status == Status.PARTIAL
    (gap,) = run.gaps
    assert gap.startswith("Windows version unknown: PowerShell WMI exited 0 but printed nothing; "), gap
    assert "`wmic os get /format:list` exited -1 (0xFFFFFFFF): Error: Invalid query" in gap
    assert gap.endswith("`systeminfo` exited 0 but printed nothing"), gap
    assert len(gap) < 300 and _no_controls(gap)  # no -EncodedCommand blob quoted


@pytest.mark.parametrize("stderr, rc, expected", [
    ("Node - PC\nERROR:\nDescription = Invalid query\n\n", 0x80041017, "exited -2147217385 (0x80041017): "
                                                                       "Description = Invalid query"),
    ("No Instance(s) Available.\n", 0, ""),
])
def test_wmic_stderr_shapes(stderr, rc, expected):
    """Real Windows wmic's error block (last line kept) and its "no instance" note (not a gap)."""
    res = _exec.CommandResult(("wmic", "path", "Win32_Tpm", "get", "x", "/format:list"), rc, "", stderr)
    if expected:
        assert res.why().endswith(expected)
    else:
        from collectors.hardware import _windows as HW

        assert HW.no_instances(res.stderr) and res.empty
