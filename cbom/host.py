"""Where a scan reads the machine from: the host backends behind `ScanContext`.

A collector never runs a command or opens a host file itself: it asks the scan
context, which asks one of these backends (syft's file resolver, psutil's one
backend per platform, distro's `root_dir` are the models):

- `LocalHost`: the machine cbom runs on (root "/"; on Windows the system drive's root,
  `system_root`, never the current drive's: cbom runs from a stick), or a mounted disk image or
  chroot (`--root DIR`: files are read under DIR, and commands, which would
  describe the running machine, are only run where a collector says they apply).
- `RecordedHost`: a folder written by usb_bundle/collect/collect.sh, collect.bat
  or collect.ps1 (or laid out like ../shared/fixtures). A command line is
  answered with the file the script recorded its output in, a host path with the
  recorded copy of that file or folder. The same collectors thus describe a
  recorded machine with the same code as a live one (`cbom ingest DIR`).

The tables below are the contract between the collect scripts and the
collectors: one line per recorded command or file. A third-party collector
whose command the scripts record adds its line with `register_command`.
"""
from __future__ import annotations

import fnmatch
import os
import re
import shutil
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from . import _exec
from .decode import decode_recorded
from .model import Platform
from .recording import Recording

__all__ = ["COMMANDS", "FILES", "HostBackend", "LocalHost", "RecordedHost", "local_root", "means_running_system",
           "register_command", "register_file", "system_root"]

