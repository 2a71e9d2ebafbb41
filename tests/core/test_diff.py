"""`cbom diff` on real CycloneDX documents: a scan of this machine edited the way a machine
changes between two audits, real cyclonedx-py documents of a venv before/after pip changes,
and every kind of bad input.

tests/fixtures/diff/thishost.cdx.json is a real `cbom scan` of the development VM (software
trimmed to 16 packages); see tests/fixtures/diff/SOURCES.md.
"""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cbom import cyclonedx
from cbom.cli import main
from cbom.diff import diff_scans, read_scan, split_purl, to_json, write_text
from cbom.model import Category

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "diff"
BASE = FIX / "thishost.cdx.json"


def _doc() -> dict:
    return json.loads(BASE.read_text(encoding="utf-8"))


def _cat(c: dict) -> str:
    return next(p["value"] for p in c["properties"] if p["name"] == "cbom:category")


def _find(doc: dict, name: str, cat: str = "software") -> dict:
    return next(c for c in doc["components"] if c["name"] == name and _cat(c) == cat)


def _prop(c: dict, name: str, value: str) -> None:
    for p in c["properties"]:
        if p["name"] == name:
            p["value"] = value
            return
    c["properties"].append({"name": name, "value": value})


def _write(tmp_path: Path, name: str, doc: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return str(path)


def _run(argv, capsys):
    rc = main(["diff", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def _changed_scan() -> dict:
    """The same machine at the next visit: what an auditor should be told about."""
    doc = _doc()
    doc["serialNumber"] = "urn:uuid:5d0c3f5e-8d7e-4b8a-9a39-2f4f6c0a0b11"
    doc["metadata"]["timestamp"] = "2026-12-01T09:00:00Z"
    comps = doc["components"]
    # zstd upgraded (Debian revision), openssl downgraded, adduser removed.
    z = _find(doc, "zstd")
    z["version"] = "1.5.4+dfsg2-6"
    z["purl"] = z["purl"].replace("1.5.4%2Bdfsg2-5", "1.5.4%2Bdfsg2-6")
    o = _find(doc, "openssl")
    old_v = o["version"]
    o["version"] = "3.0.11-1~deb12u1"
    o["purl"] = o["purl"].replace(old_v.replace("+", "%2B"), "3.0.11-1~deb12u1")
    comps.remove(_find(doc, "adduser"))
    # A package installed: the Debian s7 PLC library (real Debian package name and version).
    comps.append({
        "type": "library", "bom-ref": "software:0123456789abcdef", "name": "libsnap7-1", "version": "1.4.2-1",
        "purl": "pkg:deb/debian/libsnap7-1@1.4.2-1?arch=amd64&distro=debian-12",
        "properties": [{"name": "cbom:category", "value": "software"},
                       {"name": "cbom:package-manager", "value": "dpkg"}],
    })
    # Microcode rolled back.
    fw = _find(doc, "CPU microcode", "firmware")
    fw["version"] = "0x1000054"
    # A Modbus server listening on all addresses.
    svc = copy.deepcopy(next(c for c in comps if _cat(c) == "listening-service"))
    svc["bom-ref"] = "listening-service:aaaaaaaaaaaaaaaa"
    svc["name"] = "modbusd"
    _prop(svc, "cbom:port", "502")
    _prop(svc, "cbom:process", "modbusd")
    comps.append(svc)
    # eth0 got a new MAC (adapter replaced), and counters moved (volatile: not reported).
    eth0 = _find(doc, "eth0", "network-interface")
    _prop(eth0, "cdx:device:macAddress", "02:fc:00:00:00:99")
    _prop(eth0, "cbom:rx-packets", "123456")
    # The storage disk was swapped for one of a new serial in the same place.
    disk = _find(doc, "vda", "hardware")
    _prop(disk, "cdx:device:serialNumber", "S5GXNX0R812345")
    return doc


def test_identical_scans_exit_0(tmp_path, capsys):
    doc = _doc()
    other = copy.deepcopy(doc)
    other["serialNumber"] = "urn:uuid:5d0c3f5e-8d7e-4b8a-9a39-2f4f6c0a0b11"  # volatile
    other["metadata"]["timestamp"] = "2026-12-01T09:00:00Z"
    rc, out, err = _run([str(BASE), _write(tmp_path, "b.json", other)], capsys)
    assert (rc, err) == (0, "")
    assert "No differences" in out
    rc, out, _ = _run(["--all", str(BASE), _write(tmp_path, "b.json", other)], capsys)
    assert rc == 1
    assert "bom:serialNumber" in out and "bom:timestamp" in out


def test_realistic_changes_text(tmp_path, capsys):
    new = _write(tmp_path, "new.json", _changed_scan())
    rc, out, err = _run([str(BASE), new], capsys)
    assert (rc, err) == (1, "")
    notable = out.split("Notable changes (", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    assert [line.split()[0] for line in notable] == ["HIGH", "HIGH", "MEDIUM", "MEDIUM", "MEDIUM"]
    text = "\n".join(notable)
    assert "firmware downgraded: CPU microcode 0x1000065 → 0x1000054" in text
    assert "hardware swapped in the same place: cdx:device:serialNumber (none) → S5GXNX0R812345" in text
    assert "interface eth0 MAC changed 02:fc:00:00:00:01 → 02:fc:00:00:00:99" in text
    assert "new listening service tcp/502 (modbusd) on 0.0.0.0" in text
    assert "software downgraded: openssl 3.0.19-1~deb12u2 → 3.0.11-1~deb12u1" in text
    assert "  software                  1        1        2" in out
    assert "~ zstd                                     1.5.4+dfsg2-5 → 1.5.4+dfsg2-6  [upgrade]" in out
    assert "rx-packets" not in out  # volatile


def test_realistic_changes_json(tmp_path, capsys):
    new = _write(tmp_path, "new.json", _changed_scan())
    rc, out, _ = _run(["--format", "json", str(BASE), new], capsys)
    assert rc == 1
    d = json.loads(out)
    assert d["schema"] == "cbom-diff/1" and d["identical"] is False
    assert d["summary"] == {"added": 2, "removed": 1, "changed": 5, "notable": 5,
                            "findings_added": 0, "findings_removed": 0, "host_changed": 0}
    cats = {c["category"]: c for c in d["categories"]}
    sw = cats["software"]
    assert [c["name"] for c in sw["added"]] == ["libsnap7-1"]
    assert [(c["identity"], c["version"]) for c in sw["removed"]] == [("pkg:deb/debian/adduser?arch=all", "3.134")]
    versions = {c["name"]: c["version"] for c in sw["changed"]}
    assert versions["openssl"] == {"old": "3.0.19-1~deb12u2", "new": "3.0.11-1~deb12u1",
                                   "ecosystem": "debian", "change": "downgrade"}
    assert versions["zstd"]["change"] == "upgrade"
    assert cats["firmware"]["changed"][0]["version"]["change"] == "downgrade"
    (eth0,) = cats["network-interface"]["changed"]
    assert eth0["fields"] == [{"field": "property:cdx:device:macAddress", "old": "02:fc:00:00:00:01",
                               "new": "02:fc:00:00:00:99"}]
    assert [c["name"] for c in cats["listening-service"]["added"]] == ["tcp/502 (modbusd) on 0.0.0.0"]
    assert d["old"]["tool"] == "cbom 0.1.0" and d["new"]["timestamp"] == "2026-12-01T09:00:00Z"
    # With --all the counter shows up.
    rc, out, _ = _run(["--format", "json", "--all", str(BASE), new], capsys)
    eth0 = next(c for c in json.loads(out)["categories"] if c["category"] == "network-interface")["changed"][0]
    assert {"field": "property:cbom:rx-packets", "old": "", "new": "123456"} in eth0["fields"]


def test_output_file_and_html_pdf(tmp_path, capsys):
    new = _write(tmp_path, "new.json", _changed_scan())
    out_json = tmp_path / "d.json"
    rc, out, err = _run([str(BASE), new, "--format", "json", "-o", str(out_json)], capsys)
    assert (rc, out, err) == (1, "", "")
    assert json.loads(out_json.read_text())["summary"]["notable"] == 5
    html = tmp_path / "d.html"
    assert _run([str(BASE), new, "--format", "html", "-o", str(html)], capsys)[0] == 1
    page = html.read_text(encoding="utf-8")
    assert "firmware downgraded: CPU microcode 0x1000065 → 0x1000054" in page
    assert "http" not in page.split("<body>", 1)[1].replace("http://", "")  # nothing fetched
    rc, _, err = _run([str(BASE), new, "--format", "pdf"], capsys)
    assert rc == 2 and err == "cbom diff: --format pdf needs -o FILE (PDF is not written to a terminal)\n"


@pytest.mark.slow
def test_pdf(tmp_path, capsys):
    new = _write(tmp_path, "new.json", _changed_scan())
    pdf = tmp_path / "d.pdf"
    rc, _, err = _run([str(BASE), new, "--format", "pdf", "-o", str(pdf)], capsys)
    assert (rc, err) == (1, "")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "firmware downgraded: CPU microcode" in text


def test_html_escapes_hostile_names(tmp_path, capsys):
    doc = _doc()
    doc["components"].append({"type": "library", "name": "<script>alert(1)</script>", "version": "1",
                              "properties": [{"name": "cbom:category", "value": "software"}]})
    rc, out, _ = _run([str(BASE), _write(tmp_path, "b.json", doc), "--format", "html"], capsys)
    assert rc == 1 and "<script>alert" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out


def test_secure_boot_off_and_new_protocol_and_host(tmp_path, capsys):
    old, new = _doc(), _doc()
    for d, state in ((old, "enabled"), (new, "disabled")):
        d["metadata"]["component"].setdefault("properties", []).append({"name": "cbom:secure-boot", "value": state})
    new["components"] += [
        {"type": "data", "name": "S7comm", "properties": [{"name": "cbom:category", "value": "observed-protocol"}]},
        {"type": "device", "name": "192.0.2.50", "properties": [
            {"name": "cbom:category", "value": "observed-host"}, {"name": "cdx:device:macAddress", "value": "00:1b:1b:12:34:56"},
            {"name": "cbom:ipv4", "value": "192.0.2.50"}]},
    ]
    rc, out, _ = _run(["--format", "json", _write(tmp_path, "a.json", old), _write(tmp_path, "b.json", new)], capsys)
    notable = [(n["severity"], n["id"]) for n in json.loads(out)["notable"]]
    assert notable == [("high", "CBOM-DIFF-SECUREBOOT-OFF"), ("high", "CBOM-DIFF-NEW-PROTOCOL"),
                       ("medium", "CBOM-DIFF-NEW-HOST")]


def test_duplicates_reported_not_crashed(tmp_path, capsys):
    doc = _doc()
    doc["components"].append(copy.deepcopy(_find(doc, "zstd")))
    rc, out, err = _run([str(BASE), _write(tmp_path, "b.json", doc), "--format", "json"], capsys)
    d = json.loads(out)
    assert err == "" and rc == 1  # one zstd more than before
    assert d["duplicates"] == [{"side": "new", "category": "software", "identity": "pkg:deb/debian/zstd?arch=amd64",
                                "version": "1.5.4+dfsg2-5", "count": 2}]


def test_two_installed_versions_of_one_package_pair_by_version():
    # rpm keeps several kernels installed: the same identity, different versions.
    def kernel(v):
        return {"type": "library", "name": "kernel", "version": v, "purl": f"pkg:rpm/redhat/kernel@{v}?arch=x86_64",
                "properties": [{"name": "cbom:category", "value": "software"}]}

    base = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}
    old = dict(base, components=[kernel("5.14.0-362.8.1.el9_3"), kernel("5.14.0-362.13.1.el9_3")])
    new = dict(base, components=[kernel("5.14.0-362.13.1.el9_3"), kernel("5.14.0-362.18.1.el9_3")])
    d = diff_scans(cyclonedx.from_dict(old), cyclonedx.from_dict(new))
    sw = d.categories[0]
    assert [c.version for _, c in sw.added] == [] and [c.version for _, c in sw.removed] == []
    (ch,) = sw.changed
    assert (ch.old.version, ch.new.version, ch.version_change) == ("5.14.0-362.8.1.el9_3", "5.14.0-362.18.1.el9_3", "upgrade")


# --- third-party documents ------------------------------------------------------------------------


def test_cyclonedx_py_documents(capsys):
    a, b, c = (str(FIX / "cyclonedx-py" / f"venv-{x}.cdx.json") for x in "abc")
    rc, out, err = _run(["--format", "json", a, b], capsys)
    assert (rc, err) == (1, "")
    d = json.loads(out)
    assert d["old"]["tool"].startswith("cyclonedx-py ")
    sw = d["categories"][0]
    assert {c["name"]: c["version"]["change"] for c in sw["changed"]} == {"pip": "downgrade", "setuptools": "upgrade"}
    rc, out, _ = _run(["--format", "json", a, c], capsys)
    sw = json.loads(out)["categories"][0]
    assert [x["name"] for x in sw["removed"]] == ["setuptools"]


def test_third_party_against_cbom_notes_categories_not_compared(capsys):
    rc, out, _ = _run(["--format", "json", str(BASE), str(FIX / "cyclonedx-py" / "venv-a.cdx.json")], capsys)
    d = json.loads(out)
    compared = {c["category"]: c["compared"] for c in d["categories"]}
    assert compared == {"hardware": False, "firmware": False, "software": True, "network-interface": False,
                        "listening-service": False}
    assert "hardware: not compared: NEW (cyclonedx-py 7.5.0) has no hardware components" in d["notes"]


@pytest.mark.live
@pytest.mark.slow
def test_cyclonedx_py_live(tmp_path, capsys):
    """Two real cyclonedx-py documents of one venv, before and after removing a package."""
    exe = Path(sys.executable).parent / "cyclonedx-py"
    if not exe.exists():
        pytest.skip("cyclonedx-py (pip install cyclonedx-bom) not installed in this venv")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    subprocess.run([str(exe), "environment", "-o", str(tmp_path / "a.json"), py], check=True, capture_output=True)
    subprocess.run([py, "-m", "pip", "uninstall", "-q", "-y", "setuptools"], check=True, capture_output=True)
    subprocess.run([str(exe), "environment", "-o", str(tmp_path / "b.json"), py], check=True, capture_output=True)
    rc, out, _ = _run(["--format", "json", str(tmp_path / "a.json"), str(tmp_path / "b.json")], capsys)
    d = json.loads(out)
    assert rc == 1 and d["summary"]["removed"] == 1 and d["summary"]["changed"] == 0
    assert d["categories"][0]["removed"][0]["name"] == "setuptools"


# --- bad input ------------------------------------------------------------------------------------


def _bad(tmp_path, name, content):
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(p)


@pytest.mark.parametrize("content,message", [
    (b"", "empty file"),
    ("{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"components\": [{\"name\": ", "truncated (line 1"),
    ("hello", "not valid JSON (line 1, column 1"),
    ("[1, 2]", "not a CycloneDX document (a JSON array without \"bomFormat\": \"CycloneDX\")"),
    ("{\"spdxVersion\": \"SPDX-2.3\"}", "not a CycloneDX document (a JSON object without"),
    ("{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.1\"}", "CycloneDX spec version 1.1 is not supported"),
    ("{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"2.0\"}", "CycloneDX spec version 2.0 is not supported"),
    ("{\"bomFormat\": \"CycloneDX\"}", "CycloneDX spec version (missing) is not supported"),
    ("{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"components\": 5}", "malformed CycloneDX 1.6"),
    (b"\xff\xfe{\x00", "not UTF-8"),
])
def test_bad_input_one_line_exit_2(tmp_path, capsys, content, message):
    bad = _bad(tmp_path, "bad.json", content)
    for argv in ([bad, str(BASE)], [str(BASE), bad]):
        rc, out, err = _run(argv, capsys)
        assert rc == 2 and out == ""
        assert err.startswith(f"cbom diff: {bad}: ") and err.count("\n") == 1, err
        assert message in err, err


def test_missing_file_and_directory(tmp_path, capsys):
    rc, _, err = _run([str(tmp_path / "nope.json"), str(BASE)], capsys)
    assert (rc, err) == (2, f"cbom diff: {tmp_path / 'nope.json'}: no such file\n")
    rc, _, err = _run([str(tmp_path), str(BASE)], capsys)
    assert (rc, err) == (2, f"cbom diff: {tmp_path}: is a directory, not a CycloneDX file\n")


def test_different_machines_refused_unless_force(tmp_path, capsys):
    other = _doc()
    other["metadata"]["component"]["name"] = "hmi-line-2"
    path = _write(tmp_path, "other.json", other)
    rc, out, err = _run([str(BASE), path], capsys)
    assert rc == 2 and out == ""
    assert err == (f"cbom diff: {BASE} and {path} are scans of different machines: host names differ "
                   f"(testhost vs hmi-line-2) (use --force to diff anyway)\n")
    rc, out, err = _run(["--force", str(BASE), path], capsys)
    assert rc == 1 and err == ""
    assert "different machines (host names differ (testhost vs hmi-line-2)); compared because of --force" in out
    # Serial numbers decide over names.
    _prop(other["metadata"]["component"], "cdx:device:serialNumber", "CZC9999ABC")
    path = _write(tmp_path, "other.json", other)
    a = _doc()
    _prop(a["metadata"]["component"], "cdx:device:serialNumber", "CZC1234XYZ")
    rc, _, err = _run([_write(tmp_path, "a.json", a), path], capsys)
    assert rc == 2 and "serial numbers differ (CZC1234XYZ vs CZC9999ABC)" in err


def test_no_traceback_in_a_real_process(tmp_path):
    bad = _bad(tmp_path, "t.json", BASE.read_bytes()[:5000])
    r = subprocess.run([sys.executable, "-m", "cbom", "diff", str(BASE), bad], capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr and "truncated" in r.stderr


# --- pieces ---------------------------------------------------------------------------------------


def test_split_purl_agrees_with_packageurl_python():
    from packageurl import PackageURL

    purls = [c.purl for c in read_scan(str(BASE)).scan.components if c.purl]
    purls += ["pkg:deb/debian/bsdutils@2.33.1-0.1?arch=amd64&distro=debian-10.2&epoch=1",
              "pkg:npm/%40angular/core@16.2.0", "pkg:pypi/Django_Rest-Framework@3.14.0",
              "pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25",
              "pkg:golang/github.com/gorilla/context@234fd47e07d1004f0aed9c#api"]
    for purl in purls:
        ref = PackageURL.from_string(purl)
        typ, ns, name, version, quals = split_purl(purl)
        assert (typ, version, quals) == (ref.type, ref.version or "", dict(ref.qualifiers or {})), purl
        assert name.lower() == ref.name.lower().replace("_", "-") or name == ref.name, purl
        assert ns.lower() == (ref.namespace or "").lower(), purl


def test_diff_of_real_scan_with_itself_is_empty():
    s = read_scan(str(BASE))
    d = diff_scans(s.scan, s.scan)
    assert d.identical and not d.duplicates
    assert write_text(d).splitlines()[3].startswith("No differences")
    assert to_json(d)["summary"]["changed"] == 0
    assert {c.category for c in d.categories} == {Category.HARDWARE, Category.FIRMWARE, Category.SOFTWARE,
                                                  Category.NETWORK_INTERFACE, Category.LISTENING_SERVICE}
