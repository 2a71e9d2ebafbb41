"""`cbom verify-bundle` and the launcher's coreutils check, on small real bundles (fast)."""
from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from cbom import bundle
from conftest import REPO, run_cbom

LAUNCHER = REPO / "usb_bundle" / "launchers" / "cbom-scan.sh"


def make_bundle(root: Path) -> Path:
    (root / "linux-x86_64" / "_internal").mkdir(parents=True)
    (root / "linux-x86_64" / "cbom").write_bytes(b"\x7fELF fake")
    (root / "linux-x86_64" / "_internal" / "lib.so").write_bytes(b"x" * 3000)
    (root / "wheelhouse").mkdir()
    (root / "wheelhouse" / "a-1.0-py3-none-any.whl").write_bytes(b"PK")
    (root / "README-USB.txt").write_text("hello\n")
    (root / "with space.txt").write_text("spaces are fine\n")
    (root / bundle.MARKER).write_text("{}\n")
    (root / "reports").mkdir()
    bundle.write_sums(root)
    return root


def verify_cmd(folder) -> subprocess.CompletedProcess:
    return run_cbom("verify-bundle", str(folder))


def test_write_sums_is_sha256sum_format(tmp_path):
    root = make_bundle(tmp_path / "b")
    lines = (root / "SHA256SUMS").read_text().splitlines()
    names = [line[66:] for line in lines]
    assert names == sorted(names)
    assert "linux-x86_64/_internal/lib.so" in names and "SHA256SUMS" not in names
    digest = hashlib.sha256(b"x" * 3000).hexdigest()
    assert f"{digest}  linux-x86_64/_internal/lib.so" in lines
    # coreutils agrees: the operator can check a stick without cbom
    proc = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_intact_bundle_exit_0(tmp_path):
    root = make_bundle(tmp_path / "b")
    (root / "reports" / "host-1").mkdir()
    (root / "reports" / "host-1" / "cbom.cdx.json").write_text("{}")  # output is not part of the bundle
    (root / ".cbom-tmp-abc123").mkdir()  # a launcher's temporary venv
    (root / ".cbom-tmp-abc123" / "python").write_text("x")
    proc = verify_cmd(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "intact (6 files match SHA256SUMS)" in proc.stdout
    sums_sha = hashlib.sha256((root / "SHA256SUMS").read_bytes()).hexdigest()
    assert f"SHA256SUMS sha256 {sums_sha}" in proc.stdout


def test_altered_bundle_lists_each_file_exit_1(tmp_path):
    root = make_bundle(tmp_path / "b")
    (root / "linux-x86_64" / "_internal" / "lib.so").write_bytes(b"y" * 3000)  # same size, new content
    (root / "wheelhouse" / "a-1.0-py3-none-any.whl").unlink()
    (root / "wheelhouse" / "evil-1.0-py3-none-any.whl").write_bytes(b"PK")
    (root / "autorun.inf").write_text("[autorun]\n")
    proc = verify_cmd(root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert "changed    linux-x86_64/_internal/lib.so" in lines
    assert "missing    wheelhouse/a-1.0-py3-none-any.whl" in lines
    assert "extra      wheelhouse/evil-1.0-py3-none-any.whl" in lines
    assert "extra      autorun.inf" in lines
    assert "ALTERED: 1 missing, 1 changed, 2 extra file(s) of 6 listed" in proc.stdout


def test_symlink_added_is_extra(tmp_path):
    root = make_bundle(tmp_path / "b")
    (root / "wheelhouse" / "link").symlink_to("/etc")
    result = bundle.verify(root)
    assert result.extra == ("wheelhouse/link",) and result.exit_code == 1


@pytest.mark.parametrize("content, why", [
    (None, "No such file"),
    (b"not a sums file\n", "garbled: line 1"),
    (b"0" * 64 + b"  ../../etc/passwd\n", "points outside the bundle"),
    (b"0" * 64 + b"  /etc/passwd\n", "points outside the bundle"),
    (b"", "no file listed"),
    (b"\xff\xfe\n", "garbled"),
])
def test_unreadable_sums_exit_2(tmp_path, content, why):
    root = make_bundle(tmp_path / "b")
    if content is None:
        (root / "SHA256SUMS").unlink()
    else:
        (root / "SHA256SUMS").write_bytes(content)
    proc = verify_cmd(root)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert why in proc.stderr


def test_unreadable_file_exit_2(tmp_path):
    root = make_bundle(tmp_path / "b")
    target = root / "README-USB.txt"
    target.unlink()
    target.mkdir()  # listed as a file, now a folder: cannot be hashed -> missing (not a file)
    assert bundle.verify(root).missing == ("README-USB.txt",)
    sums = bundle.parse_sums((root / "SHA256SUMS").read_text())
    assert sums["with space.txt"] == hashlib.sha256(b"spaces are fine\n").hexdigest()


def test_binary_mode_lines_accepted():
    digest = "a" * 64
    assert bundle.parse_sums(f"{digest} *dir/file\n{digest}  other\n") == {"dir/file": digest, "other": digest}
    with pytest.raises(ValueError, match="listed twice"):
        bundle.parse_sums(f"{digest}  x\n{digest}  x\n")


def test_default_dir_falls_back_to_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert bundle.default_dir() == tmp_path  # this test's interpreter is not inside a bundle
    assert bundle.command(argparse.Namespace(dir=None)) == 2  # and the folder has no SHA256SUMS


def test_default_dir_finds_bundle_above_executable(tmp_path, monkeypatch):
    root = make_bundle(tmp_path / "b")
    monkeypatch.setattr("sys.executable", str(root / "linux-x86_64" / "cbom"))
    assert bundle.default_dir() == root


# --- the launcher's own check (coreutils only) ---------------------------------------------------

def launcher_bundle(tmp_path) -> Path:
    root = tmp_path / "stick"
    make_bundle(root)
    shutil.copy2(LAUNCHER, root / "cbom-scan.sh")
    bundle.write_sums(root)
    return root


def test_launcher_verify_only_intact(tmp_path):
    root = launcher_bundle(tmp_path)
    proc = subprocess.run(["sh", str(root / "cbom-scan.sh"), "--verify-only"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "stick intact" in proc.stderr


def test_launcher_verify_only_altered(tmp_path):
    root = launcher_bundle(tmp_path)
    (root / "README-USB.txt").write_text("changed\n")
    (root / "wheelhouse" / "evil.whl").write_bytes(b"PK")
    (root / "reports" / "x.json").write_text("{}")  # output folder: ignored
    proc = subprocess.run(["sh", str(root / "cbom-scan.sh"), "--verify-only"], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "README-USB.txt: FAILED" in proc.stdout
    assert "extra: wheelhouse/evil.whl" in proc.stdout
    assert "reports/x.json" not in proc.stdout
    assert "ALTERED" in proc.stderr


def test_launcher_scripts_parse():
    assert subprocess.run(["sh", "-n", str(LAUNCHER)]).returncode == 0
    if shutil.which("bash"):
        assert subprocess.run(["bash", "-n", str(LAUNCHER)]).returncode == 0
    bat = (REPO / "usb_bundle" / "launchers" / "cbom-scan.bat").read_bytes()
    assert b"\r\n" in bat and b"\n" not in bat.replace(b"\r\n", b"")  # cmd.exe needs CRLF throughout