# Command line (a prefix of argv, compared without regard to case) → recorded file names (lower-case
# globs, in order of preference). The longest matching prefix wins.
COMMANDS: Dict[Tuple[str, ...], Tuple[str, ...]] = {
    # Linux and other Unix (collect.sh)
    ("dmidecode",): ("dmidecode.txt", "dmidecode*"),
    ("uname", "-a"): ("uname-a.txt",),
    ("hostname",): ("hostname.txt",),
    ("lspci",): ("lspci-nnmmv*", "lspci-vmmnn*", "lspci-nnvmm*", "lspci-nmmv*", "lspci-v-nn*", "lspci-nnv*", "lspci*"),
    ("lsusb", "-v"): ("lsusb-v*.txt",),
    ("lsusb",): ("lsusb.txt",),
    ("lsblk", "-j"): ("lsblk-j.json", "lsblk*.json"),
    ("lsblk", "-a"): ("lsblk.txt", "lsblk*.txt"),
    ("rpm", "-qai"): ("rpm-qai*", "*rpm-qai*"),
    ("rpm", "-qa"): ("rpm-qa.txt", "*.rpm-qa.txt"),
    ("dpkg-query",): ("*dpkg-query*",),
    ("ip", "addr"): ("ip-addr*.txt",),
    ("ip", "route"): ("ip-route.txt",),
    ("ifconfig",): ("ifconfig-a.txt", "ifconfig*.txt"),
    ("ss",): ("ss-ltnup.txt",),
    ("netstat", "-ltnup"): ("netstat-ltnup.txt",),
    # Windows (collect.bat / collect.ps1): wmic /format:list dumps are named after their class.
    ("wmic", "os"): ("win32_operatingsystem.wmi",),
    ("wmic", "qfe"): ("win32_quickfixengineering.wmi", "wmic-qfe*.txt", "qfe*.txt"),
    ("systeminfo",): ("systeminfo.txt", "systeminfo*.txt"),
    ("ipconfig", "/all"): ("ipconfig-all*.txt", "ipconfig*.txt"),
    ("netstat", "-ano"): ("netstat-ano*.txt", "netstat*.txt"),
    ("driverquery",): ("driverquery*.txt",),
    ("tasklist",): ("tasklist.csv",),
    # Registry exports (collect.bat `reg export KEY FILE`; the live collectors read winreg instead).
    ("reg", "export", "hklm\\software\\microsoft\\windows\\currentversion\\uninstall"): ("uninstall*.reg",),
    ("reg", "export", "hklm\\hardware\\description\\system\\centralprocessor"): ("centralprocessor*.reg",),
    # Security posture and certificate stores (collectors/posture/_windows.py, collectors/crypto/_windows.py).
    # The Run keys are exported one file each: their names differ only in a suffix a glob would mix.
    ("reg", "export", "hklm\\software\\microsoft\\windows\\currentversion\\run"): ("run-hklm.reg",),
    ("reg", "export", "hklm\\software\\microsoft\\windows\\currentversion\\runonce"): ("runonce-hklm.reg",),
    ("reg", "export", "hklm\\software\\wow6432node\\microsoft\\windows\\currentversion\\run"):
        ("run-wow6432node.reg",),
    ("reg", "export", "hklm\\software\\wow6432node\\microsoft\\windows\\currentversion\\runonce"):
        ("runonce-wow6432node.reg",),
    ("reg", "export", "hkcu\\software\\microsoft\\windows\\currentversion\\run"): ("run-hkcu.reg",),
    ("reg", "export", "hkcu\\software\\microsoft\\windows\\currentversion\\runonce"): ("runonce-hkcu.reg",),
    # The whole FirewallPolicy key, or (GLPI agent's test data) one export per profile key.
    ("reg", "export", "hklm\\system\\currentcontrolset\\services\\sharedaccess\\parameters\\firewallpolicy"):
        ("firewallpolicy*.reg", "*profile.reg"),
    ("reg", "export", "hklm\\system\\currentcontrolset\\control\\terminal server"): ("terminalserver*.reg",),
    ("reg", "export", "hklm\\system\\currentcontrolset\\enum\\usbstor"): ("usbstor*.reg",),
    ("net", "user"): ("net-user*.txt",),  # every local account's `net user NAME`, one after the other
    ("net", "localgroup"): ("net-localgroup-administrators*.txt",),  # the S-1-5-32-544 group, localised name
    ("schtasks",): ("schtasks*.csv",),
    # macOS. `system_profiler` alone prints the full text report (GLPI and collect.sh keep it as
    # system_profiler.txt, sometimes one per OS release: system_profiler-10.4.txt); one data type
    # at a time is kept as SP<Type>.xml (`-xml`) or .json.
    ("sw_vers",): ("sw_vers*",),
    ("sysctl",): ("sysctl*",),
    ("ioreg",): ("ioreg*",),
    ("system_profiler",): ("system_profiler*",),
    ("system_profiler", "spapplicationsdatatype"): ("spapplicationsdatatype*",),
    ("system_profiler", "-xml"): ("sp*datatype*.xml", "sp*datatype*.json"),
}
# Windows certificate stores (collectors/crypto/_windows.py): `reg export ROOT\\STORE\\Certificates`, one
# file per store (SystemCertificates-ROOT.reg…), never a whole SystemCertificates key, whose other
# subkeys are no business of an inventory.
CERT_STORE_ROOTS = (("HKLM\\SOFTWARE\\Microsoft\\SystemCertificates", "SystemCertificates"),
                    ("HKLM\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates", "SystemCertificates-Policies"),
                    ("HKLM\\SOFTWARE\\Microsoft\\EnterpriseCertificates", "EnterpriseCertificates"),
                    ("HKCU\\Software\\Microsoft\\SystemCertificates", "SystemCertificates-HKCU"))
CERT_STORES = ("ROOT", "AuthRoot", "CA", "Disallowed", "TrustedPublisher", "TrustedPeople", "My")
for _key, _file in CERT_STORE_ROOTS:
    for _store in CERT_STORES:
        COMMANDS[("reg", "export", f"{_key}\\{_store}\\Certificates".lower())] = (f"{_file}-{_store}.reg".lower(),)
# `wmic path CLASS get ...` → CLASS.wmi (any case): handled by rule, not listed per class.
_WMIC_PATH = ("wmic", "path")

