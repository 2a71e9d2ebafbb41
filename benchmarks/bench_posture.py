"""Measure what the posture and crypto collectors add to a scan of this machine.

Usage: python benchmarks/bench_posture.py [--runs N]
Runs `cbom scan --skip capture --format json` with and without the new collectors (crypto, posture,
software.npm, .go, .jar) in N (default 7) pairs of fresh processes, alternating so both see the same cache
state, and prints the median whole-process time of each, their difference (the issue's budget:
< 0.5 s), and each new collector's own duration as the CBOM records it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The built-in tuple, passed as the frozen build does: works before pyproject's entry points list them.
LAUNCH = ("import sys; from cbom.cli import run; from collectors import BUILTIN; "
          "sys.argv = ['cbom'] + sys.argv[1:]; run(BUILTIN)")
NEW = "crypto,posture,software.npm,software.go,software.jar"


def scan(out: Path, skip: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", LAUNCH, "-q", "scan", "--skip", skip, "--format", "json", "-o", str(out)],
                   cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                   env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    return time.perf_counter() - t0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=7)
    args = p.parse_args()
    without, with_ = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            without.append(scan(Path(tmp) / f"a{i}", "capture," + NEW))
            with_.append(scan(Path(tmp) / f"b{i}", "capture"))
        doc = json.loads((Path(tmp) / f"b{args.runs - 1}" / "cbom.cdx.json").read_text(encoding="utf-8"))
    a, b = statistics.median(without), statistics.median(with_)
    print(f"scan without {NEW}: median {a:.3f} s of {args.runs} processes")
    print(f"scan with {NEW}:    median {b:.3f} s")
    print(f"added: {b - a:+.3f} s (budget 0.5 s)")
    props = {q["name"]: q["value"] for q in doc["metadata"].get("properties", [])}
    for name, value in sorted(props.items()):
        if name.endswith(":duration") and any(f":{n}" in name for n in ("crypto.", "posture.", "software.npm:",
                                                                          "software.go:", "software.jar:")):
            collector = name.split(":")[2]
            count = props.get(name.replace(":duration", ":components"), "?")
            print(f"  {collector:18} {float(value):.3f} s  {count} components")
    return 0


if __name__ == "__main__":
    sys.exit(main())
