"""A machine where the schema validator cannot load still gets its CBOM (issue 13, windows-under-wine §7 A).

jsonschema-rs and rpds-py (what python-jsonschema needs) are Rust extensions; their Windows wheels need
Windows 10 or later (Rust >= 1.78 targets Windows 10+, and under wine 8.0 they fail with "DLL load
failed while importing jsonschema_rs"). Here the imports fail for real: a `sitecustomize` on a
temporary PYTHONPATH puts a finder in front of `sys.meta_path` that refuses those module names with
the same ImportError Windows gives. Nothing of cbom is replaced.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import load_json, run_cbom

BLOCKER = textwrap.dedent('''
    import sys

    class _NoRust:
        """Refuses the Rust-built modules as Windows 8.1 (or wine 8.0 without ProcessPrng) does."""
        BLOCKED = ("jsonschema_rs", "rpds", "jsonschema", "referencing")

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.BLOCKED:
                raise ImportError(f"DLL load failed while importing {name}: The specified module could not be found.",
                                  name=name)
            return None

    sys.meta_path.insert(0, _NoRust())
''')


def _env(tmp_path) -> dict:
    site = tmp_path / "blocker"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env = {"PYTHONPATH": str(site)}
    probe = subprocess.run([sys.executable, "-c", "import sys; print(any('_NoRust' in repr(f) for f in sys.meta_path))"],
                           capture_output=True, text=True, env=dict(os.environ, **env))
    if probe.stdout.strip() != "True":
        pytest.skip("this Python ignores PYTHONPATH (an embeddable Python's ._pth file)")
    return env


def test_the_blocker_really_blocks(tmp_path):
    """The premise: in that interpreter neither validator can be imported."""

    env = dict(os.environ, **_env(tmp_path))
    for module in ("jsonschema_rs", "jsonschema", "rpds"):
        proc = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, env=env)
        assert proc.returncode == 1 and "DLL load failed" in proc.stderr, (module, proc.stderr)


def test_scan_without_a_validator_writes_everything_and_says_why(tmp_path):
    out = tmp_path / "out"
    proc = run_cbom("scan", "--only", "os", "--format", "json,yaml,html", "-o", str(out), env=_env(tmp_path))
    assert "Traceback" not in proc.stderr, proc.stderr
    # os is ok on this machine: an unvalidated document is not a partial scan (README: 3 is for
    # collectors partial/failed or a file not written).
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in out.iterdir()}
    assert {"cbom.cdx.json", "cbom.cdx.yaml", "cbom.html", "SHA256SUMS"} <= names
    lines = [ln for ln in proc.stderr.splitlines() if "not schema-validated" in ln]
    assert len(lines) == 1 and "jsonschema" in lines[0], proc.stderr
    assert "schema error" not in proc.stderr
    doc = load_json(out / "cbom.cdx.json")
    recorded = [p["value"] for p in doc["metadata"]["properties"] if "not schema-validated" in p["value"]]
    assert len(recorded) == 1 and "DLL load failed" in recorded[0]
    # The document itself is valid: checked by the real validator in this (unblocked) interpreter.
    proc = run_cbom("validate", str(out / "cbom.cdx.json"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_validate_without_a_validator_cannot_tell(tmp_path):
    doc = tmp_path / "x.cdx.json"
    doc.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1}), encoding="utf-8")
    proc = run_cbom("validate", str(doc), env=_env(tmp_path))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "cannot tell" in proc.stderr and "DLL load failed" in proc.stderr
