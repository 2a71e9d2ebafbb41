"""The `posture.*` collectors: who can log on, what starts by itself, serial ports, security settings.

- posture.accounts: passwd/shadow/group/sudoers (never a password hash: only set / locked /
  none / empty and the ageing dates), administrators and why, the last logon (lastlog), one
  component per account.
- posture.startup: enabled systemd units read from disk (/etc/systemd/system/*.wants, so it
  works under --root and without D-Bus), SysV rc links, cron, anacron, rc.local.
- posture.serial: serial ports of the running kernel with their UART type (16550A…), USB-serial
  adapters with their USB ids, CAN interfaces, field-bus cards recognised by PCI/USB vendor id.
- posture.settings: security sysctls, firewall rules present, disk encryption, remote-access
  software and whether it starts by itself, the neighbour (ARP) table, /etc/hosts entries, mounts
  with their options, package sources; machine-wide, so host facts.

Accounts and startup items are components of `POSTURE_CATEGORY` with a `cbom:posture:kind`
property (cbom.posture_view selects them by it); serial ports are hardware.
"""
from __future__ import annotations

import platform
import posixpath
import re
from datetime import datetime, timezone
from typing import Dict, Iterator, List, Optional, Set, Tuple

from cbom import vocabulary as V
from cbom.collector import Collector, Note, ScanContext
from cbom.model import Category, Component, Finding, Gap, HostFact, Item, Kind, Platform, Severity, make_ref

from . import _accounts, _darwin, _linux, _windows
from ._common import POSTURE_CATEGORY, _gaps, _listdir, _read, _small, sudo_grants, unrecorded

__all__ = ["COLLECTORS", "POSTURE_CATEGORY", "PostureAccounts", "PostureSerial", "PostureSettings", "PostureStartup"]

# --- accounts --------------------------------------------------------------------------------------


class PostureAccounts(Collector):
    name = "posture.accounts"
    description = "local accounts and groups: password set/locked/empty and ageing (never the hash), administrators"
    platforms = frozenset({Platform.LINUX, Platform.WINDOWS, Platform.DARWIN})
    timeout = 60.0  # Windows: PowerShell CIM and schtasks take seconds each

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        if ctx.platform == Platform.WINDOWS:  # Win32 classes, registry, net/schtasks (collectors/posture/_windows.py)
            return _windows.collect_accounts(ctx, self.name)
        if ctx.platform == Platform.DARWIN:  # dscl, launchd plists, socketfilterfw… (collectors/posture/_darwin.py)
            return _darwin.collect_accounts(ctx, self.name)
        return collect_accounts(ctx)


# Groups whose members are root in all but name (sudo/wheel/admin by convention, docker and lxd
# by design: they start containers with the host's / mounted), or read what only root should.
PRIVILEGED_GROUPS = ("root", "sudo", "wheel", "admin", "adm", "docker", "lxd", "incus-admin", "libvirt", "disk",
                     "shadow", "systemd-journal")


def _group_components(groups: List[_accounts.Group], accounts: List[_accounts.Account],
                      sudo_groups: Set[str]) -> Iterator[Component]:
    """Groups with members, and every privileged group: members listed explicitly and by primary gid."""
    for g in groups:
        members = sorted(set(g.members) | {a.name for a in accounts if a.gid == g.gid})
        privileged = g.name in PRIVILEGED_GROUPS or g.name in sudo_groups
        if not (g.members or privileged):
            continue
        props: List[Tuple[str, str]] = [(V.POSTURE_KIND, "group"), (V.GROUP_GID, str(g.gid))]
        props += [(V.GROUP_MEMBER, m) for m in members]
        if g.name in sudo_groups:
            props.append((V.ACCOUNT_ADMIN, f"sudoers %{g.name}"))
        elif privileged:
            props.append((V.ACCOUNT_ADMIN, "privileged group"))
        yield Component(category=POSTURE_CATEGORY, kind=Kind.DATA, name=g.name, ref=make_ref("group", g.name),
                        properties=tuple(props))


