"""Shared helpers of the vulndb tests: one database built from the real upstream slices of
tests/fixtures/vulndb (provenance in its SOURCES.md), and a helper that ingests a recording with it."""
from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest

from cbom import cyclonedx, vulndb
from cbom.cli import main

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = REPO / "tests" / "fixtures" / "vulndb"
# The wesng-* recordings of ../shared/fixtures/windows, copied (tests/fixtures/vulndb/SOURCES.md): the
# Windows matching is checked against wes.py on them wherever the suite runs.
WINDOWS = DATA / "windows"
SHARED = REPO.parent / "shared" / "fixtures"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/fixtures not present beside the clone")
SOURCES = [DATA / "wesng" / "definitions.zip", DATA / "endoflife", DATA / "osv" / "pypi", DATA / "osv" / "debian",
           DATA / "osv" / "ubuntu", DATA / "csaf" / "2024"]


_BUILT: list = []


@pytest.fixture
def dbdir() -> Path:
    """The database of SOURCES, built once per test session (imported by each test module: pytest
    takes a fixture from a module's namespace, and tests/conftest.py belongs to the whole suite)."""
    if not _BUILT:
        out = Path(tempfile.mkdtemp(prefix="cbom-vulndb-test-"))
        atexit.register(shutil.rmtree, out, True)
        vulndb.build(SOURCES, out)
        _BUILT.append(out)
    return _BUILT[0]


def ingest(folder: Path, out: Path, db: Path, capsys=None):
    """`cbom ingest FOLDER --db DB` through the CLI; the Scan read back from the written CBOM."""
    rc = main(["-q", "ingest", str(folder), "-o", str(out), "--format", "json", "--db", str(db)])
    assert rc in (0, 3), rc  # 3: recordings lack files (partial runs), the CBOM is written
    return cyclonedx.load(str(out / "cbom.cdx.json"))


def copy_only(src: Path, names, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copy(src / n, dest / n)
    return dest
