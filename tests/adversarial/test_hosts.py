"""Hostile `--root` images: every read stays inside the image, is bounded, and never blocks.

Reproductions of issue 18 (D2, D3, D5, D16; ../shared/notes/reliability/README.md): an
image whose links point at the auditor's own files, link loops, a FIFO and an oversized
dpkg status. Each image is built here with the standard library, in tmp_path; a file
*outside* the image holds a marker that must never reach a finding.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from cbom.collector import ScanContext
from cbom.host import LocalHost
from cbom.model import Component, Gap, Platform
from cbom.runner import run_one
from collectors.osinfo import OsLinux
from collectors.software import COLLECTORS as SOFTWARE

MARKER = "AUDITOR-SECRET-d2"


def _outside(tmp_path: Path) -> Path:
    """The auditor's machine, as far as the image is concerned: files beside it, not in it."""
    out = tmp_path / "auditor"
    (out / "etc").mkdir(parents=True)
    (out / "etc" / "shadow").write_text(f"{MARKER}:*:20228:0:99999:7:::\n")
    venv = out / "venv"
    site = venv / "lib" / "python3.11" / "site-packages" / "auditorpkg-1.0.dist-info"
    site.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (site / "METADATA").write_text(f"Metadata-Version: 2.1\nName: auditorpkg\nVersion: 1.0\nSummary: {MARKER}\n")
    return out


def _image(tmp_path: Path) -> Path:
    root = tmp_path / "image"
    (root / "etc").mkdir(parents=True)
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "usr" / "lib" / "os-release").write_text('ID=debian\nVERSION_ID="12" # LTS\nNAME="Debian GNU/Linux"\n')
    os.symlink("../usr/lib/os-release", root / "etc" / "os-release")
    (root / "var" / "lib" / "dpkg").mkdir(parents=True)
    (root / "home").mkdir()
    return root


def _ctx(root: Path) -> ScanContext:
    return ScanContext(root=root, platform=Platform.LINUX, admin=False)


def _text_of(items) -> str:
    return repr(items)


def _software():
    (cls,) = [c for c in SOFTWARE if c.name == "software.dpkg"]
    return cls


def _python():
    (cls,) = [c for c in SOFTWARE if c.name == "software.python"]
    return cls


def test_absolute_link_is_read_inside_the_image(tmp_path):
    out = _outside(tmp_path)
    root = _image(tmp_path)
    (root / "etc" / "shadow").write_text("image-shadow\n")
    os.symlink("/etc/shadow", root / "etc" / "hostname")  # the image's own /etc/shadow, as its OS reads it
    os.symlink(str(out / "etc" / "shadow"), root / "etc" / "timezone")  # a host path: absent in the image
    host = LocalHost(root)
    assert host.read("/etc/hostname") == "image-shadow\n"
    with pytest.raises(FileNotFoundError):
        host.read("/etc/timezone")
    run, items = run_one(OsLinux, _ctx(root))
    assert MARKER not in _text_of(items)


def test_climbing_link_is_refused_with_a_gap(tmp_path):
    _outside(tmp_path)
    root = _image(tmp_path)
    os.symlink("../../../../auditor/etc/shadow", root / "var" / "lib" / "dpkg" / "status")
    with pytest.raises(OSError, match="outside the image"):
        LocalHost(root).read("/var/lib/dpkg/status")
    run, items = run_one(_software(), _ctx(root))
    gaps = [i.reason for i in items if isinstance(i, Gap)]
    assert MARKER not in _text_of(items)
    assert any("/var/lib/dpkg/status" in g and "outside the image" in g for g in gaps), gaps


def test_home_link_to_the_auditors_tree_lists_nothing_of_it(tmp_path):
    out = _outside(tmp_path)
    root = _image(tmp_path)
    os.symlink("../../auditor", root / "home" / "evil")  # climbs out of the image
    os.symlink(str(out), root / "home" / "abs")  # an absolute host path: absent inside the image
    os.symlink("/", root / "home" / "x")  # the image's own root: inside, harmless
    run, items = run_one(_python(), _ctx(root))
    assert MARKER not in _text_of(items)
    assert not [c for c in items if isinstance(c, Component) and c.name == "auditorpkg"]


def test_link_loops_end_with_a_message(tmp_path):
    root = _image(tmp_path)
    os.symlink("loop-b", root / "etc" / "loop-a")
    os.symlink("loop-a", root / "etc" / "loop-b")
    os.symlink("hostname", root / "etc" / "hostname")  # itself
    os.symlink("../dpkg/status", root / "var" / "lib" / "dpkg" / "status")  # climbs in circles
    with pytest.raises(OSError, match="loop"):
        LocalHost(root).read("/etc/loop-a")
    start = time.monotonic()
    for cls in (OsLinux, _software()):
        run, items = run_one(cls, _ctx(root))
        assert run.status.value != "failed", run
    assert time.monotonic() - start < 20


