"""`Document`: what every writer is given: the scan, its CycloneDX dict and the exact JSON written."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Dict

from .model import Scan

__all__ = ["Document"]


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
