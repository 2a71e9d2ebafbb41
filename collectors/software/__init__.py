"""Installed software: system packages with PURLs, Python distributions, kernel modules.

Linux: dpkg, rpm, apk, pacman, snap, flatpak and loaded kernel modules.
Windows: the registry Uninstall keys (64-bit, 32-bit and per-user views) and
installed hotfixes. macOS: application bundles, pkgutil receipts, Homebrew.
Python distributions everywhere. Every database is read through the scan
context, so `--root DIR` inventories a mounted disk image or chroot.
"""
from __future__ import annotations

from typing import Callable, Iterable

from cbom.collector import Collector, ScanContext
from cbom.model import Item, Platform

from . import _darwin, _linux, _python, _windows
from ._common import Distro

__all__ = ["COLLECTORS"]


class _Software(Collector):
    """One package database: contained on its own, selectable as `software.<source>`."""

    platforms = frozenset({Platform.LINUX})
    default = True
    timeout = 120.0


def _source(class_name: str, source: str, what: str, read: Callable[[ScanContext], Iterable[Item]],
            platform: Platform = Platform.LINUX) -> type:
    """A collector of one package source of one platform (a module-level name: entry points name it)."""

    class Source(_Software):
        name = f"software.{source}"
        description = what
        platforms = frozenset({platform})

        def collect(self, ctx: ScanContext) -> Iterable[Item]:
            return read(ctx)

    Source.__name__ = Source.__qualname__ = class_name
    return Source


def _with_distro(read: Callable[[ScanContext, Distro], Iterable[Item]]) -> Callable[[ScanContext], Iterable[Item]]:
    """A Linux package database's reader, given the distribution (for PURL qualifiers) read once per run."""
    return lambda ctx: read(ctx, _linux.read_distro(ctx))


class SoftwarePython(_Software):
    name = "software.python"
    description = "Python distributions of every interpreter and virtualenv found"
    platforms = frozenset(Platform)

    def collect(self, ctx: ScanContext) -> Iterable[Item]:
        distro = _linux.read_distro(ctx) if ctx.platform == Platform.LINUX else Distro()
        return _python.collect_python(ctx, distro)


SoftwareDpkg = _source("SoftwareDpkg", "dpkg", "Debian packages (dpkg status database)",
                       _with_distro(_linux.collect_dpkg))
SoftwareRpm = _source("SoftwareRpm", "rpm", "RPM packages (rpm database)", _with_distro(_linux.collect_rpm))
SoftwareApk = _source("SoftwareApk", "apk", "Alpine packages (apk installed database)", _with_distro(_linux.collect_apk))
SoftwarePacman = _source("SoftwarePacman", "pacman", "Arch packages (pacman local database)",
                         _with_distro(_linux.collect_pacman))
SoftwareSnap = _source("SoftwareSnap", "snap", "snap packages (/snap)", _linux.collect_snap)
SoftwareFlatpak = _source("SoftwareFlatpak", "flatpak", "flatpak applications and runtimes (system and per-user)",
                          _linux.collect_flatpak)
SoftwareKernelModules = _source("SoftwareKernelModules", "kmod", "loaded kernel modules (/proc/modules) with their version",
                                _linux.collect_kernel_modules)
SoftwareWindows = _source("SoftwareWindows", "windows",
                          "Windows programs (registry Uninstall keys, 64/32-bit and per-user) and hotfixes",
                          _windows.collect_windows, Platform.WINDOWS)
SoftwareMacos = _source("SoftwareMacos", "macos", "macOS applications, pkgutil receipts, Homebrew",
                        _darwin.collect_darwin, Platform.DARWIN)

COLLECTORS = (
    SoftwareDpkg, SoftwareRpm, SoftwareApk, SoftwarePacman, SoftwareSnap, SoftwareFlatpak, SoftwareKernelModules,
    SoftwarePython, SoftwareWindows, SoftwareMacos,
)
