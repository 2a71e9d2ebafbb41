"""Windows hardware/firmware parsers on recorded `wmic … /format:list` dumps (UTF-16LE) and CIM JSON."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cbom import cyclonedx, runner, validate
from cbom.collector import Collector, ScanContext
from cbom.model import Component, Finding, HostFact, Platform
from collectors._text import decode_recorded
from collectors.firmware import _windows as FW
from collectors.hardware import _refs
from collectors.hardware import _windows as W
from collectors.hardware._common import Redactor, redact

WIN = Path(__file__).resolve().parents[1] / "fixtures" / "hardware" / "windows"


def wmic(rel: str):
    return W.parse_wmic_list(decode_recorded((WIN / rel).read_bytes()))


def comps(items, dtype=None):
    return [i for i in items if isinstance(i, Component) and (dtype is None or i.prop("cbom:device-type") == dtype)]


def test_decode_utf16_bom_and_parse():
    rows = wmic("glpi-proxmox-vm/Win32_Bios.wmi")
    assert len(rows) == 1
    assert rows[0]["Version"] == "BOCHS  - 1" and rows[0]["ReleaseDate"] == "20140401000000.000000+000"
    assert rows[0]["BIOSVersion"] == '{"BOCHS  - 1"}'


def test_proxmox_bios_and_system():
    classes = {"Win32_BIOS": wmic("glpi-proxmox-vm/Win32_Bios.wmi"),
               "Win32_ComputerSystem": wmic("glpi-proxmox-vm/Win32_ComputerSystem.wmi")}
    items = list(W.components(classes, Redactor()))
    facts = {i.name: i.value for i in items if isinstance(i, HostFact)}
    assert facts == {"manufacturer": "BOCHS", "model": "BXPC"}  # SeaBIOS '_' padding removed
    (bios,) = list(FW.components(classes))
    assert (bios.name, bios.version, bios.prop("cbom:firmware:release-date")) == ("BIOS", "BOCHS - 1", "2014-04-01")
    assert bios.depends_on == (_refs.system_ref(),) == (comps(items, "system")[0].ref,)


def test_windows11_lenovo_computer_system():
    items = list(W.components({"Win32_ComputerSystem": wmic("glpi-11-desktop-ehrk1qo/Win32_ComputerSystem.wmi")},
                              Redactor()))
    (sysc,) = comps(items, "system")
    assert (sysc.manufacturer, sysc.name, sysc.prop("cbom:family")) == ("LENOVO", "20TBS57S00", "ThinkPad E14 Gen 2")
    assert comps(items, "memory")[0].prop("cbom:memory:total-bytes") == "16863318016"


def test_nvme_disk_and_its_firmware():
    classes = {"Win32_DiskDrive": wmic("glpi-latitude-7480/Win32_DiskDrive.wmi")}
    (disk,) = comps(list(W.components(classes, Redactor())), "storage")
    assert (disk.name, disk.manufacturer) == ("PC300 NVMe SK hynix 512GB", "")
    assert disk.prop("cdx:device:serialNumber") == "ACE4_2E61_9000_7804."
    # wmic escaped '&' as '&amp;' in the PNP id
    assert disk.prop("cbom:storage:pnp-id") == "SCSI\\DISK&VEN_NVME&PROD_PC300_NVME_SK_HY\\5&6FF0B86&0&000000"
    (fw,) = list(FW.components(classes))
    assert (fw.version, fw.depends_on) == ("20007A00", (disk.ref,))
    red = comps(list(W.components(classes, Redactor(True, "k"))), "storage")[0]
    assert red.prop("cdx:device:serialNumber") == redact("ACE4_2E61_9000_7804.", "k") and red.ref == disk.ref


def test_sixteen_vmware_disks_french_generic_manufacturer():
    disks = comps(list(W.components({"Win32_DiskDrive": wmic("glpi-2008-vmw005777/Win32_DiskDrive.wmi")},
                                    Redactor())), "storage")
    assert len(disks) == 16 and len({d.ref for d in disks}) == 16
    assert {d.manufacturer for d in disks} == {""}  # '(Lecteurs de disque standard)'


def test_processors_old_and_new():
    (cpu,) = comps(list(W.components({"Win32_Processor": wmic("glpi-7-netchaeiv/Win32_Processor.wmi")},
                                     Redactor())), "cpu")
    assert (cpu.name, cpu.manufacturer, cpu.prop("cbom:cpu:cores"), cpu.prop("cbom:cpu:socket")) == (
        "Intel(R) Core(TM) i5-2300 CPU @ 2.80GHz", "Intel", "4", "LGA1155")
    assert cpu.prop("cbom:cpu:id") == "BFEBFBFF000206A7" and cpu.ref == _refs.cpu_ref("0")
    (xp,) = comps(list(W.components({"Win32_Processor": wmic("glpi-xp-fry5264/Win32_Processor.wmi")},
                                    Redactor())), "cpu")
    assert xp.name == "Intel Pentium III Xeon processor"  # what XP's WMI says for a Core 2 Duo


def test_memory_modules_placeholders():
    mods = comps(list(W.components({"Win32_PhysicalMemory": wmic("glpi-7-netchaeiv/Win32_PhysicalMemory.wmi")},
                                   Redactor())), "memory-module")
    assert [(m.name, m.manufacturer, m.prop("cbom:memory:size-bytes"), m.prop("cdx:device:serialNumber"))
            for m in mods][:2] == [("F3-12800CL9-2GBXL", "", "2147483648", ""), ("F3-12800CL9-2GBXL", "", "2147483648", "")]
    mods03 = comps(list(W.components({"Win32_PhysicalMemory": wmic("glpi-2003-ardevd02/Win32_PhysicalMemory.wmi")},
                                     Redactor())), "memory-module")
    assert [m.prop("cbom:memory:locator") for m in mods03] == ["DIMM 01", "DIMM 02"]


def test_network_adapters_physical_only():
    nics = comps(list(W.components({"Win32_NetworkAdapter": wmic("glpi-7-netchaeiv/Win32_NetworkAdapter.wmi")},
                                   Redactor())), "network-adapter")
    assert nics[0].name == "Realtek PCIe GBE Family Controller" and nics[0].manufacturer == "Realtek"
    assert not any("Miniport" in n.name for n in nics)
    xp = comps(list(W.components({"Win32_NetworkAdapter": wmic("glpi-xp-nom01viejo/Win32_NetworkAdapter.wmi")},
                                 Redactor())), "network-adapter")
    assert [(n.name, n.manufacturer) for n in xp] == [("Broadcom NetXtreme Gigabit Ethernet", "Broadcom")]


def test_cim_json_with_tpm_and_secure_boot():
    text = json.dumps({
        "Win32_BIOS": [{"Manufacturer": "LENOVO", "SMBIOSBIOSVersion": "R1AET43W (1.19 )",
                        "ReleaseDate": "/Date(1619740800000)/", "SMBIOSMajorVersion": 3, "SMBIOSMinorVersion": 2}],
        "Tpm": {"TpmPresent": True, "ManufacturerIdTxt": "STM", "ManufacturerVersion": "1.769.0.0"},
        "SecureBoot": [{"State": "False"}],
    })
    classes = W.parse_cim_json(text)
    items = list(FW.components(classes))
    bios = [c for c in comps(items) if c.prop("cbom:firmware:type") == "system-firmware"][0]
    assert (bios.version, bios.prop("cbom:firmware:release-date"), bios.prop("cbom:firmware:smbios-version")) == (
        "R1AET43W (1.19 )", "2021-04-30", "3.2")
    tpm_fw = [c for c in comps(items) if c.prop("cbom:firmware:type") == "tpm"][0]
    assert tpm_fw.version == "1.769.0.0" and tpm_fw.depends_on == (_refs.tpm_ref("tpm0"),)
    assert HostFact("cbom:secure-boot", "disabled") in items
    assert any(isinstance(i, Finding) and i.id == "CBOM-SECUREBOOT-OFF" for i in items)
    tpm_hw = comps(list(W.components(classes, Redactor())), "tpm")
    assert tpm_hw[0].manufacturer == "STM"


@pytest.mark.parametrize("text", ["", "{", "[1,2]", '"x"'])
def test_cim_json_garbage_raises_valueerror(text):
    with pytest.raises(ValueError):
        W.parse_cim_json(text)


def test_wmic_garbage_never_raises():
    assert W.parse_wmic_list(decode_recorded(b"\xff\xfe\x00\xd8garbage")) == []
    assert W.parse_wmic_list("Please wait while WMIC is being installed.\nName=x\n") == [{"Name": "x"}]


def test_windows_document_validates():
    classes = {"Win32_BIOS": wmic("glpi-proxmox-vm/Win32_Bios.wmi"),
               "Win32_ComputerSystem": wmic("glpi-proxmox-vm/Win32_ComputerSystem.wmi"),
               "Win32_DiskDrive": wmic("glpi-latitude-7480/Win32_DiskDrive.wmi"),
               "Win32_Processor": wmic("glpi-7-netchaeiv/Win32_Processor.wmi")}

    class Replay(Collector):
        name = "hardware"

        def collect(self, ctx):
            yield from W.components(classes, Redactor())
            yield from FW.components(classes)

    scan = runner.scan([Replay], ScanContext(platform=Platform.WINDOWS), host_name="x")
    assert validate.errors(cyclonedx.to_dict(scan)) == []


# systeminfo's "BIOS Version" lines of real machines (../shared/fixtures/windows/*/systeminfo.txt):
# the vendor and the BIOS's own version string as the vendor writes it (Lenovo ThinkPad BIOS ids
# carry their revision in parentheses; XP/2003 print the vendor code and revision around " - ").
@pytest.mark.parametrize("folder, vendor, version", [
    ("jc-windows-7-11111aa", "LENOVO", "83ET67WW (1.37 )"),
    ("wesng-xp-sp3-x86", "INTEL", "6040000"),
    ("wesng-2016-ms-7a70", "American Megatrends Inc.", "A.40"),
    ("jc-windows-10-vmware", "VMware, Inc.", "VMW71.00V.11111111.B64.2008100111"),
])
def test_bios_line_of_real_systeminfo(folder, vendor, version):
    path = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "windows" / folder / "systeminfo.txt"
    if not path.is_file():
        pytest.skip(f"{path} absent (../shared is not part of this clone)")
    line = next(ln for ln in decode_recorded(path.read_bytes()).splitlines() if ln.startswith("BIOS Version:"))
    fields = W.parse_bios_line(line.split(":", 1)[1].strip())
    assert (fields["Manufacturer"], fields["SMBIOSBIOSVersion"]) == (vendor, version)
