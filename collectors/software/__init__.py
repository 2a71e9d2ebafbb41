"""Installed software: system packages with PURLs, Python distributions, kernel modules.

Linux: dpkg, rpm, apk, pacman, snap, flatpak and loaded kernel modules.
Windows: the registry Uninstall keys (64-bit, 32-bit and per-user views) and
installed hotfixes. macOS: application bundles, pkgutil receipts, Homebrew.
Python distributions everywhere. Every database is read through the scan
context, so `--root DIR` inventories a mounted disk image or chroot.
"""
from __future__ import annotations

from typing import Iterable

from cbom.collector import Collector, ScanContext
from cbom.model import Item, Platform

__all__ = ["SoftwareCollector"]


class SoftwareCollector(Collector):
    """Everything installed, one component per package, with PURL, licence and origin."""

    name = "software"
    description = "installed packages (dpkg, rpm, apk, pacman, snap, flatpak, Python, Windows, macOS) and kernel modules"
    platforms = frozenset(Platform)
    default = True
    timeout = 120.0

    def collect(self, ctx: ScanContext) -> Iterable[Item]:
        from ._linux import read_distro
        from ._python import collect_python

        if ctx.platform == Platform.WINDOWS:
            from ._windows import collect_windows

            yield from collect_windows(ctx)
        elif ctx.platform == Platform.DARWIN:
            from ._darwin import collect_darwin

            yield from collect_darwin(ctx)
        else:
            from ._linux import collect_linux

            yield from collect_linux(ctx)
        yield from collect_python(ctx, read_distro(ctx))
