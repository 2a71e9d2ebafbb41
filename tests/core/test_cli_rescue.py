"""`cbom scan` when its output folder fails after the scan started: the CBOM is saved elsewhere (cli._rescue).

README: "`cbom.cdx.json` is always written", and `scan` exits 3 when "a file could not be written".
The folder is made to fail for real while a real scan runs (a 4 s passive capture on `lo` keeps the
collectors busy long enough): replaced by a regular file, or covered by a read-only tmpfs.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import REPO, is_root, run_cbom

pytestmark = pytest.mark.skipif(not is_root(), reason="the live capture that keeps the scan running needs root")


def _replace_by_file(out: Path) -> None:
    shutil.rmtree(out)
    out.write_text("not a folder any more\n")  # mkdir(exist_ok=True) cannot take it back: ENOTDIR/EEXIST


def _read_only_mount(out: Path) -> None:
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "cbom-test-ro", str(out)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")


@pytest.mark.parametrize("break_folder", [_replace_by_file, _read_only_mount], ids=["replaced-by-a-file", "read-only-mount"])
def test_output_folder_failing_mid_scan_saves_the_cbom_elsewhere(tmp_path, break_folder):
    out = tmp_path / "out"
    tmp = tmp_path / "tmp"  # where _rescue writes first (tempfile.gettempdir() honours TMPDIR)
    tmp.mkdir()
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", TMPDIR=str(tmp))
    proc = subprocess.Popen([sys.executable, "-m", "cbom", "scan", "--only", "os,capture", "--interface", "lo",
                             "--capture-seconds", "4", "--operator", "Rescue Test", "-o", str(out)],
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
    timer = threading.Timer(120, proc.kill)
    timer.start()
    lines = []
    mounted = False
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # break the folder only once the collectors are running
            lines.append(line)
            if "listening passively" in line:
                assert (out / ".cbom-write-test").exists() is False and out.is_dir()  # the pre-scan check passed
                break_folder(out)
                mounted = out.is_mount()
                break
        else:
            pytest.fail("the capture never started:\n" + "".join(lines))
        stdout, rest = proc.communicate()
        left = sorted(os.listdir(out)) if out.is_dir() else None  # read before the mount is undone
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
        if mounted:
            subprocess.run(["umount", str(out)], check=False)
    stderr = "".join(lines) + rest
    assert "Traceback" not in stderr, stderr
    # The exit code README gives for a finished scan with a file not written.
    assert proc.returncode == 3, stderr
    # A clear message: which folder failed, why, and where the scan is.
    assert "cbom.cdx.json not written: Read-only file system" in stderr or f"cannot write to {out}" in stderr, stderr
    m = re.search(r"the scan could not be written in " + re.escape(str(out)) +
                  r": it is saved in (\S+) instead \(cbom\.cdx\.json\)", stderr)
    assert m, stderr
    saved = Path(m.group(1))
    assert saved.parent == tmp, (saved, tmp)
    assert saved.name.startswith("cbom-") and saved.stat().st_mode & 0o777 == 0o755
    # Nothing lost: the whole scan, both collectors' runs, valid, listed in its own SHA256SUMS.
    cbom = saved / "cbom.cdx.json"
    assert sorted(p.name for p in saved.iterdir()) == ["SHA256SUMS", "cbom.cdx.json"]
    doc = json.loads(cbom.read_text(encoding="utf-8"))
    props = {p["name"]: p["value"] for p in doc["metadata"]["properties"]}
    assert props["cbom:collector:os.linux:status"] == "ok"
    assert props["cbom:collector:capture:status"] == "ok", props
    assert [c["type"] for c in doc["components"]].count("operating-system") == 1
    assert doc["metadata"]["authors"][0]["name"] == "Rescue Test"
    sums = (saved / "SHA256SUMS").read_text()
    assert hashlib.sha256(cbom.read_bytes()).hexdigest() + "  cbom.cdx.json" in sums
    assert run_cbom("validate", str(cbom)).returncode == 0
    # Nothing half-written where the folder failed (the file or the read-only mount is as it was).
    assert left in (None, []), left
