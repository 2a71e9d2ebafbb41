"""Linux hardware: DMI (sysfs, dmidecode), /proc/cpuinfo, sysfs PCI/USB/block/net/TPM.

Pure parsers (`parse_*`) take the text of one source; `collect_*` functions read
through the ScanContext so `--root` redirects every path. sysfs is the primary
source (readable without root, no tool needed on a bare plant PC); commands
(`dmidecode`, `lsblk`, `ethtool`) only add what sysfs does not expose.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.model import Component, Finding, Gap, HostFact, Item, Severity

from .. import _ids
from . import _refs
from ._common import Redactor, clean, device, human_bytes, props

# ---------------------------------------------------------------- dmidecode


@dataclass
class DmiRecord:
    """One SMBIOS structure as printed by dmidecode."""

    handle: str
    type: int
    title: str
    fields: Dict[str, str] = field(default_factory=dict)
    lists: Dict[str, List[str]] = field(default_factory=dict)

    def get(self, *names: str) -> str:
        """First non-placeholder value among `names` (aliases across dmidecode versions)."""
        for n in names:
            v = clean(self.fields.get(n, ""))
            if v:
                return v
        return ""


_HANDLE = re.compile(r"^Handle (0x[0-9A-Fa-f]+)(?:, DMI type (\d+))?")
_TYPE = re.compile(r"DMI type (\d+)")
# dmidecode < 2.7 (RHEL 2.1, ESX 2.5 era) used other labels for the same fields.
_OLD_ALIASES = {"Vendor": "Manufacturer", "Product": "Product Name", "Release": "Release Date"}


def parse_dmidecode(text: str) -> List[DmiRecord]:
    """Every structure in dmidecode output, old (2.x) and new (3.x) layouts, CRLF or LF."""
    records: List[DmiRecord] = []
    blocks: List[List[str]] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.startswith("Handle 0x"):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    for block in blocks:
        m = _HANDLE.match(block[0])
        if not m:
            continue
        handle, dtype = m.group(1), m.group(2)
        body = block[1:]
        if dtype is None:  # old layout: "\tDMI type 0, 20 bytes." on the next line
            for i, line in enumerate(body):
                t = _TYPE.search(line)
                if t:
                    dtype = t.group(1)
                    body = body[i + 1:]
                    break
        if dtype is None:
            continue
        rec = _parse_body(handle, int(dtype), body)
        if rec:
            records.append(rec)
    return records


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip("\t"))


def _parse_body(handle: str, dtype: int, body: List[str]) -> Optional[DmiRecord]:
    lines = [ln.rstrip() for ln in body if ln.strip()]
    if not lines:
        return DmiRecord(handle, dtype, "")
    title = lines[0].strip()
    base = _indent(lines[0])
    old = title.endswith(" Block") or base > 0
    rec = DmiRecord(handle, dtype, title)
    key = ""
    for line in lines[1:]:
        depth = _indent(line) - base
        text = line.strip()
        if depth <= 1 and ":" in text:
            key, _, value = text.partition(":")
            key = key.strip()
            if old:
                key = _OLD_ALIASES.get(key, key)
            rec.fields[key] = value.strip()
        elif depth <= 1 and key == "" and ":" not in text:
            continue
        elif key:
            rec.lists.setdefault(key, []).append(text)
    return rec


def dmi_by_type(records: List[DmiRecord], dtype: int) -> List[DmiRecord]:
    return [r for r in records if r.type == dtype]


def dmi_size_bytes(value: str) -> int:
    """'4096 MB', '16 GB', '256Mbyte', '8192 kB' → bytes; 0 when empty/not installed."""
    m = re.match(r"^\s*(\d+)\s*(k|m|g|t)?\s*(?:b|byte|bytes)?\s*$", value or "", re.IGNORECASE)
    if not m:
        return 0
    mult = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[(m.group(2) or "").lower()]
    return int(m.group(1)) * mult


def dmi_components(records: List[DmiRecord], redact: Redactor) -> Iterator[Item]:
    """System, baseboard, chassis, memory modules and slots from dmidecode records."""
    for rec in dmi_by_type(records, 1)[:1]:
        yield from _system(
            vendor=rec.get("Manufacturer"), product=rec.get("Product Name"), version=rec.get("Version"),
            serial=rec.get("Serial Number"), uuid=rec.get("UUID"), sku=rec.get("SKU Number"),
            family=rec.get("Family"), redact=redact,
        )
    for rec in dmi_by_type(records, 2)[:1]:
        if not (rec.get("Manufacturer") or rec.get("Product Name")):
            continue
        yield _board(rec.get("Manufacturer"), rec.get("Product Name"), rec.get("Version"),
                     rec.get("Serial Number"), rec.get("Asset Tag"), redact)
    for rec in dmi_by_type(records, 3)[:1]:
        yield _chassis(rec.get("Manufacturer"), rec.get("Type", "Chassis Type"), rec.get("Version"),
                       rec.get("Serial Number"), rec.get("Asset Tag"), redact)
    for rec in dmi_by_type(records, 17):
        size = dmi_size_bytes(rec.fields.get("Size", ""))
        if not size:
            continue  # "No Module Installed"
        locator = " / ".join(x for x in (rec.get("Locator"), rec.get("Bank Locator")) if x) or rec.handle
        part = rec.get("Part Number")
        yield device(
            _refs.memory_module_ref(locator),
            name=part or f"{rec.get('Type') or 'Memory'} module",
            manufacturer=rec.get("Manufacturer"),
            description=f"{human_bytes(size)} {rec.get('Type')} {rec.get('Form Factor')} in {locator}".replace("  ", " "),
            properties=props(
                (V.DEVICE_TYPE, "memory-module"),
                (V.MEMORY_SIZE_BYTES, str(size)),
                (V.MEMORY_TYPE, rec.get("Type")),
                (V.MEMORY_FORM_FACTOR, rec.get("Form Factor")),
                (V.MEMORY_SPEED, rec.get("Configured Memory Speed", "Configured Clock Speed", "Speed")),
                (V.MEMORY_LOCATOR, locator),
                (V.PART_NUMBER, part),
                (V.SERIAL_NUMBER, redact(rec.get("Serial Number"))),
            ),
        )
    for rec in dmi_by_type(records, 9):
        name = rec.get("Designation")
        if not name:
            continue
        yield device(
            _refs.slot_ref(name),
            name=name,
            properties=props(
                (V.DEVICE_TYPE, "slot"),
                (V.SLOT_TYPE, rec.get("Type")),
                (V.SLOT_USAGE, rec.get("Current Usage")),
                (V.SLOT_BUS_ADDRESS, rec.get("Bus Address")),
            ),
        )


def dmi_processors(records: List[DmiRecord]) -> List[DmiRecord]:
    """Populated processor sockets (type 4), in table order."""
    out = []
    for rec in dmi_by_type(records, 4):
        status = rec.fields.get("Status", "")
        if "Unpopulated" in status or rec.fields.get("Processor Type", "").startswith("Unknown"):
            continue
        out.append(rec)
    return out


def _system(vendor: str, product: str, version: str, serial: str, uuid: str, sku: str, family: str,
            redact: Redactor) -> Iterator[Item]:
    vendor, product, version = clean(vendor), clean(product), clean(version)
    serial_out, uuid_out = redact(serial), redact(uuid)
    if not (vendor or product):
        return
    if vendor:
        yield HostFact("manufacturer", vendor)
    if product:
        yield HostFact("model", product)
    if serial_out:
        yield HostFact("serial", serial_out)
    yield device(
        _refs.system_ref(),
        name=product or "System",
        manufacturer=vendor,
        version=version,
        properties=props(
            (V.DEVICE_TYPE, "system"),
            (V.SERIAL_NUMBER, serial_out),
            (V.UUID, uuid_out),
            (V.SKU, sku),
            (V.FAMILY, family),
        ),
    )


def _board(vendor: str, product: str, version: str, serial: str, asset: str, redact: Redactor) -> Component:
    return device(
        _refs.baseboard_ref(),
        name=clean(product) or "Baseboard",
        manufacturer=vendor,
        version=version,
        properties=props((V.DEVICE_TYPE, "baseboard"), (V.SERIAL_NUMBER, redact(serial)), (V.ASSET_TAG, asset)),
    )


def _chassis(vendor: str, ctype: str, version: str, serial: str, asset: str, redact: Redactor) -> Component:
    return device(
        _refs.chassis_ref(),
        name=(clean(ctype) if "chassis" in clean(ctype).lower() else f"{clean(ctype)} chassis") if clean(ctype) else "Chassis",
        manufacturer=vendor,
        version=version,
        properties=props((V.DEVICE_TYPE, "chassis"), (V.CHASSIS_TYPE, ctype),
                         (V.SERIAL_NUMBER, redact(serial)), (V.ASSET_TAG, asset)),
    )


# Kernel DMI attribute names (drivers/firmware/dmi-id.c), as read from /sys/class/dmi/id.
DMI_SYSFS = (
    "bios_vendor", "bios_version", "bios_date", "bios_release", "ec_firmware_release",
    "sys_vendor", "product_name", "product_version", "product_serial", "product_uuid", "product_sku",
    "product_family", "board_vendor", "board_name", "board_version", "board_serial", "board_asset_tag",
    "chassis_vendor", "chassis_type", "chassis_version", "chassis_serial", "chassis_asset_tag",
)

# SMBIOS 3.x table 17 (System Enclosure or Chassis Types); the kernel exposes the number.
CHASSIS_TYPES = {
    1: "Other", 2: "Unknown", 3: "Desktop", 4: "Low Profile Desktop", 5: "Pizza Box", 6: "Mini Tower",
    7: "Tower", 8: "Portable", 9: "Laptop", 10: "Notebook", 11: "Hand Held", 12: "Docking Station",
    13: "All In One", 14: "Sub Notebook", 15: "Space-saving", 16: "Lunch Box", 17: "Main Server Chassis",
    18: "Expansion Chassis", 19: "Sub Chassis", 20: "Bus Expansion Chassis", 21: "Peripheral Chassis",
    22: "RAID Chassis", 23: "Rack Mount Chassis", 24: "Sealed-case PC", 25: "Multi-system",
    26: "CompactPCI", 27: "AdvancedTCA", 28: "Blade", 29: "Blade Enclosure", 30: "Tablet",
    31: "Convertible", 32: "Detachable", 33: "IoT Gateway", 34: "Embedded PC", 35: "Mini PC", 36: "Stick PC",
}


def read_dmi_sysfs(ctx: ScanContext) -> Dict[str, str]:
    """Readable /sys/class/dmi/id attributes (serials and UUID are root-only: absent otherwise)."""
    out: Dict[str, str] = {}
    for name in DMI_SYSFS:
        try:
            out[name] = ctx.read(f"/sys/class/dmi/id/{name}").strip()
        except OSError:
            pass
    return out


def dmi_sysfs_components(dmi: Dict[str, str], redact: Redactor) -> Iterator[Item]:
    """System, baseboard and chassis from /sys/class/dmi/id attribute values."""
    yield from _system(
        vendor=dmi.get("sys_vendor", ""), product=dmi.get("product_name", ""),
        version=dmi.get("product_version", ""), serial=dmi.get("product_serial", ""),
        uuid=dmi.get("product_uuid", ""), sku=dmi.get("product_sku", ""), family=dmi.get("product_family", ""),
        redact=redact,
    )
    if clean(dmi.get("board_vendor")) or clean(dmi.get("board_name")):
        yield _board(dmi.get("board_vendor", ""), dmi.get("board_name", ""), dmi.get("board_version", ""),
                     dmi.get("board_serial", ""), dmi.get("board_asset_tag", ""), redact)
    ctype = dmi.get("chassis_type", "")
    if ctype.isdigit():
        ctype = CHASSIS_TYPES.get(int(ctype), "")
    if clean(dmi.get("chassis_vendor")) or clean(ctype):
        yield _chassis(dmi.get("chassis_vendor", ""), ctype, dmi.get("chassis_version", ""),
                       dmi.get("chassis_serial", ""), dmi.get("chassis_asset_tag", ""), redact)


# ---------------------------------------------------------------- /proc/cpuinfo

# Flags an auditor of crypto and platform security asks about (x86 names; ARM 'Features').
CPU_FLAGS_OF_INTEREST = (
    "aes", "vaes", "pclmulqdq", "vpclmulqdq", "sha_ni", "sha1", "sha2", "sha3", "sha512", "pmull", "rdrand",
    "rdseed", "avx", "avx2", "avx512f", "smep", "smap", "nx", "sgx", "sme", "sev", "tme", "ibt", "user_shstk",
    "hypervisor", "vmx", "svm",
)


@dataclass
class CpuPackage:
    """One physical processor as /proc/cpuinfo describes it."""

    physical_id: str
    vendor: str = ""
    model_name: str = ""
    family: str = ""
    model: str = ""
    stepping: str = ""
    microcode: str = ""
    cores: int = 0
    threads: int = 0
    flags: Tuple[str, ...] = ()
    architecture: str = ""
    extra: Dict[str, str] = field(default_factory=dict)


# ARM "CPU implementer" codes (arch/arm64/include/asm/cputype.h).
ARM_IMPLEMENTERS = {
    "0x41": "ARM", "0x42": "Broadcom", "0x43": "Cavium", "0x46": "Fujitsu", "0x48": "HiSilicon",
    "0x4e": "NVIDIA", "0x50": "APM", "0x51": "Qualcomm", "0x61": "Apple", "0x69": "Intel", "0xc0": "Ampere",
}
_X86_VENDORS = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD", "CentaurHauls": "Centaur",
                "HygonGenuine": "Hygon", "  Shanghai  ": "Zhaoxin", "GenuineTMx86": "Transmeta"}


def parse_cpuinfo(text: str) -> List[CpuPackage]:
    """Processor packages from /proc/cpuinfo (x86, ARM, POWER, s390x, SPARC, MIPS, Alpha, IA-64)."""
    blocks: List[Dict[str, str]] = []
    header: Dict[str, str] = {}
    cur: Dict[str, str] = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if cur:
                blocks.append(cur)
                cur = {}
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key in ("processor",) and cur.get("processor") is not None:
            blocks.append(cur)
            cur = {}
        cur[key] = value
    if cur:
        blocks.append(cur)
    cpus = [b for b in blocks if "processor" in b and b.get("processor", "").split()[0:1] != []
            and b["processor"].split()[0].isdigit()]
    others = [b for b in blocks if b not in cpus]
    for b in others:
        header.update(b)
    if not cpus and header:  # s390x/alpha/sparc: one machine-wide block
        cpus = [header]
    packages: Dict[str, CpuPackage] = {}
    for b in cpus:
        merged = dict(header)
        merged.update(b)
        pid = merged.get("physical id", "0")
        pkg = packages.get(pid)
        if pkg is None:
            pkg = packages[pid] = _package(pid, merged)
        pkg.threads += 1
        if "cpu cores" in merged and merged["cpu cores"].isdigit():
            pkg.cores = int(merged["cpu cores"])
    for pkg in packages.values():
        if not pkg.cores:
            pkg.cores = pkg.threads
        if len(cpus) == 1 and header is cpus[0]:
            # machine-wide block: the count is in the text (s390x "# processors", alpha "cpus detected")
            n = header.get("# processors") or header.get("cpus detected") or header.get("ncpus active") or ""
            if n.isdigit():
                pkg.threads = pkg.cores = int(n)
    return [packages[k] for k in sorted(packages, key=lambda s: (len(s), s))]


def _package(pid: str, b: Dict[str, str]) -> CpuPackage:
    flags = tuple((b.get("flags") or b.get("Features") or b.get("features") or "").split())
    vendor_raw = b.get("vendor_id") or b.get("vendor") or b.get("CPU implementer") or ""
    vendor = _X86_VENDORS.get(vendor_raw) or ARM_IMPLEMENTERS.get(vendor_raw.lower(), "") or vendor_raw
    if vendor_raw.startswith("IBM/S390"):
        vendor = "IBM"
    name = (b.get("model name") or b.get("cpu model") or b.get("Processor") or b.get("cpu") or b.get("uarch")
            or b.get("family") or "")
    if not name and "CPU part" in b:
        name = f"{vendor} CPU part {b['CPU part']}".strip()
    if not name and b.get("Hardware"):
        name = b["Hardware"]
    arch = ""
    if "CPU architecture" in b:
        arch = "arm64" if b["CPU architecture"] in ("8", "AArch64") else "arm"
    elif "vendor_id" in b and vendor in ("Intel", "AMD", "Hygon", "Centaur", "Zhaoxin"):
        arch = "x86"
    return CpuPackage(
        physical_id=pid,
        vendor=vendor,
        model_name=" ".join(name.split()),
        family=b.get("cpu family", b.get("CPU variant", "")),
        model=b.get("model", "") if b.get("model", "").isdigit() else b.get("CPU part", ""),
        stepping=b.get("stepping", b.get("CPU revision", "")),
        microcode=b.get("microcode", ""),
        flags=flags,
        architecture=arch,
        extra={k: b[k] for k in ("bugs", "Hardware", "Revision", "Serial", "machine", "cpu MHz") if k in b},
    )


def cpu_components(packages: List[CpuPackage], vulnerabilities: Dict[str, str],
                   dmi_cpus: Optional[List[DmiRecord]] = None) -> Iterator[Item]:
    """One component per processor package, and a finding per vulnerability the kernel reports."""
    dmi_cpus = dmi_cpus or []
    refs = []
    for i, pkg in enumerate(packages):
        ref = _refs.cpu_ref(pkg.physical_id)
        refs.append(ref)
        interesting = [f for f in CPU_FLAGS_OF_INTEREST if f in pkg.flags]
        socket = dmi_cpus[i] if i < len(dmi_cpus) else None
        pairs = [
            (V.DEVICE_TYPE, "cpu"),
            (V.CPU_VENDOR, pkg.vendor),
            (V.CPU_FAMILY, pkg.family),
            (V.CPU_MODEL, pkg.model),
            (V.CPU_STEPPING, pkg.stepping),
            (V.CPU_MICROCODE, pkg.microcode),
            (V.CPU_CORES, str(pkg.cores) if pkg.cores else ""),
            (V.CPU_THREADS, str(pkg.threads) if pkg.threads else ""),
            (V.CPU_ARCHITECTURE, pkg.architecture),
            (V.CPU_PHYSICAL_ID, pkg.physical_id),
        ]
        if socket is not None:
            pairs += [(V.CPU_SOCKET, socket.get("Socket Designation")),
                      (V.CPU_MAX_SPEED, socket.get("Max Speed"))]
        pairs += [(V.CPU_FLAG, f) for f in interesting]
        pairs += [(V.CPU_VULNERABILITY, f"{k}: {v}") for k, v in sorted(vulnerabilities.items())]
        yield device(ref, name=pkg.model_name or "Processor", manufacturer=pkg.vendor, properties=props(*pairs))
    for name, status in sorted(vulnerabilities.items()):
        if status.startswith("Vulnerable"):
            yield Finding(
                id="CBOM-CPU-VULNERABLE",
                title=f"CPU vulnerable to {name.replace('_', ' ')} (kernel reports no full mitigation)",
                severity=Severity.MEDIUM,
                detail="The running kernel reports this CPU as vulnerable in "
                       f"/sys/devices/system/cpu/vulnerabilities/{name}; a microcode or kernel update may mitigate it.",
                evidence=(f"{name}: {status}",),
                refs=tuple(refs),
            )


def read_vulnerabilities(ctx: ScanContext) -> Dict[str, str]:
    out: Dict[str, str] = {}
    try:
        names = ctx.listdir("/sys/devices/system/cpu/vulnerabilities")
    except OSError:
        return out
    for name in names:
        try:
            out[name] = ctx.read(f"/sys/devices/system/cpu/vulnerabilities/{name}").strip()
        except OSError:
            pass
    return out


def parse_meminfo_total(text: str) -> int:
    """MemTotal from /proc/meminfo in bytes (0 when absent)."""
    m = re.search(r"^MemTotal:\s+(\d+)\s*kB", text, re.MULTILINE)
    return int(m.group(1)) * 1024 if m else 0


# ---------------------------------------------------------------- PCI


@dataclass
class PciDevice:
    address: str
    vendor_id: str
    device_id: str
    class_id: str = ""  # 6 hex digits: class, subclass, prog-if
    revision: str = ""
    subsystem_vendor_id: str = ""
    subsystem_device_id: str = ""
    driver: str = ""
    vendor: str = ""  # names as printed by lspci, when parsed from it
    device: str = ""
    class_name: str = ""


_BRACKET_ID = re.compile(r"^(.*?)\s*\[([0-9a-fA-F]{4})\]\s*$")


def parse_lspci(text: str) -> List[PciDevice]:
    """`lspci -vmm[nn][k]` (machine-readable) or `lspci -v -nn` (human) output."""
    text = text.replace("\r\n", "\n")
    if re.search(r"^Slot:\s", text, re.MULTILINE):
        return _parse_lspci_vmm(text)
    return _parse_lspci_human(text)


def _split_id(value: str) -> Tuple[str, str]:
    m = _BRACKET_ID.match(value.strip())
    if m:
        return m.group(1).strip(), m.group(2).lower()
    v = value.strip()
    if re.fullmatch(r"[0-9a-fA-F]{4}", v):
        return "", v.lower()
    return v, ""


def _parse_lspci_vmm(text: str) -> List[PciDevice]:
    out = []
    for block in re.split(r"\n\s*\n", text):
        f: Dict[str, str] = {}
        for line in block.split("\n"):
            k, sep, v = line.partition(":")
            if sep and k and not k.startswith((" ", "\t")):
                f.setdefault(k.strip(), v.strip())
        if "Slot" not in f:
            continue
        cls_name, cls_id = _split_id(f.get("Class", ""))
        vname, vid = _split_id(f.get("Vendor", ""))
        dname, did = _split_id(f.get("Device", ""))
        _, svid = _split_id(f.get("SVendor", ""))
        _, sdid = _split_id(f.get("SDevice", ""))
        out.append(PciDevice(
            address=f["Slot"], vendor_id=vid, device_id=did,
            class_id=(cls_id + f.get("ProgIf", "00").lower()) if cls_id else "",
            revision=f.get("Rev", "").lower(), subsystem_vendor_id=svid, subsystem_device_id=sdid,
            driver=f.get("Driver", ""), vendor=vname, device=dname, class_name=cls_name,
        ))
    return out


_LSPCI_LINE = re.compile(
    r"^(?P<addr>[0-9a-fA-F:.]+)\s+(?P<cls>.+?)\s+\[(?P<clsid>[0-9a-fA-F]{4})\]:\s+(?P<rest>.*?)"
    r"\s+\[(?P<vid>[0-9a-fA-F]{4}):(?P<did>[0-9a-fA-F]{4})\]"
    r"(?:\s+\(rev (?P<rev>[0-9a-fA-F]+)\))?(?:\s+\(prog-if (?P<pi>[0-9a-fA-F]{2}).*)?\s*$"
)


def _parse_lspci_human(text: str) -> List[PciDevice]:
    out: List[PciDevice] = []
    for line in text.split("\n"):
        m = _LSPCI_LINE.match(line)
        if m:
            out.append(PciDevice(
                address=m["addr"], vendor_id=m["vid"].lower(), device_id=m["did"].lower(),
                class_id=m["clsid"].lower() + (m["pi"] or "00").lower(), revision=(m["rev"] or "").lower(),
                device=m["rest"], class_name=m["cls"],
            ))
            continue
        if out and line.startswith("\t"):
            k, _, v = line.strip().partition(":")
            if k == "Subsystem":
                sm = re.search(r"\[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\]", v)
                if sm:
                    out[-1].subsystem_vendor_id, out[-1].subsystem_device_id = sm.group(1).lower(), sm.group(2).lower()
            elif k == "Kernel driver in use":
                out[-1].driver = v.strip()
    return out


def read_sysfs_pci(ctx: ScanContext) -> List[PciDevice]:
    """Every PCI function under /sys/bus/pci/devices."""
    base = "/sys/bus/pci/devices"
    names = _sysfs_dir(ctx, base)
    if not names:
        return []
    out = []
    for addr in names:
        def attr(name: str, addr: str = addr) -> str:
            return _sysfs_attr(ctx, f"{base}/{addr}/{name}")
        vid, did = attr("vendor"), attr("device")
        if not vid or not did:
            continue
        out.append(PciDevice(
            address=addr, vendor_id=_hex4(vid), device_id=_hex4(did), class_id=_hexn(attr("class"), 6),
            revision=_hexn(attr("revision"), 2), subsystem_vendor_id=_hex4(attr("subsystem_vendor")),
            subsystem_device_id=_hex4(attr("subsystem_device")), driver=_link_name(ctx, f"{base}/{addr}/driver"),
        ))
    return out


def _hex4(v: str) -> str:
    return _hexn(v, 4)


def _hexn(v: str, n: int) -> str:
    v = v.strip().lower()
    if v.startswith("0x"):
        v = v[2:]
    return v.zfill(n)[-n:] if v else ""


def _sysfs_dir(ctx: ScanContext, path: str) -> List[str]:
    """Sorted entries of a sysfs folder, [] when it is absent (no such bus on this machine)."""
    try:
        return ctx.listdir(path)
    except OSError:
        return []


def _sysfs_attr(ctx: ScanContext, path: str) -> str:
    """A sysfs attribute's value, "" when absent or unreadable (attributes vary by device and kernel)."""
    try:
        return ctx.read(path).strip()
    except OSError:
        return ""


