"""Benchmark: cbom's capture analysis vs `tshark -r FILE -q -z conv,ip` on a >= 1,000,000-packet capture.

Builds the big file in a temporary folder from the real captures in
tests/fixtures/capture (Ethernet ones laid end to end, then repeated; each
repetition is shifted in time and its TCP sequence/acknowledgement numbers
moved by k x 50,000,000 so both tools see new data rather than
retransmissions; checksums are left as they are, neither tool verifies them).
Then runs both tools side by side, each in its own process, one after the
other, `--repeat` times (the order alternating), and prints for each run and
as medians: wall and CPU time (user + system of the whole process, interpreter
start included), packets/s, the ratio tshark / cbom and each one's peak RSS,
with the load average before and after (on a busy machine the CPU-time ratio
is the steadier one). `--live` then runs bench_capture_live.py (root only):
the live-capture rate and the kernel drop count.

    .venv/bin/python benchmarks/bench_capture.py [--packets N] [--repeat 3] [--pcap FILE | --keep FILE] [--live]

Not run by pytest (it takes about a minute).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "capture"
sys.path.insert(0, str(ROOT))

from collectors.capture._pcap import CaptureFile, PcapWriter  # noqa: E402

CHILD = r"""
import sys, time
from cbom.collector import ScanContext
from cbom.runner import run_one
from collectors.capture import CaptureCollector
t = time.monotonic()
run, items = run_one(CaptureCollector, ScanContext(options={"pcap": [sys.argv[1]], "timeout_capture": 3600}))
print(run.status.value, run.reason, len(items), "%.3f" % (time.monotonic() - t))
"""


def _shift_tcp(frame: bytes, delta: int) -> bytes:
    """Frame with TCP seq/ack moved forward by `delta` (IPv4/IPv6 over Ethernet, optional VLAN)."""
    off = 12
    et = struct.unpack_from(">H", frame, off)[0]
    off += 2
    while et in (0x8100, 0x88A8) and len(frame) >= off + 4:
        et = struct.unpack_from(">H", frame, off + 2)[0]
        off += 4
    if et == 0x0800 and len(frame) >= off + 20 and frame[off + 9] == 6:
        if struct.unpack_from(">H", frame, off + 6)[0] & 0x1FFF:
            return frame
        p = off + (frame[off] & 15) * 4
    elif et == 0x86DD and len(frame) >= off + 40 and frame[off + 6] == 6:
        p = off + 40
    else:
        return frame
    if len(frame) < p + 12:
        return frame
    seq, ack = struct.unpack_from(">II", frame, p + 4)
    b = bytearray(frame)
    struct.pack_into(">II", b, p + 4, (seq + delta) & 0xFFFFFFFF, (ack + delta) & 0xFFFFFFFF if ack else 0)
    return bytes(b)


def build(path: Path, target: int) -> int:
    base = []
    for f in sorted(FIX.iterdir()):
        if f.suffix not in (".pcap", ".pcapng"):
            continue
        with open(f, "rb") as fh, CaptureFile(fh) as cf:
            recs = [(ts, fr, wl) for ts, lt, fr, wl in cf if lt == 1]
        if recs:
            t0 = recs[0][0]
            base += [(ts - t0, fr, wl) for ts, fr, wl in recs]
    # lay the captures end to end, 1 s apart
    laid, t = [], 0.0
    for rel, fr, wl in base:
        laid.append((t + rel, fr, wl))
    span = max(ts for ts, _, _ in laid) + 1.0
    n = 0
    with open(path, "wb") as out:
        w = PcapWriter(out)
        k = 0
        start = 1_700_000_000.0
        while n < target:
            delta = k * 50_000_000
            for ts, fr, wl in laid:
                w.write(start + k * span + ts, _shift_tcp(fr, delta) if k else fr, wl)
                n += 1
                if n >= target:
                    break
            k += 1
    return n


def timed(argv) -> tuple:
    """(wall s, CPU s, peak RSS MB, exit code, stdout) of one run of `argv`."""
    t = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=str(ROOT))
    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    _pid, status, ru = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t
    if proc.stdout:
        proc.stdout.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0, proc.returncode, out


def _line(name: str, n: int, r: tuple) -> str:
    return "%-14s: %6.2f s wall %6.2f s CPU %9.0f packets/s (CPU)  peak RSS %6.1f MB" % (
        name, r[0], r[1], n / r[1], r[2])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", metavar="FILE", help="keep the generated capture at FILE")
    ap.add_argument("--pcap", metavar="FILE", help="use this capture instead of building one")
    ap.add_argument("--live", action="store_true", help="then measure live capture (bench_capture_live.py)")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cbom-bench-"))
    tshark = shutil.which("tshark")
    try:
        if a.pcap:
            big = Path(a.pcap)
            with open(big, "rb") as fh, CaptureFile(fh) as cf:
                n = sum(1 for _ in cf)
            print("using %s: %d packets, %.1f MB" % (big, n, big.stat().st_size / 1e6))
        else:
            big = tmp / "big.pcap"
            t = time.monotonic()
            n = build(big, a.packets)
            print("built %s: %d packets, %.1f MB in %.1f s" % (big.name, n, big.stat().st_size / 1e6,
                                                               time.monotonic() - t))
        print("load average before: %.2f %.2f %.2f (%d CPUs)" % (*os.getloadavg(), os.cpu_count() or 0))
        ours: List[tuple] = []
        theirs: List[tuple] = []
        for k in range(a.repeat):
            runs = [("cbom", [sys.executable, "-c", CHILD, str(big)], ours)]
            if tshark:
                runs.append(("tshark", [tshark, "-r", str(big), "-q", "-z", "conv,ip"], theirs))
            for name, argv, into in runs if k % 2 == 0 else runs[::-1]:
                r = timed(argv)
                into.append(r)
                extra = "(%s)" % r[4].strip() if name == "cbom" else "(exit %d)" % r[3]
                print("run %d %s %s" % (k + 1, _line(name, n, r), extra))
        med = lambda rs, i: statistics.median(r[i] for r in rs)  # noqa: E731
        print("median of %d: %s" % (a.repeat, _line("cbom", n, (med(ours, 0), med(ours, 1), med(ours, 2)))))
        if theirs:
            print("median of %d: %s" % (a.repeat, _line("tshark", n, (med(theirs, 0), med(theirs, 1), med(theirs, 2)))))
            wall = statistics.median(t[0] / o[0] for o, t in zip(ours, theirs))
            cpu = statistics.median(t[1] / o[1] for o, t in zip(ours, theirs))
            print("ratio tshark / cbom (median of the %d side-by-side pairs): wall %.2f, CPU %.2f  -> cbom is %s" % (
                a.repeat, wall, cpu, "faster" if wall >= 1 else "SLOWER"))
            print("target >= 2x tshark: %s" % ("yes" if min(wall, cpu) >= 2 else "NO"))
        else:
            print("tshark not found: no comparison")
        print("peak memory under 100 MB: %s" % ("yes" if max(r[2] for r in ours) < 100 else "NO"))
        print("load average after:  %.2f %.2f %.2f" % os.getloadavg())
        if a.keep and not a.pcap:
            shutil.copyfile(big, a.keep)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if a.live:
        import bench_capture_live

        bench_capture_live.report(bench_capture_live.run(500_000, [50000, 0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
