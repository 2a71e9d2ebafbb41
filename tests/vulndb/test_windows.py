"""Windows patch level from WES-NG's definitions.zip, checked against WES-NG's own wes.py.

tests/fixtures/vulndb/wesng/expected/<recording>.txt are the CVEs wes.py 1.06 reports for each shared
`wesng-*` recording from the same definitions.zip (make_expected.py regenerates them): the systeminfo
alone, and `<recording>+qfe.txt` with the KBs of its wmic-qfe.txt added (`wes.py -p`), since cbom
reads both. The issue's acceptance: recall and precision of at least 95 % each.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from cbom.model import VulnKind
from cbom.vulndb import _wesng

from vulndb_support import DATA, WINDOWS, copy_only, ingest, dbdir  # noqa: F401 (dbdir: a fixture)

EXPECTED = DATA / "wesng" / "expected"
RECORDINGS = sorted(p.name for p in WINDOWS.glob("wesng-*"))


def _expected(name: str) -> set:
    return {line.strip() for line in (EXPECTED / f"{name}.txt").read_text().splitlines() if line.strip()}


def _cves(scan) -> set:
    return {v.id for v in scan.vulnerabilities if v.kind == VulnKind.VULNERABILITY and v.source.startswith("WES-NG")}


def _check(found: set, expected: set) -> None:
    hit = len(found & expected)
    recall = hit / len(expected) if expected else 1.0
    precision = hit / len(found) if found else 1.0
    assert recall >= 0.95 and precision >= 0.95, (
        f"recall {recall:.3f} precision {precision:.3f}; missing {sorted(expected - found)[:10]}, "
        f"extra {sorted(found - expected)[:10]}")


def test_all_recordings_are_covered():
    assert len(RECORDINGS) >= 13  # XP SP2/SP3, 2003, 7, 2008 R2, 10, 11, 2016, 2022
    assert all((EXPECTED / f"{n}.txt").exists() for n in RECORDINGS)


@pytest.mark.parametrize("name", RECORDINGS)
def test_systeminfo_alone_agrees_with_wes(name, dbdir, tmp_path):
    src = WINDOWS / name
    info = "systeminfo.txt" if (src / "systeminfo.txt").exists() else "systeminfo-cmd.txt"
    folder = copy_only(src, [info], tmp_path / name)
    scan = ingest(folder, tmp_path / "out", dbdir)
    _check(_cves(scan), _expected(name))


@pytest.mark.parametrize("name", [n for n in RECORDINGS if (EXPECTED / f"{n}+qfe.txt").exists()])
def test_systeminfo_and_qfe_agree_with_wes(name, dbdir, tmp_path):
    scan = ingest(WINDOWS / name, tmp_path / "out", dbdir)
    _check(_cves(scan), _expected(f"{name}+qfe"))


def test_a_missing_cve_names_the_kb_that_fixes_it(dbdir, tmp_path):
    """MS17-010 (CVE-2017-0144, EternalBlue) on the Windows 7 SP1 recording: wes.py 1.06 lists it with
    BulletinKB 4012212 (and one row without a KB), severity Critical and exploit links; cbom must say
    the same: critical, exploited, "Install KB4012212", on the OS component."""
    src = WINDOWS / "wesng-7-sp1-x64-b"
    scan = ingest(copy_only(src, ["systeminfo.txt"], tmp_path / "w7"), tmp_path / "out", dbdir)
    os_ref = next(c.ref for c in scan.components if c.name == "windows")
    v = next(v for v in scan.vulnerabilities if v.id == "CVE-2017-0144")
    assert v.refs == (os_ref,)
    assert v.severity.value == "critical" and v.exploited
    assert v.recommendation == "Install KB4012212"
    assert v.affected == "Windows 7 for x64-based Systems Service Pack 1"
    assert v.published == "2017-03-14"


@pytest.mark.parametrize("os_name, version, sp, arch, product", [
    # product names as MSRC spells them in the CSV's AffectedProduct column
    ("Microsoft Windows XP Professional", "5.1.2600", "Service Pack 3", "x86", "Microsoft Windows XP Service Pack 3"),
    ("Microsoft(R) Windows(R) XP Professional x64 Edition", "5.2.3790", "Service Pack 2", "x64",
     "Microsoft Windows XP Professional x64 Edition Service Pack 2"),
    ("Microsoft Windows 7 Enterprise", "6.1.7601", "Service Pack 1", "x64", "Windows 7 for x64-based Systems Service Pack 1"),
    ("Microsoft Windows 10 Pro", "10.0.17763", "", "x64", "Windows 10 Version 1809 for x64-based Systems"),
    ("Microsoft Windows 11 Enterprise LTSC", "10.0.26100", "", "x64", "Windows 11 Version 24H2 for x64-based Systems"),
    ("Microsoft Windows Server 2022 Standard", "10.0.20348", "", "x64", "Windows Server 2022"),
])
def test_product_names_exist_in_the_definitions(os_name, version, sp, arch, product, dbdir):
    rel = _wesng.windows_release(os_name, version, sp, arch)
    assert rel is not None and _wesng.product_filter(rel) == product
    import sqlite3
    con = sqlite3.connect(str(Path(dbdir) / "cbom-vulndb.sqlite"))
    names = [n for (n,) in con.execute("SELECT name FROM win_product")]
    assert product in names


# WES-NG's own validation/ folder: systeminfo outputs of 49 machines the shared fixtures do not have
# (Vista, 8.1, Server 2003 RTM/SP1, 2008 RTM, 2012 R2, 2019, several 10/11 releases and languages).
VALIDATION = DATA / "wesng" / "validation"
# Only those wes.py reads: it refuses a few (no English "Microsoft Windows" OS name, e.g. the Russian
# Server 2012 R2), and make_expected.py then writes no expected file.
HELD_OUT = sorted(p.name for p in VALIDATION.glob("*systeminfo*.txt")
                  if (EXPECTED / "validation" / f"{p.stem}.txt").exists())


def test_most_held_out_machines_have_a_checker_result():
    assert len(HELD_OUT) >= 40


# One of them starts at "OS Name:" (its "Host Name:" line cut off): the systeminfo parser reads
# its fields one place up (collectors/osinfo/_windows.py).
@pytest.mark.parametrize("name", HELD_OUT)
def test_held_out_machines_agree_with_wes(name, dbdir, tmp_path):
    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / "systeminfo.txt").write_bytes((VALIDATION / name).read_bytes())
    scan = ingest(folder, tmp_path / "out", dbdir)
    expected = {x for x in (EXPECTED / "validation" / f"{Path(name).stem}.txt").read_text().split() if x}
    _check(_cves(scan), expected)
