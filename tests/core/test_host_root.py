"""Which root the running system is read from (issue 13 §4: "the scan inventories C:, whatever drive
the stick is"). Pure tests of the choice, runnable on any OS; tests/core/test_host_windows.py runs
the same on Windows from another drive."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from cbom.collector import ScanContext
from cbom.host import LocalHost, system_root


@pytest.mark.parametrize("environ, expected", [
    ({"SystemDrive": "C:"}, "C:\\"),
    ({"SystemDrive": "d:", "SystemRoot": "C:\\Windows"}, "D:\\"),  # Windows installed on D:
    ({"SYSTEMDRIVE": "E:"}, "E:\\"),                                 # os.environ upper-cases names on Windows
    ({"systemdrive": "F:"}, "F:\\"),
    ({"SystemRoot": "G:\\WINDOWS"}, "G:\\"),                         # no SystemDrive (a stripped environment)
    ({"windir": "H:\\WINNT"}, "H:\\"),                               # Windows 2000 / XP style
    ({"SystemDrive": "\\\\server\\share", "SystemRoot": "C:\\Windows"}, "C:\\"),  # not a drive: next one
    ({"SystemDrive": "", "SystemRoot": ""}, "C:\\"),
    ({}, "C:\\"),
])
def test_windows_root_is_the_system_drive(environ, expected):
    assert system_root(environ, windows=True) == expected


def test_posix_root_is_slash_whatever_the_environment():
    assert system_root({"SystemDrive": "E:"}, windows=False) == "/"


@pytest.mark.skipif(os.name == "nt", reason="POSIX: '/' is the root")
def test_posix_default_root_is_slash_and_local(tmp_path):
    ctx = ScanContext()
    assert ctx.root == Path("/") and ctx.local and ctx.path("/etc") == Path("/etc")
    image = LocalHost(tmp_path)
    assert image.kind == "image" and image.root == tmp_path and not image.describes_running_system
