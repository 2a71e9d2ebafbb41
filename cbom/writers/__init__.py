"""One writer per output format of a scan, behind one small interface (`Writer`).

A writer turns a `Document` into the bytes of one file; it does no I/O.
`cbom.output.write` puts the files in the output folder (atomically, each listed
in SHA256SUMS) and turns a writer's failure into a one-line problem, so a writer
that cannot run here (no PDF engine) never stops the others.
"""
from __future__ import annotations

from typing import ClassVar, Dict, Protocol, Tuple

from ..document import Document
from .html import HtmlWriter
from .json import JSON_NAME, JsonWriter
from .pdf import PdfWriter
from .yaml import YamlWriter

__all__ = ["Writer", "WRITERS", "JSON_NAME", "HtmlWriter", "JsonWriter", "PdfWriter", "YamlWriter"]


class Writer(Protocol):
    """A file format of a scan: `render(document)` gives the bytes of `file_name`."""

    name: ClassVar[str]  # the format as given to --format: "json", "pdf"
    file_name: ClassVar[str]  # the file written in the output folder: "cbom.cdx.json"

    def render(self, document: Document) -> bytes:
        """The whole file; raises on failure (the caller reports it and writes the other formats)."""
        ...


# --format name -> writer, in the order the formats are listed in the help.
_ALL: Tuple[Writer, ...] = (JsonWriter(), YamlWriter(), HtmlWriter(), PdfWriter())
WRITERS: Dict[str, Writer] = {w.name: w for w in _ALL}
