"""usb_bundle/collect/collect.bat run to its end under `wine cmd /c`, then ingested on Linux.

What this can show: the script parses and runs to its end in wine's cmd.exe (setlocal, delayed
expansion, `call :label`, `%%~z` sizes), writes one manifest line per command it runs with an
exit code, deletes empty outputs, exports the Uninstall key as regedit does (the imported
fixture's programs come back through `cbom ingest`), and its folder ingests without a traceback,
naming what is missing. What it cannot show (notes §5): how a real cmd.exe runs it. Wine's cmd
and tools differ: findstr prints nothing (so no per-user HKU exports), `find "x"` keeps the quotes,
quoted `for` wildcards do not expand, `a && b || c` runs both branches; wine's systeminfo and
tasklist print nothing, its wmic refuses `path CLASS`, its certutil hashes nothing. Assertions are
limited to what does not depend on those.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import List

import pytest

from conftest import REPO, run_cbom
from wine_fixtures import DRIVE_D, RECORDINGS, prefix, text  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow
COLLECT_BAT = REPO / "usb_bundle" / "collect" / "collect.bat"
UNINSTALL_KEY = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
# A real export (UTF-16, Cyrillic names) put into the prefix's registry before the script runs.
UNINSTALL_FIXTURE = RECORDINGS / "glpi-10-russian" / "Uninstall.reg"


def expected_manifest_files() -> List[str]:
    """The output names collect.bat gives its commands (`call :run "FILE"`, `call :reg "FILE"` and
    the WMI class loop), except the per-user hives that wine's findstr cannot list."""
    script = COLLECT_BAT.read_text(encoding="ascii")
    names = [n for n in re.findall(r'call :(?:run|reg) "([^"%]+)"', script)]
    loop = re.search(r"for %%c in \(([^)]*)\) do", script)
    assert loop, "collect.bat's WMI class loop not found"
    return names + [f"{cls}.wmi" for cls in loop.group(1).split()]


@pytest.fixture(scope="module")
def recorded(prefix, tmp_path_factory):  # noqa: F811
    """collect.bat's folder, recorded under wine, and its `cbom ingest` on Linux."""
    if not UNINSTALL_FIXTURE.is_file():
        pytest.skip(f"{UNINSTALL_FIXTURE} not present")
    stick = DRIVE_D / "stick"
    shutil.rmtree(stick, ignore_errors=True)
    (stick / "collect").mkdir(parents=True)
    shutil.copyfile(COLLECT_BAT, stick / "collect" / "collect.bat")
    shutil.copyfile(UNINSTALL_FIXTURE, stick / "Uninstall-fixture.reg")
    prefix.run(["reg", "delete", UNINSTALL_KEY, "/f"])  # absent already is fine
    imported = prefix.run(["reg", "import", stick / "Uninstall-fixture.reg"])
    assert imported.returncode == 0, text(imported.stderr)
    try:
        proc = prefix.run(["cmd", "/c", stick / "collect" / "collect.bat", stick / "recordings" / "wine"],
                          cwd="D:\\stick", timeout=300)
    finally:
        prefix.run(["reg", "delete", UNINSTALL_KEY, "/f"])
    folder = stick / "recordings" / "wine"
    out = tmp_path_factory.mktemp("collect-bat") / "ingest"
    ingest = run_cbom("ingest", str(folder), "-o", str(out), "--format", "json")
    original = run_cbom("ingest", str(UNINSTALL_FIXTURE.parent), "-o", str(out.parent / "original"), "--format", "json")
    assert original.returncode in (0, 3), original.stderr
    return {"proc": proc, "folder": folder, "ingest": ingest, "doc": _load(out / "cbom.cdx.json"),
            "original": _load(out.parent / "original" / "cbom.cdx.json")}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def test_runs_to_its_end(recorded):
    proc = recorded["proc"]
    assert proc.returncode == 0, text(proc.stderr)[-2000:]
    assert text(proc.stdout).strip().splitlines()[-1] == "D:\\stick\\recordings\\wine"
    manifest = (recorded["folder"] / "manifest.txt").read_text(encoding="cp1252")
    assert "# script collect.bat version 1;" in manifest
    assert re.search(r"^# finished", manifest, re.M), "the closing manifest line is missing"


