"""`cbom db build` / `cbom db info`: sources recognised by content, their dates, licences and counts
recorded inside, and every bad input refused in one line (exit 2) with nothing written."""
from __future__ import annotations

import csv
import io
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
import yaml

from cbom import vulndb
from cbom.cli import main

from vulndb_support import DATA, SOURCES, dbdir  # noqa: F401 (dbdir: a fixture)

WESNG = DATA / "wesng" / "definitions.zip"


def _csv_rows() -> int:
    """Rows of the definitions' CSVs, counted here with the csv module (comment lines skipped)."""
    n = 0
    with zipfile.ZipFile(WESNG) as zf:
        for name in zf.namelist():
            if name.startswith(("CVEs_", "Custom_")):
                text = io.TextIOWrapper(zf.open(name), encoding="utf-8", newline="")
                # blank lines are no rows (csv.DictReader, as wes.py reads them, skips them too)
                n += sum(1 for row in csv.reader(line for line in text if not line.startswith("#")) if row) - 1
    return n


def test_sources_dates_licences_and_counts(dbdir):
    info = vulndb.info(dbdir)
    by_kind = {}
    for s in info.sources:
        by_kind.setdefault(s.kind, []).append(s)
    wes = by_kind["wesng"][0]
    with zipfile.ZipFile(WESNG) as zf:
        stamp = next(n for n in zf.namelist() if n.startswith("CVEs_"))[5:13]
    assert wes.date == f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:]}"
    assert wes.licence == "BSD-3-Clause" and wes.records == _csv_rows()
    eol = by_kind["endoflife.date"][0]
    cycles = sum(len(yaml.safe_load(p.read_text().split("---")[1])["releases"])
                 for p in (DATA / "endoflife" / "products").glob("*.md"))
    assert eol.records == cycles and eol.licence == "MIT"
    pypi = next(s for s in by_kind["osv"] if "PyPI" in s.name)
    assert pypi.records == len(list((DATA / "osv" / "pypi").rglob("*.yaml")))
    assert pypi.licence == "CC-BY-4.0"  # the advisory-database's LICENSE file
    assert by_kind["csaf"][0].records == len(list((DATA / "csaf" / "2024").glob("*.json")))
    assert info.knowledge_date == min(s.date for s in info.sources)


def test_cli_build_and_info(tmp_path, capsys):
    assert main(["db", "build", str(WESNG), str(DATA / "endoflife"), "-o", str(tmp_path / "db")]) == 0
    out = capsys.readouterr().out
    assert "wesng" in out and "endoflife.date" in out
    assert main(["db", "info", str(tmp_path / "db")]) == 0
    out = capsys.readouterr().out
    assert "knowledge  as of 2026-06-28" in out or "knowledge  as of 2026-08" in out
    assert "BSD-3-Clause" in out and "MIT" in out


def _bad(tmp_path, capsys, *sources: Path) -> str:
    dbdir = tmp_path / "db"
    rc = main(["db", "build", *map(str, sources), "-o", str(dbdir)])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert not (dbdir / vulndb.DB_NAME).exists()
    assert [p.name for p in dbdir.iterdir()] == [] if dbdir.exists() else True  # no temporary file left
    return err


