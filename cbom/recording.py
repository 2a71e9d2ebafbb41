"""A recorded folder: its files, its manifest, the platform it came from.

A recording is what collect.sh / collect.bat / collect.ps1 wrote on the stick
(one folder per machine), or any folder laid out like ../shared/fixtures/:
files named after the command that made them (`systeminfo.txt`,
`Win32_BIOS.wmi`, `Uninstall.reg`, `dmidecode.txt`, `proc-cpuinfo.txt`,
`lspci-nnmmv.txt`, `dpkg-status`, `sw_vers.txt`…). Names are matched without
regard to case (`Win32_Bios.wmi` from a Proxmox guest) and variants of one
source (`systeminfo-cmd.txt`, `lspci-v-nn.txt`) are recognised by prefix.

The recording is read through `cbom.host.RecordedHost`, which answers the
collectors' commands and file reads from it, so the live collectors describe a
recorded machine with the same code. Files are read bounded (MAX_FILE) and
decoded with `cbom.decode.decode_recorded`.
"""
from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from cbom import vocabulary as V

from . import _exec
from .decode import control_free, decode_recorded
from .model import Platform

__all__ = ["EXPECTED", "ManifestEntry", "Recording", "altered_files", "describe", "detect_platform", "missing_files",
           "parse_manifest", "wmi_datetime"]

MAX_FILE = _exec.READ_LIMIT  # a recorded file larger than this is not a command output we know

# Names that tell the platform apart (lower-case glob patterns).
_WINDOWS = ("*.wmi", "*.reg", "systeminfo*", "wmic-*", "ipconfig*", "netstat-ano*", "driverquery*")
_DARWIN = ("sw_vers*", "system_profiler*", "sp*datatype*", "ioreg*", "networksetup*", "vm_stat*", "dscl-*")
_LINUX = ("os-release", "proc-*", "dmidecode*", "lspci*", "lsusb*", "lsblk*", "*dpkg*", "*rpm-q*",
          "apk-installed", "ip-addr*", "uname-a*", "sys-class-dmi-id")


@dataclass(frozen=True)
class ManifestEntry:
    """One line of manifest.txt: which file, which exit code, when, made by which command."""

    file: str
    rc: str
    time: str
    command: str


@dataclass
class Manifest:
    script: str = ""  # "collect.sh version 1"
    host: str = ""
    started: str = ""
    finished: str = ""
    header: Dict[str, str] = field(default_factory=dict)
    entries: List[ManifestEntry] = field(default_factory=list)


def parse_manifest(text: str) -> Manifest:
    """manifest.txt of collect.sh/.bat/.ps1: '#' header lines, then FILE<TAB>RC<TAB>TIME<TAB>COMMAND.

    Header: "# script collect.sh version 1; host vm; started 20261123T201330Z; uid 0"
    and "# finished 2026-11-23T20:13:30Z". Unknown lines are ignored.
    """
    m = Manifest()
    for raw in text.replace("\r", "").split("\n"):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            body = line.lstrip("#").strip()
            for part in body.split(";"):
                key, _, value = part.strip().partition(" ")
                if key in ("script", "host", "started", "finished", "uid", "user", "admin", "os"):
                    m.header[key] = value.strip()
            continue
        cols = raw.split("\t")
        if len(cols) >= 4:
            m.entries.append(ManifestEntry(cols[0].strip(), cols[1].strip(), cols[2].strip(), "\t".join(cols[3:]).strip()))
    m.script = m.header.get("script", "")
    m.host = m.header.get("host", "")
    m.started = m.header.get("started", "")
    m.finished = m.header.get("finished", "")
    return m


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name.lower(), p) for p in patterns)


def detect_platform(names: Sequence[str], script: str = "", os_name: str = "") -> Optional[Platform]:
    """The platform a recording comes from: the manifest's `os` (uname -s), its script, else its file names."""
    if os_name.lower() == "darwin":
        return Platform.DARWIN
    s = script.lower()
    if s.startswith(("collect.bat", "collect.ps1")):
        return Platform.WINDOWS
    if s.startswith("collect.sh"):
        return Platform.LINUX
    if s.startswith("collect-macos"):
        return Platform.DARWIN
    score = {p: sum(_matches(n, pats) for n in names) for p, pats in
             ((Platform.WINDOWS, _WINDOWS), (Platform.DARWIN, _DARWIN), (Platform.LINUX, _LINUX))}
    best = max(score, key=lambda p: score[p])
    return best if score[best] else None


