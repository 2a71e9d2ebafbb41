"""Offline vulnerability and end-of-life knowledge (issue 16).

`cbom db build SOURCE... -o DBDIR` turns upstream files, exactly as their publishers distribute
them, into one SQLite database (`_db`): WES-NG's definitions.zip (`_wesng`), endoflife.date
products (`_eol`), OSV records (`_osv`) and CISA ICS advisories in CSAF 2.0 (`_csaf`).
`apply(scan, dbdir)` matches a scan against it (`_match`) and returns the scan with its
`vulnerabilities` and the database's age in its properties; `report_rows`/`knowledge_line` and
`vulnerability_changes` (`_view`) are the report section and the diff.
Nothing here touches a network.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date, timezone
from pathlib import Path
from typing import List, Optional

from ..model import Scan
from .. import vocabulary as V
from ._build import build
from ._db import DB_NAME, STALE_DAYS, DBError, DBInfo, SourceInfo, connect, read_info
from ._match import match_components
from ._view import ReportRow, VulnChange, knowledge_line, report_rows, stale_warning, vulnerability_changes
from ._wesng import SourceError

__all__ = [
    "DB_NAME", "STALE_DAYS", "DBError", "DBInfo", "ReportRow", "SourceError", "SourceInfo", "VulnChange",
    "apply", "build", "default_dbdir", "info", "knowledge_line", "report_rows", "stale_warning",
    "vulnerability_changes",
]


def info(dbdir: Path) -> DBInfo:
    """What the database in `dbdir` holds (DBError when there is none or it is unreadable)."""
    con = connect(Path(dbdir))
    try:
        return read_info(con, str(Path(dbdir) / DB_NAME))
    finally:
        con.close()


def default_dbdir() -> Optional[Path]:
    """The `db/` folder beside the cbom executable (frozen bundle) or its launcher, when present.

    On the USB stick the layout is `<stick>/windows-x86_64/cbom.exe` or `<stick>/linux-x86_64/cbom`
    with the launchers at the stick's root: `db/` is looked for beside the executable, then one
    folder up (the bundle root).
    """
    exe = Path(sys.executable if getattr(sys, "frozen", False) else sys.argv[0] or ".").resolve()
    for folder in (exe.parent, exe.parent.parent):
        if (folder / "db" / DB_NAME).is_file():
            return folder / "db"
    return None


def apply(scan: Scan, dbdir: Path, today: Optional[date] = None) -> Scan:
    """`scan` with the vulnerabilities and end-of-life cycles the database knows of.

    The database's knowledge date, build time and sources go into the scan's properties, with a
    stale warning when it is older than STALE_DAYS (`today`, default the scan's start date).
    """
    today = today or scan.started.astimezone(timezone.utc).date()
    con = connect(Path(dbdir))
    try:
        dbinfo = read_info(con, str(Path(dbdir) / DB_NAME))
        found = match_components(con, scan.components, today)
    finally:
        con.close()
    # a scan matched before (`cbom report --db` on a matched CBOM) is matched afresh: its old
    # knowledge statements go with its old vulnerabilities
    own = {V.VULNDB_KNOWLEDGE_DATE, V.VULNDB_BUILT, V.VULNDB_SOURCE, V.VULNDB_STALE}
    props: List = [(k, v) for k, v in scan.properties if k not in own]
    props.append((V.VULNDB_KNOWLEDGE_DATE, dbinfo.knowledge_date))
    props.append((V.VULNDB_BUILT, dbinfo.built))
    for s in dbinfo.sources:
        props.append((V.VULNDB_SOURCE, f"{s.kind}|{s.date}|{s.records}|{s.licence}|{s.name}"))
    warning = stale_warning(dbinfo.knowledge_date, today)
    if warning:
        props.append((V.VULNDB_STALE, warning))
    return replace(scan, vulnerabilities=tuple(found), properties=tuple(props))