def collect_accounts(ctx: ScanContext) -> Iterator[Item]:
    """One component per /etc/passwd account, with findings for empty passwords and extra uid 0."""
    gaps: List[str] = []
    missing = unrecorded(ctx, "account files", "/etc/passwd")
    if missing:
        yield missing
        return
    text = _read(ctx, "/etc/passwd", gaps)
    if text is None:
        yield Gap("no /etc/passwd: accounts unknown")
        yield from _gaps(gaps)
        return
    accounts = _accounts.parse_passwd(text)
    shadow_text = _read(ctx, "/etc/shadow", gaps, "password states and ageing unknown (needs root)")
    shadow = _accounts.parse_shadow(shadow_text) if shadow_text is not None else {}
    groups = _accounts.parse_group(_read(ctx, "/etc/group", gaps) or "")
    by_gid = {g.gid: g.name for g in groups}
    member_of: Dict[str, List[str]] = {}
    for g in groups:
        for m in g.members:
            member_of.setdefault(m, []).append(g.name)
    defs = _accounts.parse_login_defs(_read(ctx, "/etc/login.defs", gaps) or "")
    uid_min = int(defs.get("UID_MIN", "1000")) if defs.get("UID_MIN", "").isdigit() else 1000
    sudo_users, sudo_groups, _ = sudo_grants(ctx, gaps)
    logons = last_logons(ctx, accounts, gaps)
    empty: List[Tuple[str, str]] = []
    never: List[Tuple[str, str]] = []
    for acct in accounts:
        props: List[Tuple[str, str]] = [(V.POSTURE_KIND, "account"), (V.ACCOUNT_UID, str(acct.uid)),
                                        (V.ACCOUNT_GID, str(acct.gid)), (V.ACCOUNT_HOME, acct.home),
                                        (V.ACCOUNT_SHELL, acct.shell)]
        login = _accounts.login_shell(acct.shell)
        props.append((V.ACCOUNT_LOGIN, str(login).lower()))
        system = acct.uid < uid_min or acct.name == "nobody"
        props.append((V.ACCOUNT_SYSTEM, str(system).lower()))
        if acct.gecos.split(",")[0]:
            props.append((V.ACCOUNT_FULL_NAME, acct.gecos.split(",")[0]))
        sh = shadow.get(acct.name)
        state = sh.password if sh else ("unknown" if shadow_text is None else "none")
        props.append((V.ACCOUNT_PASSWORD, state))
        if sh is not None:
            if sh.changed:
                props.append((V.ACCOUNT_PASSWORD_CHANGED, sh.changed.isoformat()))
            # 99999 days is shadow's "never" (login.defs PASS_MAX_DAYS default).
            props.append((V.ACCOUNT_PASSWORD_MAX_DAYS, "never" if sh.max_days is None or sh.max_days >= 99999
                          else str(sh.max_days)))
            if sh.expires:
                props.append((V.ACCOUNT_EXPIRES, sh.expires.isoformat()))
        names = sorted(set(member_of.get(acct.name, [])) | ({by_gid[acct.gid]} if acct.gid in by_gid else set()))
        props += [(V.ACCOUNT_GROUP, g) for g in names]
        admin = (["uid 0"] if acct.uid == 0 else []) + (["sudoers"] if acct.name in sudo_users else []) + \
            [f"sudoers %{g}" for g in names if g in sudo_groups]
        props += [(V.ACCOUNT_ADMIN, why) for why in admin]
        if logons is not None and acct.uid in logons:
            props.append((V.ACCOUNT_LAST_LOGON, logons[acct.uid]))
        elif logons is not None and login:
            props.append((V.ACCOUNT_LAST_LOGON, "never"))  # lastlog(8): **Never logged in**
        comp = Component(category=POSTURE_CATEGORY, kind=Kind.DATA, name=acct.name, description=acct.gecos,
                         ref=make_ref("account", acct.name), properties=tuple(props))
        yield comp
        if state == "empty" and login:
            empty.append((acct.name, comp.ref))
        if acct.uid == 0 and acct.name != "root":
            yield Finding(id="CBOM-ACCOUNT-EXTRA-UID0", title=f"account {acct.name} has uid 0 (root's powers)",
                          severity=Severity.HIGH, evidence=("/etc/passwd",), refs=(comp.ref,),
                          collector=PostureAccounts.name)
        if sh is not None and state == "set" and login and (sh.max_days is None or sh.max_days >= 99999):
            never.append((acct.name, comp.ref))
    yield from _group_components(groups, accounts, sudo_groups)
    for name, ref in empty:
        yield Finding(id="CBOM-ACCOUNT-EMPTY-PASSWORD", title=f"account {name} logs on without a password",
                      severity=Severity.HIGH, detail="empty password field in /etc/shadow",
                      evidence=("/etc/shadow",), refs=(ref,), collector=PostureAccounts.name)
    if never:
        yield Finding(id="CBOM-ACCOUNT-PASSWORD-NEVER-EXPIRES", severity=Severity.LOW,
                      title=f"{len(never)} account(s) with a password that never expires",
                      detail=", ".join(n for n, _ in never), evidence=("/etc/shadow",),
                      refs=tuple(r for _, r in never), collector=PostureAccounts.name)
    yield from _gaps(gaps)


# --- startup ---------------------------------------------------------------------------------------


class PostureStartup(Collector):
    name = "posture.startup"
    description = "what starts by itself: enabled systemd units (from disk), SysV links, cron, anacron, rc.local"
    platforms = frozenset({Platform.LINUX, Platform.WINDOWS, Platform.DARWIN})
    timeout = 60.0  # Windows: PowerShell CIM and schtasks take seconds each

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        if ctx.platform == Platform.WINDOWS:  # Win32 classes, registry, net/schtasks (collectors/posture/_windows.py)
            return _windows.collect_startup(ctx, self.name)
        if ctx.platform == Platform.DARWIN:  # dscl, launchd plists, socketfilterfw… (collectors/posture/_darwin.py)
            return _darwin.collect_startup(ctx, self.name)
        return collect_startup(ctx)


# systemd.unit(5) "Unit File Load Path", system manager, most specific first.
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
             "/usr/lib/systemd/system", "/lib/systemd/system")
