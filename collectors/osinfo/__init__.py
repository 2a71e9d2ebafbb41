"""The `os` collector: the operating system of the scanned machine, as one component.

Linux: os-release (or lsb-release / *-release), kernel, architecture, boot
time, time zone, locale and the security modules (SELinux, AppArmor, LSM stack,
lockdown). Windows: one PowerShell WMI + registry dump, else `wmic`, else
`systeminfo`: caption, version/build/UBR, edition, install and boot dates,
registered owner, every hotfix. macOS: `sw_vers`, `system_profiler
SPSoftwareDataType`, `sysctl kern.boottime`. Every file is read through `ctx`,
whose host backend resolves symlinks inside `--root`, so a mounted image is
described, not the machine running cbom.
"""
from __future__ import annotations

import base64
import os
import platform
import re
import socket
import time
from typing import Iterator, List, Optional, Set, Tuple

from cbom import vocabulary as V
from cbom.collector import Collector, ScanContext
from cbom.host import RecordedHost
from cbom.model import Component, Gap, HostFact, Item, Platform

from .._text import decode_recorded
from . import _darwin, _linux, _windows

__all__ = ["COLLECTORS"]


class _Os(Collector):
    """The running (or mounted, with --root, or recorded) operating system, as one component."""

    timeout = 30.0
    default = True


class OsLinux(_Os):
    name = "os.linux"
    description = "Linux distribution (os-release), kernel, boot time, time zone, locale, security modules"
    platforms = frozenset({Platform.LINUX})

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        return _collect_linux(ctx)


class OsWindows(_Os):
    name = "os.windows"
    description = "Windows edition, version/build/UBR, install and boot dates, owner, hotfixes"
    platforms = frozenset({Platform.WINDOWS})

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        return _collect_windows(ctx)


class OsDarwin(_Os):
    name = "os.macos"
    description = "macOS version and build (sw_vers), boot time, SIP"
    platforms = frozenset({Platform.DARWIN})

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        return _collect_darwin(ctx)


COLLECTORS = (OsLinux, OsWindows, OsDarwin,)


def _read(ctx: ScanContext, path: str) -> Tuple[Optional[str], str]:
    """(text, "") when read, (None, "") when absent, (None, reason) when it could not be read."""
    try:
        return ctx.read(path), ""
    except (FileNotFoundError, NotADirectoryError):
        return None, ""
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or exc}"


def _read_bytes(ctx: ScanContext, path: str, limit: int, head: bool = False) -> Optional[bytes]:
    try:
        return ctx.read_bytes(path, limit, head)
    except OSError:
        return None


def _readlink(ctx: ScanContext, path: str) -> str:
    return ctx.readlink(path)


# --- Linux ---------------------------------------------------------------------------------------------


def _collect_linux(ctx: ScanContext) -> Iterator[Item]:
    info, gaps = _distribution(ctx)
    facts: List[Tuple[str, str]] = []
    gaps += _kernel(ctx, facts)
    facts.append((V.OS_ARCH, _arch(ctx)))
    facts.append((V.OS_HOSTNAME, _hostname(ctx)))
    if ctx.live:
        text, why = _read(ctx, "/proc/stat")
        facts.append((V.OS_BOOT_TIME, _linux.parse_btime(text or "")))
        if why:
            gaps.append(why)
    facts.append((V.OS_TIMEZONE, _timezone(ctx)))
    facts.append((V.OS_LOCALE, _locale(ctx)))
    gaps += _security(ctx, facts)
    version = info.get("VERSION_ID", "")
    if info.get("ID") == "debian":
        # os-release says "12"; the point release ("12.11") is only here. It is the installed
        # version (what Trivy and the Debian release notes call it, and what another tool's SBOM
        # holds: comparing "12.11" with "12" made `cbom diff` see a downgrade), so it is the
        # component's version; the CPE stays per major release, as NVD's debian_linux entries are.
        text, _ = _read(ctx, "/etc/debian_version")
        point = text.strip() if text else ""
        if point[:1].isdigit():
            facts.append((V.OS_POINT_RELEASE, point))
            if not version or point == version or point.startswith(version + "."):
                version = point
    comp = _linux.component(info, facts, version=version)
    for gap in dict.fromkeys(gaps):
        yield Gap(gap)
    if comp is None:
        yield Gap(f"Linux distribution unknown: no usable os-release, lsb-release or /etc/*-release under {ctx.root}")
        return
    yield comp
    yield HostFact(V.HOST_OS, comp.description or f"{comp.name} {comp.version}".strip())


