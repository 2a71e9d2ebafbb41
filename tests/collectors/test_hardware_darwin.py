"""macOS hardware/firmware parsers on recorded system_profiler text and XML."""
from __future__ import annotations

from pathlib import Path

import pytest

from cbom.model import Component, HostFact
from collectors.firmware import _darwin as FD
from collectors.hardware import _darwin as D
from collectors.hardware import _refs
from collectors.hardware._common import Redactor

MAC = Path(__file__).resolve().parents[1] / "fixtures" / "hardware" / "macos"


def text(rel):
    return D.parse_sp_text((MAC / rel).read_text(encoding="utf-8"))


@pytest.mark.parametrize("rel,model,name,serial,cpu,cpu_vendor,memory,boot_rom,smc", [
    ("glpi-10.6-imac7-1/system_profiler.txt", "iMac7,1", "iMac", "W8805BRDX89", "Intel Core 2 Duo", "Intel", "2 GB",
     "IM71.007A.B03", "1.21f4"),
    ("glpi-11-macbookair10-1/system_profiler.txt", "MacBookAir10,1", "MacBook Air", "E9O1Q6W5FAKE", "Apple M1", "Apple",
     "16 GB", "6723.81.1", None),
    ("glpi-powermac-g5-ck54202sr6v/system_profiler-10.5.txt", "PowerMac11,2", "Power Mac G5", "CK54202SR6V",
     "PowerPC G5 (1.1)", "IBM", "2 GB", "5.2.7f1", None),
])
def test_system_profiler_text(rel, model, name, serial, cpu, cpu_vendor, memory, boot_rom, smc):
    tree = text(rel)
    items = list(D.text_components(tree, Redactor()))
    facts = {i.name: i.value for i in items if isinstance(i, HostFact)}
    assert facts == {"manufacturer": "Apple", "model": model, "serial": serial}
    comps = {c.prop("cbom:device-type"): c for c in items if isinstance(c, Component)}
    assert (comps["system"].name, comps["system"].version) == (name, model)
    assert (comps["cpu"].name, comps["cpu"].manufacturer) == (cpu, cpu_vendor)
    assert comps["memory"].prop("cbom:memory:total") == memory
    fw = {c.prop("cbom:firmware:type"): c for c in FD.text_components(tree)}
    assert fw["system-firmware"].version == boot_rom and fw["system-firmware"].depends_on == (_refs.system_ref(),)
    assert (fw["smc"].version if "smc" in fw else None) == smc


def test_sata_disk_and_firmware_text():
    tree = text("glpi-10.6-imac7-1/system_profiler.txt")
    disks = [c for c in D.text_components(tree, Redactor()) if isinstance(c, Component)
             and c.prop("cbom:device-type") == "storage"]
    wd = disks[0]
    assert (wd.name, wd.prop("cbom:storage:size-bytes"), wd.prop("cdx:device:serialNumber")) == (
        "WDC WD3200AAJS-40VWA0", "320072933376", "WD-WMARW0629615")
    fw = [c for c in FD.text_components(tree) if c.prop("cbom:firmware:type") == "storage"]
    assert (fw[0].version, fw[0].depends_on) == ("58.01D02", (wd.ref,))


def test_xml_sata_and_usb():
    sata = D.parse_sp_structured((MAC / "glpi-sp-xml-samples/SPSerialATADataType.xml").read_text())
    (disk,) = D.structured_components(sata, Redactor())
    assert (disk.name, disk.prop("cbom:storage:size-bytes"), disk.prop("cbom:storage:firmware-revision")) == (
        "WDC WD2500AAJS-40VWA1", "250059350016", "58.01D02")
    usb = D.parse_sp_structured((MAC / "glpi-sp-xml-samples/SPUSBDataType.xml").read_text())
    devs = {c.prop("cbom:usb:id"): c for c in D.structured_components(usb, Redactor())}
    assert len(devs) == 8
    assert devs["0480:a00c"].name == "External USB 3.0" and devs["0480:a00c"].manufacturer == "Toshiba America Inc"
    assert devs["05ac:8502"].prop("cdx:device:serialNumber") == "8T8AH11BE0003L00"


def test_json_form():
    data = D.parse_sp_structured('{"SPHardwareDataType": [{"machine_model": "Mac14,2", "machine_name": "MacBook Air",'
                                 ' "chip_type": "Apple M2", "serial_number": "Not Available", "boot_rom_version":'
                                 ' "10151.81.1", "physical_memory": "8 GB"}]}')
    items = list(D.structured_components(data, Redactor()))
    assert {i.name: i.value for i in items if isinstance(i, HostFact)} == {"manufacturer": "Apple", "model": "Mac14,2"}
    (fw,) = FD.structured_components(data)
    assert fw.version == "10151.81.1"


@pytest.mark.parametrize("bad", ["", "<plist", "{]", "not xml"])
def test_garbled_structured_raises_valueerror(bad):
    with pytest.raises(ValueError):
        D.parse_sp_structured(bad)