ENABLE_DIRS = ("/etc/systemd/system", "/etc/systemd/user")
UNIT_TYPES = {"service": "systemd-service", "timer": "systemd-timer", "socket": "systemd-socket",
              "path": "systemd-path", "target": "systemd-target", "mount": "systemd-mount",
              "automount": "systemd-automount", "swap": "systemd-swap"}


def _startup(kind: str, name: str, path: str, extra: List[Tuple[str, str]], description: str = "") -> Component:
    props = [(V.POSTURE_KIND, "startup"), (V.STARTUP_TYPE, kind)] + extra + [(V.STARTUP_PATH, path)]
    return Component(category=POSTURE_CATEGORY, kind=Kind.APPLICATION, name=name, description=description,
                     ref=make_ref("startup", kind, name, path if kind.startswith("cron") else ""),
                     properties=tuple(props),
                     )


def _unit_file(ctx: ScanContext, unit: str, link_target: str) -> str:
    """Host path of `unit`'s file: the enablement link's target when absolute, else the load path."""
    if link_target.startswith("/") and link_target != "/dev/null" and ctx.is_file(link_target):
        return link_target
    template = re.sub(r"@[^.]+\.", "@.", unit)  # getty@tty1.service is instantiated from getty@.service
    # The user manager's load path (systemd.unit(5)) too: a recording's copied links have no target.
    for folder in UNIT_DIRS + ("/etc/systemd/user", "/usr/lib/systemd/user", "/lib/systemd/user"):
        for name in (unit, template):
            path = posixpath.join(folder, name)
            if ctx.is_file(path):
                return path
    return ""


def _systemd(ctx: ScanContext, gaps: List[str]) -> Iterator[Item]:
    enabled: Dict[str, Tuple[List[str], str, str]] = {}  # unit -> (wanted-by, link target, manager)
    for base in ENABLE_DIRS:
        manager = "user" if base.endswith("/user") else "system"
        for folder in _listdir(ctx, base, gaps):
            if not folder.endswith((".wants", ".requires", ".upholds")):
                continue
            owner = folder.rsplit(".", 1)[0]
            for unit in _listdir(ctx, posixpath.join(base, folder), gaps):
                entry = enabled.setdefault(unit, ([], ctx.readlink(posixpath.join(base, folder, unit)), manager))
                entry[0].append(owner)
    for unit in sorted(enabled):
        owners, link, manager = enabled[unit]
        path = _unit_file(ctx, unit, link)
        kind = UNIT_TYPES.get(unit.rsplit(".", 1)[-1], "systemd-unit")
        extra = [(V.STARTUP_WANTED_BY, o) for o in sorted(owners)]
        description = ""
        if path:
            text = _read(ctx, path, gaps)
            if text is not None:
                keys = _linux.parse_unit(text)
                description = (keys.get("Unit.Description") or [""])[0]
                exe = [v for v in keys.get("Service.ExecStart", []) if v]
                if exe:
                    extra.append((V.STARTUP_COMMAND, exe[-1]))
                if keys.get("Service.User"):
                    extra.append((V.STARTUP_USER, keys["Service.User"][-1]))
                for k in ("Timer.OnCalendar", "Timer.OnBootSec", "Timer.OnUnitActiveSec"):
                    extra += [(V.STARTUP_SCHEDULE, f"{k.split('.')[1]}={v}") for v in keys.get(k, []) if v]
            extra.append((V.STARTUP_ORIGIN, "local" if path.startswith(("/etc/", "/usr/local/")) else "vendor"))
        else:
            gaps.append(f"enabled unit {unit} has no unit file (dangling link {link or '?'})")
        if manager == "user":
            extra.append((V.STARTUP_USER, "every user (systemd --user)"))
        yield _startup(kind, unit, path or link, extra, description)


def _sysv(ctx: ScanContext, gaps: List[str]) -> Iterator[Item]:
    levels: Dict[str, List[str]] = {}
    for level in ("2", "3", "4", "5"):
        for name in _listdir(ctx, f"/etc/rc{level}.d", gaps):
            m = re.match(r"^S\d\d(.+)$", name)
            if m:
                levels.setdefault(m.group(1), []).append(level)
    for script in sorted(levels):
        yield _startup("sysv", script, f"/etc/init.d/{script}",
                       [(V.STARTUP_SCHEDULE, "runlevels " + ",".join(levels[script]))])


