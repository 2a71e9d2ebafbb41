"""Build the portable USB bundle: `python -m usb_bundle.build` (or `usb_bundle/build`).

Runs on a Linux x86-64 build machine with the package registries reachable and
writes only inside the clone: `build/` (build venv, PyInstaller work folders,
download caches) and `dist/cbom-usb/`:

    dist/cbom-usb/
      cbom-scan.sh  cbom-scan.bat  cbom-scan.ps1   launchers (reports go to reports/ next to them)
      README-USB.txt                                for the operator
      BUNDLE-INFO.json                              version, build time, glibc floor, wheelhouse targets
      SHA256SUMS                                    every other file (`cbom verify-bundle`, `sha256sum -c`)
      linux-x86_64/cbom  linux-x86_64/_internal/    PyInstaller one-folder build (no Python needed)
      windows-x86_64/cbom.exe  windows-x86_64/_internal/
                                                    the same for Windows 8.1+ x64, frozen under wine from
                                                    python.org's embeddable CPython (see freeze_windows)
      wheelhouse/*.whl                              cbom + dependencies for CPython 3.9-3.13
      templates/                                    report templates for the wheelhouse path
      collect/collect.sh                            POSIX recorder for machines that run neither

What the PyInstaller hooks miss (found in a trial build, ../shared/notes/feasibility.md §5) is
added by hand here: WeasyPrint's dlopen()ed Pango/HarfBuzz/fontconfig libraries (the contrib hook
finds none on a machine with gcc and libfontconfig1-dev), libpcap for scapy's BPF compiler,
DejaVu fonts with a fontconfig file pointing at them, and data files of cyclonedx (schemas),
license_expression, rfc3987_syntax and lark.

Wheels are downloaded one top-level requirement per `pip download` call (one resolve of the
whole set hung in the trial) and cached per target under build/wheel-cache/.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
BUILD = REPO / "build"
DIST = REPO / "dist" / "cbom-usb"
FROZEN_DIR = "linux-x86_64"
PYINSTALLER = "pyinstaller==6.22.3"
HOOKS_CONTRIB = "pyinstaller-hooks-contrib>=2025.1"
WINDOWS_DIR = "windows-x86_64"
# The embeddable CPython cbom.exe is frozen with. 3.11, not newer: its "Using Python on Windows" says
# Windows 8.1 and newer, 3.13's says Windows 10 and newer (PEP 11 drops a Windows version with its
# extended support); 3.12+ also ask WMI from `platform` (module _wmi), which wine 8.0 cannot answer
# (../shared/notes/windows-under-wine.md W2).
WINDOWS_PYTHON = "3.11"
# What PyInstaller needs under Windows besides cbom's dependencies; pefile and pywin32-ctypes are
# Windows-only dependencies of PyInstaller that `pip download` skips when it evaluates markers on Linux.
WINDOWS_FREEZE_TOOLS = (PYINSTALLER, HOOKS_CONTRIB, "pefile", "pywin32-ctypes", "setuptools>=64")
# WeasyPrint cannot make a PDF on Windows (its Pango/GTK DLLs are on no registry we use): the frozen
# Windows build prints the PDF with the machine's Edge/Chrome instead and leaves WeasyPrint's stack out.
WINDOWS_EXCLUDES = ("weasyprint", "PIL", "fontTools", "pyphen", "brotli", "brotlicffi", "zopfli", "pydyf",
                    "cssselect2", "tinycss2", "tinyhtml5", "tkinter", "_tkinter", "pytest")

PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")
# Wheelhouse platforms: (label, pip --platform tags tried in order). manylinux2014 (glibc 2.17)
# first so old plant PCs can install; a package with no such wheel falls back to manylinux_2_28.
PLATFORMS: Dict[str, Tuple[str, ...]] = {
    "linux-x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
    "win-amd64": ("win_amd64",),
    "linux-aarch64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
}
DEFAULT_PLATFORMS = ("linux-x86_64", "win-amd64", "linux-aarch64")

# Shared libraries loaded at run time with dlopen() (invisible to PyInstaller's ldd-style analysis):
# WeasyPrint's text stack (weasyprint/text/ffi.py) and libpcap (scapy compiles BPF through it).
DLOPEN_LIBS = (
    "libgobject-2.0.so.0", "libglib-2.0.so.0", "libpango-1.0.so.0", "libpangoft2-1.0.so.0",
    "libharfbuzz.so.0", "libharfbuzz-subset.so.0", "libfontconfig.so.1", "libfreetype.so.6",
    "libpcap.so.0.8",
)
FONTS_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
         "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf")
FONTS_LICENSE = Path("/usr/share/doc/fonts-dejavu-core/copyright")
COLLECT_DATA = ("cyclonedx", "license_expression", "rfc3987_syntax", "lark", "weasyprint", "pyphen",
                "jsonschema_specifications")
COLLECT_SUBMODULES = ("cbom", "collectors", "scapy.layers", "scapy.contrib")
SOURCES = ("cbom", "collectors", "templates", "pyproject.toml", "README.md")
INPUTS = SOURCES + ("usb_bundle",)


def log(msg: str) -> None:
    print(f"[usb-bundle] {msg}", flush=True)


def build_env() -> Dict[str, str]:
    """Environment for every tool the build runs: caches and temp files inside build/, no bytecode."""
    env = dict(os.environ)
    tmp = BUILD / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env.update(
        PYTHONDONTWRITEBYTECODE="1",
        PIP_CACHE_DIR=str(BUILD / "pip-cache"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYINSTALLER_CONFIG_DIR=str(BUILD / "pyinstaller-config"),
        TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp),
        PIP_FIND_LINKS="",  # a host-wide find-links (e.g. /opt/wheels) must not leak host-only wheels in
    )
    env.pop("PYTHONPATH", None)
    return env


def run(argv: Sequence[str], env: Optional[Dict[str, str]] = None, cwd: Optional[Path] = None,
        quiet: bool = True) -> subprocess.CompletedProcess:
    """Run a build step; raise with its output's tail when it fails."""
    proc = subprocess.run([str(a) for a in argv], env=env or build_env(), cwd=str(cwd or REPO),
                          stdout=subprocess.PIPE if quiet else None, stderr=subprocess.STDOUT if quiet else None,
                          text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout or "").splitlines()[-30:])
        raise RuntimeError(f"failed ({proc.returncode}): {' '.join(map(str, argv))}\n{tail}")
    return proc


