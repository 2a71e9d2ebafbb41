"""A folder given where a CycloneDX file is expected is named as a folder, on every OS.

On Windows, opening a directory as a file fails with EACCES, so `cbom diff DIR` said "cannot read:
Permission denied" (windows-under-wine.md §4, test_diff under the Windows Python); POSIX does the
same for a directory the user may not list. Both now say "is a directory, not a CycloneDX file".
The first test runs on every OS (the Windows test tier runs it under the Windows Python).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import REPO, is_root

from cbom.cli import main

MESSAGE = "is a directory, not a CycloneDX file"


@pytest.mark.parametrize("argv", [["validate", "{d}"], ["diff", "{d}", "{d}"], ["report", "{d}", "--format", "html"]])
def test_a_folder_is_named_a_folder(argv, tmp_path, capsys):
    folder = tmp_path / "scan-folder"
    folder.mkdir()
    rc = main([a.format(d=folder) for a in argv])
    err = capsys.readouterr().err
    assert rc == 2 and MESSAGE in err and "Permission denied" not in err, err
    assert list(folder.iterdir()) == []  # nothing written into it (report's default output is the file's folder)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("command", ["validate", "diff", "report"])
def test_a_folder_that_cannot_be_listed_is_named_a_folder(command):
    """Opening it fails with EACCES, as on Windows: the reason is still that it is a folder."""
    base = Path(tempfile.mkdtemp(prefix="cbom-locked-"))  # pytest's tmp_path is closed to other users
    base.chmod(0o755)
    locked = base / "locked"
    locked.mkdir()
    locked.chmod(0o000)
    argv = [sys.executable, "-m", "cbom", command, str(locked)] + ([str(locked)] if command == "diff" else [])
    if is_root():  # root opens any directory: run as nobody, for whom the folder is closed
        if not shutil.which("setpriv"):
            pytest.skip("setpriv (util-linux) is needed to drop root")
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + argv
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=REPO,
                              env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    finally:
        locked.chmod(0o755)
        shutil.rmtree(base)
    if "Permission denied" in proc.stderr and "python" in proc.stderr.lower() and MESSAGE not in proc.stderr:
        pytest.skip(f"nobody cannot run this Python here: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 2, proc.stderr
    assert MESSAGE in proc.stderr and "Permission denied" not in proc.stderr, proc.stderr
