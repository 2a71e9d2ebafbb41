"""Issue 17's figures in one run, each a whole `cbom` process: the report in the time of the scan.

Usage: python benchmarks/bench_paper.py [--runs N] [--before DIR]
  --runs N      runs per figure (default 5; each figure is the median)
  --before DIR  also run the same commands with the cbom of source tree DIR (e.g. a `git worktree`
                of an older commit), side by side, in the same run

Prints, side by side with the issue's target and with the figure measured when the issue was
filed (same machine, whole process):
- `cbom scan --skip capture` with the default formats (json,yaml,html,pdf) on this machine;
- `cbom report` of a CBOM holding one component, PDF only;
- `cbom report` of a CBOM of 3,000 packages and 200 observed hosts, PDF and HTML;
- `cbom diff` of two CBOMs of 20,000 components, 1 % changed.
Memory, sampled every 10 ms with psutil: the largest resident size of one process (what
`/usr/bin/time -f %M` reports, the measure of the issue's figures) and the peak of the sum over cbom
and its child processes (the PDF's layout process included): what the machine has to hold.
The inputs are made here from real data (tests/fixtures/report, tests/golden via big_cbom) and
the synthetic-but-collector-shaped scans of benchmarks/bench_diff.py.
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
from typing import List, Sequence, Tuple

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "core"), str(ROOT / "tests" / "fixtures" / "report"),
                str(ROOT / "benchmarks")]

CBOM = [sys.executable, "-m", "cbom", "-q"]


def whole(argv: Sequence[str], tree_dir: Path = ROOT) -> Tuple[float, float, float, int]:
    """Wall seconds, peak MB of one process and of the process tree, exit code of one run of `argv`
    with the cbom of source tree `tree_dir`."""
    env = dict(os.environ, PYTHONPATH=str(tree_dir))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tree_dir, env=env)
    one = tree = 0
    top = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            sizes = [p.memory_info().rss for p in [top] + top.children(recursive=True)]
            one, tree = max([one] + sizes), max(tree, sum(sizes))
        except psutil.Error:  # a process ended while being read
            pass
        time.sleep(0.01)
    return time.perf_counter() - t0, one / 1e6, tree / 1e6, proc.returncode


def median_of(runs: int, argv: Sequence[str], tree_dir: Path = ROOT) -> Tuple[float, float, float, List[int]]:
    whole(argv, tree_dir)  # once unmeasured: page cache and bytecode warm, as on a second scan
    results = [whole(argv, tree_dir) for _ in range(runs)]
    return (statistics.median(r[0] for r in results), max(r[1] for r in results), max(r[2] for r in results),
            sorted({r[3] for r in results}))


def inputs(folder: Path) -> dict:
    import big_cbom
    import realistic
    from bench_diff import _scan

    from cbom import output

    one = big_cbom.write_big(folder / "one.cdx.json", 1)
    packages = folder / "3000.cdx.json"
    document, _ = output.build(realistic.large_scan(3000, 200))
    packages.write_text(document.json_text, encoding="utf-8")
    old, new = folder / "old.cdx.json", folder / "new.cdx.json"
    for path, variant in ((old, 0), (new, 1)):
        document, _ = output.build(_scan(20000, variant))
        path.write_text(document.json_text, encoding="utf-8")
    return {"one": one, "3000": packages, "old": old, "new": new}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--before", type=Path, help="source tree of the cbom to compare with")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cbom-bench-") as tmp:
        folder = Path(tmp)
        files = inputs(folder)
        out = str(folder / "out")
        cases = [
            ("scan --skip capture, json,yaml,html,pdf", CBOM + ["scan", "--skip", "capture", "-o", out + "1"],
             3.0, None, "7.7 s, 122 MB"),
            ("report, 1 component, pdf", CBOM + ["report", str(files["one"]), "--format", "pdf", "-o", out + "2"],
             1.0, None, "3.1 s, 78 MB"),
            ("report, 3,000 packages, pdf,html",
             CBOM + ["report", str(files["3000"]), "--format", "pdf,html", "-o", out + "3"], 4.0, 150.0,
             "9.0 s, 119 MB"),
            ("diff, 2 x 20,000 components, 1 % changed",
             CBOM + ["diff", str(files["old"]), str(files["new"]), "-o", str(folder / "diff.txt")], 1.0, None,
             "3.2 s"),
        ]
        print(f"{'whole process, median of ' + str(args.runs):42} {'wall':>6} {'target':>7} {'1 process':>9} "
              f"{'tree':>7} {'exit':5} {'when filed':15} verdict")
        for label, argv, target, mb_target, before in cases:
            if args.before:  # the older cbom first, then this one, each median of its own runs
                wall, one, tree, codes = median_of(args.runs, argv, args.before.resolve())
                print(f"{'  before: ' + label:42} {wall:5.2f}s {'':>7} {one:6.0f} MB {tree:4.0f} MB {str(codes):5}")
            wall, one, tree, codes = median_of(args.runs, argv)
            ok = wall < target and (mb_target is None or one < mb_target)
            judged = f"time and <{mb_target:.0f} MB of one process" if mb_target else "time"
            print(f"{label:42} {wall:5.2f}s {'<' + format(target, 'g') + ' s':>7} {one:6.0f} MB {tree:4.0f} MB "
                  f"{str(codes):5} {before:15} {'met' if ok else 'NOT MET'} ({judged})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
