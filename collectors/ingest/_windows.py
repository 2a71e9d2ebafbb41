"""A Windows recording (collect.bat / collect.ps1, or the fixture folders) → model items.

Sources, each parsed by the live collectors' own functions:
`<Class>.wmi` (`wmic path <Class> get /format:list`) → hardware, firmware, OS,
hotfixes; `systeminfo*.txt` → OS and, where no WMI dump says it, system
model, BIOS, processors and memory; `wmic-qfe*.txt` → hotfixes;
`Uninstall*.reg` → installed programs; `CentralProcessor.reg` → real CPU
names (XP's WMI calls a Core 2 a "Pentium III Xeon"); `dmidecode*.txt` (the
Windows port) → SMBIOS identity; `ipconfig*.txt` → interfaces;
`netstat-ano.txt` (+ `tasklist.csv`) → listening services.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Dict, Iterator, List, Optional, Tuple

from cbom.model import Gap, HostFact, Item

from ..firmware import _linux as fw_linux
from ..firmware import _windows as fw
from ..hardware import _linux as hw_linux
from ..hardware import _windows as hw
from ..hardware._common import Redactor, clean
from ..network._common import Socket, services_from_sockets
from ..network._windows import (
    components_from_ipconfig,
    facts_from_ipconfig,
    parse_ipconfig,
)
from ..osinfo import _windows as osw
from ..software import _windows as sww
from ..software._common import summarise
from ._common import dmi_cpu_components, first_source_wins
from ._recording import Recording

# What collect.bat writes (alternatives in a tuple).
EXPECTED: Tuple[Tuple[str, ...], ...] = (
    ("systeminfo.txt",),
    ("Win32_ComputerSystem.wmi",),
    ("Win32_BIOS.wmi",),
    ("Win32_BaseBoard.wmi",),
    ("Win32_Processor.wmi",),
    ("Win32_PhysicalMemory.wmi",),
    ("Win32_DiskDrive.wmi",),
    ("Win32_NetworkAdapter.wmi",),
    ("Win32_NetworkAdapterConfiguration.wmi",),
    ("Win32_OperatingSystem.wmi",),
    ("Win32_QuickFixEngineering.wmi", "wmic-qfe.txt"),
    ("Uninstall.reg",),
    ("ipconfig-all.txt",),
    ("netstat-ano.txt",),
    ("driverquery-v.txt",),
)

# Canonical spelling of the WMI classes the collectors use ("Win32_Bios.wmi" → Win32_BIOS).
_CLASSES = {c.lower(): c for c in list(hw.CLASSES) + ["Win32_OperatingSystem", "Win32_QuickFixEngineering",
                                                      "Win32_NetworkAdapterConfiguration"]}


def read_wmi(rec: Recording) -> Tuple[hw.Classes, List[Gap]]:
    """{class: instances} of every `<Class>.wmi` file whose class a collector uses, and parse gaps."""
    classes: hw.Classes = {}
    gaps: List[Gap] = []
    for name in rec.find("*.wmi"):
        cls = _CLASSES.get(name[:-4].lower())
        if cls is None:
            continue  # recorded but not used (CIM_LogicalDevice, MSFT_*…)
        text = rec.text(name)
        records = hw.parse_wmic_list(text)
        if not records:
            gaps.append(Gap(f"{name}: no 'Property=value' instance (empty, garbled or truncated)"))
            continue
        classes.setdefault(cls, []).extend(records)
    return classes, gaps


def processor_names(text: str) -> Dict[str, str]:
    """{'0': 'Intel(R) Core(TM)2 Duo CPU T9400 @ 2.53GHz'} from a CentralProcessor .reg export."""
    keys, _ = sww.parse_reg_export(text)
    out: Dict[str, str] = {}
    for key, values in keys:
        m = re.search(r"\\CentralProcessor\\(\d+)$", key, re.IGNORECASE)
        name = values.get("ProcessorNameString")
        if m and isinstance(name, str) and name.strip():
            out[m.group(1)] = " ".join(name.split())
    return out


# ---------------------------------------------------------------- systeminfo hardware

# Positions of systeminfo's top-level lines (see collectors.osinfo._windows._SI_FIELDS).
_SI_HW = {11: "manufacturer", 12: "model", 14: "processors", 15: "bios", 22: "memory"}


def systeminfo_classes(text: str) -> hw.Classes:
    """Win32_ComputerSystem / Win32_BIOS / Win32_Processor look-alikes from systeminfo's hardware lines."""
    entries = osw._systeminfo_lines(text)
    if len(entries) < 23:
        return {}
    got = {name: entries[pos] for pos, name in _SI_HW.items()}
    out: hw.Classes = {}
    cs: Dict[str, str] = {"Manufacturer": osw._clean(got["manufacturer"][1]), "Model": osw._clean(got["model"][1])}
    digits = re.sub(r"\D", "", got["memory"][1])
    if digits:
        cs["TotalPhysicalMemory"] = str(int(digits) << 20)  # "32 503 MB", "2 047 Mo", "16,240 MB"
    out["Win32_ComputerSystem"] = [cs]
    bios = parse_bios_line(osw._clean(got["bios"][1]))
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


