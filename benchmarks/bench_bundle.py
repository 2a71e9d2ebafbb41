"""Measure the USB bundle: size, packed size, glibc floor, start-up of the frozen executable, a scan.

Usage: python benchmarks/bench_bundle.py [--runs N] [--build] [DIST]
  --build  run `python -m usb_bundle.build --if-needed` first and time it
Default DIST is dist/cbom-usb. Start-up and scan figures are the median of N (default 5) fresh
processes of linux-x86_64/cbom on this machine (`--version`; `scan --only os,network -f json`).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(argv) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dist", nargs="?", default=str(REPO / "dist" / "cbom-usb"))
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--build", action="store_true")
    args = p.parse_args()
    sys.dont_write_bytecode = True
    sys.path.insert(0, str(REPO))
    from usb_bundle.build import glibc_floor, packed_size, tree_size

    if args.build:
        t = timed([sys.executable, "-m", "usb_bundle.build", "--if-needed"])
        print(f"build (--if-needed): {t:.0f} s")
    dist = Path(args.dist)
    exe = dist / "linux-x86_64" / "cbom"
    size, files = tree_size(dist)
    fsize, _ = tree_size(dist / "linux-x86_64")
    wsize, _ = tree_size(dist / "wheelhouse")
    t = time.perf_counter()
    packed = packed_size(dist)
    packed_frozen = packed_size(dist / "linux-x86_64")
    print(f"bundle: {size / 1e6:.0f} MB in {files} files; frozen {fsize / 1e6:.0f} MB, wheelhouse {wsize / 1e6:.0f} MB")
    print(f"packed (tar.gz -6): {packed / 1e6:.0f} MB (frozen part {packed_frozen / 1e6:.0f} MB), "
          f"measured in {time.perf_counter() - t:.0f} s")
    print(f"glibc required by the frozen build: >= {glibc_floor(dist / 'linux-x86_64')}")
    info = json.loads((dist / "BUNDLE-INFO.json").read_text())
    print(f"wheelhouse targets: {info['wheelhouse']['platforms']} x {info['wheelhouse']['pythons']}")
    versions = [timed([str(exe), "--version"]) for _ in range(args.runs)]
    print(f"frozen `cbom --version`: median {statistics.median(versions):.2f} s (min {min(versions):.2f})")
    with tempfile.TemporaryDirectory() as tmp:
        scans = [timed([str(exe), "-q", "scan", "--only", "os,network", "--format", "json",
                        "-o", f"{tmp}/o{i}"]) for i in range(args.runs)]
        print(f"frozen `cbom scan --only os,network --format json`: median {statistics.median(scans):.2f} s")
        full = [timed([str(exe), "-q", "scan", "-o", f"{tmp}/f{i}"]) for i in range(min(args.runs, 3))]
        print(f"frozen `cbom scan` (default collectors and formats): median {statistics.median(full):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
