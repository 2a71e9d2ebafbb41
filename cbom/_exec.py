"""The only code that runs commands or reads host files for collectors.

Every command runs without a shell, under a timeout, in the C locale, in its
own process group, with stdout and stderr captured up to a bound; a missing
tool, a timeout, endless output or a refused permission comes back as data
(`CommandResult.error`), never as an exception.

Every host file is read bounded (READ_LIMIT), and only when it is a regular
file: a FIFO would block the reader forever and /dev/zero never ends. Under an
image root or a recorded folder, paths are resolved component by component
*inside* that root (`resolve_inside`), so a symlink never leads the scan onto
the auditor's own machine.
"""
from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, List, Optional, Sequence

from .decode import decode_recorded

DEFAULT_TIMEOUT = 20.0
# The largest file or command output kept. The biggest real inventory input seen is a few MB
# (a dpkg status of 4,000 packages is ~10 MB); anything larger is refused with this limit named.
READ_LIMIT = 64 << 20
STDERR_LIMIT = 1 << 20
# Symlinks followed while resolving one path: Linux's own limit (path_resolution(7): 40).
MAX_LINKS = 40


def _mib(n: int) -> str:
    return f"{n / (1 << 20):g} MiB"


@dataclass(frozen=True)
class CommandResult:
    argv: tuple
    rc: int
    stdout: str
    stderr: str
    error: str = ""  # set when the command could not run or finish
    # stdout as bytes, for output that is not UTF-8 (wmic's UTF-16, OEM code pages)
    raw: bytes = field(default=b"", repr=False, compare=False)
    cut: bool = False  # stdout was longer than READ_LIMIT: the command was stopped there

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.error

    @property
    def empty(self) -> bool:
        """True when the command succeeded but printed nothing (a collector expecting data records a gap)."""
        return self.ok and not self.stdout.strip()

    def why(self) -> str:
        """One line saying why the command did not succeed (or gave nothing)."""
        tail = next((line.strip() for line in reversed(self.stderr.splitlines()) if line.strip()), "")
        if self.error:
            return f"{self.error}: {tail}" if tail and tail not in self.error else self.error
        if self.empty:
            return f"`{' '.join(self.argv)}` exited 0 but printed nothing" + (f" ({tail})" if tail else "")
        return f"`{' '.join(self.argv)}` exited {self.rc}: {tail}".rstrip(": ")


def c_env() -> dict:
    env = dict(os.environ)
    env.update(LC_ALL="C", LANG="C", LANGUAGE="C")
    # Python children of ours (e.g. a probed interpreter) must not write bytecode on the host.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


