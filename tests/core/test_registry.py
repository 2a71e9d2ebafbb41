"""The collector registry: one list of built-ins, the same in pyproject's entry points and in BUILTIN."""
from __future__ import annotations

import re
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.9/3.10
    tomllib = None

import pytest

from cbom.collector import Collector
from cbom.registry import entry_points, load_collectors
from collectors import BUILTIN
from conftest import REPO


def _declared() -> dict:
    """pyproject.toml's [project.entry-points."cbom.collectors"] table, read as TOML."""
    if tomllib is None:
        pytest.skip("tomllib needs Python 3.11")
    with open(REPO / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["entry-points"]["cbom.collectors"]


def test_entry_points_equal_the_builtin_tuple():
    declared = _declared()
    builtin = {c.name: f"{c.__module__}:{c.__qualname__}" for c in BUILTIN}
    assert declared == builtin


def test_installed_entry_points_load_the_same_classes():
    installed = {ep.name: ep.load() for ep in entry_points()}
    assert {name: cls for name, cls in installed.items() if cls.__module__.startswith("collectors")} == \
        {c.name: c for c in BUILTIN}


def test_builtin_collectors_keep_the_contract():
    names = [c.name for c in BUILTIN]
    assert len(names) == len(set(names))
    for cls in BUILTIN:
        assert issubclass(cls, Collector)
        assert re.fullmatch(r"[a-z]+(\.[a-z0-9]+)?", cls.name), cls.name  # "area" or "area.source"
        assert cls.platforms, cls.name
        assert cls.description, cls.name


def test_builtins_without_entry_points_are_the_frozen_bundle_registry():
    classes, errors = load_collectors(BUILTIN, include_entry_points=False)
    assert errors == []
    assert [c.name for c in classes] == sorted(c.name for c in BUILTIN)
