"""The Linux hardware sources, one function per source, each yielding its hardware and the
firmware it reads (the BIOS comes with the DMI table, microcode with /proc/cpuinfo…).

Each reads the machine only through `ctx`: the running system, a mounted image
(`--root`), or a folder recorded by collect.sh, whose copies of sysfs and
command outputs the recorded host backend answers with. The parsers are the
pure functions of `_linux`; the firmware builders those of `firmware._linux`.
"""
from __future__ import annotations

from typing import Dict, Iterator, List, Optional, Tuple

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.host import RecordedHost
from cbom.model import Component, Gap, Item

from ..firmware import _linux as fw
from . import _linux as hw
from . import _refs
from ._common import Redactor, device, human_bytes, props

__all__ = ["boot_mode", "collect_block", "collect_boot", "collect_cpu", "collect_dmi", "collect_memory",
           "collect_nic", "collect_pci", "collect_tpm", "collect_usb"]


def boot_mode(ctx: ScanContext, has_dmi: bool) -> Tuple[Optional[bool], Optional[bool], Optional[bool]]:
    """(uefi, secure_boot, setup_mode), None where unknown. A recording holds collect.sh's
    `boot-mode.txt` ("uefi"/"legacy"), not the efivars."""
    host = ctx.host
    if isinstance(host, RecordedHost):
        rec = host.recording
        return (hw.parse_boot_mode(rec.text("boot-mode.txt")) if rec.has("boot-mode.txt") else None), None, None
    return fw.boot_state(ctx, has_dmi)


def collect_dmi(ctx: ScanContext) -> Iterator[Item]:
    """System, board, chassis, memory modules and slots (dmidecode, else /sys/class/dmi/id), and
    the platform firmware (BIOS/UEFI, embedded controller) the same table describes."""
    redact = Redactor.from_options(ctx.options)
    records, gaps = hw.run_dmidecode(ctx)
    yield from gaps
    dmi = hw.read_dmi_sysfs(ctx)
    if records and hw.dmi_by_type(records, 1):
        yield from hw.dmi_components(records, redact)
    else:
        if not dmi:
            yield Gap("no DMI/SMBIOS data (/sys/class/dmi/id absent): system, board and chassis identity not collected")
        else:
            if "product_serial" not in dmi and not ctx.admin:
                # serial/UUID attributes are mode 0400 (drivers/firmware/dmi-id.c)
                yield Gap("DMI serial number and UUID readable by root only: left out")
            yield from hw.dmi_sysfs_components(dmi, redact)
        for item in hw.dmi_components(records, redact):  # modules, slots: only dmidecode has them
            if isinstance(item, Component) and item.prop(V.DEVICE_TYPE) not in ("system", "baseboard", "chassis"):
                yield item
    uefi, _secure, _setup = boot_mode(ctx, has_dmi=bool(dmi))
    bios = {k: v for k, v in dmi.items() if k.startswith(("bios_", "ec_"))} or fw.dmi_from_dmidecode(records)
    if not bios:
        yield Gap("no DMI/SMBIOS BIOS data (/sys/class/dmi/id): platform firmware version not collected")
    for comp in (fw.bios_component(bios, uefi), fw.ec_component(bios)):
        if comp:
            yield comp


def collect_cpu(ctx: ScanContext) -> Iterator[Item]:
    """Processors (/proc/cpuinfo, the kernel's vulnerability verdicts, dmidecode's sockets) and
    their microcode."""
    records, _gaps = hw.run_dmidecode(ctx)  # the DMI source reports dmidecode's gaps
    try:
        copies = ctx.read_all("/proc/cpuinfo")
    except OSError as exc:
        if ctx.recorded and isinstance(exc, FileNotFoundError):
            # No /proc/cpuinfo recorded: the SMBIOS processor records, when there are some.
            yield from hw.dmi_cpu_components(records)
            return
        yield Gap(f"/proc/cpuinfo unreadable ({exc.strerror or exc}): CPU not collected")
        return
    # One copy on a machine; a folder of recorded samples may hold several.
    for where, text in copies:
        packages = hw.parse_cpuinfo(text)
        if not packages:
            yield Gap(f"{where}: no processor found (garbled or truncated?)")
            continue
        yield from hw.cpu_components(packages, hw.read_vulnerabilities(ctx), hw.dmi_processors(records))
        yield from fw.microcode_components(packages)


def collect_memory(ctx: ScanContext) -> Iterator[Item]:
    """The memory total (/proc/meminfo)."""
    try:
        total = hw.parse_meminfo_total(ctx.read("/proc/meminfo"))
    except OSError as exc:
        if ctx.recorded and isinstance(exc, FileNotFoundError):
            return  # the recording collector lists what the recording lacks
        yield Gap(f"/proc/meminfo unreadable ({exc.strerror or exc}): memory total not collected")
        return
    if total:
        yield device(_refs.memory_ref(), name="System memory", description=human_bytes(total),
                     properties=props((V.DEVICE_TYPE, "memory"), (V.MEMORY_TOTAL_BYTES, str(total))))
    else:
        yield Gap("/proc/meminfo has no MemTotal line: memory total not collected")