def _distribution(ctx: ScanContext) -> Tuple[dict, List[str]]:
    gaps: List[str] = []
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        text, why = _read(ctx, path)
        if why:
            gaps.append(why)
        if text is not None:
            info = _linux.parse_os_release(text)
            if info.get("ID"):
                return info, gaps
            gaps.append(f"{path} holds no ID= line (garbled or truncated?)")
            if info.get("NAME"):
                return info, gaps
    text, why = _read(ctx, "/etc/lsb-release")
    info = _linux.parse_lsb_release(text) if text else {}
    if info.get("ID"):
        return info, gaps
    for path, dist_id in _linux.release_files():
        text, why = _read(ctx, path)
        if text:
            info = _linux.parse_release_line(text, dist_id)
            if info:
                return info, gaps
    text, _ = _read(ctx, "/etc/debian_version")
    if text and text.strip():
        version = text.strip()
        return {"ID": "debian", "NAME": "Debian GNU/Linux", "PRETTY_NAME": f"Debian GNU/Linux {version}",
                "VERSION_ID": version.split(".")[0] if version[:1].isdigit() else ""}, gaps
    return {}, gaps


def _kernel(ctx: ScanContext, facts: List[Tuple[str, str]]) -> List[str]:
    if ctx.recorded:
        result = ctx.run(["uname", "-a"])
        release, version, _machine = _linux.uname_fields(result.stdout if result.ok else "")
        facts.append((V.OS_KERNEL, release))
        facts.append((V.OS_KERNEL_VERSION, version))
        return []
    if ctx.live:
        proc_release, _ = _read(ctx, "/proc/sys/kernel/osrelease")
        proc_version, _ = _read(ctx, "/proc/sys/kernel/version")
        # /proc may be hidden (hardened containers): the uname(2) syscall still answers.
        facts.append((V.OS_KERNEL, (proc_release or platform.release()).strip()))
        facts.append((V.OS_KERNEL_VERSION, (proc_version or platform.version()).strip()))
        return []
    # A mounted image runs no kernel: list the ones installed in it.
    found: Set[str] = set()
    for folder in ("/lib/modules", "/usr/lib/modules"):
        try:
            found.update(n for n in ctx.listdir(folder) if ctx.is_dir(f"{folder}/{n}"))
        except OSError:
            pass
    try:
        found.update(p[len("/boot/vmlinuz-"):] for p in ctx.glob("/boot/vmlinuz-*"))
    except OSError:
        pass
    for release in sorted(found):
        facts.append((V.OS_KERNEL_INSTALLED, release))
    if not found:
        return [f"kernel unknown: {ctx.root} is not a running system and holds no /lib/modules/* or /boot/vmlinuz-*"]
    return []


def _arch(ctx: ScanContext) -> str:
    if ctx.recorded:
        result = ctx.run(["uname", "-a"])
        return _linux.uname_fields(result.stdout if result.ok else "")[2]
    if ctx.live:
        return platform.machine()
    # The machine type of the image's own binaries (uname would describe the scanning machine).
    for path in ("/bin/sh", "/usr/bin/env", "/sbin/init", "/bin/busybox"):
        header = _read_bytes(ctx, path, 64, head=True)
        if header:
            arch = _linux.elf_machine(header)
            if arch:
                return arch
    return ""


def _hostname(ctx: ScanContext) -> str:
    if ctx.recorded:
        result = ctx.run(["hostname"])
        first = result.stdout.strip().split("\n")[0].strip() if result.ok else ""
        host = ctx.host
        return first or (host.recording.manifest.host if isinstance(host, RecordedHost) else "")
    if ctx.live:
        text, _ = _read(ctx, "/proc/sys/kernel/hostname")
        return (text or socket.gethostname()).strip()
    text, _ = _read(ctx, "/etc/hostname")
    return (text or "").strip().split("\n")[0].strip()


def _timezone(ctx: ScanContext) -> str:
    text, _ = _read(ctx, "/etc/timezone")  # Debian family
    if text and text.strip():
        return text.strip().split("\n")[0].strip()
    return _linux.timezone_from_link(_readlink(ctx, "/etc/localtime"))


def _locale(ctx: ScanContext) -> str:
    for path in ("/etc/default/locale", "/etc/locale.conf", "/etc/sysconfig/i18n"):
        text, _ = _read(ctx, path)
        value = _linux.parse_locale_conf(text or "")
        if value:
            return value
    if ctx.local:
        return os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    return ""


