"""Benchmark of the report's size bound (issue 18, D16): whole `cbom report` commands on big CBOMs.

Run: .venv/bin/python benchmarks/bench_pdf_size.py [--sizes 3000,20000,100000] [--repo DIR] [--only observed-host]
For each size, a CBOM of that many components is made from two real golden CBOMs (a Debian scan
and a plant capture, repeated with unique refs by tests/core/big_cbom.py) in a temporary folder,
then `python -m cbom report FILE --format pdf` and `--format html` are run and timed, wall clock,
as a user runs them. `--repo` runs the cbom of another checkout (a "before" measurement).
Prints seconds, output sizes and the PDF's page count (poppler's pdfinfo, when installed).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "core"))
sys.path.insert(0, str(ROOT))

import big_cbom  # noqa: E402


def _pages(pdf: Path) -> str:
    try:
        out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    except OSError:
        return "?"
    m = re.search(r"^Pages:\s+(\d+)", out, re.M)
    return m.group(1) if m else "?"


def run(repo: Path, cbom: Path, fmt: str, out: Path) -> float:
    """Seconds of one whole `cbom report` run (the interpreter's start-up included)."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(repo))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "cbom", "report", str(cbom), "--format", fmt, "-o", str(out)],
                          cwd=repo, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode:
        print(f"  {fmt}: exit {proc.returncode}: {proc.stderr.strip()[:300]}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3000,20000,100000")
    parser.add_argument("--repo", type=Path, default=ROOT, help="checkout whose cbom runs (default: this one)")
    parser.add_argument("--formats", default="pdf,html")
    parser.add_argument("--only", default="", help="repeat only the components of this category (observed-host)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cbom-bench-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            cbom = big_cbom.write_big(Path(tmp) / f"big-{size}.cdx.json", size, category=args.only)
            for fmt in args.formats.split(","):
                out = Path(tmp) / f"out-{size}-{fmt}"
                took = run(args.repo.resolve(), cbom, fmt, out)
                made = out / f"cbom.{fmt}"
                extra = f", {_pages(made)} pages" if fmt == "pdf" and made.exists() else ""
                mb = made.stat().st_size / 1e6 if made.exists() else 0
                print(f"{size:>7} components  {fmt:<4} {took:7.1f} s  {mb:6.1f} MB{extra}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