# Host path (a file, or a folder whose whole tree was copied) → recorded names (lower-case globs).
FILES: Dict[str, Tuple[str, ...]] = {
    "/etc/os-release": ("os-release", "*os-release*"),
    "/usr/lib/os-release": ("os-release", "*os-release*"),
    "/etc/lsb-release": ("lsb-release",),
    "/etc/redhat-release": ("redhat-release",),
    "/etc/centos-release": ("centos-release",),
    "/etc/fedora-release": ("fedora-release",),
    "/etc/SuSE-release": ("suse-release",),
    "/etc/debian_version": ("debian_version",),
    "/etc/timezone": ("timezone",),
    "/etc/default/locale": ("locale.conf",),
    "/etc/locale.conf": ("locale.conf",),
    "/etc/resolv.conf": ("resolv.conf",),
    "/etc/selinux/config": ("selinux-config",),
    "/proc/cpuinfo": ("proc-cpuinfo.txt", "*cpuinfo*"),
    "/proc/meminfo": ("proc-meminfo.txt", "*meminfo*"),
    "/proc/modules": ("proc-modules.txt",),
    "/proc/stat": ("proc-stat.txt",),
    "/sys/fs/selinux/enforce": ("selinux-enforce.txt",),
    "/sys/module/apparmor/parameters/enabled": ("apparmor-enabled.txt",),
    "/sys/kernel/security/lsm": ("lsm.txt",),
    "/sys/kernel/security/lockdown": ("lockdown.txt",),
    "/var/lib/dpkg/status": ("dpkg-status", "*dpkg-status*"),
    "/lib/apk/db/installed": ("apk-installed", "*apk-installed*"),
    # Security posture and crypto (collect.sh, collectors/posture, collectors/crypto). /etc/shadow is
    # recorded as shadow-metadata: shadow(5) lines whose password field is only a marker of its
    # state ("", "!", "!redacted", "*", "$redacted$"), never a hash.
    "/etc/passwd": ("passwd",),
    "/etc/group": ("group",),
    "/etc/shadow": ("shadow-metadata",),
    "/etc/login.defs": ("login.defs",),
    "/etc/sudoers": ("sudoers",),
    "/var/log/lastlog": ("lastlog",),
    "/etc/crontab": ("crontab",),
    "/etc/anacrontab": ("anacrontab",),
    "/etc/rc.local": ("rc.local",),
    "/proc/cmdline": ("proc-cmdline.txt",),
    "/proc/net/arp": ("proc-net-arp.txt",),
    "/proc/mounts": ("proc-mounts.txt",),
    "/proc/net/ip_tables_names": ("proc-net-ip_tables_names.txt",),
    "/proc/tty/driver/serial": ("proc-tty-driver-serial.txt",),
    "/etc/fstab": ("fstab",),
    "/etc/hosts": ("hosts",),
    "/etc/crypttab": ("crypttab",),
    "/etc/nftables.conf": ("nftables.conf",),
    "/etc/iptables/rules.v4": ("iptables-rules.v4",),
    "/etc/ufw/ufw.conf": ("ufw.conf",),
    "/etc/apt/sources.list": ("apt-sources.list",),
    "/etc/apt/trusted.gpg": ("apt-trusted.gpg",),
    # Folders collect.sh copies whole, links followed (cp -RL); /etc/ssh holds sshd_config and the
    # public host keys only.
    "/etc/sudoers.d": ("etc-sudoers.d",),
    "/etc/systemd/system": ("etc-systemd-system",),
    "/etc/systemd/user": ("etc-systemd-user",),
    "/usr/lib/systemd/system": ("usr-lib-systemd-system",),
    "/lib/systemd/system": ("usr-lib-systemd-system",),
    "/usr/lib/systemd/user": ("usr-lib-systemd-user",),
    "/lib/systemd/user": ("usr-lib-systemd-user",),
    "/etc/cron.d": ("etc-cron.d",),
    "/etc/cron.hourly": ("etc-cron.hourly",),
    "/etc/cron.daily": ("etc-cron.daily",),
    "/etc/cron.weekly": ("etc-cron.weekly",),
    "/etc/cron.monthly": ("etc-cron.monthly",),
    "/etc/rc2.d": ("etc-rc2.d",),
    "/etc/rc3.d": ("etc-rc3.d",),
    "/etc/rc4.d": ("etc-rc4.d",),
    "/etc/rc5.d": ("etc-rc5.d",),
    "/var/spool/cron/crontabs": ("var-spool-cron-crontabs",),
    "/proc/sys": ("proc-sys",),
    "/sys/class/tty": ("sys-class-tty",),
    "/etc/apt/sources.list.d": ("etc-apt-sources.list.d",),
    "/etc/apt/trusted.gpg.d": ("etc-apt-trusted.gpg.d",),
    "/etc/yum.repos.d": ("etc-yum.repos.d",),
    "/etc/ssl/certs": ("etc-ssl-certs",),
    "/usr/local/share/ca-certificates": ("usr-local-share-ca-certificates",),
    "/etc/pki/ca-trust/source/anchors": ("etc-pki-ca-trust-source-anchors",),
    "/etc/pki/tls/certs": ("etc-pki-tls-certs",),
    "/etc/pki/rpm-gpg": ("etc-pki-rpm-gpg",),
    "/etc/ssh": ("etc-ssh",),
    # Folders collect.sh copies attribute by attribute.
    "/sys/class/dmi/id": ("sys-class-dmi-id",),
    "/sys/block": ("sys-block",),
    "/sys/class/net": ("sys-class-net",),
    "/sys/bus/usb/devices": ("sys-bus-usb-devices",),
    "/sys/devices/system/cpu/vulnerabilities": ("sys-cpu-vulnerabilities",),
}


