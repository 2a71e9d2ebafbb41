"""Writes a scan's files into its output folder: atomically, each listed in SHA256SUMS.

`cbom.cdx.json` is always written: it is the source of truth every other
format is derived from (a report re-renders from it, its SHA-256 is printed on
the PDF cover).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from . import cyclonedx, validate
from .document import Document
from .model import Scan
from .writers import JSON_NAME, WRITERS

SUMS_NAME = "SHA256SUMS"

__all__ = ["Document", "WRITERS", "JSON_NAME", "SUMS_NAME", "atomic_write", "build", "write", "update_sums"]


def atomic_write(path: Path, data: bytes) -> str:
    """Write `data` to `path` via a temp file in the same folder and a rename; return its SHA-256."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return hashlib.sha256(data).hexdigest()


def build(scan: Scan, spec: str = cyclonedx.DEFAULT_SPEC) -> Tuple[Document, List[str]]:
    """The document for `scan` and its schema errors (empty when valid)."""
    doc = cyclonedx.to_dict(scan, spec)
    return Document(scan, doc, cyclonedx.dumps(doc)), validate.errors(doc, spec)


def write(document: Document, out_dir: Path, formats: Sequence[str]) -> Tuple[List[Path], List[str]]:
    """Write `formats` and update SHA256SUMS; return the paths written and one line per failure.

    A writer that fails (e.g. no PDF engine here) is reported, and the others are still written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written: List[Tuple[Path, str]] = []
    problems: List[str] = []
    for fmt in dict.fromkeys(formats):
        writer = WRITERS[fmt]
        name = writer.file_name
        try:
            data = writer.render(document)
        except Exception as exc:
            problems.append(f"{name} not written: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
            continue
        path = out_dir / name
        written.append((path, atomic_write(path, data)))
    update_sums(out_dir, {p.name: sha for p, sha in written})
    return [p for p, _ in written] + [out_dir / SUMS_NAME], problems


def update_sums(out_dir: Path, new: Dict[str, str]) -> None:
    """Merge `new` (file name -> SHA-256) into the folder's SHA256SUMS, dropping files now gone."""
    sums: Dict[str, str] = {}
    try:
        for line in (out_dir / SUMS_NAME).read_text(encoding="utf-8").splitlines():
            sha, _, name = line.partition("  ")
            if name and (out_dir / name).is_file():
                sums[name] = sha
    except (OSError, UnicodeDecodeError):
        pass
    sums.update(new)
    text = "".join(f"{sums[n]}  {n}\n" for n in sorted(sums))
    atomic_write(out_dir / SUMS_NAME, text.encode("utf-8"))
