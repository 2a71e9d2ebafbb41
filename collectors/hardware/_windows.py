"""Windows hardware through CIM/WMI: PowerShell `Get-CimInstance … | ConvertTo-Json`, or `wmic` on old systems.

Both sources become the same shape, {class name: [instance dicts with string
values]}, and one pure function turns that into components. `wmic … /format:list`
output (UTF-16LE with BOM when redirected, as kept in the fixtures) is decoded by
`collectors._text`; XP/2003/7 ship wmic but not Get-CimInstance (PowerShell 3+).
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Dict, Iterator, List, Sequence, Tuple

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.model import Gap, HostFact, Item

from .._text import clean_na, decode_recorded, parse_reg_export, parse_wmic_list, systeminfo_lines
from . import _linux as dmi
from . import _cpuid, _refs
from ._common import Redactor, clean, device, first_source_wins, human_bytes, props

Classes = Dict[str, List[Dict[str, str]]]

CLASSES: Dict[str, Tuple[str, ...]] = {
    "Win32_ComputerSystem": ("Manufacturer", "Model", "SystemFamily", "SystemSKUNumber", "TotalPhysicalMemory",
                             "NumberOfProcessors", "NumberOfLogicalProcessors", "PCSystemType"),
    "Win32_ComputerSystemProduct": ("IdentifyingNumber", "UUID", "Vendor", "Name", "Version"),
    "Win32_BIOS": ("Manufacturer", "SMBIOSBIOSVersion", "Version", "ReleaseDate", "SerialNumber",
                   "SMBIOSMajorVersion", "SMBIOSMinorVersion", "EmbeddedControllerMajorVersion",
                   "EmbeddedControllerMinorVersion"),
    "Win32_BaseBoard": ("Manufacturer", "Product", "Version", "SerialNumber"),
    "Win32_Processor": ("DeviceID", "Name", "Manufacturer", "Caption", "NumberOfCores", "NumberOfLogicalProcessors",
                        "ProcessorId", "SocketDesignation", "MaxClockSpeed", "Revision"),
    "Win32_PhysicalMemory": ("BankLabel", "DeviceLocator", "Capacity", "Speed", "Manufacturer", "PartNumber",
                             "SerialNumber", "SMBIOSMemoryType"),
    "Win32_DiskDrive": ("DeviceID", "Model", "Manufacturer", "SerialNumber", "FirmwareRevision", "Size",
                        "InterfaceType", "MediaType", "PNPDeviceID"),
    "Win32_NetworkAdapter": ("Name", "Manufacturer", "MACAddress", "PNPDeviceID", "PhysicalAdapter", "ServiceName",
                             "AdapterType", "NetConnectionID"),
    "Win32_VideoController": ("Name", "AdapterCompatibility", "DriverVersion", "PNPDeviceID", "VideoProcessor"),
    "Win32_PnPEntity": ("Name", "Manufacturer", "PNPDeviceID", "PNPClass", "Service"),
}


# ---------------------------------------------------------------- decoding / parsing

def _str(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, list):
        return "{" + ",".join(f'"{x}"' if isinstance(x, str) else str(x) for x in v) + "}"
    return str(v)


def parse_cim_json(text: str) -> Classes:
    """The JSON our PowerShell script prints: {"Win32_X": [ {...}, … ] or {...}, "Tpm": {...}, …}.

    Raises ValueError on garbled JSON.
    """
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("CIM JSON is not an object")
    out: Classes = {}
    for cls, value in data.items():
        rows = value if isinstance(value, list) else [value]
        out[cls] = [{k: _str(v) for k, v in row.items()} for row in rows if isinstance(row, dict)]
    return out


def wmi_date(value: str) -> str:
    """CIM datetime '20140401000000.000000+000' or PowerShell '/Date(1396310400000)/' → 'YYYY-MM-DD'."""
    m = re.match(r"^(\d{4})(\d{2})(\d{2})", value or "")
    if m and m.group(1) != "0000":
        return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    m = re.match(r"^/Date\((-?\d+)\)/$", value or "")
    if m:
        from datetime import datetime, timezone

        return datetime.fromtimestamp(int(m.group(1)) / 1000, tz=timezone.utc).strftime("%Y-%m-%d")
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", value or "")
    return m.group(0) if m else ""


# ---------------------------------------------------------------- model

_X86 = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD"}


def components(classes: Classes, redact: Redactor) -> Iterator[Item]:
    """Hardware components and host facts from CIM instances (either source)."""
    cs = (classes.get("Win32_ComputerSystem") or [{}])[0]
    product = (classes.get("Win32_ComputerSystemProduct") or [{}])[0]
    bios = (classes.get("Win32_BIOS") or [{}])[0]
    vendor = clean(cs.get("Manufacturer")) or clean(product.get("Vendor"))
    model = clean(cs.get("Model")) or clean(product.get("Name"))
    serial = redact(product.get("IdentifyingNumber", "") or bios.get("SerialNumber", ""))
    if vendor or model:
        if vendor:
            yield HostFact("manufacturer", vendor)
        if model:
            yield HostFact("model", model)
        if serial:
            yield HostFact("serial", serial)
        yield device(_refs.system_ref(), name=model or "System", manufacturer=vendor,
                     version=product.get("Version", ""),
                     properties=props((V.DEVICE_TYPE, "system"), (V.SERIAL_NUMBER, serial),
                                      (V.UUID, redact(product.get("UUID", ""))),
                                      (V.FAMILY, cs.get("SystemFamily", "")),
                                      (V.SKU, cs.get("SystemSKUNumber", ""))))
    total = cs.get("TotalPhysicalMemory", "")
    if total.isdigit():
        yield device(_refs.memory_ref(), name="System memory", description=human_bytes(int(total)),
                     properties=props((V.DEVICE_TYPE, "memory"), (V.MEMORY_TOTAL_BYTES, total)))
    for bb in classes.get("Win32_BaseBoard", [])[:1]:
        if clean(bb.get("Manufacturer")) or clean(bb.get("Product")):
            yield device(_refs.baseboard_ref(), name=bb.get("Product", "") or "Baseboard",
                         manufacturer=bb.get("Manufacturer", ""), version=bb.get("Version", ""),
                         properties=props((V.DEVICE_TYPE, "baseboard"),
                                          (V.SERIAL_NUMBER, redact(bb.get("SerialNumber", "")))))
    for i, cpu in enumerate(classes.get("Win32_Processor", [])):
        sock = cpu.get("DeviceID") or f"CPU{i}"
        maker = cpu.get("Manufacturer", "")
        yield device(
            _refs.cpu_ref(sock.replace("CPU", "") or str(i)),
            name=" ".join(cpu.get("Name", "").split()) or "Processor",
            manufacturer=_X86.get(maker, maker),
            properties=props(
                (V.DEVICE_TYPE, "cpu"), (V.CPU_VENDOR, _X86.get(maker, maker)),
                (V.CPU_SIGNATURE, cpu.get("Caption", "")), (V.CPU_ID, cpu.get("ProcessorId", "")),
                (V.CPU_CORES, cpu.get("NumberOfCores", "")),
                (V.CPU_THREADS, cpu.get("NumberOfLogicalProcessors", "")),
                (V.CPU_SOCKET, cpu.get("SocketDesignation", "")),
                (V.CPU_MAX_SPEED, f"{cpu['MaxClockSpeed']} MHz" if cpu.get("MaxClockSpeed") else ""),
            ),
        )
    for mem in classes.get("Win32_PhysicalMemory", []):
        size = mem.get("Capacity", "")
        locator = " / ".join(x for x in (clean(mem.get("DeviceLocator")), clean(mem.get("BankLabel"))) if x)
        part = clean(mem.get("PartNumber"))
        yield device(
            _refs.memory_module_ref(locator or mem.get("Tag", "")), name=part or "Memory module",
            manufacturer=mem.get("Manufacturer", ""),
            description=human_bytes(int(size)) if size.isdigit() else "",
            properties=props((V.DEVICE_TYPE, "memory-module"), (V.MEMORY_SIZE_BYTES, size),
                             (V.MEMORY_SPEED, f"{mem['Speed']} MHz" if mem.get("Speed") else ""),
                             (V.MEMORY_LOCATOR, locator), (V.PART_NUMBER, part),
                             (V.SERIAL_NUMBER, redact(mem.get("SerialNumber", "")))),
        )
    for disk in classes.get("Win32_DiskDrive", []):
        yield device(
            _refs.disk_ref(disk_identity(disk)), name=disk.get("Model", "") or disk.get("DeviceID", "disk"),
            # "(Standard disk drives)" and its translations are the generic driver's name, not a maker
            manufacturer="" if disk.get("Manufacturer", "").startswith("(") else disk.get("Manufacturer", ""),
            description=human_bytes(int(disk["Size"])) if disk.get("Size", "").isdigit() else "",
            properties=props((V.DEVICE_TYPE, "storage"), (V.STORAGE_SIZE_BYTES, disk.get("Size", "")),
                             (V.STORAGE_TRANSPORT, disk.get("InterfaceType", "")),
                             (V.STORAGE_MEDIA, disk.get("MediaType", "")),
                             (V.STORAGE_FIRMWARE_REVISION, disk.get("FirmwareRevision", "")),
                             (V.STORAGE_PNP_ID, disk.get("PNPDeviceID", "")),
                             (V.SERIAL_NUMBER, redact(disk.get("SerialNumber", "").strip()))),
        )
    for nic in classes.get("Win32_NetworkAdapter", []):
        pnp = nic.get("PNPDeviceID", "")
        # PhysicalAdapter (Vista+) or, on XP, a PCI/USB bus PNP id: miniports and tunnels are left out
        physical = nic.get("PhysicalAdapter", "").upper() == "TRUE" if nic.get("PhysicalAdapter") else \
            pnp.upper().startswith(("PCI\\", "USB\\", "PCMCIA\\"))
        if not physical:
            continue
        yield device(
            _refs.nic_ref(pnp or nic.get("Name", "")), name=nic.get("Name", "") or "Network adapter",
            manufacturer=nic.get("Manufacturer", ""),
            properties=props((V.DEVICE_TYPE, "network-adapter"),
                             (V.INTERFACE, nic.get("NetConnectionID", "")),
                             (V.DRIVER, nic.get("ServiceName", "")), (V.PNP_ID, pnp),
                             (V.MAC_ADDRESS, nic.get("MACAddress", ""))),
        )
    for gpu in classes.get("Win32_VideoController", []):
        yield device(
            make_pnp_ref(gpu.get("PNPDeviceID", "") or gpu.get("Name", "")), name=gpu.get("Name", "") or "GPU",
            manufacturer=gpu.get("AdapterCompatibility", ""),
            properties=props((V.DEVICE_TYPE, "gpu"), (V.DRIVER_VERSION, gpu.get("DriverVersion", "")),
                             (V.PNP_ID, gpu.get("PNPDeviceID", ""))),
        )
    for tpm in classes.get("Tpm", [])[:1]:
        if tpm.get("TpmPresent", "").upper() == "TRUE":
            yield device(_refs.tpm_ref("tpm0"), name="TPM", manufacturer=tpm.get("ManufacturerIdTxt", ""),
                         properties=props((V.DEVICE_TYPE, "tpm"),
                                          (V.FIRMWARE_VERSION, tpm.get("ManufacturerVersion", ""))))


def disk_identity(disk: Dict[str, str]) -> str:
    return disk.get("PNPDeviceID") or disk.get("DeviceID") or disk.get("Model", "")


def make_pnp_ref(pnp: str) -> str:
    from cbom.model import make_ref

    return make_ref("hardware", "pnp", pnp.upper())


# ---------------------------------------------------------------- collection

def powershell_script(classes: Dict[str, Tuple[str, ...]], extra: str = "") -> str:
    """One PowerShell run for every class: a single JSON object on stdout."""
    parts = ["$ErrorActionPreference='SilentlyContinue'", "$r=[ordered]@{}"]
    for cls, fields in classes.items():
        parts.append(f"$r['{cls}']=@(Get-CimInstance -ClassName {cls} | Select-Object {','.join(fields)})")
    if extra:
        parts.append(extra)
    parts.append("$r | ConvertTo-Json -Depth 4 -Compress")
    return "; ".join(parts)


TPM_PS = ("$t=Get-Tpm; if($t){$r['Tpm']=@($t | Select-Object TpmPresent,TpmReady,ManufacturerIdTxt,"
          "ManufacturerVersion,ManufacturerVersionFull20)}")


def run_cim(ctx: ScanContext, classes: Dict[str, Tuple[str, ...]], extra: str = "") -> Tuple[Classes, List[Gap]]:
    """CIM instances via PowerShell, else wmic (Windows XP/2003/7 without PowerShell 3).

    A class neither source read is a gap naming it and both reasons; so is wmic output that holds
    no `Property=value` line (wine 8.0's wmic ignores /format:list and prints a table) and a wmic
    that exits 0 printing nothing without saying "No Instance(s) Available".
    """
    ps = ctx.run(["powershell", "-NoProfile", "-NonInteractive", "-Command", powershell_script(classes, extra)],
                 timeout=60)
    ps_why = ps.why(quote=False)
    if ps.ok and ps.stdout.strip():
        try:
            return parse_cim_json(ps.stdout), []
        except ValueError as exc:
            ps_why = f"output is not the expected JSON ({exc})"
    # A recording holds collect.bat's wmic dumps only: PowerShell's absence there says nothing.
    tried = "" if ctx.recorded else f"PowerShell CIM: {ps_why}; "
    out: Classes = {}
    gaps: List[Gap] = []
    for cls, fields in classes.items():
        res = ctx.run(["wmic", "path", cls, "get", ",".join(fields), "/format:list"], timeout=30)
        if not res.ok:
            gaps.append(Gap(f"{cls} not read ({tried}wmic: {res.why()})"))
            continue
        text = decode_recorded(res.raw)
        out[cls] = parse_wmic_list(text)
        if out[cls]:
            continue
        if text.strip():
            first = " ".join(text.split())[:80]
            gaps.append(Gap(f"{cls} not read: wmic output holds no 'Property=value' instance "
                            f"(a table or other text, not /format:list: {first!r})"))
        elif ctx.recorded:
            gaps.append(Gap(f"{cls}: recorded wmic output holds no 'Property=value' instance "
                            "(empty, garbled or truncated)"))
        elif not no_instances(res.stderr):
            # Live, a class without instances prints nothing on stdout and says so on stderr.
            gaps.append(Gap(f"{cls} not read ({tried}wmic: {res.why()})"))
    return out, gaps


def no_instances(stderr: str) -> bool:
    """True when wmic's stderr says the class has no instance: "No Instance(s) Available."
    (French "Aucune instance disponible.", German "Keine Instanz(en) verfügbar.")."""
    return "instan" in stderr.lower()


def collect(ctx: ScanContext) -> Iterator[Item]:
    classes, gaps = run_cim(ctx, CLASSES, TPM_PS)
    yield from gaps
    redact = Redactor.from_options(ctx.options)
    # WMI first; what it did not say is filled from the machine's other descriptions: systeminfo,
    # live or recorded (it answers where wmic is gone, Windows 11 24H2, and PowerShell is locked
    # down), and on a recording collect.bat's CentralProcessor export and the Windows port of dmidecode.
    if ctx.recorded:
        recorded_processor_names(ctx, classes)
    sources: List[List[Item]] = [list(components(classes, redact))]
    if ctx.recorded:
        records_list, dmi_gaps = recorded_dmidecode(ctx)
        yield from dmi_gaps
        for records in records_list:
            sources.append(list(dmi.dmi_components(records, redact)) + list(dmi.dmi_cpu_components(records)))
    si = systeminfo_fill(ctx, classes)
    if si:
        sources.append(list(components(si, redact)))
    yield from _cpuid.cpuid_items(ctx, first_source_wins(sources))


def systeminfo_fill(ctx: ScanContext, classes: Classes, wanted: Sequence[str] = ()) -> Classes:
    """The Win32_* look-alikes of systeminfo when WMI lacked one of the `wanted` classes it
    describes (default all; systeminfo takes seconds on a real machine: not run when WMI said it all)."""
    if all(classes.get(cls) for cls in wanted or SYSTEMINFO_CLASSES):
        return {}
    return recorded_systeminfo_classes(ctx)


# ---------------------------------------------------------------- other sources of a recorded machine

CENTRAL_PROCESSOR = r"HKLM\HARDWARE\DESCRIPTION\System\CentralProcessor"


def processor_names(text: str) -> Dict[str, str]:
    """{'0': 'Intel(R) Core(TM)2 Duo CPU T9400 @ 2.53GHz'} from a CentralProcessor .reg export."""
    keys, _ = parse_reg_export(text)
    out: Dict[str, str] = {}
    for key, values in keys:
        m = re.search(r"\\CentralProcessor\\(\d+)$", key, re.IGNORECASE)
        name = values.get("ProcessorNameString")
        if m and isinstance(name, str) and name.strip():
            out[m.group(1)] = " ".join(name.split())
    return out


def recorded_processor_names(ctx: ScanContext, classes: Classes) -> None:
    """Real CPU names from a recorded CentralProcessor export (XP's WMI calls a Core 2 a "Pentium III Xeon")."""
    for res in ctx.run_each(["reg", "export", CENTRAL_PROCESSOR]):
        if not res.ok:
            continue
        names = processor_names(res.stdout)
        for cpu in classes.get("Win32_Processor", []):
            real = names.get(cpu.get("DeviceID", "").replace("CPU", ""))
            if real:
                cpu["Name"] = real


def recorded_dmidecode(ctx: ScanContext) -> Tuple[List[List[dmi.DmiRecord]], List[Gap]]:
    """SMBIOS structures of every recorded dmidecode output (the Windows port of dmidecode)."""
    found: List[List[dmi.DmiRecord]] = []
    gaps: List[Gap] = []
    for res in ctx.run_each(["dmidecode"]):
        if not res.ok:
            continue
        records = dmi.parse_dmidecode(res.stdout)
        if records:
            found.append(records)
        else:
            gaps.append(Gap("dmidecode output: no SMBIOS structure found (garbled or truncated?)"))
    return found, gaps


SYSTEMINFO_CLASSES = ("Win32_ComputerSystem", "Win32_BIOS", "Win32_Processor")


def recorded_systeminfo_classes(ctx: ScanContext) -> Classes:
    """Win32_* look-alikes from systeminfo (live: its output; recorded: every recorded sample,
    the first one saying a class wins)."""
    out: Classes = {}
    for res in ctx.run_each(["systeminfo"]):
        if res.ok:
            for cls, rows in systeminfo_classes(res.stdout).items():
                out.setdefault(cls, rows)
    return out


# Positions of systeminfo's top-level lines (see collectors.osinfo._windows._SI_FIELDS).
_SI_HW = {11: "manufacturer", 12: "model", 14: "processors", 15: "bios", 22: "memory"}


def systeminfo_classes(text: str) -> Classes:
    """Win32_ComputerSystem / Win32_BIOS / Win32_Processor look-alikes from systeminfo's hardware lines."""
    entries = systeminfo_lines(text)
    if len(entries) < 23:
        return {}
    got = {name: entries[pos] for pos, name in _SI_HW.items()}
    out: Classes = {}
    cs: Dict[str, str] = {"Manufacturer": clean_na(got["manufacturer"][1]), "Model": clean_na(got["model"][1])}
    digits = re.sub(r"\D", "", got["memory"][1])
    if digits:
        cs["TotalPhysicalMemory"] = str(int(digits) << 20)  # "32 503 MB", "2 047 Mo", "16,240 MB"
    out["Win32_ComputerSystem"] = [cs]
    bios = parse_bios_line(clean_na(got["bios"][1]))
    if bios:
        out["Win32_BIOS"] = [bios]
    cpus = []
    for i, line in enumerate(got["processors"][2]):
        m = re.match(r"^\[\d+\]\s*:\s*(.*?)\s*(?:~(\d+)\s*[Mm][Hh]z)?\s*$", line)
        if not m:
            continue
        sig = m.group(1)
        maker = next((w for w in sig.split() if w in ("GenuineIntel", "AuthenticAMD")), "")
        caption = " ".join(w for w in sig.split() if w != maker)
        cpus.append({"DeviceID": f"CPU{i}", "Name": caption, "Caption": caption, "Manufacturer": maker,
                     "MaxClockSpeed": m.group(2) or ""})
    if cpus:
        out["Win32_Processor"] = cpus
    return out


# systeminfo's "BIOS Version" is Win32_BIOS's Manufacturer and SMBIOSBIOSVersion joined by a space
# (then ", " and the release date); the version is the last word, with the parenthesised revision some
# vendors append ("LENOVO 83ET67WW (1.37 )"). Windows XP/2003 print Win32_BIOS.Version instead, a
# vendor code and a revision around " - " ("INTEL  - 6040000").
_BIOS_XP = re.compile(r"^(\S.*?)\s+-\s+(\S+)$")
_BIOS_LAST_WORD = re.compile(r"^(.*?)\s*(\S+(?:\s*\([^()]*\))?)$")


def parse_bios_line(value: str) -> Dict[str, str]:
    """systeminfo "BIOS Version": "Dell Inc. 1.7.0, 12/27/2018" → Win32_BIOS-like fields."""
    if not value:
        return {}
    head, sep, date = value.rpartition(",")
    if not sep:
        head, date = value, ""
    head = head.strip()
    m = _BIOS_XP.match(head) or _BIOS_LAST_WORD.match(head)
    vendor, version = (m.group(1).strip(), m.group(2).strip()) if m else ("", head)
    return {"Manufacturer": vendor, "SMBIOSBIOSVersion": version, "Version": head,
            "ReleaseDate": _date_yyyymmdd(date.strip())}


def _date_yyyymmdd(value: str) -> str:
    """'12/27/2018' (US), '13/04/2018' (day first), '2018-12-25', '2019/1/24' → '20181227000000.000000+000'."""
    m = re.match(r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})$", value)
    if not m:
        return ""
    a, b, c = (int(x) for x in m.groups())
    if len(m.group(1)) == 4:
        y, mo, d = a, b, c
    else:
        y = c
        mo, d = (a, b) if a <= 12 else (b, a)
        if b > 12:
            mo, d = a, b
    try:
        return datetime(y, mo, d).strftime("%Y%m%d000000.000000+000")
    except ValueError:
        return ""