# --- inputs ---------------------------------------------------------------------------------------


def _input_files() -> List[Path]:
    out: List[Path] = []
    for name in INPUTS:
        path = REPO / name
        if path.is_file():
            out.append(path)
        elif path.is_dir():
            out += [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                    and p.suffix not in (".pyc", ".pyo", ".so", ".pyd")]
    return sorted(out)


def inputs_digest() -> str:
    """SHA-256 over every source file the bundle is made from (and the pinned PyInstaller).

    Tests compare it with BUNDLE-INFO.json to reuse an up-to-date dist/cbom-usb instead of rebuilding.
    """
    h = hashlib.sha256()
    for path in _input_files():
        h.update(path.relative_to(REPO).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    h.update(PYINSTALLER.encode())
    return h.hexdigest()


def project_dependencies(pyproject: Path = REPO / "pyproject.toml") -> List[str]:
    """The `[project] dependencies` of pyproject.toml (tomllib on 3.11+, a small parser before)."""
    text = pyproject.read_text(encoding="utf-8")
    try:
        import tomllib  # type: ignore[import-not-found]

        return list(tomllib.loads(text)["project"]["dependencies"])
    except ImportError:
        m = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.S | re.M)
        return re.findall(r'"([^"]+)"', m.group(1)) if m else []


