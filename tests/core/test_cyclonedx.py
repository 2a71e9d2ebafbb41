"""The CycloneDX document: schema validity by the reference library, round trip, YAML twin."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import yaml
from conftest import load_json, run_cbom

from cbom import cyclonedx, output, validate
from cbom.model import (
    Category, CollectorRun, Component, Finding, Host, Kind, Scan, Severity, Status,
)

CATEGORIES = {c.value for c in Category}


def rich_scan() -> Scan:
    """A scan exercising every field the writer maps (values taken from real machines)."""
    hw = Component(category=Category.HARDWARE, kind=Kind.DEVICE, name="SAMSUNG MZVLB512HAJQ-000L7",
                   manufacturer="Samsung", properties=(("cdx:device:serialNumber", "S3TNNX0K912345"),))
    fw = Component(category=Category.FIRMWARE, kind=Kind.FIRMWARE, name="nvme firmware", version="4L2QEXA7",
                   depends_on=(hw.ref,), properties=(("cbom:hardware-ref", hw.ref),))
    comps = (
        hw, fw,
        Component(category=Category.SOFTWARE, kind=Kind.LIBRARY, name="openssl", version="3.0.17-1~deb12u2",
                  purl="pkg:deb/debian/openssl@3.0.17-1~deb12u2?arch=amd64&distro=debian-12",
                  licenses=("Apache-2.0",), supplier="Debian OpenSSL Team",
                  properties=(("cbom:package-manager", "dpkg"),)),
        Component(category=Category.SOFTWARE, kind=Kind.LIBRARY, name="libfoo", version="1",
                  licenses=("GPL-2.0-or-later WITH Classpath-exception-2.0",)),
        Component(category=Category.SOFTWARE, kind=Kind.APPLICATION, name="Siemens TIA Portal V17",
                  version="17.0", publisher="Siemens AG", licenses=("Proprietary EULA",),
                  hashes=(("SHA-256", "a" * 64),)),
        Component(category=Category.NETWORK_INTERFACE, kind=Kind.DEVICE, name="eth0",
                  properties=(("cdx:device:macAddress", "02:42:ac:11:00:02"), ("cbom:ipv4", "192.0.2.10/24"),
                              ("cbom:ipv4", "192.0.2.11/24"))),
        Component(category=Category.OPERATING_SYSTEM, kind=Kind.OPERATING_SYSTEM, name="debian", version="12",
                  cpe="cpe:2.3:o:debian:debian_linux:12:*:*:*:*:*:*:*", description="Debian GNU/Linux 12 (bookworm)"),
    )
    return Scan(
        id="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        started=datetime(2026, 11, 23, 10, 0, 0, tzinfo=timezone.utc),
        finished=datetime(2026, 11, 23, 10, 0, 5, tzinfo=timezone.utc),
        tool_version="0.1.0", operator="Ada Auditor",
        host=Host(name="ews-01", manufacturer="Siemens AG", model="SIMATIC IPC227G", serial="SVPS1234567",
                  properties=(("cbom:dns-server", "192.0.2.53"),)),
        components=comps,
        findings=(Finding(id="CBOM-SECUREBOOT-OFF", title="Secure Boot is disabled", severity=Severity.MEDIUM,
                          detail="UEFI firmware boots unsigned code", evidence=("SecureBoot efivar = 0",),
                          refs=(fw.ref,), collector="firmware"),),
        runs=(CollectorRun("os", Status.OK, 0.012, components=1),
              CollectorRun("hardware", Status.PARTIAL, 0.5, "dmidecode needs root", 1, ("dmidecode needs root",)),
              CollectorRun("capture", Status.SKIPPED, 0.0, "needs root/Administrator")),
        properties=(("cbom:site", "Plant 3"),),
    )


@pytest.mark.parametrize("spec", ["1.6", "1.7"])
def test_document_passes_reference_strict_validator(spec):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = cyclonedx.dumps(cyclonedx.to_dict(rich_scan(), spec))
    version = SchemaVersion.V1_6 if spec == "1.6" else SchemaVersion.V1_7
    assert JsonStrictValidator(version).validate_str(text) is None
    assert validate.errors(json.loads(text)) == []


def test_reference_library_deserializes_our_document():
    from cyclonedx.model.bom import Bom

    doc = cyclonedx.to_dict(rich_scan())
    doc.pop("$schema")
    bom = Bom.from_json(doc)  # type: ignore[attr-defined]
    assert bom.serial_number.urn == "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
    assert bom.metadata.component.name == "ews-01"
    assert {c.name for c in bom.components} == {c.name for c in rich_scan().components}
    openssl = next(c for c in bom.components if c.name == "openssl")
    assert str(openssl.purl) == "pkg:deb/debian/openssl@3.0.17-1~deb12u2?arch=amd64&distro=debian-12"
    assert len(bom.vulnerabilities) == 1


def test_round_trip_is_identical():
    first = cyclonedx.dumps(cyclonedx.to_dict(rich_scan()))
    scan = cyclonedx.from_dict(json.loads(first))
    assert scan == rich_scan()
    assert cyclonedx.dumps(cyclonedx.to_dict(scan)) == first


def test_mapping_of_metadata_and_runs():
    doc = cyclonedx.to_dict(rich_scan())
    meta = doc["metadata"]
    assert doc["serialNumber"].startswith("urn:uuid:")
    assert meta["lifecycles"] == [{"phase": "operations"}]
    assert meta["tools"]["components"][0]["name"] == "cbom"
    assert meta["component"]["type"] == "device"
    props = {p["name"]: p["value"] for p in meta["component"]["properties"]}
    assert props["cdx:device:serialNumber"] == "SVPS1234567"
    run_props = {p["name"]: p["value"] for p in meta["properties"]}
    assert run_props["cbom:collector:hardware:status"] == "partial"
    assert run_props["cbom:collector:hardware:gap"] == "dmidecode needs root"
    assert run_props["cbom:collector:capture:reason"] == "needs root/Administrator"
    licences = {c["name"]: c.get("licenses") for c in doc["components"]}
    assert licences["openssl"] == [{"license": {"id": "Apache-2.0"}}]
    assert licences["libfoo"] == [{"expression": "GPL-2.0-or-later WITH Classpath-exception-2.0"}]
    assert licences["Siemens TIA Portal V17"] == [{"license": {"name": "Proprietary EULA"}}]
    fw = next(c for c in doc["components"] if c["type"] == "firmware")
    assert doc["dependencies"] == [{"ref": fw["bom-ref"], "dependsOn": [next(
        c["bom-ref"] for c in doc["components"] if c["name"].startswith("SAMSUNG"))]}]


def test_unknown_spec_version_is_refused():
    with pytest.raises(ValueError):
        cyclonedx.to_dict(rich_scan(), "1.3")


def test_real_scan_output(core_scan_dir):
    """The real scan's folder: valid JSON by the reference validator, YAML twin, SHA256SUMS right."""
    import hashlib

    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = (core_scan_dir / "cbom.cdx.json").read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    assert yaml.safe_load((core_scan_dir / "cbom.cdx.yaml").read_text(encoding="utf-8")) == doc
    for c in doc["components"]:
        cats = [p["value"] for p in c["properties"] if p["name"] == "cbom:category"]
        assert len(cats) == 1 and cats[0] in CATEGORIES, c["name"]
    sums = dict(reversed(line.split("  ")) for line in (core_scan_dir / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == {"cbom.cdx.json", "cbom.cdx.yaml", "cbom.html", "cbom.pdf"}
    for name, sha in sums.items():
        assert hashlib.sha256((core_scan_dir / name).read_bytes()).hexdigest() == sha
    assert doc["metadata"]["authors"] == [{"name": "Test Operator"}]
    assert run_cbom("validate", str(core_scan_dir / "cbom.cdx.json")).returncode == 0


def test_reader_round_trips_a_real_scan(core_scan_dir):
    text = (core_scan_dir / "cbom.cdx.json").read_text(encoding="utf-8")
    scan = cyclonedx.load(str(core_scan_dir / "cbom.cdx.json"))
    assert cyclonedx.dumps(cyclonedx.to_dict(scan)) == text
    document, errors = output.build(scan)
    assert errors == [] and document.json_text == text


@pytest.mark.parametrize("content, message", [
    (b"", "empty file"),
    (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "compo', "truncated"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"[1, 2]", "not a CycloneDX document"),
    (b'{"hello": "world"}', "not a CycloneDX document"),
    (b'{"bomFormat": "CycloneDX", "specVersion": "2.0"}', "spec version 2.0 is not supported"),
    (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [1]}',
     "malformed CycloneDX 1.6: components[0] is a number, not an object"),
])
def test_reader_rejects_bad_files_with_one_line(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(cyclonedx.ReadError) as err:
        cyclonedx.load(str(path))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_reader_leaves_out_values_of_the_wrong_type_with_a_note():
    """A name given as a number, a hash that is not an object: left out and said, never passed on."""
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.6",
           "components": [{"name": 7, "version": "1.0", "purl": ["x"], "hashes": [3]}]}
    scan, notes = cyclonedx.read_dict(doc, "f.json")
    assert [(c.name, c.version, c.purl) for c in scan.components] == [("", "1.0", "")]
    assert sorted(notes) == ["f.json: components[0].hashes[0] is a number, not an object: ignored",
                             "f.json: components[0].name is a number, not a string: ignored",
                             "f.json: components[0].purl is an array, not a string: ignored"]


def test_reader_maps_unknown_component_types_to_library():
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.7", "components": [{"type": "quantum-gadget", "name": "x"}]}
    assert cyclonedx.from_dict(doc).components[0].kind == Kind.LIBRARY


def test_reader_accepts_other_tools_documents(tmp_path):
    """A minimal third-party SBOM (no cbom properties): categories inferred from the type."""
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
           "metadata": {"component": {"type": "application", "name": "app"}},
           "components": [{"type": "library", "name": "requests", "version": "2.32.3",
                           "purl": "pkg:pypi/requests@2.32.3"},
                          {"type": "operating-system", "name": "debian", "version": "12"}]}
    scan = cyclonedx.from_dict(doc)
    assert [c.category for c in scan.components] == [Category.SOFTWARE, Category.OPERATING_SYSTEM]
    assert scan.runs == ()


def test_written_json_validates_with_cbom_validate(tmp_path):
    document, errors = output.build(rich_scan())
    assert errors == []
    paths, problems = output.write(document, tmp_path, ["json", "yaml"])
    assert problems == [] and {p.name for p in paths} == {"cbom.cdx.json", "cbom.cdx.yaml", "SHA256SUMS"}
    assert load_json(tmp_path / "cbom.cdx.json") == document.doc
    # No temp file left behind by the atomic writes.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SHA256SUMS", "cbom.cdx.json", "cbom.cdx.yaml"]
