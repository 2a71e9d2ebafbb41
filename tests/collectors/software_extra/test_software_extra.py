"""software.npm: global npm packages, checked against `npm ls -g` of this machine (independent truth)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.model import Component
from collectors.software._extra import GLOBAL_DIRS, collect_npm_global, parse_package_json


ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "npm" / "root"


def test_global_packages_of_an_image():
    """A real global node_modules (tests/fixtures/npm/SOURCES.md) under --root: one component per
    package, with the name and version its package.json states."""
    found = [c for c in collect_npm_global(ScanContext(root=ROOT)) if isinstance(c, Component)]
    want = {}
    for pj in sorted(ROOT.glob("usr/lib/node_modules/*/package.json")):
        data = json.loads(pj.read_text(encoding="utf-8"))
        want[data["name"]] = data["version"]
    assert {c.name: c.version for c in found} == want and len(want) == 2
    npm = next(c for c in found if c.name == "npm")
    assert npm.purl == f"pkg:npm/npm@{want['npm']}" and npm.licenses == ("Artistic-2.0",)
    assert npm.prop(V.PACKAGE_PATH) == "/usr/lib/node_modules/npm"


def test_global_npm_packages_equal_npm_ls_g():
    if not shutil.which("npm"):  # no npm here: no global node_modules folder either, nothing to report
        assert not any(Path(d).exists() for d in GLOBAL_DIRS)
        assert list(collect_npm_global(ScanContext())) == []
        return
    proc = subprocess.run(["npm", "ls", "-g", "--depth=0", "--json"], capture_output=True, text=True, timeout=60)
    truth = {name: d.get("version", "") for name, d in json.loads(proc.stdout).get("dependencies", {}).items()}
    prefix = subprocess.run(["npm", "prefix", "-g"], capture_output=True, text=True, timeout=60).stdout.strip()
    found = {c.name: c for c in collect_npm_global(ScanContext()) if isinstance(c, Component)
             and c.prop(V.PACKAGE_PATH).startswith(prefix + "/lib/node_modules/")}
    assert {n: c.version for n, c in found.items()} == truth
    for name, c in found.items():
        assert c.purl == f"pkg:npm/{name.replace('@', '%40')}@{truth[name]}"


def test_package_json_fields_and_damaged_files():
    # The head of npm 11's own package.json, as shipped in /usr/lib/node_modules/npm.
    assert parse_package_json('{"version": "11.19.1", "name": "npm", "description": "a package manager for '
                              'JavaScript", "license": "Artistic-2.0"}') == (
        "npm", "11.19.1", "Artistic-2.0", "a package manager for JavaScript")
    assert parse_package_json('{"name": "@scope/x", "license": {"type": "MIT"}}') == ("@scope/x", "", "MIT", "")
    assert parse_package_json("{not json") is None and parse_package_json('{"version": "1"}') is None


def test_the_debootstrap_image_has_no_global_npm(debootstrap_root):
    assert list(collect_npm_global(ScanContext(root=debootstrap_root))) == []
