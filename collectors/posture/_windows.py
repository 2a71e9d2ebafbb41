"""Windows security posture: local accounts, what starts by itself, firewall, BitLocker, RDP, remote access.

Every source is read the same way live and from a collect.bat / collect.ps1 recording:

- CIM classes (Win32_UserAccount, Win32_Group, Win32_Service, Win32_StartupCommand,
  Win32_EncryptableVolume) through PowerShell `Get-CimInstance … | ConvertTo-Json` live, and
  `wmic path CLASS get /format:list` (the recorded `CLASS.wmi` file) otherwise;
- registry keys as `RegKey` records: `winreg` live, a `reg export KEY` file when recorded (both
  parsed by `collectors._text.parse_reg_export`'s shape);
- command text: `net user NAME`, `net localgroup GROUP`, `schtasks /query /fo csv /v`.

The parsers are pure functions over that text; `collectors.posture` turns their results into
components, host facts and findings.
"""
from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.decode import decode_recorded
from cbom.model import Category, Component, Finding, Gap, HostFact, Item, Kind, Severity, make_ref

from .._text import RegKey, RegValue, parse_reg_export, parse_wmic_list
from ..hardware._windows import no_instances, parse_cim_json

__all__ = ["Account", "NetUser", "ScheduledTask", "bitlocker_states", "cim_rows", "collect_accounts", "collect_settings",
           "collect_startup", "firewall_profiles", "parse_net_localgroup", "parse_net_user", "parse_schtasks_csv",
           "rdp_state", "reg_keys", "run_key_entries", "usbstor_devices", "windows_accounts"]

Rows = List[Dict[str, str]]


# --- CIM / WMI -------------------------------------------------------------------------------------


def _ps_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def cim_rows(ctx: ScanContext, cls: str, fields: Sequence[str], where: str = "",
             namespace: str = "") -> Tuple[Rows, str]:
    """Instances of CIM class `cls` (string values) and "" , or [] and why they were not read.

    Live: PowerShell Get-CimInstance (Windows 8+ / PowerShell 3+), else wmic (XP/2003/7). A
    recording holds collect.bat's `wmic path CLASS get /format:list` dump, named CLASS.wmi
    (cbom.host's rule); `where` and `namespace` only narrow the live query (the recorded dump was
    taken with the same filter by collect.bat).
    """
    ps_why = ""
    if not ctx.recorded:
        ns = f"-Namespace {_ps_quote(namespace)} " if namespace else ""
        flt = f"-Filter {_ps_quote(where)} " if where else ""
        script = ("$ErrorActionPreference='SilentlyContinue'; $r=[ordered]@{}; "
                  f"$r['{cls}']=@(Get-CimInstance {ns}-ClassName {cls} {flt}| Select-Object {','.join(fields)}); "
                  "$r | ConvertTo-Json -Depth 4 -Compress")
        ps = ctx.run(["powershell", "-NoProfile", "-NonInteractive", "-Command", script], timeout=60)
        ps_why = ps.why(quote=False)
        if ps.ok and ps.stdout.strip():
            try:
                return parse_cim_json(ps.stdout).get(cls, []), ""
            except ValueError as exc:
                ps_why = f"output is not the expected JSON ({exc})"
    argv = ["wmic"]
    if namespace and not ctx.recorded:
        argv.append("/namespace:\\\\" + namespace.replace("/", "\\"))
    argv += ["path", cls]
    if where and not ctx.recorded:
        argv += ["where", where]
    argv += ["get", ",".join(fields), "/format:list"]
    res = ctx.run(argv, timeout=60)
    tried = f"PowerShell: {ps_why}; " if ps_why else ""
    if not res.ok:
        if not ctx.recorded and no_instances(res.stderr):
            return [], ""  # a class without instances (no BitLocker volume) says so on stderr
        return [], f"{cls} not read ({tried}wmic: {res.why()})"
    text = decode_recorded(res.raw) if res.raw else res.stdout
    rows = parse_wmic_list(text)
    if not rows and text.strip():
        return [], f"{cls}: wmic output holds no 'Property=value' instance ({' '.join(text.split())[:60]!r})"
    return rows, ""


def true(value: str) -> bool:
    """A CIM boolean as wmic ("TRUE") or ConvertTo-Json ("TRUE" through hardware._windows._str) prints it."""
    return value.strip().upper() == "TRUE"


# --- registry --------------------------------------------------------------------------------------

_HIVES = {"HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER", "HKU": "HKEY_USERS", "HKCR": "HKEY_CLASSES_ROOT"}


