"""Files that are not CycloneDX JSON, as `cbom validate`, `report` and `diff` see them (issue 18).

- NaN / Infinity: Python's json reads them as floats, RFC 8259 (section 6) forbids them: `validate`
  calls the document invalid (exit 1) saying where, `report` and `diff` refuse it (exit 2).
- SPDX (JSON with "spdxVersion", or tag-value) and other JSON without "bomFormat": not CycloneDX,
  so `validate` cannot tell (exit 2, "unreadable or unsupported"), never "invalid" (exit 1).
"""
from __future__ import annotations

import json

import pytest
from conftest import REPO, run_cbom

GOLDEN = REPO / "tests" / "golden" / "ingest" / "linux-cpuinfo.json"  # a real CycloneDX 1.6 CBOM

# The opening of an SPDX 2.3 document in its two encodings (SPDX specification 2.3, clause 6 and annex).
SPDX_JSON = {
    "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
    "name": "cbom-test", "documentNamespace": "https://spdx.org/spdxdocs/cbom-test-1",
    "creationInfo": {"created": "2024-01-01T00:00:00Z", "creators": ["Tool: cbom-test"]},
    "packages": [{"SPDXID": "SPDXRef-openssl", "name": "openssl", "downloadLocation": "NOASSERTION"}],
}
SPDX_TAG_VALUE = """## Document Information
SPDXVersion: SPDX-2.3
DataLicense: CC0-1.0
SPDXID: SPDXRef-DOCUMENT
DocumentName: cbom-test
DocumentNamespace: https://spdx.org/spdxdocs/cbom-test-1
Creator: Tool: cbom-test
Created: 2024-01-01T00:00:00Z
"""


def _with_literal(tmp_path, literal: str):
    """The golden CBOM with the first component's name replaced by a bare `literal` (NaN...)."""
    text = GOLDEN.read_text(encoding="utf-8")
    doc = json.loads(text)
    name = json.dumps(doc["components"][0]["name"])
    assert text.count(name) >= 1
    out = tmp_path / "odd.cdx.json"
    out.write_text(text.replace(f'"name": {name}', f'"name": {literal}', 1), encoding="utf-8")
    before = text[:text.index(f'"name": {name}')]
    return out, before.count("\n") + 1, len(before) - before.rfind("\n") + len('"name": ')


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_validate_calls_nan_invalid_and_says_where(tmp_path, literal):
    path, line, column = _with_literal(tmp_path, literal)
    proc = run_cbom("validate", str(path))
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert proc.stdout == (f"{path}: not valid JSON (line {line}, column {column}: {literal} is not a JSON "
                           "value, RFC 8259)\n")


def test_nan_inside_a_string_is_text(tmp_path):
    text = GOLDEN.read_text(encoding="utf-8")
    doc = json.loads(text)
    doc["components"][0]["name"] = "NaN Infinity"
    path = tmp_path / "ok.cdx.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    proc = run_cbom("validate", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_report_and_diff_refuse_nan(tmp_path):
    path, line, column = _with_literal(tmp_path, "NaN")
    out = tmp_path / "out"
    proc = run_cbom("report", str(path), "--format", "html", "-o", str(out))
    assert proc.returncode == 2
    assert proc.stderr == (f"cbom report: {path}: not valid JSON (line {line}, column {column}: NaN is not a "
                           "JSON value, RFC 8259)\n")
    assert not out.exists()
    proc = run_cbom("diff", str(GOLDEN), str(path))
    assert proc.returncode == 2
    assert f"{path}: not valid JSON (line {line}, column {column}: NaN" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr


@pytest.mark.parametrize("name, content, message", [
    ("sbom.spdx.json", json.dumps(SPDX_JSON, indent=2), "an SPDX document (SPDX-2.3)"),
    ("sbom.spdx", SPDX_TAG_VALUE, "an SPDX tag-value document, not CycloneDX JSON"),
    ("other.json", '{"hello": "world"}', 'not a CycloneDX document (a JSON object without "bomFormat"'),
    ("list.json", "[1, 2]", "not a CycloneDX document (a JSON array"),
])
def test_validate_says_not_cyclonedx_exit_2(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    proc = run_cbom("validate", str(path))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == "" and message in proc.stderr and len(proc.stderr.splitlines()) == 1
    proc = run_cbom("report", str(path), "--format", "html", "-o", str(tmp_path / "out"))
    assert proc.returncode == 2 and message in proc.stderr