def _link_name(ctx: ScanContext, path: str) -> str:
    return os.path.basename(ctx.readlink(path))


def pci_names(dev: PciDevice) -> Tuple[str, str, str]:
    """(vendor, device, class) names from the shipped pci.ids, falling back to lspci's own."""
    db = _ids.load("pci")
    vendor = db.vendor(dev.vendor_id) or dev.vendor
    name = db.device(dev.vendor_id, dev.device_id) or dev.device or f"Device {dev.device_id}"
    cls = db.class_name(dev.class_id[:2], dev.class_id[2:4]) if dev.class_id else ""
    return vendor, name, cls or dev.class_name


_PCI_TYPES = {"02": "network", "03": "gpu", "01": "storage-controller", "0c": "serial-bus-controller",
              "04": "multimedia", "06": "bridge", "10": "crypto", "07": "communication", "0d": "wireless"}


def pci_components(devices: List[PciDevice]) -> Iterator[Component]:
    for dev in devices:
        vendor, name, cls = pci_names(dev)
        yield device(
            _refs.pci_ref(dev.address),
            name=name,
            manufacturer=vendor,
            description=cls,
            properties=props(
                (V.DEVICE_TYPE, _PCI_TYPES.get(dev.class_id[:2], "pci")),
                (V.BUS, "pci"),
                (V.PCI_ADDRESS, _full_addr(dev.address)),
                (V.PCI_ID, f"{dev.vendor_id}:{dev.device_id}"),
                (V.PCI_CLASS_ID, dev.class_id),
                (V.PCI_CLASS, cls),
                (V.PCI_REVISION, dev.revision),
                (V.PCI_SUBSYSTEM_ID, f"{dev.subsystem_vendor_id}:{dev.subsystem_device_id}"
                 if dev.subsystem_vendor_id.strip("0") else ""),
                (V.DRIVER, dev.driver),
            ),
        )


