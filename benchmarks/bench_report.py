"""Benchmark of the audit report: a CBOM with 3,000 software packages and 200 observed hosts.

Run: .venv/bin/python benchmarks/bench_report.py [--paper A4|Letter] [--out DIR]
Prints wall and CPU seconds for the HTML and the PDF and the peak memory (RSS) of the process.
Target (issue 6): PDF and HTML together under 6 s and 300 MB on the 2-core build machine.
The data is real (see tests/fixtures/report/SOURCES.md).
"""
from __future__ import annotations

import argparse
import re
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "report"))
sys.path.insert(0, str(ROOT))

import realistic  # noqa: E402

from cbom import output, report  # noqa: E402


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _pages(pdf: bytes) -> str:
    """Page count from poppler's pdfinfo when installed (page objects sit in compressed streams)."""
    import subprocess
    import tempfile

    try:
        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(pdf)
            f.flush()
            out = subprocess.run(["pdfinfo", f.name], capture_output=True, text=True).stdout
    except OSError:
        return "?"
    m = re.search(r"^Pages:\s+(\d+)", out, re.M)
    return m.group(1) if m else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paper", default="A4")
    parser.add_argument("--out", type=Path, help="also write cbom.html and cbom.pdf there")
    parser.add_argument("--software", type=int, default=3000)
    parser.add_argument("--hosts", type=int, default=200)
    args = parser.parse_args()

    scan = realistic.large_scan(args.software, args.hosts)
    (document, errors), t_build, _ = timed(lambda: output.build(scan))
    assert not errors, errors[:3]
    report.unavailable_reason()  # import WeasyPrint outside the timings (about 1 s, paid once per run)
    html, t_html, c_html = timed(lambda: report.render_html(document, args.paper))
    pdf, t_pdf, c_pdf = timed(lambda: report.render_pdf(document, args.paper))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pages = _pages(pdf)
    print(f"components {len(scan.components)} (software {args.software}, hosts {args.hosts}); "
          f"CycloneDX build {t_build:.2f} s")
    print(f"html  {t_html:6.2f} s wall {c_html:6.2f} s cpu  {len(html) / 1e6:.2f} MB")
    print(f"pdf   {t_pdf:6.2f} s wall {c_pdf:6.2f} s cpu  {len(pdf) / 1e6:.2f} MB, {pages} pages")
    print(f"total {t_html + t_pdf:6.2f} s wall, peak RSS {peak_mb:.0f} MB")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "cbom.html").write_bytes(html)
        (args.out / "cbom.pdf").write_bytes(pdf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
