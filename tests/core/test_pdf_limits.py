"""The PDF's bounds (issue 18): its time limit stops the layout, and long listings are cut.

- D6: WeasyPrint cannot be stopped in a thread, so pages are laid out in a child process
  (cbom._pdf_child) killed at the limit: afterwards no CPU is spent, no process and no file is left.
- D16: the PDF prints at most ~PDF_ROW_LIMIT rows of listings and says in the section and on the
  cover how many more rows cbom.cdx.json holds; the HTML keeps every row.
Big CBOMs are made from real golden ones by `big_cbom` (repeated components, unique refs).
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from big_cbom import GOLDENS, multiply, write_big
from conftest import REPO, run_cbom

from cbom import _report_view, cyclonedx, output, report


def _document(doc: dict) -> output.Document:
    raw = json.dumps(doc).encode()
    scan, _notes = cyclonedx.read_dict(doc)
    return output.Document(scan, doc, raw.decode())


def _weasyprint_or_skip() -> None:
    from cbom import render

    try:
        engine = render.pdf_engine()
    except render.ReportUnavailable as exc:
        pytest.skip(str(exc))
    if engine.name != "weasyprint":
        pytest.skip("WeasyPrint does not load here")


def test_time_limit_stops_the_layout(tmp_path):
    """After the TimeoutError the process spends no CPU, has no child and left no temporary file."""
    _weasyprint_or_skip()
    big = write_big(tmp_path / "big.cdx.json", 3000)  # ~4 s of layout here, ~280 KB of HTML
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    script = textwrap.dedent(f"""
        import json, os, sys, time
        from cbom import _pdf_child, cyclonedx, output
        from cbom.writers.pdf import PdfWriter
        raw = open({str(big)!r}, "rb").read()
        doc = json.loads(raw)
        document = output.Document(cyclonedx.from_dict(doc), doc, raw.decode())
        _pdf_child.prepare()
        time.sleep(1.5)  # WeasyPrint loaded and warmed up in the layout process before the clock starts
        writer = PdfWriter()
        writer.time_limit = 2.0
        try:
            writer.render(document)
            print("finished")
        except TimeoutError as exc:
            print("timeout", exc)
        cpu = time.process_time()
        time.sleep(2.0)
        children = [c for t in os.listdir("/proc/self/task")
                    for c in open(f"/proc/self/task/{{t}}/children").read().split()]
        print("cpu", round(time.process_time() - cpu, 2), "children", len(children))
    """)
    env = {"TMPDIR": str(tmp), "CBOM_PDF_TIMEOUT": "", "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={**__import__("os").environ, **env})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "timeout the PDF took more than 2 s to lay out: given up"
    _, cpu, _, children = lines[1].split()
    assert float(cpu) < 0.3 and children == "0", lines  # before: ~2 s of CPU in the abandoned thread
    assert list(tmp.iterdir()) == []  # the child's folder and fontconfig's cache are removed


def test_child_pdf_is_the_same():
    """The layout process, warmed up on a page of its own first, gives the very bytes of a layout in
    this process: the warm-up leaves nothing in the report."""
    _weasyprint_or_skip()
    import time

    from cbom import _pdf_child, render
    from cbom.writers.pdf import PdfWriter

    doc = json.loads(GOLDENS[0].read_text(encoding="utf-8"))
    document = _document(doc)
    here = render.html_to_pdf(report.render_print_html(document), render.pdf_engine())
    _pdf_child.prepare()
    time.sleep(2.0)  # the warm-up page is laid out before this page arrives (0.5 s here)
    assert PdfWriter().render(document) == here
    assert PdfWriter().render(document) == here  # a process started on demand: no warm-up


def test_long_listings_are_cut_in_the_pdf_only():
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in GOLDENS]
    total = 2 * _report_view.PDF_ROW_LIMIT
    document = _document(multiply(docs, total))
    pdf_html = report.render_print_html(document)
    view = _report_view.build_view(document.scan, "0" * 64, pdf=True)
    hosts = view["hosts"]
    assert hosts["more"] and int(hosts["more"].replace(",", "")) + len(hosts["rows"]) == sum(
        1 for c in document.scan.components if c.category.value == "observed-host")
    shown = sum(len(v["rows"]) for v in [view["hosts"], view["protocols"], view["interfaces"], view["services"],
                                         view["hardware"]] + [g["listing"] for g in view["software"]])
    assert shown <= 2 * _report_view.PDF_ROW_LIMIT
    line = f"{hosts['more']} more rows are in cbom.cdx.json; the PDF lists the first {hosts['shown']}."
    assert pdf_html.count(line) == 2  # the section and the cover
    assert f"<li>Observed hosts: {line}</li>" in pdf_html
    html = report.render_html(document).decode()
    assert "more rows are in cbom.cdx.json" not in html
    assert html.count('<tr><td>') >= total - 10  # every component is a row of the HTML


def test_small_report_is_whole(tmp_path):
    proc = run_cbom("report", str(GOLDENS[1]), "--format", "html", "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "more rows are in" not in (tmp_path / "cbom.html").read_text(encoding="utf-8")
    view = _report_view.build_view(_document(json.loads(GOLDENS[1].read_text(encoding="utf-8"))).scan, "0" * 64)
    assert view["rows_cut"] == [] and view["hosts"]["more"] == ""