def is_up_to_date(dist: Path = DIST, platforms: Sequence[str] = DEFAULT_PLATFORMS,
                  pythons: Sequence[str] = PYTHONS) -> bool:
    """True when `dist` was built from the current sources, its wheelhouse covers the targets asked
    for, and its SHA256SUMS still holds."""
    try:
        info = json.loads((dist / "BUNDLE-INFO.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    wheelhouse = info.get("wheelhouse", {})
    if info.get("inputs_sha256") != inputs_digest():
        return False
    if not (set(platforms) <= set(wheelhouse.get("platforms", ())) and set(pythons) <= set(wheelhouse.get("pythons", ()))):
        return False
    if "win-amd64" in platforms and not info.get("windows", {}).get("built"):
        from usb_bundle import wine

        if wine.unavailable_reason() is None:  # wine is here now: the bundle lacks a cbom.exe it can have
            return False
    sys.path.insert(0, str(REPO))
    from cbom.bundle import BundleUnreadable, verify

    try:
        return verify(dist).exit_code == 0
    except BundleUnreadable:
        return False


# --- steps ----------------------------------------------------------------------------------------


def ensure_build_venv(deps: List[str]) -> Path:
    """build/venv with PyInstaller and cbom's dependencies (PyInstaller analyses what is importable)."""
    venv = BUILD / "venv"
    py = venv / "bin" / "python"
    stamp = venv / ".cbom-requirements"
    wanted = "\n".join([PYINSTALLER, HOOKS_CONTRIB, "setuptools>=64", "wheel", *deps])
    if py.exists() and stamp.is_file() and stamp.read_text() == wanted:
        return py
    if not py.exists():
        run([sys.executable, "-m", "venv", venv])
    run([py, "-m", "pip", "install", "-q", *wanted.splitlines()])
    stamp.write_text(wanted)
    return py


def stage_sources() -> Path:
    """A clean copy of the sources in build/src: PyInstaller and the wheel build read from here,
    so neither writes build/ or *.egg-info folders into the checkout."""
    src = BUILD / "src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    # *.so: the capture engine compiled for this machine's Python by .ci/setup (setup.py); the bundle
    # ships the same modules as Python, which every target runs.
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "*.so", "*.pyd")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        elif path.is_file():
            shutil.copy2(path, src / name)
    # Ship collectors/data/ (pci.ids/usb.ids) in the wheel even while pyproject.toml declares no
    # package-data: setuptools includes MANIFEST.in entries when include-package-data is on (the
    # default for pyproject-configured projects).
    (src / "MANIFEST.in").write_text("recursive-include collectors/data *\n")
    return src


def _ldconfig_paths() -> Dict[str, str]:
    out: Dict[str, str] = {}
    try:
        text = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    except OSError:
        text = ""
    for m in re.finditer(r"^\s*(\S+) \(([^)]*)\) => (\S+)", text, re.M):
        if "x86-64" in m.group(2) or "64" in m.group(2):
            out.setdefault(m.group(1), m.group(3))
    return out


def native_libs() -> List[Path]:
    """Paths of the dlopen()ed libraries on this build machine; raises when one is missing."""
    known = _ldconfig_paths()
    found, missing = [], []
    for soname in DLOPEN_LIBS:
        path = known.get(soname) or next((str(d / soname) for d in (Path("/usr/lib/x86_64-linux-gnu"),
                                                                      Path("/lib/x86_64-linux-gnu"))
                                          if (d / soname).exists()), None)
        (found if path else missing).append(path or soname)
    if missing:
        raise RuntimeError("missing on the build machine (apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
                           f"libharfbuzz-subset0 libpcap0.8): {', '.join(missing)}")
    return [Path(p) for p in found]


def stage_fonts() -> Path:
    fonts = BUILD / "fonts"
    shutil.rmtree(fonts, ignore_errors=True)
    fonts.mkdir(parents=True)
    for name in FONTS:
        shutil.copy2(FONTS_DIR / name, fonts / name)
    if FONTS_LICENSE.is_file():
        shutil.copy2(FONTS_LICENSE, fonts / "LICENSE-DejaVu.txt")
    shutil.copy2(HERE / "pyinstaller" / "fonts.conf", fonts / "fonts.conf")
    return fonts


def freeze(py: Path, src: Path, fonts: Path) -> Path:
    """PyInstaller one-folder build of cbom into build/pyi/dist/cbom; returns that folder."""
    work = BUILD / "pyi"
    shutil.rmtree(work, ignore_errors=True)
    argv: List[object] = [
        py, "-m", "PyInstaller", "--noconfirm", "--clean", "--onedir", "--name", "cbom", "--log-level", "WARN",
        "--distpath", work / "dist", "--workpath", work / "work", "--specpath", work,
        "--paths", src, "--runtime-hook", HERE / "pyinstaller" / "rth_cbom.py",
        "--exclude-module", "tkinter", "--exclude-module", "_tkinter", "--exclude-module", "pytest",
        "--add-data", f"{src / 'templates'}:templates", "--add-data", f"{fonts}:fonts",
        # collectors/ is found through --paths only, which collect_data_files() does not search.
        "--add-data", f"{src / 'collectors' / 'data'}:collectors/data",
    ]
    for mod in COLLECT_SUBMODULES:
        argv += ["--collect-submodules", mod]
    for pkg in COLLECT_DATA:
        argv += ["--collect-data", pkg]
    for lib in native_libs():
        argv += ["--add-binary", f"{lib}:."]
    argv.append(HERE / "pyinstaller" / "entry.py")
    run(argv, cwd=work.parent)
    return work / "dist" / "cbom"


def freeze_windows(py: Path, src: Path, record: Optional[Dict[str, object]] = None) -> Path:
    """PyInstaller one-folder `cbom.exe` for Windows x64, built under wine; returns its folder.

    PyInstaller cannot cross-compile, so it runs on Windows' own CPython: python.org's embeddable
    distribution (WINDOWS_PYTHON) under Debian's wine, with cbom's win_amd64 wheels installed into
    it from Linux (no wine needed for that) and the sources staged on the D: drive the wine prefix
    maps to build/win/. Raises RuntimeError (one line) where wine cannot run here.
    """
    from usb_bundle import wine

    why = wine.unavailable_reason()
    if why:
        raise RuntimeError(f"cannot build {WINDOWS_DIR}/cbom.exe: {why}")
    drive = BUILD / "win"
    work = drive / "pyi"
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(drive / "src", ignore_errors=True)
    drive.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, drive / "src")
    shutil.copytree(HERE / "pyinstaller", drive / "src" / "pyinstaller")

    python_exe = wine.embeddable_python(WINDOWS_PYTHON, drive / f"py{WINDOWS_PYTHON.replace('.', '')}",
                                        BUILD / "embed-cache")
    # cbom's dependencies but WeasyPrint (left out of the Windows build, see WINDOWS_EXCLUDES).
    requirements = [d for d in project_dependencies() if not d.lower().startswith("weasyprint")]
    requirements += WINDOWS_FREEZE_TOOLS
    wheels, problems = _download_target(py, "win-amd64", WINDOWS_PYTHON, requirements,
                                        cache_name=f"win-freeze-py{WINDOWS_PYTHON}")
    if problems:
        raise RuntimeError("cannot freeze cbom.exe, wheels missing: " + "; ".join(problems))
    if record is not None:  # what the build was made from, for BUNDLE-INFO.json
        record["embeddable_sha256"] = wine.EMBED_SHA256.get(WINDOWS_PYTHON, "")
        record["wheels"] = sorted(p.name for p in Path(wheels).glob("*.whl"))
    stamp = python_exe.parent / ".cbom-freeze-requirements"
    wanted = "\n".join(requirements)
    if not stamp.is_file() or stamp.read_text() != wanted:
        shutil.rmtree(python_exe.parent / "Lib" / "site-packages", ignore_errors=True)
        wine.install_into(python_exe, Path(wheels), WINDOWS_PYTHON, requirements=requirements)
        stamp.write_text(wanted)

    prefix = wine.Prefix(BUILD / "wine-prefix", drive).ensure()
    try:
        win = prefix.windows_path
        argv: List[object] = [
            win(python_exe), "-m", "PyInstaller", "--noconfirm", "--clean", "--onedir", "--name", "cbom",
            "--log-level", "WARN", "--distpath", win(work / "dist"), "--workpath", win(work / "work"),
            "--specpath", win(work), "--paths", win(drive / "src"),
            "--runtime-hook", win(drive / "src" / "pyinstaller" / "rth_cbom.py"),
            # PyInstaller's --add-data separator is os.pathsep: ";" on Windows.
            "--add-data", f"{win(drive / 'src' / 'templates')};templates",
            "--add-data", f"{win(drive / 'src' / 'collectors' / 'data')};collectors\\data",
        ]
        for mod in WINDOWS_EXCLUDES:
            argv += ["--exclude-module", mod]
        for mod in COLLECT_SUBMODULES:
            argv += ["--collect-submodules", mod]
        for pkg in COLLECT_DATA:
            if pkg not in WINDOWS_EXCLUDES:
                argv += ["--collect-data", pkg]
        argv.append(win(drive / "src" / "pyinstaller" / "entry.py"))
        proc = prefix.run([str(a) for a in argv], cwd=win(drive), timeout=1200,
                          env={"PYTHONDONTWRITEBYTECODE": "1"})
        out = work / "dist" / "cbom"
        if proc.returncode != 0 or not (out / "cbom.exe").is_file():
            tail = "\n".join(proc.stderr.decode("utf-8", "replace").splitlines()[-30:])
            raise RuntimeError(f"PyInstaller under wine failed ({proc.returncode}):\n{tail}")
        check = prefix.run([win(out / "cbom.exe"), "--version"], cwd=win(drive), timeout=300)
        version = check.stdout.decode("utf-8", "replace").strip()
        if check.returncode != 0 or not version.startswith("cbom "):
            raise RuntimeError(f"the frozen cbom.exe does not start under wine: {check.stderr[-500:]!r}")
        log(f"{WINDOWS_DIR}/cbom.exe: `{version}` under wine")
    finally:
        prefix.close()
    return out


