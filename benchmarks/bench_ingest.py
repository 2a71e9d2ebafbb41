"""`cbom ingest` of every shared recorded machine, this tree side by side with an earlier revision.

Usage: python benchmarks/bench_ingest.py [--base REV] [--runs N] [FIXTURES]
Each recorded folder under FIXTURES (default ../shared/fixtures) is ingested by a fresh
`python -m cbom ingest DIR --format json` process of this tree and of REV (default 79dea94, the
last commit before the recorded backend), checked out in a temporary git worktree and run from it
with this virtualenv's Python. Prints, per platform, the summed wall time (median of N runs) of
both, their ratio and the largest peak RSS.
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


def one(tree: Path, folder: Path, out: Path) -> Tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one ingest process run from `tree`."""
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
    argv = [sys.executable, "-m", "cbom", "-q", "ingest", str(folder), "--format", "json", "-o", str(out)]
    t0 = time.perf_counter()
    pid = subprocess.Popen(argv, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid
    _, _status, usage = os.wait4(pid, 0)
    return time.perf_counter() - t0, usage.ru_maxrss


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", default="79dea94")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("fixtures", nargs="?", default=str(ROOT.parent / "shared" / "fixtures"))
    args = ap.parse_args()
    folders = sorted(p for p in Path(args.fixtures).glob("*/*") if p.is_dir())
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.base],
                       check=True, capture_output=True)
        try:
            totals: Dict[str, Dict[str, List[float]]] = {}
            peaks: Dict[str, int] = {"this": 0, "base": 0}
            for run in range(args.runs):
                for folder in folders:
                    for label, tree in (("this", ROOT), ("base", base)):
                        seconds, rss = one(tree, folder, Path(tmp) / f"out-{label}")
                        per = totals.setdefault(folder.parent.name, {}).setdefault(label, [0.0] * args.runs)
                        per[run] += seconds
                        peaks[label] = max(peaks[label], rss)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], capture_output=True)
    print(f"cbom ingest, {len(folders)} recorded folders, median of {args.runs} runs, summed per platform")
    print(f"{'platform':<10} {'this (s)':>9} {args.base + ' (s)':>14} {'ratio':>6}")
    for platform, per in sorted(totals.items()):
        this, then = statistics.median(per["this"]), statistics.median(per["base"])
        print(f"{platform:<10} {this:9.2f} {then:14.2f} {this / then:6.2f}")
    print(f"peak RSS: this {peaks['this'] // 1024} MB, {args.base} {peaks['base'] // 1024} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