def register_command(argv_prefix: Sequence[str], names: Sequence[str]) -> None:
    """Teach the recorded backend the file a collect script records `argv_prefix`'s output in."""
    COMMANDS[tuple(a.lower() for a in argv_prefix)] = tuple(n.lower() for n in names)


def register_file(host_path: str, names: Sequence[str]) -> None:
    """Teach the recorded backend the recorded name of a host file or copied folder."""
    FILES[host_path] = tuple(n.lower() for n in names)


class HostBackend:
    """What a collector can ask of the machine it describes."""

    kind = ""  # "local", "image", "recorded"
    root = Path("/")

    @property
    def describes_running_system(self) -> bool:
        """True when commands and /proc describe the scanned machine (not a mounted image)."""
        return True

    def run(self, argv: Sequence[str], timeout: float = _exec.DEFAULT_TIMEOUT) -> _exec.CommandResult:
        raise NotImplementedError

    def run_each(self, argv: Sequence[str], timeout: float = _exec.DEFAULT_TIMEOUT) -> List[_exec.CommandResult]:
        """Every output answering `argv`: one run on a machine; a recording may hold several
        samples of one command (ipconfig-7.txt, ipconfig-10.txt; system_profiler-10.4/-10.5.txt)."""
        return [self.run(argv, timeout=timeout)]

    def resolve(self, path: str) -> Path:
        """The local path holding the scanned machine's `path`, symlinks resolved inside the
        scanned machine (it may not exist). Raises OSError for a link leading out of it or a loop."""
        raise NotImplementedError

    def path(self, path: str) -> Path:
        """A local path holding the scanned machine's `path` (it may not exist). A path that
        `resolve` refuses gives a path that never exists; `read` says why."""
        try:
            return self.resolve(path)
        except OSError:
            return self.root / ".cbom-refused-path"

    def read_bytes(self, path: str, limit: int = _exec.READ_LIMIT, head: bool = False, offset: int = 0) -> bytes:
        """Bytes of the scanned machine's regular file `path` (at most `limit`; its first `limit`
        bytes when `head`, the `limit` bytes from `offset` when given). Raises OSError: also for a
        FIFO, device or socket (never opened), a file past `limit`, a link out of the scanned
        machine or a loop."""
        return _exec.read_local(self.resolve(path), limit, what=path, head=head, offset=offset)

    def read(self, path: str) -> str:
        """Text of the scanned machine's file `path` (any encoding, NULs removed). Raises OSError."""
        return decode_recorded(self.read_bytes(path))

    def listdir(self, path: str) -> List[str]:
        """Sorted names in the scanned machine's folder `path`. Raises OSError."""
        return sorted(os.listdir(self.resolve(path)))

    def is_dir(self, path: str) -> bool:
        try:
            return self.resolve(path).is_dir()
        except OSError:
            return False

    def is_file(self, path: str) -> bool:
        """True for a regular file (a FIFO or a device is not one)."""
        try:
            return self.resolve(path).is_file()
        except OSError:
            return False

    def exists(self, path: str) -> bool:
        try:
            return self.resolve(path).exists()
        except OSError:
            return False

    def readlink(self, path: str) -> str:
        """The text of symlink `path` ("" when it is not one): the link itself is not followed."""
        parent, _, name = path.rstrip("/").rpartition("/")
        try:
            return os.readlink(self.resolve(parent or "/") / name)
        except OSError:
            return ""

    def glob(self, pattern: str) -> List[str]:
        """Host paths matching `pattern` (fnmatch per component, no "**"), found inside the scanned
        machine: a folder symlink such as /home/x -> / is followed inside it, never out of it."""
        found = ["/"]
        for part in [p for p in pattern.split("/") if p]:
            nxt: List[str] = []
            for base in found:
                prefix = base.rstrip("/") + "/"
                if not any(c in part for c in "*?["):
                    nxt.append(prefix + part)
                    continue
                try:
                    names = self.listdir(base)
                except OSError:
                    continue
                nxt.extend(prefix + n for n in names if fnmatch.fnmatchcase(n, part))
            found = nxt
        return [p for p in found if self.exists(p)]

    def which(self, command: str) -> Optional[str]:
        raise NotImplementedError

    def looked_at(self, path: str) -> bool:
        """True when the absence of `path` is known (not merely unrecorded): an absent file then
        means "not there" (SELinux disabled…), not "unknown"."""
        return True

    def read_all(self, path: str) -> List[Tuple[str, str]]:
        """(where, text) of every copy of `path` the host holds: one on a machine, several in a
        folder of recorded samples. Raises OSError when there is none."""
        return [(path, self.read(path))]

    def sys_link(self, path: str) -> Optional[str]:
        """Where sysfs symlink `path` points, relative to /sys ("devices/pci0000:00/…"), or None
        when there is no such link."""
        raise NotImplementedError


