"""End to end: two real scans with real changes in between, and the diff lists exactly those.

- software: a copy of this machine's dpkg database in a chroot-like root, scanned with
  `--root` semantics (ScanContext.root) by the real software collector, with packages
  installed, removed and downgraded in between by the real `dpkg --root`.
- network: the real network collector run inside a network namespace this test creates
  (192.0.2.0/24 only), with an interface and a listening socket added, then a MAC changed.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import skip_without_netns

from cbom import cyclonedx, runner
from cbom.collector import ScanContext
from cbom.registry import load_collectors
from cbom.diff import diff_scans, read_scan, to_json
from cbom.model import Category, Platform


def _collectors(area):
    """The Linux collectors of `area` (software.dpkg, software.rpm…): they must be registered."""
    classes, _ = load_collectors()
    found = runner.select(classes, [area], platform=Platform.LINUX)
    assert found, f"no collector of area {area} registered"
    return found


def _scan_to(path: Path, collectors, ctx: ScanContext) -> str:
    scan = runner.scan(collectors, ctx, "testhost")
    path.write_text(cyclonedx.dumps(cyclonedx.to_dict(scan)), encoding="utf-8")
    return str(path)


def _deb(workdir: Path, name: str, version: str) -> str:
    d = workdir / f"{name}_{version}"
    (d / "DEBIAN").mkdir(parents=True)
    (d / "usr/share/doc" / name).mkdir(parents=True)
    (d / "DEBIAN/control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: cbom tests <cbom@example.invalid>\nDescription: cbom diff test package\n"
    )
    (d / "usr/share/doc" / name / "README").write_text("test\n")
    out = workdir / f"{name}_{version.replace(':', '%3a')}.deb"
    subprocess.run(["dpkg-deb", "-b", "--root-owner-group", str(d), str(out)], check=True, capture_output=True)
    return str(out)


def _dpkg(root: Path, *args: str) -> None:
    subprocess.run(["dpkg", f"--root={root}", *args], check=True, capture_output=True)


@pytest.mark.live
@pytest.mark.skipif(shutil.which("dpkg") is None or not Path("/var/lib/dpkg/status").is_file(),
                    reason="needs dpkg and a Debian dpkg database")
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() != 0, reason="dpkg --root needs root")
def test_dpkg_root_install_remove_downgrade(tmp_path):
    root = tmp_path / "root"
    for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc"):
        (root / d).mkdir(parents=True)
    shutil.copy("/etc/os-release", root / "etc/os-release")
    shutil.copy("/var/lib/dpkg/status", root / "var/lib/dpkg/status")  # this machine's ~800 packages
    (root / "var/lib/dpkg/available").touch()
    debs = tmp_path / "debs"
    debs.mkdir()
    _dpkg(root, "-i", _deb(debs, "cbom-test-a", "1.0-1"), _deb(debs, "cbom-test-b", "2.0-1"),
          _deb(debs, "cbom-test-d", "1:1.0-1"))
    software = _collectors("software")
    ctx = ScanContext(root=root, platform=Platform.LINUX)
    old = _scan_to(tmp_path / "old.json", software, ctx)
    # Between the two visits: a removed, b downgraded to a pre-release, c installed with an
    # epoch, d rebuilt (binNMU).
    _dpkg(root, "--purge", "cbom-test-a")
    _dpkg(root, "-i", _deb(debs, "cbom-test-b", "2.0~rc1-1"), _deb(debs, "cbom-test-c", "1:0.9-1"),
          _deb(debs, "cbom-test-d", "1:1.0-1+b1"))
    new = _scan_to(tmp_path / "new.json", software, ctx)
    so, sn = read_scan(old), read_scan(new)
    assert len(so.scan.components) > 100
    d = to_json(diff_scans(so.scan, sn.scan, old_side=so, new_side=sn))
    (sw,) = [c for c in d["categories"] if c["added"] or c["removed"] or c["changed"]]
    assert sw["category"] == "software"
    assert [(c["name"], c["version"]) for c in sw["added"]] == [("cbom-test-c", "1:0.9-1")]
    assert [(c["name"], c["version"]) for c in sw["removed"]] == [("cbom-test-a", "1.0-1")]
    assert [(c["name"], c["version"]["change"]) for c in sw["changed"]] == [
        ("cbom-test-b", "downgrade"), ("cbom-test-d", "rebuild")]
    assert [n["id"] for n in d["notable"]] == ["CBOM-DIFF-SOFTWARE-DOWNGRADE"]


NETNS_SCAN = """
import sys
from cbom import cyclonedx, runner
from cbom.collector import ScanContext
from cbom.registry import load_collectors
classes, _ = load_collectors()
net = [c for c in classes if c.name == "network.linux"]
scan = runner.scan(net, ScanContext(), "testhost")
open(sys.argv[1], "w").write(cyclonedx.dumps(cyclonedx.to_dict(scan)))
"""


@pytest.mark.live
@pytest.mark.root
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() != 0, reason="network namespaces need root")
@pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 not installed")
def test_netns_interface_and_listener(tmp_path):
    skip_without_netns()
    _collectors("network")
    ns = f"cbomdiff{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    server = None
    try:
        def ip(*args):
            subprocess.run(["ip", "-n", ns, *args], check=True)

        def scan(name):
            out = tmp_path / name
            subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", NETNS_SCAN, str(out)], check=True)
            return str(out)

        ip("link", "set", "lo", "up")
        a = scan("a.json")
        ip("link", "add", "cbomd0", "type", "bridge")
        ip("link", "set", "cbomd0", "address", "02:00:00:00:c0:01")
        ip("addr", "add", "192.0.2.10/24", "dev", "cbomd0")
        ip("link", "set", "cbomd0", "up")
        server = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-c",
             "import socket,time;s=socket.socket();s.bind(('192.0.2.10',8502));s.listen();time.sleep(60)"])
        deadline = time.time() + 10
        while time.time() < deadline:
            ss = subprocess.run(["ip", "netns", "exec", ns, "ss", "-ltn"], capture_output=True, text=True).stdout
            if ":8502" in ss:
                break
            time.sleep(0.05)
        b = scan("b.json")
        ip("link", "set", "cbomd0", "address", "02:00:00:00:c0:02")
        c = scan("c.json")
    finally:
        if server:
            server.kill()
            server.wait()
        subprocess.run(["ip", "netns", "del", ns], check=False)

    sa, sb, sc = read_scan(a), read_scan(b), read_scan(c)
    d1 = diff_scans(sa.scan, sb.scan)
    touched = {c.category for c in d1.categories if not c.empty}
    assert touched == {Category.NETWORK_INTERFACE, Category.LISTENING_SERVICE}
    iface = next(c for c in d1.categories if c.category == Category.NETWORK_INTERFACE)
    assert [c.name for _, c in iface.added] == ["cbomd0"] and not iface.removed
    # lo is unchanged except its routes: the new interface's route is not on lo.
    assert [ch.new.name for ch in iface.changed] == []
    svc = next(c for c in d1.categories if c.category == Category.LISTENING_SERVICE)
    assert [(c.prop("cbom:protocol"), c.prop("cbom:port"), c.props("cbom:address")) for _, c in svc.added] == [
        ("tcp", "8502", ("192.0.2.10",))]
    assert not svc.removed and not svc.changed
    assert sorted(n.id for n in d1.notable) == ["CBOM-DIFF-INTERFACE-ADDED", "CBOM-DIFF-NEW-LISTENER"]
    d2 = diff_scans(sb.scan, sc.scan)
    (iface,) = [c for c in d2.categories if not c.empty]
    (ch,) = iface.changed
    assert [(f.field, f.old, f.new) for f in ch.fields] == [
        ("property:cdx:device:macAddress", "02:00:00:00:c0:01", "02:00:00:00:c0:02")]
    assert [n.id for n in d2.notable] == ["CBOM-DIFF-MAC-CHANGED"]
    assert json.dumps(to_json(d2))  # serialisable
