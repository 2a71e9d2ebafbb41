"""Python environments outside the known interpreters: virtualenvs (a folder with pyvenv.cfg) under /opt,
/srv, /root and /home, found by software.python (collectors/software/_python.py VENV_PLACES).

Truth: a real virtual environment made here by the standard library's `venv` (with the pip it bundles
through ensurepip), asked with its own interpreter `pip --version` and `importlib.metadata`.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.model import Component
from collectors.software._common import Distro
from collectors.software._python import collect_python


@pytest.mark.parametrize("where", ["opt/plant-hmi/venv", "srv/historian/.venv", "home/operator/tools/env"])
def test_a_virtualenv_under_root_is_listed_with_its_distributions(tmp_path, where):
    if subprocess.run([sys.executable, "-c", "import ensurepip"], capture_output=True).returncode:
        pytest.skip("this Python has no ensurepip")
    venv = tmp_path / where
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
    assert (venv / "pyvenv.cfg").is_file()
    truth = json.loads(subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import importlib.metadata as m, json; print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"],
        capture_output=True, text=True, check=True, timeout=60, cwd=tmp_path).stdout)  # not this checkout
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "--version"], capture_output=True, text=True,
                         timeout=60).stdout.split()[1]
    assert truth.get("pip") == pip
    site = [c for c in collect_python(ScanContext(root=tmp_path), Distro()) if isinstance(c, Component)
            and c.prop(V.PYTHON_SITE).startswith(f"/{where}/lib/")]
    assert {c.name: c.version for c in site} == truth