def test_fifo_is_never_opened(tmp_path):
    root = _image(tmp_path)
    os.mkfifo(root / "var" / "lib" / "dpkg" / "status")
    start = time.monotonic()
    run, items = run_one(_software(), _ctx(root))
    assert time.monotonic() - start < 10
    gaps = [i.reason for i in items if isinstance(i, Gap)]
    assert any("FIFO" in g and "/var/lib/dpkg/status" in g for g in gaps), gaps


def test_device_is_never_read():
    with pytest.raises(OSError, match="device"):
        LocalHost().read_bytes("/dev/zero")


def test_oversized_file_names_the_limit_not_the_file(tmp_path):
    root = _image(tmp_path)
    status = root / "var" / "lib" / "dpkg" / "status"
    with open(status, "wb") as f:
        f.write(b"Package: a\nStatus: install ok installed\nVersion: 1\n\n")
        f.truncate(65 << 20)  # sparse: 65 MiB that cost no disk
    run, items = run_one(_software(), _ctx(root))
    gaps = [i.reason for i in items if isinstance(i, Gap)]
    assert any("read limit of 64 MiB" in g for g in gaps), gaps
    assert not any("truncated" in g for g in gaps), gaps


def test_sys_link_out_of_the_image_is_none(tmp_path):
    out = _outside(tmp_path)
    root = _image(tmp_path)
    (root / "sys" / "class" / "net" / "eth0").mkdir(parents=True)
    os.symlink("../../../../../auditor", root / "sys" / "class" / "net" / "eth0" / "device")
    os.symlink(str(out), root / "sys" / "class" / "net" / "eth0" / "driver")
    host = LocalHost(root)
    assert host.sys_link("/sys/class/net/eth0/device") is None
    assert host.sys_link("/sys/class/net/eth0/driver") is None


def test_os_release_comment_is_not_a_version_anywhere(tmp_path):
    """One os-release parser: VERSION_ID="12" # LTS is 12 in the OS and in every PURL."""
    root = _image(tmp_path)
    (root / "var" / "lib" / "dpkg" / "status").write_text(
        "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.13\n\n")
    (root / "etc" / "debian_version").write_text("12.11\n")
    _, items = run_one(_software(), _ctx(root))
    (zlib,) = [c for c in items if isinstance(c, Component)]
    assert "distro=debian-12" in zlib.purl and "LTS" not in zlib.purl
    _, items = run_one(OsLinux, _ctx(root))
    (os_comp,) = [c for c in items if isinstance(c, Component)]
    # The installed point release is the version (another tool's "12.11" is then no downgrade);
    # the CPE stays per major release, as NVD's debian_linux entries are; the ref names Debian only.
    assert (os_comp.version, os_comp.prop("cbom:point-release")) == ("12.11", "12.11")
    assert ":debian_linux:12:" in os_comp.cpe


def test_running_system_reads_its_own_links():
    """For "/" nothing changes: /etc/os-release is a link to ../usr/lib/os-release on most systems."""
    if not os.path.exists("/etc/os-release"):
        pytest.skip("no /etc/os-release here")
    assert LocalHost().read("/etc/os-release") == Path("/etc/os-release").read_text(encoding="utf-8")


def test_image_host_name_never_comes_from_the_auditors_files(tmp_path):
    """The name on the progress line and in the CBOM is read inside the image too (an image's
    /etc/hostname linking to a file of the auditor's machine names nothing)."""
    from conftest import run_cbom

    secret = tmp_path / "auditor" / "secret"
    secret.parent.mkdir()
    secret.write_text("AUDITOR-SECRET-LINE\n")
    image = tmp_path / "image"
    (image / "etc").mkdir(parents=True)
    (image / "etc" / "os-release").write_text('ID=debian\nVERSION_ID="12"\n')
    os.symlink(str(secret), image / "etc" / "hostname")
    out = tmp_path / "out"
    proc = run_cbom("scan", "--root", str(image), "--only", "os", "--format", "json", "-o", str(out))
    assert proc.returncode == 3, proc.stderr  # os.linux partial: the image has no kernel to describe
    doc = json.loads((out / "cbom.cdx.json").read_text(encoding="utf-8"))
    assert {"name": "cbom:collector:os.linux:status", "value": "partial"} in doc["metadata"]["properties"]
    assert "AUDITOR-SECRET" not in proc.stderr
    assert "AUDITOR-SECRET" not in (out / "cbom.cdx.json").read_text(encoding="utf-8")
