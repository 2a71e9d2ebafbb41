"""The PDF printed by the machine's browser (`CBOM_PDF_ENGINE=browser`), with a real Chromium.

Everything here runs for real: `cbom report` / `cbom scan` / `cbom diff` in a subprocess, Debian's
chromium (156 on the build machine), poppler's pdfinfo/pdftotext/pdftoppm, strace for the network
check, a mount namespace to take a library away from WeasyPrint. What is checked: the PDF's
content (the cover's SHA-256 of the JSON, every component, "Page N of M", the contents with the
right page numbers), that the browser leaves nothing behind and sends nothing on the network, the
time limit (a browser that hangs is killed with its children), and the one-line reasons when no
PDF can be made. Windows' Edge/Chrome run the same code but are not tested here.
"""
from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest
from conftest import REPO, is_root, run_cbom

from cbom import pdf_browser, render


def _no_browser() -> str:
    try:
        pdf_browser.find_browser()
    except pdf_browser.PrintFailed as exc:
        return str(exc)
    return ""


pytestmark = [
    pytest.mark.skipif(bool(_no_browser()), reason=f"no Chromium-based browser here: {_no_browser()}"),
    pytest.mark.skipif(not all(shutil.which(t) for t in ("pdfinfo", "pdftotext", "pdftoppm")),
                       reason="poppler-utils (pdfinfo, pdftotext, pdftoppm) not installed"),
]

# A real CBOM (cbom ingest of a recorded Windows 10 machine): 10 components in four categories.
SMALL = REPO / "tests" / "golden" / "ingest" / "windows-wesng-10-1809-precision-5530.json"
TOC = ("Summary", "Collection status", "Hardware", "Firmware", "Operating system", "Installed software",
       "Security posture", "Cryptographic assets", "Network interfaces and listening services", "Observed network",
       "Known vulnerabilities and end of life", "Findings", "Appendix: method, versions, glossary")
BANNER = "could not import some external libraries"
# What Chromium or cbom's browser printing could leave in the system's temporary folder.
TRACE = re.compile(r"^(\.org\.chromium\.|\.com\.google\.Chrome|\.com\.microsoft\.Edge|cbom-pdf-)")


def _env(tmp_path: Path, **extra: str) -> dict:
    """An environment with its own empty HOME and TMPDIR (checked empty afterwards)."""
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir(parents=True)
    tmp.mkdir(parents=True)
    env = {"HOME": str(home), "TMPDIR": str(tmp), "CBOM_PDF_ENGINE": "browser", "CBOM_BROWSER": "",
           "CBOM_PDF_TIMEOUT": ""}
    env.update(extra)
    return env


def _left_in(folder: Path) -> List[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _system_tmp_traces() -> Set[str]:
    folder = Path("/tmp")
    return {p.name for p in folder.iterdir() if TRACE.match(p.name)} if folder.is_dir() else set()


def _info(pdf: Path) -> dict:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


def _text(pdf: Path, page: int = 0, layout: bool = False) -> str:
    argv = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else []) + \
        (["-f", str(page), "-l", str(page)] if page else []) + [str(pdf), "-"]
    return subprocess.run(argv, capture_output=True, check=True).stdout.decode("utf-8")


