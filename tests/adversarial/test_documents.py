"""Hostile CycloneDX documents given to `validate`, `report`, `diff` and `verify-bundle` (issue 18:
D3 unbounded reads, D5 FIFOs, D7 terminal escapes, D9 wrong-typed fields, D16 lone surrogates).

Every hostile input is made here, with the standard library, in tmp_path.
"""
from __future__ import annotations

import copy
import json
import os
import random
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any, List, Tuple

import pytest

from cbom import cyclonedx
from cbom._report_view import build_view
from cbom.diff import DiffError, diff_scans, read_scan, to_json, write_text

REPO = Path(__file__).resolve().parents[2]
DOCS = sorted((REPO / "tests" / "fixtures" / "diff").rglob("*.json")) + sorted((REPO / "tests" / "golden").rglob("*.json"))


def cbom(*args: str, timeout: float = 60, limit_as: int = 0) -> subprocess.CompletedProcess:
    """`python -m cbom ARGS`, bounded in time (a hang fails the test) and optionally in memory."""
    def limit() -> None:
        if limit_as:
            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))
    return subprocess.run([sys.executable, "-m", "cbom", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO, preexec_fn=limit, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))


def _doc(**component: Any) -> dict:
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
            "metadata": {"component": {"type": "device", "name": "h"}},
            "components": [dict({"type": "library", "name": "a", "version": "1"}, **component)]}


def _write(path: Path, doc: Any) -> str:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


@pytest.fixture
def ok(tmp_path) -> str:
    return _write(tmp_path / "ok.cdx.json", _doc())


def _non_regular(tmp_path: Path) -> List[Tuple[str, str]]:
    fifo = tmp_path / "fifo.cdx.json"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.cdx.json"
    zero.symlink_to("/dev/zero")
    return [(str(fifo), "FIFO"), (str(zero), "character device")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_fifo_and_dev_zero_are_refused_at_once(tmp_path, ok):
    """D3/D5: a FIFO blocked for ever, /dev/zero read until the OOM killer; now one line, exit 2."""
    for path, what in _non_regular(tmp_path):
        for argv in (["validate", path], ["report", path, "--format", "html"], ["diff", ok, path], ["diff", path, ok]):
            p = cbom(*argv, timeout=30, limit_as=2 << 30)
            assert p.returncode == 2, (argv, p.stderr)
            assert what in p.stderr and "refused" in p.stderr and p.stderr.count("\n") == 1, (argv, p.stderr)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_verify_bundle_cannot_tell_on_fifo_or_dev_zero_sums(tmp_path):
    """D3/D5: verify-bundle on a /dev/zero SHA256SUMS said 1 ("altered") after a MemoryError; a FIFO hung."""
    for target in ("fifo", "zero"):
        bundle = tmp_path / target
        bundle.mkdir()
        (bundle / "BUNDLE-INFO.json").write_text("{}")
        if target == "fifo":
            os.mkfifo(bundle / "SHA256SUMS")
        else:
            (bundle / "SHA256SUMS").symlink_to("/dev/zero")
        p = cbom("verify-bundle", str(bundle), timeout=30, limit_as=2 << 30)
        assert p.returncode == 2 and "refused" in p.stderr and "Traceback" not in p.stderr, p.stderr


def test_file_larger_than_the_cap_is_refused_by_name(tmp_path):
    """D3/D16: the read cap is stated, not silent: a sparse file just over it is refused before reading."""
    big = tmp_path / "big.cdx.json"
    with open(big, "wb") as f:
        f.write(b'{"bomFormat": "CycloneDX", ')
        f.truncate(cyclonedx.MAX_BYTES + 1)
    p = cbom("validate", str(big), limit_as=1 << 30)
    assert p.returncode == 2 and f"more than the {cyclonedx.MAX_BYTES:,} bytes cbom reads" in p.stderr, p.stderr


def test_truncation_check_is_linear(tmp_path):
    """D3: a 5 MB file cut inside a string took 1.2 GB in the truncation regex; 300 MB is ample now."""
    cut = tmp_path / "cut.cdx.json"
    cut.write_text('{"bomFormat": "CycloneDX", "components": [{"name": "' + "x" * 5_000_000, encoding="utf-8")
    p = cbom("validate", str(cut), limit_as=300 << 20)
    assert p.returncode == 2 and "truncated" in p.stderr and "Traceback" not in p.stderr, p.stderr[-500:]


def test_lone_surrogate_validate_report_and_diff_agree(tmp_path, ok):
    """D16: `validate` said valid, `report` and `diff` failed (UnicodeEncodeError): now all read it."""
    path = tmp_path / "lone.cdx.json"
    path.write_text(json.dumps(_doc(name="bad\\ud800name")).replace("\\\\ud800", "\\ud800"), encoding="ascii")
    assert "\\ud800" in path.read_text()
    v = cbom("validate", str(path))
    assert v.returncode == 0 and "lone UTF-16 surrogate" in v.stdout, v.stdout + v.stderr
    r = cbom("report", str(path), "--format", "html", "-o", str(tmp_path / "r"))
    assert r.returncode == 0 and "U+FFFD" in r.stderr, r.stderr
    assert "bad\ufffdname" in (tmp_path / "r" / "cbom.html").read_text(encoding="utf-8")
    for fmt in ("text", "json"):
        d = cbom("diff", ok, str(path), "--format", fmt)
        assert d.returncode == 1 and "Traceback" not in d.stderr, d.stderr


def test_diff_text_shows_escape_sequences_as_code_points(tmp_path, ok):
    """D7: clear-screen, set-title, BEL and NUL in names learned from a network reached the terminal raw."""
    hostile = "\x1b[2J\x1b[31;1mRED\x1b]0;PWNED\x07\x00\x9b2J\nforged line"
    new = _write(tmp_path / "new.cdx.json", _doc(name=hostile, version=hostile))
    p = cbom("diff", ok, new)
    assert p.returncode == 1, p.stderr
    shown = p.stdout
    assert not any(ch in shown for ch in "\x1b\x07\x00\x9b"), repr(shown)
    assert "<U+001B>[2J" in shown and "<U+0007>" in shown and "<U+0000>" in shown
    assert "\nforged line" not in shown  # a newline in a name never starts a line of its own


# --- D9: wrong-typed fields -------------------------------------------------------------------------

_VALUES = [None, 0, -1, 1.5, 1e308, True, "", "x", "\x1b[2J", [], [1], ["a"], {}, {"a": 1}, {"name": 5},
           [{"name": []}], "9" * 400]


def _paths(node: Any, at: Tuple = ()) -> List[Tuple]:
    out = [at]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, at + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node[:30]):  # the first entries of long lists are enough
            out += _paths(v, at + (i,))
    return out


