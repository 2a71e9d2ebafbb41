"""The `ingest` collector: a CBOM from a folder of recorded command outputs (`cbom ingest DIR`).

For machines that cannot run cbom (Windows XP/2003, old Linux, sites that
forbid foreign executables): the auditor runs usb_bundle/collect/collect.bat,
collect.ps1 or collect.sh there, which use only the OS's own commands and
write one folder per machine; `cbom ingest` then builds the same components,
host facts and findings as a live scan, with the live collectors' own pure
parsers, on any other machine, offline. A file that cannot be parsed becomes
a gap naming it; the expected files that are missing are listed in one gap.

Not a default collector: `cbom scan` never runs it; `cbom ingest DIR` runs it
alone with ctx.options["recorded"] = DIR and ctx.platform = recorded_platform(DIR).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, List, Tuple

from cbom.collector import Collector, ScanContext
from cbom.model import Gap, Item, Platform

from ..hardware._common import Redactor
from . import _common, _darwin, _linux, _windows
from ._recording import Recording

__all__ = ["IngestCollector"]

_EXPECTED = {Platform.LINUX: _linux.EXPECTED, Platform.WINDOWS: _windows.EXPECTED, Platform.DARWIN: _darwin.EXPECTED}
_IMPL = {Platform.LINUX: _linux, Platform.WINDOWS: _windows, Platform.DARWIN: _darwin}
_OWN_FILES = {"manifest.txt", "sha256sums", "sha256sums.txt"}


class IngestCollector(Collector):
    """Everything the live collectors would say, read from a recorded folder."""

    name = "ingest"
    description = "build the inventory from outputs recorded by collect.sh / collect.bat / collect.ps1 (cbom ingest)"
    platforms = frozenset(Platform)
    default = False
    timeout = 300.0  # a 500-program Uninstall export and a 700-package dpkg status take about a second
    cli_options = (
        (("--recorded",), {"metavar": "DIR", "default": None,
                           "help": "read this folder recorded by collect.sh/.bat/.ps1 instead of the machine"}),
    )

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        folder = ctx.option("recorded") or (str(ctx.root) if not ctx.live else None)
        if not folder:
            yield Gap("no recorded folder given (use `cbom ingest DIR` or --recorded DIR)")
            return
        try:
            rec = Recording(str(folder))
        except OSError as exc:
            yield Gap(f"recorded folder unreadable: {exc}")
            return
        platform = rec.platform or ctx.platform
        if platform not in _IMPL:
            yield Gap(f"{folder}: no file recognised as a recorded command output")
            return
        absent = missing_files(rec, platform)
        if absent:
            yield Gap(f"expected files missing from the recording: {', '.join(absent)}")
        for name in altered_files(rec):
            yield Gap(f"{name}: does not match its SHA256SUMS line (altered or damaged since recording)")
        try:
            yield from _IMPL[platform].items(rec, Redactor.from_options(ctx.options))
        except Exception as exc:  # a parser bug must not lose the rest of the folder's gaps/items
            yield Gap(f"ingest stopped early: {type(exc).__name__}: {exc}")

    @classmethod
    def recorded_platform(cls, path: str) -> Platform:
        """The platform the folder was recorded on. Raises ValueError when nothing in it is recognised."""
        rec = Recording(path)
        if rec.platform is None:
            raise ValueError("no file recognised as a recorded command output "
                             "(expected systeminfo.txt, *.wmi, dmidecode.txt, os-release, sw_vers.txt…)")
        return rec.platform

    @classmethod
    def describe_recording(cls, path: str) -> Tuple[str, List[Tuple[str, str]]]:
        """(host name, document properties) of a recorded folder. Raises OSError/ValueError."""
        rec = Recording(path)
        platform = cls.recorded_platform(path)
        host = rec.manifest.host
        if platform == Platform.WINDOWS:
            host = _windows.host_name(rec) or host
        elif platform == Platform.DARWIN:
            host = _darwin.host_name(rec) or host
        else:
            host = rec.text("hostname.txt").strip().split("\n")[0].strip() or host
        host = host or Path(path).resolve().name or "recorded-host"
        props: List[Tuple[str, str]] = [("cbom:source", "recorded"), ("cbom:recorded:platform", platform.value),
                                        ("cbom:recorded:folder", Path(path).resolve().name)]
        m = rec.manifest
        if m.script:
            props.append(("cbom:recorded:script", m.script))
        if m.started:
            props.append(("cbom:recorded:time", iso_time(m.started)))
        if m.finished:
            props.append(("cbom:recorded:finished", iso_time(m.finished)))
        if m.header.get("uid"):
            props.append(("cbom:recorded:uid", m.header["uid"]))
        if m.header.get("admin"):
            props.append(("cbom:recorded:admin", m.header["admin"]))
        for name in missing_files(rec, platform):
            props.append(("cbom:recorded:missing", name))
        for e in m.entries:
            if e.rc not in ("0", ""):
                props.append(("cbom:recorded:failed", f"{e.file} (exit {e.rc}: {e.command})"))
        used = used_files(rec, platform)
        for name in sorted(rec.names(), key=str.lower):
            if name.lower() in _OWN_FILES or name.lower().endswith(".stderr"):
                continue
            props.append(("cbom:recorded:file" if name in used else "cbom:recorded:unused", name))
        return host, props


def iso_time(value: str) -> str:
    """The scripts' times as ISO 8601: '20261123T201330Z' (collect.sh), a CIM datetime (collect.bat)."""
    import re

    from ..osinfo._windows import wmi_datetime

    v = value.strip()
    m = re.match(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$", v)
    if m:
        return "{}-{}-{}T{}:{}:{}Z".format(*m.groups())
    return wmi_datetime(v) or v


def altered_files(rec: Recording) -> List[str]:
    """Files whose SHA-256 differs from the recording's SHA256SUMS ("hex  name" lines)."""
    import hashlib

    out = []
    text = rec.text("SHA256SUMS") if rec.has("SHA256SUMS") else ""
    for line in text.split("\n"):
        digest, _, name = line.strip().partition("  ")
        name = name.lstrip("*")
        if name.lower() == "manifest.txt":
            continue  # collect.sh version 1 appended its last line after hashing it
        if len(digest) != 64 or not name or "/" in name.strip("./") and not rec.path.joinpath(name).is_file():
            continue
        try:
            with open(rec.path / name, "rb") as f:
                actual = hashlib.sha256(f.read()).hexdigest()
        except OSError:
            continue  # a missing file is reported as missing, not as altered
        if actual != digest.lower():
            out.append(name)
    return out


def missing_files(rec: Recording, platform: Platform) -> List[str]:
    present = {n.lower(): True for n in rec.names()}
    return _common.missing(_EXPECTED[platform], present)


# Which recorded names some parser reads (for the cbom:recorded:file / :unused properties).
_USED = {
    Platform.WINDOWS: ("*.wmi", "systeminfo*.txt", "wmic-qfe*.txt", "qfe*.txt", "uninstall*.reg", "centralprocessor*.reg",
                       "dmidecode*", "ipconfig*.txt", "netstat*.txt", "tasklist.csv"),
    Platform.LINUX: ("os-release", "*os-release*", "lsb-release", "*-release", "debian_version", "uname-a.txt",
                     "hostname.txt", "timezone", "proc-cpuinfo.txt", "*cpuinfo*", "proc-meminfo.txt", "*meminfo*",
                     "proc-modules.txt", "dmidecode*", "sys-*", "boot-mode.txt", "lspci*", "lsusb-v*.txt", "lsusb.txt",
                     "lsblk*", "*dpkg-status*", "*rpm-q*", "*apk-installed*", "*dpkg-query*", "ip-addr*.txt",
                     "ip-route.txt", "ifconfig*.txt", "resolv.conf", "ss-ltnup.txt", "netstat-ltnup.txt"),
    Platform.DARWIN: ("sw_vers*", "system_profiler*", "sp*datatype*", "sysctl*", "ioreg*", "ifconfig*.txt"),
}


def used_files(rec: Recording, platform: Platform) -> List[str]:
    import fnmatch

    pats = _USED[platform]
    out = []
    for name in rec.names():
        low = name.lower()
        if any(fnmatch.fnmatchcase(low, p) for p in pats):
            if platform == Platform.WINDOWS and low.endswith(".wmi") and low[:-4] not in _windows._CLASSES:
                continue
            out.append(name)
    return out
