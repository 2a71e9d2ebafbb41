"""cbom's terminal output on a terminal that is not UTF-8 (windows-under-wine.md §7 I).

On Windows, stdout and stderr redirected to a pipe or a file are encoded in the ANSI code page
(cp1252 in Western Europe), stdout with errors="strict": a file, host or package name outside
cp1252 ended the command with UnicodeEncodeError, and the "…" of progress lines became byte 0x85,
which the OEM console reading the pipe shows as "à". PYTHONIOENCODING=cp1252 gives Linux the same
streams. Real cbom processes on real recorded machines (tests/fixtures/*/SOURCES.md).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO, assert_finished_without_failure, load_json

from cbom import validate

FIXTURES = REPO / "tests" / "fixtures"
CP1252 = {"PYTHONIOENCODING": "cp1252", "PYTHONDONTWRITEBYTECODE": "1"}


def _cbom(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`python -m cbom ARGS` with cp1252 streams; output kept as bytes (decoded by the test)."""
    return subprocess.run([sys.executable, "-m", "cbom", *args], capture_output=True, timeout=300, cwd=cwd,
                          env=dict(os.environ, **CP1252))


def _russian_scan(tmp_path: Path) -> Path:
    """The CBOM of the recorded Russian Windows 10 (Uninstall.reg with Cyrillic program names)."""
    out = tmp_path / "scan"
    proc = subprocess.run([sys.executable, "-m", "cbom", "-q", "ingest", str(FIXTURES / "software" / "windows-10-russian"),
                           "--format", "json", "-o", str(out)], capture_output=True, text=True, timeout=300, cwd=REPO)
    # The recording holds Uninstall.reg and little else: the other Windows sources are partial.
    assert_finished_without_failure(proc.returncode, load_json(out / "cbom.cdx.json"), proc.stderr)
    return out / "cbom.cdx.json"


def test_names_outside_cp1252_are_escaped_not_fatal(tmp_path):
    scan = _russian_scan(tmp_path)
    named = tmp_path / "скан.cdx.json"  # an auditor's own file name
    shutil.copy(scan, named)
    proc = _cbom("validate", str(named), cwd=tmp_path)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode("cp1252", "replace")
    escaped = "\\u0441\\u043a\\u0430\\u043d.cdx.json"
    if validate.unavailable("1.6"):  # a Windows without the Rust validators: "cannot tell", same name
        assert proc.returncode == 2 and escaped + ": cannot tell" in proc.stderr.decode("cp1252")
    else:
        assert proc.returncode == 0 and escaped + ": valid CycloneDX 1.6" in proc.stdout.decode("cp1252")
    # `report` prints the paths it wrote on stdout: a Cyrillic folder.
    proc = _cbom("report", str(named), "--format", "html", "-o", str(tmp_path / "отчёт"), cwd=tmp_path)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode("cp1252", "replace")
    assert proc.returncode == 0 and (tmp_path / "отчёт" / "cbom.html").is_file()
    assert "\\u043e\\u0442\\u0447\\u0451\\u0442" in proc.stdout.decode("cp1252")


def test_progress_lines_are_plain_on_a_cp1252_pipe(tmp_path):
    """The recorded Chinese Windows 10 (systeminfo in GBK): gaps cut long command lines with an
    ellipsis, written "..." where the pipe is not UTF-8."""
    proc = _cbom("ingest", str(FIXTURES / "os" / "wesng-10-1809-zh-cn"), "--format", "json", "-o", str(tmp_path / "o"),
                 cwd=tmp_path)
    assert proc.returncode == 3 and b"Traceback" not in proc.stderr
    assert b"\x85" not in proc.stderr and b"..." in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "cbom", "ingest", str(FIXTURES / "os" / "wesng-10-1809-zh-cn"),
                           "--format", "json", "-o", str(tmp_path / "u")], capture_output=True, timeout=300,
                          cwd=tmp_path, env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    assert "…".encode() in proc.stderr  # a UTF-8 pipe keeps it
