"""software.npm: global npm packages, checked against `npm ls -g` of this machine (independent truth)."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.model import Component
from collectors.software._extra import collect_npm_global, parse_package_json


@pytest.mark.skipif(not shutil.which("npm"), reason="needs npm")
def test_global_npm_packages_equal_npm_ls_g():
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
