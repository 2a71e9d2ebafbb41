"""Time whole `cbom scan` processes and their peak memory.

Usage: python benchmarks/bench_scan.py [--runs N] [COLLECTORS[:FORMATS] ...]
Default: the os+network scan writing the CycloneDX JSON and YAML (issue 2's target on the 2-core build
machine: < 1 s wall, < 80 MB peak RSS), the same with the default formats (adds the HTML and PDF
report), then the default scan with a 5 s capture. Each figure is the median of N runs (default 5)
of a fresh process.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def one(spec: str) -> tuple:
    only, _, formats = spec.partition(":")
    with tempfile.TemporaryDirectory() as tmp:
        argv = [sys.executable, "-m", "cbom", "-q", "scan", "-o", os.path.join(tmp, "out"), "--capture-seconds", "5"]
        if only:
            argv += ["--only", only]
        if formats:
            argv += ["--format", formats]
        t0 = time.perf_counter()
        pid = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - t0
        return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("sets", nargs="*", default=["os,network:json,yaml", "os,network", ""])
    args = ap.parse_args()
    for only in args.sets:
        results = [one(only) for _ in range(args.runs)]
        walls = [r[0] for r in results]
        rss = max(r[1] for r in results)
        codes = sorted({r[2] for r in results})
        print(f"cbom scan {only or '(default collectors)'}: "
              f"median {statistics.median(walls):.2f} s wall (min {min(walls):.2f}, max {max(walls):.2f}), "
              f"peak RSS {rss:.0f} MB, exit codes {codes}, {args.runs} runs")


if __name__ == "__main__":
    main()