def copy_tree_dereferenced(src: Path, dst: Path) -> None:
    """Copy with symlinks replaced by their targets: FAT/exFAT sticks cannot hold symlinks."""
    shutil.copytree(src, dst, symlinks=False)


def build_cbom_wheel(py: Path, src: Path) -> Path:
    out = BUILD / "wheels"
    shutil.rmtree(out, ignore_errors=True)
    run([py, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", out, src], cwd=src)
    wheels = list(out.glob("cbom_scanner-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one cbom wheel in {out}, found {wheels}")
    return wheels[0]


def _download_target(py: Path, label: str, python: str, requirements: Sequence[str],
                     cache_name: str = "") -> Tuple[str, List[str]]:
    """Download wheels for one (platform, python) into build/wheel-cache/<label>-<python>/.

    One `pip download` per requirement; each platform tag is tried in order. Returns the cache
    folder and one line per requirement that has no wheel for this target.
    """
    dest = BUILD / "wheel-cache" / (cache_name or f"{label}-py{python}")
    stamp = dest / ".complete"
    key = json.dumps([list(requirements), PLATFORMS[label]])
    if stamp.is_file() and stamp.read_text() == key:
        return str(dest), json.loads((dest / ".problems").read_text())
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    problems = []
    for req in requirements:
        last = ""
        for tag in PLATFORMS[label]:
            proc = subprocess.run(
                [str(py), "-m", "pip", "download", "-q", "--only-binary=:all:", "--implementation", "cp",
                 "--python-version", python, "--platform", tag, "-d", str(dest), req],
                env=build_env(), capture_output=True, text=True, timeout=600)
            if proc.returncode == 0:
                break
            last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
        else:
            problems.append(f"{label} py{python}: {req}: {last[0]}")
    (dest / ".problems").write_text(json.dumps(problems))
    stamp.write_text(key)
    return str(dest), problems


def build_wheelhouse(py: Path, cbom_wheel: Path, deps: List[str], platforms: Sequence[str],
                     pythons: Sequence[str], out: Path, jobs: int = 6) -> List[str]:
    """Fill `out` with cbom's wheel, pip's wheel and every target's dependencies (deduplicated)."""
    out.mkdir(parents=True, exist_ok=True)
    # pip itself: the launchers bootstrap a `venv --without-pip` with `python pip.whl/pip install`,
    # which works where Debian's python3 has no ensurepip (python3-venv not installed).
    requirements = list(deps)
    targets = [(label, python) for label in platforms for python in pythons]
    problems: List[str] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_download_target, py, label, python, requirements) for label, python in targets]
        futures.append(pool.submit(_download_target, py, "linux-x86_64", "3.9", ["pip"], "pip"))
        for fut in futures:
            folder, probs = fut.result()
            problems += probs
            for whl in Path(folder).glob("*.whl"):
                if not (out / whl.name).exists():
                    shutil.copy2(whl, out / whl.name)
    shutil.copy2(cbom_wheel, out / cbom_wheel.name)
    return problems


def check_wheelhouse(py: Path, wheelhouse: Path, platforms: Sequence[str], pythons: Sequence[str],
                     jobs: int = 4) -> Dict[str, str]:
    """Offline resolve of `cbom-scanner` from the wheelhouse alone for every target: "ok" or the error.

    Every platform tag of the target is passed: pip's expansion of one manylinux_2_28 tag does
    not accept abi3 manylinux2014 wheels, which a real glibc 2.28+ host does accept.
    """
    def one(label: str, python: str) -> Tuple[str, str]:
        target = BUILD / "tmp" / f"check-{label}-{python}"
        proc = subprocess.run(
            [str(py), "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-index", "--quiet",
             "--find-links", str(wheelhouse), "--only-binary=:all:", "--implementation", "cp",
             "--python-version", python, *[a for tag in PLATFORMS[label] for a in ("--platform", tag)],
             "--target", str(target), "cbom-scanner"],
            env=dict(build_env(), PIP_CONFIG_FILE=os.devnull), capture_output=True, text=True, timeout=300)
        shutil.rmtree(target, ignore_errors=True)
        err = (proc.stderr or proc.stdout).strip().splitlines()
        return f"{label}-py{python}", "ok" if proc.returncode == 0 else (err[-1] if err else "failed")

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda t: one(*t), [(plat, p) for plat in platforms for p in pythons]))
    return dict(sorted(results))


