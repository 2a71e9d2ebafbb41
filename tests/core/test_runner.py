"""Collector failures are contained: real throwaway plug-ins registered through entry points."""
from __future__ import annotations

import textwrap
import time

import pytest
from conftest import load_json, run_cbom

from cbom import runner
from cbom.collector import Collector, ScanContext
from cbom.registry import load_collectors
from cbom.model import Category, Component, Gap, Kind, Status

PLUGIN = '''
import time
from cbom.collector import Collector
from cbom.model import Category, Component, Gap, Kind


def _c(name):
    return Component(category=Category.SOFTWARE, kind=Kind.APPLICATION, name=name, version="1")


class Boom(Collector):
    name = "boom"
    default = False
    def collect(self, ctx):
        yield _c("before-boom")
        raise RuntimeError("simulated parser crash")


class Hang(Collector):
    name = "hang"
    default = False
    timeout = 1.0
    def collect(self, ctx):
        yield _c("before-hang")
        time.sleep(3600)


class Slow(Collector):
    name = "aslow"  # sorts before "os", so os is still to run when Ctrl-C arrives
    default = False
    timeout = 120.0
    def collect(self, ctx):
        yield _c("before-ctrl-c")
        time.sleep(120)


class NoTool(Collector):
    name = "notool"
    default = False
    requires = frozenset({"cbom-no-such-tool"})
    def collect(self, ctx):
        yield _c("never")


class Limited(Collector):
    name = "limited"
    default = False
    def collect(self, ctx):
        yield _c("visible")
        yield Gap("3 files unreadable without root")
'''


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory):
    """A real installed-looking distribution: a module plus dist-info with entry points."""
    root = tmp_path_factory.mktemp("plugins")
    (root / "cbom_test_plugins.py").write_text(PLUGIN)
    info = root / "cbom_test_plugins-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cbom-test-plugins\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent("""\
        [cbom.collectors]
        boom = cbom_test_plugins:Boom
        hang = cbom_test_plugins:Hang
        notool = cbom_test_plugins:NoTool
        limited = cbom_test_plugins:Limited
        aslow = cbom_test_plugins:Slow
        broken = cbom_test_plugins_missing:Nothing
        """))
    return root


def test_failures_are_recorded_and_report_still_valid(plugin_path, tmp_path):
    out = tmp_path / "out"
    t0 = time.monotonic()
    proc = run_cbom("scan", "--only", "boom,hang,notool,limited,os", "-o", str(out),
                    env={"PYTHONPATH": str(plugin_path)})
    assert time.monotonic() - t0 < 30
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "collector plug-in 'broken'" in proc.stderr  # a plug-in that cannot load is reported
    doc = load_json(out / "cbom.cdx.json")
    props = {p["name"]: p["value"] for p in doc["metadata"]["properties"]}
    assert props["cbom:collector:boom:status"] == "failed"
    assert props["cbom:collector:boom:reason"].startswith("RuntimeError: simulated parser crash")
    assert props["cbom:collector:hang:status"] == "failed"
    assert props["cbom:collector:hang:reason"].startswith("timed out after 1 s")
    assert props["cbom:collector:notool:status"] == "skipped"
    assert "cbom-no-such-tool" in props["cbom:collector:notool:reason"]
    assert props["cbom:collector:limited:status"] == "partial"
    assert props["cbom:collector:limited:gap"] == "3 files unreadable without root"
    assert props["cbom:collector:os.linux:status"] in ("ok", "partial")
    names = {c["name"] for c in doc["components"]}
    # What was collected before a crash or a hang is kept.
    assert {"before-boom", "before-hang", "visible"} <= names and "never" not in names
    assert run_cbom("validate", str(out / "cbom.cdx.json")).returncode == 0
    for name in ("boom", "hang", "notool", "limited"):
        assert any(line.split()[:1] == [name] for line in proc.stderr.splitlines()), proc.stderr


def test_collectors_command_lists_plugins(plugin_path):
    proc = run_cbom("collectors", env={"PYTHONPATH": str(plugin_path)})
    assert proc.returncode == 0
    lines = {line.split()[0]: line for line in proc.stdout.splitlines()[1:] if line.strip() and not line[0].isspace()}
    assert "cannot run: needs cbom-no-such-tool" in lines["notool"]
    assert "can run" in lines["os.linux"]


def test_in_process_run_one_statuses():
    class Ok(Collector):
        name = "okc"

        def collect(self, ctx):
            yield Component(category=Category.SOFTWARE, kind=Kind.LIBRARY, name="a")

    class Part(Collector):
        name = "partc"

        def collect(self, ctx):
            yield Gap("first")
            yield Gap("second")

    class Admin(Collector):
        name = "adminc"
        requires_admin = True

        def collect(self, ctx):
            return []

    run, items = runner.run_one(Ok, ScanContext())
    assert (run.status, run.components, run.reason) == (Status.OK, 1, "")
    run, _ = runner.run_one(Part, ScanContext())
    assert run.status == Status.PARTIAL and run.gaps == ("first", "second")
    run, _ = runner.run_one(Admin, ScanContext(admin=False))
    assert (run.status, run.reason) == (Status.SKIPPED, "needs root/Administrator")


def test_selection():
    from cbom.model import Platform

    classes, errors = load_collectors()
    names = [c.name for c in runner.select(classes, platform=Platform.LINUX)]
    assert "os.linux" in names and "network.linux" in names and "software.dpkg" in names
    assert "os.windows" not in names and "software.macos" not in names  # other platforms left out
    # An area selects every source of it; a name selects one source.
    software = [c.name for c in runner.select(classes, only=["software"], platform=Platform.LINUX)]
    assert {"software.dpkg", "software.rpm", "software.python", "software.kmod"} <= set(software)
    assert [c.name for c in runner.select(classes, only=["software.dpkg"])] == ["software.dpkg"]
    assert "software.dpkg" not in [c.name for c in runner.select(classes, skip=["software"])]
    assert "software.rpm" in [c.name for c in runner.select(classes, skip=["software.dpkg"], platform=Platform.LINUX)]
    # A collector of another platform named exactly is kept (its run then says why it was skipped).
    assert [c.name for c in runner.select(classes, only=["os.windows"], platform=Platform.LINUX)] == ["os.windows"]
    with pytest.raises(runner.SelectionError, match="unknown collector"):
        runner.select(classes, only=["nope"])
    with pytest.raises(runner.SelectionError, match="unknown collector"):
        runner.select(classes, only=["soft"])  # a prefix of an area is not an area


def test_ctrl_c_keeps_what_was_collected(plugin_path, tmp_path):
    """Ctrl-C during a long collector: the report is still written, the rest marked not run."""
    import os
    import signal
    import subprocess
    import sys

    from conftest import REPO

    out = tmp_path / "out"
    # A test run started in the background of a non-interactive shell inherits SIGINT ignored, and
    # Python then never turns it into KeyboardInterrupt: give the child Ctrl-C as a terminal would.
    proc = subprocess.Popen([sys.executable, "-m", "cbom", "scan", "--only", "aslow,os", "-o", str(out)],
                            cwd=REPO, env=dict(os.environ, PYTHONPATH=str(plugin_path)),
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # "cbom X: scanning HOST with ..." is printed just before the collectors run.
    while "scanning" not in proc.stderr.readline():
        assert proc.poll() is None
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 3, err
    assert "Traceback" not in err
    doc = load_json(out / "cbom.cdx.json")
    props = {p["name"]: p["value"] for p in doc["metadata"]["properties"]}
    assert props["cbom:collector:aslow:reason"].startswith("interrupted by the user")
    assert props["cbom:collector:os.linux:status"] == "skipped"
    assert "before-ctrl-c" in {c["name"] for c in doc["components"]}


def test_duplicates_are_counted_once_and_ref_collisions_kept():
    """An identical component yielded twice is one component; a different one sharing a ref is kept."""
    from cbom.model import make_ref

    ref = make_ref("software", "same-identity")

    class Dups(Collector):
        name = "dups"

        def collect(self, ctx):
            same = Component(category=Category.SOFTWARE, kind=Kind.LIBRARY, name="cryptography", version="38.0.4")
            yield same
            yield same
            yield Component(category=Category.SOFTWARE, kind=Kind.LIBRARY, name="a", version="1", ref=ref)
            yield Component(category=Category.SOFTWARE, kind=Kind.LIBRARY, name="b", version="1", ref=ref)

    scan = runner.scan([Dups], ScanContext(), host_name="x")
    assert scan.runs[0].components == len(scan.components) == 3
    assert sorted(c.ref for c in scan.components if c.name in "ab") == [ref, ref + "~2"]
