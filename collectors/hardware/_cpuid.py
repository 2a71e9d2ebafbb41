"""CPU features where no /proc/cpuinfo lists them: Windows and macOS.

- Windows, on the running machine: the x86 CPUID instruction, read by py-cpuinfo (its
  `_get_cpu_info_from_cpuid`, which runs CPUID from a page of executable memory). WMI's
  Win32_Processor has no feature list. It runs in a child process of its own, bounded by the
  command runner's time limit, because a CPUID page that the system refuses to execute kills the
  process that runs it (py-cpuinfo starts a multiprocessing child for the same reason: that child
  is this process, so py-cpuinfo is told not to start another).
- macOS, live and recorded: `sysctl -a`. py-cpuinfo reads the same machdep.cpu.features lines on a
  Mac; reading them here means a recorded `sysctl -a` gives them too, and so do Apple silicon's
  hw.optional.arm.FEAT_* values, which py-cpuinfo does not read.

Flags are given by their Linux /proc/cpuinfo names (arch/x86/include/asm/cpufeatures.h), so every
platform's CPU component says "aes", "sha_ni", "rdrand" alike.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.model import Component, Gap, Item

from . import _refs
from ._common import device, props
from ._linux import CPU_FLAGS_OF_INTEREST

__all__ = ["CHILD_ARG", "CpuId", "child_main", "child_argv", "darwin_flags", "linux_names", "read_cpuid",
           "cpuid_items", "with_flags"]

# The command-line argument that makes a frozen cbom (usb_bundle/pyinstaller/entry.py) the child.
CHILD_ARG = "--cbom-cpuid-child"
TIMEOUT = 20.0

# py-cpuinfo's CPUID flag names (cpuinfo.py, class CPUID: get_flags) that Linux spells otherwise.
_PY_CPUINFO = {"rdrnd": "rdrand", "sha": "sha_ni"}
# py-cpuinfo 9 reads leaf 0x80000001's EBX for the flags that live in its EDX (Intel SDM vol. 2A,
# CPUID EAX=80000001H: EDX bit 20 XD/NX, 29 LM, 11 SYSCALL, 27 RDTSCP; AMD's EBX holds brand and
# package bits there): those names say nothing true, and are dropped.
_PY_CPUINFO_MISREAD = frozenset({"nx", "lm", "syscall", "rdtscp", "mp", "mmxext", "fxsr_opt", "pdpe1gp", "3dnowext",
                                 "3dnow"})

# macOS x86 names: XNU osfmk/i386/cpuid.c feature_map / leaf7_feature_map / extfeature_map, lowered.
_DARWIN_X86 = {"avx1.0": "avx", "xd": "nx", "sha": "sha_ni", "smep": "smep", "smap": "smap"}
# Apple silicon: sysctl hw.optional.arm.FEAT_* = 1 (Apple developer documentation, "Determining
# instruction set characteristics"), named as Linux's arm64 /proc/cpuinfo "Features" does.
_DARWIN_ARM = {"FEAT_AES": "aes", "FEAT_PMULL": "pmull", "FEAT_SHA1": "sha1", "FEAT_SHA256": "sha2",
               "FEAT_SHA512": "sha512", "FEAT_SHA3": "sha3"}


@dataclass(frozen=True)
class CpuId:
    """What the processor says of itself."""

    flags: Tuple[str, ...]  # every flag, by its Linux name, sorted
    brand: str = ""
    vendor: str = ""
    source: str = ""  # how it was read, for the reader of the report


def linux_names(names: Iterable[str], rename: Dict[str, str]) -> Tuple[str, ...]:
    return tuple(sorted({rename.get(n.lower(), n.lower()) for n in names}))


def darwin_flags(sysctl: Dict[str, str]) -> Tuple[str, ...]:
    """Flags of a Mac's `sysctl -a` ({"machdep.cpu.features": "FPU VME … AES …", …})."""
    names: List[str] = []
    for key in ("machdep.cpu.features", "machdep.cpu.leaf7_features", "machdep.cpu.extfeatures"):
        names += sysctl.get(key, "").split()
    for key, value in sysctl.items():
        feature = key.rpartition(".")[2]
        if key.startswith("hw.optional.arm.") and feature in _DARWIN_ARM and value.strip() == "1":
            names.append(_DARWIN_ARM[feature])
    return linux_names(names, _DARWIN_X86)


