"""The report of REAL scans, compared field by field with the CBOM JSON the scan wrote.

Two real `cbom scan` runs, once per session (subprocess, as an auditor runs them):
- this machine: `--only os,network,hardware,firmware,software`;
- the plant capture (tests/fixtures/capture/, from ../shared/captures/) (Modbus, S7comm, EtherNet/IP, PROFINET, LLDP):
  `--only capture --pcap FILE`.
Each is re-rendered with `cbom.report` from the JSON file alone (as `cbom report` does) and
read back with poppler's pdftotext; every figure checked below comes from the JSON.
"""
from __future__ import annotations

import html as htmllib
import json
import re
import os
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import REPO, assert_finished_without_failure, run_cbom

from cbom import cyclonedx, output, report
from cbom._report_view import build_view
from cbom.vocabulary import (
    CAPTURE_OUI_DATABASE,
    CAPTURE_PREFIX,
    NET_CONVERSATION,
    PACKAGE_ARCH,
    PACKAGE_MANAGER,
    PCI_IDS,
    USB_IDS,
)
from cbom.collector import ScanContext
from cbom.registry import load_collectors
from cbom.model import Category, Status
from cbom.runner import scan as run_scan
from cbom.runner import select

PLANT = REPO / "tests" / "fixtures" / "capture" / "plant_mixed_modbus_s7comm_enip_profinet_lldp.pcap"
MACHINE_AREAS = "os,network,hardware,firmware,software"

# The PDF engine must load where the tests run (CI installs it): a missing engine fails these tests,
# unless CBOM_TEST_NO_PDF=1 says it is absent on purpose (then they skip, saying why).
needs_pdf = pytest.mark.skipif(bool(os.environ.get("CBOM_TEST_NO_PDF")) and report.unavailable_reason() is not None,
                               reason=f"CBOM_TEST_NO_PDF set: {report.unavailable_reason()}")
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) not installed")
pytestmark = [needs_pdf, needs_poppler]


def _render(out: Path) -> Dict[str, object]:
    """The scan's JSON read back as `cbom report` reads it, rendered to PDF text and HTML."""
    path = out / "cbom.cdx.json"
    text = path.read_text(encoding="utf-8")
    document = output.Document(cyclonedx.load(str(path)), json.loads(text), text)
    pdf = report.render_pdf(document)
    (out / "cbom.pdf").write_bytes(pdf)
    layout = subprocess.run(["pdftotext", "-enc", "UTF-8", "-layout", str(out / "cbom.pdf"), "-"],
                            capture_output=True, check=True).stdout.decode("utf-8")
    raw = subprocess.run(["pdftotext", "-enc", "UTF-8", str(out / "cbom.pdf"), "-"],
                         capture_output=True, check=True).stdout.decode("utf-8")
    return {"document": document, "scan": document.scan, "pdf": pdf, "text": layout, "pages": layout.split("\f"),
            "raw": " ".join(raw.split()),  # reading order: a facts table's label, then its value
            "html": report.render_html(document).decode("utf-8"), "dir": out}


@pytest.fixture(scope="session")
def machine(tmp_path_factory):
    out = tmp_path_factory.mktemp("real-machine") / "out"
    proc = run_cbom("scan", "--only", MACHINE_AREAS, "--format", "json", "-o", str(out), "--operator", "pytest")
    # The whole machine: partial where this machine withholds a source (no SMBIOS table in a VM
    # without /dev/mem, no fwupd daemon, a container's hidden sockets); none may fail.
    assert_finished_without_failure(proc.returncode, json.loads((out / "cbom.cdx.json").read_text(encoding="utf-8")),
                                    proc.stderr)
    return _render(out)


