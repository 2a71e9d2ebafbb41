"""`cbom ingest` of every shared recorded machine, by two installed cboms side by side.

Usage: python benchmarks/bench_ingest.py --base-python PY [--python PY] [--runs N] [FIXTURES]
Each recorded folder under FIXTURES (default ../shared/fixtures) is ingested by a fresh
`PY -m cbom ingest DIR --format json` process of each Python: `--python` (default this one) and
`--base-python`, a virtualenv holding another revision, e.g.

    git worktree add --detach /tmp/wt-base 79dea94
    python3 -m venv /tmp/vb && /tmp/vb/bin/pip install /tmp/wt-base

(a non-editable install each: an editable one resolves some modules from its own tree whatever
PYTHONPATH says). Prints, per platform, the summed wall time (median of N runs), the ratio and the
largest peak RSS.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[1]


def one(python: str, folder: Path, out: Path) -> Tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one ingest process."""
    argv = [python, "-m", "cbom", "-q", "ingest", str(folder), "--format", "json", "-o", str(out)]
    t0 = time.perf_counter()
    pid = subprocess.Popen(argv, cwd=out.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1")).pid
    _, _status, usage = os.wait4(pid, 0)
    return time.perf_counter() - t0, usage.ru_maxrss


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base-python", required=True)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("fixtures", nargs="?", default=str(ROOT.parent / "shared" / "fixtures"))
    args = ap.parse_args()
    folders = sorted(p for p in Path(args.fixtures).glob("*/*") if p.is_dir())
    pythons = (("this", args.python), ("base", args.base_python))
    totals: Dict[str, Dict[str, List[float]]] = {}
    peaks = {"this": 0, "base": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            for folder in folders:
                for label, python in pythons:
                    seconds, rss = one(python, folder, Path(tmp) / f"out-{label}")
                    per = totals.setdefault(folder.parent.name, {}).setdefault(label, [0.0] * args.runs)
                    per[run] += seconds
                    peaks[label] = max(peaks[label], rss)
    print(f"cbom ingest, {len(folders)} recorded folders, median of {args.runs} runs, summed per platform")
    print(f"{'platform':<10} {'this (s)':>9} {'base (s)':>9} {'ratio':>6}")
    for platform, per in sorted(totals.items()):
        this, then = statistics.median(per["this"]), statistics.median(per["base"])
        print(f"{platform:<10} {this:9.2f} {then:9.2f} {this / then:6.2f}")
    print(f"peak RSS: this {peaks['this'] // 1024} MB, base {peaks['base'] // 1024} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
