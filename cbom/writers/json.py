"""cbom.cdx.json: the CycloneDX JSON exactly as built and validated (the source of truth)."""
from __future__ import annotations

from typing import ClassVar

from ..document import Document

JSON_NAME = "cbom.cdx.json"


class JsonWriter:
    """The CycloneDX JSON, byte for byte the text the document was built or read from."""

    name: ClassVar[str] = "json"
    file_name: ClassVar[str] = JSON_NAME

    def render(self, document: Document) -> bytes:
        """The JSON text as UTF-8."""
        return document.json_text.encode("utf-8")