def _full_addr(addr: str) -> str:
    return addr.lower() if addr.count(":") == 2 else f"0000:{addr.lower()}"


# ---------------------------------------------------------------- USB


@dataclass
class UsbDevice:
    port: str  # sysfs name ('1-1.2') or 'bus-dev' from lsusb
    vendor_id: str
    product_id: str
    manufacturer: str = ""
    product: str = ""
    serial: str = ""
    bcd_device: str = ""
    usb_version: str = ""
    device_class: str = ""
    speed: str = ""
    driver: str = ""


def parse_lsusb_v(text: str) -> List[UsbDevice]:
    """`lsusb -v` output: one device per 'Bus NNN Device NNN: ID vvvv:pppp' header."""
    out: List[UsbDevice] = []
    head = re.compile(r"^Bus (\d+) Device (\d+): ID ([0-9a-fA-F]{4}):([0-9a-fA-F]{4})")
    for line in text.replace("\r\n", "\n").split("\n"):
        m = head.match(line)
        if m:
            out.append(UsbDevice(port=f"{int(m.group(1)):03d}:{int(m.group(2)):03d}", vendor_id=m.group(3).lower(),
                                 product_id=m.group(4).lower()))
            continue
        if not out or not line.startswith("  ") or line.startswith("    "):
            continue  # only the device descriptor's own fields (2-space indent)
        parts = line.split(None, 2)
        if len(parts) < 2:
            continue
        key, rest = parts[0], parts[1:]
        dev = out[-1]
        if key in ("iManufacturer", "iProduct", "iSerial") and len(rest) == 2:
            setattr(dev, {"iManufacturer": "manufacturer", "iProduct": "product", "iSerial": "serial"}[key],
                    rest[1].strip())
        elif key == "bcdDevice":
            dev.bcd_device = rest[0]
        elif key == "bcdUSB":
            dev.usb_version = rest[0]
        elif key == "bDeviceClass":
            dev.device_class = "%02x" % int(rest[0]) if rest[0].isdigit() else ""
    return out


