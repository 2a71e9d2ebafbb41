"""software.python does not list cbom's own interpreter as host software (windows-under-wine.md §7 E).

Run from a non-frozen Python, the collector used to add the running interpreter's site-packages to
the inventory: ~47 of cbom's own dependencies (psutil, jinja2, weasyprint…) reported as software of
the scanned machine. Now the site of the interpreter running cbom is left out when that interpreter is
cbom's own (frozen build, embeddable Python, or a virtualenv holding cbom), and the run says so in
its reason. Real virtualenvs made with `python -m venv`, real `cbom scan` processes; nothing mocked.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import REPO, load_json, run_cbom

from cbom import vocabulary as V

# The deps of cbom come from the test interpreter's own site-packages, put on a new venv's path by a
# .pth line (a path, not a site dir: its .pth files and dist-infos are not the venv's).
DEPS = sysconfig.get_paths()["purelib"]


def _sites_of(doc: dict) -> set:
    return {p["value"] for c in doc.get("components", []) for p in c.get("properties", [])
            if p["name"] == V.PYTHON_SITE}


def _run(doc: dict, name: str) -> dict:
    prefix = V.collector_property(name, "")
    return {p["name"][len(prefix):]: p["value"] for p in doc["metadata"]["properties"] if p["name"].startswith(prefix)}


def _venv(where: Path, with_pip: bool = False) -> Path:
    """A new virtualenv of the interpreter running the tests (its base Python); its site-packages."""
    base = getattr(sys, "_base_executable", sys.executable)
    args = [base, "-m", "venv"] + ([] if with_pip else ["--without-pip"]) + [str(where)]
    subprocess.run(args, check=True, capture_output=True, timeout=300)
    site = Path(subprocess.run([str(where / "bin" / "python"), "-c", "import site; print(site.getsitepackages()[0])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "zz-cbom-test-deps.pth").write_text(DEPS + "\n", encoding="utf-8")
    return site


def _install_cbom_editable(site: Path) -> None:
    """cbom installed into `site` as `pip install -e` installs it: the very files pip wrote for the
    test interpreter's editable install (dist-info, .pth, finder), copied. (Building a wheel here
    needs the `wheel` package, which this machine's setuptools 65 lacks offline.)"""
    here = Path(DEPS)
    files = list(here.glob("cbom_scanner-*.dist-info")) + list(here.glob("__editable__*cbom_scanner*"))
    if not any(f.name.endswith(".dist-info") for f in files):
        pytest.skip(f"cbom is not pip-installed in {here}")
    for f in files:
        (shutil.copytree if f.is_dir() else shutil.copy)(f, site / f.name)


pytestmark = pytest.mark.skipif(os.name != "posix", reason="virtualenv layout (bin/python) of POSIX")


def test_a_venv_holding_cbom_is_not_host_software(tmp_path):
    venv = tmp_path / "tool-venv"
    site = _venv(venv)
    _install_cbom_editable(site)
    out = tmp_path / "out"
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "cbom", "scan", "--only", "software.python",
                           "--format", "json", "-o", str(out)], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    assert proc.returncode == 0, proc.stderr  # software.python alone: ok (its reason names what it left out)
    doc = load_json(out / "cbom.cdx.json")
    assert str(site) not in _sites_of(doc), "cbom's own venv listed as host software"
    assert not any(c["name"] == "cbom-scanner" for c in doc.get("components", []))
    run = _run(doc, "software.python")
    assert run["status"] != "failed"
    assert f"not listed: {site}" in run["reason"] and "cbom runs from a virtualenv holding cbom;" in run["reason"], run
    assert f"not listed: {site}" in proc.stderr  # the progress line says it too


def test_the_test_venv_running_cbom_is_not_host_software(tmp_path):
    """The project's own .venv (editable install of cbom) is cbom's interpreter here."""
    site = Path(DEPS)
    if not any(site.glob("cbom_scanner-*.dist-info")):
        pytest.skip(f"cbom is not installed in {site}")
    proc = run_cbom("scan", "--only", "software.python", "--format", "json", "-o", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr  # software.python alone: ok (its reason names what it left out)
    doc = load_json(tmp_path / "out" / "cbom.cdx.json")
    assert str(site) not in _sites_of(doc)
    assert "not listed: " + str(site) in _run(doc, "software.python")["reason"]


def test_a_host_venv_not_holding_cbom_is_listed(tmp_path):
    """A virtualenv of the host (pip in it, no cbom) that happens to run cbom from its sources stays listed."""
    venv = tmp_path / "host-venv"
    site = _venv(venv, with_pip=True)
    pip = next(site.glob("pip-*.dist-info"))
    out = tmp_path / "out"
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "cbom", "scan", "--only", "software.python",
                           "--format", "json", "-o", str(out)], capture_output=True, text=True, timeout=600,
                          cwd=REPO, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(REPO)))
    assert proc.returncode == 0, proc.stderr  # software.python alone: ok (its reason names what it left out)
    doc = load_json(out / "cbom.cdx.json")
    assert str(site) in _sites_of(doc)
    listed = {c["name"] for c in doc["components"] if {"name": V.PYTHON_SITE, "value": str(site)} in c["properties"]}
    assert "pip" in listed, (pip.name, json.dumps(sorted(listed)))
    assert "not listed" not in _run(doc, "software.python").get("reason", "")
