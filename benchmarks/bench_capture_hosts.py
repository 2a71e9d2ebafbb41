"""Benchmark: a capture with 20,000 hosts, through `cbom scan --pcap` to JSON (issue 18, D16).

Builds the capture here with the standard library: one ARP request per host, each from its own
locally administered MAC (02:cb:...); the sender addresses cycle through the three documentation
networks of RFC 5737 (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), so many MACs claim one
address, as on a big flat network seen over a day. Then

- times the capture collector alone (in a child, `run_one`) at 1/4, 1/2, 1 and 2 times the host
  count: the analysis must grow linearly (the host table is capped at MAX_HOSTS = 20,000);
- times the whole `cbom scan --only capture` process for each output format set asked
  (default: json, then json,yaml,html) with its peak RSS.

    .venv/bin/python benchmarks/bench_capture_hosts.py [--hosts N] [--formats json json,yaml,html,pdf]

Not run by pytest. On the shared 2-core test machine (Python 3.11, December 2026), 20,000 hosts:
collector 0.5 s (0.19 / 0.27 / 0.51 / 0.60 s at 5k / 10k / 20k / 40k), whole process 1.6 s (json),
6.7 s and 430 MB (json,yaml,html: ~5 s of it the YAML and HTML writers), ~35 s more for the PDF.
Commit 79dea94, the one issue 18 tested, gives the same 6.7 s and 435 MB here: the 45 s of D16
were that machine's load, and what remains is the writers' (cbom/writers), not the analysis.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parent.parent
NETS = (bytes([192, 0, 2]), bytes([198, 51, 100]), bytes([203, 0, 113]))


def mac(i: int) -> bytes:
    """A made-up, locally administered unicast MAC (02:cb:00:xx:xx:xx)."""
    return bytes([0x02, 0xCB, 0, (i >> 16) & 255, (i >> 8) & 255, i & 255])


def ip(i: int) -> bytes:
    """The i-th documentation address (768 of them; hosts beyond share them)."""
    return NETS[(i // 254) % 3] + bytes([1 + i % 254])


def arp_request(i: int) -> bytes:
    """Ethernet broadcast ARP 'who has' from host i, asking for host i + 1's address."""
    arp = struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac(i), ip(i), b"\0" * 6, ip(i + 1))
    return b"\xff" * 6 + mac(i) + b"\x08\x06" + arp


def build(path: Path, hosts: int) -> int:
    """Write the capture (classic pcap, microseconds, Ethernet); returns the packet count."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(hosts):
            frame = arp_request(i)
            f.write(struct.pack("<IIII", 1_700_000_000 + i // 100, (i % 100) * 10_000, len(frame), len(frame)))
            f.write(frame)
    return hosts


# The collector alone, in a fresh interpreter: prints its wall time.
CHILD = r"""
import sys, time
from cbom.collector import ScanContext
from cbom.runner import run_one
from collectors.capture import CaptureCollector
t = time.monotonic()
run, items = run_one(CaptureCollector, ScanContext(options={"pcap": [sys.argv[1]]}))
print("%.3f" % (time.monotonic() - t))
"""


def timed(argv: List[str]) -> tuple:
    """(wall seconds, peak RSS MB of the child, exit code, its output), the child in a process of its own."""
    t = time.monotonic()
    # RUSAGE_CHILDREN gives the largest child so far: the runs go from the smallest to the largest.
    proc = subprocess.run(argv, cwd=str(ROOT), capture_output=True, text=True)
    wall = time.monotonic() - t
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, proc.returncode, proc.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=20_000)
    ap.add_argument("--keep", metavar="FILE", help="keep the generated capture at FILE")
    ap.add_argument("--formats", nargs="*", default=["json", "json,yaml,html"])
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cbom-bench-hosts-"))
    try:
        for n in (a.hosts // 4, a.hosts // 2, a.hosts, a.hosts * 2):
            pcap = tmp / ("hosts%d.pcap" % n)
            build(pcap, n)
            out = timed([sys.executable, "-c", CHILD, str(pcap)])[3].strip()
            print("collector alone, %6d hosts: %s s" % (n, out))
        pcap = tmp / ("hosts%d.pcap" % a.hosts)
        print("%s: %.2f MB" % (pcap.name, pcap.stat().st_size / 1e6))
        for k, formats in enumerate(a.formats):
            wall, rss, rc, _ = timed([sys.executable, "-m", "cbom", "scan", "--only", "capture", "--pcap", str(pcap),
                                      "--format", formats, "-o", str(tmp / ("out%d" % k))])
            print("cbom scan --format %-18s %6.2f s  peak RSS %6.1f MB  exit %d" % (formats, wall, rss, rc))
        if a.keep:
            shutil.copyfile(pcap, a.keep)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