def _headings(pdf: Path) -> List[Tuple[int, str]]:
    """(page, text) of every line set in the chapter headings' size (h2: 15pt, boxes 15-20pt tall),
    read from the word boxes poppler finds on the pages: independent of the PDF's own links."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-bbox", str(pdf), "-"], capture_output=True, check=True)
    found: List[Tuple[int, str]] = []
    for n, page in enumerate(out.stdout.decode("utf-8").split("<page ")[1:], 1):
        lines: Dict[str, List[str]] = {}
        for y0, y1, word in re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', page):
            if 15 <= float(y1) - float(y0) <= 20:
                lines.setdefault(y0, []).append(html.unescape(word))
        found += [(n, " ".join(words)) for words in lines.values()]
    return found


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def small_report(tmp_path_factory):
    """`cbom report` of SMALL printed by the browser, with its own HOME and TMPDIR."""
    base = tmp_path_factory.mktemp("report")
    out = base / "out"
    out.mkdir()
    shutil.copy(SMALL, out / "cbom.cdx.json")
    before = _system_tmp_traces()
    env = _env(base)
    started = time.monotonic()
    proc = run_cbom("report", str(out / "cbom.cdx.json"), env=env, timeout=180)
    seconds = time.monotonic() - started
    return {"out": out, "proc": proc, "home": Path(env["HOME"]), "tmp": Path(env["TMPDIR"]), "seconds": seconds,
            "new_traces": _system_tmp_traces() - before}


def test_report_pdf_is_printed_by_chromium(small_report):
    proc, out = small_report["proc"], small_report["out"]
    assert proc.returncode == 0, proc.stderr
    # One line says which engine made the PDF, and nothing else reaches the auditor.
    assert re.fullmatch(r"PDF made by Chromium \d+ \(\S+, headless\)", proc.stderr.strip()), proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["SHA256SUMS", "cbom.cdx.json", "cbom.html", "cbom.pdf"]
    info = _info(out / "cbom.pdf")
    assert info["Producer"].startswith("Skia/PDF m"), info
    assert "HeadlessChrome/" in info["Creator"], info
    assert info["Title"].startswith("CBOM audit report"), info


def test_report_pdf_content(small_report):
    """The cover's SHA-256 is the JSON's, every component is there, every page is numbered N of M."""
    out = small_report["out"]
    pdf = out / "cbom.pdf"
    text = _words(_text(pdf))
    assert hashlib.sha256((out / "cbom.cdx.json").read_bytes()).hexdigest() in text
    doc = json.loads((out / "cbom.cdx.json").read_text(encoding="utf-8"))
    names = [_words(c["name"]) for c in doc["components"]]
    assert len(names) == 10
    assert [n for n in names if n not in text] == []
    pages = int(_info(pdf)["Pages"])
    assert pages >= 5
    for n in range(1, pages + 1):
        page = _text(pdf, n)
        assert f"Page {n} of {pages}" in _words(page), n
        # No blank page: each one has text besides its head and foot.
        body = [ln for ln in page.splitlines() if ln.strip() and not re.match(r"(Page \d+ of|Scan\b|\d{4}-\d\d-\d\d )", ln)
                and ln.strip() != doc["metadata"]["component"]["name"]]
        assert body, f"page {n} is blank"
    # The page head (machine and scan date) on every page but the cover.
    host = doc["metadata"]["component"]["name"]
    assert all(_text(pdf, n, layout=True).lstrip().startswith(host) for n in range(2, pages + 1))


def test_report_contents_have_the_right_page_numbers(small_report):
    """The contents on the cover list every chapter with the page it starts on (filled in from a
    first print: Chromium has no target-counter())."""
    pdf = small_report["out"] / "cbom.pdf"
    starts = {}
    for n, line in _headings(pdf):
        if line in TOC and line not in starts:
            starts[line] = n
    assert set(starts) == set(TOC)
    cover = _text(pdf, 1, layout=True)
    assert "Contents" in cover
    for i, title in enumerate(TOC, 1):
        m = re.search(rf"^\s*{i}\.\s+{re.escape(title)}\s+(\d+)\s*$", cover, re.M)
        assert m, (title, cover)
        assert int(m.group(1)) == starts[title], title


def test_report_pages_render(small_report, tmp_path):
    pdf = small_report["out"] / "cbom.pdf"
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "p")], check=True, timeout=120)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) == int(_info(pdf)["Pages"])
    assert all(p.read_bytes().startswith(b"\x89PNG") and p.stat().st_size > 1000 for p in pngs)


def test_report_leaves_no_trace(small_report):
    """The browser's profile, HOME, caches, the HTML and the PDF lived in a temporary folder, removed."""
    assert _left_in(small_report["home"]) == []
    assert _left_in(small_report["tmp"]) == []
    assert small_report["new_traces"] == set()


def test_scan_writes_the_pdf_with_the_browser(tmp_path):
    """`cbom scan --skip capture` with the browser engine, Letter paper: the four files, the PDF's
    cover names the JSON's SHA-256, the paper is Letter."""
    env = _env(tmp_path)
    out = tmp_path / "scan"
    proc = run_cbom("scan", "--skip", "capture", "--paper", "Letter", "-o", str(out), "--operator", "T", env=env)
    assert proc.returncode in (0, 3), proc.stderr  # 3: some collector is partial on this machine
    assert "PDF made by Chromium" in proc.stderr
    assert {"cbom.cdx.json", "cbom.cdx.yaml", "cbom.html", "cbom.pdf", "SHA256SUMS"} <= {p.name for p in out.iterdir()}
    assert hashlib.sha256((out / "cbom.cdx.json").read_bytes()).hexdigest() in _words(_text(out / "cbom.pdf"))
    assert "(letter)" in _info(out / "cbom.pdf")["Page size"]
    assert _left_in(Path(env["TMPDIR"])) == []


def test_diff_pdf_goes_through_the_same_engine(tmp_path):
    diff = REPO / "tests" / "fixtures" / "diff" / "syft"
    proc = run_cbom("diff", str(diff / "dir-encoder-0d40f44.cdx.json"), str(diff / "dir-encoder-16433d6.cdx.json"),
                    "--format", "pdf", "-o", str(tmp_path / "d.pdf"), env=_env(tmp_path))
    assert proc.returncode == 1, proc.stderr  # 1: differences
    assert "PDF made by Chromium" in proc.stderr
    assert _info(tmp_path / "d.pdf")["Producer"].startswith("Skia/PDF")
    text = _words(_text(tmp_path / "d.pdf"))
    assert "What changed since the last scan" in text and re.search(r"\b1 ?/ ?1\b", text)


