"""capture collector, live mode: replay real captures across a veth pair between two network namespaces.

Root only. Namespaces `cbomA<pid>`/`cbomB<pid>` joined by a veth pair with
192.0.2.1/24 and 192.0.2.2/24 (TEST-NET-1), IPv6 disabled so the kernels add no
traffic of their own; tcpreplay sends the frames in A, the collector listens in
B. Nothing leaves the namespaces; both are deleted in `finally`.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import skip_without_netns

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "capture"
REPLAY = ["modbus_tcp_test_data_part2.pcap", "s7comm_reading_plc_status.pcap", "enip_cip_change_date_attempt_stp_lldp.pcap",
          "profinet_dcp_change_ip.pcap", "lldp_announcement.pcap", "cdp_v1_announcement.pcap",
          "dnp3_test_data_part2.pcap", "bacnet_ip_test.pcap", "dhcp_discover_offer_request_ack.pcap"]

# Runs inside namespace B (or offline): prints what the collector reported, as JSON.
PROBE = r"""
import json, sys
from cbom.collector import ScanContext
from cbom.model import Component, HostFact, Category
from cbom.runner import run_one
from collectors.capture import CaptureCollector
opts = json.loads(sys.argv[1])
run, items = run_one(CaptureCollector, ScanContext(options=opts))
hosts = sorted([c.prop("cdx:device:macAddress"), ip] for c in items if isinstance(c, Component)
               and c.category == Category.OBSERVED_HOST for ip in c.props("cbom:net:ip") or [""])
protos = {c.name: int(c.prop("cbom:net:packets")) for c in items if isinstance(c, Component)
          and c.category == Category.OBSERVED_PROTOCOL}
facts = {i.name: i.value for i in items if isinstance(i, HostFact)}
print(json.dumps({"status": run.status.value, "reason": run.reason, "hosts": hosts, "protocols": protos, "facts": facts}))
"""


def _sh(*argv: str) -> None:
    subprocess.run(list(argv), check=True, capture_output=True, timeout=30)


def _probe(opts: dict, netns: str = "") -> list:
    argv = ([shutil.which("ip"), "netns", "exec", netns] if netns else []) + [sys.executable, "-c", PROBE, json.dumps(opts)]
    return argv


@pytest.mark.live
@pytest.mark.root
@pytest.mark.slow
def test_live_capture_matches_offline_analysis():
    skip_without_netns()
    if not shutil.which("tcpreplay"):
        pytest.skip("needs tcpreplay")
    pid = os.getpid() % 100000
    na, nb, va, vb = "cbomA%d" % pid, "cbomB%d" % pid, "cva%d" % pid, "cvb%d" % pid
    files = [str(FIX / f) for f in REPLAY]
    proc = None
    try:
        for ns in (na, nb):
            _sh("ip", "netns", "add", ns)
            for key in ("all", "default"):
                _sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % key)
        _sh("ip", "link", "add", va, "netns", na, "type", "veth", "peer", "name", vb, "netns", nb)
        _sh("ip", "-n", na, "addr", "add", "192.0.2.1/24", "dev", va)
        _sh("ip", "-n", nb, "addr", "add", "192.0.2.2/24", "dev", vb)
        _sh("ip", "-n", na, "link", "set", va, "up")
        _sh("ip", "-n", nb, "link", "set", vb, "up")
        time.sleep(0.5)
        proc = subprocess.Popen(_probe({"capture_seconds": 9, "interface": [vb], "capture_max_packets": 100000}, nb),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(FIX.parent.parent.parent))
        time.sleep(3.5)  # interpreter start + socket open inside the collector
        # ~1,100 frames at 1,000 frames/s: well below what the receiver sustains
        subprocess.run(["ip", "netns", "exec", na, "tcpreplay", "-q", "-i", va, "--pps", "1000"] + files,
                       check=True, capture_output=True, timeout=60)
        out, err = proc.communicate(timeout=60)
        live = json.loads(out)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        for ns in (na, nb):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
    offline = json.loads(subprocess.run(_probe({"pcap": files}), capture_output=True, text=True, check=True,
                                        timeout=60, cwd=str(FIX.parent.parent.parent)).stdout)
    assert live["status"] == "ok", live["reason"]
    assert live["facts"]["cbom:capture:kernel-drops"] == "0"
    assert live["facts"]["cbom:capture:received"] == offline["facts"]["cbom:capture:packets"]
    assert live["hosts"] == offline["hosts"]
    assert live["protocols"] == offline["protocols"]