def system_root(environ: Mapping[str, str], windows: bool) -> str:
    """The root of the running system's file tree, from its environment: "/" on POSIX; on Windows
    the root of the system drive, "%SystemDrive%\\" (else the drive of %SystemRoot% or %windir%,
    else "C:\\").

    On Windows "/" is the root of the *current* drive: cbom run from a USB stick (E:) would
    inventory the stick. Environment names are compared without regard to case, as Windows does.
    """
    if not windows:
        return "/"
    upper = {k.upper(): v for k, v in environ.items()}
    for name in ("SYSTEMDRIVE", "SYSTEMROOT", "WINDIR"):
        m = re.match(r"^\s*([A-Za-z]):", upper.get(name, ""))
        if m:
            return m.group(1).upper() + ":\\"
    return "C:\\"


def local_root() -> Path:
    """Where the running system's host paths ("/Windows", "/etc/os-release") live on this machine."""
    return Path(system_root(os.environ, os.name == "nt"))


def means_running_system(root: Path) -> bool:
    """True when `root` names the running system: "/" (on Windows also "\\", the current drive's
    root, which is taken to mean the system drive), or the system drive's root itself."""
    root = Path(root)
    if root == Path("/"):
        return True
    return os.name == "nt" and (root == Path("\\") or root == local_root())