class Recording:
    """The files of one recorded folder (top level, plus the sysfs copy folders of collect.sh)."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(2, "no such folder", path)
        if not self.path.is_dir():
            raise NotADirectoryError(20, "not a folder (a recording is the folder collect.sh wrote)", path)
        self._files: Dict[str, Path] = {}
        for p in sorted(self.path.iterdir()):
            self._files[p.name.lower()] = p
        # What each entry is once its symlinks are resolved inside the recording: "dir", "file",
        # or "other" (a FIFO, a device, a link out of the folder or in a loop: listed, refused on reading).
        self._kinds: Dict[str, str] = {low: self._kind(p.name) for low, p in self._files.items()}
        # Problems with the folder itself (an unreadable manifest), reported by the `recording` collector.
        self.problems: List[str] = []
        text = ""
        if self.has("manifest.txt"):
            try:
                text = decode_recorded(self.data("manifest.txt"))
            except OSError as exc:
                self.problems.append(f"manifest.txt: {exc.strerror or exc}")
        self.manifest = parse_manifest(text) if text else Manifest()
        known = _WINDOWS + _DARWIN + _LINUX + ("manifest.txt", "sha256sums*", "*.stderr")
        # Files named otherwise (collections of samples, hand-made folders): recognised by their content.
        self.sniffed: Dict[str, str] = {}
        for low, p in self._files.items():
            if self._kinds[low] == "file" and not _matches(low, known):
                kind = sniff(self._head(p))
                if kind:
                    self.sniffed[p.name] = kind
        self.platform = detect_platform(self.names() + sorted(set(self.sniffed.values())), self.manifest.script,
                                        self.manifest.header.get("os", ""))

    def local(self, relative: str) -> Path:
        """The local path of `relative` (a name, or a path inside a copied folder), symlinks
        resolved inside the recording. Raises OSError for a link out of it (absolute or
        climbing) or a loop: a recording copied to the auditor's machine has no "/" of its own."""
        return _exec.resolve_inside(self.path, relative, what="the recording", absolute_links=False)

    def _kind(self, name: str) -> str:
        try:
            p = self.local(name)
            if p.is_dir():
                return "dir"
            return "file" if p.is_file() else "other"
        except OSError:
            return "other"

    def _head(self, p: Path) -> str:
        try:
            with os.fdopen(_exec._open_regular(self.local(p.name), p.name), "rb") as f:
                return decode_recorded(f.read(4096))
        except OSError:
            return ""

    def names(self) -> List[str]:
        """Names of the top-level entries, as written (not lower-cased)."""
        return [p.name for p in self._files.values()]

    def find(self, *patterns: str) -> List[str]:
        """Names (as written) matching any lower-case glob pattern, in pattern order then name order."""
        out: List[str] = []
        for pat in patterns:
            for low, p in self._files.items():
                alias = self.sniffed.get(p.name, "")
                if low.endswith(".stderr"):
                    continue  # what the command said on stderr (collect.sh keeps it beside the output)
                if (fnmatch.fnmatchcase(low, pat) or (alias and fnmatch.fnmatchcase(alias, pat))) \
                        and p.name not in out and self._kinds[low] != "dir":
                    out.append(p.name)
        return out

    def first(self, *patterns: str) -> Optional[str]:
        found = self.find(*patterns)
        return found[0] if found else None

    def has(self, name: str) -> bool:
        return name.lower() in self._files

    def folder(self, name: str) -> Optional[Path]:
        p = self._files.get(name.lower())
        return self.local(p.name) if p is not None and self._kinds[name.lower()] == "dir" else None

    def data(self, name: str) -> bytes:
        """Raw bytes of a top-level file (at most MAX_FILE). Raises OSError: also for a FIFO, a device,
        a larger file or a link out of the recording, each named in the message."""
        p = self._files.get(name.lower())
        if p is None:
            raise FileNotFoundError(2, "not in the recording", name)
        return _exec.read_local(self.local(p.name), MAX_FILE, what=p.name)

    def text(self, name: str) -> str:
        """Decoded text of a file ('' when absent or unreadable)."""
        try:
            return decode_recorded(self.data(name))
        except OSError:
            return ""

    def recorded(self, name: str) -> bool:
        """True when the manifest says the script tried to record `name` (present or not)."""
        return any(e.file.lower() == name.lower() for e in self.manifest.entries)

    def why_failed(self, name: str) -> str:
        """'`dmidecode` exited 1: /dev/mem: No such file…' for a failed command, else ''."""
        e = self.failed(name)
        if e is None:
            return ""
        # The last line says what went wrong (wmic's error block ends with "Description = Invalid
        # query" after a "Node - PC" line; dmidecode's one line is "/dev/mem: No such file…").
        lines = [ln.strip() for ln in control_free(self.text(name + ".stderr"), keep_lines=True).splitlines()]
        err = next((ln for ln in reversed(lines) if ln), "")
        rc = _exec.exit_status(int(e.rc)) if re.fullmatch(r"-?\d+", e.rc.strip()) else e.rc
        return f"`{e.command}` exited {rc}" + (f": {err}" if err else "")

    def failed(self, name: str) -> Optional[ManifestEntry]:
        """The manifest line of `name` when its command failed (non-zero exit code)."""
        for e in self.manifest.entries:
            if e.file.lower() == name.lower() and e.rc not in ("0", ""):
                return e
        return None


