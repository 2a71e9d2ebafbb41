"""Pure parsers for what starts by itself and for serial ports on Linux (text in, values out).

systemd.unit(5) / systemd.timer(5) key files, crontab(5) in its system (/etc/crontab, cron.d:
with a user column) and user (/var/spool/cron/crontabs: without) forms, anacrontab(5),
/proc/tty/driver/serial (drivers/tty/serial/8250, one "N: uart:TYPE port:ADDR irq:N" line per
port), crypttab(5); lastlog, /proc/net/arp, hosts(5), /proc/mounts and fstab(5), apt and yum
package sources, and the PCI/USB vendor ids of field-bus interface makers (each cited below).
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

__all__ = ["CronJob", "LastLogon", "Mount", "Neighbour", "PackageSource", "is_fieldbus", "lastlog_record_size",
           "parse_anacrontab", "parse_crontab", "parse_crypttab", "parse_deb822_sources", "parse_hosts",
           "parse_lastlog", "parse_mounts", "parse_proc_arp", "parse_proc_serial", "parse_sources_list", "parse_unit",
           "parse_yum_repo", "uart_name"]


def _lines(text: str) -> Iterator[str]:
    """The stripped lines of a configuration file that are neither blank nor a # comment."""
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            yield line


def parse_unit(text: str) -> Dict[str, List[str]]:
    """"Section.Key" -> values of a systemd unit file (continuation lines joined, comments dropped)."""
    out: Dict[str, List[str]] = {}
    section = ""
    text = re.sub(r"\\\n", " ", text)
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        if sep:
            out.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return out


@dataclass(frozen=True)
class CronJob:
    schedule: str  # "17 * * * *", "@reboot", "daily"
    user: str  # "" in a user crontab (the file's owner runs it)
    command: str


_SPECIAL = re.compile(r"^@(reboot|yearly|annually|monthly|weekly|daily|midnight|hourly)\s+(.*)$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\s*=")


def parse_crontab(text: str, system: bool) -> List[CronJob]:
    """Jobs of a crontab; `system` for /etc/crontab and /etc/cron.d files, which name the user."""
    jobs = []
    for line in _lines(text):
        if _ENV.match(line):
            continue
        m = _SPECIAL.match(line)
        if m:
            schedule, rest = "@" + m.group(1), m.group(2)
        else:
            parts = line.split(None, 5)
            if len(parts) < 6:
                continue
            schedule, rest = " ".join(parts[:5]), parts[5]
        user = ""
        if system:
            user, _, rest = rest.partition(" ")
            if not rest.strip():
                continue
        jobs.append(CronJob(schedule, user, rest.strip()))
    return jobs


def parse_anacrontab(text: str) -> List[CronJob]:
    """anacrontab lines: PERIOD DELAY JOB-ID COMMAND (run as root)."""
    jobs = []
    for line in _lines(text):
        if _ENV.match(line):
            continue
        parts = line.split(None, 3)
        if len(parts) == 4:
            jobs.append(CronJob(f"anacron {parts[0]} (delay {parts[1]} min, {parts[2]})", "root", parts[3]))
    return jobs


def parse_proc_serial(text: str) -> Dict[int, Dict[str, str]]:
    """Line number -> {"uart": "16550A", "port": "000003F8", "irq": "4", "mmio": …} of real ports only.

    The 8250 driver registers nr_uarts placeholders (4 by default, CONFIG_SERIAL_8250_RUNTIME_UARTS)
    whatever the hardware; they read "uart:unknown" and are not ports.
    """
    out: Dict[int, Dict[str, str]] = {}
    for line in text.splitlines():
        m = re.match(r"^(\d+):\s+(.*)$", line.strip())
        if not m:
            continue
        fields = dict(re.findall(r"(\w+):(\S+)", m.group(2)))
        if fields.get("uart", "unknown") != "unknown":
            out[int(m.group(1))] = fields
    return out


# include/uapi/linux/serial_core.h PORT_* numbers, as /sys/class/tty/ttyS*/type prints them.
_UARTS = {1: "8250", 2: "16450", 3: "16550", 4: "16550A", 5: "Cirrus", 6: "16650", 7: "16650V2", 8: "16750",
          9: "Startech", 10: "16C950/954", 11: "16654", 12: "16850", 13: "RSA", 14: "NS16550A", 15: "XScale",
          16: "RM9000", 17: "OCTEON", 18: "AR7", 19: "U6_16550A", 20: "Tegra", 21: "XR17D15X", 22: "LPC3220",
          23: "8250_CIR", 24: "XR17V35X", 25: "BRCM_TRUMANAGE", 26: "ALTR_16550_F32", 27: "ALTR_16550_F64",
          28: "ALTR_16550_F128", 29: "RT2880", 30: "16550A_FSL64"}


