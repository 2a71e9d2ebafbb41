"""The audit report (PDF and single-file HTML), rendered for real and read back with poppler.

The PDF is checked through `pdftotext` (what a reader and a search see) and its pages are
rasterised with `pdftoppm`; the HTML is checked as text. Scans come from recorded real data
(tests/fixtures/report/realistic.py, SOURCES.md) and from the real collectors of this machine.
"""
from __future__ import annotations

import html as htmllib
import re
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cbom import cyclonedx, output, report
from cbom.model import Category, Status

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "report"
sys.path.insert(0, str(FIXTURES))
import realistic  # noqa: E402

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) not installed")
# The PDF engine must load where the tests run (CI installs it): a missing engine fails these tests,
# unless CBOM_TEST_NO_PDF=1 says it is absent on purpose (then they skip, saying why).
needs_pdf = pytest.mark.skipif(bool(os.environ.get("CBOM_TEST_NO_PDF")) and report.unavailable_reason() is not None,
                               reason=f"CBOM_TEST_NO_PDF set: {report.unavailable_reason()}")


def pdftotext(pdf: bytes, tmp_path: Path, layout: bool = True, name: str = "r.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else []) + [str(path), "-"]
    return subprocess.run(args, capture_output=True, check=True).stdout.decode("utf-8")


def pdfinfo(pdf: bytes, tmp_path: Path) -> dict:
    path = tmp_path / "info.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True).stdout
    return dict((k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in out.splitlines()))


def roundtrip(scan) -> output.Document:
    """The document as `cbom report` sees it: written to JSON, read back with the reader."""
    document, errors = output.build(scan)
    assert not errors, errors[:3]
    again = cyclonedx.from_dict(document.doc)
    return output.Document(again, document.doc, document.json_text)


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    """The 3,000-package / 200-host CBOM, rendered once for the module."""
    scan = realistic.large_scan()
    document = roundtrip(scan)
    start = time.perf_counter()
    pdf = report.render_pdf(document)
    seconds = time.perf_counter() - start
    tmp = tmp_path_factory.mktemp("large")
    return {
        "scan": document.scan, "document": document, "pdf": pdf, "pdf_seconds": seconds,
        "html": report.render_html(document).decode("utf-8"),
        "text": pdftotext(pdf, tmp), "tmp": tmp,
    }


@needs_pdf
@needs_poppler
class TestLargePdf:
    def test_cover_identifies_machine_scan_and_file(self, large):
        text, doc = large["text"], large["document"]
        assert "plc-eng-07" in text
        assert doc.json_sha256 in text  # on one line: the paper can be matched to the file
        assert "urn:uuid:3f1c9a52-7d4e-4d6b-9a8e-0f2b5c1d7e90" in text
        assert "2025-03-14 09:26:53 UTC" in text
        assert "A. Auditor" in text and "Plant 2, line 4" in text and "cbom 0.1.0" in text

    def test_summary_counts_equal_the_model(self, large):
        scan = large["scan"]
        page2 = large["text"].split("\f")[1]
        for category, label in [
            (Category.HARDWARE, "Hardware"), (Category.FIRMWARE, "Firmware"),
            (Category.OPERATING_SYSTEM, "Operating system"), (Category.SOFTWARE, "Installed software"),
            (Category.NETWORK_INTERFACE, "Network interfaces"), (Category.LISTENING_SERVICE, "Listening services"),
            (Category.OBSERVED_HOST, "Observed hosts"), (Category.OBSERVED_PROTOCOL, "Observed protocols"),
            (Category.CRYPTO, "Cryptographic assets"),
        ]:
            count = len(scan.by_category(category))
            assert re.search(rf"^\s*{label}\s+{count:,}\b", page2, re.M), (label, count)
        assert re.search(rf"^\s*Total\s+{len(scan.components):,}\b", page2, re.M)
        assert len(scan.components) == 3287
        for sev, n in (("critical", 0), ("high", 1), ("medium", 1), ("low", 1), ("info", 0)):
            assert re.search(rf"\b{sev}\s+{n}\b", page2), sev
        for status, n in (("ok", 5), ("partial", 1), ("skipped", 0), ("failed", 0)):
            assert re.search(rf"\b{status}\s+{n}\b", page2), status
        assert "dmidecode: /dev/mem: No such file or directory" in page2  # the gap, stated

    def test_every_collector_with_status_and_reason(self, large):
        for run in large["scan"].runs:
            assert re.search(rf"^\s*{run.name}\s+{run.status.value}\s+{run.duration:.2f}\s+{run.components}\b",
                             large["text"], re.M), run.name

    def test_every_package_name_is_in_the_text(self, large):
        names = [c.name for c in large["scan"].by_category(Category.SOFTWARE)]
        assert len(names) == 3000
        # Names are never split across lines: each one starts a line of the listing.
        starts = {line.split()[0] for line in large["text"].splitlines() if line.strip()}
        missing = [n for n in names if n not in starts]
        assert not missing, missing[:10]

    def test_every_observed_host_and_firmware_age(self, large):
        text = large["text"]
        for c in large["scan"].by_category(Category.OBSERVED_HOST):
            assert c.prop("cdx:device:macAddress") in text
        # SeaBIOS 04/01/2014, scanned 2025-03-14: 10.95 years.
        assert "released on 2014-04-01: 11.0 years old on the day of the scan" in text.replace("\n", " ")

    def test_layout_pages_headers_and_toc(self, large):
        info = pdfinfo(large["pdf"], large["tmp"])
        pages = int(info["Pages"])
        assert info["Page size"].startswith("595.276 x 841.89")  # A4
        assert 30 < pages < 80
        text = large["text"]
        assert f"Page {pages} of {pages}" in text
        assert text.count("Scan urn:uuid:3f1c9a52-7d4e-4d6b-9a8e-0f2b5c1d7e90") == pages  # footer on every page
        # Table of contents with page numbers that point at the sections.
        pages_text = text.split("\f")
        for title in ("Summary", "Installed software", "Observed network", "Findings"):
            m = re.search(rf"\d+\. {title} \.+ (\d+)", text)
            assert m, title
            assert re.search(rf"^\s*{title}\s*$", pages_text[int(m.group(1)) - 1], re.M), title
        # The column heading of the software listing is repeated on each of its pages.
        sw_pages = [p for p in pages_text if "pkg:" not in p and re.search(r"^\s*adduser\s|^\s*zlib1g\s", p, re.M)]
        assert sw_pages
        heads = sum(1 for p in pages_text if re.search(r"^\s*Name\s+Version\s+Arch\b", p, re.M))
        assert heads >= 30

    def test_fonts_embedded_and_subset(self, large):
        path = large["tmp"] / "fonts.pdf"
        path.write_bytes(large["pdf"])
        out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        rows = out.splitlines()[2:]
        assert rows and all(" yes yes " in r for r in rows), out  # emb yes, sub yes
        assert {r.split()[0].split("+")[1] for r in rows} >= {"DejaVu-Sans", "DejaVu-Sans-Mono"}

    def test_pages_rasterise(self, large):
        if not shutil.which("pdftoppm"):
            pytest.skip("pdftoppm not installed")
        pdf = large["tmp"] / "png.pdf"
        pdf.write_bytes(large["pdf"])
        subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "3", str(pdf), str(large["tmp"] / "p")], check=True)
        pngs = sorted(large["tmp"].glob("p-*.png"))
        assert len(pngs) == 3 and all(p.stat().st_size > 3000 for p in pngs)


