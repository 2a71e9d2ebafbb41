"""macOS hardware from `system_profiler` (JSON on 10.15+, XML plist on older systems, text as kept in recordings).

`parse_sp_structured` turns JSON or XML into {data type: items}; `parse_sp_text`
turns the human text into nested dicts by indentation. Components are built
from either form.
"""
from __future__ import annotations

import json
import plistlib
import re
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.model import Gap, HostFact, Item

from .. import _ids
from . import _cpuid, _refs
from ._common import Redactor, clean, device, first_source_wins, human_bytes, props

DATA_TYPES = ("SPHardwareDataType", "SPSerialATADataType", "SPNVMeDataType", "SPUSBDataType", "SPDisplaysDataType")
Items = Dict[str, List[Dict[str, Any]]]


def parse_sp_structured(text: str) -> Items:
    """`system_profiler -json …` or `-xml …` output → {data type: items}. Raises ValueError when garbled."""
    s = text.lstrip()
    if s.startswith("{"):
        data = json.loads(s)
        return {k: v for k, v in data.items() if isinstance(v, list)} if isinstance(data, dict) else {}
    try:
        plist = plistlib.loads(s.encode("utf-8"))
    except Exception as exc:  # plistlib raises several types (ExpatError, InvalidFileException…)
        raise ValueError(f"not a system_profiler plist: {exc}") from exc
    out: Items = {}
    for entry in plist if isinstance(plist, list) else []:
        if isinstance(entry, dict) and "_dataType" in entry:
            out[str(entry["_dataType"])] = list(entry.get("_items", []))
    return out


def _data_types(text: str) -> Set[str]:
    """The `_dataType`s a system_profiler plist names, read without parsing it."""
    return set(re.findall(r"<key>_dataType</key>\s*<string>(\w+)</string>", text))


def parse_sp_text(text: str) -> Dict[str, Any]:
    """Human `system_profiler` output → nested dicts ('Heading:' opens a level, 'Key: value' sets one)."""
    root: Dict[str, Any] = {}
    stack: List[Tuple[int, Dict[str, Any]]] = [(-1, root)]
    for raw in text.replace("\r\n", "\n").split("\n"):
        if not raw.strip():
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        line = raw.strip()
        while len(stack) > 1 and indent <= stack[-1][0]:
            stack.pop()
        parent = stack[-1][1]
        if line.endswith(":") and ": " not in line:
            child: Dict[str, Any] = {}
            parent[line[:-1]] = child
            stack.append((indent, child))
        else:
            key, _, value = line.partition(": ")
            parent[key.strip()] = value.strip()
    return _empty_headings_as_values(root)


def _empty_headings_as_values(tree: Dict[str, Any]) -> Dict[str, Any]:
    """A "Key:" line with nothing under it is an empty value, not a heading.

    Mac OS X 10.4/10.5 (MacBook2,1 era) print a drive's unknown serial or revision as
    "Serial Number:" with nothing after the colon; read as a heading it became a dict
    where the disk parser expects text.
    """
    return {k: (_empty_headings_as_values(v) if v else "") if isinstance(v, dict) else v for k, v in tree.items()}


def _text(value: Any) -> str:
    """A text report value as a string ("" for a heading where a value was expected)."""
    return value if isinstance(value, str) else ""


def _bytes(value: str) -> str:
    """'320,07 GB (320 072 933 376 bytes)' → '320072933376'."""
    m = re.search(r"\(([\d\s\u202f.,]+) bytes\)", value or "")
    return re.sub(r"\D", "", m.group(1)) if m else ""