def uart_name(sys_type: str) -> str:
    """The UART name of a sysfs `type` value ("4" -> "16550A"); "" for 0 (PORT_UNKNOWN) or garbage."""
    try:
        n = int(sys_type.strip())
    except ValueError:
        return ""
    return _UARTS.get(n, f"type {n}") if n else ""


def parse_crypttab(text: str) -> List[Tuple[str, str, str]]:
    """(mapped name, device, options) of each crypttab(5) line."""
    out = []
    for line in _lines(text):
        parts = line.split()
        if len(parts) >= 2:
            out.append((parts[0], parts[1], parts[3] if len(parts) > 3 else ""))
    return out


# --- last logon, neighbours, hosts, mounts, package sources, field-bus ids -------------------------
#
# glibc <bits/utmp.h> (included by <lastlog.h>): struct lastlog { ll_time; char ll_line[UT_LINESIZE=32];
# char ll_host[UT_HOSTSIZE=256]; }, one record per uid at offset uid * sizeof. ll_time is an int32_t
# where __WORDSIZE_TIME64_COMPAT32 is set (x86-64, and every 32-bit ABI): 292 bytes; a 64-bit
# time_t elsewhere (aarch64, ppc64, s390x): 296 bytes with alignment.
LASTLOG_RECORD = 292
LASTLOG_RECORD_TIME64 = 296


@dataclass(frozen=True)
class LastLogon:
    time: int  # seconds since the epoch, UTC
    line: str  # "pts/0", "tty1"
    host: str  # remote host name or address, "" for a local console


def parse_lastlog(data: bytes, record: int = LASTLOG_RECORD) -> Dict[int, LastLogon]:
    """uid -> last logon of a /var/log/lastlog image (records with a zero time never logged on)."""
    out: Dict[int, LastLogon] = {}
    fmt = "<i" if record == LASTLOG_RECORD else "<q"
    at = 4 if record == LASTLOG_RECORD else 8
    for uid in range(len(data) // record):
        chunk = data[uid * record:(uid + 1) * record]
        when = struct.unpack_from(fmt, chunk)[0]
        if when <= 0:
            continue
        line = chunk[at:at + 32].split(b"\0", 1)[0].decode("utf-8", "replace")
        host = chunk[at + 32:at + 288].split(b"\0", 1)[0].decode("utf-8", "replace")
        out[uid] = LastLogon(when, line, host)
    return out


def lastlog_record_size(size: int, machine: str = "") -> int:
    """The record size of a lastlog file of `size` bytes on a machine of `uname -m` `machine`."""
    if machine in ("aarch64", "ppc64", "ppc64le", "s390x", "riscv64", "mips64", "loongarch64", "sparc64"):
        return LASTLOG_RECORD_TIME64
    if size % LASTLOG_RECORD and not size % LASTLOG_RECORD_TIME64:
        return LASTLOG_RECORD_TIME64
    return LASTLOG_RECORD


@dataclass(frozen=True)
class Neighbour:
    ip: str
    mac: str
    device: str
    state: str  # "complete", "permanent", "incomplete"


def parse_proc_arp(text: str) -> List[Neighbour]:
    """/proc/net/arp (net/ipv4/arp.c arp_seq_show: "IP address HW type Flags HW address Mask Device";
    flags from include/uapi/linux/if_arp.h: ATF_COM 0x02 complete, ATF_PERM 0x04 permanent)."""
    out = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 6:
            continue
        try:
            flags = int(parts[2], 16)
        except ValueError:
            continue
        state = "permanent" if flags & 0x04 else "complete" if flags & 0x02 else "incomplete"
        out.append(Neighbour(parts[0], parts[3].lower(), parts[5], state))
    return out


def parse_hosts(text: str) -> List[Tuple[str, Tuple[str, ...]]]:
    """(address, names) of each hosts(5) line."""
    out = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].split()
        if len(line) >= 2:
            out.append((line[0], tuple(line[1:])))
    return out