def _security(ctx: ScanContext, facts: List[Tuple[str, str]]) -> List[str]:
    gaps: List[str] = []
    if ctx.live and ctx.host.looked_at("/sys/fs/selinux/enforce"):
        # selinuxfs is mounted only when SELinux is enabled in the running kernel.
        text, why = _read(ctx, "/sys/fs/selinux/enforce")
        if why:
            gaps.append(why)
        elif text is None:
            facts.append((V.OS_SELINUX, "disabled"))
        else:
            facts.append((V.OS_SELINUX, {"1": "enforcing", "0": "permissive"}.get(text.strip(), text.strip())))
    text, _ = _read(ctx, "/etc/selinux/config")
    if text:
        facts.append((V.OS_SELINUX_CONFIG, _linux.parse_os_release(text).get("SELINUX", "")))
    if not ctx.live:
        return gaps
    text, why = _read(ctx, "/sys/module/apparmor/parameters/enabled")
    if why:
        gaps.append(why)
    elif text is None and not ctx.host.looked_at("/sys/module/apparmor/parameters/enabled"):
        pass  # a recording that did not look: unknown, not "not loaded"
    elif text is None:
        facts.append((V.OS_APPARMOR, "not loaded"))
    else:
        facts.append((V.OS_APPARMOR, {"Y": "enabled", "N": "disabled"}.get(text.strip(), text.strip())))
    # securityfs is not mounted in every container: its absence is no gap, the facts are just unknown.
    text, why = _read(ctx, "/sys/kernel/security/lsm")
    if text:
        facts.append((V.OS_LSM, text.strip().strip(",")))
    text, why = _read(ctx, "/sys/kernel/security/lockdown")
    if text:
        facts.append((V.OS_LOCKDOWN, _linux.parse_lockdown(text)))
    return gaps


# --- Windows ---------------------------------------------------------------------------------------------

_BUDGET = 27.0  # seconds for every command together, under the collector's 30 s


def _collect_windows(ctx: ScanContext) -> Iterator[Item]:
    named = False
    for item in _windows_os(ctx):
        named = named or (isinstance(item, Component) and bool(item.prop(V.OS_HOSTNAME)))
        yield item
    if ctx.recorded and not named:
        # No OS dump or systeminfo named the recorded machine: another WMI class may.
        name = _recorded_windows_name(ctx)
        if name:
            yield HostFact("hostname", name)


# Recorded WMI classes naming the machine, in the order the old ingest asked them (GLPI keeps some
# of these alone in a folder).
_WINDOWS_NAMES = (("Win32_ComputerSystem", "Name"), ("Win32_OperatingSystem", "CSName"),
                  ("Win32_Processor", "SystemName"), ("Win32_NetworkAdapter", "SystemName"),
                  ("Win32_QuickFixEngineering", "CSName"))


def _recorded_windows_name(ctx: ScanContext) -> str:
    for cls, prop in _WINDOWS_NAMES:
        res = ctx.run(["wmic", "path", cls, "get", prop, "/format:list"])
        if not res.ok:
            continue
        for record in _windows.parse_wmic_list(decode_recorded(res.raw)):
            value = record.get(prop, "").strip()
            if value:
                return value
    return ""


def _windows_os(ctx: ScanContext) -> Iterator[Item]:
    deadline = time.monotonic() + _BUDGET

    def left(cap: float) -> float:
        return max(1.0, min(cap, deadline - time.monotonic()))

    reasons: List[str] = []
    info: Optional[_windows.WindowsInfo] = None
    script = base64.b64encode(_windows.POWERSHELL_SCRIPT.encode("utf-16-le")).decode("ascii")
    ps = ctx.run(["powershell", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
                  "-EncodedCommand", script], timeout=left(15))
    if ps.ok:
        info = _windows.info_from_sections(_windows.parse_sections(decode_recorded(ps.raw)))
        if info is None:
            # Exit 0 and nothing printed (a locked-down host, wine's stub) is said as such.
            reasons.append("PowerShell WMI " + (ps.why(quote=False) if ps.empty else "output not recognised"))
    else:
        reasons.append("PowerShell WMI: " + ps.why(quote=False))
    if info is None:
        # PowerShell missing (XP, 2003) or locked down: wmic, deprecated but present up to Windows 11 23H2.
        os_list = ctx.run(["wmic", "os", "get", "/format:list"], timeout=left(10))
        records = _windows.parse_wmic_list(decode_recorded(os_list.raw)) if os_list.ok else []
        info = _windows.info_from_wmi(records[0]) if records else None
        if info is None:
            reasons.append(os_list.why() if not os_list.ok or os_list.empty else "wmic os output not recognised")
        else:
            qfe = ctx.run(["wmic", "qfe", "get", "/format:list"], timeout=left(10))
            if qfe.ok:
                # /format:list as asked; a recording may hold the table form of `wmic qfe` instead.
                text = decode_recorded(qfe.raw)
                rows = _windows.parse_wmic_list(text) if "HotFixID=" in text else _windows.parse_wmic_table(text)
                fixes = _windows.hotfixes_from_records(rows)
                info = _windows.merge(info, _windows.WindowsInfo(hotfixes=tuple(fixes), hotfixes_known=True))
            else:
                reasons.append(qfe.why())
    si_used = False
    if info is None or not info.hotfixes_known:
        si = ctx.run(["systeminfo"], timeout=left(25))
        parsed = _windows.parse_systeminfo(decode_recorded(si.raw)) if si.ok else None
        if parsed is None:
            reasons.append(si.why() if not si.ok or si.empty
                           else "systeminfo output not recognised (garbled or truncated)")
        si_used = parsed is not None and (info is None or not info.hotfixes_known)
        info = _windows.merge(info, parsed)
    if info is None:
        yield Gap("Windows version unknown: " + "; ".join(reasons))
        return
    if not info.hotfixes_known:
        yield Gap("installed hotfixes unknown: " + ("; ".join(reasons) or "no source answered"))
    elif si_used and info.hotfixes_truncated:
        yield Gap(f"hotfix list incomplete: systeminfo announced {info.hotfixes_declared} but cut its "
                  f"list short ({len(info.hotfixes)} KB ids read)")
    comp = _windows.component(info)
    yield comp
    yield HostFact(V.HOST_OS, comp.description)


