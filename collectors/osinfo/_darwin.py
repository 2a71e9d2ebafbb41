"""macOS: parse `sw_vers`, `system_profiler SPSoftwareDataType`, `sysctl kern.boottime`.

Pure functions of text. `sw_vers` reads /System/Library/CoreServices/SystemVersion.plist,
which `parse_system_version_plist` reads directly for a mounted volume (--root).
"""
from __future__ import annotations

import json
import plistlib
import re
from datetime import datetime, timezone
from typing import Dict, List, Optional, Tuple

from cbom import vocabulary as V
from cbom.model import Category, Component, Kind, make_ref

from ._cpe import make_cpe

__all__ = [
    "component",
    "macos_cpe",
    "parse_kern_boottime",
    "parse_sp_software",
    "parse_sw_vers",
    "parse_system_version_plist",
]


def parse_sw_vers(text: str) -> Dict[str, str]:
    """{"ProductName": "macOS", "ProductVersion": "11.6.2", "BuildVersion": "20G314", …}.

    Tab-separated "Key:<tab>value" lines; macOS 13+ adds ProductVersionExtra
    for Rapid Security Responses ("(a)").
    """
    out: Dict[str, str] = {}
    for line in text.replace("\r", "").split("\n"):
        m = re.match(r"^\s*([A-Za-z]+):\s*(.*?)\s*$", line)
        if m and m.group(2):
            out[m.group(1)] = m.group(2)
    return out if out.get("ProductVersion") else {}


def parse_system_version_plist(data: bytes) -> Dict[str, str]:
    """The sw_vers keys of SystemVersion.plist (XML or binary plist); {} when unreadable."""
    try:
        plist = plistlib.loads(data)
    except Exception:  # noqa: BLE001 - plistlib raises many types on garbage (InvalidFileException, ExpatError…)
        return {}
    if not isinstance(plist, dict):
        return {}
    keys = {"ProductName": "ProductName", "ProductVersion": "ProductVersion",
            "ProductBuildVersion": "BuildVersion", "ProductVersionExtra": "ProductVersionExtra"}
    out = {ours: str(plist[theirs]) for theirs, ours in keys.items() if plist.get(theirs)}
    return out if out.get("ProductVersion") else {}


def parse_sp_software(text: str) -> Dict[str, str]:
    """"Label: value" pairs of the "System Software Overview" section of system_profiler.

    Works on a whole `system_profiler` listing or `system_profiler SPSoftwareDataType`.
    """
    out: Dict[str, str] = {}
    inside = False
    for line in text.replace("\r", "").split("\n"):
        if re.match(r"^\s*System Software Overview:\s*$", line):
            inside = True
            continue
        if not inside:
            continue
        if line and not line[:1].isspace():  # next top-level data type ("ATA:")
            break
        m = re.match(r"^\s+([^:]+):\s+(.+?)\s*$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def sp_software_structured(text: str) -> Dict[str, str]:
    """SPSoftwareDataType of `system_profiler -xml`/`-json` output, in the text report's labels.

    Raises ValueError when the output is garbled.
    """
    s = text.lstrip()
    if s.startswith("{"):
        data = json.loads(s)
        items = data.get("SPSoftwareDataType", []) if isinstance(data, dict) else []
    else:
        try:
            plist = plistlib.loads(s.encode("utf-8"))
        except Exception as exc:  # plistlib raises several types (ExpatError, InvalidFileException…)
            raise ValueError(f"not a system_profiler plist: {exc}") from exc
        items = next((e.get("_items", []) for e in (plist if isinstance(plist, list) else [])
                      if isinstance(e, dict) and e.get("_dataType") == "SPSoftwareDataType"), [])
    for soft in items[:1]:
        sp = {k: str(v) for k, v in soft.items()}
        return {"System Version": sp.get("os_version", ""), "Kernel Version": sp.get("kernel_version", ""),
                "System Integrity Protection": sp.get("system_integrity", ""), "Boot Mode": sp.get("boot_mode", "")}
    return {}


def parse_kern_boottime(text: str) -> str:
    """`sysctl -n kern.boottime` ("{ sec = 1700000000, usec = 0 } Tue Nov…") as UTC ISO, or ""."""
    m = re.search(r"\bsec\s*=\s*(\d+)", text)
    if not m:
        return ""
    return datetime.fromtimestamp(int(m.group(1)), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _kernel_from_sp(value: str) -> str:
    # "Darwin 20.3.0"
    m = re.match(r"^Darwin\s+(\S+)", value)
    return m.group(1) if m else ""


def version_from_sp(sp: Dict[str, str]) -> Dict[str, str]:
    """sw_vers-style keys from system_profiler's "System Version: macOS 11.2.3 (20D91)"."""
    m = re.match(r"^(.*?)\s+(\d+(?:\.\d+)+)\s*(?:\((\w+)\))?", sp.get("System Version", ""))
    if not m:
        return {}
    out = {"ProductName": m.group(1), "ProductVersion": m.group(2)}
    if m.group(3):
        out["BuildVersion"] = m.group(3)
    return out


def macos_cpe(version: str) -> str:
    """NVD names macOS 11 and later `apple:macos`, Mac OS X 10.x `apple:mac_os_x`."""
    if not re.match(r"^\d+(\.\d+)*$", version):
        return ""
    product = "mac_os_x" if version.split(".")[0] == "10" else "macos"
    return make_cpe("o", "apple", product, version)


def component(sw: Dict[str, str], sp: Optional[Dict[str, str]] = None,
              extra: Optional[Dict[str, str]] = None) -> Optional[Component]:
    """The macOS component from sw_vers (or system_profiler) keys; None when no version is known.

    `extra` carries live facts: kernel, kernel-version, arch, hostname, boot-time, timezone, locale.
    """
    sp = sp or {}
    extra = extra or {}
    info = dict(version_from_sp(sp))
    info.update(sw)
    version = info.get("ProductVersion", "")
    if not version:
        return None
    name = info.get("ProductName", "macOS")
    build = info.get("BuildVersion", "")
    rsr = info.get("ProductVersionExtra", "")
    props: List[Tuple[str, str]] = []

    def add(key: str, value: str) -> None:
        if value:
            props.append((key, value))

    add(V.OS_BUILD, build)
    add(V.OS_RAPID_SECURITY_RESPONSE, rsr)
    add(V.OS_KERNEL, extra.get("kernel") or _kernel_from_sp(sp.get("Kernel Version", "")))
    add(V.OS_KERNEL_VERSION, extra.get("kernel-version", ""))
    add(V.OS_ARCH, extra.get("arch", ""))
    add(V.OS_HOSTNAME, extra.get("hostname", ""))
    add(V.OS_BOOT_TIME, extra.get("boot-time", ""))
    add(V.OS_TIMEZONE, extra.get("timezone", ""))
    add(V.OS_LOCALE, extra.get("locale", ""))
    add(V.OS_SIP, sp.get("System Integrity Protection", ""))
    add(V.OS_SECURE_VIRTUAL_MEMORY, sp.get("Secure Virtual Memory", ""))
    add(V.BOOT_MODE, sp.get("Boot Mode", ""))
    description = " ".join(p for p in (name, version, rsr, f"({build})" if build else "") if p)
    return Component(
        category=Category.OPERATING_SYSTEM,
        kind=Kind.OPERATING_SYSTEM,
        name="macos",
        version=version,
        ref=make_ref(Category.OPERATING_SYSTEM.value, "macos"),
        supplier="Apple Inc.",
        manufacturer="Apple Inc.",
        description=description,
        cpe=macos_cpe(version),
        properties=tuple(props),
    )
