"""The CycloneDX property vocabulary (cbom/vocabulary.py) is the only place a property name is spelled.

1. No code outside the vocabulary writes a `cbom:`/`cdx:` name as a string literal (docstrings
   and comments may: they are documentation).
2. Every constant of the vocabulary is a distinct property name of the `cbom:` or `cdx:` namespace.
3. Every property name in the golden documents is a vocabulary constant or is built by one of
   its functions, so no collector can invent a name outside it.

The names are read with `ast` and `json`, not imported from the code under test where avoidable;
the literals in this file are the independent check.
"""
from __future__ import annotations

import ast
import inspect
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterator, List, Pattern, Set, Tuple

from cbom import cyclonedx, vocabulary
from cbom.model import CollectorRun, Host, Scan, Status

REPO = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("cbom", "collectors", "usb_bundle", "benchmarks")
VOCABULARY = REPO / "cbom" / "vocabulary.py"
GOLDEN = REPO / "tests" / "golden"
NAME_IN_TEXT = re.compile(r"(?:cbom|cdx):[A-Za-z]")
# What a function argument may be in a built name: a collector ("hardware.dmi"), an identity kind
# ("lldp-system-description"), a protocol, a table, a database kind.
ARGUMENT = r"[A-Za-z0-9][A-Za-z0-9._+-]*"


def _sources() -> List[Path]:
    files = [p for d in SOURCE_DIRS for p in sorted((REPO / d).rglob("*.py"))]
    return [p for p in files if p.resolve() != VOCABULARY.resolve()]


def _docstrings(tree: ast.AST) -> Set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                out.add(id(body[0].value))
    return out


