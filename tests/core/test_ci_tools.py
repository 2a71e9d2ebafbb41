"""Where `.ci/setup` ran (Debian, as root), every package it installs is present.

Several tiers skip with a reason where their tool is missing (wine for the Windows tier, Chromium
for the browser PDF, strace, tshark, debootstrap): right on a developer's machine, but in CI a skip
would hide a missing install step. This test turns such a gap into a failure there.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, is_root

SETUP = REPO / ".ci" / "setup"


def setup_packages() -> list:
    m = re.search(r'^PKGS="([^"]*)"', SETUP.read_text(encoding="utf-8"), re.M)
    assert m, "PKGS not found in .ci/setup"
    return m.group(1).split()


@pytest.mark.skipif(not (Path("/etc/debian_version").is_file() and is_root() and shutil.which("dpkg-query")),
                    reason=".ci/setup installs its packages on Debian as root only")
def test_every_package_of_ci_setup_is_installed():
    pkgs = setup_packages()
    assert {"wine", "wine64", "gcc-mingw-w64-x86-64-win32", "chromium", "strace"} <= set(pkgs)
    proc = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\n", *pkgs],
                          capture_output=True, text=True)
    installed = {line.split()[0] for line in proc.stdout.splitlines() if line.endswith(" installed")}
    assert sorted(set(pkgs) - installed) == [], "run bash .ci/setup: these packages are missing"
