"""Helpers shared by the hardware and firmware collectors on every platform.

Pure functions only: placeholder recognition, serial redaction, and a small
builder that drops empty properties.
"""
from __future__ import annotations

import hashlib
import re
from typing import Iterable, Iterator, List, Optional, Set, Tuple

from cbom import vocabulary as V
from cbom.model import Category, Component, HostFact, Item, Kind

# Strings firmware vendors leave in SMBIOS/WMI fields instead of a real value.
# Sources: dmidecode output of the fixture machines, linux-hardware.org dumps
# (hw-probe masks serials as '--'), AMI/Insyde/Gigabyte BIOS defaults.
_PLACEHOLDERS = {
    "", "to be filled by o.e.m.", "to be filled by oem", "default string", "not specified",
    "not applicable", "n/a", "na", "none", "null", "unknown", "not available", "not present",
    "system serial number", "system product name", "system manufacturer", "system version",
    "base board serial number", "chassis serial number", "chassis manufacturer", "chassis version",
    "type1productconfigid", "type2 - board serial number", "sku", "sku number", "system sku number",
    "oem", "o.e.m.", "o.e.m", "oem_string", "123456789", "0123456789", "1234567890", "01234567890",
    "xxxxxxxxxx", "serialnum", "serial number", "asset tag", "asset-1234567890",
    "no asset tag", "no asset information", "empty", "invalid", "unknow", "--", "-", "no information",
    "undefined", "notset", "not set", "bad index", "no module installed", "unknown manufacturer",
    "manufacturer00", "partnum0", "serNum0", "assettagnum0", "[empty]", "<bad index>", "<out of spec>",
    "<empty>", "unknown product", "not provided", "no enclosure", "none specified", "0x00000000",
    "00000000", "000000000000", "ffffffff", "filled by o.e.m.",
}
_PLACEHOLDERS = {p.lower() for p in _PLACEHOLDERS}
# Memory-slot dmidecode fillers: "SerNum0".."SerNum15", "PartNum3", "Manufacturer1", "AssetTagNum2",
# "Array1_PartNumber0", "DIMM_A1_SerialNumber" …
_NUMBERED = re.compile(
    r"^(?:sernum|partnum|manufacturer|assettagnum|serial ?number|part ?number|asset ?tag|module ?part ?number)"
    r"\s*\d*$|^(?:array|dimm|node|cpu|channel|bank)\w*_(?:serialnumber|partnumber|assettag|manufacturer)\d*$",
    re.IGNORECASE,
)
_ALL_SAME = re.compile(r"^(.)\1*$")


def clean(value: Optional[str]) -> str:
    """`value` stripped, or "" when it is a known placeholder rather than a real value."""
    if value is None:
        return ""
    v = " ".join(str(value).replace("\x00", "").split())
    v = v.strip(" _")  # QEMU/SeaBIOS pads fields with '_' (e.g. 'BOCHS_', 'BXPC____')
    low = v.lower()
    if low in _PLACEHOLDERS or _NUMBERED.match(v):
        return ""
    if _ALL_SAME.match(low.replace("-", "").replace(" ", "")) and low[0] in "0fx-*.":
        return ""  # 00000000-0000-…, FFFFFFFF…, '****'
    return v


def is_placeholder(value: Optional[str]) -> bool:
    return bool(value and str(value).strip()) and not clean(value)


def redact(value: str, salt: str) -> str:
    """A salted SHA-256 stand-in for `value`: same value and salt, same result.

    Two scans of one machine with the same salt still diff; without the salt the
    serial cannot be recovered by hashing a list of plausible serials.
    """
    digest = hashlib.sha256(f"{salt}\x1f{value}".encode("utf-8", "surrogateescape")).hexdigest()
    return f"redacted-sha256:{digest[:24]}"


class Redactor:
    """Applies `--redact serials` (with its salt) to serial numbers and UUIDs."""

    def __init__(self, serials: bool = False, salt: str = "") -> None:
        self.serials = serials
        self.salt = salt

    @classmethod
    def from_options(cls, options: dict) -> Redactor:
        chosen = options.get("redact") or []
        if isinstance(chosen, str):
            chosen = [chosen]
        return cls("serials" in chosen, str(options.get("redact_salt") or ""))

    def __call__(self, value: str) -> str:
        value = clean(value)
        if value and self.serials:
            return redact(value, self.salt)
        return value


def props(*pairs: Tuple[str, object]) -> Tuple[Tuple[str, str], ...]:
    """Property tuple without empty values (cleaned of placeholders)."""
    out: List[Tuple[str, str]] = []
    for name, value in pairs:
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        text = clean(str(value)) if isinstance(value, str) else str(value)
        if text:
            out.append((name, text))
    return tuple(out)


def device(
    ref: str,
    name: str,
    manufacturer: str = "",
    version: str = "",
    description: str = "",
    properties: Iterable[Tuple[str, str]] = (),
) -> Component:
    """A hardware component (CycloneDX `device`)."""
    return Component(
        category=Category.HARDWARE,
        kind=Kind.DEVICE,
        name=clean(name) or "unknown device",
        version=clean(version),
        ref=ref,
        manufacturer=clean(manufacturer),
        description=description,
        properties=tuple(properties),
    )


def firmware(
    ref_of_hardware: str,
    name: str,
    version: str,
    vendor: str = "",
    release_date: str = "",
    properties: Iterable[Tuple[str, str]] = (),
    identity: str = "",
) -> Optional[Component]:
    """A firmware component linked to the hardware it runs on, or None without a version."""
    from cbom.model import make_ref

    version = clean(version)
    if not version:
        return None
    extra: List[Tuple[str, str]] = []
    if release_date:
        extra.append((V.FIRMWARE_RELEASE_DATE, release_date))
    if ref_of_hardware:
        extra.append((V.HARDWARE_REF, ref_of_hardware))
    return Component(
        category=Category.FIRMWARE,
        kind=Kind.FIRMWARE,
        name=name,
        version=version,
        ref=make_ref(Category.FIRMWARE.value, identity or name, ref_of_hardware),
        manufacturer=clean(vendor),
        properties=tuple(extra) + tuple(properties),
        depends_on=(ref_of_hardware,) if ref_of_hardware else (),
    )


def human_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:g} {unit}" if unit == "B" else f"{n:.1f} {unit}".replace(".0 ", " ")
        n /= 1024  # type: ignore[assignment]
    return str(n)


def dmi_date(value: str) -> str:
    """DMI 'MM/DD/YYYY' (SMBIOS 2.3+; older tables use 2-digit years) as ISO 'YYYY-MM-DD'."""
    m = re.match(r"^\s*(\d{1,2})/(\d{1,2})/(\d{2,4})\s*$", value or "")
    if not m:
        return ""
    mm, dd, yy = (int(x) for x in m.groups())
    if yy < 100:
        yy += 1900 if yy >= 80 else 2000  # SMBIOS spec: 2-digit years are 19xx
    if not (1 <= mm <= 12 and 1 <= dd <= 31):
        return ""
    return f"{yy:04d}-{mm:02d}-{dd:02d}"


# Hardware a machine has exactly one description of: the first source that describes it wins
# (a recording may hold both the WMI dumps and the dmidecode output of one machine, or two
# system_profiler reports of two OS releases).
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
                dtype = item.prop(V.DEVICE_TYPE)
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