class TestLargeHtml:
    def test_same_content_as_the_pdf(self, large):
        page, scan = large["html"], large["scan"]
        text = htmllib.unescape(page)
        assert large["document"].json_sha256 in text and "plc-eng-07" in text
        for c in scan.by_category(Category.SOFTWARE):
            assert f"<td>{htmllib.escape(c.name, quote=False)}</td>" in page, c.name
        for run in scan.runs:
            assert f"<td>{run.name}</td><td>{run.status.value}</td>" in page

    def test_single_file_without_external_references(self, large):
        page = large["html"]
        refs = re.findall(r"""(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*([^"'\s>]+)""", page, re.I)
        assert refs and all(r.startswith("#") for r in refs), [r for r in refs if not r.startswith("#")][:5]
        assert not re.search(r"<link\b|@import|url\(\s*['\"]?(?!#)", page, re.I)
        assert page.count("<script") == 1 and "<script>\n" in page  # the inline sort/filter script only
        assert not re.search(r"fetch\(|XMLHttpRequest|\.src\s*=", page)

    def test_tables_are_sortable_and_filterable(self, large):
        page = large["html"]
        assert 'class="data sortable" id="t-sw-dpkg"' in page
        assert 'data-filter="t-sw-dpkg"' in page


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    document = roundtrip(realistic.hostile_scan())
    start = time.perf_counter()
    pdf = report.render_pdf(document) if report.unavailable_reason() is None else b""
    return {"document": document, "html": report.render_html(document).decode("utf-8"), "pdf": pdf,
            "seconds": time.perf_counter() - start, "tmp": tmp_path_factory.mktemp("hostile")}


class TestHostile:
    def test_html_escapes_everything(self, hostile):
        page = hostile["html"]
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<script>alert" not in page and "<img" not in page and "<svg onload" not in page
        assert "<h1>injected" not in page and "x&lt;/pre&gt;&lt;h1&gt;injected&lt;/h1&gt;" in page
        assert '" onmouseover' not in page  # quotes escaped inside attributes and text alike
        assert "{{ 7*7 }}" in htmllib.unescape(page) and ">49<" not in page  # data is never a template
        assert page.count("<script") == 1
        assert "&lt;/style&gt;&lt;script&gt;alert(6)" in page  # the site, in the cover
        assert "&lt;b&gt;:1" in page and "<b>:1" not in page  # a hostile conversation entry, as text

    def test_control_and_bidi_characters_are_shown_not_obeyed(self, hostile):
        page = hostile["html"]
        assert "\u202e" not in page and "\x07" not in page and "\x00" not in page
        assert "&lt;U+202E&gt;gnp.exe" in page and "bell&lt;U+0007&gt;and&lt;U+001B&gt;escape" in page
        assert "emoji \U0001F600\U0001F4A5 pkg" in page and "שלום-עולם" in page
        assert "a" * 5000 in page  # long values are kept whole

    @needs_pdf
    @needs_poppler
    def test_pdf_shows_hostile_text_as_text(self, hostile):
        text = pdftotext(hostile["pdf"], hostile["tmp"])
        assert "<script>alert(1)</script>" in text
        assert "<script>alert('host')</script>" in text
        assert "x</pre><h1>injected</h1>" in text
        assert "<U+202E>gnp.exe" in text
        assert "segment/segment/" in text
        assert hostile["seconds"] < 30, hostile["seconds"]  # a 5,000-character value must not blow up layout
        assert int(pdfinfo(hostile["pdf"], hostile["tmp"])["Pages"]) < 20