def test_manifest_has_a_line_per_command(recorded):
    lines = (recorded["folder"] / "manifest.txt").read_text(encoding="cp1252").splitlines()
    entries = {}
    for line in lines:
        if line.startswith("#"):
            continue
        cols = line.split("\t")
        assert len(cols) == 4, f"not FILE<TAB>RC<TAB>TIME<TAB>COMMAND: {line!r}"
        assert re.fullmatch(r"-?\d+", cols[1]), f"exit code {cols[1]!r} in {line!r}"
        entries[cols[0]] = cols
    missing = [name for name in expected_manifest_files() if name not in entries]
    assert missing == [], f"no manifest line for {missing}"
    # An output is kept only when the command printed something; an empty one is deleted.
    for name in entries:
        path = recorded["folder"] / name
        assert not path.exists() or path.stat().st_size > 0, f"{name}: empty output kept"


def test_uninstall_export_round_trips(recorded):
    """The programs of the imported export come back, identical, through cbom ingest of the
    folder collect.bat wrote (reg export: UTF-16LE with BOM, as on Windows)."""
    assert (recorded["folder"] / "Uninstall.reg").read_bytes()[:2] == b"\xff\xfe"

    def programs(doc: dict) -> List[tuple]:
        return sorted((c["name"], c.get("version", ""), c["bom-ref"]) for c in doc.get("components", [])
                      if c["type"] == "application")

    assert programs(recorded["original"]), "the fixture's export lists no program"
    assert programs(recorded["doc"]) == programs(recorded["original"])


def test_ingest_states_what_is_missing_without_traceback(recorded):
    from cbom.recording import EXPECTED, Recording
    from cbom.model import Platform

    ingest = recorded["ingest"]
    assert ingest.returncode in (0, 3), ingest.stderr[-2000:]
    assert "Traceback" not in ingest.stderr
    props = recorded["doc"]["metadata"]["properties"]
    said_missing = {p["value"] for p in props if p["name"] == "cbom:recorded:missing"}
    present = {n.lower() for n in Recording(str(recorded["folder"])).names()}
    absent = {alts[0] for alts in EXPECTED[Platform.WINDOWS] if not any(a.lower() in present for a in alts)}
    assert absent, "wine's stubs leave files out: some expected file should be missing"
    assert said_missing == absent


def test_sha256sums_is_complete_or_absent(recorded):
    """A SHA256SUMS that exists lists every file of the folder (wine's certutil prints no hash:
    an empty list would claim an intact recording with nothing checked, notes §7 J)."""
    sums = recorded["folder"] / "SHA256SUMS"
    files = {p.name for p in recorded["folder"].iterdir() if p.name not in ("SHA256SUMS", "manifest.txt")}
    manifest = (recorded["folder"] / "manifest.txt").read_text(encoding="cp1252")
    failed = re.search(r"^SHA256SUMS\t1\t[^\t]*\t(.*)$", manifest, re.M)
    unhashed = set(failed.group(1).split(":", 1)[1].split()) if failed and "printed no SHA-256 for:" in failed.group(1) else set()
    if not sums.exists():
        assert failed, "no SHA256SUMS and the manifest does not say why"
        assert unhashed == files, "the manifest must name every file left unhashed"
        return
    listed = {line.split("  ", 1)[1].lstrip("*") for line in sums.read_text(encoding="cp1252").splitlines() if "  " in line}
    assert sorted(files - listed - unhashed) == [], "recorded files neither in SHA256SUMS nor named as unhashed"


def test_refused_wmi_queries_keep_their_error_text(recorded):
    """wine's wmic refuses `/format:list` (exit -1, "Error: Invalid query" on stderr, UTF-16): the
    ingest's gaps quote the exit code signed and the error's last line, with no NUL character."""
    props = recorded["doc"]["metadata"]["properties"]
    gaps = [p["value"] for p in props if p["name"].endswith(":gap") or p["name"].endswith(":reason")]
    refused = [g for g in gaps if "wmic" in g and "exited" in g]
    assert refused, gaps
    assert all("\x00" not in g and "4294967295" not in g for g in gaps), refused[:3]
    assert any("Invalid query" in g for g in refused), refused[:3]
