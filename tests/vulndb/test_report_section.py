"""The report's "Known vulnerabilities and end of life" section, from a real recorded Windows 7
machine matched against the real WES-NG definitions and endoflife.date data of tests/fixtures/vulndb:
every CVE WES-NG's own wes.py reports for it is listed (expected/*.txt, made by wes.py), the end of
support is the one endoflife.date states, the knowledge's date is on the cover; in French nothing of
the section is left in English; a scan without a database says so."""
from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO, run_cbom
from vulndb_support import DATA, WINDOWS, dbdir  # noqa: F401 (dbdir: a fixture)

sys.path.insert(0, str(REPO / "tests" / "core"))
from test_report_fr import _catalogue, assert_french, html_text  # noqa: E402

MACHINE = "wesng-7-sp1-x64-fr"


def _pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_section_lists_what_wes_py_reports(dbdir, tmp_path):
    out = tmp_path / "out"
    proc = run_cbom("ingest", str(WINDOWS / MACHINE), "--db", str(dbdir), "--format", "json,html,pdf", "-o", str(out))
    assert proc.returncode in (0, 3), proc.stderr
    expected = set((DATA / "wesng" / "expected" / f"{MACHINE}.txt").read_text().split())
    html = (out / "cbom.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="known"'):html.index('<section id="findings"')]
    listed = set(re.findall(r"<td>(CVE-\d{4}-\d+)</td>", section))
    assert listed == expected and len(listed) > 2000
    # endoflife.date (tests/fixtures/vulndb/endoflife/windows.md): Windows 7 SP1, support ended 2020-01-14
    assert re.search(r"<td>7-sp1</td><td>2020-01-14</td>", section), section[:3000]
    pdf = _pdf_text(out / "cbom.pdf")
    assert "Known vulnerabilities and end of life" in pdf
    assert re.search(r"Vulnerability knowledge\s+knowledge as of \d{4}-\d{2}-\d{2}", pdf)
    cve_lines = {m for m in re.findall(r"^\s*(CVE-\d{4}-\d+)\s", pdf, re.M)}
    assert cve_lines == expected  # the PDF lists them all too (fewer than its 15,000-row bound)

    fr = tmp_path / "fr"
    proc = run_cbom("report", str(out / "cbom.cdx.json"), "--lang", "fr", "--format", "html,pdf", "-o", str(fr))
    assert proc.returncode == 0, proc.stderr
    doc = __import__("json").loads((out / "cbom.cdx.json").read_text(encoding="utf-8"))
    catalogue = _catalogue()
    assert_french(html_text(str(fr / "cbom.html")), doc, catalogue, "French HTML with vulnerabilities")
    text = _pdf_text(fr / "cbom.pdf")
    assert_french(text, doc, catalogue, "French PDF with vulnerabilities")
    assert "Vulnérabilités connues et fin de vie" in text and "Installer KB" in text


def test_without_database_the_section_says_so(tmp_path):
    golden = REPO / "tests" / "golden" / "capture" / "plant_mixed_modbus_s7comm_enip_profinet_lldp.json"
    proc = run_cbom("report", str(golden), "--format", "html", "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "cbom.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="known"'):html.index('<section id="findings"')]
    assert "was not matched against an offline vulnerability database" in section
    assert "none: no offline database was given" in html


def test_diff_says_which_vulnerabilities_the_updates_fixed(dbdir, tmp_path):
    """`cbom diff` of the Windows 7 recording read from its systeminfo alone (OLD), then with its
    wmic-qfe KBs (NEW): the fixed CVEs are those wes.py reports for OLD and not for NEW (both lists
    made by wes.py itself), in JSON, text, HTML and French text; a pair of which only one side was
    matched says the vulnerabilities were not compared."""
    import json
    import shutil

    src = WINDOWS / "wesng-7-sp1-x64-b"
    only_si = tmp_path / "si"
    only_si.mkdir()
    shutil.copy(src / "systeminfo.txt", only_si / "systeminfo.txt")
    for folder, out in ((only_si, "old"), (src, "new")):
        proc = run_cbom("ingest", str(folder), "--db", str(dbdir), "--format", "json", "-o", str(tmp_path / out))
        assert proc.returncode in (0, 3), proc.stderr
    old, new = str(tmp_path / "old" / "cbom.cdx.json"), str(tmp_path / "new" / "cbom.cdx.json")
    expected = set((DATA / "wesng" / "expected" / "wesng-7-sp1-x64-b.txt").read_text().split())
    after = set((DATA / "wesng" / "expected" / "wesng-7-sp1-x64-b+qfe.txt").read_text().split())
    proc = run_cbom("diff", old, new, "--format", "json", "--force")
    assert proc.returncode == 1, proc.stderr
    d = json.loads(proc.stdout)
    assert {v["id"] for v in d["vulnerabilities"]["fixed"]} == expected - after and expected - after
    assert {v["id"] for v in d["vulnerabilities"]["introduced"]} == after - expected
    text = run_cbom("diff", old, new, "--force").stdout
    fixed_lines = [line for line in text.splitlines() if "(fixed) in" in line]
    assert len(fixed_lines) == len(expected - after)
    html_path = tmp_path / "d.html"
    assert run_cbom("diff", old, new, "--force", "--format", "html", "-o", str(html_path)).returncode == 1
    assert html_path.read_text(encoding="utf-8").count("<td>fixed</td>") == len(expected - after)
    fr = run_cbom("diff", old, new, "--force", "--lang", "fr").stdout
    assert "Vulnérabilités connues" in fr and fr.count("(corrigée) dans") == len(expected - after)

    plain = tmp_path / "plain"
    assert run_cbom("ingest", str(src), "--format", "json", "-o", str(plain)).returncode in (0, 3)
    one_sided = json.loads(run_cbom("diff", str(plain / "cbom.cdx.json"), new, "--format", "json", "--force").stdout)
    assert one_sided["vulnerabilities"] == {"fixed": [], "introduced": []}
    assert any("known vulnerabilities not compared: only NEW was matched" in n for n in one_sided["notes"])