def read_sysfs_usb(ctx: ScanContext) -> List[UsbDevice]:
    """USB devices under /sys/bus/usb/devices (interfaces and root hubs left out)."""
    base = "/sys/bus/usb/devices"
    names = _sysfs_dir(ctx, base)
    if not names:
        return []
    out = []
    for name in names:
        if ":" in name or name.startswith("usb"):
            continue  # 'usbN' is the root hub of a host controller (listed under PCI); 'x-y:1.0' an interface

        def attr(a: str, name: str = name) -> str:
            return _sysfs_attr(ctx, f"{base}/{name}/{a}")
        vid, pid = attr("idVendor"), attr("idProduct")
        if not vid:
            continue
        out.append(UsbDevice(
            port=name, vendor_id=vid.lower(), product_id=pid.lower(), manufacturer=attr("manufacturer"),
            product=attr("product"), serial=attr("serial"), bcd_device=attr("bcdDevice"),
            usb_version=attr("version"), device_class=attr("bDeviceClass").lower(), speed=attr("speed"),
        ))
    return out


def usb_components(devices: List[UsbDevice], redact: Redactor) -> Iterator[Component]:
    if not devices:
        return  # no usb.ids to load (~15 ms): most recordings hold no USB listing
    db = _ids.load("usb")
    for dev in devices:
        if dev.vendor_id == "1d6b":
            continue  # Linux Foundation root hubs: the host controller itself is a PCI device
        vendor = db.vendor(dev.vendor_id) or clean(dev.manufacturer)
        name = clean(dev.product) or db.device(dev.vendor_id, dev.product_id) or f"USB device {dev.vendor_id}:{dev.product_id}"
        yield device(
            _refs.usb_ref(dev.port, dev.vendor_id, dev.product_id),
            name=name,
            manufacturer=vendor,
            version=_bcd(dev.bcd_device),
            description=db.class_name(dev.device_class) if dev.device_class not in ("", "00", "ef", "ff") else "",
            properties=props(
                (V.DEVICE_TYPE, "usb"),
                (V.BUS, "usb"),
                (V.USB_PORT, dev.port),
                (V.USB_ID, f"{dev.vendor_id}:{dev.product_id}"),
                (V.USB_MANUFACTURER_STRING, dev.manufacturer),
                (V.USB_VERSION, dev.usb_version.strip()),
                (V.USB_SPEED_MBPS, dev.speed),
                (V.SERIAL_NUMBER, redact(dev.serial)),
            ),
        )


