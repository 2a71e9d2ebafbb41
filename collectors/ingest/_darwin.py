"""A macOS recording (collect.sh on a Mac, or the fixture folders) → model items.

`sw_vers*.txt` → OS; `system_profiler*.txt` (text, as printed) or `-xml`/`-json`
output → hardware, firmware and (SPSoftwareDataType) OS; `SP<Type>.xml` →
one data type each (applications, USB, SATA…); `sysctl*.txt` and
`ioreg-IOPlatformExpertDevice.txt` → model, CPU, memory and serial when no
system_profiler overview says them; `ifconfig*.txt` → interfaces.
"""
from __future__ import annotations

import re
from typing import Dict, Iterator, List, Tuple

from cbom.model import Gap, HostFact, Item

from ..firmware import _darwin as fw
from ..hardware import _darwin as hw
from ..hardware._common import Redactor, human_bytes
from ..osinfo import _darwin as osd
from ..software import _darwin as swd
from . import _parsers
from ._common import first_source_wins
from ._recording import Recording

EXPECTED: Tuple[Tuple[str, ...], ...] = (
    ("sw_vers.txt",),
    ("system_profiler.txt", "system_profiler.xml", "SPHardwareDataType.xml"),
    ("SPApplicationsDataType.xml",),
    ("ifconfig.txt", "ifconfig-a.txt"),
)


def _structured(text: str) -> bool:
    s = text.lstrip()
    return s.startswith(("<?xml", "<plist", "{", "<!DOCTYPE"))


def items(rec: Recording, redact: Redactor) -> Iterator[Item]:
    sources: List[List[Item]] = []
    sw: Dict[str, str] = {}
    for name in rec.find("sw_vers*"):
        sw = osd.parse_sw_vers(rec.text(name))
        if not sw:
            yield Gap(f"{name}: no ProductVersion line (not sw_vers output?)")
        else:
            break
    sp_soft: Dict[str, str] = {}
    # Newest recording of the machine first (system_profiler-10.5 before -10.4): it wins.
    for name in sorted(rec.find("system_profiler*"), reverse=True):
        text = rec.text(name)
        src: List[Item] = []
        if _structured(text):
            try:
                data = hw.parse_sp_structured(text)
            except ValueError as exc:
                yield Gap(f"{name}: {exc}")
                continue
            src += list(hw.structured_components(data, redact)) + list(fw.structured_components(data))
            for soft in data.get("SPSoftwareDataType", [])[:1]:
                sp_soft = sp_soft or {k: str(v) for k, v in soft.items()}
        else:
            tree = hw.parse_sp_text(text)
            src += list(hw.text_components(tree, redact)) + list(fw.text_components(tree))
            sp_soft = sp_soft or osd.parse_sp_software(text)
            if not src and not sp_soft:
                yield Gap(f"{name}: no Hardware or Software overview found (not system_profiler output?)")
                continue
        sources.append(src)
    for name in rec.find("sp*datatype*.xml", "sp*datatype*.json"):
        if name.lower().startswith("spapplicationsdatatype"):
            continue
        try:
            data = hw.parse_sp_structured(rec.text(name))
        except ValueError as exc:
            yield Gap(f"{name}: {exc}")
            continue
        sources.append(list(hw.structured_components(data, redact)) + list(fw.structured_components(data)))
    overview = _overview_from_sysctl_ioreg(rec)
    if overview:
        sources.append(list(hw.hardware_overview(overview, redact)))
    yield from first_source_wins(sources)
    comp = osd.component(sw, _sp_software_keys(sp_soft), {})
    if comp is not None:
        yield comp
        yield HostFact("cbom:os", comp.description)
    for name in rec.find("spapplicationsdatatype*"):
        if name.lower().endswith(".xml"):
            apps, problems = swd.parse_sp_applications(rec.data(name))
            if problems:
                yield Gap(f"{name}: {problems[0]}" if not apps else f"{name}: {len(problems)} items skipped: {problems[0]}")
            yield from apps
        else:
            apps = text_applications(rec.text(name))
            if not apps:
                yield Gap(f"{name}: no application with a Location found (not system_profiler output?)")
            yield from apps
    for name in rec.find("ifconfig.txt", "ifconfig*.txt"):
        infos = _parsers.parse_ifconfig(rec.text(name))
        if not infos:
            yield Gap(f"{name}: no interface found (not ifconfig output?)")
        for info in infos:
            yield info.component()
        break


def text_applications(text: str) -> List[Item]:
    """Applications of the text form of `system_profiler SPApplicationsDataType` (labels stay English)."""
    tree = hw.parse_sp_text(text)
    out: List[Item] = []
    for name, fields in (tree.get("Applications") or {}).items():
        if not isinstance(fields, dict):
            continue
        path = str(fields.get("Location", ""))
        if not path.startswith("/"):
            continue
        out.append(swd.app_component(name, str(fields.get("Version", "")), path))
    return out


def _sp_software_keys(sp: Dict[str, str]) -> Dict[str, str]:
    """JSON/XML SPSoftwareDataType keys → the text labels osinfo._darwin reads."""
    if "os_version" not in sp:
        return sp
    return {"System Version": sp.get("os_version", ""), "Kernel Version": sp.get("kernel_version", ""),
            "System Integrity Protection": sp.get("system_integrity", ""), "Boot Mode": sp.get("boot_mode", "")}


def _overview_from_sysctl_ioreg(rec: Recording) -> Dict[str, str]:
    """A Hardware Overview look-alike from `sysctl -a` and `ioreg -l -p IODeviceTree -c IOPlatformExpertDevice`."""
    out: Dict[str, str] = {}
    for name in rec.find("sysctl*"):
        s = _parsers.parse_sysctl(rec.text(name))
        if s.get("hw.model"):
            out["Model Identifier"] = s["hw.model"]
        if s.get("machdep.cpu.brand_string"):
            out["Processor Name"] = s["machdep.cpu.brand_string"]
        if s.get("hw.physicalcpu"):
            out["Total Number of Cores"] = s["hw.physicalcpu"]
        if s.get("hw.memsize", "").isdigit():
            out["Memory"] = human_bytes(int(s["hw.memsize"]))
        break
    for name in rec.find("ioreg*"):
        text = rec.text(name)
        for key, label in (("IOPlatformSerialNumber", "Serial Number (system)"), ("model", "Model Identifier"),
                           ("IOPlatformUUID", "Hardware UUID")):
            m = re.search(r'"%s"\s*=\s*(?:<")?"?([^">]+)' % key, text)
            if m and label not in out:
                out[label] = m.group(1).strip()
    return out


def host_name(rec: Recording) -> str:
    for name in rec.find("sysctl*"):
        return _parsers.parse_sysctl(rec.text(name)).get("kern.hostname", "")
    for name in rec.find("system_profiler*"):
        m = re.search(r"^\s*Computer Name:\s*(.+)$", rec.text(name), re.MULTILINE)
        if m:
            return m.group(1).strip()
    return ""
