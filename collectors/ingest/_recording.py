"""A recorded folder: its files, its manifest, the platform it came from.

A recording is what collect.sh / collect.bat / collect.ps1 wrote on the stick
(one folder per machine), or any folder laid out like ../shared/fixtures/:
files named after the command that made them (`systeminfo.txt`,
`Win32_BIOS.wmi`, `Uninstall.reg`, `dmidecode.txt`, `proc-cpuinfo.txt`,
`lspci-nnmmv.txt`, `dpkg-status`, `sw_vers.txt`…). Names are matched without
regard to case (`Win32_Bios.wmi` from a Proxmox guest) and variants of one
source (`systeminfo-cmd.txt`, `lspci-v-nn.txt`) are recognised by prefix.

Reading the recording is not reading the scanned host: the folder is opened
directly (bounded size), decoded with `collectors._text.decode_recorded`.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from cbom.model import Platform

from .._text import decode_recorded

__all__ = ["ManifestEntry", "Recording", "detect_platform", "parse_manifest"]

MAX_FILE = 64 << 20  # a recorded file larger than this is not a command output we know

# Names that tell the platform apart (lower-case glob patterns).
_WINDOWS = ("*.wmi", "*.reg", "systeminfo*", "wmic-*", "ipconfig*", "netstat-ano*", "driverquery*")
_DARWIN = ("sw_vers*", "system_profiler*", "sp*datatype*", "ioreg*", "networksetup*", "vm_stat*")
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
        if not self.path.is_dir():
            raise OSError(f"{path}: not a folder")
        self._files: Dict[str, Path] = {}
        for p in sorted(self.path.iterdir()):
            self._files[p.name.lower()] = p
        text = self.text("manifest.txt")
        self.manifest = parse_manifest(text) if text else Manifest()
        known = _WINDOWS + _DARWIN + _LINUX + ("manifest.txt", "sha256sums*", "*.stderr")
        # Files named otherwise (collections of samples, hand-made folders): recognised by their content.
        self.sniffed: Dict[str, str] = {}
        for low, p in self._files.items():
            if p.is_file() and not _matches(low, known):
                kind = sniff(self._head(p))
                if kind:
                    self.sniffed[p.name] = kind
        self.platform = detect_platform(self.names() + sorted(set(self.sniffed.values())), self.manifest.script, self.manifest.header.get("os", ""))

    @staticmethod
    def _head(p: Path) -> str:
        try:
            with open(p, "rb") as f:
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
                        and p.name not in out and p.is_file():
                    out.append(p.name)
        return out

    def first(self, *patterns: str) -> Optional[str]:
        found = self.find(*patterns)
        return found[0] if found else None

    def has(self, name: str) -> bool:
        return name.lower() in self._files

    def folder(self, name: str) -> Optional[Path]:
        p = self._files.get(name.lower())
        return p if p is not None and p.is_dir() else None

    def data(self, name: str) -> bytes:
        """Raw bytes of a top-level file. Raises OSError."""
        p = self._files.get(name.lower())
        if p is None:
            raise FileNotFoundError(name)
        with open(p, "rb") as f:
            return f.read(MAX_FILE)

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
        err = self.text(name + ".stderr").strip().split("\n")[0].strip()
        return f"`{e.command}` exited {e.rc}" + (f": {err}" if err else "")

    def failed(self, name: str) -> Optional[ManifestEntry]:
        """The manifest line of `name` when its command failed (non-zero exit code)."""
        for e in self.manifest.entries:
            if e.file.lower() == name.lower() and e.rc not in ("0", ""):
                return e
        return None


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


def sniff(head: str) -> str:
    """The collect.sh name of a file recognised by its first lines ('' when not recognised)."""
    if re.search(r"^(processor|cpu|Processor|vendor_id|cpu family)\s*:", head, re.MULTILINE) and \
            re.search(r"^(model name|cpu model|Hardware|BogoMIPS|bogomips|cpu MHz|platform|vendor_id|features)\s*:",
                      head, re.MULTILINE | re.IGNORECASE):
        return "proc-cpuinfo.txt"
    if re.search(r"^# dmidecode|^Handle 0x[0-9A-Fa-f]+", head, re.MULTILINE):
        return "dmidecode.txt"
    return ""


def uname_fields(text: str) -> Tuple[str, str, str]:
    """(kernel release, kernel version, machine) of `uname -a` output (GNU or busybox)."""
    parts = text.strip().split()
    if len(parts) < 3:
        return "", "", ""
    release = parts[2]
    tail = parts[3:]
    for suffix in ("GNU/Linux", "Linux"):
        if tail and tail[-1] == suffix:
            tail = tail[:-1]
    # GNU: "... x86_64 x86_64 x86_64" (machine, processor, platform; the last two may be "unknown").
    while len(tail) > 1 and tail[-1] in ("unknown",):
        tail = tail[:-1]
    machine = ""
    arch_re = re.compile(r"^(x86_64|i[3-6]86|aarch64|armv\w+|arm64|ppc\w*|s390x?|mips\w*|riscv\w+|sparc\w*|ia64|alpha|loongarch64)$")
    while tail and arch_re.match(tail[-1]):
        machine = tail.pop()
    return release, " ".join(tail), machine