def _literal_names(path: Path) -> Iterator[Tuple[int, str]]:
    """(line, text) of every string constant (f-string parts included) naming a property."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    docs = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            if NAME_IN_TEXT.search(node.value) or node.value in ("cbom:", "cdx:"):
                yield node.lineno, node.value


def test_no_property_name_literal_outside_the_vocabulary():
    files = _sources()
    assert len(files) > 50, "the source files were not found"
    found = [f"{p.relative_to(REPO)}:{line}: {text!r}" for p in files for line, text in _literal_names(p)]
    assert found == [], "property names spelled outside cbom/vocabulary.py:\n" + "\n".join(found)


def test_the_check_sees_literals(tmp_path):
    """The scanner above finds a name in a plain string and in an f-string part, not in a docstring."""
    path = tmp_path / "probe.py"
    path.write_text('"""cbom:category in a docstring."""\nx = ("cbom:device-type", 1)\ny = f"cdx:device:{x}"\n',
                    encoding="utf-8")
    assert sorted(t for _l, t in _literal_names(path)) == ["cbom:device-type", "cdx:device:"]


# --- the vocabulary itself ------------------------------------------------------------------------


def _constants() -> Dict[str, object]:
    return {k: v for k, v in vars(vocabulary).items() if k.isupper() and not k.startswith("_")}


def _functions() -> Dict[str, object]:
    return {k: f for k, f in vars(vocabulary).items()
            if inspect.isfunction(f) and f.__module__ == vocabulary.__name__ and not k.startswith("_")}


def test_constants_are_unique_names_of_the_two_namespaces():
    consts = _constants()
    assert len(consts) > 200
    bad = {k: v for k, v in consts.items() if not (isinstance(v, str) and v.startswith(("cbom:", "cdx:")))}
    assert bad == {}
    seen: Dict[str, str] = {}
    for k, v in consts.items():
        assert v not in seen, f"{k} and {seen[v]} are both {v!r}"
        seen[v] = k  # type: ignore[index]
    # A prefix (what names are matched or built by) ends with ":", a property name never does.
    prefixes = {k for k, v in consts.items() if str(v).endswith(":")}
    assert prefixes == {k for k in consts if k.endswith("_PREFIX")} | {"CBOM_NAMESPACE"}
    # cdx: names are the official CycloneDX taxonomy's, spelled as it spells them.
    assert {v for v in consts.values() if str(v).startswith("cdx:")} == {
        "cdx:device:macAddress", "cdx:device:serialNumber"}


def test_vocabulary_imports_nothing():
    """Part of the core, read by collectors: it must not import them (or anything else)."""
    tree = ast.parse(VOCABULARY.read_text(encoding="utf-8"))
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert all(isinstance(n, ast.ImportFrom) and n.module == "__future__" for n in imports)


def _patterns() -> Dict[str, Pattern[str]]:
    """One regex per vocabulary function: what names it can build."""
    out = {}
    for name, f in _functions().items():
        params = list(inspect.signature(f).parameters)
        marks = [f"\x00{i}\x00" for i in range(len(params))]
        built = f(*marks)
        regex = re.escape(built)
        for m in marks:
            regex = regex.replace(re.escape(m), ARGUMENT)
        out[name] = re.compile(regex + r"\Z")
    return out


def test_functions_build_the_documented_names():
    assert vocabulary.collector_property("hardware.dmi", "status") == "cbom:collector:hardware.dmi:status"
    assert vocabulary.ids_property("pci") == "cbom:hardware:pci-ids"
    assert vocabulary.net_identity_property("lldp-system-description") == "cbom:net:identity:lldp-system-description"
    assert vocabulary.capture_cap_hit_property("flows") == "cbom:capture:cap-hit:flows"
    assert vocabulary.capture_malformed_property("modbus") == "cbom:capture:malformed:modbus"
    assert all(p.pattern.startswith(("cbom", "cdx")) for p in _patterns().values())


# --- every name written is the vocabulary's -------------------------------------------------------


def _property_names(doc: object) -> Iterator[str]:
    """Every `properties[].name` of a CycloneDX document (components, nested ones, metadata, findings)."""
    if isinstance(doc, dict):
        for p in doc.get("properties") or ():
            if isinstance(p, dict) and "name" in p:
                yield p["name"]
        for v in doc.values():
            yield from _property_names(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _property_names(v)


def _unknown(names: Set[str]) -> Set[str]:
    """The names neither a vocabulary constant nor built by a function (a prefix alone is no name)."""
    consts = {v for v in _constants().values() if not str(v).endswith(":")}
    patterns = _patterns().values()
    return {n for n in names if n not in consts and not any(p.match(n) for p in patterns)}


def test_golden_documents_use_only_vocabulary_names():
    files = sorted(GOLDEN.rglob("*.json"))
    assert len(files) >= 80, "golden documents not found"
    names: Set[str] = set()
    for f in files:
        names.update(_property_names(json.loads(f.read_text(encoding="utf-8"))))
    assert len(names) > 150
    # Both kinds of names are exercised: constants and names built by a function.
    assert "cbom:device-type" in names and any(n.startswith("cbom:net:identity:") for n in names)
    assert _unknown(names) == set()


def test_unknown_names_are_caught():
    assert _unknown({"cbom:device-type", "cbom:net:identity:ssh-banner"}) == set()
    assert _unknown({"cbom:devicetype", "cbom:net:identity:", "cdx:device:mac"}) == {
        "cbom:devicetype", "cbom:net:identity:", "cdx:device:mac"}


def test_document_metadata_uses_only_vocabulary_names():
    """The scan-level names the golden files leave out (collector runs, finish time) too."""
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    scan = Scan(id="urn:uuid:0", started=when, tool_version="0", finished=when,
                host=Host(name="h", model="M", serial="S", properties=(("cbom:capture:malformed:dnp3", "1"),)),
                runs=(CollectorRun("hardware.dmi", Status.PARTIAL, 1.0, "why", 3, ("a gap",)),),
                properties=(("cbom:scan:privilege", "unprivileged"),))
    names = set(_property_names(cyclonedx.to_dict(scan)))
    assert "cbom:collector:hardware.dmi:gap" in names and "cbom:scan:finished" in names
    assert _unknown(names) == set()
