"""Linux firmware collector: BIOS/UEFI, Secure Boot, microcode, fwupd; links to hardware refs."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_hardware_linux import dmi_tree, fixture, write

from cbom import cyclonedx, runner, validate
from cbom.collector import ScanContext
from cbom.model import Category, Component, Finding, HostFact, Kind, Platform
from _areas import area
from collectors.firmware import _linux as F
from collectors.hardware import _refs

FirmwareCollector = area("firmware")
HardwareCollector = area("hardware")


def fw_items(root: Path, admin: bool = False):
    return list(FirmwareCollector().collect(ScanContext(platform=Platform.LINUX, root=root, admin=admin)))


def comps(items):
    return [i for i in items if isinstance(i, Component)]


@pytest.mark.parametrize("sample,vendor,version,date", [
    ("linuxhw-siemens-simatic-ipc227g", "INSYDE Corp.", "V28.01.05", "2022-09-14"),
    ("linuxhw-phoenix-contact-vl3-upc", "Phoenix Contact", "R1.11 230619", "2023-06-19"),
    ("linuxhw-moxa-v2400a", "Insyde Corp.", "V1.10S02", "2015-01-23"),
    ("glpi-hp-proliant-dl360p-gen8", "HP", "P71", "2015-07-01"),
    ("glpi-rhel-2.1", "IBM", "-[JPE130AUS-1.30]-", "2002-12-11"),
])
def test_bios_from_rebuilt_dmi_tree(tmp_path, sample, vendor, version, date):
    dmi_tree(tmp_path, sample)
    items = fw_items(tmp_path)
    (bios,) = [c for c in comps(items) if c.prop("cbom:firmware:type") == "system-firmware"]
    assert (bios.manufacturer, bios.version, bios.prop("cbom:firmware:release-date")) == (vendor, version, date)
    assert bios.category == Category.FIRMWARE and bios.kind == Kind.FIRMWARE
    # same ref the hardware collector gives the system, computed independently
    hw = [c for c in HardwareCollector().collect(ScanContext(platform=Platform.LINUX, root=tmp_path, admin=False))
          if isinstance(c, Component) and c.prop("cbom:device-type") == "system"]
    assert bios.depends_on == (hw[0].ref,) and bios.prop("cbom:hardware-ref") == hw[0].ref
    # no EFI directory, DMI present: legacy BIOS boot
    assert bios.name == "BIOS" and bios.prop("cbom:firmware:boot-mode") == "legacy"
    assert HostFact("cbom:boot-mode", "legacy") in items
    assert any(isinstance(i, Finding) and i.id == "CBOM-BOOT-LEGACY" for i in items)


def test_bios_from_dmidecode_type0_including_ec():
    recs = __import__("collectors.hardware._linux", fromlist=["x"]).parse_dmidecode(
        fixture("glpi-lenovo-thinkpad-1298a8g/dmidecode.txt"))
    d = F.dmi_from_dmidecode(recs)
    assert d["bios_vendor"] == "LENOVO" and d["bios_version"] == "8NET32WW (1.16 )"
    assert F.bios_component(d, uefi=None).prop("cbom:firmware:release-date") == "2011-12-01"


@pytest.mark.parametrize("value,expected", [(b"\x06\x00\x00\x00\x01", True), (b"\x06\x00\x00\x00\x00", False),
                                            (b"\x01", True), (b"", None), (b"\x06\x00", None)])
def test_efivar_bool(value, expected):
    assert F.parse_efivar_bool(value) is expected


def test_uefi_secure_boot_off_tree(tmp_path):
    dmi_tree(tmp_path, "linuxhw-phoenix-contact-vl3-upc")
    efivars = tmp_path / "sys/firmware/efi/efivars"
    efivars.mkdir(parents=True)
    (efivars / f"SecureBoot-{F.EFI_GLOBAL}").write_bytes(b"\x06\x00\x00\x00\x00")
    (efivars / f"SetupMode-{F.EFI_GLOBAL}").write_bytes(b"\x06\x00\x00\x00\x01")
    items = fw_items(tmp_path)
    bios = [c for c in comps(items) if c.prop("cbom:firmware:type") == "system-firmware"][0]
    assert bios.name == "UEFI firmware" and bios.prop("cbom:firmware:boot-mode") == "uefi"
    assert HostFact("cbom:secure-boot", "disabled") in items
    (f,) = [i for i in items if isinstance(i, Finding)]
    assert f.id == "CBOM-SECUREBOOT-OFF" and "SetupMode = 1" in f.evidence[0]


def test_uefi_secure_boot_on_tree(tmp_path):
    dmi_tree(tmp_path, "linuxhw-siemens-simatic-ipc227g")
    efivars = tmp_path / "sys/firmware/efi/efivars"
    efivars.mkdir(parents=True)
    (efivars / f"SecureBoot-{F.EFI_GLOBAL}").write_bytes(b"\x06\x00\x00\x00\x01")
    items = fw_items(tmp_path)
    assert HostFact("cbom:secure-boot", "enabled") in items
    assert not [i for i in items if isinstance(i, Finding)]


def test_microcode_links_to_cpu(tmp_path):
    write(tmp_path, "/proc/cpuinfo", fixture("cpuinfo/ansible-x86_64-8cpu.txt"))
    (mc,) = [c for c in comps(fw_items(tmp_path)) if c.prop("cbom:firmware:type") == "cpu-microcode"]
    assert (mc.version, mc.manufacturer, mc.depends_on) == ("0x20", "Intel", (_refs.cpu_ref("0"),))


def test_nvme_firmware_tree(tmp_path):
    dev = "/sys/devices/pci0000:00/0000:00:1d.0/0000:3c:00.0/nvme/nvme0"
    write(tmp_path, f"{dev}/model", "PC300 NVMe SK hynix 512GB\n")
    write(tmp_path, f"{dev}/firmware_rev", "20007A00\n")
    write(tmp_path, f"{dev}/serial", "ACE4_2E61_9000_7804.\n")
    write(tmp_path, f"{dev}/nvme0n1/size", "1000215216\n")
    (tmp_path / "sys/devices/pci0000:00/0000:00:1d.0/0000:3c:00.0/nvme/nvme0/nvme0n1/device").symlink_to("..")
    (tmp_path / "sys/block").mkdir(parents=True)
    (tmp_path / "sys/block/nvme0n1").symlink_to("../devices/pci0000:00/0000:00:1d.0/0000:3c:00.0/nvme/nvme0/nvme0n1")
    ctx = ScanContext(platform=Platform.LINUX, root=tmp_path, admin=False)
    (disk,) = [c for c in HardwareCollector().collect(ctx) if isinstance(c, Component)
               and c.prop("cbom:device-type") == "storage"]
    assert disk.prop("cbom:storage:media") == "nvme" and disk.prop("cdx:device:serialNumber") == "ACE4_2E61_9000_7804."
    (fw,) = [c for c in comps(fw_items(tmp_path)) if c.prop("cbom:firmware:type") == "storage"]
    assert (fw.name, fw.version, fw.depends_on) == ("PC300 NVMe SK hynix 512GB firmware", "20007A00", (disk.ref,))


def test_fwupd_json_parser_and_garbage():
    doc = {"Devices": [
        {"Name": "System Firmware", "DeviceId": "a1", "Plugin": "uefi_capsule", "Vendor": "LENOVO",
         "Version": "0.1.36", "Guid": ["230c8b18-8d9b-53ec-838b-6cfc0383493a"]},
        {"Name": "TPM", "DeviceId": "b2", "Plugin": "tpm", "Vendor": "Infineon", "Version": "7.85.4555.0"},
        {"Name": "EPYC", "DeviceId": "c3", "Plugin": "cpu", "Vendor": "AMD"},  # no version: left out
    ]}
    out = list(F.fwupd_components(F.parse_fwupd_devices(json.dumps(doc))))
    assert [(c.name, c.version, c.depends_on) for c in out] == [
        ("System Firmware firmware", "0.1.36", (_refs.system_ref(),)),
        ("TPM firmware", "7.85.4555.0", (_refs.tpm_ref("tpm0"),))]
    with pytest.raises(ValueError):
        F.parse_fwupd_devices("{oops")


@pytest.mark.live
@pytest.mark.skipif(shutil.which("fwupdtool") is None, reason="fwupdtool not installed")
def test_live_fwupdtool_output_parses():
    # The collector never runs fwupdtool (it writes /var/cache/fwupd); the test does, to get real JSON.
    proc = subprocess.run(["fwupdtool", "get-devices", "--json"], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        pytest.skip(f"fwupdtool failed here: {proc.stderr.strip()[:200]}")
    devices = F.parse_fwupd_devices(proc.stdout)
    names = re.findall(r'"Name" : "([^"]+)"', proc.stdout)
    assert [str(d.get("Name")) for d in devices] == names[:len(devices)]
    for c in F.fwupd_components(devices):
        assert c.version and c.depends_on


@pytest.mark.live
def test_live_firmware_microcode_vs_cpuinfo_and_validation():
    micro = set(re.findall(r"^microcode\s*:\s*(\S+)$", Path("/proc/cpuinfo").read_text(), re.M))
    scan = runner.scan([FirmwareCollector], ScanContext(), host_name="x")  # alone: dependencies on absent hw
    mcs = [c for c in scan.components if c.prop("cbom:firmware:type") == "cpu-microcode"]
    assert {c.version for c in mcs} == micro
    assert validate.errors(cyclonedx.to_dict(scan)) == []
    run = scan.runs[0]
    assert run.status.value in ("ok", "partial")
    if not Path("/sys/class/dmi/id").exists():
        assert any("DMI" in g for g in run.gaps)
