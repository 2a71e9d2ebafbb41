"""`cbom diff` on CycloneDX documents other tools wrote (issue 7: "works on CycloneDX files
produced by other tools too (Syft, cyclonedx-py, Trivy JSON output), for the components they
have, with a note that categories they lack are not compared").

Syft and Trivy cannot run here (offline, no binaries): the fixtures are real outputs those
tools produced, kept as test data in their own repositories and copied byte for byte
(tests/fixtures/diff/SOURCES.md). cyclonedx-py documents are tested in test_diff.py.

What these files carry that a cbom scan does not: a redacted `"timestamp": "timestamp:redacted"`
and `"serialNumber": "urn:uuid:redacted"`, a purl field that is no purl (`"a-purl-2"`), two
components sharing the bom-ref `"redacted"`, a component without bom-ref, `metadata.tools` in
the 1.4 array form and the 1.5+ object form, spec versions 1.5 and 1.7, an RPM epoch in a purl
qualifier.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cbom.cli import main

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "diff"
# Two versions of syft's TestCycloneDxDirectoryEncoder.golden (commits 0d40f44 and 16433d6).
SYFT_OLD = FIX / "syft" / "dir-encoder-0d40f44.cdx.json"
SYFT_NEW = FIX / "syft" / "dir-encoder-16433d6.cdx.json"
TRIVY = FIX / "trivy" / "centos-7-cyclonedx.json"
ABSENT = ("hardware, firmware, network-interface, listening-service, observed-host, "
          "observed-protocol, crypto, security-posture")


def _cli(*argv: str, capsys) -> tuple:
    rc = main(["diff", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def _real(*argv: str) -> subprocess.CompletedProcess:
    """The real command, as an auditor runs it."""
    return subprocess.run([sys.executable, "-m", "cbom", "diff", *argv], capture_output=True, text=True, timeout=60)


def _bump_openssl(tmp_path: Path) -> Path:
    """The Trivy document after `yum update openssl-libs` to 1:1.0.2k-19.el7, the version Trivy's own
    CVE-2019-1559 record for this image recommends (integration/testdata/centos-7-cyclonedx.json.golden):
    every place Trivy writes the version (version, purl, bom-ref, PkgID, SrcRelease, dependencies)."""
    text = TRIVY.read_text(encoding="utf-8")
    new = (text.replace("openssl-libs@1.0.2k-16.el7", "openssl-libs@1.0.2k-19.el7")
               .replace('"version": "1.0.2k-16.el7"', '"version": "1.0.2k-19.el7"')
               .replace('"value": "16.el7"', '"value": "19.el7"'))
    assert new.count("1.0.2k-19.el7") == 5 and "16.el7" not in new
    p = tmp_path / "centos-7-after-update.json"
    p.write_text(new, encoding="utf-8")
    return p


# --- Syft -----------------------------------------------------------------------------------------


def test_syft_two_versions_of_one_golden_real_command():
    """Between the two commits syft renamed nothing and changed no package: it added the
    `syft:distro:extendedSupport` property to the OS component, gave each package a real bom-ref
    (was "redacted", twice) and the OS one ("os:debian@1.2.3", was none), moved to spec 1.7 and the
    1.5+ tools object. Only the property is a difference of the inventory."""
    p = _real("--format", "json", str(SYFT_OLD), str(SYFT_NEW))
    assert (p.returncode, p.stderr) == (1, "")
    d = json.loads(p.stdout)
    assert d["old"]["tool"] == d["new"]["tool"] == "syft v0.42.0-bogus"
    assert (d["old"]["specVersion"], d["new"]["specVersion"]) == ("1.5", "1.7")
    # "timestamp:redacted" is no date: read as absent, not an error.
    assert d["old"]["timestamp"] == d["new"]["timestamp"] == ""
    assert d["old"]["serialNumber"] == "urn:uuid:redacted"
    assert d["old"]["categories"] == d["new"]["categories"] == {"operating-system": 1, "software": 2}
    assert d["summary"] == {"added": 0, "removed": 0, "changed": 1, "notable": 0,
                            "findings_added": 0, "findings_removed": 0, "host_changed": 0}
    cats = {c["category"]: c for c in d["categories"]}
    assert set(cats) == {"operating-system", "software"}
    sw = cats["software"]
    # package-1's purl is "a-purl-2" (no purl): matched by name, not added + removed.
    assert (sw["added"], sw["removed"], sw["changed"]) == ([], [], [])
    (ch,) = cats["operating-system"]["changed"]
    assert (ch["name"], ch["old"]["version"], ch["new"]["version"], ch["version"]) == ("debian", "1.2.3", "1.2.3", None)
    assert ch["fields"] == [{"field": "property:syft:distro:extendedSupport", "old": "", "new": "false"}]
    assert d["duplicates"] == [] and d["host"] == []


def test_syft_each_version_against_itself(capsys):
    for f in (SYFT_OLD, SYFT_NEW):
        rc, out, err = _cli("--format", "json", str(f), str(f), capsys=capsys)
        d = json.loads(out)
        assert (rc, err, d["identical"]) == (0, "", True)


def test_syft_reversed_is_the_property_removed(capsys):
    rc, out, _ = _cli("--format", "json", str(SYFT_NEW), str(SYFT_OLD), capsys=capsys)
    d = json.loads(out)
    assert rc == 1 and d["summary"]["changed"] == 1 and d["summary"]["added"] == d["summary"]["removed"] == 0
    (ch,) = next(c for c in d["categories"] if c["category"] == "operating-system")["changed"]
    assert ch["fields"] == [{"field": "property:syft:distro:extendedSupport", "old": "false", "new": ""}]


# --- Trivy ----------------------------------------------------------------------------------------


def test_trivy_against_itself_exit_0_real_command():
    p = _real(str(TRIVY), str(TRIVY))
    assert (p.returncode, p.stderr) == (0, "")
    assert "No differences" in p.stdout
    assert "trivy dev, 3 components" in p.stdout


def test_trivy_package_upgrade_classified_by_rpm(tmp_path):
    new = _bump_openssl(tmp_path)
    p = _real("--format", "json", str(TRIVY), str(new))
    assert (p.returncode, p.stderr) == (1, "")
    d = json.loads(p.stdout)
    assert d["old"]["tool"] == "trivy dev" and d["old"]["timestamp"] == "2022-06-14T15:08:48Z"
    assert d["summary"]["added"] == d["summary"]["removed"] == 0 and d["summary"]["changed"] == 1
    sw = next(c for c in d["categories"] if c["category"] == "software")
    (ch,) = sw["changed"]
    assert ch["identity"] == "pkg:rpm/centos/openssl-libs?arch=x86_64"
    assert ch["version"] == {"old": "1.0.2k-16.el7", "new": "1.0.2k-19.el7", "ecosystem": "rpm", "change": "upgrade"}
    assert ch["fields"] == [
        {"field": "version", "old": "1.0.2k-16.el7", "new": "1.0.2k-19.el7"},
        {"field": "property:aquasecurity:trivy:PkgID", "old": "openssl-libs@1.0.2k-16.el7.x86_64",
         "new": "openssl-libs@1.0.2k-19.el7.x86_64"},
        {"field": "property:aquasecurity:trivy:SrcRelease", "old": "16.el7", "new": "19.el7"},
    ]
    assert d["notable"] == []  # an upgrade is not notable


def test_trivy_downgrade_is_notable(tmp_path, capsys):
    new = _bump_openssl(tmp_path)
    rc, out, err = _cli(str(new), str(TRIVY), capsys=capsys)
    assert (rc, err) == (1, "")
    assert "openssl-libs                             1.0.2k-19.el7 → 1.0.2k-16.el7  [DOWNGRADE]" in out
    assert "MEDIUM   software           software downgraded: openssl-libs 1.0.2k-19.el7 → 1.0.2k-16.el7" in out


# --- the note, exit codes -------------------------------------------------------------------------


@pytest.mark.parametrize("old,new", [(SYFT_OLD, SYFT_NEW), (TRIVY, TRIVY)], ids=["syft", "trivy"])
def test_note_categories_not_compared_text_and_json(old, new, capsys):
    tool = "syft v0.42.0-bogus" if old == SYFT_OLD else "trivy dev"
    note = (f"categories not compared: {ABSENT}: neither OLD ({tool}) nor NEW ({tool}) "
            "has components of these categories")
    rc, out, err = _cli("--format", "json", str(old), str(new), capsys=capsys)
    assert err == "" and note in json.loads(out)["notes"]
    rc, out, err = _cli(str(old), str(new), capsys=capsys)
    assert err == "" and f"Notes\n  - {note}\n" in out


def test_trivy_against_syft_and_cbom_scan(capsys):
    """Two different tools, and a tool against a cbom scan: no traceback, exit 1, notes say why."""
    rc, out, err = _cli("--format", "json", str(TRIVY), str(SYFT_NEW), capsys=capsys)
    assert (rc, err) == (1, "")
    d = json.loads(out)
    sw = next(c for c in d["categories"] if c["category"] == "software")
    assert sorted(x["name"] for x in sw["removed"]) == ["bash", "openssl-libs"]
    assert sorted(x["name"] for x in sw["added"]) == ["package-1", "package-2"]
    rc, out, err = _cli("--format", "json", str(FIX / "thishost.cdx.json"), str(TRIVY), capsys=capsys)
    assert (rc, err) == (1, "")
    notes = json.loads(out)["notes"]
    assert "hardware: not compared: NEW (trivy dev) has no hardware components" in notes
    assert any(n.startswith("categories not compared: ") for n in notes)


@pytest.mark.parametrize("fmt", ["text", "json", "html"])
def test_no_traceback_any_format(fmt, capsys):
    for old, new in ((SYFT_OLD, SYFT_NEW), (TRIVY, TRIVY), (SYFT_OLD, TRIVY)):
        rc, out, err = _cli("--format", fmt, str(old), str(new), capsys=capsys)
        assert err == "" and "Traceback" not in out
        assert rc == (0 if old == new else 1)


def test_truncated_trivy_document_exit_2(tmp_path):
    cut = tmp_path / "cut.json"
    cut.write_bytes(TRIVY.read_bytes()[:2000])
    p = _real(str(TRIVY), str(cut))
    assert p.returncode == 2 and p.stdout == "" and len(p.stderr.splitlines()) == 1
    assert p.stderr.startswith(f"cbom diff: {cut}: ") and "truncated" in p.stderr