@pytest.mark.skipif(not shutil.which("strace"), reason="strace not installed")
def test_browser_sends_nothing_on_the_network(tmp_path):
    """Under strace -f: no TCP connection and no data sent on any IP socket by cbom or the browser.
    (Chromium 156 connects a UDP socket to 2001:4860:4860::8888 to learn its route: that sends nothing.)"""
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(SMALL, out / "cbom.cdx.json")
    log = tmp_path / "strace.txt"
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **_env(tmp_path))
    proc = subprocess.run(["strace", "-f", "-qq", "-yy", "-o", str(log), "-e", "trace=connect,sendto,sendmsg,sendmmsg",
                           sys.executable, "-m", "cbom", "report", str(out / "cbom.cdx.json")],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    if "ptrace" in proc.stderr and not (out / "cbom.pdf").exists():
        pytest.skip(f"strace cannot trace here: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 0, proc.stderr
    assert "PDF made by Chromium" in proc.stderr
    calls = log.read_text(errors="replace").splitlines()
    assert any("connect(" in c for c in calls), "strace saw no call at all"
    tcp = [c for c in calls if re.search(r"connect\(\d+<TCP", c)]
    sent = [c for c in calls if re.search(r"send(to|msg|mmsg)\(\d+<(TCP|UDP)", c)]
    assert tcp == [] and sent == [], (tcp + sent)[:5]


def test_no_browser_one_line_and_the_rest_is_written(tmp_path):
    """CBOM_BROWSER naming no file: one line says so, JSON/YAML/HTML are written, exit 3 (README)."""
    missing = tmp_path / "no-such-browser.exe"
    out = tmp_path / "scan"
    proc = run_cbom("scan", "--only", "os", "-o", str(out), env=_env(tmp_path, CBOM_BROWSER=str(missing)))
    assert proc.returncode == 3, proc.stderr
    names = {p.name for p in out.iterdir()}
    assert {"cbom.cdx.json", "cbom.cdx.yaml", "cbom.html", "SHA256SUMS"} <= names and "cbom.pdf" not in names
    lines = [ln for ln in proc.stderr.splitlines() if "pdf" in ln.lower()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("cbom.pdf not written: no PDF: CBOM_BROWSER=") and "no such file" in lines[0]
    assert "Traceback" not in proc.stderr
    # `cbom report` likewise: the HTML is written, the one line on stderr, exit 3.
    rep = run_cbom("report", str(out / "cbom.cdx.json"), env=_env(tmp_path / "r", CBOM_BROWSER=str(missing)))
    assert rep.returncode == 3, rep.stderr
    assert rep.stderr.strip().count("\n") == 0 and "CBOM_BROWSER=" in rep.stderr
    assert (out / "cbom.html").is_file() and not (out / "cbom.pdf").exists()


def test_unknown_engine_is_one_line(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    shutil.copy(SMALL, out / "cbom.cdx.json")
    proc = run_cbom("report", str(out / "cbom.cdx.json"), env=_env(tmp_path, CBOM_PDF_ENGINE="prince"))
    assert proc.returncode == 3
    assert proc.stderr.strip() == ("cbom report: cbom.pdf not written: no PDF: CBOM_PDF_ENGINE=prince is not one "
                                   "of auto, weasyprint, browser")


def test_hanging_browser_is_stopped_with_its_children(tmp_path):
    """A "browser" that never ends (and starts a child that never ends either): the time limit kills
    both, the PDF is reported as not made in one line, the scan ends and writes the rest."""
    pids = tmp_path / "pids"
    fake = tmp_path / "hanging-browser"
    fake.write_text(f"#!/bin/sh\necho $$ >> {pids}\nsleep 600 &\necho $! >> {pids}\nsleep 600\n")
    fake.chmod(0o755)
    out = tmp_path / "scan"
    env = _env(tmp_path, CBOM_BROWSER=str(fake), CBOM_PDF_TIMEOUT="3")
    started = time.monotonic()
    proc = run_cbom("scan", "--only", "os", "-o", str(out), env=env, timeout=120)
    seconds = time.monotonic() - started
    assert proc.returncode == 3, proc.stderr
    assert seconds < 60, seconds
    lines = [ln for ln in proc.stderr.splitlines() if "pdf" in ln.lower()]
    assert lines == ["cbom.pdf not written: no PDF: the browser did not finish printing within 3 s: "
                     "stopped with every process it started"], proc.stderr
    assert {"cbom.cdx.json", "cbom.cdx.yaml", "cbom.html"} <= {p.name for p in out.iterdir()}
    assert not (out / "cbom.pdf").exists()
    started_pids = [int(p) for p in pids.read_text().split()]
    assert len(started_pids) == 2
    for pid in started_pids:
        assert not _alive(pid), f"process {pid} of the hanging browser survived"
    assert _left_in(Path(env["TMPDIR"])) == []


def _alive(pid: int) -> bool:
    """Whether `pid` still runs (a zombie waiting for a reaper counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _without_pangoft2(tmp_path: Path, engine: str) -> subprocess.CompletedProcess:
    """`cbom report` in a mount namespace where libpangoft2 (which WeasyPrint loads, Chromium does
    not) is an empty file: WeasyPrint's import fails for real, as on a machine without Pango."""
    lib = next((p for p in ("/usr/lib/x86_64-linux-gnu/libpangoft2-1.0.so.0", "/usr/lib/aarch64-linux-gnu/libpangoft2-1.0.so.0",
                            "/usr/lib64/libpangoft2-1.0.so.0") if os.path.exists(p)), None)
    if not is_root() or not shutil.which("unshare") or lib is None:
        pytest.skip("needs root, unshare and libpangoft2 to take the library away from WeasyPrint")
    out = tmp_path / "o"
    out.mkdir(exist_ok=True)
    shutil.copy(SMALL, out / "cbom.cdx.json")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **_env(tmp_path, CBOM_PDF_ENGINE=engine))
    script = f'mount --bind /dev/null "{lib}" && exec "$@"'
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", sys.executable, "-m", "cbom", "report",
                           str(out / "cbom.cdx.json")], capture_output=True, text=True, env=env, cwd=REPO, timeout=180)
    # Inside a chroot `unshare -m` cannot make "/" private ("cannot change root filesystem
    # propagation"): no private mount namespace there, as for the network-namespace tests.
    if proc.returncode != 0 and "cbom" not in proc.stderr and ("mount" in proc.stderr or proc.stderr.startswith("unshare:")):
        pytest.skip(f"no mount namespace here: {proc.stderr.strip()[:200]}")
    return proc


def test_without_pango_auto_prints_with_the_browser_and_no_banner(tmp_path):
    proc = _without_pangoft2(tmp_path, "auto")
    assert proc.returncode == 0, proc.stderr
    assert BANNER not in proc.stdout + proc.stderr and "-----" not in proc.stdout + proc.stderr
    assert re.fullmatch(r"PDF made by Chromium \d+ \(\S+, headless\)", proc.stderr.strip()), proc.stderr


def test_without_pango_weasyprint_forced_is_one_line(tmp_path):
    proc = _without_pangoft2(tmp_path, "weasyprint")
    assert proc.returncode == 3, proc.stderr
    assert BANNER not in proc.stdout + proc.stderr and "-----" not in proc.stdout
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("cbom report: cbom.pdf not written: no PDF: WeasyPrint cannot load (")
    assert "libpango-1.0-0 libpangoft2-1.0-0 (Debian)" in proc.stderr


def test_windows_reason_names_windows_browsers_not_debian_packages():
    """The advice of the no-PDF line fits the platform (sys.platform values; the same function runs)."""
    win = render.advice("win32")
    assert "Edge" in win and "Chrome" in win and "Debian" not in win and "libpango" not in win
    assert "Debian" in render.advice("linux") and "brew" in render.advice("darwin")


def test_browser_locations():
    """Where Edge and Chrome are looked for on Windows (Edge first: part of Windows 10/11)."""
    env = {"ProgramFiles": r"C:\Program Files", "ProgramFiles(x86)": r"C:\Program Files (x86)",
           "LocalAppData": r"C:\Users\a\AppData\Local"}
    found = pdf_browser.candidates("win32", env)
    assert found[0] == r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe"
    assert r"C:\Program Files\Google\Chrome\Application\chrome.exe" in found
    assert r"C:\Users\a\AppData\Local\Google\Chrome\Application\chrome.exe" in found
    assert pdf_browser.candidates("linux", {})[:2] == ["chromium", "chromium-browser"]
    assert "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge" in pdf_browser.candidates("darwin", {})


def test_browser_override_must_be_an_executable(tmp_path):
    with pytest.raises(pdf_browser.PrintFailed, match="not an executable file"):
        pdf_browser.find_browser({"CBOM_BROWSER": str(tmp_path)})
    with pytest.raises(pdf_browser.PrintFailed, match="no Chromium, Chrome or Edge browser on PATH"):
        pdf_browser.find_browser({"PATH": str(tmp_path)}, system="linux")
