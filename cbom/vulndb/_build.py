"""`cbom db build`: recognise each upstream SOURCE and load it into a new database.

Recognition is by content, not by name: a zip holding `CVEs_YYYYMMDD.csv` is WES-NG's
definitions; a zip or folder of OSV records is OSV; a folder (or `.md` file) with endoflife.date
front matter is endoflife.date; a JSON document with `document.csaf_version` is CSAF. Anything
else is refused with a one-line reason, and nothing is written (see `_db.Builder`).
"""
from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path
from typing import List, Sequence

from . import _csaf, _eol, _osv, _wesng
from ._db import Builder, DBError, SourceInfo
from ._wesng import SourceError


def _sniff_json(raw: bytes) -> object:
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _load_zip(path: Path, builder: Builder) -> SourceInfo:
    label = str(path)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise SourceError(f"{label}: not a zip file, or a truncated one (no central directory)") from None
    with zf:
        bad = None
        try:
            bad = zf.testzip()  # every member's CRC: a corrupt or truncated member is named here
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
            raise SourceError(f"{label}: corrupt zip ({exc})".splitlines()[0]) from None
        if bad is not None:
            raise SourceError(f"{label}: corrupt zip: member {bad} fails its CRC check")
        names = zf.namelist()
        if _wesng.is_definitions(names):
            return _wesng.load_definitions(zf, label, builder)
        records = [n for n in names if n.endswith((".json", ".yaml", ".yml"))]
        if records:
            first = zf.read(records[0])
            doc = _sniff_json(first) if records[0].endswith(".json") else None
            if doc is not None and _csaf.is_csaf(doc):
                return _csaf.load_documents(((f"{label}:{n}", zf.read(n)) for n in records), label, builder)
            return _osv.load_records(_osv.iter_zip(zf, label), label, builder, _osv.licence_of(None))
        raise SourceError(f"{label}: zip holds neither WES-NG definitions (CVEs_*.csv) nor OSV/CSAF records")


def _load_folder(path: Path, builder: Builder) -> SourceInfo:
    label = str(path)
    md = _eol.product_files(path)
    if md:
        return _eol.load_products(md, label, builder)
    files = _osv.record_files(path)
    if not files:
        raise SourceError(f"{label}: no endoflife.date products/*.md, OSV or CSAF records found in this folder")
    first = next((f for f in files if f.suffix == ".json"), None)
    if first is not None:
        doc = _sniff_json(first.read_bytes())
        if doc is not None and _csaf.is_csaf(doc):
            return _csaf.load_documents(_osv.iter_files(f for f in files if f.suffix == ".json"), label, builder)
    return _osv.load_records(_osv.iter_files(files), label, builder, _osv.licence_of(path))


def _load(path: Path, builder: Builder) -> SourceInfo:
    if path.is_dir():
        return _load_folder(path, builder)
    if not path.is_file():
        raise SourceError(f"{path}: no such file or folder")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:2] == b"PK":
        return _load_zip(path, builder)
    if path.suffix == ".md":
        return _eol.load_products([path], str(path), builder)
    raw = path.read_bytes()
    doc = _sniff_json(raw)
    if doc is not None and _csaf.is_csaf(doc):
        return _csaf.load_documents([(str(path), raw)], str(path), builder)
    if path.suffix in (".json", ".yaml", ".yml"):
        return _osv.load_records([(str(path), raw)], str(path), builder, _osv.licence_of(None))
    raise SourceError(f"{path}: unknown source (expected WES-NG definitions.zip, an OSV zip/folder/record, "
                      "endoflife.date products/*.md or CSAF JSON)")


def build(sources: Sequence[Path], dbdir: Path) -> List[SourceInfo]:
    """Build DBDIR/cbom-vulndb.sqlite from `sources`; SourceError/DBError on any bad input.

    On error the temporary file is removed and an existing database is left as it was.
    """
    if not sources:
        raise SourceError("no SOURCE given")
    try:
        builder = Builder(dbdir)
    except OSError as exc:
        raise DBError(f"{dbdir}: cannot write the database there ({exc.strerror or exc})") from None
    kinds: List[str] = []
    try:
        out = []
        for src in sources:
            try:
                info = _load(Path(src), builder)
            except (KeyError, TypeError, AttributeError, ValueError, RecursionError) as exc:
                # a value of an unexpected type deep in a record: the source is refused by name
                raise SourceError(f"{src}: malformed content ({type(exc).__name__}: {exc})".splitlines()[0][:300]) from None
            if info.kind == "wesng" and "wesng" in kinds:
                raise SourceError(f"{src}: a second WES-NG definitions.zip (give one)")
            kinds.append(info.kind)
            out.append(info)
        builder.commit()
        return out
    except (SourceError, DBError):
        builder.abort()
        raise
    except (OSError, zlib.error, zipfile.BadZipFile, EOFError) as exc:
        builder.abort()
        raise SourceError(f"unreadable source ({type(exc).__name__}: {exc})".splitlines()[0]) from None
    except BaseException:
        builder.abort()
        raise
