"""capture: limits that hold whatever the capture or a protocol module does (issue 18, D1 and D13).

- A dissector that truly loops (a plug-in's bug, not hostile data) is stopped at the time limit:
  the scan ends, keeps what was found before, names the protocol in a gap and leaves nothing
  spinning behind it.
- A capture given twice in part (`--pcap A --pcap B` where B holds some of A's packets) counts
  each packet once and says how many it dropped.

Captures are built here with the standard library: documentation addresses (RFC 5737) and
locally administered MACs only.
"""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import List

from capture_frames import arp as _arp, mac as _mac, pcap as _pcap, udp as _udp

ROOT = Path(__file__).resolve().parent.parent.parent


# ---------------------------------------------------------------- a looping dissector

LOOPING_PLUGIN = (Path(__file__).resolve().parents[1] / "fixtures" / "capture" / "looping_plugin.py").read_text()

# `cbom scan` in a child with the plug-in registered first; once the scan has returned, the child
# looks at itself for 2 s: CPU time used, threads and child processes left.
CLI = r"""
import json, os, sys, threading, time
exec(open(sys.argv[1]).read())
from cbom.cli import main
t = time.monotonic()
code = main(sys.argv[2:])
wall = time.monotonic() - t
cpu = time.process_time()
time.sleep(2.0)
children = []
for task in os.listdir("/proc/self/task"):
    with open("/proc/self/task/%s/children" % task) as f:
        children += f.read().split()
print(json.dumps({"code": code, "wall": wall, "cpu_after": time.process_time() - cpu,
                  "threads": [t.name for t in threading.enumerate()], "children": children}))
"""


def test_a_looping_dissector_is_stopped_at_the_time_limit(tmp_path):
    plugin = tmp_path / "plugin.py"
    plugin.write_text(LOOPING_PLUGIN)
    frames = [_arp(3), _arp(4), _udp(b"ok", 40009, 40009), _arp(5), _udp(b"L", 40009, 40009), _arp(8)]
    pcap = _pcap(tmp_path / "loop.pcap", frames)
    out = tmp_path / "out"
    limit = 6
    argv = [sys.executable, "-c", CLI, str(plugin), "scan", "--only", "capture", "--pcap", str(pcap),
            "--collector-timeout", str(limit), "--format", "json", "-o", str(out)]
    t = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=str(ROOT))
    assert "Traceback" not in proc.stderr, proc.stderr
    res = json.loads(proc.stdout.splitlines()[-1])
    assert res["wall"] < limit + 3, res
    assert time.monotonic() - t < limit + 3 + 2 + 10  # whole child: scan, 2 s look, interpreter start
    # nothing left burning: no analysis thread, no child process, no CPU while the child sleeps
    assert "cbom-capture-analysis" not in res["threads"], res
    assert res["children"] == [], res
    assert res["cpu_after"] < 0.5, res
    doc = (out / "cbom.cdx.json").read_text()
    assert "the loop dissector looping?" in doc and "4 packets before it are kept" in doc
    for i in (3, 4, 5, 7):  # found before the looping packet: kept
        assert _mac(i).hex(":") in doc, i
    # and no process anywhere still runs with this test's files
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                assert str(tmp_path).encode() not in f.read(), pid
        except OSError:  # ended meanwhile
            pass


# ---------------------------------------------------------------- a capture partly inside another


def _scan(*paths: Path):
    from cbom.collector import ScanContext
    from cbom.runner import run_one
    from collectors.capture import CaptureCollector

    return run_one(CaptureCollector, ScanContext(options={"pcap": [str(p) for p in paths]}))


def _facts(items) -> dict:
    from cbom.model import HostFact

    return {i.name: i.value for i in items if isinstance(i, HostFact)}


def _host_packets(items) -> List[str]:
    from cbom.model import Category, Component

    return sorted("%s %s" % (c.prop("cdx:device:macAddress"), c.prop("cbom:net:packets")) for c in items
                  if isinstance(c, Component) and c.category == Category.OBSERVED_HOST)


def test_packets_in_two_files_are_counted_once(tmp_path):
    frames = [_arp(3 + i % 5) if i % 2 else _udp(b"x%d" % i, 40000 + i, 53) for i in range(20)]
    a = _pcap(tmp_path / "a.pcap", frames)
    half = _pcap(tmp_path / "half.pcap", frames[:10])  # a cut of A
    more = _pcap(tmp_path / "more.pcap", frames + [_arp(9), _arp(10)], )  # A, then two more packets
    _, alone = _scan(a)
    assert _facts(alone)["cbom:capture:packets"] == "20"
    for second, extra in ((half, 0), (more, 2)):
        for order in ((a, second), (second, a)):
            run, items = _scan(*order)
            facts = _facts(items)
            assert facts["cbom:capture:packets"] == str(20 + extra), (order, facts)
            assert facts["cbom:capture:duplicates-dropped"] == str(len(frames[:10]) if second is half else 20)
            if not extra:  # the same packets: the same hosts with the same counts as A alone
                assert _host_packets(items) == _host_packets(alone)
    # the same bytes at another time are another packet
    other = _pcap(tmp_path / "later.pcap", frames, t0=1_700_001_000)
    _, items = _scan(a, other)
    assert _facts(items)["cbom:capture:packets"] == "40"
    assert _facts(items)["cbom:capture:duplicates-dropped"] == "0"


# ---------------------------------------------------------------- many hosts (issue 18, D16)


def _hosts_seconds(n: int) -> float:
    """Seconds to analyse n ARP stations and turn the tables into items (best of two)."""
    from collectors.capture._engine import Analyzer
    from collectors.capture._model import items_from

    frames = [b"\xff" * 6 + bytes([2, 0xCB, 0, i >> 16, (i >> 8) & 255, i & 255]) + b"\x08\x06"
              + struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, bytes([2, 0xCB, 0, i >> 16, (i >> 8) & 255, i & 255]),
                            bytes([192, 0, 2, 1 + i % 254]), b"\0" * 6, bytes([198, 51, 100, 1 + i % 254]))
              for i in range(n)]
    best = float("inf")
    for _ in range(2):
        t = time.process_time()
        an = Analyzer()
        for k, fr in enumerate(frames):
            an.feed(1_700_000_000 + k / 100, fr)
        items_from(an, "hosts.pcap")
        best = min(best, time.process_time() - t)
    return best


def test_the_analysis_grows_linearly_with_the_hosts():
    """20,000 hosts cost about four times 5,000 (a per-host pass per packet would cost sixteen)."""
    small, big = _hosts_seconds(5000), _hosts_seconds(20000)
    assert big < 8 * small + 0.2, (small, big)
