"""CPU feature flags where /proc/cpuinfo does not list them (collectors/hardware/_cpuid.py).

- Windows: CPUID through py-cpuinfo in a child process. Here the same child runs on this Linux
  machine's processor, and /proc/cpuinfo (the kernel's own CPUID reading) is the independent truth.
  The wine tier (tests/windows/test_scan.py) checks it inside a Windows scan.
- macOS: `sysctl -a` lines of two real Macs (an Intel one recorded by py-cpuinfo's authors, an
  Apple M1 Pro recorded by Ansible's); the expected flags are read from those files by eye.
"""
from __future__ import annotations

import platform
from pathlib import Path

import pytest

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.host import LocalHost, RecordedHost
from cbom.model import Component, Gap, Platform
from cbom.recording import Recording
from collectors.hardware import _cpuid, _darwin
from collectors.hardware._darwin import parse_sysctl
from conftest import SHARED

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hardware" / "macos-sysctl"
M1_PRO = SHARED / "fixtures" / "macos" / "ansible-macbookpro18-1"
# CPUID bits Linux passes through to /proc/cpuinfo as they are (arch/x86/kernel/cpu/common.c),
# the crypto and platform ones an auditor asks about.
CPUID_BITS = ("aes", "pclmulqdq", "sha_ni", "rdrand", "rdseed", "vaes", "vpclmulqdq", "gfni", "avx", "avx2",
              "avx512f", "smep", "smap", "hypervisor")


def proc_flags() -> set:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64", "i686"), reason="CPUID is an x86 instruction")
def test_cpuid_child_reads_what_the_kernel_reads():
    ctx = ScanContext(platform=Platform.LINUX, host=LocalHost(), admin=False)
    found, why = _cpuid.read_cpuid(ctx)
    assert found is not None, why
    kernel = proc_flags()
    for flag in CPUID_BITS:
        assert (flag in found.flags) == (flag in kernel), flag
    assert "aes" in found.flags or "aes" not in kernel
    brand = next(line.partition(":")[2].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name"))
    assert found.brand == " ".join(brand.split())
    # py-cpuinfo 9 reads NX from the wrong register: it must never be reported from there.
    assert "nx" not in found.flags


def test_cpuid_is_not_read_for_a_recording():
    rec = Recording(str(M1_PRO))
    ctx = ScanContext(platform=rec.platform, host=RecordedHost(rec), admin=True)
    found, why = _cpuid.read_cpuid(ctx)
    assert found is None and "running processor" in why


def test_intel_mac_flags_from_sysctl():
    text = (FIXTURES / "osx-10.12-core-i5-2557m.txt").read_text()
    flags = _cpuid.darwin_flags(parse_sysctl(text))
    # machdep.cpu.features: PCLMULQDQ VMX AES AVX1.0 (no RDRAND: a Sandy Bridge); extfeatures: XD.
    assert set(flags) >= {"aes", "pclmulqdq", "vmx", "avx", "nx"}
    assert "rdrand" not in flags and "avx2" not in flags and "sha_ni" not in flags


def test_apple_silicon_flags_from_sysctl():
    text = (M1_PRO / "sysctl.txt").read_text()
    flags = set(_cpuid.darwin_flags(parse_sysctl(text)))
    # hw.optional.arm.FEAT_AES / PMULL / SHA1 / SHA256 / SHA512 / SHA3 are all 1 in that listing.
    assert {"aes", "pmull", "sha1", "sha2", "sha512", "sha3"} <= flags


def test_a_recorded_mac_cpu_component_carries_its_flags():
    rec = Recording(str(M1_PRO))
    ctx = ScanContext(platform=rec.platform, host=RecordedHost(rec), admin=True)
    items = list(_darwin.collect(ctx))
    cpus = [i for i in items if isinstance(i, Component) and i.prop(V.DEVICE_TYPE) == "cpu"]
    assert len(cpus) == 1 and cpus[0].name == "Apple M1 Pro"
    assert {"aes", "pmull", "sha1", "sha2", "sha512", "sha3"} <= set(cpus[0].props(V.CPU_FLAG))


def test_no_cpu_described_gives_one_from_cpuid():
    found = _cpuid.CpuId(flags=("aes", "sha_ni", "sse2"), brand="Intel(R) Xeon(R) Processor", vendor="GenuineIntel")
    items = list(_cpuid.with_flags([Gap("Win32_Processor not read")], found))
    cpu = [i for i in items if isinstance(i, Component)]
    assert len(cpu) == 1 and cpu[0].manufacturer == "Intel" and cpu[0].props(V.CPU_FLAG) == ("aes", "sha_ni")
    assert isinstance(items[0], Gap)


def test_garbled_child_output_is_no_result():
    for text in ("", "not json", "[]", '{"flags": 3}'):
        assert _cpuid.parse_child(text) is None