# --- macOS -----------------------------------------------------------------------------------------------


def _collect_darwin(ctx: ScanContext) -> Iterator[Item]:
    gaps: List[str] = []
    sw: dict = {}
    sp: dict = {}
    extra: dict = {}
    if ctx.live:
        r = ctx.run(["sw_vers"])
        sw = _darwin.parse_sw_vers(r.stdout) if r.ok else {}
        why = r.why() if not r.ok else "sw_vers output not recognised"
    else:
        why = ""
    if not sw:
        data = _read_bytes(ctx, "/System/Library/CoreServices/SystemVersion.plist", 1 << 20)
        sw = _darwin.parse_system_version_plist(data or b"")
        if not sw and why:
            gaps.append(why)
    if ctx.recorded:
        # The recorded system_profiler report (text, -xml or -json; the newest OS release's
        # first) has the Software overview; nothing of the machine running cbom is asked.
        sp = _recorded_sp_software(ctx)
    elif ctx.live:
        r = ctx.run(["system_profiler", "SPSoftwareDataType"], timeout=20)
        sp = _darwin.parse_sp_software(r.stdout) if r.ok else {}
        if not sp:
            gaps.append("SIP state unknown: " + (r.why() if not r.ok else "system_profiler output not recognised"))
        boot = ctx.run(["sysctl", "-n", "kern.boottime"])
        extra = {
            "kernel": platform.release(),
            "kernel-version": platform.version(),
            "arch": platform.machine(),
            "hostname": socket.gethostname(),
            "boot-time": _darwin.parse_kern_boottime(boot.stdout) if boot.ok else "",
            "locale": os.environ.get("LC_ALL") or os.environ.get("LANG") or "",
        }
    extra["timezone"] = _linux.timezone_from_link(_readlink(ctx, "/etc/localtime"))
    comp = _darwin.component(sw, sp, extra)
    for gap in gaps:
        yield Gap(gap)
    if ctx.recorded:
        name = _recorded_darwin_name(ctx)
        if name:
            yield HostFact("hostname", name)
    if comp is None:
        yield Gap("macOS version unknown: neither sw_vers nor SystemVersion.plist answered")
        return
    yield comp
    yield HostFact(V.HOST_OS, comp.description)


def _recorded_sp_software(ctx: ScanContext) -> dict:
    """The Software overview of the recorded system_profiler reports, in the text labels' keys."""
    for res in reversed(ctx.run_each(["system_profiler"])):
        if not res.ok:
            continue
        if not res.stdout.lstrip().startswith(("<?xml", "<plist", "{", "<!DOCTYPE")):
            sp = _darwin.parse_sp_software(res.stdout)
        else:
            try:
                sp = _darwin.sp_software_structured(res.stdout)
            except ValueError:
                continue
        if sp:
            return sp
    return {}


def _recorded_darwin_name(ctx: ScanContext) -> str:
    """kern.hostname of the recorded `sysctl -a`, else the "Computer Name" of a system_profiler report."""
    res = ctx.run(["sysctl", "-a"])
    if res.ok:
        m = re.search(r"^kern\.hostname\s*[:=]\s?(.*)$", res.stdout, re.MULTILINE)
        return m.group(1).strip() if m else ""
    for res in ctx.run_each(["system_profiler"]):
        m = re.search(r"^\s*Computer Name:\s*(.+)$", res.stdout, re.MULTILINE) if res.ok else None
        if m:
            return m.group(1).strip()
    return ""
