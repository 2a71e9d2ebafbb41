"""Lint and type check, as part of the README's test command (so CI runs them).

The levels are set in pyproject.toml: ruff with pycodestyle (E, W), pyflakes (F) and bugbear (B);
mypy on cbom/ and collectors/ with check_untyped_defs (not --strict). Both must report nothing.
"""
from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *argv], cwd=REPO, capture_output=True, text=True, timeout=600)


def test_ruff_reports_nothing():
    proc = _run("ruff", "check", ".")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_mypy_reports_nothing():
    proc = _run("mypy")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