def sniff(head: str) -> str:
    """The collect.sh name of a file recognised by its first lines ('' when not recognised)."""
    if re.search(r"^(processor|cpu|Processor|vendor_id|cpu family)\s*:", head, re.MULTILINE) and \
            re.search(r"^(model name|cpu model|Hardware|BogoMIPS|bogomips|cpu MHz|platform|vendor_id|features)\s*:",
                      head, re.MULTILINE | re.IGNORECASE):
        return "proc-cpuinfo.txt"
    if re.search(r"^# dmidecode|^Handle 0x[0-9A-Fa-f]+", head, re.MULTILINE):
        return "dmidecode.txt"
    return ""


# What collect.sh / collect.bat / collect.ps1 write; any of the alternatives in a tuple will do.
EXPECTED: Dict[Platform, Tuple[Tuple[str, ...], ...]] = {
    Platform.LINUX: (
        ("os-release", "lsb-release", "redhat-release", "debian_version"),
        ("uname-a.txt",),
        ("proc-cpuinfo.txt",),
        ("proc-meminfo.txt",),
        ("dmidecode.txt", "sys-class-dmi-id"),
        ("lspci-nnmmv.txt",),
        ("lsblk-J.json", "lsblk.txt"),
        ("dpkg-status", "rpm-qai.txt", "apk-installed"),
        ("ip-addr.txt", "ifconfig-a.txt"),
    ),
    Platform.WINDOWS: (
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
    ),
    Platform.DARWIN: (
        ("sw_vers.txt",),
        ("system_profiler.txt", "system_profiler.xml", "SPHardwareDataType.xml"),
        ("SPApplicationsDataType.xml",),
        ("ifconfig.txt", "ifconfig-a.txt"),
    ),
}

# Which recorded names some collector reads (for the cbom:recorded:file / :unused properties).
_USED: Dict[Platform, Tuple[str, ...]] = {
    Platform.WINDOWS: ("*.wmi", "systeminfo*.txt", "wmic-qfe*.txt", "qfe*.txt", "uninstall*.reg", "centralprocessor*.reg",
                       "dmidecode*", "ipconfig*.txt", "netstat*.txt", "tasklist.csv",
                       # posture and certificate stores (collectors/posture/_windows.py, collectors/crypto/_windows.py)
                       "net-user*.txt", "net-localgroup-administrators*.txt", "schtasks*.csv", "run*.reg",
                       "firewallpolicy*.reg", "*profile.reg", "terminalserver*.reg", "usbstor*.reg",
                       "systemcertificates*.reg", "enterprisecertificates*.reg"),
    Platform.LINUX: ("os-release", "*os-release*", "lsb-release", "*-release", "debian_version", "uname-a.txt",
                     "hostname.txt", "timezone", "proc-cpuinfo.txt", "*cpuinfo*", "proc-meminfo.txt", "*meminfo*",
                     "proc-modules.txt", "dmidecode*", "sys-*", "boot-mode.txt", "lspci*", "lsusb-v*.txt", "lsusb.txt",
                     "lsblk*", "*dpkg-status*", "*rpm-q*", "*apk-installed*", "*dpkg-query*", "ip-addr*.txt",
                     "ip-route.txt", "ifconfig*.txt", "resolv.conf", "ss-ltnup.txt", "netstat-ltnup.txt"),
    Platform.DARWIN: ("sw_vers*", "system_profiler*", "sp*datatype*", "sysctl*", "ioreg*", "ifconfig*.txt",
                      # posture and trust store (collectors/posture/_darwin.py, collectors/crypto/_darwin.py)
                      "dscl-*", "launchctl-list*", "fdesetup-status*", "csrutil-status*", "spctl-status*",
                      "socketfilterfw-*", "systemsetup-*", "security-system*", "library-launch*",
                      "system-library-launch*", "launchd-disabled.plist", "com.apple.alf.plist"),
}
# The WMI classes a collector reads (a *.wmi file of another class is recorded but unused).
WMI_CLASSES = ("win32_baseboard", "win32_bios", "win32_computersystem", "win32_computersystemproduct",
               "win32_diskdrive", "win32_networkadapter", "win32_networkadapterconfiguration", "win32_operatingsystem",
               "win32_physicalmemory", "win32_pnpentity", "win32_processor", "win32_quickfixengineering",
               "win32_videocontroller", "win32_useraccount", "win32_group", "win32_service", "win32_startupcommand",
               "win32_encryptablevolume")
