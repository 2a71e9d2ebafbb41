"""Firmware collectors: which firmware runs on the hardware.

BIOS/UEFI with release date, boot mode and Secure Boot, CPU microcode, disk,
NIC and TPM firmware, and every device fwupd knows. On Linux, firmware is
produced by the source that reads it (the BIOS by `hardware.dmi`, microcode by
`hardware.cpu`…, which also answer to `--only firmware`); the boot mode and
fwupd have collectors of their own. On Windows and macOS `hardware.windows` /
`hardware.macos` yield the firmware of the WMI classes / system_profiler reports
they read. Each component depends on
(and names in `cbom:hardware-ref`) the hardware component it runs on; refs come
from collectors.hardware._refs so both collectors agree without running together.
"""
from __future__ import annotations

from typing import Iterator

from cbom.collector import Collector, ScanContext
from cbom.model import Item, Platform

from ..hardware._linux_sources import collect_boot
from . import _linux

__all__ = ["COLLECTORS"]


class _Firmware(Collector):
    """Firmware inventory (CycloneDX `firmware` components of category `firmware`)."""

    default = True
    timeout = 60.0


class FirmwareBoot(_Firmware):
    name = "firmware.boot"
    description = "boot mode (UEFI or legacy BIOS) and Secure Boot state (/sys/firmware/efi, efivars)"
    platforms = frozenset({Platform.LINUX})

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        return collect_boot(ctx)


class FirmwareFwupd(_Firmware):
    name = "firmware.fwupd"
    description = "firmware of every device the fwupd daemon knows (fwupdmgr get-devices)"
    platforms = frozenset({Platform.LINUX})
    reads_recordings = False  # it asks the running fwupd daemon

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        return _linux.collect_fwupd(ctx)


COLLECTORS = (FirmwareBoot, FirmwareFwupd)