def _cron(ctx: ScanContext, gaps: List[str]) -> Iterator[Item]:
    files = [("/etc/crontab", True)] + [(posixpath.join("/etc/cron.d", n), True)
                                        for n in _listdir(ctx, "/etc/cron.d", gaps) if not n.startswith(".")]
    for spool in ("/var/spool/cron/crontabs", "/var/spool/cron"):
        files += [(posixpath.join(spool, n), False) for n in _listdir(ctx, spool, gaps)
                  if ctx.is_file(posixpath.join(spool, n))]
    for path, system in files:
        text = _read(ctx, path, gaps)
        if text is None:
            continue
        for job in _linux.parse_crontab(text, system):
            user = job.user or posixpath.basename(path)
            yield _startup("cron", job.command[:120], path, [(V.STARTUP_SCHEDULE, job.schedule),
                                                             (V.STARTUP_USER, user), (V.STARTUP_COMMAND, job.command)])
    anacron = _read(ctx, "/etc/anacrontab", gaps)
    for job in _linux.parse_anacrontab(anacron or ""):
        yield _startup("anacron", job.command[:120], "/etc/anacrontab",
                       [(V.STARTUP_SCHEDULE, job.schedule), (V.STARTUP_USER, job.user), (V.STARTUP_COMMAND, job.command)])
    for period in ("hourly", "daily", "weekly", "monthly"):
        folder = f"/etc/cron.{period}"
        for name in _listdir(ctx, folder, gaps):
            # run-parts(8) skips names with dots and the placeholder .placeholder.
            if name.startswith(".") or "." in name:
                continue
            yield _startup("cron-script", name, posixpath.join(folder, name),
                           [(V.STARTUP_SCHEDULE, period), (V.STARTUP_USER, "root")])
    if ctx.is_file("/etc/rc.local"):
        yield _startup("rc.local", "rc.local", "/etc/rc.local", [(V.STARTUP_USER, "root")])


def collect_startup(ctx: ScanContext) -> Iterator[Item]:
    """Every item the machine starts by itself, read from disk."""
    missing = unrecorded(ctx, "startup configuration", "/etc/systemd/system", "/etc/crontab", "/etc/cron.d",
                         "/etc/rc2.d")
    if missing:
        yield missing
        return
    gaps: List[str] = []
    yield from _systemd(ctx, gaps)
    yield from _sysv(ctx, gaps)
    yield from _cron(ctx, gaps)
    yield from _gaps(gaps)


# --- serial ports ----------------------------------------------------------------------------------


class PostureSerial(Collector):
    name = "posture.serial"
    description = "serial ports of the running kernel (UART type), USB-serial and CAN adapters: the field-bus side"
    platforms = frozenset({Platform.LINUX})
    timeout = 10.0

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        return collect_serial(ctx)


def _usb_parent(ctx: ScanContext, device: str) -> Optional[Tuple[str, str, str]]:
    """(vendor id, product id, /sys path) of the USB device above sysfs device path `device`
    ("devices/…/1-1/1-1:1.0/ttyUSB0": usb-serial's port sits under the interface, ACM's tty at it)."""
    parts = device.strip("/").split("/")
    for up in range(1, 4):
        if len(parts) <= up:
            break
        folder = "/sys/" + "/".join(parts[:-up])
        vendor = (_read(ctx, folder + "/idVendor", []) or "").strip()
        if vendor:
            return vendor, (_read(ctx, folder + "/idProduct", []) or "").strip(), folder
    return None


def _fieldbus_cards(ctx: ScanContext, gaps: List[str]) -> Iterator[Item]:
    """PCI and USB functions of field-bus interface makers (vendor ids: _linux.FIELDBUS_VENDORS)."""
    from .. import _ids

    for bus, folder, vendor_file, device_file in (("pci", "/sys/bus/pci/devices", "vendor", "device"),
                                                  ("usb", "/sys/bus/usb/devices", "idVendor", "idProduct")):
        db = None
        for addr in _listdir(ctx, folder, gaps):
            vendor = (_read(ctx, f"{folder}/{addr}/{vendor_file}", []) or "").strip().lower().replace("0x", "")
            if not vendor or (vendor not in _linux.FIELDBUS_VENDORS[bus] and vendor not in _linux.FIELDBUS_BY_NAME[bus]):
                continue
            device = (_read(ctx, f"{folder}/{addr}/{device_file}", []) or "").strip().lower().replace("0x", "")
            db = db or _ids.load(bus)
            label = db.device(vendor, device)
            if not _linux.is_fieldbus(bus, vendor, label):
                continue
            maker = db.vendor(vendor)
            props: List[Tuple[str, str]] = [(V.DEVICE_TYPE, "fieldbus"), (V.BUS, bus), (V.BUS_ADDRESS, addr),
                                            (V.PCI_ID if bus == "pci" else V.USB_ID, f"{vendor}:{device}")]
            driver = posixpath.basename(ctx.sys_link(f"{folder}/{addr}/driver") or "")
            if driver:
                props.append((V.DRIVER, driver))
            yield Component(category=Category.HARDWARE, kind=Kind.DEVICE, manufacturer=maker,
                            name=label or f"{vendor}:{device}",
                            ref=make_ref("hardware", "fieldbus", bus, addr), properties=tuple(props))


