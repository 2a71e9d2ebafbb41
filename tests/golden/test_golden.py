"""Golden CBOMs of every shared recorded machine and every shared capture.

Each case runs the real `cbom` command (in-process: `cbom.cli.main`) and compares the
document, normalised, with the one kept under tests/golden/<kind>/. Normalised means: no
serial number, no times of the scan itself, no tool version, no per-collector run records
(their names and durations are how the scan was composed, not what it found), and for
captures the scanning machine's own identity is replaced by "HOST".

Regenerate on purpose, then read the diff of the golden files before committing:

    CBOM_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/golden
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List

import pytest

from cbom.cli import main
from conftest import assert_finished_without_failure

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / "shared"
FIXTURES = SHARED / "fixtures"
CAPTURES = SHARED / "captures"
UPDATE = os.environ.get("CBOM_UPDATE_GOLDEN") == "1"

needs_shared = pytest.mark.skipif(not FIXTURES.is_dir() or not CAPTURES.is_dir(),
                                  reason="../shared/fixtures and ../shared/captures not present")

_VOLATILE_META = ("cbom:scan:finished", "cbom:scan:privilege")


def _machines() -> List[Path]:
    if not FIXTURES.is_dir():
        return []
    return sorted(p for p in FIXTURES.glob("*/*") if p.is_dir())


def _captures() -> List[Path]:
    if not CAPTURES.is_dir():
        return []
    return sorted(p for p in CAPTURES.iterdir() if p.suffix in (".pcap", ".pcapng"))


def normalise(doc: Dict[str, Any], capture: bool = False) -> Dict[str, Any]:
    """The document without what changes from one identical run to the next."""
    doc = dict(doc)
    doc.pop("serialNumber", None)
    meta = dict(doc.get("metadata", {}))
    meta.pop("timestamp", None)
    meta.pop("tools", None)
    meta["properties"] = [p for p in meta.get("properties", [])
                          if p["name"] not in _VOLATILE_META and not p["name"].startswith("cbom:collector:")]
    if capture and "component" in meta:
        host = dict(meta["component"])
        host["name"], host["bom-ref"] = "HOST", "HOST"
        host["properties"] = [p for p in host.get("properties", []) if p["name"].startswith("cbom:capture:")]
        meta["component"] = host
    doc["metadata"] = meta
    return doc


def _check(name: str, produced: Dict[str, Any]) -> None:
    golden = HERE / name
    text = json.dumps(produced, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        return
    assert golden.is_file(), f"no golden file {name} (CBOM_UPDATE_GOLDEN=1 writes it)"
    expected = json.loads(golden.read_text(encoding="utf-8"))
    if produced != expected:
        lost = _refs(expected) - _refs(produced)
        added = _refs(produced) - _refs(expected)
        pytest.fail(f"{name} differs from its golden file: {len(lost)} components lost {sorted(lost)[:5]}, "
                    f"{len(added)} added {sorted(added)[:5]}; rerun with CBOM_UPDATE_GOLDEN=1 and read the diff")


def _refs(doc: Dict[str, Any]) -> set:
    return {c["bom-ref"] for c in doc.get("components", [])}


@needs_shared
@pytest.mark.parametrize("folder", _machines(), ids=lambda p: f"{p.parent.name}-{p.name}")
def test_recorded_machine_matches_golden(folder: Path, tmp_path: Path) -> None:
    rc = main(["-q", "ingest", str(folder), "--format", "json", "-o", str(tmp_path)])
    doc = json.loads((tmp_path / "cbom.cdx.json").read_text(encoding="utf-8"))
    assert_finished_without_failure(rc, doc)  # partial where the recording lacks a source's files
    _check(f"ingest/{folder.parent.name}-{folder.name}.json", normalise(doc))


@needs_shared
@pytest.mark.parametrize("pcap", _captures(), ids=lambda p: p.stem)
def test_capture_matches_golden(pcap: Path, tmp_path: Path) -> None:
    rc = main(["-q", "scan", "--only", "capture", "--pcap", str(pcap), "--format", "json", "-o", str(tmp_path)])
    doc = json.loads((tmp_path / "cbom.cdx.json").read_text(encoding="utf-8"))
    assert_finished_without_failure(rc, doc)  # partial where a capture file holds undecodable frames
    _check(f"capture/{pcap.stem}.json", normalise(doc, capture=True))
