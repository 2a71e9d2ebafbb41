"""Offline NIC vendor lookup from the MAC address (IEEE OUI registry).

The database is `collectors/data/oui.tsv.gz` (see `oui.SOURCES.md` there for
its origin and date): one `PREFIX<TAB>Organization` line per MA-L (24-bit),
MA-M (28-bit) and MA-S (36-bit) assignment. It is loaded once, lazily, from
the bundle itself (not from the scanned host).
"""
from __future__ import annotations

import gzip
from pathlib import Path
from typing import Dict, Optional

DB_PATH = Path(__file__).resolve().parent.parent / "data" / "oui.tsv.gz"
_db: Optional[Dict[str, str]] = None
_date = ""


def _load() -> Dict[str, str]:
    global _db, _date
    if _db is None:
        db: Dict[str, str] = {}
        try:
            text = gzip.decompress(DB_PATH.read_bytes()).decode("utf-8", "replace")
        except OSError:
            text = ""
        for line in text.splitlines():
            if line.startswith("#"):
                if "ieee-data" in line and not _date:
                    _date = line.lstrip("# ").strip()
                continue
            prefix, _, org = line.partition("\t")
            if org:
                db[prefix] = org.rstrip(" ,")
        _db = db
    return _db


def database_version() -> str:
    """One line naming the OUI database and its date ('' when it is missing)."""
    _load()
    return _date


def vendor(mac: str) -> str:
    """Organization owning `mac` ('aa:bb:cc:dd:ee:ff'), '' when unknown or locally administered."""
    hexs = mac.replace(":", "").replace("-", "").upper()
    if len(hexs) < 6:
        return ""
    if int(hexs[1], 16) & 2:  # locally administered (random, virtual): no registry entry applies
        return ""
    db = _load()
    return db.get(hexs[:9]) or db.get(hexs[:7]) or db.get(hexs[:6]) or ""
