"""Software collector against this machine's real tools: dpkg-query, pip, lsmod, debootstrap."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from cbom.collector import ScanContext
from cbom.model import Component, Platform, Status
from cbom.runner import run_one
from _areas import area

SoftwareCollector = area("software")

# Property names spelled out (the vocabulary's own spelling is checked, not trusted).
P_ARCH = "cbom:package:arch"
P_MANAGER = "cbom:package-manager"

pytestmark = pytest.mark.live


def _collect(ctx: ScanContext):
    return [i for i in SoftwareCollector().collect(ctx) if isinstance(i, Component)]


def _dpkg_query(admindir: str = "") -> set:
    argv = ["dpkg-query", "-W", "-f=${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\n"]
    if admindir:
        argv.insert(1, f"--admindir={admindir}")
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return {tuple(line.split("\t")[1:]) for line in out.splitlines() if line.split("\t")[0] == "installed"}


def _dpkg_set(comps) -> set:
    return {(c.name, c.version, c.prop(P_ARCH)) for c in comps if c.prop(P_MANAGER) == "dpkg"}


@pytest.mark.skipif(not shutil.which("dpkg-query") or not Path("/var/lib/dpkg/status").exists(), reason="no dpkg here")
def test_dpkg_equals_dpkg_query():
    expected = _dpkg_query()
    assert expected and _dpkg_set(_collect(ScanContext())) == expected


def _pip_list(python: str) -> set:
    pip = subprocess.run([python, "-m", "pip", "list", "--format", "json"], capture_output=True, text=True)
    if pip.returncode != 0:
        pytest.skip(f"pip not usable: {pip.stderr.strip()[:100]}")
    return {(re.sub(r"[-_.]+", "-", d["name"]).lower(), d["version"]) for d in json.loads(pip.stdout)}


def _listed(site_dir: str) -> set:
    return {
        (re.sub(r"[-_.]+", "-", c.name).lower(), c.version)
        for c in _collect(ScanContext())
        if c.prop("cbom:python:site") == site_dir
    }


def test_host_interpreter_distributions_equal_pip_list():
    """The base Python of the test interpreter (a Python of this machine, found by the collector's
    globs or as the running interpreter): every distribution pip lists, no other."""
    base = getattr(sys, "_base_executable", sys.executable)
    purelib = subprocess.run([base, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    got = _listed(purelib)
    if not got and sys.prefix != sys.base_prefix:
        pytest.skip(f"nothing listed in the base interpreter's site {purelib} (absent or empty here: a "
                    "Debian python3 with no package installed by pip)" if not Path(purelib).is_dir() or
                    not any(Path(purelib).iterdir()) else
                    f"the base interpreter's site {purelib} is not in a place the collector looks")
    assert got == _pip_list(base)


def test_running_interpreter_is_listed_unless_it_is_cbom_own():
    """The running interpreter is listed as pip lists it, unless it is cbom's own (a virtualenv holding
    cbom, as the project's .venv): then none of it is host software (windows-under-wine.md §7 E)."""
    from collectors.software import _python

    site_dir = sysconfig.get_paths()["purelib"]
    if _python.cbom_own_interpreter(_python.running_sites()):
        assert _listed(site_dir) == set()
    else:
        assert _listed(site_dir) == _pip_list(sys.executable)


@pytest.mark.skipif(not Path("/proc/modules").exists() or not shutil.which("lsmod"), reason="no /proc/modules or lsmod")
def test_kernel_modules_equal_lsmod():
    out = subprocess.run(["lsmod"], capture_output=True, text=True, check=True).stdout.splitlines()[1:]
    expected = {line.split()[0] for line in out if line.strip()}
    got = {c.name for c in _collect(ScanContext()) if c.prop(P_MANAGER) == "kernel-module"}
    assert got == expected


# --- a second root: Debian minbase made with debootstrap ----------------------------------------


@pytest.mark.slow
def test_debootstrap_minbase_through_root(debootstrap_root):
    minbase_root = debootstrap_root
    ctx = ScanContext(platform=Platform.LINUX, root=minbase_root)
    run, items = run_one(SoftwareCollector, ctx)
    assert run.status == Status.OK, run.reason
    comps = [i for i in items if isinstance(i, Component)]
    expected = _dpkg_query(str(minbase_root / "var/lib/dpkg"))
    assert len(expected) > 80
    assert _dpkg_set(comps) == expected
    dpkg = [c for c in comps if c.prop(P_MANAGER) == "dpkg"]
    assert all(c.purl.endswith("distro=debian-12") and c.purl.startswith("pkg:deb/debian/") for c in dpkg)
    # The minbase tree's Python-free: nothing of this machine's interpreters leaks through --root.
    assert not any(c.prop("cbom:python:site") for c in comps)
