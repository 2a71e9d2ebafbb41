"""Shared test helpers: run the real `cbom` command in a subprocess."""
from __future__ import annotations

import json
import os
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


@pytest.fixture(scope="session")
def core_scan_dir(tmp_path_factory) -> Path:
    """One real `cbom scan --only os,network` of this machine, shared by the core tests."""
    out = tmp_path_factory.mktemp("scan") / "out"
    proc = run_cbom("scan", "--only", "os,network", "-o", str(out), "--operator", "Test Operator")
    assert proc.returncode in (0, 3), proc.stderr
    return out