def _winreg_walk(key: str, depth: int, limit: int) -> Tuple[List[RegKey], List[str]]:  # pragma: no cover - Windows
    """The registry tree under `key` ("HKLM\\…") in `parse_reg_export`'s shape, read with winreg."""
    if sys.platform != "win32":
        raise ModuleNotFoundError("No module named 'winreg'", name="winreg")
    import winreg

    hive_name, _, path = key.partition("\\")
    long_name = _HIVES.get(hive_name.upper(), hive_name.upper())
    hive = getattr(winreg, long_name)
    out: List[RegKey] = []
    problems: List[str] = []

    def walk(sub: str, level: int) -> None:
        if len(out) >= limit:
            return
        try:
            handle = winreg.OpenKey(hive, sub, 0, winreg.KEY_READ | winreg.KEY_WOW64_64KEY)
        except FileNotFoundError:
            return
        except OSError as exc:
            problems.append(f"{long_name}\\{sub}: {exc.strerror or exc}")
            return
        with handle:
            n_keys, n_values, _ = winreg.QueryInfoKey(handle)
            values: Dict[str, RegValue] = {}
            for j in range(n_values):
                try:
                    name, data, _kind = winreg.EnumValue(handle, j)
                except OSError:
                    continue
                values[name] = tuple(data) if isinstance(data, list) else data
            out.append((f"{long_name}\\{sub}", values))
            if level >= depth:
                return
            for i in range(n_keys):
                try:
                    child = winreg.EnumKey(handle, i)
                except OSError:
                    continue
                walk(f"{sub}\\{child}", level + 1)

    walk(path, 0)
    return out, problems


def reg_keys(ctx: ScanContext, key: str, depth: int = 4, limit: int = 20000,
             optional: bool = False) -> Tuple[List[RegKey], List[str]]:
    """Every key under `key` with its values, and problems (unreadable keys or export lines).

    Live: winreg; recorded: the `reg export KEY` file(s) collect.bat wrote (several when the
    recording holds samples of more than one machine state). "not recorded" is a problem too.
    An `optional` key (RunOnce, the 32-bit view, USBSTOR on a machine that never saw a USB disk)
    is often absent: its recorded `reg export` exiting 1 without output means "no such key" (reg.exe's
    "unable to find the specified registry key"), as winreg's FileNotFoundError does live.
    """
    if ctx.local:  # pragma: no cover - Windows only
        try:
            return _winreg_walk(key, depth, limit)
        except ModuleNotFoundError:
            return [], ["the registry is read with winreg, which only exists on Windows"]
    if not ctx.recorded:
        return [], [f"{key}: an offline Windows disk's registry hives are not parsed"]
    keys: List[RegKey] = []
    problems: List[str] = []
    for res in ctx.run_each(["reg", "export", key]):
        if optional and res.rc == 1 and not res.error and not res.stdout.strip():
            continue
        if not res.ok:
            problems.append(f"{key}: {res.why()}")
            continue
        got, bad = parse_reg_export(decode_recorded(res.raw) if res.raw else res.stdout)
        keys += got
        problems += [f"{key} export, {b}" for b in bad[:5]]
    return keys, problems


# --- accounts --------------------------------------------------------------------------------------

# Well-known RIDs of local accounts (MS-DTYP 2.4.2.4 "Well-Known SID Structures").
BUILTIN_RIDS = {"500": "built-in Administrator", "501": "built-in Guest", "503": "DefaultAccount",
                "504": "WDAGUtilityAccount"}
ADMINISTRATORS_SID = "S-1-5-32-544"  # BUILTIN\Administrators, whatever its localised name


@dataclass(frozen=True)
class Account:
    """What cbom keeps of one Win32_UserAccount instance (no password data exists there)."""

    name: str
    domain: str
    sid: str
    full_name: str
    description: str
    disabled: bool
    lockout: bool
    password_required: bool
    password_expires: bool
    password_changeable: bool

    @property
    def rid(self) -> str:
        return self.sid.rsplit("-", 1)[-1] if self.sid.count("-") > 2 else ""


def windows_accounts(rows: Rows) -> List[Account]:
    """Win32_UserAccount instances with a Name (Caption "DOMAIN\\name" when Name is missing)."""
    out = []
    for r in rows:
        name = r.get("Name", "") or r.get("Caption", "").rpartition("\\")[2]
        if not name:
            continue
        out.append(Account(name=name, domain=r.get("Domain", ""), sid=r.get("SID", ""),
                           full_name=r.get("FullName", ""), description=r.get("Description", ""),
                           disabled=true(r.get("Disabled", "")), lockout=true(r.get("Lockout", "")),
                           password_required=true(r.get("PasswordRequired", "TRUE")),
                           password_expires=true(r.get("PasswordExpires", "TRUE")),
                           password_changeable=true(r.get("PasswordChangeable", "TRUE"))))
    return out