@pytest.fixture(scope="session")
def plant(tmp_path_factory):
    if not PLANT.is_file():
        pytest.skip(f"{PLANT} missing")
    out = tmp_path_factory.mktemp("real-plant") / "out"
    proc = run_cbom("scan", "--only", "capture", "--pcap", str(PLANT), "--format", "json", "-o", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return _render(out)


def section(rep: Dict[str, object], title: str, until: str) -> str:
    """The PDF text from the chapter heading `title` (alone on its line) to the heading `until`."""
    text = str(rep["text"])
    start = re.search(rf"^\s*{re.escape(title)}\s*$", text, re.M)
    assert start, title
    end = re.search(rf"^\s*{re.escape(until)}\s*$", text[start.end():], re.M)
    return text[start.start(): start.end() + end.start() if end else len(text)]


def host_facts(rep, prefix: str = "") -> List[tuple]:
    return [(k, v) for k, v in rep["scan"].host.properties if k.startswith(prefix)]


# ------------------------------------------------------------------ this machine


@pytest.mark.live
class TestMachine:
    def test_every_software_arch_printed_equals_the_json(self, machine):
        """Each package line of the PDF: name, version, then the JSON's cbom:package:arch (none when absent)."""
        sw = machine["scan"].by_category(Category.SOFTWARE)
        assert sw and sum(1 for c in sw if c.prop(PACKAGE_ARCH)) > 100
        # A name longer than its column sits alone on its line, the version and arch on the next:
        # whitespace-normalised, every package reads "name version arch".
        flat = " " + " ".join(section(machine, "Installed software", "Network interfaces and listening services")
                              .split()) + " "
        checked = 0
        for c in sw:
            if " " in c.name + c.version or not c.version:
                continue
            arch = c.prop(PACKAGE_ARCH)
            expected = f" {c.name} {c.version} {arch} " if arch else f" {c.name} {c.version} "
            assert expected in flat, (c.name, c.version, arch)
            checked += bool(arch)
        assert checked == sum(1 for c in sw if c.prop(PACKAGE_ARCH) and " " not in c.name + c.version)
        # No arch is printed that the JSON does not hold: the arch column has only the JSON's values.
        archs = {c.prop(PACKAGE_ARCH) for c in sw} - {""}
        assert archs and archs <= {"amd64", "all", "arm64", "i386", "armhf", "noarch", "x86_64"}

    def test_software_groups_are_the_package_managers(self, machine):
        sw = machine["scan"].by_category(Category.SOFTWARE)
        counts: Dict[str, int] = {}
        for c in sw:
            counts[c.prop(PACKAGE_MANAGER)] = counts.get(c.prop(PACKAGE_MANAGER), 0) + 1
        part = section(machine, "Installed software", "Network interfaces and listening services")
        assert f"{len(sw):,} packages, grouped by the package manager" in " ".join(part.split())
        for manager, n in counts.items():
            assert re.search(rf"^\s*{re.escape(manager)} \({n:,}\)\s*$", part, re.M), manager
        html = machine["html"]
        for c in sw:
            cells = [c.name, c.version] + ([c.prop(PACKAGE_ARCH)] if c.prop(PACKAGE_ARCH) else [])
            assert "".join(f"<td>{htmllib.escape(x, quote=False)}</td>" for x in cells) in html, c.name

    def test_interfaces_and_services_show_the_collector_properties(self, machine):
        part = section(machine, "Network interfaces and listening services", "Observed network")
        flat = " ".join(part.split())
        for c in machine["scan"].by_category(Category.NETWORK_INTERFACE):
            assert c.name in part and c.prop("cdx:device:macAddress") in part
            for addr in c.props("cbom:ipv4"):
                assert addr in flat, addr
        for c in machine["scan"].by_category(Category.LISTENING_SERVICE):
            assert re.search(rf"{re.escape(c.prop('cbom:process'))}\s+{c.prop('cbom:protocol')}\s+{c.prop('cbom:port')}"
                             rf"\s+{re.escape(c.props('cbom:address')[0])}", part), c.ref

    def test_host_facts_sit_in_their_own_sections(self, machine):
        facts = host_facts(machine)
        network = section(machine, "Network interfaces and listening services", "Observed network")
        hardware = section(machine, "Hardware", "Firmware")
        for name, label in (("cbom:default-gateway", "Default gateways"), ("cbom:dns-server", "DNS servers")):
            values = [v for k, v in facts if k == name]
            if values:
                assert re.search(rf"^\s*{label}\s+{re.escape(', '.join(values))}\s*$", network, re.M), name
                assert label not in hardware and values[0] not in hardware
        os_name = [v for k, v in facts if k == "cbom:os"]
        if os_name:
            assert f"The machine runs {os_name[0]}." in section(machine, "Operating system", "Installed software")
        # No property name of a host fact is printed raw anywhere.
        assert "cbom:" not in machine["text"].replace("cbom:os", "")
        assert "Machine facts" not in machine["text"] and "capture:" not in machine["text"]

    def test_capture_not_run_is_said_and_not_blamed_on_network(self, machine):
        part = section(machine, "Observed network", "Findings")
        assert "Not collected: the capture collector did not run in this scan." in part
        assert "network:" not in part and "Incomplete" not in part  # the network run's banner stays in its section

    def test_appendix_lists_the_id_databases(self, machine):
        raw = machine["raw"]
        appendix = raw[raw.index("Tool and database versions"):raw.index("Glossary CBOM")]
        pci = dict(host_facts(machine)).get(PCI_IDS)
        usb = dict(host_facts(machine)).get(USB_IDS)
        assert pci and "version 2023.04.10, date 2023-04-10 20:08:02" in pci  # collectors/data/IDS_SOURCES.md
        assert usb and "version 2025.07.26" in usb
        assert f"PCI device names {pci}" in appendix
        assert f"USB device names {usb}" in appendix
        assert "not used: the capture collector did not run" in appendix  # the OUI line says why it is empty

    def test_firmware_rows_and_types(self, machine):
        part = section(machine, "Firmware", "Operating system")
        for c in machine["scan"].by_category(Category.FIRMWARE):
            assert re.search(rf"{re.escape(c.name)}\s+{re.escape(c.prop('cbom:firmware:type'))}\s+", part), c.name

    def test_every_collector_status_and_the_file_hash(self, machine):
        text, doc = machine["text"], machine["document"]
        assert doc.json_sha256 in text
        for run in doc.scan.runs:
            assert re.search(rf"^\s*{re.escape(run.name)}\s+{run.status.value}\s+{run.duration:.2f}\b", text, re.M)

    def test_no_page_holds_a_lone_table_row(self, machine):
        """Layout: no page carries only a running header and one or two rows of a table (page 5 of the
        lead's first scan held one OS row). A page that starts with a heading of the report (a whole
        short section) may be short."""
        headings = tuple(htmllib.unescape(re.sub(r"<[^>]+>", "", h)).split("(")[0].strip()
                         for h in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", machine["html"], re.S))
        pages = [p for p in machine["pages"] if p.strip()]
        for i, page in enumerate(pages[1:], 2):
            body = [line.strip() for line in page.splitlines()[1:]
                    if line.strip() and not line.lstrip().startswith("Scan urn:")]
            assert len(body) > 3 or body[0].startswith(headings), (i, body)


# ------------------------------------------------------------------ the plant capture


class TestPlant:
    def test_observed_section_shows_the_capture_run(self, plant):
        run = next(r for r in plant["scan"].runs if r.name == "capture")
        part = " ".join(section(plant, "Observed network", "Findings").split())
        assert f"Capture collector: {run.status.value} · {run.duration:.2f} s · mode file" in part

    def test_hosts_with_vendor_ip_and_counts(self, plant):
        part = section(plant, "Observed network", "Findings")
        hosts = plant["scan"].by_category(Category.OBSERVED_HOST)
        assert len(hosts) == 52
        for c in hosts:
            line = next((ln for ln in part.splitlines() if c.prop("cdx:device:macAddress") in ln), "")
            assert line.split()[0] == c.name, c.name
            assert f"{int(c.prop('cbom:net:packets')):,}" in line.split() and f"{int(c.prop('cbom:net:bytes')):,}" in line
            for ip in c.props("cbom:net:ip")[:1]:
                assert ip in line
        switch = [c for c in hosts if c.prop("cbom:net:hostname") == "Switch1"]
        assert switch and "SCALANCE X212-2" in " ".join(part.split())  # the LLDP identity

    def test_flow_counts_equal_the_conversation_properties(self, plant):
        protos = plant["scan"].by_category(Category.OBSERVED_PROTOCOL)
        ip = sum(1 for c in protos for t in c.conversations if t.transport)
        l2 = sum(1 for c in protos for t in c.conversations if not t.transport)
        assert (ip, l2) == (83, 27)
        assert dict(host_facts(plant))[CAPTURE_PREFIX + "conversations"] == str(ip)
        flat = " ".join(section(plant, "Observed network", "Findings").split())
        assert f"{ip + l2} conversations are recorded in the CBOM: {ip} IP and {l2} link-layer (non-IP)" in flat
        assert "No conversation is recorded" not in flat

    def test_top_talker_and_largest_conversation(self, plant):
        flows = []
        for c in plant["scan"].by_category(Category.OBSERVED_PROTOCOL):
            for t in c.conversations:
                if t.transport:
                    flows.append((t.bytes, t.packets, c.name, t.src, t.dst))
        flows.sort(reverse=True)
        talk: Dict[str, int] = {}
        for by, _pk, _p, a, b in flows:
            for ep in (a, b):
                talk[ep.rpartition(":")[0]] = talk.get(ep.rpartition(":")[0], 0) + by
        top_addr, top_bytes = max(talk.items(), key=lambda kv: kv[1])
        part = section(plant, "Observed network", "Findings")
        talkers = part[part.index("Top talkers by bytes"):].splitlines()
        head = next(i for i, ln in enumerate(talkers) if ln.split()[:2] == ["Address", "Host"])
        first = next(ln for ln in talkers[head + 1:] if ln.strip())
        assert first.split()[0] == top_addr and f"{top_bytes:,}" in first.split()
        by, pk, proto, a, b = flows[0]
        assert re.search(rf"^\s*{proto}(/tcp)?\s+{re.escape(a)}\s+{re.escape(b)}\s+{pk:,}\s+{by:,}\s", part, re.M)
        assert "The 50 largest conversations by bytes" in part

    def test_protocol_chart_shows_the_real_protocols(self, plant):
        view = build_view(plant["scan"], plant["document"].json_sha256)
        labels = [b["label"] for b in view["chart"]["bars"]]
        packets = {c.name: int(c.prop("cbom:net:packets")) for c in plant["scan"].by_category(Category.OBSERVED_PROTOCOL)}
        assert {"s7comm", "mbtcp", "enip", "cip", "lldp", "pn_dcp"} <= set(labels) | {"pn_dcp"}
        assert not {"eth", "ip", "tcp"} & set(labels)  # carriers of every packet are left out
        assert view["chart"]["bars"][0]["value"] == f"{max(v for k, v in packets.items() if k in labels):,}"
        svg = plant["html"][plant["html"].index("<svg"):plant["html"].index("</svg>")]
        for name in ("s7comm", "mbtcp", "enip"):
            assert f">{name}</text>" in svg and f"{packets[name]:,} (" in svg

    def test_capture_statistics_only_in_their_section(self, plant):
        stats = section(plant, "Capture statistics", "Findings")
        facts = dict(host_facts(plant, CAPTURE_PREFIX))
        assert re.search(rf"^\s*Packets analysed\s+{facts[CAPTURE_PREFIX + 'packets']}\s*$", stats, re.M)
        assert re.search(rf"^\s*Bytes analysed\s+{facts[CAPTURE_PREFIX + 'bytes']}\s*$", stats, re.M)
        assert re.search(r"^\s*Source\s+plant_mixed_modbus_s7comm_enip_profinet_lldp\.pcap\s*$", stats, re.M)
        text = plant["text"]
        assert text.count("Packets analysed") == 1 and text.count("First to last packet (s)") == 1
        assert "Machine facts" not in text and "cbom:capture" not in text
        assert "Packets analysed" not in section(plant, "Hardware", "Firmware")

    def test_appendix_names_the_oui_database(self, plant):
        oui = dict(host_facts(plant))[CAPTURE_OUI_DATABASE]
        assert oui.startswith("IEEE MA-L/MA-M/MA-S registry (ieee-data 20220827.1")
        raw = plant["raw"]
        appendix = raw[raw.index("Tool and database versions"):raw.index("Glossary CBOM")]
        assert f"MAC vendor names (OUI) {oui}" in appendix
        assert "PCI device names not used: the hardware collector did not run" in appendix

    def test_findings_with_their_evidence(self, plant):
        findings = plant["scan"].findings
        assert len(findings) == 29
        part = " ".join(section(plant, "Findings", "Appendix: method, versions, glossary").split())
        assert "29 findings of 5 kinds" in part
        assert "S7comm memory writes seen (10 occurrences)" in part
        assert "Modbus write operations seen (13 occurrences)" in part
        # Logix Read Modify Write Tag requests to four controllers (tshark: 92, 92, 92 and 91 services)
        assert "CIP attribute or tag writes seen (4 occurrences)" in part
        for f in findings:
            for e in f.evidence:
                assert e in part, (f.id, e)
        public = next(f for f in findings if f.id == "CBOM-NET-PUBLIC-RANGE-LAN")  # 141.81.0.0/24 on the LAN
        assert public.title in part and public.detail in part

    def test_html_holds_every_conversation(self, plant):
        html = htmllib.unescape(plant["html"])
        for c in plant["scan"].by_category(Category.OBSERVED_PROTOCOL):
            for v in c.props(NET_CONVERSATION):
                _t, a, b = v.split()[:3]
                assert f"<td>{a}</td><td>{b}</td>" in html, v


def test_skipped_capture_says_why(tmp_path):
    """A capture that could not run: the Observed network section gives the runner's reason."""
    available, _problems = load_collectors()
    classes = select(available, only=["capture"])
    scan = run_scan(classes, ScanContext(options={"capture_seconds": 0.0}), host_name="no-capture")
    (run,) = scan.runs
    assert run.status == Status.SKIPPED and run.reason
    document, errors = output.build(scan)
    assert not errors
    page = htmllib.unescape(report.render_html(document).decode())
    part = page[page.index('id="observed"'):page.index('id="findings"')]
    assert f"Not collected: the capture was skipped ({run.reason})." in " ".join(part.split())