def test_truncated_zip(tmp_path, capsys):
    cut = tmp_path / "definitions.zip"
    cut.write_bytes(WESNG.read_bytes()[: WESNG.stat().st_size // 2])
    assert "truncated" in _bad(tmp_path, capsys, cut)


def test_corrupt_zip_member(tmp_path, capsys):
    raw = bytearray(WESNG.read_bytes())
    mid = len(raw) // 3
    raw[mid:mid + 64] = bytes(64)  # inside the compressed CSV: its CRC no longer matches
    bad = tmp_path / "definitions.zip"
    bad.write_bytes(bytes(raw))
    assert "corrupt" in _bad(tmp_path, capsys, bad)


def test_unknown_file(tmp_path, capsys):
    f = tmp_path / "notes.txt"
    f.write_text("hello\n")
    assert "unknown source" in _bad(tmp_path, capsys, f)


def test_zip_of_something_else(tmp_path, capsys):
    f = tmp_path / "other.zip"
    with zipfile.ZipFile(f, "w") as zf:
        zf.writestr("readme.txt", "not a definitions file")
    assert "neither" in _bad(tmp_path, capsys, f)


def test_malformed_osv_json(tmp_path, capsys):
    folder = tmp_path / "osv"
    shutil.copytree(DATA / "osv" / "debian", folder)
    (folder / "BROKEN-1.json").write_text('{"id": "BROKEN-1", "modified": "2024-01-01T00:00:00Z", "affected": [')
    err = _bad(tmp_path, capsys, folder)
    assert "BROKEN-1.json" in err and "malformed JSON" in err


def test_truncated_endoflife_front_matter(tmp_path, capsys):
    folder = tmp_path / "eol" / "products"
    folder.mkdir(parents=True)
    text = (DATA / "endoflife" / "products" / "debian.md").read_text()
    (folder / "debian.md").write_text(text[: len(text) // 3])
    assert "debian.md" in _bad(tmp_path, capsys, tmp_path / "eol")


def test_failed_build_keeps_the_previous_database(tmp_path, capsys):
    dbdir = tmp_path / "db"
    assert main(["db", "build", str(DATA / "endoflife"), "-o", str(dbdir)]) == 0
    before = (dbdir / vulndb.DB_NAME).read_bytes()
    bad = tmp_path / "x.json"
    bad.write_text("{")
    assert main(["db", "build", str(DATA / "endoflife"), str(bad), "-o", str(dbdir)]) == 2
    assert (dbdir / vulndb.DB_NAME).read_bytes() == before
    assert sorted(p.name for p in dbdir.iterdir()) == [vulndb.DB_NAME]


def test_info_of_a_folder_without_database(tmp_path, capsys):
    assert main(["db", "info", str(tmp_path)]) == 2
    assert "no cbom-vulndb.sqlite" in capsys.readouterr().err


def test_info_of_a_non_database(tmp_path, capsys):
    (tmp_path / vulndb.DB_NAME).write_bytes(b"SQLite format 3\x00" + bytes(100))
    assert main(["db", "info", str(tmp_path)]) == 2
    assert "not a readable cbom database" in capsys.readouterr().err


def test_scan_refuses_a_wrong_db_before_collecting(tmp_path, capsys):
    rc = main(["ingest", str(DATA / "linux" / "centos7"), "-o", str(tmp_path / "o"), "--format", "json",
               "--db", str(tmp_path / "nowhere")])
    assert rc == 2 and not (tmp_path / "o" / "cbom.cdx.json").exists()


def test_database_is_sqlite_with_its_schema(dbdir):
    con = sqlite3.connect(str(dbdir / vulndb.DB_NAME))
    meta = dict(con.execute("SELECT key, value FROM meta"))
    assert meta["format"] == "cbom-vulndb" and meta["schema"] == "1"


def test_sources_given_list_is_not_empty():
    assert all(p.exists() for p in SOURCES)


@pytest.mark.parametrize("name", ["windows.md", "debian.md", "centos.md"])
def test_endoflife_files_are_as_published(name):
    # the products files are copied unchanged: their front matter opens with the product title
    assert (DATA / "endoflife" / "products" / name).read_text().startswith("---\ntitle: ")


def test_csaf_with_wrong_types(tmp_path, capsys):
    import json
    doc = json.loads((DATA / "csaf" / "2024" / "icsa-24-030-03.json").read_text())
    doc["document"]["tracking"] = ["not", "an", "object"]
    bad = tmp_path / "icsa-bad.json"
    bad.write_text(json.dumps(doc))
    assert "malformed content" in _bad(tmp_path, capsys, bad)


def test_osv_record_with_wrong_types_is_read_without_crash(tmp_path, capsys):
    folder = tmp_path / "osv"
    folder.mkdir()
    (folder / "X-1.json").write_text('{"id": "X-1", "modified": "2024-01-01T00:00:00Z", '
                                     '"affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "ranges": "oops"}]}')
    dbdir = tmp_path / "db"
    rc = main(["db", "build", str(folder), "-o", str(dbdir)])
    err = capsys.readouterr().err
    assert rc in (0, 2) and "Traceback" not in err


def test_osv_zip_export(tmp_path, capsys):
    """osv.dev's per-ecosystem export is a zip of <ID>.json records: the same records, zipped, are read alike."""
    z = tmp_path / "all.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in [DATA / "osv" / "debian" / "DSA-3029-1.json", DATA / "osv" / "ubuntu" / "CVE-2021-3156.json"]:
            zf.write(p, p.name)
    dbdir = tmp_path / "db"
    assert main(["db", "build", str(z), "-o", str(dbdir)]) == 0
    info = vulndb.info(dbdir)
    assert [(s.kind, s.records) for s in info.sources] == [("osv", 2)]
    assert info.sources[0].date == "2024-08-21"  # the newest "modified" of the two records