def collect_block(ctx: ScanContext) -> Iterator[Item]:
    """Disks (/sys/block, lsblk for serials and transport) and their firmware."""
    redact = Redactor.from_options(ctx.options)
    disks = hw.read_sysfs_block(ctx)
    if ctx.live and ctx.which("lsblk") and (disks or ctx.recorded):
        lsblk, gap = _lsblk(ctx)
        if gap:
            yield Gap(gap)
        if disks:
            hw.merge_lsblk(disks, lsblk)
        else:
            disks = hw.block_devices_from_lsblk(lsblk)  # a recording without the sysfs copy
    yield from hw.block_components(disks, redact)
    yield from fw.disk_firmware_components(disks)


def _lsblk(ctx: ScanContext) -> Tuple[Dict[str, Dict[str, object]], str]:
    """lsblk's rows by kernel name, and a gap ("" when none)."""
    res = ctx.run(hw.LSBLK_ARGV)
    if res.ok:
        try:
            return hw.parse_lsblk_json(res.stdout), ""
        except ValueError:
            why = "lsblk -J output is not JSON"
    else:
        why = f"lsblk failed ({res.why()})"
    if ctx.recorded:
        # An older util-linux without -J: collect.sh also records the plain table (`lsblk -a`).
        text = ctx.run(["lsblk", "-a"])
        rows = hw.parse_lsblk_text(text.stdout) if text.ok else []
        if rows:
            return {r["name"]: dict(r) for r in rows}, ""
    return {}, f"{why}: disk serials/transport from sysfs only"


def collect_pci(ctx: ScanContext) -> Iterator[Item]:
    """PCI devices (/sys/bus/pci, else `lspci -vmmnnk`), named offline from pci.ids."""
    pci = hw.read_sysfs_pci(ctx)
    if not pci and ctx.live and ctx.which("lspci") and not ctx.is_dir("/sys/bus/pci"):
        res = ctx.run(["lspci", "-vmmnnk"])
        pci = hw.parse_lspci(res.stdout) if res.ok else []
        for dev in pci:
            if dev.device == "Device":
                dev.device = ""  # lspci's "Device [0d57]" means unnamed: same fallback name as a sysfs read
        if res.ok and not pci:
            yield Gap("lspci: no PCI device found (not lspci output, or truncated)")
    yield from hw.pci_components(pci)


def collect_usb(ctx: ScanContext) -> Iterator[Item]:
    """USB devices (/sys/bus/usb/devices, else `lsusb -v` / `lsusb` of a recording), named from usb.ids."""
    redact = Redactor.from_options(ctx.options)
    devices = hw.read_sysfs_usb(ctx)
    if not devices and ctx.recorded:
        # `lsusb -v` when recorded (every sample of it), else the short `lsusb` listing.
        for argv in (["lsusb", "-v"], ["lsusb"]):
            for res in ctx.run_each(argv):
                if not res.ok:
                    continue
                found = hw.parse_lsusb_v(res.stdout)
                if not found and res.stdout.strip():
                    yield Gap(f"{' '.join(argv)}: no 'Bus NNN Device NNN: ID' line (not lsusb output?)")
                devices += found
            if devices:
                break
    yield from hw.usb_components(devices, redact)


def collect_nic(ctx: ScanContext) -> Iterator[Item]:
    """Network adapters (/sys/class/net/*/device, `ethtool -i`) and their firmware."""
    adapters = hw.read_net_adapters(ctx)
    if ctx.local and adapters and ctx.which("ethtool"):
        for nic in adapters:
            res = ctx.run(["ethtool", "-i", nic.name], timeout=5)
            if res.ok:
                nic.ethtool = hw.parse_ethtool_i(res.stdout)
    yield from hw.nic_components(adapters)
    yield from fw.nic_firmware_components(adapters)


def collect_tpm(ctx: ScanContext) -> Iterator[Item]:
    """The TPM (/sys/class/tpm) and its firmware."""
    tpms: List[hw.Tpm] = hw.read_tpms(ctx)
    yield from hw.tpm_components(tpms)
    yield from fw.tpm_firmware_components(tpms)


def collect_boot(ctx: ScanContext) -> Iterator[Item]:
    """Boot mode and Secure Boot (EFI runtime, efivars), with their findings."""
    uefi, secure, setup = boot_mode(ctx, has_dmi=bool(hw.read_dmi_sysfs(ctx)))
    yield from fw.secure_boot_items(uefi, secure, setup)
    if uefi and secure is None:
        yield Gap("Secure Boot state not recorded" if ctx.recorded else
                  "SecureBoot efivar unreadable: Secure Boot state unknown")