def _bcd(v: str) -> str:
    """bcdDevice '0310' (sysfs) or '3.10' (lsusb) → '3.10'."""
    v = v.strip()
    if re.fullmatch(r"[0-9a-fA-F]{4}", v):
        return f"{int(v[:2], 16)}.{v[2:]}"
    return v


# ---------------------------------------------------------------- block devices


@dataclass
class BlockDevice:
    name: str
    identity: str  # physical path under /sys/devices (stable across boots), or the name
    model: str = ""
    vendor: str = ""
    serial: str = ""
    firmware: str = ""
    size: int = 0
    rotational: Optional[bool] = None
    removable: Optional[bool] = None
    transport: str = ""
    wwn: str = ""


_VIRTUAL_BLOCK = ("loop", "ram", "zram", "dm-", "md", "nbd", "sr")  # sr: optical drives are kept, see below


def block_identity(ctx: ScanContext, name: str) -> str:
    """The physical path of /sys/block/NAME/device relative to /sys (e.g. 'devices/pci0000:00/…/0:0:0:0')."""
    return ctx.sys_link(f"/sys/block/{name}/device") or f"block/{name}"


def read_sysfs_block(ctx: ScanContext) -> List[BlockDevice]:
    """Whole disks under /sys/block that sit on a device (loop/zram/dm have no 'device' link)."""
    names = _sysfs_dir(ctx, "/sys/block")
    if not names:
        return []
    out = []
    for name in names:
        if name.startswith(("loop", "ram", "zram", "dm-", "md", "nbd")):
            continue
        if ctx.sys_link(f"/sys/block/{name}/device") is None:
            continue

        def attr(a: str, name: str = name) -> str:
            return _sysfs_attr(ctx, f"/sys/block/{name}/{a}")
        size = attr("size")
        rota, rm = attr("queue/rotational"), attr("removable")
        # NVMe: device/firmware_rev and device/serial; SCSI/SATA: device/rev (serial only via udev/lsblk)
        dev = BlockDevice(
            name=name, identity=block_identity(ctx, name), model=attr("device/model"), vendor=attr("device/vendor"),
            serial=attr("device/serial"), firmware=attr("device/firmware_rev") or attr("device/rev"),
            size=int(size) * 512 if size.isdigit() else 0,
            rotational=(rota == "1") if rota in ("0", "1") else None,
            removable=(rm == "1") if rm in ("0", "1") else None,
            transport=_transport(name, block_identity(ctx, name)),
            wwn=attr("device/wwid") or attr("wwid"),
        )
        out.append(dev)
    return out


