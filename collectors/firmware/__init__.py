"""The `firmware` collector: which firmware runs on the hardware.

BIOS/UEFI with release date, boot mode and Secure Boot, CPU microcode, disk,
NIC and TPM firmware, and every device fwupd knows. Each component depends on
(and names in `cbom:hardware-ref`) the hardware component it runs on; refs come
from collectors.hardware._refs so both collectors agree without running together.
"""
from __future__ import annotations

from typing import Iterator

from cbom.collector import Collector, ScanContext
from cbom.model import Item, Platform


class FirmwareCollector(Collector):
    """Firmware inventory (CycloneDX `firmware` components of category `firmware`)."""

    name = "firmware"
    description = "BIOS/UEFI, Secure Boot, CPU microcode, disk/NIC/TPM firmware, fwupd devices"
    platforms = frozenset({Platform.LINUX, Platform.WINDOWS, Platform.DARWIN})
    default = True
    timeout = 60.0

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        if ctx.platform == Platform.WINDOWS:
            from . import _windows as impl
        elif ctx.platform == Platform.DARWIN:
            from . import _darwin as impl  # type: ignore[no-redef]
        else:
            from . import _linux as impl  # type: ignore[no-redef]
        yield from impl.collect(ctx)
