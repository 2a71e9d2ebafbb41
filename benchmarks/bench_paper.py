"""Issue 17's figures in one run, each a whole `cbom` process: the report in the time of the scan.

Usage: python benchmarks/bench_paper.py [--runs N]   (default 5; each figure is the median)

Prints, side by side with the issue's target and with the figure measured when the issue was
filed (same machine, whole process):
- `cbom scan --skip capture` with the default formats (json,yaml,html,pdf) on this machine;
- `cbom report` of a CBOM holding one component, PDF only;
- `cbom report` of a CBOM of 3,000 packages and 200 observed hosts, PDF and HTML;
- `cbom diff` of two CBOMs of 20,000 components, 1 % changed.
Memory is the peak of the sum of the resident sizes of cbom and its child processes (the PDF's
layout process included), sampled every 10 ms with psutil: what the machine has to hold.
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


def whole(argv: Sequence[str]) -> Tuple[float, float, int]:
    """Wall seconds, peak MB of the process tree, exit code of one run of `argv`."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
    peak = 0
    top = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            tree = [top] + top.children(recursive=True)
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:  # a process ended while being read
            pass
        time.sleep(0.01)
    return time.perf_counter() - t0, peak / 1e6, proc.returncode


def median_of(runs: int, argv: Sequence[str]) -> Tuple[float, float, List[int]]:
    whole(argv)  # once unmeasured: page cache and bytecode warm, as on a second scan
    results = [whole(argv) for _ in range(runs)]
    return (statistics.median(r[0] for r in results), max(r[1] for r in results), sorted({r[2] for r in results}))


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
        print(f"{'whole process, median of ' + str(args.runs):44} {'wall':>7} {'target':>8} {'peak tree':>10}"
              f"  {'exit':6} when filed")
        for label, argv, target, mb_target, before in cases:
            wall, mb, codes = median_of(args.runs, argv)
            ok = wall < target and (mb_target is None or mb < mb_target)
            mb_txt = f"{mb:.0f} MB" + (f" (<{mb_target:.0f})" if mb_target else "")
            print(f"{label:44} {wall:6.2f}s {'<' + format(target, 'g') + ' s':>8} {mb_txt:>10}  {str(codes):6} "
                  f"{before}  {'met' if ok else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
