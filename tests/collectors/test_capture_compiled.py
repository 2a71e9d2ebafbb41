"""capture engine: compiled by .ci/setup (setup.py, mypyc), current, and equal to the pure-Python engine.

The per-packet modules (frame reader, engine, records, every dissector) run as C extensions
built from the same typed sources where .ci/setup compiled them, and as Python everywhere else
(the USB bundle, Windows). Here: the compiled modules are the ones imported and are not older
than their sources, and every real capture of tests/fixtures/capture gives the same tables, in
the same order, through both — the pure one run from a copy of the .py files in a child process.
"""
from __future__ import annotations

import dataclasses
import enum
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import collectors.capture._engine as engine
from collectors.capture._engine import Analyzer
from collectors.capture._pcap import CaptureFile

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "capture"
CAPTURE = ROOT / "collectors" / "capture"
CAPTURES = sorted(p for p in FIX.iterdir() if p.suffix in (".pcap", ".pcapng"))


def plain(v: Any) -> Any:
    """A table as JSON (insertion order kept: which host or flow came first is part of the result)."""
    if isinstance(v, dict):
        return [[plain(k), plain(x)] for k, x in v.items()]
    if isinstance(v, (list, tuple, set, frozenset)):
        return [plain(x) for x in (sorted(v) if isinstance(v, (set, frozenset)) else v)]
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if isinstance(v, enum.Enum):
        return v.value
    if dataclasses.is_dataclass(v):  # EventKind: its name says which
        return v.name
    names = getattr(type(v), "__slots__", None) or getattr(type(v), "__mypyc_attrs__", None)
    if names:  # HostRec, Flow, L2Flow: slotted in Python, native once compiled
        return {n: plain(getattr(v, n)) for n in names if not n.startswith("__")}
    return v


def tables(paths: List[str]) -> Dict[str, Any]:
    out = {}
    for path in paths:
        an = Analyzer()
        with open(path, "rb") as f, CaptureFile(f) as cf:
            for ts, lt, frame, wl in cf:
                an.feed(ts, frame, wl, lt)
        out[Path(path).name] = plain({
            "counts": (an.frames, an.bytes, an.undecodable, an.first_ts, an.last_ts),
            "protocols": an.protocols(), "hosts": an.hosts, "flows": an.flows, "l2flows": an.l2flows,
            "events": an.events, "endpoints": an.endpoints, "ip_serves": an.ip_serves, "ip_names": an.ip_names,
            "ip_ident": an.ip_ident, "arp": an.arp, "malformed": an.malformed, "failures": an.dissector_errors,
            "caps": an.caps_hit})
    return out


PURE_CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])  # the copy of the .py files first
sys.path.insert(1, sys.argv[2])  # this test module
import collectors.capture._engine as engine
assert engine.__file__.endswith(".py"), engine.__file__
import test_capture_compiled as t
print(json.dumps(t.tables(sys.argv[3:])))
"""


def test_the_per_packet_modules_are_compiled_from_the_current_sources() -> None:
    assert not engine.__file__.endswith(".py"), "the capture engine is not compiled: run .ci/setup"
    sources = [CAPTURE / n for n in ("_engine.py", "_records.py", "_wire.py", "_pcap.py")]
    sources += [p for p in (CAPTURE / "protocols").glob("*.py") if p.name != "__init__.py"]
    # Each module's extension is a shim; the code of all of them is in one library (setup.py: group_name).
    (native,) = CAPTURE.glob("_native__mypyc.*.so")
    for src in sources:
        assert list(src.parent.glob(src.stem + ".*.so")), "%s is not compiled" % src.relative_to(ROOT)
        assert native.stat().st_mtime >= src.stat().st_mtime, (
            "%s changed after it was compiled: run .ci/setup (Python imports the stale extension)" % src.name)
    assert not list((CAPTURE / "protocols").glob("__init__.*.so")), "the protocol registry stays Python"


def test_pure_python_engine_gives_the_same_tables(tmp_path: Path) -> None:
    pure = tmp_path / "pure"
    shutil.copytree(ROOT / "collectors", pure / "collectors", ignore=shutil.ignore_patterns(
        "*.so", "*.pyd", "__pycache__"))
    paths = [str(p) for p in CAPTURES]
    proc = subprocess.run([sys.executable, "-c", PURE_CHILD, str(pure), str(Path(__file__).parent), *paths],
                          capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    python = json.loads(proc.stdout)
    compiled = json.loads(json.dumps(tables(paths)))
    assert len(compiled) == len(CAPTURES) >= 50
    for name in compiled:
        assert python[name] == compiled[name], name