@dataclass(frozen=True)
class NetUser:
    """`net user NAME`: the fields Win32_UserAccount lacks (as printed: dates follow the locale)."""

    name: str
    fields: Dict[str, str]
    local_groups: Tuple[str, ...] = field(default=())
    global_groups: Tuple[str, ...] = field(default=())

    @property
    def last_logon(self) -> str:
        return self.fields.get("Last logon", "")

    @property
    def password_last_set(self) -> str:
        return self.fields.get("Password last set", "")


# `net user NAME` prints its labels in a 29-character column, in this order on every Windows since
# NT (net.exe's NET_USER display; labels are localised, the order and column are not).
NET_USER_LABELS = ("User name", "Full Name", "Comment", "User's comment", "Country/region code", "Account active",
                   "Account expires", "Password last set", "Password expires", "Password changeable",
                   "Password required", "User may change password", "Workstations allowed", "Logon script",
                   "User profile", "Home directory", "Last logon", "Logon hours allowed", "Local Group Memberships",
                   "Global Group memberships")
_VALUE_COLUMN = 29


def _groups(text: str) -> Tuple[str, ...]:
    """"*Administrators       *Users" → names (net.exe cuts each to 21 characters)."""
    return tuple(g.strip() for g in text.split("*") if g.strip() and g.strip().lower() != "none")


def parse_net_user(text: str) -> List[NetUser]:
    """Every `net user NAME` block of `text` (collect.bat writes all accounts into one file).

    A block is a run of lines in net.exe's two-column layout (label, value from column 30; a
    wrapped group list goes on in the value column), opened by a line with a value (the user name)
    and closed by the first line outside the layout ("The command completed successfully." in any
    language). Fields are taken by their position in NET_USER_LABELS, so a French or German
    `net user` reads alike.
    """
    out: List[NetUser] = []
    block: List[Tuple[str, str]] = []

    def flush() -> None:
        if len(block) >= len(NET_USER_LABELS) - 4:  # a block, not a stray aligned line
            fields = {NET_USER_LABELS[i] if i < len(NET_USER_LABELS) else label: value
                      for i, (label, value) in enumerate(block)}
            out.append(NetUser(fields.get("User name", ""), fields,
                               _groups(fields.get("Local Group Memberships", "")),
                               _groups(fields.get("Global Group memberships", ""))))
        block.clear()

    for raw in text.replace("\r", "").split("\n"):
        line = raw.rstrip()
        if not line.strip():
            continue
        in_layout = len(line) < _VALUE_COLUMN or line[_VALUE_COLUMN - 1] == " "
        if not in_layout:
            flush()
            continue
        label, value = line[:_VALUE_COLUMN].strip(), line[_VALUE_COLUMN:].strip()
        if not label:
            if block:
                block[-1] = (block[-1][0], f"{block[-1][1]} {value}".strip())
            continue
        if not block and not value:
            continue  # a prompt or an echoed command line before the first field
        block.append((label, value))
    flush()
    return [u for u in out if u.name]


def parse_net_localgroup(text: str) -> Tuple[str, Optional[List[str]]]:
    """(group name, members) of `net localgroup GROUP`: members are the lines between the dashed
    rule and the closing "The command completed successfully." (the last line, any language).
    Members are None when the text has no dashed rule: not a member listing (an error, a usage
    text such as wine's net.exe prints)."""
    lines = [ln.strip() for ln in text.replace("\r", "").split("\n")]
    name = ""
    for ln in lines:
        m = re.match(r"^\S+(?: \S+)*\s{2,}(.+)$", ln)
        if m:
            name = m.group(1).strip()  # "Alias name     Administrators"
            break
    rule = next((i for i, ln in enumerate(lines) if re.fullmatch(r"-{20,}", ln)), None)
    if rule is None:
        return name, None
    body = [ln for ln in lines[rule + 1:] if ln]
    if body and (body[-1].endswith(".") or body[-1].endswith("。")):
        body = body[:-1]
    return name, body


# --- what starts by itself ---------------------------------------------------------------------------

# Win32_Service.StartMode values that start a service without anyone asking (MS docs, Win32_Service).
AUTO_START = ("auto", "boot", "system")


@dataclass(frozen=True)
class ScheduledTask:
    """One task of `schtasks /query /fo csv /v` (one CSV row per trigger, merged)."""

    name: str
    command: str
    run_as: str
    state: str  # Scheduled Task State: Enabled / Disabled (localised)
    author: str
    schedules: Tuple[str, ...]


# Columns of `schtasks /query /fo csv /v` by position (their names are localised, the order is
# the same on Vista..11): 1 TaskName, 7 Author, 8 Task To Run, 11 Scheduled Task State,
# 14 Run As User, 18 Schedule Type, 19 Start Time, 22 Days.
_TASK, _AUTHOR, _RUN, _STATE, _USER, _TYPE, _START, _DAYS = 1, 7, 8, 11, 14, 18, 19, 22


