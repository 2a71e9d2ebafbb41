"""cbom's offline knowledge database: one SQLite file in a DBDIR, built from upstream files.

Format (`FORMAT`, `SCHEMA_VERSION` in table `meta`): one table per kind of knowledge, plus
`sources` recording, per upstream file or folder, what it is, its publisher's date, its licence
and how many records were taken. SQLite is in every Python's standard library, is read in place
from a USB stick and needs no server; the file is opened read-only when matching.

The database is built into a temporary file beside its final name and renamed at the end
(os.replace is atomic on one file system), so an interrupted or failed build never leaves a
half-written database where a scan would read it.
"""
from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import List, Optional, Tuple

FORMAT = "cbom-vulndb"
SCHEMA_VERSION = "1"
DB_NAME = "cbom-vulndb.sqlite"
# A database older than this (from its oldest source's date) is reported as stale: MSRC publishes
# monthly, OSV daily; three months misses at least three Patch Tuesdays.
STALE_DAYS = 90

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL,
    date TEXT NOT NULL, licence TEXT NOT NULL, url TEXT NOT NULL, records INTEGER NOT NULL);
CREATE TABLE win_product (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE win_text (id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE);
-- WES-NG rows; every text column but kb and posted is an id of win_text (values repeat a lot:
-- 609k rows hold 22k CVEs, 5k Supersedes lists, 12 impacts), which keeps the file a third the size.
CREATE TABLE win_row (
    product INTEGER NOT NULL, kb TEXT NOT NULL, cve INTEGER NOT NULL, posted TEXT NOT NULL,
    title INTEGER NOT NULL, component INTEGER NOT NULL, severity INTEGER NOT NULL, impact INTEGER NOT NULL,
    supersedes INTEGER NOT NULL, exploits INTEGER NOT NULL);
CREATE TABLE eol (
    product TEXT NOT NULL, cycle TEXT NOT NULL, label TEXT NOT NULL, released TEXT NOT NULL,
    eol TEXT NOT NULL, lts INTEGER NOT NULL, latest TEXT NOT NULL, link TEXT NOT NULL, title TEXT NOT NULL,
    codename TEXT NOT NULL);
CREATE TABLE osv_vuln (
    id TEXT PRIMARY KEY, source INTEGER NOT NULL, summary TEXT NOT NULL, aliases TEXT NOT NULL,
    published TEXT NOT NULL, modified TEXT NOT NULL, vector TEXT NOT NULL, severity TEXT NOT NULL,
    url TEXT NOT NULL);
CREATE TABLE osv_affected (
    vuln TEXT NOT NULL, ecosystem TEXT NOT NULL, name TEXT NOT NULL, ranges TEXT NOT NULL, versions TEXT NOT NULL);
CREATE TABLE csaf_product (
    advisory TEXT NOT NULL, vendor TEXT NOT NULL, product TEXT NOT NULL, version TEXT NOT NULL,
    status TEXT NOT NULL, cves TEXT NOT NULL, title TEXT NOT NULL, released TEXT NOT NULL,
    score TEXT NOT NULL, vector TEXT NOT NULL, remediation TEXT NOT NULL, url TEXT NOT NULL);
"""
INDEXES = """
CREATE INDEX win_row_product ON win_row (product);
CREATE INDEX eol_product ON eol (product);
CREATE INDEX osv_affected_name ON osv_affected (name);
CREATE INDEX csaf_vendor ON csaf_product (vendor);
"""


class DBError(Exception):
    """A database that cannot be read or built; the message is one line for the operator."""


@dataclass(frozen=True)
class SourceInfo:
    """One upstream source recorded in the database."""

    kind: str  # "wesng", "endoflife.date", "osv", "csaf"
    name: str
    path: str
    date: str  # ISO date of the publisher's data
    licence: str
    url: str
    records: int


@dataclass(frozen=True)
class DBInfo:
    """What `cbom db info` prints, and what a scan states as its knowledge."""

    path: str
    built: str
    sources: Tuple[SourceInfo, ...]

    @property
    def knowledge_date(self) -> str:
        """The oldest source date: every source knows at least up to it."""
        dates = sorted(s.date for s in self.sources if s.date)
        return dates[0] if dates else ""

    def age_days(self, today: Optional[date] = None) -> Optional[int]:
        if not self.knowledge_date:
            return None
        today = today or datetime.now(timezone.utc).date()
        return (today - date.fromisoformat(self.knowledge_date[:10])).days

    def stale(self, today: Optional[date] = None) -> bool:
        age = self.age_days(today)
        return age is not None and age > STALE_DAYS


def db_file(dbdir: Path) -> Path:
    return Path(dbdir) / DB_NAME


def connect(dbdir: Path) -> sqlite3.Connection:
    """The database of `dbdir`, read-only; DBError when absent or not a cbom database."""
    path = db_file(dbdir)
    if not path.is_file():
        raise DBError(f"{dbdir}: no {DB_NAME} (build one with `cbom db build SOURCE... -o {dbdir}`)")
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.Error as exc:
        raise DBError(f"{path}: not a readable cbom database ({exc})") from None
    if meta.get("format") != FORMAT or meta.get("schema") != SCHEMA_VERSION:
        con.close()
        raise DBError(f"{path}: not a cbom database of schema {SCHEMA_VERSION} "
                      f"(format {meta.get('format')!r}, schema {meta.get('schema')!r}): rebuild it")
    return con


def read_info(con: sqlite3.Connection, path: str = "") -> DBInfo:
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    rows = con.execute("SELECT kind, name, path, date, licence, url, records FROM sources ORDER BY id").fetchall()
    return DBInfo(path=path, built=meta.get("built", ""), sources=tuple(SourceInfo(*r) for r in rows))


class Builder:
    """A database being written to a temporary file of the target folder; `commit` renames it."""

    def __init__(self, dbdir: Path) -> None:
        self.dbdir = Path(dbdir)
        self.dbdir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".cbom-vulndb-", suffix=".tmp", dir=str(self.dbdir))
        os.close(fd)
        self.tmp = Path(tmp)
        self.con = sqlite3.connect(str(self.tmp))
        # A build is all-or-nothing (the temporary file is deleted on failure): no journal needed.
        self.con.execute("PRAGMA journal_mode = OFF")
        self.con.execute("PRAGMA synchronous = OFF")
        self.con.executescript(SCHEMA)
        self.sources: List[SourceInfo] = []

    def add_source(self, info: SourceInfo) -> int:
        cur = self.con.execute("INSERT INTO sources (kind, name, path, date, licence, url, records) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?)",
                               (info.kind, info.name, info.path, info.date, info.licence, info.url, info.records))
        self.sources.append(info)
        return int(cur.lastrowid or 0)

    def set_records(self, source_id: int, records: int) -> None:
        self.con.execute("UPDATE sources SET records = ? WHERE id = ?", (records, source_id))

    def commit(self, built: Optional[datetime] = None) -> Path:
        built = built or datetime.now(timezone.utc)
        self.con.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [
            ("format", FORMAT), ("schema", SCHEMA_VERSION), ("built", built.strftime("%Y-%m-%dT%H:%M:%SZ"))])
        self.con.executescript(INDEXES)
        self.con.commit()
        self.con.close()
        final = db_file(self.dbdir)
        os.chmod(self.tmp, 0o644)  # mkstemp makes it 0600: the database is read by whoever scans
        os.replace(self.tmp, final)
        return final

    def abort(self) -> None:
        try:
            self.con.close()
        finally:
            try:
                self.tmp.unlink()
            except OSError:
                pass
