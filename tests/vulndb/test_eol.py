"""End of life from endoflife.date: the shared end-of-life recordings get their cycle's date, taken
here from the products files themselves; supported releases get none."""
from __future__ import annotations

from datetime import date

import pytest
import yaml

from cbom.model import VulnKind

from vulndb_support import DATA, SHARED, WINDOWS, copy_only, dbdir, ingest, needs_shared  # noqa: F401 (dbdir: a fixture)

REPO_FIXTURES = DATA.parents[0]


def _eol(product: str, cycle: str) -> str:
    text = (DATA / "endoflife" / "products" / f"{product}.md").read_text()
    releases = yaml.safe_load(text.split("---")[1])["releases"]
    value = next(r["eol"] for r in releases if str(r["releaseCycle"]) == cycle)
    return value.isoformat() if isinstance(value, date) else str(value)


def _eols(scan):
    return {v.id: v for v in scan.vulnerabilities if v.kind == VulnKind.END_OF_LIFE}


@pytest.mark.parametrize("recording, product, cycle", [
    ("wesng-xp-sp2-x86", "windows", "5-sp3"),  # XP: its last cycle (SP3) ended, so did every earlier one
    ("wesng-xp-sp3-x86", "windows", "5-sp3"),
    ("wesng-xp-sp2-x64", "windows", "5-sp3"),
    ("wesng-7-sp1-x64-b", "windows", "7-sp1"),
    ("wesng-2003r2-sp2-x86", "windows-server", "2003-sp2"),
    ("wesng-2008r2-sp1-x64", "windows-server", "2008-r2-sp1"),
    ("wesng-10-1809-precision-5530", "windows", "10-1809-w"),  # Windows 10 Pro: the (W) cycle
])
def test_windows_end_of_life(recording, product, cycle, dbdir, tmp_path):
    src = WINDOWS / recording
    scan = ingest(copy_only(src, ["systeminfo.txt"], tmp_path / "r"), tmp_path / "out", dbdir)
    found = _eols(scan)
    v = found[f"EOL-{product}-{cycle}"]
    assert v.eol_date == _eol(product, cycle)
    assert v.refs == (next(c.ref for c in scan.components if c.name == "windows"),)
    assert "ago" in v.title and v.eol_date in v.title


@pytest.mark.parametrize("recording", ["wesng-11-24h2-ltsc", "wesng-2022", "wesng-10-1809-zh-cn"])
def test_supported_windows_has_no_end_of_life(recording, dbdir, tmp_path):
    # 11 24H2 LTSC, Server 2022 and 10 1809 LTSC (企业版 LTSC) are supported past 2026-12 per the data
    scan = ingest(copy_only(WINDOWS / recording, ["systeminfo.txt"], tmp_path / "r"), tmp_path / "out", dbdir)
    assert _eols(scan) == {}


def test_centos7(dbdir, tmp_path):
    scan = ingest(DATA / "linux" / "centos7", tmp_path / "out", dbdir)
    assert _eols(scan)["EOL-centos-7"].eol_date == _eol("centos", "7")


def test_debian9_testing_by_codename(dbdir, tmp_path):
    # os-release of Debian "stretch/sid" states no VERSION_ID: the codename names cycle 9
    folder = copy_only(REPO_FIXTURES / "os" / "distro-debian9" / "etc", ["os-release"], tmp_path / "d9")
    scan = ingest(folder, tmp_path / "out", dbdir)
    assert _eols(scan)["EOL-debian-9"].eol_date == _eol("debian", "9")


@pytest.mark.parametrize("release", ["8", "10"])
def test_debian_by_version(release, dbdir, tmp_path):
    scan = ingest(DATA / "linux" / f"debian{release}", tmp_path / "out", dbdir)
    assert _eols(scan)[f"EOL-debian-{release}"].eol_date == _eol("debian", release)


MACOS = SHARED / "macos"


@needs_shared
@pytest.mark.parametrize("recording, cycle", [
    ("glpi-powermac-g5-ck54202sr6v", "10.5"),  # Mac OS X 10.5.8
    ("sys-toolkit-high-sierra", "10.13"),  # 10.13.6
    ("sys-toolkit-big-sur", "11"),  # 11.6.2
])
def test_macos_end_of_life(recording, cycle, dbdir, tmp_path):
    scan = ingest(MACOS / recording, tmp_path / "out", dbdir)
    v = _eols(scan)[f"EOL-macos-{cycle}"]
    assert v.eol_date == _eol("macos", cycle)


@needs_shared
def test_windows7_without_service_pack(dbdir, tmp_path):
    # 6.1.7600 (RTM): endoflife.date lists only 7 SP1; RTM support ended before it, so past it too
    scan = ingest(SHARED / "windows" / "glpi-7-lubianka", tmp_path / "out", dbdir)
    v = _eols(scan)["EOL-windows-7-sp1"]
    assert v.eol_date == _eol("windows", "7-sp1") and "without service pack" in v.title
