"""`Document`: what every writer is given: the scan, its CycloneDX dict and the exact JSON written;
and `clean()`, the one way external text (names from a network, an image, a file) is shown."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Dict

from .model import Scan

__all__ = ["Document", "clean"]

# Bidi embeddings/overrides/isolates would reorder the text *after* them (a file
# name can be made to read backwards); show them as code points instead.
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
# C0 and C1 controls (ESC starts ANSI/OSC sequences: clear-screen, set-title; 0x9B is a one-byte CSI),
# DEL, lone surrogates (no UTF-8 holds them) and the noncharacters U+FFFE/U+FFFF.
_CONTROLS = r"\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + r"\ud800-\udfff\ufffe\uffff"
_UNSAFE = re.compile(f"[{_CONTROLS}]")
_UNSAFE_LINE = re.compile(f"[\\t\\n{_CONTROLS}]")  # on a terminal line a newline would forge a line


def clean(value: object, one_line: bool = False) -> str:
    """`value` as display text: control, bidi-override and lone-surrogate characters as visible `<U+XXXX>`.

    Every print and log of text that came from outside (a scanned machine, a network, a document)
    goes through here; `one_line` also shows tabs and newlines (terminal lines, log lines).
    """
    text = "" if value is None else str(value)
    return (_UNSAFE_LINE if one_line else _UNSAFE).sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


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