def glibc_floor(folder: Path) -> str:
    """Highest GLIBC_2.x symbol version any ELF file of `folder` asks for (e.g. "2.36")."""
    best = (0, 0)
    for path in folder.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        with open(path, "rb") as f:
            if f.read(4) != b"\x7fELF":
                continue
            data = f.read()
        for m in re.finditer(rb"GLIBC_2\.(\d+)(?:\.(\d+))?", data):
            best = max(best, (int(m.group(1)), int(m.group(2) or 0)))
    return f"2.{best[0]}" + (f".{best[1]}" if best[1] else "")


def tree_size(folder: Path) -> Tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


class _Counter(io.RawIOBase):
    def __init__(self) -> None:
        self.n = 0

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[override]
        self.n += len(b)
        return len(b)


def packed_size(folder: Path) -> int:
    """Size of `folder` as a .tar.gz (level 6), counted without writing the archive anywhere."""
    sink = _Counter()
    with tarfile.open(fileobj=sink, mode="w:gz", compresslevel=6) as tar:  # type: ignore[arg-type]
        tar.add(str(folder), arcname=folder.name)
    return sink.n


# glibc of common distributions (their first release), for README-USB.txt's "runs on" lines.
DISTRO_GLIBC = (
    ("CentOS 7", (2, 17)), ("Debian 10", (2, 28)), ("RHEL/Rocky/Alma 8", (2, 28)), ("Ubuntu 20.04", (2, 31)),
    ("Debian 11", (2, 31)), ("SLES 15 SP4-SP6", (2, 31)), ("RHEL/Rocky/Alma 9", (2, 34)),
    ("Ubuntu 22.04", (2, 35)), ("Debian 12", (2, 36)), ("Fedora 37", (2, 36)), ("Ubuntu 24.04", (2, 39)),
    ("RHEL 10", (2, 39)), ("Debian 13", (2, 41)),
)


