"""The collector contract and the scan context handed to collectors.

A collector is a class with a `name` ("area.source"), the `platforms` it runs
on, what it `requires` (commands on PATH, root) and a `collect(ctx)` that
yields model items. It reads the machine only through `ctx` (commands, files),
which asks a host backend (`cbom.host`): the running machine, a mounted image,
or a recorded folder — so one collector describes all three with one code path.
"""
from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple, TypeVar, cast

from . import _exec
from .host import HostBackend, LocalHost
from .model import Gap, Item, Platform


_CACHE_LOCK = threading.Lock()
T = TypeVar("T")


def current_platform() -> Optional[Platform]:
    if sys.platform.startswith("linux"):
        return Platform.LINUX
    if sys.platform.startswith("win"):
        return Platform.WINDOWS
    if sys.platform == "darwin":
        return Platform.DARWIN
    return None


def is_admin() -> bool:
    if hasattr(os, "geteuid"):
        return os.geteuid() == 0
    try:  # Windows
        import ctypes

        return bool(ctypes.windll.shell32.IsUserAnAdmin())  # type: ignore[attr-defined]
    except Exception:
        return False


@dataclass(frozen=True)
class Note(Gap):
    """What a collector left out on purpose, and why, in one line (e.g. cbom's own interpreter).

    Not a gap: the run keeps its status (`ok` stays `ok`); the runner records the note as the run's
    reason (`cbom:collector:<name>:reason`), so the exclusion is stated, never silent. A `Gap`
    subclass only so that a collector typed `Iterator[Item]` may yield it.
    """


@dataclass
class ScanContext:
    """What a collector may use: the scanned machine's commands and files (through `host`), options.

    `root` alone gives the local backend at that root (the running system for "/", which on
    Windows is the system drive's root, `cbom.host.system_root`, never the current drive's); `host`
    gives any backend (a recorded folder), and then `root` is where that backend reads from.
    """

    platform: Optional[Platform] = field(default_factory=current_platform)
    root: Path = Path("/")
    admin: bool = field(default_factory=is_admin)
    options: Dict[str, object] = field(default_factory=dict)
    command_timeout: float = _exec.DEFAULT_TIMEOUT
    host: HostBackend = None  # type: ignore[assignment]  # set in __post_init__
    _results: Dict[Tuple[str, ...], _exec.CommandResult] = field(default_factory=dict, repr=False)
    _memo: Dict[Tuple[str, ...], object] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.host is None:
            self.host = LocalHost(Path(self.root))
        self.root = self.host.root

    @property
    def live(self) -> bool:
        """True when commands and /proc describe the scanned machine: the running system or a
        recording of one; False for a mounted image under --root."""
        return self.host.describes_running_system

    @property
    def local(self) -> bool:
        """True when the scanned machine is the one cbom runs on: only then may a collector ask
        the operating system directly (psutil, socket, platform) instead of `run`/`read`."""
        return self.host.kind == "local"

    @property
    def recorded(self) -> bool:
        """True when the machine is a folder recorded by collect.sh / collect.bat / collect.ps1."""
        return self.host.kind == "recorded"

    def run(self, argv: Sequence[str], timeout: Optional[float] = None) -> _exec.CommandResult:
        """A command's result. Inventory commands only read: two collectors asking the same
        command line in one scan (dmidecode for the DMI and the CPU sources) share one run."""
        key = tuple(argv)
        with _CACHE_LOCK:
            cached = self._results.get(key)
        if cached is not None:
            return cached
        result = self.host.run(argv, timeout=timeout or self.command_timeout)
        with _CACHE_LOCK:
            self._results[key] = result
        return result

    def memo(self, key: Tuple[str, ...], compute: Callable[[], T]) -> T:
        """`compute()` once per scan for `key`: what two sources of one tool share (dmidecode's
        parsed table for the DMI and the CPU sources). The value must not be changed by its users."""
        with _CACHE_LOCK:
            if key in self._memo:
                return cast(T, self._memo[key])
        value = compute()
        with _CACHE_LOCK:
            return cast(T, self._memo.setdefault(key, value))

    def read_all(self, path: str) -> List[Tuple[str, str]]:
        """(where, text) of every copy of host file `path`: one on a machine, several in a folder of
        recorded samples. Raises OSError when there is none."""
        return self.host.read_all(path)

    def sys_link(self, path: str) -> Optional[str]:
        """Target of sysfs symlink `path` relative to /sys, or None (absent, or not recorded)."""
        return self.host.sys_link(path)

    def run_each(self, argv: Sequence[str], timeout: Optional[float] = None) -> List[_exec.CommandResult]:
        """Every recorded output of `argv` (a folder of samples may hold several); one run otherwise."""
        return self.host.run_each(argv, timeout=timeout or self.command_timeout)

    def read(self, path: str) -> str:
        """Text of host file `path`. Raises OSError."""
        return self.host.read(path)

    def read_bytes(self, path: str, limit: int = _exec.READ_LIMIT, head: bool = False, offset: int = 0) -> bytes:
        """Bytes of host file `path` (regular files only, at most `limit`; the first `limit` bytes
        when `head`; the `limit` bytes from `offset` when given). Raises OSError."""
        return self.host.read_bytes(path, limit, head, offset)

    def path(self, path: str) -> Path:
        """A local path holding host file or folder `path` (it may not exist), its symlinks resolved
        inside the scanned machine. Open what lies *under* it through `read`/`listdir`/`glob`, which
        resolve the links of those components inside the scanned machine too."""
        return self.host.path(path)

    def listdir(self, path: str) -> List[str]:
        """Sorted names in host folder `path`. Raises OSError."""
        return self.host.listdir(path)

    def glob(self, pattern: str) -> List[str]:
        """Host paths matching `pattern` (fnmatch per component), resolved inside the scanned machine."""
        return self.host.glob(pattern)

    def is_dir(self, path: str) -> bool:
        return self.host.is_dir(path)

    def is_file(self, path: str) -> bool:
        return self.host.is_file(path)

    def exists(self, path: str) -> bool:
        return self.host.exists(path)

    def readlink(self, path: str) -> str:
        """Text of symlink `path` ("" when it is not one)."""
        return self.host.readlink(path)

    def which(self, command: str) -> Optional[str]:
        return self.host.which(command)

    def option(self, name: str, default: object = None) -> object:
        return self.options.get(name, default)