def parse_bios_line(value: str) -> Dict[str, str]:
    """systeminfo "BIOS Version": "Dell Inc. 1.7.0, 12/27/2018" → Win32_BIOS-like fields."""
    if not value:
        return {}
    head, sep, date = value.rpartition(",")
    if not sep:
        head, date = value, ""
    words = head.split()
    version = words[-1] if words else ""
    vendor = " ".join(words[:-1])
    return {"Manufacturer": vendor, "SMBIOSBIOSVersion": version, "Version": head.strip(),
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


# ---------------------------------------------------------------- listening sockets


def parse_netstat_ano(text: str, images: Dict[str, str]) -> List[Socket]:
    """Listening TCP and bound UDP sockets of `netstat -ano`; process names from tasklist when known."""
    out: List[Socket] = []
    for line in text.replace("\r", "").split("\n"):
        w = line.split()
        if len(w) < 4 or w[0] not in ("TCP", "UDP"):
            continue
        if w[0] == "TCP" and (len(w) < 5 or w[3] not in ("LISTENING", "ABH\u00d6REN", "ECOUTE", "\u00c9COUTE")):
            continue
        local = w[1]
        host, _, port = local.rpartition(":")
        if not port.isdigit():
            continue
        pid = w[-1]
        out.append(Socket(w[0].lower(), host.strip("[]").split("%", 1)[0], int(port), images.get(pid, "unknown")))
    return out


def parse_tasklist_csv(text: str) -> Dict[str, str]:
    """{pid: image name} of `tasklist /fo csv /nh`."""
    out: Dict[str, str] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) >= 2 and row[1].strip().isdigit():
            out[row[1].strip()] = row[0].strip()
    return out


# ---------------------------------------------------------------- the whole folder


