"""The host backends: a recorded folder answers the collectors' commands and file reads.

Recorded folders here are real collect.sh runs on this machine, or folders built from real fixture
bytes; the expected answers are the files themselves, never the code's own output.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from cbom import runner
from cbom.cli import main
from cbom.collector import ScanContext
from cbom.host import LocalHost, RecordedHost
from cbom.model import Platform
from cbom.recording import Recording
from collectors import BUILTIN
from conftest import REPO, SHARED, assert_finished_without_failure

COLLECT_SH = REPO / "usb_bundle" / "collect" / "collect.sh"
FIXTURES = SHARED / "fixtures"
needs_shared = pytest.mark.skipif(not FIXTURES.is_dir(), reason="../shared/fixtures not present")


@pytest.fixture(scope="module")
def recorded_here(tmp_path_factory) -> Path:
    """collect.sh run on this machine, as an auditor runs it from the stick."""
    out = tmp_path_factory.mktemp("rec") / "here"
    proc = subprocess.run(["sh", str(COLLECT_SH), str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


def test_recorded_command_is_the_file_the_script_wrote(recorded_here):
    host = RecordedHost(Recording(str(recorded_here)))
    result = host.run(["uname", "-a"])
    assert result.ok and result.stdout == (recorded_here / "uname-a.txt").read_text()
    assert host.which("uname") and host.which("no-such-tool") is None
    missing = host.run(["no-such-tool", "--list"])
    assert not missing.ok and "was not recorded" in missing.error


def test_recorded_file_follows_the_manifest(recorded_here):
    """collect.sh's manifest says which host file each copy came from ("cat /etc/os-release")."""
    host = RecordedHost(Recording(str(recorded_here)))
    assert host.read("/etc/os-release") == Path("/etc/os-release").read_text()
    assert host.looked_at("/etc/os-release")
    assert not host.looked_at("/etc/no-such-file")
    with pytest.raises(FileNotFoundError):
        host.read("/etc/no-such-file")


def test_recorded_sysfs_links_resolve_as_on_the_machine(recorded_here):
    """collect.sh writes a sysfs link's target as a file (FAT sticks hold no links): the recorded
    backend answers with the same target the running machine's /sys gives."""
    local, recorded = LocalHost(), RecordedHost(Recording(str(recorded_here)))
    names = sorted(p.name for p in Path("/sys/class/net").iterdir() if (p / "device").exists())
    if not names:
        pytest.skip("no network interface backed by a device on this machine")
    for name in names:
        assert recorded.sys_link(f"/sys/class/net/{name}/device") == local.sys_link(f"/sys/class/net/{name}/device")
        assert Path(recorded.sys_link(f"/sys/class/net/{name}/device/driver") or "").name == \
            Path(local.sys_link(f"/sys/class/net/{name}/device/driver") or "").name


def test_wmic_path_class_is_answered_by_its_dump(tmp_path):
    src = FIXTURES / "windows" / "glpi-proxmox-vm"
    if not src.is_dir():
        pytest.skip("../shared/fixtures not present")
    shutil.copytree(src, tmp_path / "rec")
    host = RecordedHost(Recording(str(tmp_path / "rec")))
    dump = next(p for p in (tmp_path / "rec").iterdir() if p.name.lower() == "win32_bios.wmi")
    result = host.run(["wmic", "path", "Win32_BIOS", "get", "Manufacturer,SMBIOSBIOSVersion", "/format:list"])
    assert result.ok and result.raw == dump.read_bytes()


def test_a_command_run_twice_in_a_scan_runs_once(tmp_path):
    """Two sources asking one command line (dmidecode for DMI and CPU) share one run."""
    counter = tmp_path / "count"
    script = tmp_path / "tool"
    script.write_text(f"#!/bin/sh\necho x >> {counter}\necho hello\n")
    script.chmod(0o755)
    ctx = ScanContext()
    assert ctx.run([str(script)]).stdout == ctx.run([str(script)]).stdout == "hello\n"
    assert counter.read_text() == "x\n"


@needs_shared
@pytest.mark.parametrize("folder", ["windows/glpi-7-netchaeiv", "macos/glpi-macbookpro-m1pro-2021-14.5",
                                    "linux/jc-centos-7.7-vmware"])
def test_cbom_ingest_is_the_collectors_on_the_recorded_backend(folder, tmp_path):
    """`cbom ingest` and the collectors run by hand on a RecordedHost give the same components."""
    path = FIXTURES / folder
    rc = main(["-q", "ingest", str(path), "--format", "json", "-o", str(tmp_path)])
    doc = json.loads((tmp_path / "cbom.cdx.json").read_text(encoding="utf-8"))
    assert_finished_without_failure(rc, doc)  # partial where the recording lacks a source's files
    rec = Recording(str(path))
    assert rec.platform is not None
    ctx = ScanContext(platform=rec.platform, host=RecordedHost(rec), admin=True)
    scan = runner.scan(runner.select_for_recording(BUILTIN, rec.platform), ctx, host_name="x")
    assert sorted(c["bom-ref"] for c in doc.get("components", [])) == sorted(c.ref for c in scan.components)
    assert [r.name for r in scan.runs if r.name != "recording"] and all(
        rec.platform in next(c for c in BUILTIN if c.name == r.name).platforms for r in scan.runs)
    assert Platform(doc_platform(doc)) == rec.platform


def doc_platform(doc: dict) -> str:
    return next(p["value"] for p in doc["metadata"]["properties"] if p["name"] == "cbom:recorded:platform")
