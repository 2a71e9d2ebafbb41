"""Helpers of the transitional Linux recording reader."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Set

from cbom.model import Category, Component, HostFact, Item

from ..hardware import _linux as hw
from ..hardware import _refs
from ..hardware._common import device, props

# Hardware the machine has exactly one description of: the first source that describes it wins
# (a folder may hold both a WMI dump and dmidecode output of the same machine).
EXCLUSIVE_TYPES = ("system", "baseboard", "chassis", "memory-module", "cpu", "memory")
IDENTITY_FACTS = ("manufacturer", "model", "serial")


def first_source_wins(sources: Iterable[Iterable[Item]]) -> Iterator[Item]:
    """Items of every source, dropping what an earlier source already described.

    Per hardware device type in EXCLUSIVE_TYPES, per hardware/firmware/OS ref,
    and per identity host fact (manufacturer, model, serial).
    """
    seen_types: Set[str] = set()
    seen_refs: Set[str] = set()
    seen_facts: Set[str] = set()
    for source in sources:
        types: Set[str] = set()
        refs: Set[str] = set()
        facts: Set[str] = set()
        for item in source:
            if isinstance(item, Component) and item.category in (Category.HARDWARE, Category.FIRMWARE,
                                                                  Category.OPERATING_SYSTEM):
                dtype = item.prop("cbom:device-type")
                if dtype in EXCLUSIVE_TYPES and dtype in seen_types:
                    continue
                if item.ref in seen_refs:
                    continue
                types.add(dtype)
                refs.add(item.ref)
            elif isinstance(item, HostFact) and item.name in IDENTITY_FACTS:
                if item.name in seen_facts:
                    continue
                facts.add(item.name)
            yield item
        seen_types |= types
        seen_refs |= refs
        seen_facts |= facts


def dmi_cpu_components(records: List[hw.DmiRecord]) -> Iterator[Component]:
    """Processors of dmidecode type 4 records, for recordings without /proc/cpuinfo or WMI."""
    # VMware lists every possible socket as "Populated, Disabled": only enabled ones are processors.
    cpus = [r for r in hw.dmi_processors(records) if "Disabled" not in r.fields.get("Status", "")]
    for i, rec in enumerate(cpus):
        name = rec.get("Version") or rec.get("Family") or "Processor"
        speed = rec.get("Max Speed")
        yield device(
            _refs.cpu_ref(str(i)), name=" ".join(name.split()), manufacturer=_cpu_vendor(rec.get("Manufacturer")),
            properties=props(("cbom:device-type", "cpu"), ("cbom:cpu:vendor", _cpu_vendor(rec.get("Manufacturer"))),
                             ("cbom:cpu:signature", rec.get("Signature")), ("cbom:cpu:id", rec.get("ID")),
                             ("cbom:cpu:cores", rec.get("Core Count")), ("cbom:cpu:threads", rec.get("Thread Count")),
                             ("cbom:cpu:socket", rec.get("Socket Designation")), ("cbom:cpu:max-speed", speed)),
        )


def _cpu_vendor(value: str) -> str:
    v = value or ""
    if re.search(r"intel", v, re.IGNORECASE):
        return "Intel"
    if re.search(r"\bamd\b|advanced micro", v, re.IGNORECASE) or v == "AuthenticAMD":
        return "AMD"
    return v


def missing(expected, present: Dict[str, bool]) -> List[str]:
    """Expected entries (tuples of alternatives) of which no alternative is present."""
    out = []
    for alternatives in expected:
        if not any(present.get(a.lower()) for a in alternatives):
            out.append(alternatives[0])
    return out


def read_tree(folder: Optional[Path], limit: int = 1 << 20) -> Dict[str, str]:
    """{relative path: stripped text} of every file under a recorded sysfs copy folder."""
    out: Dict[str, str] = {}
    if folder is None:
        return out
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            try:
                with open(p, "rb") as f:
                    out[p.relative_to(folder).as_posix()] = f.read(limit).decode("utf-8", "replace").strip()
            except OSError:
                continue
    return out


def subtrees(tree: Dict[str, str]) -> Dict[str, Dict[str, str]]:
    """{'vda/size': '1'} → {'vda': {'size': '1'}}."""
    out: Dict[str, Dict[str, str]] = {}
    for key, value in tree.items():
        top, _, rest = key.partition("/")
        if rest:
            out.setdefault(top, {})[rest] = value
    return out
