"""The `cbom` command as a user runs it: exit codes, default paths, messages."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from conftest import REPO, assert_exit_matches_runs, assert_network_linux_ok, collector_runs, is_root, load_json, run_cbom


def test_default_output_folder(tmp_path):
    proc = run_cbom("scan", "--only", "os", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (folder,) = (tmp_path / "cbom-reports").iterdir()
    host = subprocess.run(["hostname"], capture_output=True, text=True).stdout.strip()
    assert re.fullmatch(re.escape(host) + r"-\d{8}T\d{6}Z", folder.name)
    assert {p.name for p in folder.iterdir()} == {"cbom.cdx.json", "cbom.cdx.yaml", "cbom.html", "cbom.pdf",
                                                  "SHA256SUMS"}
    # Nothing else written in the working folder.
    assert [p.name for p in tmp_path.iterdir()] == ["cbom-reports"]


@pytest.mark.parametrize("args, message", [
    (["scan", "--only", "nosuch"], "unknown collector(s): nosuch"),
    (["scan", "--format", "docx"], "unknown format(s) docx"),
    (["scan", "--root", "/nonexistent-root"], "is not a folder"),
    (["frobnicate"], "invalid choice"),
])
def test_usage_errors_exit_2(args, message, tmp_path):
    proc = run_cbom(*args, "-o", str(tmp_path / "o")) if args[0] == "scan" else run_cbom(*args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_validate_exit_codes(tmp_path, core_scan_dir):
    good = core_scan_dir / "cbom.cdx.json"
    assert run_cbom("validate", str(good)).returncode == 0
    doc = load_json(good)
    doc["components"].append({"type": "gadget", "name": "x"})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    proc = run_cbom("validate", str(bad))
    assert proc.returncode == 1 and "gadget" in proc.stdout
    notcdx = tmp_path / "notcdx.json"
    notcdx.write_text('{"spdxVersion": "SPDX-2.3"}')
    assert run_cbom("validate", str(notcdx)).returncode == 2  # not CycloneDX: cannot tell (issue 18)
    trunc = tmp_path / "trunc.json"
    trunc.write_bytes(good.read_bytes()[:100])
    proc = run_cbom("validate", str(trunc))
    assert proc.returncode == 2 and "truncated" in proc.stderr
    assert run_cbom("validate", str(tmp_path / "missing.json")).returncode == 2
    old = tmp_path / "old.json"
    old.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.2"}')
    proc = run_cbom("validate", str(old))
    assert proc.returncode == 2 and "not supported" in proc.stderr


def test_spec_17_on_request(tmp_path):
    proc = run_cbom("scan", "--only", "os", "--spec-version", "1.7", "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    doc = load_json(tmp_path / "cbom.cdx.json")
    assert doc["specVersion"] == "1.7"
    assert run_cbom("validate", str(tmp_path / "cbom.cdx.json")).returncode == 0


def test_quiet_prints_nothing_on_success(tmp_path):
    proc = run_cbom("-q", "scan", "--only", "os", "-o", str(tmp_path))
    assert (proc.returncode, proc.stderr) == (0, "")


def test_unwritable_output_is_a_clear_error(tmp_path):
    if is_root():
        target = "/proc/cbom-cannot-write-here"
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        target = str(ro / "out")
    proc = run_cbom("scan", "--only", "os", "-o", target)
    # Found before any collector runs (issue 18 D12): a usage error, nothing scanned for nothing.
    assert proc.returncode == 2
    assert "cannot write to" in proc.stderr and "nothing scanned" in proc.stderr and "Traceback" not in proc.stderr
    assert "scanning" not in proc.stderr


def test_offline_in_empty_network_namespace(tmp_path):
    """A full default scan inside a namespace with no network at all still completes."""
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) not installed")
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {probe.stderr.decode().strip()}")
    import sys

    out = tmp_path / "out"
    proc = subprocess.run(["unshare", "-n", sys.executable, "-m", "cbom", "scan", "--capture-seconds", "3", "-o", str(out)],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    doc = load_json(out / "cbom.cdx.json")
    runs = collector_runs(doc)
    assert not [n for n, r in runs.items() if r["status"] == "failed"], runs
    # What this test is about, the collectors that read the network: with no network at all the
    # inventory still describes the namespace (lo, no socket: nothing hidden) ...
    assert runs["network.linux"]["status"] == "ok", runs["network.linux"]
    assert [c["name"] for c in doc["components"] if _prop(c, "cbom:category") == "network-interface"] == ["lo"]
    # ... and the capture has nothing to listen on (lo is down in a new namespace): partial, saying why;
    # skipped where it needs a privilege this run lacks.
    assert runs["capture"]["status"] == ("partial" if is_root() else "skipped"), runs["capture"]
    assert runs["capture"]["reason"], runs["capture"]
    assert_exit_matches_runs(proc.returncode, doc, proc.stderr)  # 3: the capture at least
    assert run_cbom("validate", str(out / "cbom.cdx.json")).returncode == 0


def _prop(component: dict, name: str) -> str:
    return next((p["value"] for p in component.get("properties", []) if p["name"] == name), "")


GUARD = r'''
import socket, sys
calls = []
def refuse(name):
    def f(*a, **k):
        calls.append(name)
        raise OSError(f"cbom test guard: {name} is forbidden")
    return f
socket.getaddrinfo = refuse("getaddrinfo")
socket.gethostbyname = refuse("gethostbyname")
socket.gethostbyaddr = refuse("gethostbyaddr")
socket.create_connection = refuse("create_connection")
socket.socket.connect = refuse("connect")
socket.socket.connect_ex = refuse("connect_ex")
socket.socket.sendto = refuse("sendto")
from cbom.cli import main
rc = main(sys.argv[1:])
print("GUARD-CALLS", calls)
sys.exit(rc)
'''


def test_no_connection_or_dns_lookup(tmp_path):
    """Socket guard: a full default scan never connects, sends or resolves a name."""
    import sys

    proc = subprocess.run([sys.executable, "-c", GUARD, "scan", "--capture-seconds", "3", "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert "GUARD-CALLS []" in proc.stdout, proc.stdout + proc.stderr
    doc = load_json(tmp_path / "out" / "cbom.cdx.json")
    runs = collector_runs(doc)
    # No collector broke under the guard (a refused lookup would surface as a failure) and the two
    # that touch the network did their work: the interfaces and sockets, and 3 s of listening (root).
    assert not [n for n, r in runs.items() if r["status"] == "failed"], runs
    if sys.platform == "linux":  # the Windows tier runs this too: under wine its tools are stubs (partial)
        assert_network_linux_ok(doc)
        assert runs["capture"]["status"] == ("ok" if is_root() else "skipped"), runs["capture"]
    assert_exit_matches_runs(proc.returncode, doc, proc.stderr)


def test_report_prints_the_sha256_of_the_file_as_it_is(tmp_path, core_scan_dir):
    """The paper must match the file: a copy with CRLF line ends (carried via Windows) keeps its own SHA-256."""
    import hashlib

    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) not installed")
    crlf = tmp_path / "copy.cdx.json"
    crlf.write_bytes((core_scan_dir / "cbom.cdx.json").read_bytes().replace(b"\n", b"\r\n"))
    proc = run_cbom("report", str(crlf), "-o", str(tmp_path / "r"), "--format", "pdf")
    assert proc.returncode == 0, proc.stderr
    text = subprocess.run(["pdftotext", str(tmp_path / "r" / "cbom.pdf"), "-"], capture_output=True, text=True).stdout
    assert hashlib.sha256(crlf.read_bytes()).hexdigest() in text


def test_report_refuses_what_is_not_cyclonedx(tmp_path):
    bad = tmp_path / "spdx.json"
    bad.write_text('{"spdxVersion": "SPDX-2.3"}')
    proc = run_cbom("report", str(bad), "-o", str(tmp_path / "r"))
    assert proc.returncode == 2 and "not a CycloneDX document" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "r").exists()
