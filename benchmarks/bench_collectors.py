"""Time each collector in-process on this machine (what `cbom scan` spends in it).

Usage: python benchmarks/bench_collectors.py [--runs N] [NAME ...]
(default: every default collector but capture, whose time is the listening time it is given)
Targets on the 2-core build machine: software < 0.5 s (issue 4), hardware + firmware < 1.5 s (issue 3).
The first run includes imports and cold caches and is shown apart.
"""
from __future__ import annotations

import argparse
import statistics
import time

from cbom.collector import ScanContext
from cbom.registry import load_collectors
from cbom.runner import run_one


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    classes, _ = load_collectors()
    chosen = [c for c in classes if (c.name in args.names if args.names else c.default and c.name != "capture")]
    for cls in chosen:
        times, comps = [], 0
        for _ in range(args.runs):
            t0 = time.perf_counter()
            run, items = run_one(cls, ScanContext())
            times.append(time.perf_counter() - t0)
            comps = run.components
        print(f"{cls.name:<10} first {times[0]:.3f} s, median of the rest "
              f"{statistics.median(times[1:] or times):.3f} s, {comps} components, status {run.status.value}")


if __name__ == "__main__":
    main()
