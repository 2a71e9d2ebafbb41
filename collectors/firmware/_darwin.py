"""macOS firmware: Boot ROM / System Firmware and SMC versions, disk firmware, from system_profiler."""
from __future__ import annotations

from typing import Any, Dict, Iterator

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.model import Gap, Item

from ..hardware import _darwin as hw
from ..hardware import _refs
from ..hardware._common import firmware, first_source_wins, props


def overview_components(overview: Dict[str, Any]) -> Iterator[Item]:
    """Firmware of the Mac itself from its Hardware Overview (text labels or JSON keys)."""
    v = hw.firmware_values({k: str(x) for k, x in overview.items()})
    for kind, name, version in (("system-firmware", "Boot ROM (system firmware)", v["boot_rom"]),
                                ("smc", "System Management Controller firmware", v["smc"])):
        comp = firmware(_refs.system_ref(), name, version, vendor="Apple",
                        properties=props((V.FIRMWARE_TYPE, kind),
                                         (V.FIRMWARE_OS_LOADER, v["os_loader"] if kind == "system-firmware" else "")),
                        identity=kind)
        if comp:
            yield comp


def disk_components(items) -> Iterator[Item]:
    """Disk firmware revisions from hardware components already built for the same disks."""
    for c in items:
        rev = getattr(c, "prop", lambda *_: "")(V.STORAGE_FIRMWARE_REVISION)
        if rev:
            comp = firmware(c.ref, f"{c.name} firmware", rev, properties=((V.FIRMWARE_TYPE, "storage"),),
                            identity="disk-firmware")
            if comp:
                yield comp


def text_components(tree: Dict[str, Any]) -> Iterator[Item]:
    yield from overview_components(tree.get("Hardware", {}).get("Hardware Overview", {}))
    yield from disk_components(list(hw.text_components(tree, hw.Redactor())))


def structured_components(data: hw.Items) -> Iterator[Item]:
    for overview in data.get("SPHardwareDataType", [])[:1]:
        yield from overview_components(overview)
    yield from disk_components(list(hw.structured_components(data, hw.Redactor())))


def collect(ctx: ScanContext) -> Iterator[Item]:
    if ctx.recorded:
        # The same reports hardware.macos reads, the first describing a firmware winning.
        reports, gaps = hw.recorded_reports(ctx)
        yield from gaps
        yield from first_source_wins(list(structured_components(data) if kind == "structured" else
                                          text_components(data)) for kind, data in reports)
        return
    res = ctx.run(["system_profiler", "-json", "SPHardwareDataType", "SPSerialATADataType", "SPNVMeDataType"],
                  timeout=60)
    if not res.ok:
        res = ctx.run(["system_profiler", "-xml", "SPHardwareDataType", "SPSerialATADataType", "SPNVMeDataType"],
                      timeout=60)
    if not res.ok:
        yield Gap(f"system_profiler failed ({res.why()}): firmware not collected")
        return
    try:
        yield from structured_components(hw.parse_sp_structured(res.stdout))
    except ValueError:
        yield Gap("system_profiler output could not be parsed: firmware not collected")
