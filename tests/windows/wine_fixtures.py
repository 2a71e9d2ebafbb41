"""Fixtures of the Windows tier (imported by its test modules): one wine prefix and the
embeddable CPython 3.9 and 3.13 with cbom installed from the USB bundle's win_amd64 wheelhouse.

Not a conftest.py: a second `conftest` module beside tests/conftest.py would replace it in
sys.modules and break every `from conftest import ...`. pytest sets a session fixture up once per
module that imports it, so the expensive parts are built once per session here (`_once`) and the
fixtures only hand them out.

Everything lives in tests/.cache/windows/: the prefix, downloads, and `d/`, the folder mapped as
D: (the "stick": interpreters, recordings, outputs). Without Z: (notes W6) Windows programs see
nothing else of this machine, so whatever they must read is copied into `d/`.

Wine missing: every test of the tier is skipped with the reason (.ci/setup installs it).
CBOM_TEST_WIN_WHEELHOUSE=DIR uses DIR's win_amd64 wheels instead of building the bundle
(a developer's shortcut: the bundle's wheelhouse is the one a stick ships, so CI uses it).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, TypeVar

import pytest

from conftest import REPO, SHARED

sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "bundle"))
from bundle_fixtures import bundle  # noqa: E402,F401 (a fixture: asked for by name in win_wheelhouse)
from usb_bundle import wine  # noqa: E402

CACHE = REPO / "tests" / ".cache" / "windows"
PREFIX = CACHE / "prefix"
DRIVE_D = CACHE / "d"
DOWNLOADS = CACHE / "downloads"
SHIM_CACHE = CACHE / "shims"
PYTHONS = ("3.9", "3.13")
HERE = Path(__file__).resolve().parent
RECORDINGS = SHARED / "fixtures" / "windows"
# What pytest needs on Windows to run the suite under the embeddable 3.13 (test-only: never on a
# stick). colorama is asked for by name: pip evaluates its `sys_platform == "win32"` marker for
# Linux even with --platform win_amd64 (notes §7 K). pytest-timeout bounds a hanging test.
TEST_TOOLS = ("pytest", "colorama", "pytest-timeout")

T = TypeVar("T")
_made: Dict[str, object] = {}


def _once(key: str, make: Callable[[], T]) -> T:
    if key not in _made:
        _made[key] = make()
    return _made[key]  # type: ignore[return-value]


def tag(version: str) -> str:
    return "py" + version.replace(".", "")


def _fresh_drive() -> None:
    """D: as a session starts: the cached interpreters kept, everything tests wrote removed."""
    DRIVE_D.mkdir(parents=True, exist_ok=True)
    keep = {tag(v) for v in PYTHONS}
    for entry in DRIVE_D.iterdir():
        if entry.name not in keep:
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()


LOCK_WAIT = 1800  # seconds another session of this tier may hold the cache


def _lock_cache() -> int:
    """An exclusive lock on tests/.cache/windows for this session: two sessions in one clone would
    share the prefix and D: (released by the OS when the session's process ends)."""
    import fcntl  # Linux only, as wine: imported here so that collecting this tier works anywhere

    CACHE.mkdir(parents=True, exist_ok=True)
    fd = os.open(CACHE / ".session.lock", os.O_RDWR | os.O_CREAT, 0o644)
    end = time.monotonic() + LOCK_WAIT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > end:
                pytest.fail(f"another test session has held {CACHE} for {LOCK_WAIT} s")
            time.sleep(2)


def _make_prefix() -> wine.Prefix:
    _once("lock", _lock_cache)
    _fresh_drive()
    return wine.Prefix(PREFIX, DRIVE_D).ensure()


@pytest.fixture(scope="session")
def prefix() -> Iterator[wine.Prefix]:
    """The tier's wine prefix (D: = tests/.cache/windows/d), closed (`wineserver -k`) at the end."""
    reason = wine.unavailable_reason()
    if reason:
        pytest.skip(f"Windows tier (wine) not run: {reason}")
    p = _once("prefix", _make_prefix)
    yield p
    p.close()


def _wheelhouse_of(request: pytest.FixtureRequest) -> Path:
    override = os.environ.get("CBOM_TEST_WIN_WHEELHOUSE")
    if override:
        return Path(override)
    # Asked for only here: with the override (or without wine) the bundle is not built.
    return request.getfixturevalue("bundle") / "wheelhouse"


@pytest.fixture(scope="session")
def win_wheelhouse(request: pytest.FixtureRequest, prefix: wine.Prefix) -> Path:
    """The USB bundle's wheelhouse (built once by tests/bundle's fixture), checked to hold
    win_amd64 wheels for every Python of the tier."""
    house = _once("wheelhouse", lambda: _wheelhouse_of(request))
    names = [p.name for p in house.glob("*.whl")]
    for v in PYTHONS:
        cp = "cp" + v.replace(".", "")
        # PyYAML has a compiled wheel per CPython version: a marker of a complete target.
        if not any(n.lower().startswith("pyyaml-") and f"-{cp}-" in n and n.endswith("win_amd64.whl") for n in names):
            pytest.fail(f"{house} holds no win_amd64 PyYAML wheel for {cp}: the bundle's wheelhouse "
                        f"must cover Windows x64 and Python {v} (tests/bundle/bundle_fixtures.py)")
    if not any(n.startswith("cbom_scanner-") for n in names):
        pytest.fail(f"{house} holds no cbom_scanner wheel")
    return house


def _test_tools(version: str) -> Path:
    """pytest and its dependencies as win_amd64 wheels (downloaded once into the test cache)."""
    folder = CACHE / f"test-wheels-{tag(version)}"
    stamp = folder / ".complete"
    wanted = " ".join(TEST_TOOLS)
    if stamp.is_file() and stamp.read_text() == wanted:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--platform", "win_amd64",
                           "--python-version", version, "--implementation", "cp", "-d", str(folder), *TEST_TOOLS],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"pip download {wanted} for Windows failed:\n{proc.stderr[-2000:]}"
    stamp.write_text(wanted)
    return folder


def _merged(version: str, *houses: Path) -> Path:
    """One --find-links folder holding links to the wheels of several."""
    merged = CACHE / f"wheelhouse-{tag(version)}"
    shutil.rmtree(merged, ignore_errors=True)
    merged.mkdir(parents=True)
    for house in houses:
        for wheel in house.glob("*.whl"):
            if not (merged / wheel.name).exists():
                (merged / wheel.name).symlink_to(wheel.resolve())
    return merged


def _install(version: str, house: Path) -> Path:
    exe = wine.embeddable_python(version, DRIVE_D / tag(version), DOWNLOADS)
    requirements: List[str] = ["cbom-scanner"]
    if version == "3.13":
        house = _merged(version, house, _test_tools(version))
        requirements += TEST_TOOLS
    wine.install_into(exe, house, version, requirements)
    custom = exe.parent / "sitecustomize.py"
    if version == "3.13":
        shutil.copyfile(HERE / "sitecustomize.py", custom)  # W2, W3
    elif custom.exists():
        custom.unlink()
    return exe


@pytest.fixture(scope="session")
def win_pythons(prefix: wine.Prefix, win_wheelhouse: Path) -> Dict[str, Path]:
    """{"3.9": D:/py39/python.exe, "3.13": ...}: python.org's embeddable CPython with cbom (and,
    in 3.13, pytest) installed offline from the wheelhouse by `install_into` (no wine involved)."""
    return _once("pythons", lambda: {v: _install(v, win_wheelhouse) for v in PYTHONS})


def text(data: bytes) -> str:
    """Output of a Windows program: UTF-8 where it is, else the ANSI code page wine gives (1252)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")