class TestSparse:
    @needs_pdf
    @needs_poppler
    def test_missing_sections_say_not_collected(self, tmp_path):
        document = roundtrip(realistic.sparse_scan())
        pdf = report.render_pdf(document, paper="Letter")
        assert pdfinfo(pdf, tmp_path)["Page size"].startswith("612 x 792")
        text = pdftotext(pdf, tmp_path)
        assert text.count("Not collected.") >= 5
        assert "No collector run is recorded in this CBOM." in text
        assert "No finding was raised by this scan." in text
        html = report.render_html(document, paper="Letter").decode()
        assert html.count("Not collected.") >= 5

    def test_bad_arguments(self):
        document = roundtrip(realistic.sparse_scan())
        with pytest.raises(ValueError, match="paper"):
            report.render_html(document, paper="A3")
        with pytest.raises(ValueError, match="translation"):
            report.render_html(document, lang="xx")


def test_report_unavailable_without_weasyprint(tmp_path):
    """Where WeasyPrint cannot load and the engine is forced to WeasyPrint, render_pdf raises
    ReportUnavailable with a one-line reason (by default a browser would print it instead:
    tests/core/test_pdf_browser.py)."""
    code = (
        "import sys; sys.modules['weasyprint'] = None\n"  # what a failed import leaves behind
        "sys.path.insert(0, %r)\n"
        "import realistic\n"
        "from cbom import output, report\n"
        "doc, _ = output.build(realistic.sparse_scan())\n"
        "assert report.render_html(doc)\n"
        "try:\n    report.render_pdf(doc)\nexcept report.ReportUnavailable as exc:\n    print('UNAVAILABLE', exc)\n"
    ) % str(FIXTURES)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, CBOM_PDF_ENGINE="weasyprint"))
    assert out.returncode == 0, out.stderr
    line = out.stdout.strip()
    assert line.startswith("UNAVAILABLE no PDF: WeasyPrint cannot load") and "libpango" in line
    assert len(line.splitlines()) == 1


def test_templates_found_and_overridable(tmp_path, monkeypatch):
    assert (report.templates_dir() / "report.html.j2").is_file()
    assert report.templates_dir() == Path(report.__file__).resolve().parent.parent / "templates"
    for f in report.templates_dir().iterdir():
        if f.is_file():
            (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / "i18n").mkdir()
    (tmp_path / "i18n" / "fr.json").write_text('{"Summary": "Résumé", "Installed software": "Logiciels installés"}')
    monkeypatch.setenv("CBOM_TEMPLATES", str(tmp_path))
    assert report.templates_dir() == tmp_path
    page = report.render_html(roundtrip(realistic.sparse_scan()), lang="fr").decode()
    assert "<h2>Résumé</h2>" in page and "Logiciels installés" in page


@pytest.mark.slow
@pytest.mark.live
@needs_pdf
@needs_poppler
def test_report_of_a_real_scan_of_this_machine(tmp_path):
    """The real collectors on this machine (whatever they produce today), rendered and read back."""
    from cbom.collector import ScanContext
    from cbom.registry import load_collectors
    from cbom.runner import scan as run_scan
    from cbom.runner import select

    available, _problems = load_collectors()
    classes = select(available, only=[c.name for c in available if c.name.split(".")[0] != "capture"])
    scan = run_scan(classes, ScanContext(), host_name="report-test-host", operator="pytest")
    document = roundtrip(scan)
    text = pdftotext(report.render_pdf(document), tmp_path)
    page = htmllib.unescape(report.render_html(document).decode())
    assert "report-test-host" in text and document.json_sha256 in text
    for run in document.scan.runs:
        assert re.search(rf"^\s*{re.escape(run.name)}\s+{run.status.value}\b", text, re.M), run.name
        assert run.name in page
    starts = {line.split()[0] for line in text.splitlines() if line.strip()}
    names = [c.name for c in document.scan.by_category(Category.SOFTWARE) if " " not in c.name]
    assert not [n for n in names if n not in starts]
    assert all(c.name in page for c in document.scan.by_category(Category.SOFTWARE))
    assert document.scan.status in (Status.OK, Status.PARTIAL, Status.FAILED)
