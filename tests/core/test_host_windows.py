"""On Windows the running system is the system drive, whatever drive or folder cbom runs from.

`Path("/")` on Windows is the root of the *current* drive: run from a USB stick (E:) a scan
inventoried the stick (under wine it listed the Linux host's Pythons through Z:). These tests
change the current folder to another drive, when one exists, and to a temporary folder, and check
that every host path lands on %SystemDrive%. Run by the Windows test tier; skipped elsewhere
(test_host_root.py tests the choice of root on every OS).
"""
from __future__ import annotations

import os
import string
from pathlib import Path

import pytest

from cbom.collector import ScanContext
from cbom.host import LocalHost

pytestmark = pytest.mark.skipif(os.name != "nt", reason="Windows drives")


def _system_drive() -> Path:
    return Path(os.environ.get("SystemDrive", "C:") + "\\")


def _other_drive() -> str:
    system = _system_drive().drive.upper()
    for letter in string.ascii_uppercase[2:]:
        root = f"{letter}:\\"
        if f"{letter}:" != system and os.path.isdir(root):
            return root
    return ""


@pytest.fixture(params=["other-drive", "temp-folder"])
def elsewhere(request, tmp_path, monkeypatch):
    if request.param == "other-drive":
        other = _other_drive()
        if not other:
            pytest.skip("no second drive on this machine")
        monkeypatch.chdir(other)
    else:
        monkeypatch.chdir(tmp_path)
    return Path.cwd()


def test_default_root_is_the_system_drive(elsewhere):
    ctx = ScanContext()
    assert ctx.local and ctx.root == _system_drive()
    windows = _system_drive() / "Windows"
    assert ctx.path("/Windows") == windows
    assert ctx.is_dir("/Windows") and windows.is_dir()


def test_slash_and_backslash_roots_mean_the_running_system(elsewhere):
    for root in (Path("/"), Path("\\"), _system_drive()):
        host = LocalHost(root)
        assert host.kind == "local" and host.root == _system_drive(), root
        assert host.resolve("/Windows/System32") == _system_drive() / "Windows" / "System32"


def test_glob_lists_the_system_drive(elsewhere):
    ctx = ScanContext()
    names = {p.rsplit("/", 1)[-1].lower() for p in ctx.glob("/*")}
    assert "windows" in names and names <= {n.lower() for n in os.listdir(_system_drive())}


def test_root_folder_is_still_an_image(tmp_path, elsewhere):
    (tmp_path / "Windows").mkdir()
    host = LocalHost(tmp_path)
    assert host.kind == "image" and host.root == tmp_path
    assert host.resolve("/Windows") == tmp_path / "Windows"