class _Drain(threading.Thread):
    """Reads one pipe to its end, keeping at most `limit` bytes; calls `overflow` once past it."""

    def __init__(self, pipe: IO[bytes], limit: int, overflow) -> None:
        super().__init__(daemon=True)
        self.pipe, self.limit, self.overflow = pipe, limit, overflow
        self.chunks: List[bytes] = []
        self.size = 0
        self.cut = False

    def run(self) -> None:
        try:
            while True:
                chunk = self.pipe.read1(1 << 16) if hasattr(self.pipe, "read1") else self.pipe.read(1 << 16)
                if not chunk:
                    return
                room = self.limit - self.size
                if len(chunk) > room:
                    self.chunks.append(chunk[:room])
                    self.size = self.limit
                    self.cut = True
                    self.overflow()
                    return
                self.chunks.append(chunk)
                self.size += len(chunk)
        except (OSError, ValueError):  # the pipe was closed under us (the group was killed)
            return

    def data(self) -> bytes:
        return b"".join(self.chunks)


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill `proc` and everything it started (its process group: grandchildren included)."""
    if os.name == "posix":
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    else:  # Windows: no process groups to signal; the child itself at least
        try:
            proc.kill()
        except OSError:
            pass


def run(argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT, input: Optional[str] = None,
        limit: int = READ_LIMIT) -> CommandResult:
    """Run `argv` (no shell) and return its output decoded (`decode_recorded`: UTF-8, UTF-16, code pages).

    The command runs in a new session (its own process group): on timeout, or when stdout
    passes `limit` bytes, the whole group is killed, so a child that keeps the pipe open
    (`sh -c 'sleep 1000; …'`) cannot hang the scan or outlive it.
    """
    argv = tuple(argv)
    line = " ".join(argv)
    exe = shutil.which(argv[0])
    if exe is None:
        return CommandResult(argv, 127, "", "", error=f"`{argv[0]}` not found on PATH")
    extra: dict = {"start_new_session": True} if os.name == "posix" else \
        {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    try:
        proc = subprocess.Popen(
            (exe,) + argv[1:], stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=c_env(), **extra,
        )
    except OSError as exc:
        return CommandResult(argv, 126, "", "", error=f"`{argv[0]}` could not run: {exc.strerror or exc}")
    assert proc.stdout is not None and proc.stderr is not None
    out = _Drain(proc.stdout, limit, lambda: _kill_group(proc))
    err = _Drain(proc.stderr, STDERR_LIMIT, lambda: None)
    out.start()
    err.start()
    if input is not None and proc.stdin is not None:
        try:
            proc.stdin.write(input.encode())
            proc.stdin.close()
        except OSError:  # the command exited without reading it
            pass
    deadline = time.monotonic() + timeout
    timed_out = False
    try:
        proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        # The pipes may stay open after the command exits (a background grandchild holds them).
        out.join(max(0.0, deadline - time.monotonic()))
        err.join(max(0.0, deadline - time.monotonic()))
        timed_out = out.is_alive() and proc.returncode is None
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        # Whatever the command left behind in its group goes with it (nothing of ours outlives a scan).
        _kill_group(proc)
        proc.wait()
        out.join(1.0)
        err.join(1.0)
        for pipe in (proc.stdout, proc.stderr):
            pipe.close()
    raw = out.data()
    stdout, stderr = decode_recorded(raw), decode_recorded(err.data())
    if timed_out:
        return CommandResult(argv, -1, stdout, stderr, error=f"`{line}` timed out after {timeout:g} s", raw=raw)
    if out.cut:
        return CommandResult(argv, proc.returncode, stdout, stderr, raw=raw, cut=True,
                             error=f"`{line}` printed more than {_mib(limit)}: stopped and its output cut there")
    return CommandResult(argv, proc.returncode, stdout, stderr, raw=raw)


def host_path(root: Path, path: str) -> Path:
    """`path` (absolute, as on the scanned system) under `root`, symlinks not resolved."""
    return root / path.lstrip("/")


def resolve_inside(root: Path, path: str, what: str = "the image", absolute_links: bool = True) -> Path:
    """The local path of host path `path` under `root`, every symlink resolved inside `root`.

    An absolute link target is taken from `root` (what the image's own system
    would read: /etc/os-release -> /usr/lib/os-release) when `absolute_links`,
    else refused (a recorded folder has no "/" of its own). A link that climbs
    above `root` ("../../../etc/passwd") and a link loop are refused with an
    OSError naming them. Components that do not exist are kept as they are, so
    the result may not exist.
    """
    base = Path(os.path.realpath(root))
    todo = [p for p in path.split("/") if p not in ("", ".")]
    done: List[str] = []
    hops = 0
    while todo:
        part = todo.pop(0)
        if part == ".":
            continue
        if part == "..":
            if not done:
                raise OSError(errno.EXDEV, f"{path} leads outside {what} (refused)", path)
            done.pop()
            continue
        here = base.joinpath(*done, part)
        try:
            st = os.lstat(here)
        except OSError:  # absent (or unreadable): nothing more to resolve
            return base.joinpath(*done, part, *todo)
        if not stat.S_ISLNK(st.st_mode):
            done.append(part)
            continue
        hops += 1
        if hops > MAX_LINKS:
            raise OSError(errno.ELOOP, f"{path}: symlink loop or more than {MAX_LINKS} links (refused)", path)
        target = os.readlink(here)
        if target.startswith("/") or (os.name == "nt" and os.path.isabs(target)):
            if not absolute_links:
                raise OSError(errno.EXDEV, f"{path} is a symlink out of {what} (-> {target}; refused)", path)
            done = []
        todo = [p for p in target.replace("\\", "/").split("/") if p] + todo
    return base.joinpath(*done)


def _open_regular(local: Path, what: str) -> int:
    """A descriptor on `local` when it is a regular file; FIFOs, devices and sockets are refused unopened."""
    try:
        st = os.stat(local)
    except OSError:
        raise
    if not stat.S_ISREG(st.st_mode):
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(local))
        kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file")
        raise OSError(errno.EINVAL, f"{what} is {kind}: not read", str(local))
    # O_NONBLOCK: should the file have turned into a FIFO since the stat, open() still returns.
    fd = os.open(local, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)  # a regular file: plain reads from here on
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, f"{what} is not a regular file: not read", str(local))
    return fd


class FileTooLarge(OSError):
    """A host file larger than the read limit: refused whole rather than silently cut."""


def read_local(local: Path, limit: int = READ_LIMIT, what: str = "", head: bool = False) -> bytes:
    """Bytes of local regular file `local`, at most `limit`. Raises OSError (FileTooLarge past `limit`,
    unless `head`: then the first `limit` bytes are what the caller wants, an ELF header…)."""
    what = what or str(local)
    fd = _open_regular(local, what)
    with os.fdopen(fd, "rb") as f:
        data = f.read(limit if head else limit + 1)
    if len(data) > limit:
        raise FileTooLarge(errno.EFBIG, f"{what} is larger than cbom's read limit of {_mib(limit)}: not read",
                           str(local))
    return data


def read_text(root: Path, path: str, limit: int = READ_LIMIT) -> str:
    """Read a host file (no symlink resolution: the running system) as UTF-8 text. Raises OSError."""
    return read_local(host_path(root, path), limit, what=path).decode("utf-8", "replace")