def _transport(name: str, identity: str) -> str:
    if name.startswith("nvme"):
        return "nvme"
    if name.startswith("mmcblk"):
        return "mmc"
    if name.startswith("vd") or "/virtio" in identity:
        return "virtio"
    if "/usb" in identity:
        return "usb"
    if "/ata" in identity:
        return "sata"
    return ""


LSBLK_ARGV = ["lsblk", "-J", "-b", "-d", "-o", "NAME,MODEL,SERIAL,REV,SIZE,ROTA,RM,TRAN,VENDOR,TYPE,WWN"]


def parse_lsblk_json(text: str) -> Dict[str, Dict[str, object]]:
    """`lsblk -J [-b]` → {name: fields}; top-level devices only. Raises ValueError on garbled JSON."""
    data = json.loads(text)
    out: Dict[str, Dict[str, object]] = {}
    for dev in data.get("blockdevices", []) if isinstance(data, dict) else []:
        if isinstance(dev, dict) and dev.get("name"):
            out[str(dev["name"])] = dev
    return out


def merge_lsblk(devices: List[BlockDevice], lsblk: Dict[str, Dict[str, object]]) -> None:
    """Fill what sysfs lacks (SATA serial and transport come from udev, which lsblk reads)."""
    def s(v: object) -> str:
        return "" if v is None or isinstance(v, bool) else str(v).strip()
    for dev in devices:
        row = lsblk.get(dev.name)
        if not row:
            continue
        dev.serial = dev.serial or s(row.get("serial"))
        dev.model = dev.model or s(row.get("model"))
        dev.vendor = dev.vendor or s(row.get("vendor"))
        dev.firmware = dev.firmware or s(row.get("rev"))
        dev.transport = s(row.get("tran")) or dev.transport
        dev.wwn = dev.wwn or s(row.get("wwn"))
        if not dev.size and str(row.get("size", "")).isdigit():
            dev.size = int(str(row["size"]))


def block_components(devices: List[BlockDevice], redact: Redactor) -> Iterator[Component]:
    for dev in devices:
        kind = ""
        if dev.transport == "nvme":
            kind = "nvme"
        elif dev.transport in ("sata", "sas", "ata", "usb", "spi", "scsi") and dev.rotational is not None:
            kind = "hdd" if dev.rotational else "ssd"  # virtio/xen disks claim rotational=1: not trusted
        vendor = dev.vendor
        if re.fullmatch(r"0x[0-9a-fA-F]{4}", vendor):  # virtio exposes the PCI vendor id
            vendor = _ids.load("pci").vendor(vendor[2:])
        yield device(
            _refs.disk_ref(dev.identity),
            name=clean(dev.model) or dev.name,
            manufacturer=vendor,
            description=f"{human_bytes(dev.size)} {dev.transport} disk".replace("  ", " ") if dev.size else "",
            properties=props(
                (V.DEVICE_TYPE, "storage"),
                (V.STORAGE_KERNEL_NAME, dev.name),
                (V.STORAGE_SIZE_BYTES, str(dev.size) if dev.size else ""),
                (V.STORAGE_TRANSPORT, dev.transport),
                (V.STORAGE_MEDIA, kind),
                (V.STORAGE_ROTATIONAL, dev.rotational if dev.rotational is not None else ""),
                (V.STORAGE_REMOVABLE, dev.removable if dev.removable is not None else ""),
                (V.STORAGE_FIRMWARE_REVISION, dev.firmware),
                (V.STORAGE_PATH, dev.identity),
                (V.SERIAL_NUMBER, redact(dev.serial)),
                (V.STORAGE_WWN, redact(dev.wwn) if dev.wwn else ""),
            ),
        )


