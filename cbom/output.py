"""Writes a scan's files into its output folder: atomically, each listed in SHA256SUMS.

`cbom.cdx.json` is always written: it is the source of truth every other
format is derived from (a report re-renders from it, its SHA-256 is printed on
the PDF cover).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

from . import cyclonedx, validate
from .model import Scan

JSON_NAME = "cbom.cdx.json"
SUMS_NAME = "SHA256SUMS"


@dataclass(frozen=True)
class Document:
    """What every writer gets: the scan, its CycloneDX dict and the exact JSON written."""

    scan: Scan
    doc: dict
    json_text: str
    options: Dict[str, object] = field(default_factory=dict)  # e.g. paper size for reports
    file_sha256: str = ""  # of the file as read, when the document comes from one (`cbom report`)

    @property
    def json_sha256(self) -> str:
        """SHA-256 of cbom.cdx.json as it is on disk: what `sha256sum` prints for it."""
        return self.file_sha256 or hashlib.sha256(self.json_text.encode("utf-8")).hexdigest()


def _yaml(d: Document) -> bytes:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when present: ~10x faster
    return yaml.dump(d.doc, Dumper=dumper, sort_keys=False, allow_unicode=True, width=4096).encode("utf-8")


def _html(d: Document) -> bytes:
    from .report import render_html

    return render_html(d, paper=str(d.options.get("paper", "A4")), lang=str(d.options.get("lang", "en")))


def _pdf(d: Document) -> bytes:
    from .report import render_pdf  # WeasyPrint is imported only when a PDF is asked for

    return render_pdf(d, paper=str(d.options.get("paper", "A4")), lang=str(d.options.get("lang", "en")))


# format name -> (file name, writer)
WRITERS: Dict[str, Tuple[str, Callable[[Document], bytes]]] = {
    "json": (JSON_NAME, lambda d: d.json_text.encode("utf-8")),
    "yaml": ("cbom.cdx.yaml", _yaml),
    "html": ("cbom.html", _html),
    "pdf": ("cbom.pdf", _pdf),
}


class OutputError(RuntimeError):
    pass


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
        name, writer = WRITERS[fmt]
        try:
            data = writer(document)
        except Exception as exc:
            problems.append(f"{name} not written: {exc}".splitlines()[0] if str(exc) else f"{name} not written: {type(exc).__name__}")
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