def collect_serial(ctx: ScanContext) -> Iterator[Item]:
    """Ports under /sys/class/tty that have a device behind them and a known UART (8250 family), or
    a USB/ACM/other serial driver; CAN interfaces from /sys/class/net/*/type 280 (ARPHRD_CAN)."""
    if not ctx.live:
        yield Note("serial ports are read from the running kernel (/sys), not from an image")
        return
    missing = unrecorded(ctx, "serial port listing", "/sys/class/tty", "/proc/tty/driver/serial")
    if missing:
        yield missing
        return
    gaps: List[str] = []
    proc = _read(ctx, "/proc/tty/driver/serial", gaps, "UART types from sysfs instead (needs root)")
    real = _linux.parse_proc_serial(proc) if proc is not None else None
    for tty in _listdir(ctx, "/sys/class/tty", gaps):
        base = f"/sys/class/tty/{tty}"
        device = ctx.sys_link(f"{base}/device")
        if device is None:
            continue  # virtual consoles, ptys: no device behind them
        driver = posixpath.basename(ctx.sys_link(f"{base}/device/driver") or "")
        props: List[Tuple[str, str]] = [(V.DEVICE_TYPE, "serial"), (V.SERIAL_DEVICE, f"/dev/{tty}")]
        m = re.match(r"^ttyS(\d+)$", tty)
        if m:
            line = int(m.group(1))
            sys_type = (_read(ctx, base + "/type", gaps) or "").strip()
            uart = _linux.uart_name(sys_type)
            if real is not None:
                fields = real.get(line)
                if fields is None:
                    continue  # an 8250 placeholder: no UART answered at its address
                uart = fields.get("uart", uart)
                if "port" in fields:
                    props.append((V.SERIAL_PORT, "0x" + fields["port"].lstrip("0").upper()))
                elif "mmio" in fields:
                    props.append((V.SERIAL_PORT, fields["mmio"]))
                if "irq" in fields:
                    props.append((V.SERIAL_IRQ, fields["irq"]))
            elif not uart:
                continue
            else:
                port = (_read(ctx, base + "/port", gaps) or "").strip()
                irq = (_read(ctx, base + "/irq", gaps) or "").strip()
                if port and port != "0x0":
                    props.append((V.SERIAL_PORT, port))
                if irq:
                    props.append((V.SERIAL_IRQ, irq))
            props.append((V.SERIAL_UART, uart))
        if driver:
            props.append((V.DRIVER, driver))
        props.append((V.BUS_ADDRESS, posixpath.basename(device)))
        usb = _usb_parent(ctx, device) if re.match(r"^tty(USB|ACM)\d+$", tty) else None
        if usb is not None:  # a USB-serial adapter: which one (FTDI, Prolific, a PLC's programming cable)
            props.append((V.USB_ID, f"{usb[0]}:{usb[1]}"))
            maker = " ".join(" ".join((_read(ctx, usb[2] + f"/{f}", []) or "").split())
                             for f in ("manufacturer", "product")).strip()
            if maker:
                props.append((V.USB_MANUFACTURER_STRING, maker))  # "FTDI FT232R USB UART"
        # Named by the device alone (its type is the device-type property): a name is never translated.
        yield Component(category=Category.HARDWARE, kind=Kind.DEVICE, name=tty,
                        ref=make_ref("hardware", "serial", tty), properties=tuple(props))
    for iface in _listdir(ctx, "/sys/class/net", gaps):
        if (_read(ctx, f"/sys/class/net/{iface}/type", []) or "").strip() == "280":  # ARPHRD_CAN
            yield Component(category=Category.HARDWARE, kind=Kind.DEVICE, name=iface,
                            ref=make_ref("hardware", "can", iface),
                            properties=((V.DEVICE_TYPE, "can"), (V.INTERFACE, iface)))
    yield from _fieldbus_cards(ctx, gaps)
    yield from _gaps(gaps)


# --- last logon, neighbours, hosts, mounts, package sources (Linux) ----------------------------------


