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


def _linux_source(source: str, what: str, read: Callable[[ScanContext, Distro], Iterable[Item]]) -> type:
    """A Linux package-database collector; the distribution (for PURL qualifiers) is read once per run."""

    class Source(_Software):
        name = f"software.{source}"
        description = what

        def collect(self, ctx: ScanContext) -> Iterable[Item]:
            return read(ctx, _linux.read_distro(ctx))

    Source.__name__ = Source.__qualname__ = f"Software{source.capitalize()}"
    return Source


class SoftwareSnap(_Software):
    name = "software.snap"
    description = "snap packages (/snap)"

    def collect(self, ctx: ScanContext) -> Iterable[Item]:
        return _linux.collect_snap(ctx)


class SoftwareFlatpak(_Software):
    name = "software.flatpak"
    description = "flatpak applications and runtimes (system and per-user)"

    def collect(self, ctx: ScanContext) -> Iterable[Item]:
        return _linux.collect_flatpak(ctx)


class SoftwareKernelModules(_Software):
    name = "software.kmod"
    description = "loaded kernel modules (/proc/modules) with their version"

    def collect(self, ctx: ScanContext) -> Iterable[Item]:
        return _linux.collect_kernel_modules(ctx)


class SoftwarePython(_Software):
    name = "software.python"
    description = "Python distributions of every interpreter and virtualenv found"
    platforms = frozenset(Platform)

    def collect(self, ctx: ScanContext) -> Iterable[Item]:
        distro = _linux.read_distro(ctx) if ctx.platform == Platform.LINUX else Distro()
        return _python.collect_python(ctx, distro)


class SoftwareWindows(_Software):
    name = "software.windows"
    description = "Windows programs (registry Uninstall keys, 64/32-bit and per-user) and hotfixes"
    platforms = frozenset({Platform.WINDOWS})

    def collect(self, ctx: ScanContext) -> Iterable[Item]:
        return _windows.collect_windows(ctx)


class SoftwareMacos(_Software):
    name = "software.macos"
    description = "macOS applications, pkgutil receipts, Homebrew"
    platforms = frozenset({Platform.DARWIN})

    def collect(self, ctx: ScanContext) -> Iterable[Item]:
        return _darwin.collect_darwin(ctx)


SoftwareDpkg = _linux_source("dpkg", "Debian packages (dpkg status database)", _linux.collect_dpkg)
SoftwareRpm = _linux_source("rpm", "RPM packages (rpm database)", _linux.collect_rpm)
SoftwareApk = _linux_source("apk", "Alpine packages (apk installed database)", _linux.collect_apk)
SoftwarePacman = _linux_source("pacman", "Arch packages (pacman local database)", _linux.collect_pacman)

COLLECTORS = (
    SoftwareDpkg, SoftwareRpm, SoftwareApk, SoftwarePacman, SoftwareSnap, SoftwareFlatpak, SoftwareKernelModules,
    SoftwarePython, SoftwareWindows, SoftwareMacos,
)
