"""`--db` on ingest and report, and the default `db/` folder beside the cbom executable."""
from __future__ import annotations

import hashlib
import shutil
import sys

from cbom import cyclonedx, vulndb
from cbom.cli import main

from vulndb_support import DATA, WINDOWS, dbdir  # noqa: F401 (dbdir: a fixture)


def test_ingest_with_db_writes_a_valid_cbom(dbdir, tmp_path, caplog):
    out = tmp_path / "out"
    caplog.set_level("INFO")
    rc = main(["ingest", str(WINDOWS / "wesng-2008r2-sp1-x64"), "-o", str(out), "--format", "json", "--db", str(dbdir)])
    assert rc in (0, 3)
    assert "matched against" in caplog.text and "knowledge as of" in caplog.text
    assert "vulnerability database is" in caplog.text  # the test slices are stale: the warning is logged
    assert main(["validate", str(out / "cbom.cdx.json")]) == 0
    scan = cyclonedx.load(str(out / "cbom.cdx.json"))
    assert any(v.id == "EOL-windows-server-2008-r2-sp1" for v in scan.vulnerabilities)


def test_report_with_db_rematches_a_saved_cbom(dbdir, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["-q", "ingest", str(DATA / "linux" / "centos7"), "-o", str(out), "--format", "json"]) in (0, 3)
    saved = cyclonedx.load(str(out / "cbom.cdx.json"))
    assert saved.vulnerabilities == ()  # no database at scan time (none beside this interpreter)
    rc = main(["report", str(out / "cbom.cdx.json"), "--format", "html", "-o", str(tmp_path / "rep"), "--db", str(dbdir)])
    assert rc == 0, capsys.readouterr().err
    assert (tmp_path / "rep" / "cbom.html").exists()
    # The matches are in a CBOM beside the report, whose SHA-256 the report's cover states and
    # SHA256SUMS lists; the saved CBOM is left as it was.
    matched = tmp_path / "rep" / "cbom.cdx.json"
    assert any(v.id == "EOL-centos-7" for v in cyclonedx.load(str(matched)).vulnerabilities)
    digest = hashlib.sha256(matched.read_bytes()).hexdigest()
    assert digest in (tmp_path / "rep" / "cbom.html").read_text(encoding="utf-8")
    assert f"{digest}  cbom.cdx.json" in (tmp_path / "rep" / "SHA256SUMS").read_text(encoding="utf-8")
    assert cyclonedx.load(str(out / "cbom.cdx.json")).vulnerabilities == ()


def test_default_db_beside_the_executable(dbdir, tmp_path, monkeypatch):
    stick = tmp_path / "stick"
    (stick / "linux-x86_64").mkdir(parents=True)
    shutil.copytree(dbdir, stick / "db")
    monkeypatch.setattr(sys, "argv", [str(stick / "linux-x86_64" / "cbom")])
    assert vulndb.default_dbdir() == (stick / "db").resolve()
    out = tmp_path / "out"
    assert main(["-q", "ingest", str(DATA / "linux" / "centos7"), "-o", str(out), "--format", "json"]) in (0, 3)
    assert any(v.id == "EOL-centos-7" for v in cyclonedx.load(str(out / "cbom.cdx.json")).vulnerabilities)


def test_no_default_db(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "cbom")])
    assert vulndb.default_dbdir() is None
