"""Linux firmware: BIOS/UEFI (DMI), boot mode and Secure Boot (efivars), CPU microcode,
disk and NIC firmware revisions, TPM firmware, and fwupd's device list.

Every firmware component points at the hardware it runs on through the same
ref function the hardware collector uses (collectors.hardware._refs).
"""
from __future__ import annotations

import json
from typing import Dict, Iterator, List, Optional, Tuple

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.model import Component, Finding, Gap, HostFact, Item, Severity

from ..hardware import _linux as hw
from ..hardware import _refs
from ..hardware._common import clean, dmi_date, firmware, props

EFI_GLOBAL = "8be4df61-93ca-11d2-aa0d-e0cbbf0c81f0"  # EFI_GLOBAL_VARIABLE GUID (UEFI spec 2.x §3.3)


def bios_component(dmi: Dict[str, str], uefi: Optional[bool]) -> Optional[Component]:
    """The platform firmware from /sys/class/dmi/id bios_* attributes."""
    name = "UEFI firmware" if uefi else "BIOS"
    return firmware(
        _refs.system_ref(), name, dmi.get("bios_version", ""), vendor=dmi.get("bios_vendor", ""),
        release_date=dmi_date(dmi.get("bios_date", "")),
        properties=props((V.FIRMWARE_TYPE, "system-firmware"),
                         (V.FIRMWARE_BIOS_RELEASE, dmi.get("bios_release", "")),
                         (V.FIRMWARE_BOOT_MODE, "uefi" if uefi else ("legacy" if uefi is False else ""))),
        identity="system-firmware",
    )


def ec_component(dmi: Dict[str, str]) -> Optional[Component]:
    """Embedded controller firmware release (SMBIOS type 0 'Firmware Revision')."""
    return firmware(_refs.system_ref(), "Embedded controller firmware", dmi.get("ec_firmware_release", ""),
                    vendor=dmi.get("bios_vendor", ""), properties=((V.FIRMWARE_TYPE, "embedded-controller"),),
                    identity="ec-firmware")


def dmi_from_dmidecode(records: List[hw.DmiRecord]) -> Dict[str, str]:
    """The bios_* attributes the kernel would expose, from a dmidecode type 0 record."""
    out: Dict[str, str] = {}
    for rec in hw.dmi_by_type(records, 0)[:1]:
        out = {"bios_vendor": rec.get("Vendor", "Manufacturer"), "bios_version": rec.get("Version"),
               "bios_date": rec.get("Release Date"), "bios_release": rec.get("BIOS Revision"),
               "ec_firmware_release": rec.get("Firmware Revision")}
    return {k: v for k, v in out.items() if v}


def parse_efivar_bool(data: bytes) -> Optional[bool]:
    """An efivarfs boolean variable: 4 attribute bytes, then the value byte."""
    if len(data) == 5:
        return data[4] == 1
    if len(data) == 1:  # legacy /sys/firmware/efi/vars/NAME/data holds the value alone
        return data[0] == 1
    return None


def read_efivar(ctx: ScanContext, name: str) -> Optional[bytes]:
    for path in (f"/sys/firmware/efi/efivars/{name}-{EFI_GLOBAL}", f"/sys/firmware/efi/vars/{name}-{EFI_GLOBAL}/data"):
        try:
            return ctx.read_bytes(path)
        except OSError:
            continue
    return None


def boot_state(ctx: ScanContext, has_dmi: bool) -> Tuple[Optional[bool], Optional[bool], Optional[bool]]:
    """(uefi, secure_boot, setup_mode); None where unknown."""
    if ctx.is_dir("/sys/firmware/efi"):
        sb, setup = read_efivar(ctx, "SecureBoot"), read_efivar(ctx, "SetupMode")
        return True, parse_efivar_bool(sb) if sb is not None else None, parse_efivar_bool(setup) if setup else None
    # No EFI runtime: BIOS boot when there is an SMBIOS table; otherwise (direct kernel
    # boot in a microVM, some ARM boards) there is no platform firmware to speak of.
    return (False if has_dmi else None), None, None


def parse_fwupd_devices(text: str) -> List[Dict[str, object]]:
    """`fwupdmgr/fwupdtool get-devices --json` → device dicts. Raises ValueError on bad JSON."""
    data = json.loads(text)
    devices = data.get("Devices", []) if isinstance(data, dict) else []
    return [d for d in devices if isinstance(d, dict)]


_FWUPD_PLUGIN_HW = {"cpu": lambda: _refs.cpu_ref("0"), "tpm": lambda: _refs.tpm_ref("tpm0")}