class Collector:
    """Base class of every collector (subclass it, or match its shape)."""

    name: ClassVar[str]  # "os", "network", "hardware"…: unique, lower case
    description: ClassVar[str] = ""
    platforms: ClassVar[FrozenSet[Platform]] = frozenset(Platform)
    requires: ClassVar[FrozenSet[str]] = frozenset()  # commands that must be on PATH
    requires_admin: ClassVar[bool] = False  # skipped (not failed) without root/Administrator
    timeout: ClassVar[float] = 60.0  # seconds for the whole collector
    default: ClassVar[bool] = True  # part of a plain `cbom scan`
    order: ClassVar[int] = 50  # run order (then name): long passive listening goes last
    # Areas this collector also serves beyond its own ("hardware.dmi" reads the BIOS too, so
    # `--only firmware` runs it): selection by area name includes it.
    areas: ClassVar[FrozenSet[str]] = frozenset()
    # Extra `cbom scan` flags, as argparse add_argument() (flags, kwargs) pairs; the parsed
    # values reach the collector as ctx.options[dest]. Plug-ins add their own flags this way.
    cli_options: ClassVar[Tuple[Tuple[Tuple[str, ...], Dict[str, Any]], ...]] = ()

    # False for collectors that need the running machine itself (listening to its network):
    # they are skipped for a recorded folder.
    reads_recordings: ClassVar[bool] = True

    def collect(self, ctx: ScanContext) -> Iterable[Item]:
        raise NotImplementedError

    @classmethod
    def announce(cls, ctx: ScanContext) -> str:
        """A line to show when this collector starts, for ones the user waits on ("" for none)."""
        return ""

    @classmethod
    def time_limit(cls, ctx: ScanContext) -> float:
        """Seconds this collector may run in `ctx` (override when options change it)."""
        return cls.timeout

    @classmethod
    def unavailable(cls, ctx: ScanContext) -> str:
        """Why this collector cannot run in `ctx`, or "" when it can."""
        if ctx.recorded and not cls.reads_recordings:
            return "needs the running machine, not a recording"
        if ctx.platform not in cls.platforms:
            names = ", ".join(sorted(p.value for p in cls.platforms))
            return f"runs on {names}, not {ctx.platform.value if ctx.platform else sys.platform}"
        missing = sorted(c for c in cls.requires if ctx.which(c) is None)
        if missing:
            return f"needs {', '.join(missing)} on PATH (not found)"
        if cls.requires_admin and not ctx.admin:
            return "needs root/Administrator"
        return ""
