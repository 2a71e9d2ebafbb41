"""A full `cbom scan` under Windows' own CPython (python.org's embeddable 3.9 and 3.13, under wine 8.0),
started from the stick: the working folder and the interpreter are on D:, the system drive is C:.

Wine's PowerShell, systeminfo and WMI are stubs (notes §1), so this shows that the Windows code
runs and that every failure becomes a status with a reason, not which values real Windows gives
(test_replay.py feeds real recorded outputs through the same code).
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from wine_fixtures import bundle, DRIVE_D, PYTHONS, prefix, tag, text, win_pythons, win_wheelhouse  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow
SCAN_TIMEOUT = 300
# Every collector a Windows scan runs by default, but capture (it would listen 30 s).
COLLECTORS = ("os.windows", "hardware.windows", "network.windows", "software.windows", "software.python",
              "posture.accounts", "posture.startup", "posture.settings", "crypto.windows")
# Where a Python distribution sits on a Windows machine and cbom's root-relative globs look:
# a virtualenv under \opt (pyvenv.cfg + Lib\site-packages) and a python.org all-users install.
MARKER_PLACES = ("opt/cbom-marker-venv/Lib/site-packages", "Program Files/Python311/Lib/site-packages")
ON_C, ON_D = "cbom-marker-on-c", "cbom-marker-on-d"


def _plant(drive_root: Path, dist: str) -> List[Path]:
    made = []
    for place in MARKER_PLACES:
        site = drive_root / place
        info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
        info.mkdir(parents=True, exist_ok=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n", encoding="ascii")
        if "venv" in place:
            (site.parents[1] / "pyvenv.cfg").write_text("home = C:\\Python311\nversion = 3.11.9\n", encoding="ascii")
        made.append(drive_root / Path(place).parts[0])
    return made


@pytest.fixture(scope="module")
def drive_markers(prefix) -> Iterator[None]:  # noqa: F811
    """A distribution on C: (the system drive) and another on D: (the stick), at the same places."""
    made = _plant(prefix.path / "drive_c", ON_C) + _plant(DRIVE_D, ON_D)
    yield
    for top in made:
        shutil.rmtree(top, ignore_errors=True)


@dataclass
class Scan:
    version: str
    rc: int
    stderr: str
    out: Path
    doc: dict

    def props(self) -> Dict[str, List[str]]:
        found: Dict[str, List[str]] = {}
        for p in self.doc.get("metadata", {}).get("properties", []):
            found.setdefault(p["name"], []).append(p["value"])
        return found


@pytest.fixture(scope="module", params=PYTHONS, ids=lambda v: f"cpython{v}")
def scan(request, prefix, win_pythons, drive_markers) -> Scan:  # noqa: F811
    version = request.param
    out = DRIVE_D / "scans" / tag(version)
    shutil.rmtree(out, ignore_errors=True)
    (DRIVE_D / "scans").mkdir(exist_ok=True)
    proc = prefix.run([win_pythons[version], "-m", "cbom", "scan", "--skip", "capture", "--operator", "wine tier",
                       "--format", "json,yaml,html", "-o", out], cwd="D:\\scans", timeout=SCAN_TIMEOUT)
    path = out / "cbom.cdx.json"
    assert path.is_file(), f"no cbom.cdx.json (exit {proc.returncode}):\n{text(proc.stderr)[-3000:]}"
    return Scan(version, proc.returncode, text(proc.stderr), out, json.loads(path.read_bytes()))


def test_exit_code_and_no_traceback(scan):
    assert scan.rc in (0, 3), scan.stderr[-3000:]
    assert "Traceback" not in scan.stderr, scan.stderr[-3000:]


def test_valid_cyclonedx_16(scan):
    from cbom import validate

    assert scan.doc["specVersion"] == "1.6"
    assert validate.errors(scan.doc) == []
    for name in ("cbom.cdx.yaml", "cbom.html"):
        assert (scan.out / name).is_file(), f"{name} not written"


def test_no_nul_character_anywhere(scan):
    """wmic's UTF-16 stderr once became a NUL in the gap texts (notes §7 B)."""
    for f in sorted(scan.out.iterdir()):
        data = f.read_bytes()
        assert b"\x00" not in data, f"{f.name} holds a NUL byte"
        assert b"\\u0000" not in data, f"{f.name} holds an escaped NUL character"


