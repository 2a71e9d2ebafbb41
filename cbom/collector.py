"""The collector contract, the scan context handed to collectors, and the registry.

A collector is a class with a `name`, the `platforms` it runs on, what it
`requires` (commands on PATH, root) and a `collect(ctx)` that yields model
items. Built-in collectors are registered through the `cbom.collectors`
entry-point group exactly like third-party ones; `collectors.BUILTIN` is the
fallback when cbom runs without installed metadata (the USB bundle).
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple, Type

from . import _exec
from .model import Item, Platform

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "cbom.collectors"


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


@dataclass
class ScanContext:
    """What a collector may use: the host's files (under `root`), commands, options."""

    platform: Optional[Platform] = field(default_factory=current_platform)
    root: Path = Path("/")
    admin: bool = field(default_factory=is_admin)
    options: Dict[str, object] = field(default_factory=dict)
    command_timeout: float = _exec.DEFAULT_TIMEOUT

    @property
    def live(self) -> bool:
        """True when scanning the running system, not a mounted image under --root."""
        return self.root == Path("/")

    def run(self, argv: Sequence[str], timeout: Optional[float] = None) -> _exec.CommandResult:
        return _exec.run(argv, timeout=timeout or self.command_timeout)

    def read(self, path: str) -> str:
        """Text of host file `path` (under `root`). Raises OSError."""
        return _exec.read_text(self.root, path)

    def path(self, path: str) -> Path:
        return _exec.host_path(self.root, path)

    def which(self, command: str) -> Optional[str]:
        return shutil.which(command)

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
    # Extra `cbom scan` flags, as argparse add_argument() (flags, kwargs) pairs; the parsed
    # values reach the collector as ctx.options[dest]. Plug-ins add their own flags this way.
    cli_options: ClassVar[Tuple[Tuple[Tuple[str, ...], Dict[str, Any]], ...]] = ()

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
        if ctx.platform not in cls.platforms:
            names = ", ".join(sorted(p.value for p in cls.platforms))
            return f"runs on {names}, not {ctx.platform.value if ctx.platform else sys.platform}"
        missing = sorted(c for c in cls.requires if ctx.which(c) is None)
        if missing:
            return f"needs {', '.join(missing)} on PATH (not found)"
        if cls.requires_admin and not ctx.admin:
            return "needs root/Administrator"
        return ""


def load_collectors(include_entry_points: bool = True) -> Tuple[List[Type[Collector]], List[str]]:
    """Every registered collector class, and one line per plug-in that failed to load.

    Entry points first; the built-in tuple fills in what is missing (a bundle
    without dist-info). A broken plug-in is reported, never fatal.
    """
    found: Dict[str, Type[Collector]] = {}
    errors: List[str] = []
    if include_entry_points:
        for ep in _entry_points():
            try:
                cls = ep.load()
            except Exception as exc:  # a broken third-party plug-in must not stop the scan
                errors.append(f"collector plug-in {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}")
                continue
            _register(found, cls, errors, origin=ep.value)
    try:
        from collectors import BUILTIN
    except ImportError as exc:
        errors.append(f"built-in collectors unavailable: {exc}")
        BUILTIN = ()
    for cls in BUILTIN:
        if getattr(cls, "name", None) not in found:
            _register(found, cls, errors, origin="built-in")
    return sorted(found.values(), key=lambda c: c.name), errors


def _register(found: Dict[str, Type[Collector]], cls: object, errors: List[str], origin: str) -> None:
    name = getattr(cls, "name", None)
    if not (isinstance(cls, type) and issubclass(cls, Collector) and isinstance(name, str) and name):
        errors.append(f"{origin}: not a collector (subclass cbom.collector.Collector and set `name`)")
        return
    if name in found and found[name] is not cls:
        errors.append(f"{origin}: collector name {name!r} already taken by {found[name].__module__}; ignored")
        return
    found[name] = cls  # type: ignore[assignment]


def _entry_points() -> list:
    try:
        eps = metadata.entry_points()
        if hasattr(eps, "select"):
            return list(eps.select(group=ENTRY_POINT_GROUP))
        return list(eps.get(ENTRY_POINT_GROUP, []))  # Python 3.9
    except Exception as exc:
        log.warning("could not read entry points: %s", exc)
        return []