def hardware_overview(hw: Dict[str, str], redact: Redactor) -> Iterator[Item]:
    """System, CPU and memory from the Hardware Overview (text labels or JSON keys)."""
    def g(*keys: str) -> str:
        return next((clean(str(hw[k])) for k in keys if clean(str(hw.get(k, "")))), "")

    name, ident = g("Model Name", "machine_name"), g("Model Identifier", "machine_model")
    serial = redact(g("Serial Number (system)", "Serial Number", "serial_number"))
    if name or ident:
        yield HostFact("manufacturer", "Apple")
        yield HostFact("model", ident or name)
        if serial:
            yield HostFact("serial", serial)
        yield device(_refs.system_ref(), name=name or ident, manufacturer="Apple", version=ident,
                     properties=props((V.DEVICE_TYPE, "system"), (V.SERIAL_NUMBER, serial),
                                      (V.UUID, redact(g("Hardware UUID", "platform_UUID")))))
    cpu = g("Chip", "chip_type", "Processor Name", "cpu_type")
    if cpu:
        cores = g("Total Number of Cores", "Total Number Of Cores", "number_processors")
        yield device(_refs.cpu_ref("0"), name=cpu, manufacturer="Apple" if cpu.startswith("Apple") else (
            "Intel" if "Intel" in cpu else ("IBM" if "PowerPC" in cpu else "")),
            properties=props((V.DEVICE_TYPE, "cpu"), (V.CPU_CORES, cores.split(" ")[0] if cores else ""),
                             (V.CPU_PACKAGES, g("Number Of Processors", "Number Of CPUs", "packages")),
                             (V.CPU_SPEED, g("Processor Speed", "current_processor_speed"))))
    mem = g("Memory", "physical_memory")
    if mem:
        yield device(_refs.memory_ref(), name="System memory", description=mem,
                     properties=props((V.DEVICE_TYPE, "memory"), (V.MEMORY_TOTAL, mem)))


def text_components(tree: Dict[str, Any], redact: Redactor) -> Iterator[Item]:
    hw = tree.get("Hardware", {}).get("Hardware Overview", {})
    if hw:
        yield from hardware_overview(hw, redact)
    dname: str  # the text report's keys are the disks' names
    for section in ("Serial-ATA", "SATA/SATA Express", "SATA", "NVMExpress", "ATA"):
        for ctrl in tree.get(section, {}).values():
            if not isinstance(ctrl, dict):
                continue
            for dname, disk in ctrl.items():
                if isinstance(disk, dict) and ("Model" in disk or "Revision" in disk):
                    yield _disk(_text(disk.get("Model", dname)) or dname, _text(disk.get("Revision", "")),
                                _text(disk.get("Serial Number", "")), _bytes(_text(disk.get("Capacity", ""))),
                                _text(disk.get("BSD Name", "")), section, redact)


def _disk(model: str, revision: str, serial: str, size: str, bsd: str, bus: str, redact: Redactor):
    model = " ".join(model.split())
    return device(_refs.disk_ref(f"{bus}:{model}:{bsd}"), name=model or bsd or "disk",
                  properties=props((V.DEVICE_TYPE, "storage"), (V.STORAGE_KERNEL_NAME, bsd),
                                   (V.STORAGE_SIZE_BYTES, size), (V.STORAGE_TRANSPORT, bus),
                                   (V.STORAGE_FIRMWARE_REVISION, revision.strip()),
                                   (V.SERIAL_NUMBER, redact(serial.strip()))))


def disk_identity(bus: str, model: str, bsd: str) -> str:
    return f"{bus}:{' '.join(model.split())}:{bsd}"


def structured_components(data: Items, redact: Redactor) -> Iterator[Item]:
    for hw in data.get("SPHardwareDataType", [])[:1]:
        yield from hardware_overview({k: str(v) for k, v in hw.items()}, redact)
    for dtype, bus in (("SPSerialATADataType", "Serial-ATA"), ("SPNVMeDataType", "NVMExpress")):
        for ctrl in data.get(dtype, []):
            for disk in ctrl.get("_items", []) if isinstance(ctrl, dict) else []:
                yield _disk(str(disk.get("device_model", disk.get("_name", ""))), str(disk.get("device_revision", "")),
                            str(disk.get("device_serial", "")), str(disk.get("size_in_bytes", "")),
                            str(disk.get("bsd_name", "")), bus, redact)
    for usb_bus in data.get("SPUSBDataType", []):
        yield from _usb_tree(usb_bus.get("_items", []) if isinstance(usb_bus, dict) else [], redact)