def distro_support(floor: str) -> Tuple[List[str], List[str]]:
    """(distributions whose glibc is >= floor, those whose glibc is older)."""
    need = tuple(int(x) for x in floor.split(".")[:2])
    ok = [name for name, v in DISTRO_GLIBC if v >= need]
    no = [f"{name} ({v[0]}.{v[1]})" for name, v in DISTRO_GLIBC if v < need]
    return ok, no


def install_launchers(out: Path, src: Path, fields: Dict[str, str]) -> None:
    """Launchers, README-USB.txt (filled in), templates/, collect/ and an empty reports/ folder.

    Files meant for Windows get CRLF line ends (Notepad before Windows 10 1809 shows LF text on one line).
    """
    shutil.copy2(HERE / "launchers" / "cbom-scan.sh", out / "cbom-scan.sh")
    (out / "cbom-scan.sh").chmod(0o755)
    for name in ("cbom-scan.bat", "cbom-scan.ps1", "README-USB.txt"):
        text = (HERE / "launchers" / name).read_text(encoding="utf-8").replace("\r\n", "\n")
        for key, value in fields.items():
            text = text.replace("{" + key + "}", value)
        (out / name).write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    shutil.copytree(src / "templates", out / "templates")
    (out / "collect").mkdir()
    shutil.copy2(HERE / "collect" / "collect.sh", out / "collect" / "collect.sh")
    for name in ("collect.bat", "collect.ps1"):  # cmd.exe before Windows 10 needs CRLF to parse labels
        text = (HERE / "collect" / name).read_text(encoding="utf-8").replace("\r\n", "\n")
        (out / "collect" / name).write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    (out / "reports").mkdir()