def _mutate(doc: dict, rng: random.Random) -> dict:
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(doc) if p and p[0] not in ("bomFormat", "specVersion")]
        path = rng.choice(paths)
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        old = parent[path[-1]]
        choices = [v for v in _VALUES if type(v) is not type(old)]
        parent[path[-1]] = copy.deepcopy(rng.choice(choices))
    return doc


def test_random_type_mutations_never_raise(tmp_path):
    """D9: ~33 % of random type mutations crashed `diff` or the report builder with a traceback.

    500 mutations (fixed seed) of real documents (other tools' SBOMs, cbom's golden CBOMs): each is
    read, diffed against its original (text and JSON) and built into the report's view. A wrong-typed
    value is left out with a note or refused with a one-line error, never an exception."""
    rng = random.Random(18)
    originals = []
    for path in DOCS:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX":
            originals.append((path, doc))
    assert len(originals) >= 10, [str(p) for p in DOCS]
    refused = noted = 0
    for n in range(500):
        path, doc = originals[n % len(originals)]
        mutated = _mutate(doc, rng)
        target = _write(tmp_path / f"m{n % 7}.cdx.json", mutated)
        try:
            old, new = read_scan(str(path)), read_scan(target)
        except DiffError as exc:
            assert "\n" not in str(exc) and "TypeError" not in str(exc) and "AttributeError" not in str(exc), exc
            refused += 1
            continue
        noted += bool(new.notes)
        d = diff_scans(old.scan, new.scan, old_side=old, new_side=new, include_volatile=bool(n % 2))
        write_text(d)
        json.dumps(to_json(d))
        build_view(new.scan, "0" * 64, pdf=bool(n % 2))
    assert noted > 100 and refused < 250, (noted, refused)  # most mutations are read, with a note