# ---------------------------------------------------------------- network adapters


def parse_ethtool_i(text: str) -> Dict[str, str]:
    """`ethtool -i IFACE` key: value lines (driver, version, firmware-version, bus-info…)."""
    out: Dict[str, str] = {}
    for line in text.splitlines():
        k, sep, v = line.partition(":")
        if sep:
            out[k.strip()] = v.strip()
    return out


@dataclass
class NetAdapter:
    name: str
    identity: str  # bus path: the PCI address / sysfs device path
    driver: str = ""
    bus_address: str = ""
    mac: str = ""
    vendor_id: str = ""
    device_id: str = ""
    bus: str = ""
    ethtool: Dict[str, str] = field(default_factory=dict)


def read_net_adapters(ctx: ScanContext) -> List[NetAdapter]:
    """Interfaces backed by a device (/sys/class/net/X/device): physical NICs, not lo/bridges/tunnels."""
    names = _sysfs_dir(ctx, "/sys/class/net")
    out = []
    for name in names:
        real = ctx.sys_link(f"/sys/class/net/{name}/device")
        if real is None:
            continue
        identity = real
        bus_addr = real.rstrip("/").rsplit("/", 1)[-1]

        def attr(a: str, name: str = name) -> str:
            return _sysfs_attr(ctx, f"/sys/class/net/{name}/{a}")
        subsys = os.path.basename(ctx.sys_link(f"/sys/class/net/{name}/device/subsystem") or "")
        vid, did = _hex4(attr("device/vendor")), _hex4(attr("device/device"))
        # virtio NICs: the net device hangs off virtioN, whose parent is the PCI function
        if subsys == "virtio":
            parent = os.path.basename(os.path.dirname(real))
            if re.fullmatch(r"[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]", parent):
                bus_addr = parent
                vid, did = _hex4(attr("device/../vendor")), _hex4(attr("device/../device"))
        out.append(NetAdapter(
            name=name, identity=identity,
            driver=os.path.basename(ctx.sys_link(f"/sys/class/net/{name}/device/driver") or ""),
            bus_address=bus_addr, mac=attr("address"), vendor_id=vid, device_id=did, bus=subsys,
        ))
    return out


def nic_components(adapters: List[NetAdapter]) -> Iterator[Component]:
    if not adapters:
        return  # no pci.ids to load (~15 ms)
    db = _ids.load("pci")
    for nic in adapters:
        vendor = db.vendor(nic.vendor_id) if nic.vendor_id else ""
        model = db.device(nic.vendor_id, nic.device_id) if nic.vendor_id else ""
        et = nic.ethtool
        yield device(
            _refs.nic_ref(nic.identity),
            name=model or f"Network adapter {nic.name}",
            manufacturer=vendor,
            description=f"network interface {nic.name}",
            properties=props(
                (V.DEVICE_TYPE, "network-adapter"),
                (V.INTERFACE, nic.name),
                (V.DRIVER, et.get("driver") or nic.driver),
                (V.DRIVER_VERSION, et.get("version", "")),
                (V.BUS, nic.bus),
                (V.BUS_ADDRESS, et.get("bus-info") or nic.bus_address),
                (V.MAC_ADDRESS, nic.mac if nic.mac and nic.mac != "00:00:00:00:00:00" else ""),
                (V.FIRMWARE_VERSION, et.get("firmware-version", "")),
            ),
        )


# ---------------------------------------------------------------- TPM

# TCG vendor ids (TCG Vendor ID Registry), as 4 ASCII bytes in TPM 1.2 caps / TPM2 properties.
TPM_VENDORS = {
    "IFX": "Infineon", "STM": "STMicroelectronics", "NTC": "Nuvoton", "NTZ": "Nationz", "INTC": "Intel",
    "AMD": "AMD", "ATML": "Atmel", "BRCM": "Broadcom", "MSFT": "Microsoft", "IBM": "IBM", "HPE": "HPE",
    "LEN": "Lenovo", "QCOM": "Qualcomm", "ROCC": "Fuzhou Rockchip", "SMSC": "SMSC", "TXN": "Texas Instruments",
    "WEC": "Winbond", "GOOG": "Google", "CSCO": "Cisco", "SNS": "Sinosun", "FLYS": "Flyslice",
}


@dataclass
class Tpm:
    name: str
    version: str = ""  # "1.2" / "2.0"
    vendor: str = ""
    firmware: str = ""
    description: str = ""
    hid: str = ""


def parse_tpm_caps(text: str) -> Dict[str, str]:
    """TPM 1.2 /sys/class/tpm/tpmN/device/caps: 'Manufacturer: 0x49465800', 'Firmware version: 3.17'."""
    out: Dict[str, str] = {}
    for line in text.splitlines():
        k, sep, v = line.partition(":")
        if sep:
            out[k.strip()] = v.strip()
    return out


def tpm_vendor_name(value: str) -> str:
    """'0x49465800' (4 ASCII bytes) or 'IFX' → 'Infineon'."""
    v = value.strip()
    if v.lower().startswith("0x"):
        try:
            v = bytes.fromhex(v[2:].zfill(8)).decode("ascii", "replace").strip("\x00 ")
        except ValueError:
            return ""
    return TPM_VENDORS.get(v, v)


def read_tpms(ctx: ScanContext) -> List[Tpm]:
    try:
        names = [n for n in ctx.listdir("/sys/class/tpm") if n.startswith("tpm")]
    except OSError:
        return []
    out = []
    for name in names:
        def attr(a: str, name: str = name) -> str:
            return _sysfs_attr(ctx, f"/sys/class/tpm/{name}/{a}")
        caps = parse_tpm_caps(attr("device/caps") or attr("caps"))
        major = attr("tpm_version_major")  # Linux 5.6+
        version = {"1": "1.2", "2": "2.0"}.get(major, "")
        if not version and caps.get("TCG version"):
            version = caps["TCG version"]
        out.append(Tpm(
            name=name, version=version, vendor=tpm_vendor_name(caps.get("Manufacturer", "")),
            firmware=caps.get("Firmware version", ""), description=attr("device/description"),
            hid=attr("device/firmware_node/hid") or attr("device/hid"),
        ))
    return out


