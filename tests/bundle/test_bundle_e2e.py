"""End to end: the USB bundle built once, run in a Python-less Debian root without network,
installed offline from its wheelhouse, and checked for footprint."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Dict, Tuple

import pytest
import yaml

from bundle_fixtures import bundle, bundle_info, chroot, host_python, python39  # noqa: F401 (fixtures)
from cbom import validate
from cbom import vocabulary as V
from cbom.bundle import verify
from conftest import is_root

pytestmark = pytest.mark.slow
needs_root = pytest.mark.skipif(not is_root(), reason="chroot, mount and unshare -n need root")
SCAN_TIMEOUT = 300

Snapshot = Dict[str, Tuple[str, int, int]]


def snapshot(root: Path, skip=("proc", "sys")) -> Snapshot:
    """(kind, size, mtime_ns) of every path under `root`, not following symlinks."""
    out: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir == ".":
            dirnames[:] = [d for d in dirnames if d not in skip]
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            kind = "l" if os.path.islink(path) else "d" if os.path.isdir(path) else "f"
            out[os.path.relpath(path, root)] = (kind, st.st_size if kind != "d" else 0, st.st_mtime_ns)
    return out


def footprint(before: Snapshot, after: Snapshot, allowed: str) -> list:
    """Paths added, removed or changed outside `allowed` (a relative folder).

    /tmp itself may get a new mtime: a PDF run makes a temporary font-cache folder there and
    removes it at exit (the issue allows "a temporary folder that is removed at exit"); its
    content must be exactly as before.
    """
    def inside(p: str) -> bool:
        return p == allowed or p.startswith(allowed + "/")

    changed = [p for p in set(before) | set(after) if before.get(p) != after.get(p) and not inside(p)]
    return sorted(p for p in changed if not (p == "tmp" and before[p][:2] == after.get(p, ("",))[:2]))


def formats_of(cbom_argv) -> str:
    """The formats this cbom offers, as the launchers ask for them (the PDF writer may be absent)."""
    help_text = subprocess.run([*cbom_argv, "scan", "--help"], capture_output=True, text=True).stdout
    m = re.search(r"formats among\s+([a-z,]+)", " ".join(help_text.split()))
    known = m.group(1).split(",") if m else ["json", "yaml"]
    return ",".join(f for f in ("json", "yaml", "html", "pdf") if f in known)


def check_reports(out: Path, formats: str) -> dict:
    doc = json.loads((out / "cbom.cdx.json").read_text(encoding="utf-8"))
    assert validate.errors(doc) == [], "the CBOM written in the bundle does not validate"
    assert yaml.safe_load((out / "cbom.cdx.yaml").read_text(encoding="utf-8")) == doc
    if "pdf" in formats:
        pdfs = list(out.glob("*.pdf"))
        assert pdfs and pdfs[0].read_bytes()[:5] == b"%PDF-", f"no PDF in {sorted(os.listdir(out))}"
    if "html" in formats:
        assert list(out.glob("*.html")), f"no HTML in {sorted(os.listdir(out))}"
    return doc


# --- the bundle itself ---------------------------------------------------------------------------

def test_layout_and_checksums(bundle, bundle_info):
    for name in ("cbom-scan.sh", "cbom-scan.bat", "cbom-scan.ps1", "README-USB.txt", "SHA256SUMS",
                 "BUNDLE-INFO.json", "linux-x86_64/cbom", "linux-x86_64/_internal/templates/report.html.j2",
                 "linux-x86_64/_internal/fonts/fonts.conf", "linux-x86_64/_internal/collectors/data/pci.ids.gz",
                 "templates/report.html.j2", "collect/collect.sh"):
        assert (bundle / name).is_file(), name
    assert (bundle / "reports").is_dir()
    result = verify(bundle)
    assert result.exit_code == 0, (result.missing, result.changed, result.extra)
    everything = [p for p in bundle.rglob("*")]
    assert not [p for p in everything if p.is_symlink()], "symlinks cannot be copied to a FAT stick"
    assert not [p for p in everything if p.name == "__pycache__" or p.suffix == ".pyc"]
    readme = (bundle / "README-USB.txt").read_text(encoding="utf-8")
    assert "{" not in readme and f"glibc {bundle_info['frozen']['glibc_required']} or newer" in readme
    assert re.fullmatch(r"2\.\d+", bundle_info["frozen"]["glibc_required"])
    wheels = {p.name.split("-")[0].lower() for p in (bundle / "wheelhouse").glob("*.whl")}
    assert {"cbom_scanner", "pip", "weasyprint", "scapy", "cyclonedx_python_lib", "jsonschema_rs"} <= wheels
    assert set(bundle_info["wheelhouse"]["offline_install_check"].values()) == {"ok"}
    size = sum(p.stat().st_size for p in everything if p.is_file())
    print(f"\nbundle: {size / 1e6:.0f} MB, {len(everything)} entries, glibc >= {bundle_info['frozen']['glibc_required']}")


def test_frozen_version_startup(bundle):
    exe = bundle / "linux-x86_64" / "cbom"
    times = []
    for _ in range(3):
        t0 = time.monotonic()
        proc = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
        times.append(time.monotonic() - t0)
        assert proc.returncode == 0 and proc.stdout.startswith("cbom "), proc.stderr
    print(f"\nfrozen `cbom --version`: best {min(times):.2f} s")
    assert min(times) < 5


# --- Python-less Debian root, no network ---------------------------------------------------------

@needs_root
def test_frozen_scan_in_debian_root_readonly_offline(bundle, chroot):
    root = chroot
    assert not list((root / "usr" / "bin").glob("python3*")), "the root must have no Python"
    stick = root / "cbom-usb"
    stick.mkdir()
    (root / "out").mkdir()
    subprocess.run(["mount", "--bind", str(bundle), str(stick)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(stick)], check=True)
        exe = ["unshare", "-n", "chroot", str(root), "/cbom-usb/linux-x86_64/cbom"]
        formats = formats_of(exe)
        before = snapshot(root)
        t0 = time.monotonic()
        proc = subprocess.run([*exe, "scan", "-o", "/out", "--format", formats, "--operator", "Bundle Test"],
                              capture_output=True, text=True, timeout=SCAN_TIMEOUT,
                              env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"})
        took = time.monotonic() - t0
        # WeasyPrint with the bundled Pango/fontconfig and fonts, whatever the report writer's state:
        # `cbom diff --format pdf` renders through it too.
        pdf = subprocess.run([*exe, "diff", "/out/cbom.cdx.json", "/out/cbom.cdx.json", "--format", "pdf",
                              "-o", "/out/diff.pdf"], capture_output=True, text=True, timeout=SCAN_TIMEOUT,
                             env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"})
        after = snapshot(root)
    finally:
        subprocess.run(["umount", str(stick)], check=False)
    print(f"\nfrozen scan in the Debian root: {took:.1f} s, formats {formats}")
    assert proc.returncode in (0, 3), proc.stdout + proc.stderr
    assert footprint(before, after, "out") == []
    doc = check_reports(root / "out", formats)
    assert pdf.returncode == 0, pdf.stdout + pdf.stderr
    assert (root / "out" / "diff.pdf").read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdffonts"):
        fonts = subprocess.run(["pdffonts", str(root / "out" / "diff.pdf")], capture_output=True, text=True).stdout
        assert "DejaVu-Sans" in fonts, fonts  # the bundled font, embedded
    os_names = [c["name"] for c in doc["components"] if c.get("type") == "operating-system"]
    assert os_names, "the OS of the root was not inventoried"
    assert any("debian" in n.lower() for n in os_names), os_names
    assert any(c.get("purl", "").startswith("pkg:deb/debian/dpkg@") for c in doc["components"])


@needs_root
def test_launcher_in_debian_root_verify_scan_and_tamper(bundle, chroot):
    root = chroot
    stick = root / "stick"
    shutil.copytree(bundle, stick, symlinks=True)
    before = snapshot(root)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
    proc = subprocess.run(["unshare", "-n", "chroot", str(root), "/bin/sh", "/stick/cbom-scan.sh", "--verify",
                           "--operator", "Launcher Test"], capture_output=True, text=True, timeout=SCAN_TIMEOUT,
                          env=env)
    after = snapshot(root)
    assert proc.returncode in (0, 3), proc.stdout + proc.stderr
    assert "stick intact" in proc.stderr
    assert footprint(before, after, "stick/reports") == []
    reports = [p for p in (stick / "reports").iterdir() if p.is_dir()]
    assert len(reports) == 1
    assert f"reports are in /stick/reports/{reports[0].name}" in proc.stdout
    formats = formats_of(["unshare", "-n", "chroot", str(root), "/stick/linux-x86_64/cbom"])
    check_reports(reports[0], formats)
    # The stick's db/ (usb_bundle/build --db, covered by SHA256SUMS) was used: its date is stated.
    doc = json.loads((reports[0] / "cbom.cdx.json").read_text(encoding="utf-8"))
    knowledge = [p["value"] for p in doc["metadata"].get("properties", []) if p["name"] == V.VULNDB_KNOWLEDGE_DATE]
    assert knowledge and knowledge[0] == json.loads((stick / "BUNDLE-INFO.json").read_text())["vulndb"]["knowledge_date"]

    # Alter the stick: the launcher refuses to scan and cbom verify-bundle (which finds its bundle
    # from its own location) lists each change.
    (stick / "README-USB.txt").write_text("tampered\n")
    (stick / "linux-x86_64" / "_internal" / "sitecustomize.py").write_text("print('owned')\n")
    proc = subprocess.run(["unshare", "-n", "chroot", str(root), "/bin/sh", "/stick/cbom-scan.sh", "--verify"],
                          capture_output=True, text=True, timeout=SCAN_TIMEOUT, env=env)
    assert proc.returncode == 1 and "ALTERED" in proc.stderr, proc.stdout + proc.stderr
    assert "README-USB.txt: FAILED" in proc.stdout
    assert "extra: linux-x86_64/_internal/sitecustomize.py" in proc.stdout
    assert len([p for p in (stick / "reports").iterdir()]) == 1, "no scan may run on an altered stick"
    proc = subprocess.run(["unshare", "-n", "chroot", str(root), "/stick/linux-x86_64/cbom", "verify-bundle"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "changed    README-USB.txt" in proc.stdout
    assert "extra      linux-x86_64/_internal/sitecustomize.py" in proc.stdout


# --- wheelhouse: the host's own Python, no network ------------------------------------------------

def _offline_env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PYTHONDONTWRITEBYTECODE="1", PIP_NO_CACHE_DIR="1",
               HOME=str(tmp_path / "home"), TMPDIR=str(tmp_path))
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


@needs_root
def test_wheelhouse_install_offline_fresh_venv(bundle, tmp_path):
    import sys

    wheelhouse = bundle / "wheelhouse"
    pip_whl = sorted(wheelhouse.glob("pip-*.whl"))[-1]
    env = _offline_env(tmp_path)
    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True, env=env)
    t0 = time.monotonic()
    # As the launchers do: no PATH for pip (it runs `rustc --version`, a rustup proxy writes ~/.rustup).
    proc = subprocess.run([shutil.which("unshare"), "-n", str(venv / "bin" / "python"), str(pip_whl / "pip"), "install",
                           "--no-index", "--find-links", str(wheelhouse), "cbom-scanner"],
                          capture_output=True, text=True, timeout=300, env=dict(env, PATH=str(tmp_path / "none")))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    took = time.monotonic() - t0
    out = tmp_path / "out"
    proc = subprocess.run(["unshare", "-n", str(venv / "bin" / "cbom"), "scan", "--only", "os", "-o", str(out)],
                          capture_output=True, text=True, timeout=SCAN_TIMEOUT, env=env, cwd=tmp_path)
    assert proc.returncode in (0, 3), proc.stdout + proc.stderr
    doc = json.loads((out / "cbom.cdx.json").read_text())
    assert validate.errors(doc) == []
    assert any(c.get("type") == "operating-system" for c in doc["components"])
    assert not list((tmp_path / "home").iterdir()), "nothing may be written into the home folder"
    print(f"\nwheelhouse install (Python {host_python()}, offline): {took:.1f} s")


@needs_root
def test_launcher_wheelhouse_python39_offline(bundle, bundle_info, tmp_path):
    py = python39()
    if not py:
        pytest.skip("no CPython 3.9 on this machine")
    if "3.9" not in bundle_info["wheelhouse"]["pythons"]:
        pytest.skip("this bundle's wheelhouse has no Python 3.9 wheels")
    env = _offline_env(tmp_path)
    env["CBOM_PYTHON"] = py
    out = tmp_path / "out"
    before = sorted(p.name for p in bundle.iterdir())
    proc = subprocess.run(["unshare", "-n", "sh", str(bundle / "cbom-scan.sh"), "--wheelhouse", "--only", "os",
                           "-o", str(out)], capture_output=True, text=True, timeout=SCAN_TIMEOUT, env=env)
    assert proc.returncode in (0, 3), proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "3.9." in proc.stderr  # the launcher says which interpreter it installed into
    check_reports(out, "json,yaml")
    assert sorted(p.name for p in bundle.iterdir()) == before, "the temporary venv must be gone"
    assert not list((tmp_path / "home").iterdir())
