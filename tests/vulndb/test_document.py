"""Known vulnerabilities in the CycloneDX document: written, schema-valid, read back unchanged;
the database's age stated in metadata; the report view and the diff between two scans."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from cbom import cyclonedx, validate, vulndb
from cbom.model import Severity, VulnKind

from vulndb_support import DATA, WINDOWS, copy_only, ingest, dbdir  # noqa: F401 (dbdir: a fixture)


def _expected(name):
    p = DATA / "wesng" / "expected" / f"{name}.txt"
    return {x for x in p.read_text().split() if x}


def test_written_valid_and_read_back(dbdir, tmp_path):
    scan = ingest(WINDOWS / "wesng-7-sp1-x64-b", tmp_path / "out", dbdir)
    doc = cyclonedx.to_dict(scan)
    assert validate.errors(doc, "1.6") == []
    again = cyclonedx.from_dict(doc)
    assert again.vulnerabilities == scan.vulnerabilities
    assert len(scan.vulnerabilities) > 2000
    v = next(x for x in doc["vulnerabilities"] if x["id"] == "CVE-2017-0144")
    assert v["source"]["url"].endswith("CVE-2017-0144") and v["ratings"][0]["severity"] == "critical"
    assert v["recommendation"] == "Install KB4012212" and v["published"] == "2017-03-14T00:00:00Z"
    os_c = next(c for c in scan.components if c.name == "windows")
    assert v["affects"] == [{"ref": os_c.ref, "versions": [{"version": os_c.version, "status": "affected"}]}]


def test_eol_and_osv_round_trip(dbdir, tmp_path):
    scan = ingest(DATA / "linux" / "centos7", tmp_path / "out", dbdir)
    eol = [v for v in scan.vulnerabilities if v.kind == VulnKind.END_OF_LIFE]
    assert eol and eol[0].eol_date == "2024-06-30" and eol[0].cycle == "7"
    assert cyclonedx.from_dict(cyclonedx.to_dict(scan)).vulnerabilities == scan.vulnerabilities


def test_database_age_and_stale_warning(dbdir, tmp_path):
    scan = ingest(WINDOWS / "wesng-2022", tmp_path / "out", dbdir)
    line, warning = vulndb.knowledge_line(scan)
    info = vulndb.info(dbdir)
    assert line == f"knowledge as of {info.knowledge_date}"
    # the test slices are older than 90 days on the day of the scan
    assert warning.startswith("the vulnerability database is ") and info.knowledge_date in warning
    assert vulndb.stale_warning("2026-11-20", date(2026, 12, 1)) == ""
    assert "100 days old" in vulndb.stale_warning("2026-08-23", date(2026, 12, 1))


def test_report_rows_grouped_and_ordered(dbdir, tmp_path):
    scan = ingest(WINDOWS / "wesng-7-sp1-x64-b", tmp_path / "out", dbdir)
    rows = vulndb.report_rows(scan)
    assert len(rows) == 1  # everything concerns the one OS component
    row = rows[0]
    assert row.end_of_life and row.end_of_life[0].id == "EOL-windows-7-sp1"
    ranks = [(list(Severity).index(v.severity), not v.exploited) for v in row.vulnerabilities]
    assert ranks == sorted(ranks)  # by severity, then exploited first
    assert row.worst == Severity.CRITICAL and row.exploited > 0


def test_diff_fixed_by_installing_updates(dbdir, tmp_path):
    """The Windows 7 recording read from its systeminfo alone, then with its wmic-qfe KBs too: the
    CVEs the extra KBs fix are exactly what wes.py reports in the first case and not the second."""
    src = WINDOWS / "wesng-7-sp1-x64-b"
    before = ingest(copy_only(src, ["systeminfo.txt"], tmp_path / "a"), tmp_path / "oa", dbdir)
    after = ingest(src, tmp_path / "ob", dbdir)
    changes = vulndb.vulnerability_changes(before, after)
    fixed = {c.id for c in changes if c.change == "fixed"}
    introduced = {c.id for c in changes if c.change == "introduced"}
    assert fixed == _expected("wesng-7-sp1-x64-b") - _expected("wesng-7-sp1-x64-b+qfe")
    assert introduced == _expected("wesng-7-sp1-x64-b+qfe") - _expected("wesng-7-sp1-x64-b")
    # and nothing changes between a scan and itself
    assert vulndb.vulnerability_changes(after, replace(after)) == []


def test_reference_library_accepts_the_vulnerabilities(dbdir, tmp_path):
    """cyclonedx-python-lib's strict validator and its deserializer take the matched document."""
    from cyclonedx.model.bom import Bom
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    scan = ingest(DATA / "linux" / "centos7", tmp_path / "c7", dbdir)
    win = ingest(copy_only(WINDOWS / "wesng-xp-sp3-x86", ["systeminfo.txt"], tmp_path / "xp"), tmp_path / "o", dbdir)
    for s in (scan, win):
        doc = cyclonedx.to_dict(s)
        text = cyclonedx.dumps(doc)
        assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
        bom = Bom.from_json(doc)  # type: ignore[attr-defined]
        assert len(bom.vulnerabilities) == len(s.vulnerabilities)


def test_matching_twice_replaces_the_first_match(dbdir, tmp_path):
    scan = ingest(DATA / "linux" / "centos7", tmp_path / "c7", dbdir)
    again = vulndb.apply(scan, dbdir)
    assert again.vulnerabilities == scan.vulnerabilities
    assert sorted(again.properties) == sorted(scan.properties)