def tpm_components(tpms: List[Tpm]) -> Iterator[Component]:
    for t in tpms:
        yield device(
            _refs.tpm_ref(t.name),
            name=f"TPM {t.version}" if t.version else "TPM",
            manufacturer=t.vendor,
            version=t.version,
            description=t.description,
            properties=props((V.DEVICE_TYPE, "tpm"), (V.TPM_SPEC_VERSION, t.version),
                             (V.TPM_ACPI_HID, t.hid), (V.FIRMWARE_VERSION, t.firmware)),
        )


# ---------------------------------------------------------------- the collector


def run_dmidecode(ctx: ScanContext) -> Tuple[List[DmiRecord], List[Gap]]:
    """dmidecode records when root and the tool is present (live scans only), and the gaps.

    Parsed once per scan: the DMI and the CPU sources both read the table.
    """
    return ctx.memo(("dmidecode",), lambda: _run_dmidecode(ctx))


def _run_dmidecode(ctx: ScanContext) -> Tuple[List[DmiRecord], List[Gap]]:
    if not ctx.live:
        return [], []  # dmidecode reads the running machine's firmware, not the image under --root
    if ctx.which("dmidecode") is None:
        return [], [Gap("dmidecode not installed: memory modules, processor sockets and slots not collected")]
    if not ctx.admin:
        return [], [Gap("dmidecode needs root: memory modules, processor sockets and slots not collected")]
    res = ctx.run(["dmidecode"])
    if not res.ok or res.empty:  # exit 0 with nothing printed says as little as a failure
        return [], [Gap(f"dmidecode gave no SMBIOS table ({res.why()}): memory modules and slots not collected")]
    records = parse_dmidecode(res.stdout)
    if not records:
        return [], [Gap("dmidecode output held no SMBIOS structure: memory modules and slots not collected")]
    return records, []


# ---------------------------------------------------------------- recorded outputs (collect.sh, other recorders)


def parse_lsblk_text(text: str) -> List[Dict[str, str]]:
    """Top-level devices of `lsblk` text output: [{'name', 'size', 'rm', 'type', and MODEL/SERIAL/… when shown}].

    The leading columns (NAME MAJ:MIN RM SIZE RO TYPE) never hold spaces; the
    free-text ones (MODEL "VMware Virtual S", VENDOR) are cut at the header's
    column starts.
    """
    lines = [ln for ln in text.replace("\r", "").split("\n") if ln.strip()]
    if not lines or not lines[0].startswith("NAME"):
        return []
    header = lines[0]
    names = header.split()
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    out = []
    for ln in lines[1:]:
        if not ln[:1].isalnum():
            continue  # tree-drawn children (partitions, LVM volumes)
        row = {k.lower(): v for k, v in zip(names[:6], ln.split()[:6])}
        for i, col in enumerate(names):
            if col in ("MODEL", "SERIAL", "VENDOR", "TRAN", "REV", "WWN"):
                hi = starts[i + 1] if i + 1 < len(starts) else len(ln)
                row[col.lower()] = ln[starts[i]:hi].strip()
        out.append(row)
    return out


def block_devices_from_lsblk(rows: Dict[str, Dict[str, object]]) -> List[BlockDevice]:
    """Whole disks of lsblk rows alone (a recording without collect.sh's sysfs copy): the identity is
    the kernel name, as nothing better is known."""
    disks: List[BlockDevice] = []
    for dname, row in sorted(rows.items()):
        if str(row.get("type", "disk")) not in ("disk", ""):
            continue
        if dname.startswith(("loop", "ram", "zram", "dm-", "md", "nbd")):
            continue
        dev = BlockDevice(name=dname, identity=f"block/{dname}")
        rota = row.get("rota")
        dev.rotational = rota if isinstance(rota, bool) else ({"1": True, "0": False}.get(str(rota)))
        rm = row.get("rm")
        dev.removable = rm if isinstance(rm, bool) else ({"1": True, "0": False}.get(str(rm)))
        merge_lsblk([dev], {dname: {k: v for k, v in row.items() if k != "size" or str(v).isdigit()}})
        dev.transport = dev.transport or _transport(dname, dev.identity)
        disks.append(dev)
    return disks


def dmi_cpu_components(records: List[DmiRecord]) -> Iterator[Component]:
    """Processors of dmidecode type 4 records, for recordings without /proc/cpuinfo or WMI."""
    # VMware lists every possible socket as "Populated, Disabled": only enabled ones are processors.
    cpus = [r for r in dmi_processors(records) if "Disabled" not in r.fields.get("Status", "")]
    for i, rec in enumerate(cpus):
        name = rec.get("Version") or rec.get("Family") or "Processor"
        speed = rec.get("Max Speed")
        yield device(
            _refs.cpu_ref(str(i)), name=" ".join(name.split()), manufacturer=_cpu_vendor(rec.get("Manufacturer")),
            properties=props((V.DEVICE_TYPE, "cpu"), (V.CPU_VENDOR, _cpu_vendor(rec.get("Manufacturer"))),
                             (V.CPU_SIGNATURE, rec.get("Signature")), (V.CPU_ID, rec.get("ID")),
                             (V.CPU_CORES, rec.get("Core Count")), (V.CPU_THREADS, rec.get("Thread Count")),
                             (V.CPU_SOCKET, rec.get("Socket Designation")), (V.CPU_MAX_SPEED, speed)),
        )


def _cpu_vendor(value: str) -> str:
    v = value or ""
    if re.search(r"intel", v, re.IGNORECASE):
        return "Intel"
    if re.search(r"\bamd\b|advanced micro", v, re.IGNORECASE) or v == "AuthenticAMD":
        return "AMD"
    return v


def parse_boot_mode(text: str) -> Optional[bool]:
    """collect.sh's boot-mode.txt: 'uefi' → True, 'legacy' → False."""
    v = text.strip().lower()
    return True if v == "uefi" else (False if v == "legacy" else None)
