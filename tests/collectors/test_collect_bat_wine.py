"""collect.bat under wine's cmd: a certutil that hashes nothing leaves no empty SHA256SUMS (§7 J).

Wine 8.0's certutil is a stub: `certutil -hashfile FILE SHA256` exits 0 and prints nothing. collect.bat
used to take the exit code as "SHA-256 available" and wrote a SHA256SUMS of 0 bytes, which reads as
"every file checked" to whoever trusts it. Now a file without a hash is named on a failed
`SHA256SUMS` line of manifest.txt (`cbom ingest` reports it as `cbom:recorded:failed`), and a list
that holds no file is removed. Wine's cmd is not cmd.exe (windows-under-wine.md §5): this shows the
script runs to its end and takes the failure path; it says nothing of what real certutil prints.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, assert_finished_without_failure, load_json, run_cbom

from cbom import vocabulary as V

COLLECT = REPO / "usb_bundle" / "collect" / "collect.bat"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not shutil.which("wine"), reason="wine is not installed (apt-get install wine wine64)")]


def _windows_path(path: Path) -> str:
    return "Z:" + str(path).replace("/", "\\")  # a fresh prefix maps Z: to the Linux root


@pytest.fixture(scope="module")
def prefix(tmp_path_factory) -> dict:
    """A fresh 64-bit wine prefix; the environment to run wine in."""
    env = dict(os.environ, WINEPREFIX=str(tmp_path_factory.mktemp("wineprefix")), WINEDEBUG="-all",
               WINEDLLOVERRIDES="mscoree,mshtml=", WINEARCH="win64")
    proc = subprocess.run(["wineboot", "-i"], env=env, capture_output=True, timeout=300)
    if proc.returncode != 0:
        pytest.skip(f"wineboot failed: {proc.stderr.decode(errors='replace')[-300:]}")
    yield env
    subprocess.run(["wineserver", "-k"], env=env, capture_output=True, timeout=60)


def test_certutil_printing_nothing_is_a_recorded_failure(prefix, tmp_path):
    stick = tmp_path / "stick with space"
    stick.mkdir()
    shutil.copy(COLLECT, stick / "collect.bat")
    out = stick / "recordings" / "PC 1"
    # Pipes on every std handle: wine 8.0 programs die when one is a regular file (notes §1, W1).
    proc = subprocess.run(["wine", "cmd", "/c", "call", _windows_path(stick / "collect.bat"), _windows_path(out)],
                          env=prefix, stdin=subprocess.PIPE, capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    probe = subprocess.run(["wine", "cmd", "/c", "certutil -hashfile " + _windows_path(COLLECT) + " SHA256"],
                           env=prefix, stdin=subprocess.PIPE, capture_output=True, timeout=120)
    if probe.returncode != 0 or any(len(line.replace(b" ", b"")) == 64 for line in probe.stdout.splitlines()):
        pytest.skip("this wine's certutil is not the silent stub of wine 8.0")
    names = sorted(p.name for p in out.iterdir())
    assert "SHA256SUMS" not in names, "an empty SHA256SUMS was left"
    lines = (out / "manifest.txt").read_text(encoding="ascii", errors="replace").splitlines()
    (failed,) = [ln for ln in lines if ln.startswith("SHA256SUMS\t")]
    fields = failed.split("\t")
    assert fields[1] == "1" and "printed no SHA-256 for:" in fields[3]
    hashed = [n for n in names if n not in ("manifest.txt",)]
    assert sorted(fields[3].split(":", 1)[1].split()) == sorted(hashed, key=str)
    assert lines[-1].startswith("# finished")  # the script ran to its end
    # cbom ingest says so in the CBOM.
    proc = run_cbom("-q", "ingest", str(out), "--format", "json", "-o", str(tmp_path / "cbom"))
    doc = load_json(tmp_path / "cbom" / "cbom.cdx.json")
    # Wine's wmic/systeminfo are stubs (README): the Windows sources of this recording are partial.
    assert_finished_without_failure(proc.returncode, doc, proc.stderr)
    recorded = [p["value"] for p in doc["metadata"]["properties"] if p["name"] == V.RECORDED_FAILED]
    assert any(v.startswith("SHA256SUMS (exit 1: certutil -hashfile FILE SHA256 printed no SHA-256 for:")
               for v in recorded), recorded