def test_sha256sums_match(scan):
    lines = (scan.out / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    listed = {}
    for line in lines:
        digest, _, name = line.partition("  ")
        listed[name.lstrip("*")] = digest
    written = {f.name for f in scan.out.iterdir() if f.name != "SHA256SUMS"}
    assert sorted(written - set(listed)) == [], "files left in the output folder that SHA256SUMS does not cover"
    assert sorted(set(listed) - written) == [], "files in SHA256SUMS that are not in the output folder"
    for name, digest in listed.items():
        assert hashlib.sha256((scan.out / name).read_bytes()).hexdigest() == digest, name


def test_every_collector_has_a_status_and_a_reason(scan):
    props = scan.props()
    for name in COLLECTORS:
        status = props.get(f"cbom:collector:{name}:status", [])
        assert len(status) == 1, f"{name}: status {status}"
        if status[0] != "ok":
            reason = props.get(f"cbom:collector:{name}:reason", [""])[0]
            assert reason.strip(), f"{name} is {status[0]} without a reason"


def _python_components(scan: Scan) -> Dict[str, List[str]]:
    """{distribution name: [its site folders]} of the scan's Python components."""
    found: Dict[str, List[str]] = {}
    for c in scan.doc.get("components", []):
        sites = [p["value"] for p in c.get("properties", []) if p["name"] == "cbom:python:site"]
        if sites:
            found.setdefault(c["name"], []).extend(sites)
    return found


def test_inventories_the_system_drive_not_the_stick(scan):
    """Run from D:, the scan describes C: (issue 13: on Windows `Path("/")` is the root of the
    current drive, so a scan run from the stick inventoried the stick). The same distribution
    layout is planted on both drives; only C:'s may be found."""
    found = _python_components(scan)
    assert ON_D not in found, f"the stick (D:) was inventoried: {ON_D} at {found[ON_D]}"
    assert ON_C in found, (f"{ON_C} on the system drive C: was not inventoried; software.python said: "
                           f"{scan.props().get('cbom:collector:software.python:reason')}")


def test_own_interpreter_is_not_host_software(scan):
    """The interpreter running cbom from the stick, and the packages installed into it, are not
    the machine's software (notes §7 E: 47-50 of cbom's own dependencies were listed)."""
    found = _python_components(scan)
    own = sorted(name for name, sites in found.items() if any(s.upper().startswith("D:") for s in sites))
    assert own == [], f"{len(own)} distributions of the stick's own Python listed as host software: {own[:8]}"


# CPUID bits Linux passes to /proc/cpuinfo unchanged: the same processor runs wine, so the kernel's
# reading is the independent truth for what the Windows scan read through py-cpuinfo.
# (Only flags the CPU component lists: collectors/hardware/_linux.py CPU_FLAGS_OF_INTEREST.)
CPUID_BITS = ("aes", "pclmulqdq", "sha_ni", "rdrand", "rdseed", "vaes", "vpclmulqdq", "avx", "avx2", "avx512f",
              "smep", "smap")


def test_cpu_flags_read_by_cpuid(scan):
    """WMI has no feature list: a live Windows scan reads CPUID through py-cpuinfo (issue 15)."""
    kernel = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            kernel = set(value.split())
            break
    cpus = [c for c in scan.doc.get("components", [])
            if any(p["name"] == "cbom:device-type" and p["value"] == "cpu" for p in c.get("properties", []))]
    assert cpus, f"no CPU component; hardware.windows said: {scan.props().get('cbom:collector:hardware.windows:reason')}"
    for cpu in cpus:
        flags = {p["value"] for p in cpu.get("properties", []) if p["name"] == "cbom:cpu:flag"}
        assert {f for f in CPUID_BITS if f in kernel} == {f for f in CPUID_BITS if f in flags}, cpu["name"]


def test_crypto_provider_dlls_with_their_file_versions(scan, prefix):  # noqa: F811
    """crypto.windows versions the system's provider DLLs (C:\\windows\\system32, wine's own builtins
    here); pefile reads the same files' version resources independently."""
    import pefile

    libs = {c["name"]: c.get("version", "") for c in scan.doc.get("components", [])
            if c.get("type") == "library" and any(p["name"] == "cbom:crypto:path" for p in c.get("properties", []))}
    assert "Schannel" in libs, sorted(libs)
    system32 = prefix.path / "drive_c" / "windows" / "system32"
    pe = pefile.PE(str(system32 / "schannel.dll"), fast_load=True)
    pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]])
    ms, ls = pe.VS_FIXEDFILEINFO[0].FileVersionMS, pe.VS_FIXEDFILEINFO[0].FileVersionLS
    assert libs["Schannel"] == f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"