# --- main -----------------------------------------------------------------------------------------


def build(platforms: Sequence[str] = DEFAULT_PLATFORMS, pythons: Sequence[str] = PYTHONS,
          out: Path = DIST, measure_packed: bool = True, jobs: int = 6, db: Optional[Path] = None) -> dict:
    """Build the whole bundle into `out` and return BUNDLE-INFO (also written into the bundle).

    `db`: a folder made by `cbom db build`, put on the stick as db/ (covered by SHA256SUMS): cbom and
    the launchers match every scan against it."""
    sys.path.insert(0, str(REPO))
    from cbom import __version__
    from cbom.bundle import MARKER, write_sums

    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise RuntimeError("the frozen build is made on Linux x86-64 only")
    t_all = time.monotonic()
    timings: Dict[str, float] = {}
    digest = inputs_digest()
    deps = project_dependencies()

    t = time.monotonic()
    py = ensure_build_venv(deps)
    src = stage_sources()
    fonts = stage_fonts()
    timings["venv"] = time.monotonic() - t
    log(f"build venv ready ({timings['venv']:.0f} s)")

    t = time.monotonic()
    frozen = freeze(py, src, fonts)
    timings["pyinstaller"] = time.monotonic() - t
    log(f"PyInstaller one-folder build done ({timings['pyinstaller']:.0f} s)")

    windows: Dict[str, object] = {"folder": WINDOWS_DIR, "python": WINDOWS_PYTHON, "built": False}
    frozen_win: Optional[Path] = None
    if "win-amd64" in platforms:
        t = time.monotonic()
        try:
            frozen_win = freeze_windows(py, src, windows)
            windows["built"] = True
        except RuntimeError as exc:
            windows["why_not"] = str(exc).splitlines()[0]
            log(f"no {WINDOWS_DIR}/cbom.exe: {windows['why_not']}")
        timings["pyinstaller_windows"] = time.monotonic() - t

    t = time.monotonic()
    wheel = build_cbom_wheel(py, src)
    staging = out.parent / (out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    problems = build_wheelhouse(py, wheel, deps, platforms, pythons, staging / "wheelhouse", jobs=jobs)
    timings["wheelhouse"] = time.monotonic() - t
    log(f"wheelhouse: {len(list((staging / 'wheelhouse').glob('*.whl')))} wheels ({timings['wheelhouse']:.0f} s)")
    for p in problems:
        log(f"  no wheel: {p}")

    t = time.monotonic()
    checks = check_wheelhouse(py, staging / "wheelhouse", platforms, pythons)
    timings["wheelhouse_check"] = time.monotonic() - t
    for target, verdict in checks.items():
        log(f"  offline install check {target}: {verdict}")

    copy_tree_dereferenced(frozen, staging / FROZEN_DIR)
    if frozen_win is not None:
        copy_tree_dereferenced(frozen_win, staging / WINDOWS_DIR)
    vulndb_info: Optional[dict] = None
    if db is not None:
        from cbom import vulndb

        try:
            found = vulndb.info(db)
        except vulndb.DBError as exc:
            raise RuntimeError(f"--db {db}: {exc}") from None
        (staging / "db").mkdir()
        shutil.copy2(Path(found.path), staging / "db" / Path(found.path).name)
        vulndb_info = {"knowledge_date": found.knowledge_date, "built": found.built,
                       "sources": [f"{s.kind} {s.date} {s.records} records" for s in found.sources]}
        log(f"vulnerability database: knowledge as of {found.knowledge_date} ({len(found.sources)} sources)")
    floor = glibc_floor(staging / FROZEN_DIR)
    runs_on, not_on = distro_support(floor)
    install_launchers(staging, src, {
        "VERSION": __version__, "BUILT": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "GLIBC": floor,
        "RUNS_ON": ", ".join(runs_on) + " and newer", "NOT_ON": ", ".join(not_on) or "-",
        "PYTHONS": f"{pythons[0]}-{pythons[-1]}" if len(pythons) > 1 else pythons[0],
        "PLATFORMS": ", ".join(platforms),
        "SUMS_HINT": "sha256sum SHA256SUMS  (compare with the value noted at build time)",
        "WINDOWS_BUILD": (f"windows-x86_64\\cbom.exe (CPython {WINDOWS_PYTHON}, self-contained, built under wine)"
                          if windows["built"] else f"NOT on this stick ({windows.get('why_not', '')})"),
    })
    info = {
        "name": "cbom-usb",
        "cbom_version": __version__,
        "built": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "build_host": f"{platform.system()} {platform.machine()} glibc {platform.libc_ver()[1]}",
        "frozen": {"folder": FROZEN_DIR, "python": _venv_version(py),
                   "pyinstaller": PYINSTALLER.split("==")[1], "glibc_required": floor},
        "windows": windows,
        "vulndb": vulndb_info,
        "wheelhouse": {"pythons": list(pythons), "platforms": list(platforms), "offline_install_check": checks,
                       "missing_wheels": problems},
        "templates_lookup": "frozen: <_MEIPASS>/templates (linux-x86_64/_internal/templates); "
                            "wheelhouse: CBOM_TEMPLATES=<bundle>/templates set by the launchers",
        "inputs_sha256": digest,
    }
    (staging / MARKER).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    sums_sha = write_sums(staging)
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    timings["total"] = time.monotonic() - t_all

    size, count = tree_size(out)
    fsize, _ = tree_size(out / FROZEN_DIR)
    wsize, _ = tree_size(out / "wheelhouse")
    info["measured"] = {"bytes": size, "files": count, "frozen_bytes": fsize, "wheelhouse_bytes": wsize,
                        "timings_s": {k: round(v, 1) for k, v in timings.items()}, "sha256sums_sha256": sums_sha}
    log(f"bundle {out}: {size / 1e6:.0f} MB in {count} files (frozen {fsize / 1e6:.0f} MB, "
        f"wheelhouse {wsize / 1e6:.0f} MB); needs glibc >= {floor}")
    if measure_packed:
        t = time.monotonic()
        info["measured"]["packed_bytes"] = packed_size(out)
        log(f"packed (tar.gz): {info['measured']['packed_bytes'] / 1e6:.0f} MB ({time.monotonic() - t:.0f} s)")
    log(f"built in {timings['total']:.0f} s; SHA256SUMS sha256 {sums_sha} (note it to check the stick later)")
    (BUILD / "last-bundle-build.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def _venv_version(py: Path) -> str:
    return run([py, "-c", "import platform; print(platform.python_version())"]).stdout.strip()


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m usb_bundle.build", description=__doc__.split("\n")[0])
    p.add_argument("--platforms", default=",".join(DEFAULT_PLATFORMS),
                   help=f"wheelhouse platforms among {','.join(PLATFORMS)} (default all)")
    p.add_argument("--pythons", default=",".join(PYTHONS), help="wheelhouse CPython versions (default 3.9-3.13)")
    p.add_argument("--if-needed", action="store_true", help="do nothing when dist/cbom-usb is up to date")
    p.add_argument("--no-packed-size", action="store_true", help="skip measuring the .tar.gz size")
    p.add_argument("-j", "--jobs", type=int, default=6, help="parallel wheel downloads (targets)")
    p.add_argument("--db", type=Path, help="a `cbom db build` folder to put on the stick as db/")
    args = p.parse_args(argv)
    platforms = [x for x in args.platforms.split(",") if x]
    pythons = [x for x in args.pythons.split(",") if x]
    bad = [x for x in platforms if x not in PLATFORMS]
    if bad:
        p.error(f"unknown platform(s) {','.join(bad)}")
    sys.dont_write_bytecode = True
    if args.if_needed and not args.db and is_up_to_date(DIST, platforms, pythons):
        log(f"{DIST} is up to date")
        return 0
    try:
        build(platforms, pythons, DIST, measure_packed=not args.no_packed_size, jobs=args.jobs, db=args.db)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        log(f"build failed: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
