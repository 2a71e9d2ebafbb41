"""Version ordering of `cbom diff`: Debian, RPM, PEP 440 and generic, on real version pairs.

Debian pairs are APT's own test list (tests/fixtures/diff/versions/apt-versions.lst) and
the versions installed on this machine, checked live against `dpkg --compare-versions`.
RPM pairs are rpm's test suite (rpmvercmp.at). PEP 440 pairs are the ordering example of
PEP 440 itself and real PyPI release histories.
"""
from __future__ import annotations

import itertools
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cbom._versions import (
    compare_debian, compare_generic, compare_pep440, compare_rpm, compare_rpm_evr, compare_versions,
    is_debian_rebuild, parse_debian,
)

HERE = Path(__file__).resolve().parent.parent / "fixtures" / "diff" / "versions"


def _apt_pairs():
    out = []
    for line in (HERE / "apt-versions.lst").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        a, b, r = line.split("#")[0].split()[:3]
        out.append((a, b, int(r)))
    return out


def _rpm_pairs():
    text = (HERE / "rpmvercmp.at").read_text(encoding="utf-8")
    return [(a, b, int(r)) for a, b, r in re.findall(r"^RPMVERCMP\(([^,]*), ([^,]*), (-?\d)\)", text, re.M)]


APT = _apt_pairs()
RPM = _rpm_pairs()


def test_fixture_lists_are_complete():
    assert len(APT) == 67
    assert len(RPM) == 91  # the commented-out "oddities" are not included


@pytest.mark.parametrize("a,b,expected", APT, ids=[f"{a} {b}" for a, b, _ in APT])
def test_debian_apt_list(a, b, expected):
    assert compare_debian(a, b) == expected
    assert compare_debian(b, a) == -expected


@pytest.mark.parametrize("a,b,expected", RPM, ids=[f"{a} {b}" for a, b, _ in RPM])
def test_rpmvercmp_suite(a, b, expected):
    assert compare_rpm(a, b) == expected


def _dpkg_says(a: str, b: str) -> int:
    def ok(op: str) -> bool:
        return subprocess.run(["dpkg", "--compare-versions", a, op, b], capture_output=True).returncode == 0

    return -1 if ok("lt") else (1 if ok("gt") else 0)


@pytest.mark.live
@pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg not installed")
def test_debian_matches_dpkg_on_apt_list():
    # APT's "a ." pair is a syntax dpkg warns about; it still orders it.
    for a, b, _ in APT:
        assert compare_debian(a, b) == _dpkg_says(a, b), (a, b)


@pytest.mark.live
@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="dpkg not installed")
def test_debian_matches_dpkg_on_installed_versions():
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}\n"], capture_output=True, text=True, check=True)
    versions = sorted(set(out.stdout.split()))
    assert len(versions) > 50
    rng = random.Random(7)
    pairs = [tuple(rng.sample(versions, 2)) for _ in range(150)]
    # Pairs that share a prefix exercise the subtle cases (epochs, ~, +debNuM, +bN).
    for v in versions[:60]:
        base = v.split("-")[0]
        pairs += [(v, base), (v, v + "~1"), (v, v + "+b1")]
    for a, b in pairs:
        assert compare_debian(a, b) == _dpkg_says(a, b), (a, b)


def test_debian_parse():
    assert parse_debian("1:2.33.1-0.1") == (1, "2.33.1", "0.1")
    assert parse_debian("1.18.36-0.17.35-18") == (0, "1.18.36-0.17.35", "18")
    assert parse_debian("3.134") == (0, "3.134", "")


def test_debian_real_upgrades():
    # Debian 12 point releases and security updates as seen in /var/lib/dpkg/status.
    assert compare_debian("3.0.11-1~deb12u2", "3.0.13-1~deb12u1") < 0  # openssl
    assert compare_debian("2.36-9+deb12u4", "2.36-9+deb12u10") < 0  # libc6
    assert compare_debian("1:9.2p1-2+deb12u3", "1:9.2p1-2") > 0  # openssh
    assert compare_debian("1:2.38.1-5+deb12u1", "2.39-1") > 0  # epoch wins over a newer upstream
    assert compare_debian("6.1.0~rc5-1", "6.1.0-1") < 0
    assert is_debian_rebuild("1.5.4+dfsg2-5", "1.5.4+dfsg2-5+b1")
    assert not is_debian_rebuild("1.5.4+dfsg2-5", "1.5.4+dfsg2-6")


def test_rpm_evr():
    assert compare_rpm_evr("1:1.0-1", "2.0-1") > 0
    assert compare_rpm_evr("1.0", "1.0-5") == 0  # no release on one side: versions decide
    assert compare_rpm_evr("3.0.7-24.el9", "3.0.7-25.el9") < 0  # RHEL 9 openssl updates
    assert compare_rpm_evr("5.14.0-362.8.1.el9_3", "5.14.0-70.13.1.el9_0") > 0  # kernel
    assert compare_rpm_evr("2.02-0.81.el8", "1:2.02-0.81.el8") < 0  # grub2 got an epoch
    assert compare_versions("1:1.0-1", "2.0-1", "rpm") == 1


# PEP 440, "Summary of permitted suffixes and relative ordering": every version is lower than
# the next one.
PEP440_ORDER = [
    "1.dev0", "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456",
    "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5",
    "1.0+abc.7", "1.0+5", "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1",
]
# Real release histories on PyPI (requests, Django, numpy, pip), oldest first.
PYPI_HISTORIES = [
    ["2.30.0", "2.31.0", "2.32.0rc1", "2.32.0", "2.32.3"],
    ["4.2", "4.2.1", "5.0a1", "5.0b1", "5.0rc1", "5.0", "5.0.1"],
    ["1.26.4", "2.0.0b1", "2.0.0rc1", "2.0.0", "2.0.1"],
    ["9.0.3", "10.0.0b1", "10.0.0", "19.3.1", "20.0", "23.0.1", "23.2.1", "24.0"],
]


def test_pep440_order():
    for a, b in zip(PEP440_ORDER, PEP440_ORDER[1:]):
        assert compare_pep440(a, b) == -1, (a, b)
        assert compare_versions(b, a, "pypi") == 1
    for history in PYPI_HISTORIES:
        for a, b in itertools.combinations(history, 2):
            assert compare_pep440(a, b) == -1, (a, b)
    assert compare_pep440("1.0", "1.0.0") == 0
    assert compare_pep440("2.0", "not a version") != 0  # falls back, never raises


@pytest.mark.parametrize("a,b,expected", [
    ("1.02", "1.10", -1),  # BIOS-style minor numbers compare as numbers
    ("v2.1", "2.1", 0),
    ("1.0-rc1", "1.0", -1),
    ("1.0.0-beta.2", "1.0.0-beta.11", -1),  # semver precedence
    ("1.0.0-alpha", "1.0.0-beta", -1),
    ("2.17.1246", "2.16.999", 1),  # Intel ME firmware
    ("0x1000065", "0x1000054", 1),  # AMD microcode revision
    ("F.42", "F.50", -1),  # HP BIOS
    ("1.2 build 7", "1.2", 1),
    ("1.2.3", "1.2.3.0", -1),
])
def test_generic(a, b, expected):
    assert compare_generic(a, b) == expected
    assert compare_generic(b, a) == -expected


def test_dispatch_unknown_ecosystem_is_generic():
    assert compare_versions("1.0~rc1", "1.0", "debian") == -1
    assert compare_versions("1.0^git1", "1.0", "rpm") == 1
    assert compare_versions("1.0", "1.0", "whatever") == 0
