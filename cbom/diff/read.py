"""Reading the two documents of a diff: any CycloneDX JSON (cbom, Syft, Trivy, cyclonedx-py)."""
from __future__ import annotations

from .. import cyclonedx
from .model import DiffError, Side

__all__ = ["read_scan"]


def _tool_name(doc: dict) -> str:
    tools = (doc.get("metadata") or {}).get("tools") or []
    if isinstance(tools, dict):
        tools = list(tools.get("components") or []) + list(tools.get("services") or [])
    for t in tools if isinstance(tools, list) else []:
        if isinstance(t, dict) and t.get("name"):
            return f"{t['name']} {t.get('version', '')}".strip()
    return ""


def read_scan(path: str) -> Side:
    """Read one CycloneDX JSON file. Raises DiffError with one line saying what is wrong."""
    try:
        doc = cyclonedx.read_json(path)
        scan = cyclonedx.from_dict(doc, source=path)
    except cyclonedx.ReadError as exc:
        raise DiffError(str(exc)) from None
    return Side(scan, path, str(doc["specVersion"]), _tool_name(doc))
