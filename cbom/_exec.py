"""The only code that runs commands or reads host files for collectors.

Every command runs without a shell, under a timeout, in the C locale, in its
own process group (POSIX) or Job Object (Windows, `_winjob`), with stdout and
stderr captured up to a bound and decoded alike; a missing tool, a timeout,
endless output or a refused permission comes back as data
(`CommandResult.error`), never as an exception, and no wait is unbounded.

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
from typing import IO, List, Optional, Sequence, Union

from . import _winjob
from .decode import control_free, decode_recorded

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

    def why(self, quote: bool = True) -> str:
        """One line saying why the command did not succeed (or gave nothing): its exit status and
        the last line it wrote on stderr, free of control characters. `quote=False` leaves out the
        command line when the caller names the command itself (a PowerShell script is long)."""
        stderr = control_free(self.stderr.replace("\r", "\n"), keep_lines=True)
        tail = next((line.strip() for line in reversed(stderr.splitlines()) if line.strip()), "")
        line = f"`{shown(self.argv)}` " if quote else ""
        if self.error:
            error = control_free(self.error)
            return f"{error}: {tail}" if tail and tail not in error else error
        if self.empty:
            return f"{line}exited 0 but printed nothing" + (f" ({tail})" if tail else "")
        return f"{line}exited {exit_status(self.rc)}: {tail}".rstrip(": ")


def shown(argv: Sequence[str], width: int = 120) -> str:
    """A command line as a message quotes it: one line, cut at `width` characters (a PowerShell
    script or -EncodedCommand blob is thousands long; its start names it)."""
    line = control_free(" ".join(argv))
    return line if len(line) <= width else line[:width - 1] + "…"


def exit_status(rc: int) -> str:
    """An exit code as a person reads it.

    Windows exit codes are 32-bit: Python reports them unsigned (GetExitCodeProcess gives a
    DWORD), so `exit(-1)` (wmic refusing a query) comes back as 4294967295 and an NTSTATUS crash
    as 3221225477. Those are shown signed with their hex form: "-1 (0xFFFFFFFF)",
    "-1073741819 (0xC0000005)". Other codes are shown as they are.
    """
    if 0x80000000 <= rc <= 0xFFFFFFFF:
        return f"{rc - (1 << 32)} (0x{rc:08X})"
    return str(rc)


def c_env() -> dict:
    env = dict(os.environ)
    env.update(LC_ALL="C", LANG="C", LANGUAGE="C")
    # Python children of ours (e.g. a probed interpreter) must not write bytecode on the host.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


class _Drain(threading.Thread):
    """Reads one pipe to its end, keeping at most `limit` bytes; calls `overflow` once past it.

    The thread closes its own pipe when it ends. Nobody else may: closing a pipe another thread
    is blocked reading waits for that read on Windows (the buffered reader's lock), which is how
    a grandchild holding the pipe used to hang the scan there (windows-under-wine.md §7 F).
    """

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
        except (OSError, ValueError):  # the pipe broke under us (its writers were killed)
            return
        finally:
            try:
                self.pipe.close()
            except (OSError, ValueError):
                pass

    def data(self) -> bytes:
        return b"".join(self.chunks)


class ProcessTree:
    """Everything one command started, to be ended at once: its POSIX process group (the command
    runs in a new session), or on Windows a Job Object the command is assigned to on start, whose
    processes include every descendant it creates (`taskkill /T /F` when no job could be made)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.job = _winjob.attach(proc) if os.name == "nt" else None
        self.lock = threading.Lock()  # kill() also runs on the stdout reader (output past the limit)

    def kill(self) -> None:
        """Kill the command and everything it started (grandchildren included)."""
        with self.lock:
            self._kill()

    def _kill(self) -> None:
        proc = self.proc
        if os.name == "posix":
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            return
        if self.job is not None and _winjob.terminate(self.job):
            return
        # No job (Windows 7 inside a job that forbids nesting, or ctypes refused): the command's
        # tree by parent process id. Descendants whose parent already exited are not found that
        # way, hence the job first.
        if proc.poll() is None:
            try:
                subprocess.run(["taskkill", "/T", "/F", "/PID", str(proc.pid)], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
            except (OSError, subprocess.SubprocessError):
                pass
        try:
            proc.kill()
        except OSError:
            pass

    def close(self) -> None:
        """Kill what is left and release the job (KILL_ON_JOB_CLOSE ends its last processes too)."""
        with self.lock:
            self._kill()
            if self.job is not None:
                _winjob.close(self.job)
                self.job = None


# Seconds the output readers are still given once the command's tree is killed: the pipes close
# when their last writer dies. A process outside the tree holding them (one started through a
# service, as wine's explorer.exe) is not waited for: its reader thread is left behind.
_DRAIN_GRACE = 2.0


def run(argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT, input: Optional[str] = None,
        limit: int = READ_LIMIT) -> CommandResult:
    """Run `argv` (no shell) and return its output decoded (`decode_recorded`: UTF-8, UTF-16, code pages).

    The command runs in a new session (its own process group) on POSIX, in a Job Object on
    Windows: on timeout, when stdout passes `limit` bytes, and when it exits, the whole tree is
    killed, so a child that keeps the pipe open (`sh -c 'sleep 1000; …'`, `start /b …`) cannot
    hang the scan or outlive it. No wait is unbounded.
    """
    started = start(argv, stdin=input is not None, limit=limit)
    if isinstance(started, CommandResult):
        return started
    return started.finish(input.encode() if input is not None else None, timeout)


def start(argv: Sequence[str], stdin: bool = False, limit: int = READ_LIMIT) -> "Union[Running, CommandResult]":
    """Start `argv` as `run` does, without waiting: `Running.finish` gives its input and collects
    its result (a command started ahead of time, e.g. the PDF layout process warming up while the
    scan runs). A command that cannot start comes back as its CommandResult."""
    argv = tuple(argv)
    exe = shutil.which(argv[0])
    if exe is None:
        return CommandResult(argv, 127, "", "", error=f"`{argv[0]}` not found on PATH")
    extra: dict = {"start_new_session": True} if os.name == "posix" else \
        {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    try:
        proc = subprocess.Popen(
            (exe,) + argv[1:], stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=c_env(), **extra,
        )
    except OSError as exc:
        return CommandResult(argv, 126, "", "", error=f"`{argv[0]}` could not run: {exc.strerror or exc}")
    return Running(argv, proc, limit)


class Running:
    """A started command whose output is being read (`start`); `finish` ends it, `close` kills it."""

    def __init__(self, argv: tuple, proc: subprocess.Popen, limit: int) -> None:
        self.argv, self.proc, self.limit = argv, proc, limit
        self.tree = ProcessTree(proc)
        self.closed = False
        self.writer: Optional[threading.Thread] = None  # the thread giving stdin its data (`send`)
        assert proc.stdout is not None and proc.stderr is not None
        self.out = _Drain(proc.stdout, limit, self.tree.kill)
        self.err = _Drain(proc.stderr, STDERR_LIMIT, lambda: None)
        self.out.start()
        self.err.start()

    def send(self, data: bytes) -> None:
        """Write `data` to the command's stdin, then close it, from a thread of its own: a command
        that reads late (or never) blocks neither the caller nor its time limit."""
        stdin = self.proc.stdin
        if stdin is None:
            return

        def write() -> None:
            try:
                stdin.write(data)
                stdin.close()
            except (OSError, ValueError):  # the command exited without reading it, or was killed
                pass

        self.writer = threading.Thread(target=write, name="cbom-stdin", daemon=True)
        self.writer.start()

    def finish(self, data: Optional[bytes], timeout: float) -> CommandResult:
        """Give `data` to the command's stdin (`send`), wait up to `timeout` seconds for it to end,
        kill whatever is left of its tree and return what it printed."""
        proc, out, err = self.proc, self.out, self.err
        if data is not None:
            self.send(data)
        deadline = time.monotonic() + timeout
        timed_out = False
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            # The pipes may stay open after the command exits (a background grandchild holds them).
            out.join(max(0.0, deadline - time.monotonic()))
            err.join(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            # Whatever the command left behind goes with it (nothing of ours outlives a scan).
            self.close()
            try:
                proc.wait(timeout=_DRAIN_GRACE)
            except subprocess.TimeoutExpired:  # not seen: a killed process that does not end
                timed_out = True
            out.join(_DRAIN_GRACE)
            err.join(_DRAIN_GRACE)
        raw = out.data()
        stdout, stderr = decode_recorded(raw), decode_recorded(err.data())
        rc = proc.returncode if proc.returncode is not None else -1
        line = shown(self.argv)
        if timed_out:
            return CommandResult(self.argv, -1, stdout, stderr, error=f"`{line}` timed out after {timeout:g} s", raw=raw)
        if out.cut:
            return CommandResult(self.argv, rc, stdout, stderr, raw=raw, cut=True,
                                 error=f"`{line}` printed more than {_mib(self.limit)}: stopped and its output cut there")
        return CommandResult(self.argv, rc, stdout, stderr, raw=raw)

    def close(self) -> None:
        """Kill the command and everything it started (a command no longer needed). Once only: a
        process group id may be reused once its processes are gone."""
        if self.closed:
            return
        self.closed = True
        self.tree.close()
        # After the kill: a write blocked on a full pipe now fails, and stdin's lock is free.
        if self.proc.stdin is not None and self.writer is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass


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
    if os.name == "posix":  # Windows has no O_NONBLOCK, and its set_blocking works on pipes only (3.12+)
        os.set_blocking(fd, True)  # a regular file: plain reads from here on
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, f"{what} is not a regular file: not read", str(local))
    return fd


class FileTooLarge(OSError):
    """A host file larger than the read limit: refused whole rather than silently cut."""


def read_local(local: Path, limit: int = READ_LIMIT, what: str = "", head: bool = False, offset: int = 0) -> bytes:
    """Bytes of local regular file `local`, at most `limit`. Raises OSError (FileTooLarge past `limit`,
    unless `head`: then the first `limit` bytes are what the caller wants, an ELF header…). With an
    `offset`, the bytes from there (always as `head`: a window of the file)."""
    what = what or str(local)
    fd = _open_regular(local, what)
    head = head or offset > 0
    with os.fdopen(fd, "rb") as f:
        if offset:
            f.seek(offset)
        data = f.read(limit if head else limit + 1)
    if len(data) > limit:
        raise FileTooLarge(errno.EFBIG, f"{what} is larger than cbom's read limit of {_mib(limit)}: not read",
                           str(local))
    return data


def read_text(root: Path, path: str, limit: int = READ_LIMIT) -> str:
    """Read a host file (no symlink resolution: the running system) as UTF-8 text. Raises OSError."""
    return read_local(host_path(root, path), limit, what=path).decode("utf-8", "replace")
