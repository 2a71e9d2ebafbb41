"""Benchmark: live capture rate and kernel drops, replaying real captures between two network namespaces.

Root only. Makes namespaces `cbomLA<pid>`/`cbomLB<pid>` joined by a veth pair
(192.0.2.1/24 and 192.0.2.2/24, TEST-NET-1; IPv6 off so that the kernels add
no traffic of their own; MTU 16000 for the captures' largest frames), builds a
replay file from the real captures in tests/fixtures/capture the way
bench_capture.py does (TCP sequence numbers moved on each repetition), then for
each rate: starts the capture collector in B on the veth, waits until its
socket is open, replays the file in A with `tcpreplay` (`--pps N`, or
`--topspeed`) and prints the rate tcpreplay reached, what the collector
received and analysed, and the kernel, interface and queue drop counts it
reported. Both namespaces are deleted in `finally`; nothing leaves them.

    .venv/bin/python benchmarks/bench_capture_live.py [--packets N] [--pps 50000 --pps 0 ...]

`--pps 0` is tcpreplay's --topspeed. Not run by pytest (it takes about a minute).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_capture import build  # noqa: E402
from cbom import vocabulary as V  # noqa: E402

MTU = 16000
# Runs inside namespace B: the collector's own account of the capture, as JSON.
PROBE = r"""
import json, sys
from cbom.collector import ScanContext
from cbom.model import Gap, HostFact
from cbom.runner import run_one
from collectors.capture import CaptureCollector
run, items = run_one(CaptureCollector, ScanContext(options=json.loads(sys.argv[1])))
facts = {i.name: i.value for i in items if isinstance(i, HostFact)}
gaps = [i.reason for i in items if isinstance(i, Gap)]
print(json.dumps({"status": run.status.value, "reason": run.reason, "facts": facts, "gaps": gaps}))
"""


def _sh(*argv: str) -> str:
    return subprocess.run(list(argv), check=True, capture_output=True, text=True, timeout=60).stdout


def _sockets(ns: str) -> int:
    """Packet sockets open in namespace `ns` (/proc/net/packet, one line each after the header)."""
    return len(_sh("ip", "netns", "exec", ns, "cat", "/proc/net/packet").splitlines()) - 1


def _replay(na: str, nb: str, va: str, vb: str, pcap: Path, n: int, pps: int) -> Dict[str, Any]:
    seconds = (n / pps if pps else n / 50000) + 15
    opts = {"capture_seconds": seconds, "interface": [vb], "capture_max_packets": n,
            "timeout_capture": seconds + 120}
    probe = subprocess.Popen(["ip", "netns", "exec", nb, sys.executable, "-c", PROBE, json.dumps(opts)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT))
    try:
        end = time.monotonic() + 60
        while _sockets(nb) < 1:  # the collector's socket is open: what is sent from now on is seen
            if probe.poll() is not None or time.monotonic() > end:
                raise RuntimeError("collector did not open its socket (exit %s)" % probe.poll())
            time.sleep(0.05)
        time.sleep(0.3)  # bind, membership, drain of what came before
        speed = ["--pps", str(pps)] if pps else ["--topspeed"]
        out = subprocess.run(["ip", "netns", "exec", na, "tcpreplay", "-i", va] + speed + [str(pcap)],
                             check=True, capture_output=True, text=True, timeout=seconds + 60).stdout
        res, err = probe.communicate(timeout=seconds + 180)
    finally:
        if probe.poll() is None:
            probe.kill()
            probe.wait()
    if probe.returncode:
        raise RuntimeError("collector failed: %s" % err[-2000:])
    m = re.search(r"Actual: (\d+) packets .* in ([\d.]+) seconds", out)
    rated = re.search(r"Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps", out)
    doc = json.loads(res)
    doc["sent"] = int(m.group(1)) if m else -1
    doc["send_seconds"] = float(m.group(2)) if m else -1.0
    doc["sent_pps"] = float(rated.group(1)) if rated else -1.0
    return doc


def run(packets: int, rates: List[int]) -> List[Tuple[int, Dict[str, Any]]]:
    """Namespaces up, one replay per rate, namespaces down; [(rate, what the collector said)]."""
    pid = os.getpid() % 100000
    na, nb, va, vb = "cbomLA%d" % pid, "cbomLB%d" % pid, "cla%d" % pid, "clb%d" % pid
    tmp = Path(tempfile.mkdtemp(prefix="cbom-bench-live-"))
    results = []
    try:
        pcap = tmp / "replay.pcap"
        n = build(pcap, packets)
        for ns in (na, nb):
            _sh("ip", "netns", "add", ns)
            for key in ("all", "default"):
                _sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % key)
        _sh("ip", "link", "add", va, "netns", na, "mtu", str(MTU), "type", "veth", "peer", "name", vb,
            "netns", nb, "mtu", str(MTU))
        _sh("ip", "-n", na, "addr", "add", "192.0.2.1/24", "dev", va)
        _sh("ip", "-n", nb, "addr", "add", "192.0.2.2/24", "dev", vb)
        _sh("ip", "-n", na, "link", "set", va, "up")
        _sh("ip", "-n", nb, "link", "set", vb, "up")
        time.sleep(0.5)
        for pps in rates:
            results.append((pps, _replay(na, nb, va, vb, pcap, n, pps)))
    finally:
        for ns in (na, nb):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def report(results: List[Tuple[int, Dict[str, Any]]]) -> None:
    for pps, doc in results:
        f = doc["facts"]
        received = int(f.get(V.CAPTURE_RECEIVED, 0))
        print("live %-11s: sent %d packets in %.2f s = %.0f packets/s; received %d (%d lost), analysed %s; drops: "
              "kernel %s, queue %s, interface rx_dropped %s (%s)" % (
                  "%d/s" % pps if pps else "topspeed", doc["sent"], doc["send_seconds"], doc["sent_pps"], received,
                  doc["sent"] - received, f.get(V.CAPTURE_PACKETS), f.get(V.CAPTURE_KERNEL_DROPS),
                  f.get(V.CAPTURE_QUEUE_DROPS), f.get(V.CAPTURE_INTERFACE_DROPS), doc["status"]))
        for g in doc["gaps"]:
            print("    gap: %s" % g)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packets", type=int, default=500_000)
    ap.add_argument("--pps", type=int, action="append", help="replay rate (0: --topspeed); default 50000 and 0")
    a = ap.parse_args()
    if os.geteuid() != 0 or not shutil.which("tcpreplay") or not shutil.which("ip"):
        print("live benchmark needs root, tcpreplay and ip (iproute2): skipped")
        return 0
    print("load average before: %.2f %.2f %.2f" % os.getloadavg())
    report(run(a.packets, a.pps or [50000, 0]))
    print("load average after:  %.2f %.2f %.2f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