# ---------------------------------------------------------------- the child process (Windows)

def child_main() -> int:
    """Print py-cpuinfo's CPUID reading as JSON: {"flags": [...], "brand": ..., "vendor": ...}."""
    try:
        from cpuinfo import cpuinfo  # py-cpuinfo checks the architecture on import
    except Exception as exc:  # noqa: BLE001 - an unsupported CPU raises a plain Exception there
        print(f"py-cpuinfo unavailable: {exc}", file=sys.stderr)
        return 2
    cpuinfo.CAN_CALL_CPUID_IN_SUBPROCESS = False  # this process is the sandbox it would start
    info = cpuinfo._get_cpu_info_from_cpuid()
    if not info:
        print("CPUID gave nothing (not an x86 processor, or executable memory refused)", file=sys.stderr)
        return 3
    print(json.dumps({"flags": sorted(info.get("flags", [])), "brand": info.get("brand_raw", ""),
                      "vendor": info.get("vendor_id_raw", "")}))
    return 0


def child_argv() -> List[str]:
    """The command line of the child: the frozen cbom itself, or this interpreter on this module."""
    if getattr(sys, "frozen", False):
        return [sys.executable, CHILD_ARG]
    root = str(Path(__file__).resolve().parents[2])
    code = f"import sys; sys.path.insert(0, {root!r}); from collectors.hardware._cpuid import child_main; " \
           "sys.exit(child_main())"
    return [sys.executable, "-c", code]


def parse_child(stdout: str) -> Optional[CpuId]:
    try:
        data = json.loads(stdout)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("flags"), list):
        return None
    return CpuId(flags=linux_names((str(f) for f in data["flags"] if str(f) not in _PY_CPUINFO_MISREAD), _PY_CPUINFO),
                 brand=" ".join(str(data.get("brand") or "").split()), vendor=str(data.get("vendor") or ""),
                 source="CPUID (py-cpuinfo)")


def read_cpuid(ctx: ScanContext) -> Tuple[Optional[CpuId], str]:
    """CPUID of the machine cbom runs on (once per scan), or None and why not."""
    if not (ctx.local and ctx.live):
        return None, "CPU flags are read from the running processor only (CPUID): not this machine's"

    def compute() -> Tuple[Optional[CpuId], str]:
        res = ctx.run(child_argv(), timeout=TIMEOUT)
        if not res.ok:
            return None, f"CPU flags not read: CPUID child {res.why(quote=False)}"
        found = parse_child(res.stdout)
        if found is None:
            return None, f"CPU flags not read: the CPUID child printed no result ({res.stdout.strip()[:80]!r})"
        return found, ""

    return ctx.memo(("cpuid",), compute)


_VENDORS = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD"}


def with_flags(items: Iterable[Item], found: Optional[CpuId]) -> Iterator[Item]:
    """`items`, each CPU component with the flags of interest `found` lists (and how they were
    read); when no item described the processor, one from what the processor says of itself."""
    if found is None:
        yield from items
        return
    flags = [f for f in CPU_FLAGS_OF_INTEREST if f in found.flags]
    added = tuple((V.CPU_FLAG, f) for f in flags) + (((V.CPU_FLAGS_SOURCE, found.source),) if found.source else ())
    seen_cpu = False
    for item in items:
        if isinstance(item, Component) and item.prop(V.DEVICE_TYPE) == "cpu":
            seen_cpu = True
            if flags and not item.prop(V.CPU_FLAG):
                item = replace(item, properties=item.properties + added)
        yield item
    if not seen_cpu and (found.brand or flags):
        vendor = _VENDORS.get(found.vendor, found.vendor)
        yield device(_refs.cpu_ref("0"), name=found.brand or "Processor", manufacturer=vendor,
                     properties=props((V.DEVICE_TYPE, "cpu"), (V.CPU_VENDOR, vendor), *added))


def cpuid_items(ctx: ScanContext, items: Iterable[Item]) -> Iterator[Item]:
    """`with_flags` on the running Windows machine's CPUID; elsewhere `items` unchanged."""
    found, why = read_cpuid(ctx)
    yield from with_flags(items, found)
    if found is None and ctx.local and ctx.live:
        yield Gap(why)
