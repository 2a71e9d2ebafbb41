"""Benchmark: cbom's capture analysis vs `tshark -r FILE -q -z conv,ip` on a >= 1,000,000-packet capture.

Builds the big file in a temporary folder from the real captures in
tests/fixtures/capture (Ethernet ones laid end to end, then repeated; each
repetition is shifted in time and its TCP sequence/acknowledgement numbers
moved by k x 50,000,000 so both tools see new data rather than
retransmissions; checksums are left as they are, neither tool verifies them).
Then runs both tools side by side, each in its own process, and prints wall
time, packets/s, the ratio and each one's peak RSS.

    .venv/bin/python benchmarks/bench_capture.py [--packets N] [--keep FILE]

Not run by pytest (it takes about a minute).
"""
from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
    t = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(ROOT))
    _pid, status, ru = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t
    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    if proc.stdout:
        proc.stdout.close()
    if proc.stderr:
        proc.stderr.close()
    return wall, ru.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--keep", metavar="FILE", help="keep the generated capture at FILE")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cbom-bench-"))
    try:
        big = tmp / "big.pcap"
        t = time.monotonic()
        n = build(big, a.packets)
        print("built %s: %d packets, %.1f MB in %.1f s" % (big.name, n, big.stat().st_size / 1e6, time.monotonic() - t))
        ours = timed([sys.executable, "-c", CHILD, str(big)])
        print("cbom capture : %6.2f s  %9.0f packets/s  peak RSS %6.1f MB  (%s)" % (
            ours[0], n / ours[0], ours[1], ours[3].strip()))
        if shutil.which("tshark"):
            ts = timed(["tshark", "-r", str(big), "-q", "-z", "conv,ip"])
            print("tshark conv,ip: %6.2f s  %9.0f packets/s  peak RSS %6.1f MB  (exit %d)" % (
                ts[0], n / ts[0], ts[1], ts[2]))
            print("ratio (tshark time / cbom time): %.2f  -> cbom is %s" % (
                ts[0] / ours[0], "faster" if ours[0] <= ts[0] else "SLOWER"))
        else:
            print("tshark not found: no comparison")
        print("peak memory under 200 MB: %s" % ("yes" if ours[1] < 200 else "NO"))
        if a.keep:
            shutil.copyfile(big, a.keep)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
