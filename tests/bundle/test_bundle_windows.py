"""The stick's Windows build: windows-x86_64/cbom.exe and cbom-scan.bat, run under wine.

Wine (Debian's 8.0) proves that the frozen Windows build starts, scans and writes its files with
Windows' own process, path and console semantics; it does not prove what a real Windows prints
(wine's wmic, PowerShell and systeminfo are stubs: the collectors end partial, with reasons). The
real Windows outputs are tested as recordings (tests/windows, tests/golden).
"""
from __future__ import annotations

import json
import os
import shutil
import sys

import pytest
import yaml

from bundle_fixtures import bundle, bundle_info  # noqa: F401 (fixtures)
from cbom import validate
from conftest import REPO
from test_bundle_e2e import footprint, snapshot

pytestmark = pytest.mark.slow
SCAN_TIMEOUT = 600


def _wine():
    sys.path.insert(0, str(REPO))
    from usb_bundle import wine

    return wine


@pytest.fixture(scope="module")
def stick_prefix(bundle, tmp_path_factory):
    """A fresh wine prefix whose D: drive holds a copy of the stick (D:\\cbom-usb)."""
    wine = _wine()
    why = wine.unavailable_reason()
    if why:
        pytest.skip(f"wine cannot run here: {why}")
    drive = tmp_path_factory.mktemp("stick-drive")
    shutil.copytree(bundle, drive / "cbom-usb")
    prefix = wine.Prefix(tmp_path_factory.mktemp("wine") / "prefix", drive).ensure()
    yield prefix, drive / "cbom-usb"
    prefix.close()


def test_windows_build_on_the_stick(bundle, bundle_info):
    why = _wine().unavailable_reason()
    if why:
        pytest.skip(f"no cbom.exe expected: wine cannot run here ({why})")
    assert bundle_info["windows"]["built"], bundle_info["windows"]
    for name in ("windows-x86_64/cbom.exe", "windows-x86_64/_internal/templates/report.html.j2",
                 "windows-x86_64/_internal/collectors/data/pci.ids.gz", "collect/collect.bat", "collect/collect.ps1"):
        assert (bundle / name).is_file(), name
    internal = bundle / "windows-x86_64" / "_internal"
    # The build's own interpreter is Windows' CPython, not wine's placeholder DLLs: the only
    # python DLL is python.org's, signed "Python Software Foundation".
    dlls = sorted(p.name.lower() for p in internal.glob("python3*.dll"))
    assert dlls and all(n in ("python3.dll", "python311.dll") for n in dlls), dlls
    assert b"Python Software Foundation" in (internal / "python311.dll").read_bytes()
    # WeasyPrint's stack is left out (it cannot make a PDF on Windows without GTK).
    assert not (internal / "weasyprint").exists() and not (internal / "PIL").exists()
    for name in ("cbom-scan.bat", "collect/collect.bat"):
        raw = (bundle / name).read_bytes()
        assert raw.count(b"\r\n") == raw.count(b"\n"), f"{name}: cmd.exe needs CRLF line ends"
    size = sum(p.stat().st_size for p in (bundle / "windows-x86_64").rglob("*") if p.is_file())
    print(f"\nwindows-x86_64: {size / 1e6:.0f} MB")


def test_exe_scan_from_the_stick(stick_prefix, tmp_path):
    """cbom.exe run from D: (the stick): a valid CBOM of the machine, every collector with a status
    and, when not ok, a reason; no traceback, no NUL character."""
    prefix, stick = stick_prefix
    out = stick / "reports" / "exe-run"
    proc = prefix.run([prefix.windows_path(stick / "windows-x86_64" / "cbom.exe"), "scan", "--format", "json,yaml,html",
                       "-o", prefix.windows_path(out), "--operator", "Wine Test"],
                      cwd=prefix.windows_path(stick), timeout=SCAN_TIMEOUT)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode in (0, 3), err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    raw = (out / "cbom.cdx.json").read_bytes()
    assert b"\\u0000" not in raw and b"\x00" not in raw
    doc = json.loads(raw)
    assert validate.errors(doc) == []
    assert yaml.safe_load((out / "cbom.cdx.yaml").read_text(encoding="utf-8")) == doc
    props = {p["name"]: p["value"] for p in doc["metadata"]["properties"]}
    statuses = {k.split(":")[2]: v for k, v in props.items() if k.startswith("cbom:collector:") and k.endswith(":status")}
    assert {"os.windows", "hardware.windows", "network.windows", "software.windows"} <= set(statuses), statuses
    for name, status in statuses.items():
        assert status in ("ok", "partial", "skipped", "failed"), (name, status)
        if status != "ok":
            assert props.get(f"cbom:collector:{name}:reason"), f"{name} is {status} without a reason"
    assert doc["metadata"]["component"]["type"] == "device"
    # The no-PDF line names what a Windows machine lacks, not Debian packages.
    assert "libpango" not in err


def test_launcher_bat_writes_only_its_report_folder(stick_prefix):
    """cbom-scan.bat under `wine cmd`, no Python in the prefix: reports\\<host>-<UTC time>\\ with the
    JSON, YAML and HTML (no browser engine in the prefix, so no PDF, and it says why), and nothing
    written outside that folder on C: or the stick.

    wine's cmd is not cmd.exe (../shared/notes/windows-under-wine.md §5): this shows the launcher's
    cbom.exe path runs to its end, not every branch of it."""
    prefix, stick = stick_prefix
    drive_c = prefix.path / "drive_c"
    assert not list(drive_c.rglob("python.exe")), "the prefix must have no Python"
    before_c, before_stick = snapshot(drive_c), snapshot(stick)
    proc = prefix.run(["cmd", "/c", prefix.windows_path(stick / "cbom-scan.bat"), "--no-open",
                       "--operator", "Launcher Test"], cwd=prefix.windows_path(stick), timeout=SCAN_TIMEOUT)
    out_text = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
    assert proc.returncode in (0, 3), out_text[-3000:]
    reports = [p for p in (stick / "reports").iterdir() if p.is_dir() and p.name != "exe-run"]
    assert len(reports) == 1, reports
    assert f"reports are in {prefix.windows_path(reports[0])}" in out_text, out_text[-2000:]
    names = sorted(os.listdir(reports[0]))
    assert {"cbom.cdx.json", "cbom.cdx.yaml", "cbom.html", "SHA256SUMS"} <= set(names), names
    doc = json.loads((reports[0] / "cbom.cdx.json").read_text(encoding="utf-8"))
    assert validate.errors(doc) == []
    assert [a.get("name") for a in doc["metadata"].get("authors", [])] == ["Launcher Test"]
    if "cbom.pdf" not in names:
        assert "PDF" in out_text and "Edge" in out_text, out_text[-2000:]
    assert footprint(before_stick, snapshot(stick), "reports") == []
    changed_c = footprint(before_c, snapshot(drive_c), "__none__")
    assert changed_c == [], changed_c