def last_logons(ctx: ScanContext, accounts: List[_accounts.Account], gaps: List[str]) -> Optional[Dict[int, str]]:
    """uid -> "2026-12-01T20:07:16Z on pts/0 from HOST" from /var/log/lastlog; None when the file
    is absent or empty (the system keeps no lastlog: nothing can be said, not even "never")."""
    uids = [a.uid for a in accounts if 0 <= a.uid < 60000]  # lastlog is sparse: nobody's 65534 is never read
    if not uids:
        return None
    machine = platform.machine() if ctx.local and str(ctx.root) == "/" else ""
    want = (max(uids) + 1) * _linux.LASTLOG_RECORD_TIME64
    try:
        data = ctx.read_bytes("/var/log/lastlog", min(want, 8 << 20), head=True)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        gaps.append(f"cannot read /var/log/lastlog: {exc.strerror or exc} (last logons unknown)")
        return None
    if not data:
        return None
    size = len(data) if len(data) < min(want, 8 << 20) else 0
    out: Dict[int, str] = {}
    for uid, rec in _linux.parse_lastlog(data, _linux.lastlog_record_size(size, machine)).items():
        when = datetime.fromtimestamp(rec.time, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        out[uid] = when + (f" on {rec.line}" if rec.line else "") + (f" from {rec.host}" if rec.host else "")
    return out


# Pseudo file systems of /proc/mounts that say nothing about storage an auditor looks at.
_PSEUDO_FS = frozenset({"proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "debugfs", "tracefs", "securityfs",
                        "pstore", "bpf", "configfs", "fusectl", "hugetlbfs", "autofs", "binfmt_misc", "nsfs",
                        "rpc_pipefs", "efivarfs", "devtmpfs", "ramfs", "selinuxfs", "fuse.gvfsd-fuse", "nfsd"})
# CIS Debian Linux 12 Benchmark §1.1.2-1.1.8: world-writable places mounted nosuid, nodev, noexec.
_HARDENED_MOUNTS = {"/tmp": ("nosuid", "nodev", "noexec"), "/var/tmp": ("nosuid", "nodev", "noexec"),
                    "/dev/shm": ("nosuid", "nodev", "noexec")}
_MAX_FACTS = 500


def _exposure(ctx: ScanContext, gaps: List[str]) -> Iterator[Item]:
    """Neighbours (ARP), /etc/hosts entries, mounts with their options, package sources."""
    name = PostureSettings.name
    if ctx.live:
        missing = unrecorded(ctx, "neighbour table", "/proc/net/arp")
        if missing:
            yield missing
        else:
            for n in _linux.parse_proc_arp(_read(ctx, "/proc/net/arp", gaps) or "")[:_MAX_FACTS]:
                yield HostFact(V.posture_fact("neighbour"), f"{n.ip} {n.mac} {n.device} {n.state}")
    missing = unrecorded(ctx, "hosts file", "/etc/hosts")
    if missing:
        yield missing
    else:
        for ip, names in _linux.parse_hosts(_read(ctx, "/etc/hosts", gaps) or "")[:_MAX_FACTS]:
            # The stock loopback and IPv6 multicast lines (hosts(5), Debian's netbase) are no news.
            if ip.startswith(("127.", "::1", "fe00::", "ff00::", "ff02::")):
                continue
            yield HostFact(V.posture_fact("hosts-entry"), f"{ip} {' '.join(names)}")
    mounts_file = "/proc/mounts" if ctx.live else "/etc/fstab"
    missing = unrecorded(ctx, "mount table", mounts_file)
    if missing:
        yield missing
    else:
        weak: List[str] = []
        # A place mounted twice (a container's /dev/shm) is listed twice by the kernel: once here.
        mounts = list(dict.fromkeys(m for m in _linux.parse_mounts(_read(ctx, mounts_file, gaps) or "")
                                    if m.fstype not in _PSEUDO_FS))
        for m in mounts[:_MAX_FACTS]:
            yield HostFact(V.posture_fact("mount"), f"{m.target} {m.fstype} {m.source} ({','.join(m.options)})")
            lacking = [o for o in _HARDENED_MOUNTS.get(m.target, ()) if o not in m.options]
            if lacking:
                weak.append(f"{m.target} ({m.fstype}) without {', '.join(lacking)}")
        if weak:
            yield Finding(id="CBOM-MOUNT-OPTIONS", severity=Severity.LOW,
                          title=f"{len(weak)} world-writable mount(s) without nosuid/nodev/noexec",
                          detail="CIS Debian Linux 12 Benchmark §1.1: /tmp, /var/tmp and /dev/shm mounted nosuid, "
                                 "nodev, noexec", evidence=tuple(weak) + (mounts_file,), collector=name)
    yield from _package_sources(ctx, gaps)


def _package_sources(ctx: ScanContext, gaps: List[str]) -> Iterator[Item]:
    name = PostureSettings.name
    missing = unrecorded(ctx, "package sources", "/etc/apt/sources.list", "/etc/apt/sources.list.d",
                         "/etc/yum.repos.d")
    if missing:
        yield missing
        return
    found: List[Tuple[str, _linux.PackageSource]] = []
    apt_d = "/etc/apt/sources.list.d"
    for path in ["/etc/apt/sources.list"] + [posixpath.join(apt_d, n) for n in _listdir(ctx, apt_d, gaps)]:
        if path.endswith((".list", "sources.list")):
            found += [(path, s) for s in _linux.parse_sources_list(_read(ctx, path, gaps) or "")]
        elif path.endswith(".sources"):
            found += [(path, s) for s in _linux.parse_deb822_sources(_read(ctx, path, gaps) or "")]
    for n in _listdir(ctx, "/etc/yum.repos.d", gaps):
        if n.endswith(".repo"):
            path = posixpath.join("/etc/yum.repos.d", n)
            found += [(path, s) for s in _linux.parse_yum_repo(_read(ctx, path, gaps) or "")]
    plain: List[str] = []
    unsigned: List[str] = []
    for path, s in found[:_MAX_FACTS]:
        if not s.enabled:
            continue
        words = [s.kind, s.uri, s.suite, *s.components]
        if s.signed_by:
            words.append(f"signed-by={s.signed_by}")
        if s.trusted:
            words.append("trusted=yes")
        if s.gpgcheck is not None:
            words.append(f"gpgcheck={int(s.gpgcheck)}")
        yield HostFact(V.posture_fact("package-source"), " ".join(w for w in words if w) + f" ({path})")
        if s.trusted or s.gpgcheck is False:
            unsigned.append(f"{path}: {s.uri} {s.suite} ({'trusted=yes' if s.trusted else 'gpgcheck=0'})")
        elif s.uri.startswith("http://") and s.kind != "rpm-md" and not s.signed_by:
            plain.append(f"{path}: {s.uri} {s.suite}")
    if unsigned:
        yield Finding(id="CBOM-PACKAGE-SOURCE-UNSIGNED", severity=Severity.LOW,
                      title=f"{len(unsigned)} package source(s) whose signatures are not checked",
                      detail="apt [trusted=yes] or yum/dnf gpgcheck=0: packages from there are installed unverified",
                      evidence=tuple(unsigned), collector=name)
    if plain:
        yield Finding(id="CBOM-PACKAGE-SOURCE-PLAIN-HTTP", severity=Severity.INFO,
                      title=f"{len(plain)} apt source(s) over plain http without signed-by",
                      detail="the archive's signed index (InRelease) is still checked, but against any key apt "
                             "trusts for all sources (no signed-by= pins one), and what is fetched is visible on "
                             "the network",
                      evidence=tuple(plain), collector=name)


# --- settings --------------------------------------------------------------------------------------


class PostureSettings(Collector):
    name = "posture.settings"
    description = ("security sysctls, firewall rules, disk encryption, remote-access software, neighbours, hosts, "
                   "mounts, package sources")
    platforms = frozenset({Platform.LINUX, Platform.WINDOWS, Platform.DARWIN})
    timeout = 60.0  # Windows: PowerShell CIM and schtasks take seconds each

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        if ctx.platform == Platform.WINDOWS:  # Win32 classes, registry, net/schtasks (collectors/posture/_windows.py)
            return _windows.collect_settings(ctx, self.name)
        if ctx.platform == Platform.DARWIN:  # dscl, launchd plists, socketfilterfw… (collectors/posture/_darwin.py)
            return _darwin.collect_settings(ctx, self.name)
        return collect_settings(ctx)


# sysctls an auditor of a plant PC asks about (CIS Debian Linux 12 Benchmark §3.3, KSPP
# recommended settings); the "expected" value is the hardened one.
SYSCTLS = {
    "net.ipv4.ip_forward": "0", "net.ipv6.conf.all.forwarding": "0", "net.ipv4.conf.all.accept_redirects": "0",
    "net.ipv4.conf.all.send_redirects": "0", "net.ipv4.conf.all.accept_source_route": "0",
    "net.ipv4.conf.all.rp_filter": "1", "net.ipv4.tcp_syncookies": "1", "kernel.randomize_va_space": "2",
    "kernel.kptr_restrict": "1", "kernel.dmesg_restrict": "1", "kernel.yama.ptrace_scope": "1",
    "kernel.unprivileged_bpf_disabled": "1", "fs.protected_symlinks": "1", "fs.protected_hardlinks": "1",
    "fs.suid_dumpable": "0", "kernel.sysrq": "0",
}
# Remote-access tools: (name, files that show it is installed, units that start it).
REMOTE_ACCESS = (
    ("OpenSSH server", ("/usr/sbin/sshd",), ("ssh.service", "sshd.service", "ssh.socket")),
    ("TeamViewer", ("/opt/teamviewer/tv_bin/teamviewerd", "/usr/bin/teamviewer"), ("teamviewerd.service",)),
    ("AnyDesk", ("/usr/bin/anydesk", "/opt/anydesk/anydesk"), ("anydesk.service",)),
    ("RustDesk", ("/usr/bin/rustdesk",), ("rustdesk.service",)),
    ("VNC server", ("/usr/bin/x11vnc", "/usr/bin/vncserver", "/usr/bin/Xvnc", "/usr/bin/tigervncserver"),
     ("x11vnc.service", "vncserver@.service", "vncserver@:1.service")),
    ("xrdp (RDP server)", ("/usr/sbin/xrdp",), ("xrdp.service",)),
    ("telnet server", ("/usr/sbin/in.telnetd", "/usr/sbin/telnetd"), ("telnet.socket", "inetd.service")),
)
_RISKY_REMOTE = ("TeamViewer", "AnyDesk", "RustDesk", "VNC server", "telnet server")


def _hardened(key: str, value: str) -> bool:
    """True when sysctl `key` is at its hardened value, or stricter (a larger number where a larger one
    restricts more: kptr_restrict 2, ptrace_scope 3, rp_filter 2 "loose" is still a filter)."""
    want = SYSCTLS[key]
    if value == want:
        return True
    return want != "0" and value.isdigit() and int(value) >= int(want)


def _enabled_units(ctx: ScanContext) -> Set[str]:
    units: Set[str] = set()
    for folder in ctx.glob("/etc/systemd/system/*.wants"):
        try:
            units.update(ctx.listdir(folder))
        except OSError:
            pass
    return units


def collect_settings(ctx: ScanContext) -> Iterator[Item]:
    """Host facts for sysctls, firewall, disk encryption and remote access, with findings."""
    gaps: List[str] = []
    name = PostureSettings.name
    missing = unrecorded(ctx, "security settings", "/proc/sys/net/ipv4/ip_forward", "/etc/nftables.conf",
                         "/etc/systemd/system")
    if missing:
        yield missing
        return
    sysctls: Dict[str, str] = {}
    if ctx.live:
        for key, hardened in SYSCTLS.items():
            value = _small(ctx, "/proc/sys/" + key.replace(".", "/"), gaps)
            if value is None:
                continue
            yield HostFact(V.posture_fact(key), value)
            sysctls[key] = value
            if key in ("net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding") and value != hardened:
                yield Finding(id="CBOM-IP-FORWARDING", title=f"the machine routes packets ({key} = {value})",
                              severity=Severity.MEDIUM,
                              detail="a maintenance PC that forwards can bridge the plant network to another one",
                              evidence=(f"/proc/sys/{key.replace('.', '/')}",), collector=name)
        soft = [f"{k} = {v} (hardened: {SYSCTLS[k]})" for k, v in sysctls.items() if not _hardened(k, v)]
        if soft:
            yield Finding(id="CBOM-SYSCTL-NOT-HARDENED", title=f"{len(soft)} security sysctl(s) not at the hardened value",
                          severity=Severity.LOW, detail="CIS Debian Linux 12 Benchmark §3.3 and KSPP recommendations",
                          evidence=tuple(soft), collector=name)
        cmdline = _read(ctx, "/proc/cmdline", gaps)
        if cmdline:
            yield HostFact(V.posture_fact("kernel-cmdline"), cmdline.strip())
    else:
        gaps_note = "sysctls and firewall rules are read from the running kernel, not from an image"
        yield Note(gaps_note)
    # Firewall: rules loaded (live, root) and a saved configuration on disk (also under --root).
    firewall: List[str] = []
    if ctx.live and ctx.which("nft"):
        res = ctx.run(["nft", "list", "ruleset"], timeout=5)
        if res.rc == 0:
            rules = sum(1 for ln in res.stdout.splitlines() if ln.startswith("\t\t") and not
                        ln.strip().startswith(("type ", "policy ")))
            firewall.append(f"nftables loaded: {rules} rule(s)")
        elif res.stderr:
            gaps.append(f"nft list ruleset: {res.stderr.strip().splitlines()[-1][:200]}")
    if ctx.live:
        tables = _read(ctx, "/proc/net/ip_tables_names", gaps)
        if tables and tables.split():
            firewall.append("iptables (legacy) tables: " + ",".join(tables.split()))
    for conf in ("/etc/nftables.conf", "/etc/iptables/rules.v4", "/etc/sysconfig/iptables", "/etc/ufw/ufw.conf",
                 "/etc/firewalld/firewalld.conf"):
        text = _read(ctx, conf, gaps)
        if text is None:
            continue
        if conf.endswith("ufw.conf"):
            enabled = re.search(r"^\s*ENABLED\s*=\s*yes", text, re.M) is not None
            firewall.append(f"ufw {'enabled' if enabled else 'disabled'} ({conf})")
        else:
            firewall.append(f"saved rules: {conf}")
    enabled_units = _enabled_units(ctx)
    for unit in ("nftables.service", "firewalld.service", "ufw.service", "netfilter-persistent.service"):
        if unit in enabled_units:
            firewall.append(f"{unit} enabled")
    yield HostFact(V.posture_fact("firewall"), "; ".join(firewall) or "none found")
    if not firewall:
        yield Finding(id="CBOM-FIREWALL-NONE", title="no host firewall rules or firewall service found",
                      severity=Severity.LOW, detail="nftables, iptables, ufw and firewalld were looked for",
                      collector=name)
    # Disk encryption: crypttab (configured) and active dm-crypt mappings (live).
    crypt = [f"crypttab: {n} ({dev})" for n, dev, _ in _linux.parse_crypttab(_read(ctx, "/etc/crypttab", gaps) or "")]
    if ctx.live:
        for dm in _listdir(ctx, "/sys/block", gaps):
            if dm.startswith("dm-"):
                uuid = (_read(ctx, f"/sys/block/{dm}/dm/uuid", []) or "").strip()
                if uuid.startswith("CRYPT-"):
                    mapped = (_read(ctx, f"/sys/block/{dm}/dm/name", []) or dm).strip()
                    crypt.append(f"active {uuid.split('-')[1]}: {mapped}")
    yield HostFact(V.posture_fact("disk-encryption"), "; ".join(crypt) or "none found")
    # Remote access: installed, and whether a unit starts it.
    for label, files, units in REMOTE_ACCESS:
        if not any(ctx.is_file(f) for f in files):
            continue
        on = sorted(u for u in units if u in enabled_units)
        state = f"installed, enabled ({', '.join(on)})" if on else "installed, not enabled"
        yield HostFact(V.posture_fact("remote-access"), f"{label}: {state}")
        if on and label in _RISKY_REMOTE:
            yield Finding(id="CBOM-REMOTE-ACCESS", title=f"{label} starts by itself", severity=Severity.MEDIUM,
                          detail="remote-access software reachable from outside the plant network",
                          evidence=tuple(on), collector=name)
    yield from _exposure(ctx, gaps)
    yield from _gaps(gaps)


COLLECTORS = (PostureAccounts, PostureStartup, PostureSerial, PostureSettings)