def _usb_id(value: object) -> Tuple[str, str]:
    """'0x0a5c  (Broadcom Corp.)' → ('0a5c', 'Broadcom Corp.'); 'apple_vendor_id' → ('05ac', 'Apple Inc.')."""
    v = str(value or "")
    if v == "apple_vendor_id":
        return "05ac", "Apple Inc."
    m = re.match(r"^0x([0-9a-fA-F]{1,4})\s*(?:\((.*)\))?", v)
    return (m.group(1).lower().zfill(4), (m.group(2) or "").strip()) if m else ("", "")


def _usb_tree(items: List[Any], redact: Redactor) -> Iterator[Item]:
    if not items:
        return  # no usb.ids to load (~15 ms)
    db = _ids.load("usb")
    for it in items:
        if not isinstance(it, dict):
            continue
        vid, vname = _usb_id(it.get("vendor_id"))
        pid, _ = _usb_id(it.get("product_id"))
        if vid:
            port = str(it.get("location_id", "")).split(" ")[0]
            yield device(
                _refs.usb_ref(port, vid, pid), name=str(it.get("_name", "")) or db.device(vid, pid) or "USB device",
                manufacturer=db.vendor(vid) or vname or str(it.get("manufacturer", "")),
                version=str(it.get("bcd_device", "")),
                properties=props((V.DEVICE_TYPE, "usb"), (V.BUS, "usb"), (V.USB_PORT, port),
                                 (V.USB_ID, f"{vid}:{pid}"), (V.SERIAL_NUMBER, redact(str(it.get("serial_num", "")))))
            )
        yield from _usb_tree(it.get("_items", []), redact)


def firmware_values(hw: Dict[str, Any]) -> Dict[str, str]:
    """Boot ROM / System Firmware and SMC versions from a Hardware Overview (text or JSON)."""
    def g(*keys: str) -> str:
        return next((clean(str(hw[k])) for k in keys if clean(str(hw.get(k, "")))), "")

    return {"boot_rom": g("System Firmware Version", "Boot ROM Version", "boot_rom_version"),
            "smc": g("SMC Version (system)", "SMC Version", "SMC_version_system"),
            "os_loader": g("OS Loader Version", "os_loader_version")}


def collect(ctx: ScanContext) -> Iterator[Item]:
    redact = Redactor.from_options(ctx.options)
    items = recorded_components(ctx, redact) if ctx.recorded else live_components(ctx, redact)
    yield from _cpuid.with_flags(items, sysctl_cpu(ctx))


def sysctl_cpu(ctx: ScanContext) -> Optional[_cpuid.CpuId]:
    """The processor's features as `sysctl -a` lists them (live, or its recorded output)."""
    res = ctx.run(["sysctl", "-a"])
    if not res.ok:
        return None
    flags = _cpuid.darwin_flags(parse_sysctl(res.stdout))
    return _cpuid.CpuId(flags=flags, source="sysctl") if flags else None


def live_components(ctx: ScanContext, redact: Redactor) -> Iterator[Item]:
    res = ctx.run(["system_profiler", "-json", "-detailLevel", "full", *DATA_TYPES], timeout=60)
    if not res.ok:  # macOS < 10.15 has no -json
        res = ctx.run(["system_profiler", "-xml", "-detailLevel", "full", *DATA_TYPES], timeout=60)
    if not res.ok:
        yield Gap(f"system_profiler failed ({res.why()}): hardware not collected")
        return
    try:
        data = parse_sp_structured(res.stdout)
    except ValueError:
        yield Gap("system_profiler output could not be parsed: hardware not collected")
        return
    yield from structured_components(data, redact)


# ---------------------------------------------------------------- a recorded Mac

