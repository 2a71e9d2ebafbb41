"""Writes a scan's files into its output folder: atomically, each listed in SHA256SUMS.

`cbom.cdx.json` is always written: it is the source of truth every other
format is derived from (a report re-renders from it, its SHA-256 is printed on
the PDF cover).

The folder is consistent at every instant, whatever kills cbom (Ctrl-C, SIGTERM,
SIGKILL, a full disk): SHA256SUMS never lists a file that is missing or a hash
that is stale. Each file is first taken out of SHA256SUMS, then replaced by a
rename, then listed again; when a new CBOM replaces an old one, the files derived
from the old one are removed first, so no folder mixes two scans. One cbom at a
time writes a folder (`lock`).
"""
from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import cyclonedx, validate
from . import vocabulary as V
from .document import Document
from .model import Scan
from .writers import JSON_NAME, WRITERS

SUMS_NAME = "SHA256SUMS"
LOCK_NAME = ".cbom.lock"

__all__ = [
    "Document", "WRITERS", "JSON_NAME", "SUMS_NAME", "FolderBusy", "FolderLock", "atomic_write", "build",
    "check_writable", "not_validated",
    "lock", "write", "update_sums",
]


class FolderBusy(OSError):
    """Another cbom is writing this output folder."""


def _file_mode() -> int:
    """0666 less the umask, as open() would create it (0644 under the usual 022, also under sudo):
    mkstemp's 0600 would leave reports made with sudo unreadable by the auditor's own account."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, data: bytes) -> str:
    """Write `data` to `path` via a temp file in the same folder and a rename; return its SHA-256."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        if hasattr(os, "fchmod"):  # POSIX only; Windows files have no such mode bits
            os.fchmod(fd, _file_mode())
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


class FolderLock:
    """An exclusive lock on an output folder (an OS lock on `.cbom.lock`, released when cbom exits,
    even by SIGKILL, so it never goes stale). `release()` removes the lock file."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        self._fd: Optional[int] = None
        for _ in range(3):  # the file may be removed by the holder between our open and our lock
            fd = os.open(str(self.path), os.O_RDWR | os.O_CREAT, 0o644)
            try:
                _lock_fd(fd)
            except OSError:
                os.close(fd)
                raise FolderBusy(f"another cbom is writing to {folder}") from None
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(str(self.path)))
            except OSError:
                same = False
            if same:
                self._fd = fd
                return
            os.close(fd)
        raise FolderBusy(f"another cbom is writing to {folder}")

    def release(self) -> None:
        """Remove the lock file, then unlock (in that order: a waiter then finds a fresh file).

        Windows refuses to delete a file that is still open: there it is closed (unlocked) first,
        else the lock file stayed in every output folder, outside its SHA256SUMS."""
        if self._fd is None:
            return
        if os.name == "nt":
            os.close(self._fd)
        try:
            os.unlink(str(self.path))
        except OSError:
            pass
        if os.name != "nt":
            os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "FolderLock":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _lock_fd(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def check_writable(folder: Path) -> None:
    """Create `folder` if needed and check a file can be written and renamed in it. Raises OSError."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / ".cbom-write-test", b"")
    os.unlink(str(folder / ".cbom-write-test"))


