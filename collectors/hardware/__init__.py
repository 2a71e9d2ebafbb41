"""Hardware collectors: what is in the box.

System, baseboard and chassis (DMI/SMBIOS), CPUs with microcode and the
kernel's vulnerability verdicts, memory, storage, PCI/USB devices named
offline from pci.ids/usb.ids, network adapters, GPUs and the TPM. On Linux one
collector per source (`hardware.dmi`, `hardware.cpu`…), each also yielding the
firmware it reads; on Windows and macOS one per platform (WMI, system_profiler).
Parsing lives in pure functions in the platform modules.
"""
from __future__ import annotations

import gzip
import itertools
import re
from typing import Callable, Dict, FrozenSet, Iterator, Optional, Tuple

from cbom import vocabulary as V
from cbom.collector import Collector, ScanContext
from cbom.model import Gap, HostFact, Item, Platform

from .. import _ids
from ..firmware import _darwin as _fw_darwin
from ..firmware import _windows as _fw_windows
from . import _darwin, _windows
from . import _linux_sources as _sources

# The ID databases each platform's module names devices with (Windows names come from WMI).
IDS_USED: Dict[Platform, Tuple[str, ...]] = {Platform.LINUX: ("pci", "usb"), Platform.DARWIN: ("usb",)}
# Who publishes them (see collectors/data/IDS_SOURCES.md for the Debian package each copy came from).
IDS_ORIGIN = {
    "pci": "The PCI ID Repository, https://pci-ids.ucw.cz/",
    "usb": "The Linux USB ID Repository, http://www.linux-usb.org/usb-ids.html",
}


class _Hardware(Collector):
    """Hardware inventory (CycloneDX `device` components of category `hardware`)."""

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


def _linux_source(source: str, what: str, read: Callable[[ScanContext], Iterator[Item]],
                  also: FrozenSet[str] = frozenset(), ids: str = "") -> type:
    """A Linux hardware source; `also` names the other areas it serves (firmware it reads), `ids`
    the device-name database whose version it reports."""

    class Source(_Hardware):
        name = f"hardware.{source}"
        description = what
        platforms = frozenset({Platform.LINUX})
        areas = also

        def collect(self, ctx: ScanContext) -> Iterator[Item]:
            yield from read(ctx)
            if ids:
                yield ids_fact(ids, _ids_header(ids))

    Source.__name__ = Source.__qualname__ = f"Hardware{source.capitalize()}"
    return Source


_FIRMWARE = frozenset({"firmware"})
HardwareDmi = _linux_source("dmi", "system, board, chassis, memory modules and slots, BIOS/UEFI and EC firmware "
                            "(dmidecode, /sys/class/dmi/id)", _sources.collect_dmi, _FIRMWARE)
HardwareCpu = _linux_source("cpu", "processors, kernel vulnerability verdicts and microcode (/proc/cpuinfo)",
                            _sources.collect_cpu, _FIRMWARE)
HardwareMemory = _linux_source("memory", "memory total (/proc/meminfo)", _sources.collect_memory)
HardwareDisk = _linux_source("disk", "disks and their firmware (/sys/block, lsblk)", _sources.collect_block, _FIRMWARE)
HardwarePci = _linux_source("pci", "PCI devices named from pci.ids (/sys/bus/pci, lspci)", _sources.collect_pci,
                            ids="pci")
HardwareUsb = _linux_source("usb", "USB devices named from usb.ids (/sys/bus/usb)", _sources.collect_usb, ids="usb")
HardwareNic = _linux_source("nic", "network adapters and their firmware (/sys/class/net, ethtool)",
                            _sources.collect_nic, _FIRMWARE)
HardwareTpm = _linux_source("tpm", "TPM and its firmware (/sys/class/tpm)", _sources.collect_tpm, _FIRMWARE)


class HardwareWindows(_Hardware):
    name = "hardware.windows"
    description = "system/board/chassis, CPU, memory, disks, NICs, GPUs, TPM and their firmware (WMI)"
    platforms = frozenset({Platform.WINDOWS})
    areas = frozenset({"firmware"})

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        # One source, both areas: the firmware is read from the same WMI classes (one run each).
        return _with_ids(ctx, itertools.chain(_windows.collect(ctx), _fw_windows.collect(ctx)))


class HardwareDarwin(_Hardware):
    name = "hardware.macos"
    description = "Mac model, CPU, memory, disks, USB and their firmware (system_profiler)"
    platforms = frozenset({Platform.DARWIN})
    areas = frozenset({"firmware"})

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        return _with_ids(ctx, itertools.chain(_darwin.collect(ctx), _fw_darwin.collect(ctx)))


def _with_ids(ctx: ScanContext, items: Iterator[Item]) -> Iterator[Item]:
    """The platform's items, then which pci.ids/usb.ids database named its devices."""
    yield from items
    for kind in IDS_USED.get(ctx.platform, ()) if ctx.platform else ():
        yield ids_fact(kind, _ids_header(kind))


COLLECTORS = (HardwareDmi, HardwareCpu, HardwareMemory, HardwareDisk, HardwarePci, HardwareUsb, HardwareNic,
              HardwareTpm, HardwareWindows, HardwareDarwin)


def parse_ids_header(text: str) -> Tuple[str, str]:
    """(Version, Date) from the comment header of a pci.ids/usb.ids file ('' when absent).

    pci.ids writes "#\tVersion: 2023.04.10", usb.ids "# Version: 2025.07.26".
    """
    found: Dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            break  # the header ends at the first entry
        m = re.match(r"^#\s*(Version|Date):\s*(.+?)\s*$", line)
        if m:
            found.setdefault(m.group(1), m.group(2))
    return found.get("Version", ""), found.get("Date", "")


def ids_fact(kind: str, header: Optional[Tuple[str, str]]) -> Item:
    """`cbom:hardware:<kind>-ids` naming the database version the device names come from, or a Gap."""
    if header is None:
        return Gap(f"{kind}.ids database missing from the tool: {kind.upper()} devices named by id only")
    version, date = header
    stamp = f"version {version or 'unknown'}" + (f", date {date}" if date else "")
    return HostFact(V.ids_property(kind), f"{kind}.ids {stamp} ({IDS_ORIGIN[kind]}; copy shipped with cbom)")


def _ids_header(kind: str) -> Optional[Tuple[str, str]]:
    """The header of the shipped database (the tool's own file, never the scanned host's)."""
    try:
        with gzip.open(_ids.DATA / f"{kind}.ids.gz", "rb") as f:
            head = f.read(4096).decode("utf-8", "replace")
    except (OSError, EOFError):
        return None
    return parse_ids_header(head)