_OWN_FILES = {"manifest.txt", "sha256sums", "sha256sums.txt"}


def missing_files(rec: Recording, platform: Platform) -> List[str]:
    """Expected files (first alternative named) of which no alternative is in the recording."""
    present = {n.lower() for n in rec.names()}
    return [alts[0] for alts in EXPECTED[platform] if not any(a.lower() in present for a in alts)]


def used_files(rec: Recording, platform: Platform) -> List[str]:
    """Recorded names some collector reads."""
    out = []
    for name in rec.names():
        low = name.lower()
        if _matches(low, _USED[platform]):
            if platform == Platform.WINDOWS and low.endswith(".wmi") and low[:-4] not in WMI_CLASSES:
                continue
            out.append(name)
    return out


def altered_files(rec: Recording) -> List[Tuple[str, str]]:
    """(name, why) of files that do not match the recording's SHA256SUMS ("hex  name" lines), or
    cannot be checked against it (a FIFO, a link out of the folder, a file past MAX_FILE)."""
    out: List[Tuple[str, str]] = []
    text = rec.text("SHA256SUMS") if rec.has("SHA256SUMS") else ""
    for line in text.split("\n"):
        digest, _, name = line.strip().partition("  ")
        name = name.lstrip("*")
        if name.lower() == "manifest.txt":
            continue  # collect.sh version 1 appended its last line after hashing it
        if len(digest) != 64 or not name:
            continue
        try:
            local = rec.local(name)
            if not os.path.lexists(local):
                continue  # a missing file is reported as missing, not as altered
            actual = hashlib.sha256(_exec.read_local(local, MAX_FILE, what=name)).hexdigest()
        except OSError as exc:
            out.append((name, f"cannot be checked: {exc.strerror or exc}"))
            continue
        if actual != digest.lower():
            out.append((name, "does not match its SHA256SUMS line (altered or damaged since recording)"))
    return out


def wmi_datetime(value: str) -> str:
    """A CIM DATETIME ("20130822204218.500000+120", offset in minutes) as UTC ISO 8601, or ""."""
    m = re.match(r"^(\d{14})\.\d{6}([+-])(\d{3})$", value.strip())
    if not m:
        return ""
    try:
        when = datetime.strptime(m.group(1), "%Y%m%d%H%M%S")
    except ValueError:
        return ""
    offset = int(m.group(3)) * (1 if m.group(2) == "+" else -1)
    return (when - timedelta(minutes=offset)).replace(tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_time(value: str) -> str:
    """The scripts' times as ISO 8601: '20261123T201330Z' (collect.sh), a CIM datetime (collect.bat)."""
    v = value.strip()
    m = re.match(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$", v)
    if m:
        return "{}-{}-{}T{}:{}:{}Z".format(*m.groups())
    return wmi_datetime(v) or v


def describe(rec: Recording, platform: Platform) -> List[Tuple[str, str]]:
    """Document properties saying where a recorded scan comes from and what the recording lacked."""
    props: List[Tuple[str, str]] = [(V.SOURCE, "recorded"), (V.RECORDED_PLATFORM, platform.value),
                                    (V.RECORDED_FOLDER, rec.path.resolve().name)]
    m = rec.manifest
    if m.script:
        props.append((V.RECORDED_SCRIPT, m.script))
    if m.started:
        props.append((V.RECORDED_TIME, iso_time(m.started)))
    if m.finished:
        props.append((V.RECORDED_FINISHED, iso_time(m.finished)))
    if m.header.get("uid"):
        props.append((V.RECORDED_UID, m.header["uid"]))
    if m.header.get("admin"):
        props.append((V.RECORDED_ADMIN, m.header["admin"]))
    for name in missing_files(rec, platform):
        props.append((V.RECORDED_MISSING, name))
    for e in m.entries:
        if e.rc not in ("0", ""):
            props.append((V.RECORDED_FAILED, f"{e.file} (exit {e.rc}: {e.command})"))
    used = used_files(rec, platform)
    for name in sorted(rec.names(), key=str.lower):
        if name.lower() in _OWN_FILES or name.lower().endswith(".stderr"):
            continue
        props.append((V.RECORDED_FILE if name in used else V.RECORDED_UNUSED, name))
    return props