def parse_schtasks_csv(text: str) -> Tuple[List[ScheduledTask], List[str]]:
    """Tasks of `schtasks /query /fo csv /v` and unreadable rows. The header row, which Windows 7
    repeats before each task folder, is recognised by being equal to the first row."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return [], []
    header = rows[0]
    first_row: Dict[str, List[str]] = {}
    schedules: Dict[str, List[str]] = {}
    problems: List[str] = []
    for number, row in enumerate(rows[1:], 2):
        if row == header:
            continue
        if len(row) <= _USER:
            problems.append(f"row {number}: {len(row)} columns, not a verbose schtasks row")
            continue
        name = row[_TASK]
        first_row.setdefault(name, row)
        got = schedules.setdefault(name, [])
        sched = " ".join(x for x in (row[_TYPE] if len(row) > _TYPE else "",
                                     row[_START] if len(row) > _START else "",
                                     row[_DAYS] if len(row) > _DAYS else "") if x and x != "N/A")
        if sched and sched not in got:
            got.append(sched)
    out = []
    for name, row in first_row.items():
        out.append(ScheduledTask(name=name, command=row[_RUN], run_as=row[_USER], state=row[_STATE],
                                 author=row[_AUTHOR], schedules=tuple(schedules[name])))
    return out, problems


RUN_KEYS = ("HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run",
            "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\RunOnce",
            "HKLM\\SOFTWARE\\Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\Run",
            "HKLM\\SOFTWARE\\Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\RunOnce",
            "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
            "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\RunOnce")


def run_key_entries(keys: List[RegKey]) -> List[Tuple[str, str, str]]:
    """(key, value name, command) of the string values of Run/RunOnce keys (subkeys ignored)."""
    out = []
    for key, values in keys:
        if not re.search(r"\\CurrentVersion\\Run(Once)?$", key, re.I):
            continue
        for name, data in values.items():
            if isinstance(data, str) and name:
                out.append((key, name, data))
    return out


# --- settings --------------------------------------------------------------------------------------

FIREWALL_POLICY = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy"
# The profile keys and the names Windows Firewall shows for them (StandardProfile is "Private").
FIREWALL_PROFILES = (("DomainProfile", "Domain"), ("StandardProfile", "Private"), ("PublicProfile", "Public"))


def firewall_profiles(keys: List[RegKey]) -> Dict[str, Optional[bool]]:
    """{Domain/Private/Public: EnableFirewall (None when the profile key holds no such value)}
    from the FirewallPolicy tree ([MS-GPFAS] 2.2.1: EnableFirewall REG_DWORD, 0 = off)."""
    out: Dict[str, Optional[bool]] = {}
    for key, values in keys:
        tail = key.rsplit("\\", 1)[-1]
        parent = key.rsplit("\\", 2)[-2] if key.count("\\") >= 2 else ""
        for reg_name, shown in FIREWALL_PROFILES:
            if tail.lower() == reg_name.lower() and parent.lower() == "firewallpolicy":
                enabled = values.get("EnableFirewall")
                out[shown] = bool(enabled) if isinstance(enabled, int) else None
    return out


TERMINAL_SERVER = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server"


def rdp_state(keys: List[RegKey]) -> Tuple[Optional[bool], Optional[bool]]:
    """(Remote Desktop accepts connections, Network Level Authentication required) from the
    Terminal Server key: fDenyTSConnections 0 = allowed, and WinStations\\RDP-Tcp UserAuthentication
    1 = NLA (MS docs "Remote Desktop Services registry settings")."""
    enabled: Optional[bool] = None
    nla: Optional[bool] = None
    for key, values in keys:
        low = key.lower()
        if low.endswith("\\control\\terminal server") and isinstance(values.get("fDenyTSConnections"), int):
            enabled = values["fDenyTSConnections"] == 0
        if low.endswith("\\winstations\\rdp-tcp") and isinstance(values.get("UserAuthentication"), int):
            nla = values["UserAuthentication"] == 1
    return enabled, nla


# Win32_EncryptableVolume (MS docs): ProtectionStatus, ConversionStatus, EncryptionMethod codes.
PROTECTION = {"0": "protection off", "1": "protection on", "2": "protection unknown"}
CONVERSION = {"0": "fully decrypted", "1": "fully encrypted", "2": "encryption in progress",
              "3": "decryption in progress", "4": "encryption paused", "5": "decryption paused"}
METHODS = {"0": "", "1": "AES-128 with diffuser", "2": "AES-256 with diffuser", "3": "AES-128", "4": "AES-256",
           "5": "hardware encryption", "6": "XTS-AES-128", "7": "XTS-AES-256"}


def bitlocker_states(rows: Rows) -> List[Tuple[str, bool, str]]:
    """(volume, protected, description) per Win32_EncryptableVolume instance."""
    out = []
    for r in rows:
        volume = r.get("DriveLetter") or r.get("DeviceID", "")
        parts = [PROTECTION.get(r.get("ProtectionStatus", ""), ""), CONVERSION.get(r.get("ConversionStatus", ""), ""),
                 METHODS.get(r.get("EncryptionMethod", ""), "")]
        out.append((volume, r.get("ProtectionStatus") == "1", ", ".join(p for p in parts if p)))
    return out


USBSTOR = "HKLM\\SYSTEM\\CurrentControlSet\\Enum\\USBSTOR"


def usbstor_devices(keys: List[RegKey]) -> List[Tuple[str, str, str]]:
    """(device class key "Disk&Ven_…&Prod_…&Rev_…", instance id (serial), FriendlyName) of every
    USB mass-storage device instance Windows has enumerated (Enum\\USBSTOR\\<device>\\<instance>)."""
    out = []
    for key, values in keys:
        parts = key.split("\\")
        up = [p.upper() for p in parts]
        if "USBSTOR" not in up:
            continue
        i = up.index("USBSTOR")
        if len(parts) != i + 3:
            continue  # the USBSTOR key itself, a device key, or deeper (Device Parameters, Properties)
        name = values.get("FriendlyName", "")
        out.append((parts[i + 1], parts[i + 2], name if isinstance(name, str) else ""))
    return out



def services_of(rows: Rows) -> Iterator[Dict[str, str]]:
    """Services that start by themselves (Auto/Boot/System) or run now."""
    for r in rows:
        if r.get("StartMode", "").lower() in AUTO_START or r.get("State", "").lower() == "running":
            yield r


# --- collection: the three Windows collectors ------------------------------------------------------
# Components and findings in the shapes the Linux side gives (collectors.posture): accounts and
# startup items are Category.POSTURE components told apart by cbom:posture:kind, settings are
# host facts. The collector names are passed in so that findings name their collector.

ACCOUNT_FIELDS = ("Name", "Domain", "SID", "FullName", "Description", "Disabled", "Lockout", "PasswordRequired",
                  "PasswordExpires", "PasswordChangeable", "LocalAccount")
GROUP_FIELDS = ("Name", "Domain", "SID", "LocalAccount")
SERVICE_FIELDS = ("Name", "DisplayName", "StartMode", "State", "StartName", "PathName")
STARTUP_FIELDS = ("Name", "Command", "Location", "User")
VOLUME_FIELDS = ("DeviceID", "DriveLetter", "ProtectionStatus", "ConversionStatus", "EncryptionMethod")
BITLOCKER_NS = "root/CIMV2/Security/MicrosoftVolumeEncryption"


def _gaps(problems: List[str], limit: int = 40) -> Iterator[Gap]:
    for why in problems[:limit]:
        yield Gap(why)
    if len(problems) > limit:
        yield Gap(f"and {len(problems) - limit} more problems")


def _not_recorded(why: str) -> bool:
    return "was not recorded" in why


def _net_users(ctx: ScanContext, names: Sequence[str], problems: List[str]) -> Dict[str, NetUser]:
    """`net user NAME` of every account (collect.bat keeps them all in net-user.txt)."""
    found: Dict[str, NetUser] = {}
    if ctx.recorded:
        for res in ctx.run_each(["net", "user", names[0] if names else ""]):
            if res.ok:
                for u in parse_net_user(res.stdout):
                    found.setdefault(u.name.lower(), u)
        return found
    for name in names[:200]:
        res = ctx.run(["net", "user", name], timeout=15)
        if not res.ok:
            problems.append(f"net user {name}: {res.why()} (last logon unknown)")
            continue
        for u in parse_net_user(res.stdout):
            found.setdefault(u.name.lower(), u)
    return found


def collect_accounts(ctx: ScanContext, collector: str) -> Iterator[Item]:
    """Local accounts (Win32_UserAccount), the Administrators group and findings."""
    rows, why = cim_rows(ctx, "Win32_UserAccount", ACCOUNT_FIELDS, where="LocalAccount=True")
    if why:
        yield Gap(why if not _not_recorded(why) else
                  "the recording holds no Win32_UserAccount.wmi: accounts not collected")
        return
    accounts = windows_accounts(rows)
    problems: List[str] = []
    groups, gwhy = cim_rows(ctx, "Win32_Group", GROUP_FIELDS, where="LocalAccount=True")
    admin_group = next((g.get("Name", "") for g in groups if g.get("SID") == ADMINISTRATORS_SID), "")
    admins: List[str] = []
    admin_read = False
    if gwhy and not _not_recorded(gwhy):
        problems.append(gwhy)
    res = ctx.run(["net", "localgroup", admin_group or "Administrators"], timeout=15)
    if res.ok:
        shown, listed = parse_net_localgroup(res.stdout)
        if listed is None:
            problems.append(f"net localgroup {admin_group or 'Administrators'}: the output is not a member list "
                            f"({' '.join(res.stdout.split())[:60]!r}): administrators unknown")
        else:
            admin_group, admins, admin_read = admin_group or shown, listed, True
    elif not _not_recorded(res.why()):
        problems.append(f"net localgroup {admin_group or 'Administrators'}: {res.why()} (administrators unknown)")
    users = _net_users(ctx, [a.name for a in accounts], problems)
    if ctx.recorded and not res.ok and _not_recorded(res.why()):
        problems.append("the recording holds no net-localgroup-administrators.txt: administrators are known only "
                        "by the built-in Administrator's RID 500")
    if ctx.recorded and accounts and not users:
        problems.append("the recording holds no net-user.txt: last logon and password-last-set not collected")
    admin_names = {m.rpartition("\\")[2].lower() for m in admins}
    never: List[Tuple[str, str]] = []
    for acct in accounts:
        info = users.get(acct.name.lower())
        props: List[Tuple[str, str]] = [(V.POSTURE_KIND, "account")]
        if acct.sid:
            props.append((V.ACCOUNT_UID, acct.sid))  # the SID is Windows' user id
        login = not (acct.disabled or acct.lockout)
        props.append((V.ACCOUNT_LOGIN, str(login).lower()))
        props.append((V.ACCOUNT_SYSTEM, str(acct.rid in ("503", "504")).lower()))
        if acct.full_name:
            props.append((V.ACCOUNT_FULL_NAME, acct.full_name))
        # Windows gives no password state: only whether one is required, and lockout.
        state = "locked" if acct.lockout else ("required" if acct.password_required else "not-required")
        props.append((V.ACCOUNT_PASSWORD, state))
        props.append((V.ACCOUNT_PASSWORD_MAX_DAYS, "expires" if acct.password_expires else "never"))
        if info is not None:
            if info.password_last_set:
                props.append((V.ACCOUNT_PASSWORD_CHANGED, info.password_last_set))
            if info.last_logon:
                props.append((V.ACCOUNT_LAST_LOGON, info.last_logon))
            props += [(V.ACCOUNT_GROUP, g) for g in info.local_groups]
        why_admin: List[str] = []
        if acct.rid == "500":
            why_admin.append("built-in Administrator (RID 500)")
        if acct.name.lower() in admin_names:
            why_admin.append(f"member of {admin_group or 'Administrators'}")
        elif not admin_read and info is not None and any(g.lower().startswith("administ") for g in info.local_groups):
            why_admin.append("member of Administrators (net user)")
        props += [(V.ACCOUNT_ADMIN, w) for w in why_admin]
        comp = Component(category=Category.POSTURE, kind=Kind.DATA, name=acct.name, description=acct.description,
                         ref=make_ref("account", acct.name), properties=tuple(props))
        yield comp
        evidence = (f"Win32_UserAccount {acct.domain}\\{acct.name}",)
        if login and not acct.password_required:
            yield Finding(id="CBOM-ACCOUNT-PASSWORD-NOT-REQUIRED", severity=Severity.HIGH,
                          title=f"account {acct.name} may log on without a password",
                          detail="enabled, and Win32_UserAccount.PasswordRequired is FALSE: an empty password "
                                 "is allowed", evidence=evidence, refs=(comp.ref,), collector=collector)
        if login and acct.rid in ("500", "501"):
            guest = acct.rid == "501"
            yield Finding(id="CBOM-ACCOUNT-BUILTIN-ENABLED", severity=Severity.HIGH if guest else Severity.MEDIUM,
                          title=f"the {BUILTIN_RIDS[acct.rid]} account ({acct.name}) is enabled",
                          detail="CIS Microsoft Windows benchmarks: the built-in Guest account disabled, the "
                                 "built-in Administrator renamed or disabled", evidence=evidence, refs=(comp.ref,),
                          collector=collector)
        if login and not acct.password_expires:
            never.append((acct.name, comp.ref))
    if admin_read:
        members = sorted(admins)
        props = [(V.POSTURE_KIND, "group"), (V.GROUP_GID, ADMINISTRATORS_SID)]
        props += [(V.GROUP_MEMBER, m) for m in members]
        props.append((V.ACCOUNT_ADMIN, "Administrators (S-1-5-32-544)"))
        yield Component(category=Category.POSTURE, kind=Kind.DATA, name=admin_group or "Administrators",
                        ref=make_ref("group", admin_group or "Administrators"), properties=tuple(props))
    if never:
        yield Finding(id="CBOM-ACCOUNT-PASSWORD-NEVER-EXPIRES", severity=Severity.LOW,
                      title=f"{len(never)} account(s) with a password that never expires",
                      detail=", ".join(n for n, _ in never), evidence=("Win32_UserAccount.PasswordExpires",),
                      refs=tuple(r for _, r in never), collector=collector)
    yield from _gaps(problems)


def services(ctx: ScanContext) -> Tuple[Rows, str]:
    """Win32_Service instances, read once per scan (posture.startup and posture.settings both ask)."""
    return ctx.memo(("posture", "Win32_Service"), lambda: cim_rows(ctx, "Win32_Service", SERVICE_FIELDS))


def _startup(kind: str, name: str, path: str, extra: List[Tuple[str, str]], description: str = "") -> Component:
    props = [(V.POSTURE_KIND, "startup"), (V.STARTUP_TYPE, kind)] + extra + ([(V.STARTUP_PATH, path)] if path else [])
    return Component(category=Category.POSTURE, kind=Kind.APPLICATION, name=name, description=description,
                     ref=make_ref("startup", kind, name, path if kind in ("run-key", "startup-command") else ""),
                     properties=tuple(props))


def _origin(command: str) -> str:
    """vendor for what Windows itself ships (under %SystemRoot%), local for everything else."""
    low = command.lower().strip('"')
    return "vendor" if re.match(r"^(%systemroot%|%windir%|[a-z]:\\windows\\|\\systemroot\\|system32\\)", low) \
        else "local"


def collect_startup(ctx: ScanContext, collector: str) -> Iterator[Item]:
    """Services that start by themselves, Run/RunOnce keys, startup commands, scheduled tasks."""
    problems: List[str] = []
    missing: List[str] = []
    rows, why = services(ctx)
    if why:
        (missing if _not_recorded(why) else problems).append("Win32_Service.wmi" if _not_recorded(why) else why)
    for svc in services_of(rows):
        path = svc.get("PathName", "")
        extra = [(V.STARTUP_SCHEDULE, f"StartMode={svc.get('StartMode', '')}"),
                 (V.STARTUP_USER, svc.get("StartName", "")), (V.STARTUP_COMMAND, path),
                 (V.STARTUP_ORIGIN, _origin(path))]
        state = svc.get("State", "")
        yield _startup("windows-service", svc.get("Name", ""), "", [e for e in extra if e[1]],
                       f"{svc.get('DisplayName', '')} ({state})" if state else svc.get("DisplayName", ""))
    seen: set = set()
    run_read = 0
    for key in RUN_KEYS:
        keys, bad = reg_keys(ctx, key, depth=0, optional=True)
        if any(_not_recorded(b) for b in bad):
            continue
        run_read += 1
        problems += bad
        for where, name, command in run_key_entries(keys):
            seen.add((name.lower(), command.lower()))
            yield _startup("run-key", name, where, [(V.STARTUP_COMMAND, command), (V.STARTUP_ORIGIN, _origin(command))])
    if ctx.recorded and not run_read:
        missing.append("Run*.reg")
    cmds, why = cim_rows(ctx, "Win32_StartupCommand", STARTUP_FIELDS)
    if why:
        (missing if _not_recorded(why) else problems).append("Win32_StartupCommand.wmi" if _not_recorded(why) else why)
    for row in cmds:
        if (row.get("Name", "").lower(), row.get("Command", "").lower()) in seen:
            continue  # the same Run value, already listed from the registry
        yield _startup("startup-command", row.get("Name", ""), row.get("Location", ""),
                       [(V.STARTUP_COMMAND, row.get("Command", "")), (V.STARTUP_USER, row.get("User", ""))])
    res = ctx.run(["schtasks", "/query", "/fo", "csv", "/v"], timeout=60)
    if res.ok and not res.stdout.strip() and not ctx.recorded:
        # Windows since Vista lists Microsoft's own tasks: nothing at all is a refusal or a stub
        # (wine 8.0's schtasks), never "no scheduled task".
        problems.append("scheduled tasks not read: schtasks exited 0 but printed nothing")
    elif res.ok:
        tasks, bad = parse_schtasks_csv(res.stdout)
        problems += [f"schtasks output, {b}" for b in bad[:5]]
        for task in tasks:
            extra = [(V.STARTUP_SCHEDULE, s) for s in task.schedules] + [
                (V.STARTUP_USER, task.run_as), (V.STARTUP_COMMAND, task.command),
                (V.STARTUP_ORIGIN, "vendor" if task.name.lower().startswith("\\microsoft\\") else "local")]
            yield _startup("scheduled-task", task.name, "", [e for e in extra if e[1]],
                           f"{task.state}; author {task.author}" if task.author else task.state)
    elif _not_recorded(res.why()):
        missing.append("schtasks.csv")
    else:
        problems.append(f"scheduled tasks not read: {res.why()}")
    if missing:
        yield Gap("the recording holds no " + ", ".join(missing) + ": those startup items not collected")
    yield from _gaps(problems)


# Remote-access tools by the service names their installers register (vendor documentation).
REMOTE_SERVICES = (("TeamViewer", ("teamviewer",)), ("AnyDesk", ("anydesk",)), ("RustDesk", ("rustdesk",)),
                   ("VNC server", ("uvnc_service", "tvnserver", "winvnc", "winvnc4", "vncserver")),
                   ("ScreenConnect", ("screenconnect",)), ("LogMeIn", ("logmein",)),
                   ("OpenSSH server", ("sshd",)), ("telnet server", ("tlntsvr",)))
_RISKY = ("TeamViewer", "AnyDesk", "RustDesk", "VNC server", "ScreenConnect", "LogMeIn", "telnet server")


def collect_settings(ctx: ScanContext, collector: str) -> Iterator[Item]:
    """Firewall profiles, BitLocker, Remote Desktop, remote-access services, USB storage history."""
    problems: List[str] = []
    missing: List[str] = []
    keys, bad = reg_keys(ctx, FIREWALL_POLICY, depth=1)
    if any(_not_recorded(b) for b in bad):
        missing.append("FirewallPolicy.reg")
    else:
        problems += bad
        profiles = firewall_profiles(keys)
        if profiles:
            shown = "; ".join(f"{p}: {'on' if on else 'off' if on is not None else 'unknown'}"
                              for p, on in profiles.items())
            yield HostFact(V.posture_fact("firewall"), f"Windows Firewall {shown}")
            off = [p for p, on in profiles.items() if on is False]
            if off:
                yield Finding(id="CBOM-FIREWALL-OFF", severity=Severity.MEDIUM,
                              title=f"Windows Firewall off for the {', '.join(off)} profile(s)",
                              detail="FirewallPolicy\\<profile>\\EnableFirewall = 0 (a group policy under "
                                     "HKLM\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall may override it)",
                              evidence=tuple(f"{FIREWALL_POLICY}\\{r}" for r, p in FIREWALL_PROFILES if p in off),
                              collector=collector)
        elif not bad:
            problems.append("FirewallPolicy: no profile key found")
    rows, why = cim_rows(ctx, "Win32_EncryptableVolume", VOLUME_FIELDS, namespace=BITLOCKER_NS)
    if why:
        (missing if _not_recorded(why) else problems).append(
            "Win32_EncryptableVolume.wmi" if _not_recorded(why) else why)
    else:
        states = bitlocker_states(rows)
        text = "; ".join(f"{vol} BitLocker {desc}" for vol, _on, desc in states)
        yield HostFact(V.posture_fact("disk-encryption"), text or "no BitLocker-capable volume")
    ts, bad = reg_keys(ctx, TERMINAL_SERVER, depth=2)
    if any(_not_recorded(b) for b in bad):
        missing.append("TerminalServer.reg")
    else:
        problems += bad
        enabled, nla = rdp_state(ts)
        if enabled is not None:
            nla_text = "" if nla is None else (", Network Level Authentication required" if nla else
                                               ", without Network Level Authentication")
            yield HostFact(V.posture_fact("remote-access"),
                           f"Remote Desktop (RDP): {'enabled' if enabled else 'disabled'}{nla_text}")
            if enabled:
                yield Finding(id="CBOM-REMOTE-ACCESS", title="Remote Desktop accepts connections",
                              severity=Severity.MEDIUM if nla is not False else Severity.HIGH,
                              detail="fDenyTSConnections = 0" + (" and UserAuthentication = 0 (no NLA)"
                                                                 if nla is False else ""),
                              evidence=(TERMINAL_SERVER,), collector=collector)
    rows, swhy = services(ctx)
    for label, names in REMOTE_SERVICES:
        for svc in rows:
            if svc.get("Name", "").lower() not in names:
                continue
            mode, state = svc.get("StartMode", ""), svc.get("State", "")
            auto = mode.lower() in AUTO_START
            yield HostFact(V.posture_fact("remote-access"),
                           f"{label}: service {svc.get('Name')} {mode or '?'}, {state or '?'}")
            if auto and label in _RISKY:
                yield Finding(id="CBOM-REMOTE-ACCESS", title=f"{label} starts by itself", severity=Severity.MEDIUM,
                              detail="remote-access software reachable from outside the plant network",
                              evidence=(f"service {svc.get('Name')} StartMode={mode}",), collector=collector)
    if swhy and not _not_recorded(swhy):
        problems.append(f"remote-access services not checked: {swhy}")
    usb, bad = reg_keys(ctx, USBSTOR, depth=2, optional=True)
    if any(_not_recorded(b) for b in bad):
        missing.append("USBSTOR.reg")
    else:
        problems += bad
        for device, instance, friendly in usbstor_devices(usb):
            yield HostFact(V.posture_fact("usb-storage-history"), f"{friendly or device} (serial {instance})")
    if missing:
        yield Gap("the recording holds no " + ", ".join(missing) + ": those settings not collected")
    yield from _gaps(problems)
