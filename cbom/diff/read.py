"""Reading the two documents of a diff: any CycloneDX JSON (cbom, Syft, Trivy, cyclonedx-py)."""
from __future__ import annotations

from typing import Any, Optional, Tuple

from .. import cyclonedx
from ..model import Scan
from .model import DiffError, Side

__all__ = ["read_pair", "read_scan"]


def _tool_name(doc: dict) -> str:
    meta = doc.get("metadata")
    tools = meta.get("tools") if isinstance(meta, dict) else None
    if isinstance(tools, dict):  # CycloneDX 1.5+: {"components": [...], "services": [...]}
        tools = [t for key in ("components", "services") if isinstance(tools.get(key), list) for t in tools[key]]
    for t in tools if isinstance(tools, list) else []:
        if isinstance(t, dict) and isinstance(t.get("name"), str) and t["name"]:
            version = t.get("version")
            return f"{t['name']} {version if isinstance(version, str) else ''}".strip()
    return ""


def read_scan(path: str) -> Side:
    """Read one CycloneDX JSON file. Raises DiffError with one line saying what is wrong."""
    return _read(path)[0]


def read_pair(old_path: str, new_path: str) -> Tuple[Side, Side]:
    """Read OLD then NEW; NEW's components unchanged since OLD are OLD's (`cyclonedx.read_dict`'s
    `like`), not read twice. Raises DiffError."""
    old, old_doc = _read(old_path)
    new, _ = _read(new_path, None if old.notes else (old_doc, old.scan))
    return old, new


def _read(path: str, like: Optional[Tuple[Any, Scan]] = None) -> Tuple[Side, Any]:
    try:
        doc = cyclonedx.read_json(path)
        scan, notes = cyclonedx.read_dict(doc, source=path, like=like)
    except cyclonedx.ReadError as exc:
        raise DiffError(str(exc)) from None
    return Side(scan, path, str(doc["specVersion"]), _tool_name(doc), tuple(notes)), doc
