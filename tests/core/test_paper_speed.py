"""What makes the report and the diff fast (issue 17) does not change what they say, and leaves nothing.

- WeasyPrint is loaded and the PDF laid out in a process of its own (cbom._pdf_child), started
  when the command begins; loading WeasyPrint starts no other program (ctypes' library search ran
  ldconfig, gcc and ld: 54 programs per PDF on this machine).
- A layout process whose parent dies leaves no process and no folder.
- `cbom diff` takes NEW's unchanged components from OLD (cyclonedx.read_dict's `like`): the scans
  read are the very ones read separately.
Speed itself is measured by benchmarks/bench_paper.py, not here.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from big_cbom import write_big
from conftest import REPO

from cbom import cyclonedx
from cbom.diff import diff_scans
from cbom.diff.read import read_pair, read_scan

THISHOST = REPO / "tests" / "fixtures" / "diff" / "thishost.cdx.json"


def _weasyprint_here() -> None:
    proc = subprocess.run([sys.executable, "-c", "import weasyprint"], capture_output=True, cwd=REPO, timeout=60)
    if proc.returncode != 0:
        pytest.skip("WeasyPrint does not load here")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ctypes runs programs to find libraries on Linux only")
def test_a_pdf_starts_no_program_but_its_layout_process(tmp_path):
    _weasyprint_here()
    if shutil.which("strace") is None:
        pytest.fail("strace is installed by .ci/setup")
    one = write_big(tmp_path / "one.cdx.json", 1)
    trace = tmp_path / "trace"
    proc = subprocess.run(["strace", "-f", "-qq", "-e", "trace=execve", "-e", "signal=none", "-o", str(trace),
                           sys.executable, "-m", "cbom", "-q", "report", str(one), "--format", "pdf",
                           "-o", str(tmp_path / "out")], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "cbom.pdf").read_bytes().startswith(b"%PDF")
    programs = [line.split('"')[1] for line in trace.read_text().splitlines()
                if "execve(" in line and "= 0" in line.rsplit(")", 1)[-1]]
    # cbom itself, and the layout process (the same interpreter); before: ldconfig, gcc, ld… 54 times
    assert len(programs) == 2, programs
    assert {os.path.realpath(p) for p in programs} == {os.path.realpath(sys.executable)}, programs


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL of the parent")
def test_layout_process_of_a_killed_cbom_leaves_nothing(tmp_path):
    """cbom killed (-9) after starting the layout process: the process sees its stdin end, exits,
    and removes its temporary folder (fontconfig's cache)."""
    _weasyprint_here()
    script = textwrap.dedent("""
        import os, signal, sys, time
        from cbom import _pdf_child
        _pdf_child.prepare()
        child = _pdf_child._prepared
        print(child.running.proc.pid, child.folder, flush=True)
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=60,
                          env=env)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    pid, folder = proc.stdout.split()
    assert Path(folder).parent == tmp_path
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (Path(f"/proc/{pid}").exists() or Path(folder).exists()):
        time.sleep(0.1)
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}").exists() else "gone"
    assert state in ("gone", "Z"), f"layout process {pid} still {state}"  # Z: exited, its reaper is init
    assert list(tmp_path.iterdir()) == []


def _changed_copy(tmp_path: Path) -> Path:
    """thishost.cdx.json (a real scan) with one version changed, one component removed and one added."""
    doc = json.loads(THISHOST.read_text(encoding="utf-8"))
    comps = doc["components"]
    software = [c for c in comps if c.get("purl", "").startswith("pkg:deb/")]
    software[3]["version"] = software[3]["version"] + "+local1"
    comps.remove(software[5])
    comps.append(dict(software[7], name="added-package", **{"bom-ref": "added:1"}))
    path = tmp_path / "new.cdx.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_diff_reads_the_same_scans_when_new_reuses_old(tmp_path):
    new_path = _changed_copy(tmp_path)
    old, new = read_pair(str(THISHOST), str(new_path))
    alone_old, alone_new = read_scan(str(THISHOST)), read_scan(str(new_path))
    assert old.scan == alone_old.scan and new.scan == alone_new.scan
    reused = {id(c) for c in old.scan.components}
    shared = sum(id(c) in reused for c in new.scan.components)
    assert shared == len(new.scan.components) - 2  # all but the changed and the added one
    d = diff_scans(old.scan, new.scan, old_side=old, new_side=new)
    alone = diff_scans(alone_old.scan, alone_new.scan, old_side=alone_old, new_side=alone_new)
    assert d == alone
    assert (d.count("added"), d.count("removed"), d.count("changed")) == (1, 1, 1)


def test_a_component_with_other_dependencies_is_read_again(tmp_path):
    """Same JSON object, different `dependencies` entry: not taken from OLD."""
    doc = json.loads(THISHOST.read_text(encoding="utf-8"))
    dep = next(d for d in doc["dependencies"] if d.get("dependsOn"))
    dep["dependsOn"] = dep["dependsOn"][:-1] + ["elsewhere:1"]
    path = tmp_path / "new.cdx.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    old, new = read_pair(str(THISHOST), str(path))
    changed = next(c for c in new.scan.components if c.ref == dep["ref"])
    assert "elsewhere:1" in changed.depends_on
    assert all(c is not changed for c in old.scan.components)
    assert new.scan == read_scan(str(path)).scan


def test_reuse_needs_the_document_the_scan_was_read_from():
    doc = json.loads(THISHOST.read_text(encoding="utf-8"))
    scan, _ = cyclonedx.read_dict(doc)
    fewer = dict(doc, components=doc["components"][:-1])
    again, _ = cyclonedx.read_dict(doc, like=(fewer, scan))  # a mismatched pair: nothing taken, nothing wrong
    assert again == scan
    assert not any(a is b for a, b in zip(again.components, scan.components))
