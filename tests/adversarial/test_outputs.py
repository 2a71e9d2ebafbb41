"""Hostile output folders and option values (issue 18: D8 folders, D11 writes outside the folder,
D12 output checked first, D15 numeric options, D16 file modes, D6 PDF of huge values).

Every hostile input is made here, with the standard library, in tmp_path.
"""
from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Optional

import pytest

from cbom.output import FolderLock

REPO = Path(__file__).resolve().parents[2]


def cbom(*args: str, timeout: float = 120, env: Optional[Dict[str, str]] = None, fsize: int = 0,
         cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    """`python -m cbom ARGS`, bounded in time; `fsize` limits the size of any file it writes."""
    def limit() -> None:
        os.umask(0o022)
        if fsize:  # writing past it fails with EFBIG, as a full disk fails with ENOSPC
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    full_env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(REPO))
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "cbom", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd or REPO, preexec_fn=limit, env=full_env)


def assert_sums_match(folder: Path) -> Dict[str, str]:
    """Every SHA256SUMS line names a file present with that hash (the folder's one invariant)."""
    sums = {}
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line[:64], line[66:]
        assert (folder / name).is_file(), f"{name} listed but missing in {sorted(os.listdir(folder))}"
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, f"{name}: stale hash"
        sums[name] = digest
    return sums


def test_report_keeps_sha256sum_lines_it_does_not_write(tmp_path):
    """D8: `cbom report` deleted `sha256sum -b` (`*name`) and `--tag` lines of an existing SHA256SUMS."""
    p = cbom("scan", "--only", "os", "--format", "json", "-o", str(tmp_path))
    assert p.returncode == 0, p.stderr
    (tmp_path / "notes.txt").write_text("auditor's notes\n")
    data = (tmp_path / "cbom.cdx.json").read_bytes()
    foreign = [f"{hashlib.sha256(data).hexdigest()} *cbom.cdx.json",
               f"SHA256 (notes.txt) = {hashlib.sha256(b'auditor' + chr(39).encode() + b's notes' + bytes([10])).hexdigest()}",
               "# kept: a comment cbom cannot parse"]
    (tmp_path / "SHA256SUMS").write_text("\n".join(foreign) + "\n")
    r = cbom("report", str(tmp_path / "cbom.cdx.json"), "--format", "html")
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "SHA256SUMS").read_text().splitlines()
    assert lines[:3] == foreign, lines
    assert any(line.endswith("  cbom.html") for line in lines)
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True)
    assert "FAILED" not in check.stdout, check.stdout


def test_full_disk_keeps_a_consistent_folder(tmp_path):
    """D8: on a full disk no SHA256SUMS was written at all. Now the files that fit are listed, the
    others said not written; SHA256SUMS never names a missing file."""
    out = tmp_path / "out"
    p = cbom("scan", "--only", "os", "--format", "json,yaml,html", "-o", str(out), fsize=12_000)
    assert p.returncode == 3 and "Traceback" not in p.stderr, p.stderr
    assert "cbom.html not written" in p.stderr, p.stderr
    sums = assert_sums_match(out)
    assert "cbom.cdx.json" in sums and "cbom.html" not in sums
    assert not [n for n in os.listdir(out) if n.endswith(".tmp")]


def test_a_second_cbom_on_a_locked_folder_stops_before_scanning(tmp_path):
    """D8: two scans into one folder both exited 0 with a broken SHA256SUMS; the folder is now locked."""
    out = tmp_path / "out"
    out.mkdir()
    with FolderLock(out):
        p = cbom("scan", "--only", "os", "-o", str(out))
    assert p.returncode == 2 and "another cbom is writing" in p.stderr and "scanning" not in p.stderr, p.stderr
    assert os.listdir(out) == []
    assert cbom("scan", "--only", "os", "--format", "json", "-o", str(out)).returncode == 0  # released
    assert sorted(os.listdir(out)) == ["SHA256SUMS", "cbom.cdx.json"]