# A recording keeps what its collector could run: the full text report (`system_profiler`, one per
# OS release in some samples), single data types as SP<Type>.xml/.json, and on machines without
# them `sysctl -a` and `ioreg -l -p IODeviceTree -c IOPlatformExpertDevice`.
Report = Tuple[str, Any]  # ("structured", Items) or ("text", nested dict of parse_sp_text)


def structured(text: str) -> bool:
    """True for system_profiler -xml / -json output (else it is the human text)."""
    return text.lstrip().startswith(("<?xml", "<plist", "{", "<!DOCTYPE"))


def recorded_reports(ctx: ScanContext) -> Tuple[List[Report], List[Gap]]:
    """Every recorded system_profiler report of the machine, the newest OS release's first."""
    reports: List[Report] = []
    gaps: List[Gap] = []
    # system_profiler-10.5.txt before -10.4.txt: the later recording wins.
    for res in reversed(ctx.run_each(["system_profiler"])):
        if not res.ok:
            continue
        if structured(res.stdout):
            try:
                reports.append(("structured", parse_sp_structured(res.stdout)))
            except ValueError as exc:
                gaps.append(Gap(f"system_profiler report: {exc}"))
        else:
            reports.append(("text", parse_sp_text(res.stdout)))
    for res in ctx.run_each(["system_profiler", "-xml"]):
        if not res.ok or _data_types(res.stdout) == {"SPApplicationsDataType"}:
            continue  # the software collector reads that one: not parsed twice (it is the largest)
        try:
            data = parse_sp_structured(res.stdout)
        except ValueError as exc:
            gaps.append(Gap(f"system_profiler data type: {exc}"))
            continue
        if set(data) != {"SPApplicationsDataType"}:  # the software collector reads that one
            reports.append(("structured", data))
    return reports, gaps


def parse_sysctl(text: str) -> Dict[str, str]:
    """`sysctl -a` "name: value" (macOS/BSD) or "name = value" (Linux) lines."""
    out: Dict[str, str] = {}
    for line in text.replace("\r", "").split("\n"):
        m = re.match(r"^([a-z][\w.]*)\s*[:=]\s?(.*)$", line)
        if m:
            out.setdefault(m.group(1), m.group(2).strip())
    return out


def recorded_overview(ctx: ScanContext) -> Dict[str, str]:
    """A Hardware Overview look-alike from `sysctl -a` and `ioreg … IOPlatformExpertDevice`."""
    out: Dict[str, str] = {}
    res = ctx.run(["sysctl", "-a"])
    if res.ok:
        s = parse_sysctl(res.stdout)
        if s.get("hw.model"):
            out["Model Identifier"] = s["hw.model"]
        if s.get("machdep.cpu.brand_string"):
            out["Processor Name"] = s["machdep.cpu.brand_string"]
        if s.get("hw.physicalcpu"):
            out["Total Number of Cores"] = s["hw.physicalcpu"]
        if s.get("hw.memsize", "").isdigit():
            out["Memory"] = human_bytes(int(s["hw.memsize"]))
    for res in ctx.run_each(["ioreg", "-l", "-p", "IODeviceTree", "-c", "IOPlatformExpertDevice"]):
        if not res.ok:
            continue
        for key, label in (("IOPlatformSerialNumber", "Serial Number (system)"), ("model", "Model Identifier"),
                           ("IOPlatformUUID", "Hardware UUID")):
            m = re.search(r'"%s"\s*=\s*(?:<")?"?([^">]+)' % key, res.stdout)
            if m and label not in out:
                out[label] = m.group(1).strip()
    return out


def recorded_components(ctx: ScanContext, redact: Redactor) -> Iterator[Item]:
    """Hardware of a recorded Mac: each report in turn, the first describing a device winning."""
    reports, gaps = recorded_reports(ctx)
    yield from gaps
    sources: List[List[Item]] = []
    for kind, data in reports:
        sources.append(list(structured_components(data, redact) if kind == "structured" else
                            text_components(data, redact)))
    overview = recorded_overview(ctx)
    if overview:
        sources.append(list(hardware_overview(overview, redact)))
    yield from first_source_wins(sources)
