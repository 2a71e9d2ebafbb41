"""The os collector on macOS: sw_vers and system_profiler recordings, and the collect() flow replayed."""
from __future__ import annotations

import plistlib
from pathlib import Path

import pytest

from cbom import cyclonedx, runner, validate
from cbom.collector import ScanContext
from cbom.host import RecordedHost
from cbom.recording import Recording
from cbom.model import Component, Gap, HostFact, Platform, Status
from collectors.osinfo import OsDarwin as OsCollector
from collectors.osinfo import _darwin as d

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "os"


@pytest.mark.parametrize("rel, name, version, build, cpe", [
    ("sys-toolkit-big-sur/sw_vers.txt", "macOS", "11.6.2", "20G314", "cpe:2.3:o:apple:macos:11.6.2:*:*:*:*:*:*:*"),
    ("sys-toolkit-high-sierra/sw_vers.txt", "Mac OS X", "10.13.6", "17G14042",
     "cpe:2.3:o:apple:mac_os_x:10.13.6:*:*:*:*:*:*:*"),
])
def test_sw_vers_recordings(rel, name, version, build, cpe):
    sw = d.parse_sw_vers((FIX / rel).read_text())
    assert sw == {"ProductName": name, "ProductVersion": version, "BuildVersion": build}
    comp = d.component(sw)
    assert (comp.name, comp.version, comp.cpe) == ("macos", version, cpe)
    assert comp.description == f"{name} {version} ({build})"
    assert comp.prop("cbom:build") == build
    assert comp.supplier == comp.manufacturer == "Apple Inc."
    assert comp.purl == ""


# (file, system version, kernel, SIP, boot mode)
SP = [
    ("glpi-10.6-imac7-1/system_profiler.txt", "Mac OS X", "10.6.4", "10F569", "10.4.0", "", "Normal"),
    ("glpi-11-macbookair10-1/system_profiler.txt", "macOS", "11.2.3", "20D91", "20.3.0", "Enabled", "Normal"),
    ("glpi-powermac-g5-ck54202sr6v/system_profiler-10.4.txt", "Mac OS X", "10.4.11", "8S165", "8.11.0", "", ""),
    ("glpi-powermac-g5-ck54202sr6v/system_profiler-10.5.txt", "Mac OS X", "10.5.8", "9L31a", "9.8.0", "", "Normal"),
]


@pytest.mark.parametrize("rel, name, version, build, kernel, sip, boot_mode", SP, ids=[s[0] for s in SP])
def test_system_profiler_software_overview(rel, name, version, build, kernel, sip, boot_mode):
    sp = d.parse_sp_software((FIX / rel).read_text())
    assert d.version_from_sp(sp) == {"ProductName": name, "ProductVersion": version, "BuildVersion": build}
    assert "ATA Bus" not in sp  # stops at the next data type
    comp = d.component({}, sp)
    assert (comp.version, comp.prop("cbom:build"), comp.prop("cbom:kernel")) == (version, build, kernel)
    assert comp.prop("cbom:sip") == sip and comp.prop("cbom:boot-mode") == boot_mode


def test_sw_vers_wins_over_system_profiler():
    sw = d.parse_sw_vers((FIX / "sys-toolkit-big-sur/sw_vers.txt").read_text())
    sp = d.parse_sp_software((FIX / "glpi-11-macbookair10-1/system_profiler.txt").read_text())
    comp = d.component(sw, sp)
    assert comp.version == "11.6.2" and comp.prop("cbom:sip") == "Enabled"


def test_small_parsers():
    assert d.parse_kern_boottime("{ sec = 1700000000, usec = 123 } Tue Nov 14 22:13:20 2023\n") == "2023-11-14T22:13:20Z"
    assert d.parse_kern_boottime("") == ""
    plist = plistlib.dumps({"ProductName": "macOS", "ProductVersion": "14.5", "ProductBuildVersion": "23F79"})
    assert d.parse_system_version_plist(plist) == {"ProductName": "macOS", "ProductVersion": "14.5",
                                                   "BuildVersion": "23F79"}
    assert d.parse_system_version_plist(b"\x00garbage") == {}


@pytest.mark.parametrize("text", ["", "garbage\n\x00\x01", "ProductName:\tmacOS\n", "<html>"])
def test_garbled_sw_vers(text):
    assert d.parse_sw_vers(text) == {}
    assert d.component(d.parse_sw_vers(text)) is None


def recorded(folder: Path) -> ScanContext:
    """A macOS scan context reading a recorded folder through the real recorded backend."""
    return ScanContext(platform=Platform.DARWIN, host=RecordedHost(Recording(str(folder))), admin=False)


def _items(ctx):
    items = list(OsCollector().collect(ctx))
    return ([i for i in items if isinstance(i, Component)], [i.reason for i in items if isinstance(i, Gap)],
            [i for i in items if isinstance(i, HostFact)])


def test_collect_recorded(tmp_path):
    for src in ("sys-toolkit-big-sur/sw_vers.txt", "glpi-11-macbookair10-1/system_profiler.txt"):
        (tmp_path / Path(src).name).write_bytes((FIX / src).read_bytes())
    ctx = recorded(tmp_path)
    (comp,), gaps, facts = _items(ctx)
    assert gaps == []
    assert comp.version == "11.6.2" and comp.prop("cbom:sip") == "Enabled"
    # Nothing of the machine running the test: no kernel, arch, hostname or locale of this host.
    assert [comp.prop(k) for k in ("cbom:arch", "cbom:hostname", "cbom:locale", "cbom:kernel-version")] == [""] * 4
    assert HostFact("cbom:os", "macOS 11.6.2 (20G314)") in facts
    assert ctx.host.used == ["sw_vers.txt", "system_profiler.txt"]
    scan = runner.scan([OsCollector], ctx, host_name="x")
    assert scan.runs[0].status == Status.OK
    assert validate.errors(cyclonedx.to_dict(scan)) == []


def test_collect_recorded_names_the_machine():
    # sysctl's kern.hostname, else system_profiler's Computer Name.
    _, _, facts = _items(recorded(FIX / "glpi-10.6-imac7-1"))
    assert HostFact("hostname", "lazer") in facts


def test_collect_without_recorded_tools_is_a_gap(tmp_path):
    comps, gaps, _ = _items(recorded(tmp_path))
    assert comps == []
    assert gaps[-1] == "macOS version unknown: neither sw_vers nor SystemVersion.plist answered"


def test_collect_mounted_volume(tmp_path):
    folder = tmp_path / "System/Library/CoreServices"
    folder.mkdir(parents=True)
    (folder / "SystemVersion.plist").write_bytes(
        plistlib.dumps({"ProductName": "Mac OS X", "ProductVersion": "10.13.6", "ProductBuildVersion": "17G14042"}))
    (comp,), gaps, _ = _items(ScanContext(platform=Platform.DARWIN, root=tmp_path, admin=False))
    assert gaps == []
    assert (comp.version, comp.cpe) == ("10.13.6", "cpe:2.3:o:apple:mac_os_x:10.13.6:*:*:*:*:*:*:*")
    assert comp.prop("cbom:kernel") == "" and comp.prop("cbom:hostname") == ""
