"""Hostile recorded folders given to `cbom ingest`: each gives a clean message, never a hang or a leak.

The input classes of issue 18's reliability sweep (D2, D3, D5, D16; recordings row of the
results table): binary files, UTF-16 LE/BE without BOM, a 200 MB file, symlink loops,
symlinks out of the folder, FIFOs, escape characters in names, an empty folder, a file
instead of a folder, a missing folder; and a Mac OS X 10.4-era system_profiler report.
Every recording is written here with the standard library; `cbom ingest` runs for real.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import run_cbom

MARKER = "AUDITOR-SECRET-rec"
LIMIT = 90  # seconds: far below the collectors' own limits, which a hang would reach


def _recording(tmp_path: Path) -> Path:
    rec = tmp_path / "rec"
    rec.mkdir()
    (rec / "manifest.txt").write_text(
        "# script collect.sh version 1; host plantpc; started 20261123T201330Z; uid 0\n"
        "os-release\t0\t20261123T201330Z\tcat /etc/os-release\n"
        "hostname.txt\t0\t20261123T201330Z\thostname\n")
    (rec / "os-release").write_text('ID=debian\nVERSION_ID="12"\nNAME="Debian GNU/Linux"\n')
    (rec / "hostname.txt").write_text("plantpc\n")
    (rec / "uname-a.txt").write_text("Linux plantpc 6.1.0-18-amd64 #1 SMP Debian 6.1.76-1 x86_64 GNU/Linux\n")
    (rec / "dpkg-status").write_text("Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13\n\n")
    return rec


def _secret(tmp_path: Path) -> Path:
    f = tmp_path / "auditor-shadow"
    f.write_text(f"{MARKER}:*:20228:0:99999:7:::\n")
    return f


def _ingest(tmp_path: Path, folder: Path):
    out = tmp_path / "out"
    proc = run_cbom("ingest", str(folder), "-o", str(out), "--format", "json", timeout=LIMIT)
    assert "Traceback" not in proc.stderr, proc.stderr
    doc = json.loads((out / "cbom.cdx.json").read_text(encoding="utf-8")) if (out / "cbom.cdx.json").exists() else {}
    return proc, json.dumps(doc)


def _finished_with_gaps(proc, doc: str) -> None:
    """README: 3 = the scan finished but a collector was partial. These recordings always give gaps
    (a hostile, missing or altered file is named in one), so exactly 3; and no collector may fail:
    a failure is an error the collector did not contain."""
    assert proc.returncode == 3, proc.stderr
    statuses = {p["name"]: p["value"] for p in json.loads(doc)["metadata"]["properties"] if p["name"].endswith(":status")}
    assert "partial" in statuses.values() and "failed" not in statuses.values(), statuses


def _ok(tmp_path: Path, rec: Path) -> str:
    proc, doc = _ingest(tmp_path, rec)
    assert doc, "no CBOM written"
    _finished_with_gaps(proc, doc)
    assert MARKER not in doc and MARKER not in proc.stderr
    assert doc, "no CBOM written"
    return doc


def test_binary_files(tmp_path):
    rec = _recording(tmp_path)
    (rec / "dmidecode.txt").write_bytes(bytes(range(256)) * 64)
    (rec / "lsblk-J.json").write_bytes(os.urandom(4096))
    _ok(tmp_path, rec)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(tmp_path, codec):
    rec = _recording(tmp_path)
    (rec / "os-release").write_bytes('ID=debian\nVERSION_ID="12"\nNAME="Debian GNU/Linux"\n'.encode(codec))
    doc = _ok(tmp_path, rec)
    assert "\\u0000" not in doc
    assert '"name": "debian"' in doc


def test_200_mb_file_names_the_limit(tmp_path):
    rec = _recording(tmp_path)
    with open(rec / "dpkg-status", "r+b") as f:
        f.truncate(200 << 20)  # sparse
    doc = _ok(tmp_path, rec)
    assert "read limit of 64 MiB" in doc


def test_symlink_loops(tmp_path):
    rec = _recording(tmp_path)
    (rec / "os-release").unlink()
    os.symlink("os-release", rec / "os-release")
    os.symlink("b", rec / "sys-class-dmi-id")
    os.symlink("sys-class-dmi-id", rec / "b")
    doc = _ok(tmp_path, rec)
    assert "loop" in doc


def test_symlinks_out_of_the_folder(tmp_path):
    secret = _secret(tmp_path)
    rec = _recording(tmp_path)
    (rec / "hostname.txt").unlink()
    os.symlink(str(secret), rec / "hostname.txt")  # absolute
    (rec / "sys-class-dmi-id").mkdir()
    os.symlink("../../auditor-shadow", rec / "sys-class-dmi-id" / "product_serial")  # climbing
    os.symlink(str(secret), rec / "dmidecode.txt")
    (rec / "SHA256SUMS").write_text("0" * 64 + "  hostname.txt\n")
    doc = _ok(tmp_path, rec)
    assert "out of the recording" in doc or "outside the recording" in doc


def test_fifos(tmp_path):
    rec = _recording(tmp_path)
    for name in ("manifest.txt", "os-release", "SHA256SUMS", "dpkg-status"):
        if (rec / name).exists():
            (rec / name).unlink()
        os.mkfifo(rec / name)
    doc = _ok(tmp_path, rec)
    assert "FIFO" in doc


def test_escape_characters_in_names(tmp_path):
    rec = _recording(tmp_path)
    (rec / "lspci-nnmmv\x1b[2J\x07.txt").write_text("garbage\n")
    (rec / "unknown\x1b]0;PWNED\x07").write_text("x\n")
    proc, doc = _ingest(tmp_path, rec)
    _finished_with_gaps(proc, doc)


@pytest.mark.parametrize("kind", ["empty", "file", "missing"])
def test_not_a_recording(tmp_path, kind):
    target = tmp_path / "rec"
    if kind == "empty":
        target.mkdir()
    elif kind == "file":
        target.write_text("not a folder\n")
    proc, doc = _ingest(tmp_path, target)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(target) in lines[0], proc.stderr


def test_macos_10_4_text_report_with_empty_values(tmp_path):
    """MacBook2,1 era: a drive's "Serial Number:" and "Revision:" with nothing after the colon."""
    rec = tmp_path / "mac"
    rec.mkdir()
    (rec / "sw_vers.txt").write_text("ProductName:\tMac OS X\nProductVersion:\t10.4.11\nBuildVersion:\t8S2167\n")
    (rec / "system_profiler.txt").write_text(
        "Hardware:\n\n    Hardware Overview:\n\n      Model Name: MacBook\n      Model Identifier: MacBook2,1\n"
        "      Processor Name: Intel Core 2 Duo\n      Memory: 1 GB\n      Serial Number: 4H6300AAAAA\n\n"
        "Serial-ATA:\n\n    Intel ICH7-M AHCI:\n\n      Vendor: Intel\n\n"
        "        FUJITSU MHW2080BH:\n\n          Capacity: 74,53 GB\n          Model: FUJITSU MHW2080BH\n"
        "          Revision:\n          Serial Number:\n          BSD Name: disk0\n")
    proc, doc = _ingest(tmp_path, rec)
    _finished_with_gaps(proc, doc)  # a two-file recording of a Mac: most of its sources are absent
    assert "AttributeError" not in doc
    assert "FUJITSU MHW2080BH" in doc and "MacBook2,1" in doc
