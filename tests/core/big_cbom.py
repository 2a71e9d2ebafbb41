"""Large CBOMs made from real ones: a golden CBOM's components repeated, each copy with unique refs.

Used by tests/core/test_pdf_limits.py and benchmarks/bench_pdf_size.py; the big files are
generated into a temporary folder on each run, never committed.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Sequence

from cbom import vocabulary as V

REPO = Path(__file__).resolve().parents[2]
# A real scan of a Debian machine (software, hardware, interfaces) and a real plant capture
# (observed hosts, protocols and their conversations): see their folders' SOURCES/README.
GOLDENS = (REPO / "tests" / "fixtures" / "diff" / "thishost.cdx.json",
           REPO / "tests" / "golden" / "capture" / "plant_mixed_modbus_s7comm_enip_profinet_lldp.json")


def multiply(docs: Sequence[Dict[str, Any]], total: int) -> Dict[str, Any]:
    """A CycloneDX document (the first of `docs`, its metadata) holding `total` components: those of
    every document in `docs`, repeated; copy k > 0 has "-k" appended to its bom-ref and name."""
    base: List[Dict[str, Any]] = [c for d in docs for c in d.get("components", [])]
    assert base, "no components to multiply"
    out = dict(docs[0])
    comps = []
    for i in range(total):
        k, c = divmod(i, len(base))
        comp = base[c]
        if k:
            comp = dict(comp, name=f"{comp['name']}-{k}")
            comp["bom-ref"] = f"{comp['bom-ref']}-{k}"
        comps.append(comp)
    out["components"] = comps
    refs = {c["bom-ref"] for c in comps}
    out["dependencies"] = [d for doc in docs for d in doc.get("dependencies", [])
                           if d.get("ref") in refs and all(x in refs for x in d.get("dependsOn", []))]
    out.pop("serialNumber", None)  # not the scan it was made from
    return out


def write_big(path: Path, total: int, goldens: Sequence[Path] = GOLDENS, category: str = "") -> Path:
    """`multiply` of the golden CBOMs (only their components of `category`, when given, e.g.
    "observed-host") written to `path` (JSON); returns `path`."""
    docs = [json.loads(Path(g).read_text(encoding="utf-8")) for g in goldens]
    if category:
        docs = [dict(d, components=[c for c in d.get("components", [])
                                    if {"name": V.CATEGORY, "value": category} in c.get("properties", [])])
                for d in docs]
    path.write_text(json.dumps(multiply(docs, total), indent=1), encoding="utf-8")
    return path
