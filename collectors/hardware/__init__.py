"""The `hardware` collector: what is in the box.

System, baseboard and chassis (DMI/SMBIOS), CPUs with microcode and the
kernel's vulnerability verdicts, memory, storage, PCI/USB devices named
offline from pci.ids/usb.ids, network adapters, GPUs and the TPM. One module
per platform; parsing lives in pure functions there.
"""
from __future__ import annotations

from typing import Iterator

from cbom.collector import Collector, ScanContext
from cbom.model import Item, Platform


class HardwareCollector(Collector):
    """Hardware inventory (CycloneDX `device` components of category `hardware`)."""

    name = "hardware"
    description = "system/board/chassis, CPU + microcode, memory, disks, PCI/USB, NICs, GPUs, TPM"
    platforms = frozenset({Platform.LINUX, Platform.WINDOWS, Platform.DARWIN})
    default = True
    timeout = 60.0
    cli_options = (
        (("--redact",), {
            "choices": ["serials"], "action": "append", "default": [],
            "help": "replace serial numbers and UUIDs with a salted SHA-256 (repeatable; 'serials')",
        }),
        (("--redact-salt",), {
            "default": "", "metavar": "SALT",
            "help": "salt for --redact (use the same salt on every scan of a site so diffs still match)",
        }),
    )

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        if ctx.platform == Platform.WINDOWS:
            from . import _windows as impl
        elif ctx.platform == Platform.DARWIN:
            from . import _darwin as impl  # type: ignore[no-redef]
        else:
            from . import _linux as impl  # type: ignore[no-redef]
        yield from impl.collect(ctx)
