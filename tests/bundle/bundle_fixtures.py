"""Fixtures of the USB bundle tests (imported by the test modules): the bundle, built once per
session, and a private copy of the shared Debian root."""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import tempfile
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, is_root

DIST = REPO / "dist" / "cbom-usb"
BUILD_TIMEOUT = 1800


def host_python() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def python39() -> str:
    """A CPython 3.9 interpreter of this machine (pyenv or PATH), or "" when there is none."""
    for cand in sorted(Path("/root/.pyenv/versions").glob("3.9.*/bin/python3.9")) + [
            Path(p) for p in (shutil.which("python3.9"),) if p]:
        if cand.is_file():
            return str(cand)
    return ""


# Wheelhouse targets the tests install from: this machine's Python, 3.9 (a local 3.9 where there is
# one, and the Windows tier's embeddable 3.9) and 3.13 (the Windows tier's embeddable 3.13).
WINDOWS_TIER_PYTHONS = ("3.9", "3.13")
PLATFORMS = ("linux-x86_64", "win-amd64")


def wanted_pythons():
    return sorted({host_python(), *WINDOWS_TIER_PYTHONS}, key=lambda v: tuple(int(x) for x in v.split(".")))


@pytest.fixture(scope="session")
def bundle() -> Path:
    """dist/cbom-usb: reused when built from the current sources with a wheelhouse covering the
    pythons tested here, else built once (Linux x86-64 and Windows x64 wheels of those pythons
    only, to stay fast; windows-x86_64/cbom.exe where wine can run)."""
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        pytest.skip("the bundle is built on Linux x86-64 only")
    sys.path.insert(0, str(REPO))
    from usb_bundle import build

    pys = wanted_pythons()
    if build.is_up_to_date(DIST, PLATFORMS, pys) and (DIST / "db" / "cbom-vulndb.sqlite").is_file():
        return DIST
    try:
        build.native_libs()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    # The stick carries an offline vulnerability database (db/): the real upstream slices of the
    # vulndb tests (tests/fixtures/vulndb, provenance in its SOURCES.md), built with cbom itself.
    from cbom import vulndb

    db = Path(tempfile.mkdtemp(prefix="cbom-bundle-db-"))
    fixtures = REPO / "tests" / "fixtures" / "vulndb"
    vulndb.build([fixtures / "wesng" / "definitions.zip", fixtures / "endoflife", fixtures / "osv" / "pypi"], db)
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "usb_bundle.build", "--platforms", ",".join(PLATFORMS), "--pythons", ",".join(pys),
         "--no-packed-size", "--db", str(db)],
        cwd=REPO, capture_output=True, text=True, timeout=BUILD_TIMEOUT,
        env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    shutil.rmtree(db, ignore_errors=True)
    print(f"\nbundle built in {time.monotonic() - t0:.0f} s\n{proc.stdout[-3000:]}")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return DIST


@pytest.fixture(scope="session")
def bundle_info(bundle) -> dict:
    return json.loads((bundle / "BUNDLE-INFO.json").read_text(encoding="utf-8"))


@pytest.fixture()
def chroot(debootstrap_root, tmp_path):
    """A private copy (cp -a) of the shared Debian 12 minbase root, /proc and /sys mounted;
    unmounted and removed afterwards so the cached root stays clean."""
    if not is_root():
        pytest.skip("chroot, mount and unshare -n need root")
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(debootstrap_root), str(root)], check=True)
    mounted = []
    try:
        for fs, where in (("proc", "proc"), ("sysfs", "sys")):
            subprocess.run(["mount", "-t", fs, fs, str(root / where)], check=True)
            mounted.append(root / where)
        yield root
    finally:
        for m in reversed(mounted):
            subprocess.run(["umount", "-l", str(m)], check=False)
        for m in list(root.glob("*")):
            if os.path.ismount(m):
                subprocess.run(["umount", "-l", str(m)], check=False)
        shutil.rmtree(root, ignore_errors=True)