def lock(out_dir: Path) -> FolderLock:
    """Create `out_dir` if needed, check it can be written, and lock it.

    Raises OSError (FolderBusy when another cbom holds it): called before any collector runs, so
    an unwritable folder is found before the scan, not after it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    held = FolderLock(out_dir)
    try:
        check_writable(out_dir)
    except BaseException:
        held.release()
        raise
    return held


def build(scan: Scan, spec: str = cyclonedx.DEFAULT_SPEC) -> Tuple[Document, List[str]]:
    """The document for `scan` and its schema errors (empty when valid).

    Where no schema validator loads (`validate.unavailable`), the document is built all the same,
    records `cbom:scan:schema-validation` = "not schema-validated: <why>" in metadata.properties,
    and no error is returned: the caller says so once (`not_validated`)."""
    why = not_validated(spec)
    if why:
        scan = replace(scan, properties=tuple(scan.properties) + ((V.SCAN_SCHEMA_VALIDATION, why),))
    doc = cyclonedx.to_dict(scan, spec)
    document = Document(scan, doc, cyclonedx.dumps(doc))
    if why:
        return document, []
    try:
        return document, validate.errors(doc, spec)
    except Exception as exc:  # the validator failed on this document: a bug of ours, the CBOM is still written
        return document, [f"the schema validator failed: {type(exc).__name__}: {_first_line(exc)}"]


def not_validated(spec: str = cyclonedx.DEFAULT_SPEC) -> str:
    """"not schema-validated: <why>" when no schema validator loads here, else ""."""
    why = validate.unavailable(spec)
    return f"not schema-validated: {why}" if why else ""


def _first_line(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def write(document: Document, out_dir: Path, formats: Sequence[str]) -> Tuple[List[Path], List[str]]:
    """Write `formats` and update SHA256SUMS; return the paths written and one line per failure.

    A writer that fails (e.g. no PDF engine here, a full disk) is reported, and the others are
    still written. When `formats` holds the JSON (a new CBOM), the files of every other format
    already in the folder are removed first: they were derived from the CBOM being replaced.
    Raises OSError only when the folder cannot be created; KeyboardInterrupt leaves the folder
    consistent (whatever was written is listed).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = list(dict.fromkeys(formats))
    names = [WRITERS[f].file_name for f in wanted]
    stale = [w.file_name for w in WRITERS.values()] if JSON_NAME in names else names
    problems: List[str] = []
    _remove_leftovers(out_dir)
    try:
        update_sums(out_dir, {}, drop=stale)
    except OSError as exc:  # e.g. a full disk: without a list we can trust, no list at all
        problems.append(_sums_failed(out_dir, exc))
    if JSON_NAME in names:
        for name in stale:
            if name not in names:
                try:
                    os.unlink(str(out_dir / name))
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    problems.append(f"{name} of the previous scan not removed: {_first_line(exc)}")
    written: List[Path] = []
    sums_ok = not problems
    # A writer that can work beside the others (the PDF, laid out by a process of its own) is
    # started first and waited for last.
    started: Dict[str, Any] = {}
    for fmt in wanted:
        begin = getattr(WRITERS[fmt], "begin", None)
        if begin is not None:
            try:
                started[fmt] = begin(document)
            except Exception as exc:
                started[fmt] = exc
    for fmt in sorted(wanted, key=lambda f: f in started):
        writer = WRITERS[fmt]
        name = writer.file_name
        try:
            pending = started.get(fmt)
            if isinstance(pending, Exception):
                raise pending
            data = pending() if pending is not None else writer.render(document)
        except Exception as exc:
            problems.append(f"{name} not written: {_first_line(exc)}")
            continue
        try:
            sha = atomic_write(out_dir / name, data)
        except OSError as exc:
            problems.append(f"{name} not written: {_first_line(exc)}")
            continue
        written.append(out_dir / name)
        if sums_ok:
            try:
                update_sums(out_dir, {name: sha})
            except OSError as exc:
                problems.append(_sums_failed(out_dir, exc))
                sums_ok = False
    return written + ([out_dir / SUMS_NAME] if sums_ok else []), problems


def _sums_failed(out_dir: Path, exc: OSError) -> str:
    """Remove a SHA256SUMS that could not be brought up to date (removing needs no disk space);
    the message says so."""
    try:
        os.unlink(str(out_dir / SUMS_NAME))
        return f"{SUMS_NAME} not written ({_first_line(exc)}): removed, the folder has no checksum list"
    except FileNotFoundError:
        return f"{SUMS_NAME} not written: {_first_line(exc)}"
    except OSError as exc2:
        return f"{SUMS_NAME} not written and not removed ({_first_line(exc2)}): it may list old hashes"


def _remove_leftovers(out_dir: Path) -> None:
    """Temporary files of an atomic_write that a SIGKILL or power cut interrupted."""
    for name in WRITERS.values():
        for tmp in out_dir.glob(f".{name.file_name}.*.tmp"):
            try:
                tmp.unlink()
            except OSError:
                pass
    for tmp in out_dir.glob(f".{SUMS_NAME}.*.tmp"):
        try:
            tmp.unlink()
        except OSError:
            pass


# `sha256sum` text (`HEX  name`) and binary (`HEX *name`) lines, and BSD / `sha256sum --tag` lines
# (`SHA256 (name) = HEX`), coreutils manual "md5sum invocation". A line starting with `\` (an escaped
# name holding a newline or backslash) or any other line is kept as it is, never dropped.
_LINE = re.compile(r"(?P<hex>[0-9a-fA-F]{64}) [ *](?P<name>[^\\].*)")
_TAG = re.compile(r"SHA256 \((?P<name>.+)\) = (?P<hex>[0-9a-fA-F]{64})")


def update_sums(out_dir: Path, new: Dict[str, str], drop: Sequence[str] = ()) -> None:
    """Merge `new` (file name -> SHA-256) into the folder's SHA256SUMS.

    Lines of `drop`, of `new` and of files now gone are removed; every other line, in any format or
    none, is kept as it is (a SHA256SUMS written by `sha256sum -b` or `--tag` is not cbom's to edit).
    """
    path = out_dir / SUMS_NAME
    kept: List[str] = []
    try:
        text = cyclonedx.read_bytes(str(path), 16 << 20).decode("utf-8", "surrogateescape")
    except cyclonedx.ReadError:
        text = ""
    for line in text.splitlines():
        m = _LINE.fullmatch(line) or _TAG.fullmatch(line)
        if m:
            name = m.group("name")
            if name in new or name in drop or not (out_dir / name).is_file():
                continue
        kept.append(line)
    lines = kept + [f"{new[n]}  {n}" for n in sorted(new)]
    if not lines and not path.exists():
        return
    atomic_write(path, "".join(f"{line}\n" for line in lines).encode("utf-8", "surrogateescape"))
