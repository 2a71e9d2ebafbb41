"""Time `cbom db build` of full upstream sources and the matching of 3,000 packages + a Windows patch level.

Usage: python benchmarks/bench_vulndb.py DEFINITIONS_ZIP OSV_SOURCE [ENDOFLIFE_DIR]
  DEFINITIONS_ZIP  WES-NG's full definitions.zip (tests/fixtures/vulndb/wesng/definitions.zip is the full one)
  OSV_SOURCE       a full OSV ecosystem: osv.dev's <ecosystem>/all.zip, or pypa/advisory-database's vulns/
  ENDOFLIFE_DIR    endoflife.date's products/ (default: the test slice)
Targets (issue 16): build < 60 s; matching 3,000 packages + a Windows patch level < 2 s.

The 3,000 packages are PyPI components named after the packages of the OSV source (so every one is
looked up and most have ranges to evaluate), at version 0.0.1 (inside most "introduced: 0" ranges),
plus the Windows 7 SP1 recording's OS component with its 245 hotfixes.
"""
from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from cbom import cyclonedx, vulndb
from cbom.model import Category, Component, Host, Kind, Scan

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    wes, osv = Path(sys.argv[1]), Path(sys.argv[2])
    eol = Path(sys.argv[3]) if len(sys.argv) > 3 else REPO / "tests" / "fixtures" / "vulndb" / "endoflife"
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        sources = vulndb.build([wes, osv, eol], Path(tmp))
        built = time.monotonic() - t0
        size = (Path(tmp) / vulndb.DB_NAME).stat().st_size
        for s in sources:
            print(f"  {s.kind:15s} {s.date:10s} {s.records:8d} records  {s.name}")
        print(f"db build: {built:.1f} s, {size / 1e6:.1f} MB")

        con = sqlite3.connect(str(Path(tmp) / vulndb.DB_NAME))
        names = [n for (n,) in con.execute("SELECT DISTINCT name FROM osv_affected WHERE ecosystem = 'PyPI'")]
        con.close()
        comps = [Component(category=Category.SOFTWARE, kind=Kind.LIBRARY, name=f"{names[i % len(names)]}",
                           version=f"0.0.{1 + i // len(names)}",
                           purl=f"pkg:pypi/{names[i % len(names)]}@0.0.{1 + i // len(names)}") for i in range(3000)]
        ingested = REPO.parent / "shared" / "fixtures" / "windows" / "wesng-7-sp1-x64-b"
        with tempfile.TemporaryDirectory() as out:
            from cbom.cli import main as cbom_main
            cbom_main(["-q", "ingest", str(ingested), "-o", out, "--format", "json"])
            win = cyclonedx.load(str(Path(out) / "cbom.cdx.json"))
        scan = Scan(id="urn:uuid:00000000-0000-0000-0000-000000000002", started=datetime.now(timezone.utc),
                    tool_version="bench", host=Host(name="bench"), components=tuple(comps) + win.components)
        t0 = time.monotonic()
        matched = vulndb.apply(scan, Path(tmp))
        took = time.monotonic() - t0
        kinds = {}
        for v in matched.vulnerabilities:
            kinds[v.source.split()[0]] = kinds.get(v.source.split()[0], 0) + 1
        print(f"match: {len(scan.components)} components ({len(comps)} PyPI + the Windows 7 recording) -> "
              f"{len(matched.vulnerabilities)} ({kinds}) in {took:.2f} s")


if __name__ == "__main__":
    main()
