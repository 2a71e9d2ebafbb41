"""Pure parsers for what starts by itself and for serial ports on Linux (text in, values out).

systemd.unit(5) / systemd.timer(5) key files, crontab(5) in its system (/etc/crontab, cron.d:
with a user column) and user (/var/spool/cron/crontabs: without) forms, anacrontab(5),
/proc/tty/driver/serial (drivers/tty/serial/8250, one "N: uart:TYPE port:ADDR irq:N" line per
port), crypttab(5).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Tuple

__all__ = ["CronJob", "parse_crontab", "parse_anacrontab", "parse_crypttab", "parse_proc_serial", "parse_unit",
           "uart_name"]


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
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or _ENV.match(line):
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
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or _ENV.match(line):
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
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) >= 2:
            out.append((parts[0], parts[1], parts[3] if len(parts) > 3 else ""))
    return out