def fwupd_components(devices: List[Dict[str, object]]) -> Iterator[Component]:
    """One firmware component per fwupd device that reports a version."""
    for d in devices:
        version = clean(str(d.get("Version", "")))
        if not version:
            continue
        plugin = str(d.get("Plugin", ""))
        name = clean(str(d.get("Name", ""))) or "device"
        hw_ref = _FWUPD_PLUGIN_HW.get(plugin, _refs.system_ref)()
        guids = d.get("Guid") or []
        comp = firmware(
            hw_ref, f"{name} firmware", version, vendor=str(d.get("Vendor", "")),
            properties=props(
                (V.FIRMWARE_TYPE, "fwupd-device"),
                (V.FWUPD_PLUGIN, plugin),
                (V.FWUPD_DEVICE_ID, str(d.get("DeviceId", ""))),
                (V.FWUPD_VERSION_FORMAT, str(d.get("VersionFormat", ""))),
                (V.FWUPD_BOOTLOADER_VERSION, str(d.get("VersionBootloader", ""))),
                *((V.FWUPD_GUID, str(g)) for g in (guids if isinstance(guids, list) else [])),
            ),
            identity=f"fwupd:{d.get('DeviceId', name)}",
        )
        if comp:
            yield comp


def microcode_components(packages: List[hw.CpuPackage]) -> Iterator[Component]:
    for pkg in packages:
        comp = firmware(_refs.cpu_ref(pkg.physical_id), "CPU microcode", pkg.microcode, vendor=pkg.vendor,
                        properties=props((V.FIRMWARE_TYPE, "cpu-microcode"), (V.CPU_MODEL_NAME, pkg.model_name)),
                        identity="cpu-microcode")
        if comp:
            yield comp


def disk_firmware_components(disks: List[hw.BlockDevice]) -> Iterator[Component]:
    for d in disks:
        comp = firmware(_refs.disk_ref(d.identity), f"{clean(d.model) or d.name} firmware", d.firmware,
                        vendor=d.vendor if not d.vendor.startswith("0x") else "",
                        properties=props((V.FIRMWARE_TYPE, "storage"), (V.STORAGE_KERNEL_NAME, d.name)),
                        identity="disk-firmware")
        if comp:
            yield comp


def nic_firmware_components(adapters: List[hw.NetAdapter]) -> Iterator[Component]:
    for nic in adapters:
        fw = nic.ethtool.get("firmware-version", "")
        if fw.lower() in ("n/a", "na"):
            continue
        comp = firmware(_refs.nic_ref(nic.identity), f"{nic.name} network adapter firmware", fw,
                        properties=props((V.FIRMWARE_TYPE, "network-adapter"), (V.INTERFACE, nic.name),
                                         (V.DRIVER, nic.ethtool.get("driver", nic.driver)),
                                         (V.FIRMWARE_EXPANSION_ROM, nic.ethtool.get("expansion-rom-version", ""))),
                        identity="nic-firmware")
        if comp:
            yield comp


def tpm_firmware_components(tpms: List[hw.Tpm]) -> Iterator[Component]:
    for t in tpms:
        comp = firmware(_refs.tpm_ref(t.name), f"TPM {t.version} firmware".replace("  ", " "), t.firmware,
                        vendor=t.vendor, properties=((V.FIRMWARE_TYPE, "tpm"),), identity="tpm-firmware")
        if comp:
            yield comp


def secure_boot_items(uefi: Optional[bool], secure: Optional[bool], setup: Optional[bool]) -> Iterator[Item]:
    if uefi is None:
        return
    yield HostFact(V.BOOT_MODE, "uefi" if uefi else "legacy")
    if uefi and secure is not None:
        yield HostFact(V.SECURE_BOOT, "enabled" if secure else "disabled")
    if uefi and secure is False:
        yield Finding(id="CBOM-SECUREBOOT-OFF", title="UEFI Secure Boot is disabled", severity=Severity.MEDIUM,
                      detail="The firmware boots unsigned boot loaders and kernels.",
                      evidence=("SecureBoot efivar = 0" + ("; SetupMode = 1 (no platform key enrolled)" if setup else ""),),
                      refs=(_refs.system_ref(),))
    elif uefi is False:
        yield Finding(id="CBOM-BOOT-LEGACY", title="Machine boots in legacy BIOS mode (no Secure Boot possible)",
                      severity=Severity.LOW, detail="No EFI runtime is present; the boot chain cannot be verified.",
                      evidence=("/sys/firmware/efi absent",), refs=(_refs.system_ref(),))


FWUPD_ARGV = ["fwupdmgr", "get-devices", "--json", "--no-unreported-check", "--no-metadata-check",
              "--no-remote-check", "--no-history"]


def collect_fwupd(ctx: ScanContext) -> Iterator[Item]:
    """Devices the fwupd daemon knows (running machine only: it asks the daemon)."""
    if ctx.local and ctx.which("fwupdmgr"):
        # fwupdmgr only asks the running daemon; fwupdtool would load every plug-in itself and
        # write /var/cache/fwupd/devices.json on the host, so it is not used.
        res = ctx.run(FWUPD_ARGV, timeout=15)
        if res.ok:
            try:
                yield from fwupd_components(parse_fwupd_devices(res.stdout))
            except ValueError:
                yield Gap("fwupdmgr get-devices --json output is not JSON: fwupd devices not listed")
        else:
            why = res.why()
            if "daemon" in res.stdout or "daemon" in why:
                why = "fwupd daemon not running"
            yield Gap(f"fwupd devices not listed ({why})")
