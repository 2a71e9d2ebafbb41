"""Shared test helpers: run the real `cbom` command in a subprocess."""
from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def run_cbom(*args: str, env: dict = None, timeout: float = 300, cwd=None) -> subprocess.CompletedProcess:
    """Run `python -m cbom ARGS` as a user would; returns the completed process (text)."""
    full_env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "cbom", *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=cwd or REPO)


def load_json(path) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


needs_root = pytest.mark.skipif(not is_root(), reason="needs root (network namespaces / raw sockets)")


@functools.lru_cache(maxsize=None)
def netns_unusable() -> str:
    """Why network namespaces cannot be made here ("" when they can), checked once per session.

    Root is not enough: inside a chroot or a container without /run/netns mounts,
    `ip netns add` fails; such a machine skips the namespace tests with this reason.
    """
    if not is_root():
        return "needs root to create a network namespace"
    ip = shutil.which("ip")
    if ip is None:
        return "`ip` (iproute2) is not installed"
    probe = f"cbomprobe{os.getpid()}"
    try:
        made = subprocess.run([ip, "netns", "add", probe], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`ip netns add` cannot run: {exc}"
    # Inside a chroot `ip netns add` may work while `ip netns exec` cannot remount / ("mount
    # --make-rslave / failed: Invalid argument"): try both.
    entered = subprocess.run([ip, "netns", "exec", probe, "true"], capture_output=True, text=True, timeout=20) \
        if made.returncode == 0 else made
    subprocess.run([ip, "netns", "del", probe], capture_output=True, timeout=20)
    if made.returncode != 0:
        return f"network namespaces unusable here: `ip netns add` said {made.stderr.strip()[:200]!r}"
    if entered.returncode != 0:
        return f"network namespaces unusable here: `ip netns exec` said {entered.stderr.strip()[:200]!r}"
    return ""


def skip_without_netns() -> None:
    """Skip the calling test, with the reason, where network namespaces cannot be made."""
    reason = netns_unusable()
    if reason:
        pytest.skip(reason)


def collector_runs(doc: dict) -> dict:
    """{collector: {"status", "reason", "gaps": [...]}} from a CBOM's `cbom:collector:<name>:<field>` properties."""
    runs: dict = {}
    for p in doc["metadata"].get("properties", []):
        m = re.fullmatch(r"cbom:collector:(.+):(status|reason|gap)", p["name"])
        if m:
            run = runs.setdefault(m.group(1), {"status": None, "reason": "", "gaps": []})
            if m.group(2) == "gap":
                run["gaps"].append(p["value"])
            else:
                run[m.group(2)] = p["value"]
    return runs


def assert_exit_matches_runs(returncode: int, doc: dict, stderr: str = "") -> None:
    """README: `scan` exits 0 when every collector was ok, 3 when one was partial or failed."""
    not_ok = {n: r["status"] for n, r in collector_runs(doc).items() if r["status"] != "ok"}
    assert returncode == (3 if not_ok else 0), (returncode, not_ok, stderr[-2000:])


def assert_finished_without_failure(returncode: int, doc: dict, stderr: str = "") -> None:
    """A scan of a recording or of a whole machine, where gaps are genuine (files the recording
    lacks, privileges a container withholds): no collector failed (a failure is an error the
    collector did not contain), and the exit code is exactly the one its runs give."""
    failed = {n: r["reason"] for n, r in collector_runs(doc).items() if r["status"] == "failed"}
    assert not failed, failed
    assert_exit_matches_runs(returncode, doc, stderr)


def unowned_listening_sockets() -> int:
    """Listening TCP/unconnected UDP sockets of this network namespace whose owning process this
    process cannot see in /proc/*/fd (another PID namespace, or another user's when not root).

    Read from the kernel's own tables (proc(5): /proc/net/tcp state 0A = LISTEN; UDP with a zero
    remote address), independently of psutil, which network.linux uses."""
    inodes = set()
    for name in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path("/proc/net", name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            remote_zero = set(f[2].split(":")[0]) == {"0"}
            if (name.startswith("tcp") and f[3] == "0A") or (name.startswith("udp") and remote_zero):
                inodes.add(f[9])
    seen = set()
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            for fd in fd_dir.iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:["):
                    seen.add(link[8:-1])
        except OSError:  # a process that ended, or another user's
            continue
    return len(inodes - seen)


def assert_network_linux_ok(doc: dict) -> None:
    """network.linux is ok, or partial only for listening sockets whose owner this machine really hides."""
    run = collector_runs(doc)["network.linux"]
    if run["status"] == "ok":
        return
    hidden = unowned_listening_sockets()
    # Partial is genuine only where /proc itself shows sockets with no visible owner (e.g. in this
    # container the sandbox's own listener lives in another PID namespace); that must be its only gap.
    assert run["status"] == "partial" and hidden, (run, hidden)
    assert len(run["gaps"]) == 1 and re.fullmatch(
        r"\d+ of \d+ listening sockets: owning process could not be read \((process not visible: another PID "
        r"namespace or container|run as root/Administrator to see them)\)", run["gaps"][0]), run


@pytest.fixture(scope="session")
def core_scan_dir(tmp_path_factory) -> Path:
    """One real `cbom scan --only os,network` of this machine, shared by the core tests."""
    out = tmp_path_factory.mktemp("scan") / "out"
    proc = run_cbom("scan", "--only", "os,network", "-o", str(out), "--operator", "Test Operator")
    doc = load_json(out / "cbom.cdx.json")
    runs = collector_runs(doc)
    if sys.platform != "linux":
        # The Windows tier runs the core tests under Windows' Python in wine, whose wmic, PowerShell
        # and ipconfig are stubs: the collectors end partial there, with their reasons, never failed.
        assert set(runs) == {"os.windows", "network.windows"}, runs
        assert_finished_without_failure(proc.returncode, doc, proc.stderr)
        return out
    assert set(runs) == {"os.linux", "network.linux"}, runs
    assert runs["os.linux"]["status"] == "ok", runs
    assert_network_linux_ok(doc)
    assert_exit_matches_runs(proc.returncode, doc, proc.stderr)
    return out


def debian_mirror(suite: str = "bookworm") -> str:
    """The Debian mirror this machine's apt already uses for `suite` ('' if none; never a hard-coded host)."""
    files = [Path("/etc/apt/sources.list")] + sorted(Path("/etc/apt/sources.list.d").glob("*.list")) + sorted(
        Path("/etc/apt/sources.list.d").glob("*.sources"))
    for f in files:
        try:
            text = f.read_text()
        except OSError:
            continue
        if f.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.*)$", stanza, re.M))
                if "deb" in fields.get("Types", "").split() and suite in fields.get("Suites", "").split():
                    return fields.get("URIs", "").split()[0]
        else:
            for line in text.splitlines():
                m = re.match(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", line.strip())
                if m and m.group(2) == suite:
                    return m.group(1)
    return ""


@pytest.fixture(scope="session")
def debootstrap_root() -> Path:
    """A Debian 12 minbase root (no Python), built once and kept in tests/.cache/ inside the clone.

    Shared by every test that needs a second, real, Python-less root (software --root, USB bundle).
    Skips with the reason when not root or when debootstrap/the mirror is unavailable.
    """
    import shutil

    if not is_root():
        pytest.skip("debootstrap needs root")
    if not shutil.which("debootstrap"):
        pytest.skip("debootstrap is not installed (apt-get install debootstrap)")
    root = REPO / "tests" / ".cache" / "debootstrap-bookworm-minbase"
    if (root / "var/lib/dpkg/status").is_file() and (root / ".cbom-complete").is_file():
        return root
    mirror = debian_mirror()
    if not mirror:
        pytest.skip("no Debian mirror found in /etc/apt/sources.list*")
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(root), mirror],
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        pytest.skip(f"debootstrap failed: {(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")
    (root / ".cbom-complete").write_text("built by tests/conftest.py\n")
    return root