def items(rec: Recording, redact: Redactor) -> Iterator[Item]:
    classes, gaps = read_wmi(rec)
    yield from gaps
    for name in rec.find("centralprocessor*.reg"):
        names = processor_names(rec.text(name))
        for cpu in classes.get("Win32_Processor", []):
            real = names.get(cpu.get("DeviceID", "").replace("CPU", ""))
            if real:
                cpu["Name"] = real
    # OS: WMI first (what the live collector prefers), systeminfo fills the rest.
    info: Optional[osw.WindowsInfo] = None
    for record in classes.get("Win32_OperatingSystem", [])[:1]:
        info = osw.info_from_wmi(record)
        if info is None:
            yield Gap("Win32_OperatingSystem.wmi: no Version property (truncated dump?)")
    si_classes: hw.Classes = {}
    for name in rec.find("systeminfo.txt", "systeminfo*.txt"):
        text = rec.text(name)
        parsed = osw.parse_systeminfo(text)
        if parsed is None:
            yield Gap(f"{name}: not systeminfo output (garbled or truncated?)")
            continue
        info = osw.merge(info, parsed)
        for cls, rows in systeminfo_classes(text).items():
            si_classes.setdefault(cls, rows)
    hotfix_rows = yield from _hotfix_rows(rec, classes)
    if hotfix_rows is not None:
        fixes = osw.hotfixes_from_records(hotfix_rows)
        if info is not None:
            info = osw.merge(info, osw.WindowsInfo(hotfixes=tuple(fixes), hotfixes_known=True)) \
                if not info.hotfixes_known else info
    if info is not None and info.version:
        comp = osw.component(info)
        yield comp
        yield HostFact("cbom:os", comp.description)
    # Hardware and firmware: WMI dumps, then dmidecode (Windows port), then systeminfo's lines.
    sources = [list(hw.components(classes, redact)) + list(fw.components(classes))]
    for name in rec.find("dmidecode.txt", "dmidecode*"):
        records = hw_linux.parse_dmidecode(rec.text(name))
        if not records:
            yield Gap(f"{name}: no SMBIOS structure found (garbled or truncated?)")
            continue
        src: List[Item] = list(hw_linux.dmi_components(records, redact))
        src += list(dmi_cpu_components(records))
        bios = fw_linux.bios_component(fw_linux.dmi_from_dmidecode(records), None)
        if bios:
            src.append(bios)
        sources.append(src)
    if si_classes:
        sources.append(list(hw.components(si_classes, redact)) + list(fw.components(si_classes)))
    yield from first_source_wins(sources)
    # Software: Uninstall exports and hotfixes, as the live software collector lists them.
    for name in rec.find("uninstall*.reg"):
        keys, problems = sww.parse_reg_export(rec.text(name))
        if problems:
            yield Gap(summarise(name, problems))
        if not keys:
            yield Gap(f"{name}: no registry key (not a regedit export?)")
        yield from sww.uninstall_components(keys)
    if hotfix_rows:
        yield from sww.hotfix_components([r for r in hotfix_rows if r.get("HotFixID")])
    # Network.
    for name in rec.find("ipconfig-all.txt", "ipconfig*.txt"):
        text = rec.text(name)
        parsed = parse_ipconfig(text)
        if not parsed.adapters:
            yield Gap(f"{name}: no adapter block (not `ipconfig /all` output?)")
            continue
        yield from components_from_ipconfig(text)
        yield from facts_from_ipconfig(parsed)
    name = rec.first("netstat-ano.txt", "netstat*.txt")
    if name:
        images = parse_tasklist_csv(rec.text("tasklist.csv")) if rec.has("tasklist.csv") else {}
        yield from services_from_sockets(parse_netstat_ano(rec.text(name), images))


def _hotfix_rows(rec: Recording, classes: hw.Classes):
    """Win32_QuickFixEngineering rows from the .wmi dump or `wmic qfe` (table or list), or None."""
    rows: Optional[List[Dict[str, str]]] = None
    if classes.get("Win32_QuickFixEngineering"):
        rows = list(classes["Win32_QuickFixEngineering"])
    for name in rec.find("wmic-qfe*.txt", "qfe*.txt"):
        text = rec.text(name)
        if "HotFixID=" in text:
            found = hw.parse_wmic_list(text)
        else:
            found, problems = sww.parse_wmic_qfe(text)
            if problems and not found:
                yield Gap(f"{name}: {problems[0]}")
                continue
        rows = (rows or []) + found
    return rows


def host_name(rec: Recording) -> str:
    """The machine's name as the recording states it ('' when none does)."""
    for name in rec.find("systeminfo.txt", "systeminfo*.txt"):
        info = osw.parse_systeminfo(rec.text(name))
        if info is not None and info.hostname:
            return info.hostname
    for cls, prop in (("win32_computersystem.wmi", "Name"), ("win32_operatingsystem.wmi", "CSName"),
                      ("win32_processor.wmi", "SystemName"), ("win32_networkadapter.wmi", "SystemName"),
                      ("win32_quickfixengineering.wmi", "CSName")):
        for name in rec.find(cls):
            for r in hw.parse_wmic_list(rec.text(name)):
                if clean(r.get(prop)):
                    return r[prop].strip()
    for name in rec.find("ipconfig-all.txt"):
        parsed = parse_ipconfig(rec.text(name))
        for label, values in parsed.globals:
            if label.lower() == "host name" and values:
                return values[0]
    return ""