class LocalHost(HostBackend):
    """The running machine (root "/": on Windows the system drive's root), or a mounted image /
    chroot at `root` (`--root DIR`)."""

    def __init__(self, root: Path = Path("/")) -> None:
        local = means_running_system(Path(root))
        self.root = local_root() if local else Path(root)
        self.kind = "local" if local else "image"

    @property
    def describes_running_system(self) -> bool:
        return self.kind == "local"

    def run(self, argv: Sequence[str], timeout: float = _exec.DEFAULT_TIMEOUT) -> _exec.CommandResult:
        return _exec.run(argv, timeout=timeout)

    def resolve(self, path: str) -> Path:
        if self.kind == "local":
            return _exec.host_path(self.root, path)  # the running system: its own links are its own
        return _exec.resolve_inside(self.root, path, what=f"the image {self.root}")

    def read(self, path: str) -> str:
        # A Linux system's files are UTF-8: an invalid byte becomes U+FFFD, which parsers report
        # ("non-UTF-8"), rather than a code-page guess made for Windows tools' output.
        return self.read_bytes(path).decode("utf-8", "replace")

    def which(self, command: str) -> Optional[str]:
        return shutil.which(command)

    def sys_link(self, path: str) -> Optional[str]:
        try:
            sys_root = os.path.realpath(self.resolve("/sys"))
            real = os.path.realpath(self.resolve(path))
        except OSError:
            return None
        if real.startswith(sys_root + os.sep) and os.path.exists(real):
            return os.path.relpath(real, sys_root)
        return None