def test_concurrent_scans_never_both_succeed_with_a_broken_folder(tmp_path):
    out = tmp_path / "out"
    procs = [subprocess.Popen([sys.executable, "-m", "cbom", "scan", "--only", "os", "-o", str(out)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    codes = [p.wait(timeout=120) for p in procs]
    assert 0 in codes and set(codes) <= {0, 2}, codes
    assert_sums_match(out)


@pytest.mark.parametrize("args, message", [
    (["--lang", "xx"], "--lang xx"),
    (["--lang", "../../etc/passwd"], "not a language code"),
    (["--format", "json,docx"], "unknown format(s) docx"),
    (["-o", "/proc/cbom-not-here"], "cannot write to /proc/cbom-not-here"),
])
def test_output_problems_are_found_before_any_collector_runs(tmp_path, args, message):
    """D12: a bad --lang or an unwritable folder was found after the whole scan, which was then lost."""
    p = cbom("scan", "--only", "os", *args, cwd=tmp_path)
    assert p.returncode == 2 and message in p.stderr, p.stderr
    assert "scanning" not in p.stderr and "Traceback" not in p.stderr


def test_unwritable_working_folder_is_found_first(tmp_path):
    """D12: from a folder it cannot write to, the default ./cbom-reports/ failed after the scan."""
    if os.geteuid() == 0:
        ro = Path("/proc/self")  # root writes anywhere on disk; /proc refuses even root
    else:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
    p = cbom("scan", "--only", "os", cwd=ro)
    assert p.returncode == 2 and "cannot write to cbom-reports" in p.stderr and "scanning" not in p.stderr, p.stderr


@pytest.mark.parametrize("option", ["--collector-timeout", "--capture-seconds"])
@pytest.mark.parametrize("value", ["nan", "inf", "-1", "1e999", "NaN", "ten"])
def test_numeric_options_refuse_what_no_duration_means(option, value):
    """D15: nan gave a ValueError traceback from thread.join, inf an OverflowError, -1 "timed out after -1 s"."""
    p = cbom("scan", "--only", "os", "--format", "json", option, value, "-o", "/nonexistent-never-written")
    assert p.returncode == 2 and option in p.stderr and "Traceback" not in p.stderr, p.stderr


def test_output_files_are_readable_by_everyone_under_umask_022(tmp_path):
    """D16: mkstemp made every output 0600: unreadable by the auditor's account after `sudo cbom`."""
    p = cbom("scan", "--only", "os", "--format", "json,yaml,html", "-o", str(tmp_path))
    assert p.returncode == 0, p.stderr
    modes = {f.name: oct(f.stat().st_mode & 0o777) for f in tmp_path.iterdir()}
    assert modes == {n: "0o644" for n in ("cbom.cdx.json", "cbom.cdx.yaml", "cbom.html", "SHA256SUMS")}, modes


def _snapshot(*roots: Path) -> Dict[str, float]:
    seen = {}
    for root in roots:
        for folder, dirs, files in os.walk(root):
            for name in dirs + files:
                path = os.path.join(folder, name)
                try:
                    seen[path] = os.lstat(path).st_mtime
                except OSError:
                    pass
    return seen


def test_scan_writes_nothing_outside_its_output_folder(tmp_path):
    """D11: fontconfig wrote /var/cache/fontconfig (root) or ~/.cache/fontconfig, GIO ~/.cache/dconf.

    A font in the (otherwise empty) home folder makes fontconfig build a new cache: it must land in
    cbom's temporary folder, which is removed at exit."""
    home, tmp, out = tmp_path / "home", tmp_path / "tmp", tmp_path / "out"
    fonts = home / ".fonts"
    fonts.mkdir(parents=True)
    tmp.mkdir()
    src = next((p for p in Path("/usr/share/fonts").rglob("*.ttf")), None)
    if src is None:
        pytest.fail("no TrueType font under /usr/share/fonts: the report cannot be rendered here")
    (fonts / "cbom-test-font.ttf").write_bytes(src.read_bytes())
    watched = [home, tmp, Path("/var/cache/fontconfig")]
    before = _snapshot(*watched)
    env = {"HOME": str(home), "TMPDIR": str(tmp), "XDG_CACHE_HOME": "", "XDG_CONFIG_HOME": "", "XDG_DATA_HOME": ""}
    env = {k: v for k, v in env.items() if v}
    full = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "FONTCONFIG", "GSETTINGS"))}
    full.update(env, PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(REPO))
    p = subprocess.run([sys.executable, "-m", "cbom", "scan", "--only", "os", "--format", "json,pdf", "-o", str(out)],
                       capture_output=True, text=True, timeout=300, cwd=REPO, env=full)
    assert p.returncode == 0, p.stderr
    assert (out / "cbom.pdf").read_bytes()[:5] == b"%PDF-"
    after = _snapshot(*watched)
    changed = sorted(k for k in after if before.get(k) != after[k])
    assert changed == [], changed


def test_pdf_of_a_ten_megabyte_value_is_cut_and_says_so(tmp_path):
    """D6: a 10 MB version string took 353 s and 950 MB to render; the PDF now shows 500 characters
    and lists what was cut, cbom.cdx.json keeps it whole."""
    version = "1" * 10_000_000
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
           "metadata": {"component": {"type": "device", "name": "h"}},
           "components": [{"type": "library", "name": "big", "version": version}]}
    src = tmp_path / "big.cdx.json"
    src.write_text(json.dumps(doc))
    t0 = time.monotonic()
    p = cbom("report", str(src), "--format", "pdf", "-o", str(tmp_path / "r"), timeout=120)
    assert p.returncode == 0, p.stderr
    assert time.monotonic() - t0 < 60
    pdf = (tmp_path / "r" / "cbom.pdf").read_bytes()
    assert pdf[:5] == b"%PDF-" and len(pdf) < 2_000_000
    from cbom._report_view import CUT_MARK, shorten
    from cbom.cyclonedx import from_dict

    short, cut = shorten(from_dict(doc))
    assert short.components[0].version == "1" * 500 + CUT_MARK
    assert cut == ["software 'big': version: 10,000,000 characters"]


def test_progress_lines_show_escape_sequences_as_code_points(tmp_path):
    """D7: an image's /etc/hostname with ESC sequences reached the terminal raw in the progress line."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("evil\x1b]0;PWNED\x07\x1b[2Jhost\n")
    p = cbom("scan", "--root", str(root), "--only", "os", "--format", "json", "-o", str(tmp_path / "out"))
    assert p.returncode == 3 and "Traceback" not in p.stderr, p.stderr  # os.linux partial: the image has no kernel
    assert "\x1b" not in p.stderr and "\x07" not in p.stderr
    assert "scanning evil<U+001B>]0;PWNED<U+0007><U+001B>[2Jhost" in p.stderr, p.stderr