def _unescape(field: str) -> str:
    """fstab(5)/proc/mounts octal escapes (\\040 for a space)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    fstype: str
    options: Tuple[str, ...]


def parse_mounts(text: str) -> List[Mount]:
    """Entries of /proc/mounts or fstab(5): device, mount point, type, options (comments skipped)."""
    out = []
    for line in _lines(text):
        parts = line.split()
        if len(parts) >= 4:
            out.append(Mount(_unescape(parts[0]), _unescape(parts[1]), parts[2], tuple(parts[3].split(","))))
        elif len(parts) == 3:
            out.append(Mount(_unescape(parts[0]), _unescape(parts[1]), parts[2], ("defaults",)))
    return out


@dataclass(frozen=True)
class PackageSource:
    kind: str  # "deb", "deb-src", "rpm-md" (yum/dnf)
    uri: str
    suite: str = ""  # apt suite, or the yum repository id
    components: Tuple[str, ...] = ()
    signed_by: str = ""
    trusted: bool = False  # apt [trusted=yes]: no signature check
    gpgcheck: Optional[bool] = None  # yum/dnf: None when not stated
    enabled: bool = True


def parse_sources_list(text: str) -> List[PackageSource]:
    """One-line apt sources (sources.list(5)): `deb [opt=val …] URI SUITE [COMPONENT…]`."""
    out = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        m = re.match(r"^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$", line)
        if not m:
            continue
        opts = dict(o.partition("=")[::2] for o in (m.group(2) or "").split())
        out.append(PackageSource(m.group(1), m.group(3), m.group(4), tuple(m.group(5).split()),
                                 signed_by=opts.get("signed-by", ""), trusted=opts.get("trusted", "") == "yes"))
    return out


def parse_deb822_sources(text: str) -> List[PackageSource]:
    """deb822 apt sources (sources.list(5) "DEB822-STYLE FORMAT"): stanzas of Types, URIs, Suites,
    Components, Signed-By (a path or an inline key block), Trusted, Enabled."""
    out = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: Dict[str, str] = {}
        key = ""
        for raw in stanza.splitlines():
            if raw.startswith("#"):
                continue
            if raw[:1] in (" ", "\t") and key:
                fields[key] += "\n" + raw.strip()
                continue
            k, sep, v = raw.partition(":")
            if sep:
                key = k.strip().lower()
                fields[key] = v.strip()
        if not fields.get("uris"):
            continue
        signed = fields.get("signed-by", "")
        signed = "inline key" if "BEGIN PGP" in signed else signed
        for kind in fields.get("types", "deb").split():
            for uri in fields["uris"].split():
                for suite in fields.get("suites", "").split() or [""]:
                    out.append(PackageSource(kind, uri, suite, tuple(fields.get("components", "").split()),
                                             signed_by=signed, trusted=fields.get("trusted", "").lower() == "yes",
                                             enabled=fields.get("enabled", "yes").lower() != "no"))
    return out


def parse_yum_repo(text: str) -> List[PackageSource]:
    """Repositories of a yum/dnf .repo file (dnf.conf(5): [id] sections, baseurl / mirrorlist /
    metalink, enabled, gpgcheck; 0/1, yes/no, true/false)."""
    out = []
    for section, body in re.findall(r"^\s*\[([^\]]+)\]\s*$(.*?)(?=^\s*\[|\Z)", text, re.M | re.S):
        fields = {}
        for raw in body.splitlines():
            k, sep, v = raw.partition("=")
            if sep and not raw.lstrip().startswith(("#", ";")):
                fields[k.strip().lower()] = v.strip()
        uri = fields.get("baseurl") or fields.get("mirrorlist") or fields.get("metalink") or ""
        gpg = fields.get("gpgcheck")
        out.append(PackageSource("rpm-md", uri.split()[0] if uri else "", section.strip(),
                                 gpgcheck=None if gpg is None else gpg.lower() in ("1", "yes", "true"),
                                 enabled=fields.get("enabled", "1").lower() in ("1", "yes", "true")))
    return out


# Field-bus / industrial-communication makers whose every PCI or USB function is such an interface,
# by vendor id as pci.ids and usb.ids (collectors/data, IDS_SOURCES.md) list them: PCI 15cf Hilscher
# Gesellschaft für Systemautomation mbH, 001c PEAK-System Technik GmbH, 1a07 Kvaser AB, 1bee IXXAT
# Automation GmbH, 14a0 SOFTING GmBH, 13c3 Janz Computer AG, 12fe ESD Electronic System Design GmbH,
# 19e2 Vector Informatik GmbH; USB 0c72 PEAK System, 0bfd Kvaser AB, 08d8 IXXAT Automation GmbH,
# 077e Softing AG. Siemens (PCI 110a, USB 0908 "Siemens AG") makes much else: only its devices the
# ids files name "SIMATIC NET" (CP 5611/5621, CP 5613/5614, CP 5622/5623, CP 5711…) count.
FIELDBUS_VENDORS = {
    "pci": frozenset({"15cf", "001c", "1a07", "1bee", "14a0", "13c3", "12fe", "19e2"}),
    "usb": frozenset({"0c72", "0bfd", "08d8", "077e"}),
}
FIELDBUS_BY_NAME = {"pci": frozenset({"110a"}), "usb": frozenset({"0908"})}


def is_fieldbus(bus: str, vendor: str, device_name: str) -> bool:
    """True for a PCI/USB function of a field-bus interface maker (vendor id lower-case hex, no 0x;
    `device_name` as the ids file names the device)."""
    vendor = vendor.lower()
    if vendor in FIELDBUS_VENDORS.get(bus, ()):
        return True
    return vendor in FIELDBUS_BY_NAME.get(bus, ()) and "SIMATIC NET" in device_name