class RecordedHost(HostBackend):
    """A recorded folder answering the collectors' commands and file reads."""

    kind = "recorded"

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.root = recording.path
        self.platform: Optional[Platform] = recording.platform
        # Where a host path that was not recorded points: a path that never exists.
        self._absent = recording.path / ".not-recorded"
        self.used: List[str] = []  # recorded names read so far, in order
        # collect.sh's manifest names the host file each copy came from ("cat /etc/os-release"):
        # those lines, present or not, say exactly where the recording looked.
        self._copied: Dict[str, str] = {}
        for entry in recording.manifest.entries:
            verb, _, path = entry.command.partition(" ")
            if verb == "cat" and path.startswith("/"):
                self._copied.setdefault(path.strip(), entry.file)

    def looked_at(self, path: str) -> bool:
        return path in self._copied

    def _name(self, patterns: Sequence[str]) -> Optional[str]:
        found = self.recording.first(*patterns)
        if found is not None and found not in self.used:
            self.used.append(found)
        return found

    def recorded_name(self, argv: Sequence[str]) -> Tuple[Optional[str], Tuple[str, ...]]:
        """(recorded file answering `argv` or None, the names looked for)."""
        low = tuple(a.lower() for a in argv)
        if low[:2] == _WMIC_PATH and len(low) > 2:
            patterns: Tuple[str, ...] = (f"{low[2]}.wmi",)
        else:
            best = max((k for k in COMMANDS if low[:len(k)] == k), key=len, default=None)
            patterns = COMMANDS[best] if best is not None else ()
        return (self._name(patterns) if patterns else None), patterns

    def run_each(self, argv: Sequence[str], timeout: float = _exec.DEFAULT_TIMEOUT) -> List[_exec.CommandResult]:
        """One result per recorded file answering `argv`, in order of preference then name."""
        _, patterns = self.recorded_name(argv)
        names = self.recording.find(*patterns) if patterns else []
        for name in names:
            if name not in self.used:
                self.used.append(name)
        return [self._answer(tuple(argv), name) for name in names] or [self.run(argv, timeout=timeout)]

    def run(self, argv: Sequence[str], timeout: float = _exec.DEFAULT_TIMEOUT) -> _exec.CommandResult:
        argv = tuple(argv)
        name, patterns = self.recorded_name(argv)
        if name is None:
            failed = self._failed_without_output(argv, patterns)
            if failed is not None:
                return failed
            where = f" ({patterns[0]} absent)" if patterns else ""
            line = " ".join(argv)
            line = line if len(line) <= 80 else line[:77] + "…"  # PowerShell scripts are long
            return _exec.CommandResult(argv, 127, "", "", error=f"`{line}` was not recorded{where}")
        return self._answer(argv, name)

    def _failed_without_output(self, argv: Tuple[str, ...], patterns: Sequence[str]) -> Optional[_exec.CommandResult]:
        """The recorded failure of a command whose output file is absent: collect.bat deletes the
        empty output of a refused `wmic` and keeps its exit code (manifest) and stderr (FILE.stderr),
        which say why better than "not recorded"."""
        for entry in self.recording.manifest.entries:
            if entry.rc in ("0", "") or not any(fnmatch.fnmatch(entry.file.lower(), p) for p in patterns):
                continue
            rc = int(entry.rc) if entry.rc.lstrip("-").isdigit() else 1
            return _exec.CommandResult(argv, rc or 1, "", self.recording.text(entry.file + ".stderr"))
        return None

    def _answer(self, argv: Tuple[str, ...], name: str) -> _exec.CommandResult:
        try:
            data = self.recording.data(name)
        except OSError as exc:
            return _exec.CommandResult(argv, 126, "", "", error=f"{name}: unreadable: {exc.strerror or exc}")
        failed = self.recording.failed(name)
        rc = int(failed.rc) if failed is not None and failed.rc.lstrip("-").isdigit() else 0
        stderr = self.recording.text(name + ".stderr") if rc else ""
        return _exec.CommandResult(argv, rc, decode_recorded(data), stderr, raw=data)

    def resolve(self, path: str) -> Path:
        mapped = self._mapped(path)
        base = self.recording.path
        if mapped == base or base in mapped.parents:
            return self.recording.local(mapped.relative_to(base).as_posix())
        return mapped

    def _mapped(self, path: str) -> Path:
        """Where the recording keeps host path `path`, symlinks not resolved."""
        clean = "/" + path.strip("/")
        if clean in self._copied:
            name = self._copied[clean]
            if self.recording.has(name) and name not in self.used:
                self.used.append(name)
            return self.recording.path / name if self.recording.has(name) else self._absent / clean.lstrip("/")
        if clean in FILES:
            found = self._name(FILES[clean])
            if found is not None:
                return self.recording.path / found
            folder = self._folder(FILES[clean])
            return folder if folder is not None else self._absent
        # Inside a copied folder: /sys/class/net/eth0/address → sys-class-net/eth0/address; the
        # attributes of a link's parent ("device/../vendor") were copied under "parent/".
        for prefix, names in FILES.items():
            if clean.startswith(prefix + "/"):
                folder = self._folder(names)
                if folder is not None:
                    return folder / clean[len(prefix) + 1:].replace("device/../", "parent/")
        return self._absent / clean.lstrip("/")

    def read_all(self, path: str) -> List[Tuple[str, str]]:
        clean = "/" + path.strip("/")
        names = self.recording.find(*FILES.get(clean, ()))
        if not names:
            return [(path, self.read(path))]
        out = []
        for name in names:
            if name not in self.used:
                self.used.append(name)
            out.append((name, decode_recorded(self.recording.data(name))))
        return out

    def sys_link(self, path: str) -> Optional[str]:
        # collect.sh cannot keep symlinks on a FAT stick: it writes the resolved target of
        # X/device as the file X/device-path, and the names of device/driver and
        # device/subsystem as the files X/driver and X/subsystem.
        clean = path.rstrip("/")
        for suffix, recorded in (("/device", "/device-path"), ("/device/driver", "/driver"),
                                 ("/device/subsystem", "/subsystem")):
            if clean.endswith(suffix):
                try:
                    target = self.read(clean[:-len(suffix)] + recorded).strip()
                except OSError:
                    return None
                return target or None
        return None

    def _folder(self, names: Sequence[str]) -> Optional[Path]:
        for low in names:
            for entry in self.recording.names():
                if fnmatch.fnmatchcase(entry.lower(), low):
                    folder = self.recording.folder(entry)
                    if folder is not None:
                        return folder
        return None

    def read_bytes(self, path: str, limit: int = _exec.READ_LIMIT, head: bool = False, offset: int = 0) -> bytes:
        p = self.resolve(path)
        if not os.path.lexists(p):
            raise FileNotFoundError(2, "not recorded", path)
        return _exec.read_local(p, limit, what=path, head=head, offset=offset)

    def which(self, command: str) -> Optional[str]:
        low = command.lower()
        if low == "wmic" and any(n.lower().endswith(".wmi") for n in self.recording.names()):
            return "recorded:wmic"
        for prefix, patterns in COMMANDS.items():
            if prefix[0] == low and self.recording.find(*patterns):
                return f"recorded:{command}"
        return None
