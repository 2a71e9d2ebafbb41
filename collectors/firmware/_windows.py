"""Windows firmware: Win32_BIOS, disk firmware revisions, Secure Boot and TPM via PowerShell (wmic fallback)."""
from __future__ import annotations

from typing import Iterator, Optional

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.model import Component, Finding, HostFact, Item, Severity

from ..hardware import _refs
from ..hardware import _windows as hw
from ..hardware._common import clean, firmware, first_source_wins, props
from . import _linux as dmi

CLASSES = {
    "Win32_BIOS": hw.CLASSES["Win32_BIOS"],
    "Win32_DiskDrive": hw.CLASSES["Win32_DiskDrive"],
}
# Confirm-SecureBootUEFI: True/False on UEFI machines, throws "Cmdlet not supported on this platform"
# on legacy BIOS (hence 'unsupported'); needs Administrator, else access denied ('unknown').
EXTRA = hw.TPM_PS + ("; try{$r['SecureBoot']=@(@{State=[string](Confirm-SecureBootUEFI -ErrorAction Stop)})}"
                     "catch{$m=$_.Exception.Message; $r['SecureBoot']=@(@{State=$(if($m -match 'not supported')"
                     "{'unsupported'}else{'unknown'}); Error=$m})}")


def bios_component(bios: dict) -> Optional[Component]:
    """Platform firmware from one Win32_BIOS instance."""
    version = clean(bios.get("SMBIOSBIOSVersion")) or clean(bios.get("Version"))
    smbios = ".".join(x for x in (bios.get("SMBIOSMajorVersion", ""), bios.get("SMBIOSMinorVersion", "")) if x)
    ec = ".".join(x for x in (bios.get("EmbeddedControllerMajorVersion", ""),
                               bios.get("EmbeddedControllerMinorVersion", "")) if x and x != "255")
    return firmware(_refs.system_ref(), "BIOS", version, vendor=bios.get("Manufacturer", ""),
                    release_date=hw.wmi_date(bios.get("ReleaseDate", "")),
                    properties=props((V.FIRMWARE_TYPE, "system-firmware"),
                                     (V.FIRMWARE_SMBIOS_VERSION, smbios),
                                     (V.FIRMWARE_EC_VERSION, ec),
                                     (V.FIRMWARE_BIOS_VERSION_STRING, bios.get("Version", ""))),
                    identity="system-firmware")


def components(classes: hw.Classes) -> Iterator[Item]:
    for bios in classes.get("Win32_BIOS", [])[:1]:
        comp = bios_component(bios)
        if comp:
            yield comp
    for disk in classes.get("Win32_DiskDrive", []):
        comp = firmware(_refs.disk_ref(hw.disk_identity(disk)), f"{disk.get('Model', 'disk')} firmware",
                        disk.get("FirmwareRevision", ""), properties=((V.FIRMWARE_TYPE, "storage"),),
                        identity="disk-firmware")
        if comp:
            yield comp
    for tpm in classes.get("Tpm", [])[:1]:
        comp = firmware(_refs.tpm_ref("tpm0"), "TPM firmware", tpm.get("ManufacturerVersion", ""),
                        vendor=tpm.get("ManufacturerIdTxt", ""), properties=((V.FIRMWARE_TYPE, "tpm"),),
                        identity="tpm-firmware")
        if comp:
            yield comp
    for sb in classes.get("SecureBoot", [])[:1]:
        state = sb.get("State", "").lower()
        if state in ("true", "false"):
            yield HostFact(V.BOOT_MODE, "uefi")
            yield HostFact(V.SECURE_BOOT, "enabled" if state == "true" else "disabled")
            if state == "false":
                yield Finding(id="CBOM-SECUREBOOT-OFF", title="UEFI Secure Boot is disabled", severity=Severity.MEDIUM,
                              evidence=("Confirm-SecureBootUEFI = False",), refs=(_refs.system_ref(),))
        elif state == "unsupported":
            yield HostFact(V.BOOT_MODE, "legacy")
            yield Finding(id="CBOM-BOOT-LEGACY", title="Machine boots in legacy BIOS mode (no Secure Boot possible)",
                          severity=Severity.LOW, evidence=("Confirm-SecureBootUEFI: not supported on this platform",),
                          refs=(_refs.system_ref(),))


def collect(ctx: ScanContext) -> Iterator[Item]:
    classes, gaps = hw.run_cim(ctx, CLASSES, EXTRA)
    yield from gaps
    # As hardware.windows: WMI first, then (recorded) dmidecode's Windows port, then systeminfo.
    sources = [list(components(classes))]
    if ctx.recorded:
        for records in hw.recorded_dmidecode(ctx)[0]:
            bios = dmi.bios_component(dmi.dmi_from_dmidecode(records), None)
            if bios:
                sources.append([bios])
    si = hw.systeminfo_fill(ctx, classes, ("Win32_BIOS",))
    if si:
        sources.append(list(components(si)))
    yield from first_source_wins(sources)
