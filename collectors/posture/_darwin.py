"""macOS security posture: local accounts, launchd jobs, firewall / FileVault / SIP / Gatekeeper / remote access.

Pure parsers (text or plist bytes in, values out) and the three collection functions the
`posture.*` collectors call on a Mac (live, recorded by collect.sh, or a mounted disk under --root):

- accounts: `dscl . -readall /Users <attributes>` (dscl(1): records separated by a "-" line, one
  "Attribute: value" per line, a long value on the next lines after one space), else
  `dscl . -list /Users UserShell`; groups from `dscl . -list /Groups GroupMembership`, else
  `dscl . -read /Groups/admin`. Under --root (or when dscl gave nothing) the local directory's
  own files are read: /private/var/db/dslocal/nodes/Default/{users,groups}/*.plist, one
  property list per record whose keys are lower-case and every value an array of strings
  (the layout opendirectoryd writes; XML or binary plists, read with plistlib). No password
  hash is ever kept: dscl is never asked for ShadowHashData, and of a dslocal record only the
  names of its authentication authorities are looked at (";ShadowHash;" = a local password,
  ";DisabledUser;" = locked). UIDs below 500 are Apple's hidden system accounts (loginwindow
  lists users from 500 up; Apple's role accounts are named "_name" since Mac OS X 10.5).
- startup: launchd jobs (launchd.plist(5)) in /Library/LaunchDaemons, /Library/LaunchAgents and
  each user's ~/Library/LaunchAgents, every enabled one; Apple's own jobs in /System/Library/
  Launch{Daemons,Agents} only when an administrator switched on one that ships disabled (Remote
  Login's com.openssh.sshd, Screen Sharing's com.apple.screensharing…): the override database
  /private/var/db/com.apple.xpc.launchd/disabled.plist (label -> true/false, launchctl(1)
  enable/disable) wins over a plist's own Disabled key.
- settings: the application firewall (`socketfilterfw --getglobalstate`/`--getstealthmode`, else
  /Library/Preferences/com.apple.alf.plist globalstate 0/1/2, else the Firewall section of a
  recorded system_profiler report), FileVault (`fdesetup status`), SIP (`csrutil status`, else
  system_profiler's "System Integrity Protection"), Gatekeeper (`spctl --status`), Remote Login
  and Screen Sharing (their launchd jobs enabled, `launchctl list`, `systemsetup -getremotelogin`).

The recorded-file names of these commands and folders are registered with cbom.host below
(collect.sh writes them under these names on a Mac).
"""
from __future__ import annotations

import plistlib
import posixpath
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from cbom import vocabulary as V
from cbom.collector import Note, ScanContext
from cbom.host import register_command, register_file
from cbom.model import Component, Finding, Gap, HostFact, Item, Kind, Severity, make_ref

from ._accounts import login_shell
from ._common import POSTURE_CATEGORY, _gaps, _listdir, sudo_grants, unrecorded

__all__ = ["COMMANDS", "FILES", "LaunchdJob", "MacAccount", "MacGroup", "account_from_dslocal", "account_from_record",
           "collect_accounts", "collect_settings", "collect_startup", "group_from_dslocal", "parse_csrutil_status",
           "parse_dscl_list", "parse_dscl_records", "parse_fdesetup_status", "parse_launchctl_list",
           "parse_launchd_plist", "parse_launchd_overrides", "parse_socketfilterfw", "parse_sp_firewall",
           "parse_spctl_status", "parse_stealth", "parse_systemsetup_remotelogin", "password_state", "enabled",
           "switched_on", "EVERY_USER_AGENT"]

ACCOUNTS = "posture.accounts"
STARTUP = "posture.startup"
SETTINGS = "posture.settings"

# The attributes asked of every local user: never ShadowHashData (the hash) nor KerberosKeys.
USER_ATTRIBUTES = ("RecordName", "UniqueID", "PrimaryGroupID", "NFSHomeDirectory", "UserShell", "RealName",
                   "AuthenticationAuthority")
DSCL_READALL_USERS = ("dscl", ".", "-readall", "/Users") + USER_ATTRIBUTES
DSCL_LIST_SHELLS = ("dscl", ".", "-list", "/Users", "UserShell")
DSCL_GROUP_MEMBERS = ("dscl", ".", "-list", "/Groups", "GroupMembership")
DSCL_GROUP_IDS = ("dscl", ".", "-list", "/Groups", "PrimaryGroupID")
DSCL_READ_ADMIN = ("dscl", ".", "-read", "/Groups/admin")
SOCKETFILTERFW = "/usr/libexec/ApplicationFirewall/socketfilterfw"
DSLOCAL = "/private/var/db/dslocal/nodes/Default"
OVERRIDES = "/private/var/db/com.apple.xpc.launchd/disabled.plist"
ALF_PLIST = "/Library/Preferences/com.apple.alf.plist"
# launchd's job folders (launchd(8) "FILES"): (folder, daemon or agent, Apple's own).
LAUNCHD_DIRS = (("/Library/LaunchDaemons", "launchd-daemon", False), ("/Library/LaunchAgents", "launchd-agent", False),
                ("/System/Library/LaunchDaemons", "launchd-daemon", True),
                ("/System/Library/LaunchAgents", "launchd-agent", True))
# What a LaunchAgent's User column says: it runs in every user's session (cbom's words, not a name).
EVERY_USER_AGENT = "every user (launchd agent)"
PLIST_LIMIT = 1 << 20

# Command line prefix (lower case) -> recorded file names, as collect.sh writes them on a Mac.
COMMANDS: Dict[Tuple[str, ...], Tuple[str, ...]] = {
    ("dscl", ".", "-readall", "/users"): ("dscl-readall-users*",),
    ("dscl", ".", "-list", "/users", "usershell"): ("dscl-list-users-usershell*",),
    ("dscl", ".", "-list", "/groups", "groupmembership"): ("dscl-list-groups-groupmembership*",),
    ("dscl", ".", "-list", "/groups", "primarygroupid"): ("dscl-list-groups-primarygroupid*",),
    ("dscl", ".", "-read", "/groups/admin"): ("dscl-read-groups-admin*",),
    ("launchctl", "list"): ("launchctl-list*",),
    ("fdesetup", "status"): ("fdesetup-status*",),
    ("csrutil", "status"): ("csrutil-status*",),
    ("spctl", "--status"): ("spctl-status*",),
    (SOCKETFILTERFW.lower(), "--getglobalstate"): ("socketfilterfw-getglobalstate*",),
    (SOCKETFILTERFW.lower(), "--getstealthmode"): ("socketfilterfw-getstealthmode*",),
    ("systemsetup", "-getremotelogin"): ("systemsetup-getremotelogin*",),
}
# Host folder or file -> recorded copy (collect.sh copies the launchd folders and the override database).
FILES: Dict[str, Tuple[str, ...]] = {
    "/Library/LaunchDaemons": ("library-launchdaemons",),
    "/Library/LaunchAgents": ("library-launchagents",),
    "/System/Library/LaunchDaemons": ("system-library-launchdaemons",),
    "/System/Library/LaunchAgents": ("system-library-launchagents",),
    OVERRIDES: ("launchd-disabled.plist",),
    ALF_PLIST: ("com.apple.alf.plist",),
}
for _argv, _names in COMMANDS.items():
    register_command(_argv, _names)
for _path, _names in FILES.items():
    register_file(_path, _names)


# --- accounts: parsers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MacAccount:
    """What cbom keeps of one local user record (never its password hash)."""

    name: str
    uid: Optional[int] = None
    gid: Optional[int] = None
    home: str = ""
    shell: str = ""
    full_name: str = ""
    password: str = "unknown"  # set, locked, none, unknown
    password_changed: str = ""  # ISO 8601 UTC, from accountPolicyData passwordLastSetTime


@dataclass(frozen=True)
class MacGroup:
    name: str
    gid: Optional[int] = None
    members: Tuple[str, ...] = field(default=())


def parse_dscl_list(text: str) -> List[Tuple[str, str]]:
    """(record name, value) of each line of `dscl . -list /Path Attribute`: the name, spaces, then
    the value (several values separated by spaces); a record without the attribute has no value.
    A line of dots (an elision some people write into a pasted listing) is skipped."""
    out: List[Tuple[str, str]] = []
    for line in text.splitlines():
        name, _, value = line.strip().partition(" ")
        if not name or not name.strip("."):
            continue
        out.append((name, value.strip()))
    return out


# "Attribute: value", "Attribute:" (the value follows on lines that start with a space), and native
# attributes whose name carries its own colon ("dsAttrTypeNative:accountPolicyData:").
_DSCL_KEY = re.compile(r"^((?:dsAttrType\w+:)?[A-Za-z_][\w.\-]*):(?: (.*))?$")


def parse_dscl_records(text: str) -> List[Dict[str, List[str]]]:
    """Records of `dscl . -read PATH` (one) or `dscl . -readall PATH` (several, a "-" line between
    them): attribute -> values. One-line values are split on spaces (GroupMembership: root alice);
    a value continued on the next lines is kept whole, one item per line (RealName:\\n It's a feature)."""
    records: List[Dict[str, List[str]]] = []
    current: Dict[str, List[str]] = {}
    key = ""
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if raw.strip() == "-":
            if current:
                records.append(current)
            current, key = {}, ""
            continue
        m = _DSCL_KEY.match(raw)
        if m:
            key = m.group(1)
            value = m.group(2)
            current[key] = value.split() if value else []
        elif key and raw.strip():
            current[key].append(raw[1:] if raw.startswith(" ") else raw)
    if current:
        records.append(current)
    return records


def _int(values: Sequence[str]) -> Optional[int]:
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None


def password_state(authorities: Sequence[str], passwd: Sequence[str] = ()) -> str:
    """set / locked / none / unknown from a user's AuthenticationAuthority values (their names only:
    ";ShadowHash;HASHLIST:<SALTED-SHA512-PBKDF2>" names the hash types, not the hash)."""
    joined = " ".join(authorities)
    if ";DisabledUser;" in joined:
        return "locked"  # dsenableroot -d, or an administrator disabling the account
    if ";ShadowHash;" in joined or ";LocalCachedUser;" in joined or ";Kerberosv5;" in joined:
        return "set"
    if not authorities and passwd and passwd[0] == "*":
        return "none"  # no authority and "*": no password log-on (root until dsenableroot)
    return "unknown"


def _policy_time(values: Sequence[str]) -> str:
    """passwordLastSetTime of an accountPolicyData plist (seconds since 1970), ISO 8601 UTC."""
    text = "\n".join(values).strip()
    if not text:
        return ""
    try:
        policy = plistlib.loads(text.encode("utf-8"))
    except Exception:  # plistlib raises several types (ExpatError, InvalidFileException…)
        return ""
    when = policy.get("passwordLastSetTime") if isinstance(policy, dict) else None
    if not isinstance(when, (int, float)) or when <= 0:
        return ""
    return datetime.fromtimestamp(float(when), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def account_from_record(record: Dict[str, List[str]]) -> Optional[MacAccount]:
    """A user of a `dscl . -read(all) /Users` record; None without a RecordName."""
    names = record.get("RecordName", [])
    if not names:
        return None
    return MacAccount(
        name=names[0], uid=_int(record.get("UniqueID", [])), gid=_int(record.get("PrimaryGroupID", [])),
        home=" ".join(record.get("NFSHomeDirectory", [])), shell=" ".join(record.get("UserShell", [])),
        full_name=" ".join(record.get("RealName", [])),
        password=password_state(record.get("AuthenticationAuthority", []), record.get("Password", [])),
        password_changed=_policy_time(record.get("dsAttrTypeNative:accountPolicyData", [])))


def _load_plist(data: bytes) -> Any:
    """A property list (XML or binary, plistlib); ValueError when it is neither."""
    try:
        return plistlib.loads(data)
    except Exception as exc:  # InvalidFileException, ExpatError, OverflowError… all mean "not a plist"
        raise ValueError(f"not a property list ({type(exc).__name__})") from exc


def _strings(record: Dict[str, Any], key: str) -> List[str]:
    value = record.get(key, [])
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def account_from_dslocal(data: bytes) -> MacAccount:
    """A user of a dslocal users/NAME.plist. Of ShadowHashData nothing is read: only the
    authority names decide the password state. Raises ValueError for a damaged file."""
    record = _load_plist(data)
    if not isinstance(record, dict) or not _strings(record, "name"):
        raise ValueError("not a directory user record (no name)")
    policy = record.get("accountPolicyData", [])
    policy_text = ""
    if isinstance(policy, list) and policy and isinstance(policy[0], bytes):
        policy_text = policy[0].decode("utf-8", "replace")
    return MacAccount(
        name=_strings(record, "name")[0], uid=_int(_strings(record, "uid")), gid=_int(_strings(record, "gid")),
        home=" ".join(_strings(record, "home")), shell=" ".join(_strings(record, "shell")),
        full_name=" ".join(_strings(record, "realname")),
        password=password_state(_strings(record, "authentication_authority"), _strings(record, "passwd")),
        password_changed=_policy_time([policy_text]))


def group_from_dslocal(data: bytes) -> MacGroup:
    """A group of a dslocal groups/NAME.plist (name, gid, users). Raises ValueError."""
    record = _load_plist(data)
    if not isinstance(record, dict) or not _strings(record, "name"):
        raise ValueError("not a directory group record (no name)")
    return MacGroup(_strings(record, "name")[0], _int(_strings(record, "gid")), tuple(_strings(record, "users")))


# --- shared helpers (the package's are in _common) -----------------------------------------------


def _read_bytes(ctx: ScanContext, path: str, gaps: List[str]) -> Optional[bytes]:
    try:
        return ctx.read_bytes(path, PLIST_LIMIT)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as exc:
        gaps.append(f"cannot read {path}: {exc.strerror or exc}")
        return None


def _plists(ctx: ScanContext, folder: str, gaps: List[str]) -> Iterator[Tuple[str, bytes]]:
    """(path, bytes) of every readable *.plist of `folder` (an unreadable one is a gap)."""
    for name in _listdir(ctx, folder, gaps):
        if name.endswith(".plist"):
            path = posixpath.join(folder, name)
            data = _read_bytes(ctx, path, gaps)
            if data is not None:
                yield path, data


def _run_text(ctx: ScanContext, argv: Sequence[str], gaps: List[str], what: str,
              absent: Optional[List[str]] = None) -> Optional[str]:
    """stdout of `argv` when it succeeded; else None and a gap saying `what` is unknown and why. A
    command that is not there (not recorded, not installed: exit 127) goes to `absent` instead, when
    given, so that one gap can name them all."""
    res = ctx.run(list(argv), timeout=20)
    if res.ok and res.stdout.strip():
        return res.stdout
    if res.rc == 127 and absent is not None:
        absent.append(what)
    elif res.rc != 127 or ctx.recorded is False:
        gaps.append(f"{what} unknown: {res.why()}")
    return None


def _system_account(account: MacAccount) -> bool:
    """A hidden system account: UID below 500 (Apple's role accounts and root, daemon, nobody at -2);
    without a UID, Apple's naming: role accounts start with "_"."""
    if account.uid is not None:
        return account.uid < 500
    return account.name.startswith("_") or account.name in ("root", "daemon", "nobody")


# --- accounts: collection ------------------------------------------------------------------------


def _dscl_accounts(ctx: ScanContext, gaps: List[str]) -> List[MacAccount]:
    """Users from dscl: full records, else names and shells."""
    text = _run_text(ctx, DSCL_READALL_USERS, gaps, "local user records")
    if text is not None:
        found = [a for a in (account_from_record(r) for r in parse_dscl_records(text)) if a is not None]
        if found:
            return found
    text = _run_text(ctx, DSCL_LIST_SHELLS, gaps, "local users")
    if text is not None:
        rows = parse_dscl_list(text)
        if rows:
            gaps.append("only `dscl . -list /Users UserShell` answered: UIDs, homes and password states unknown")
            return [MacAccount(name=n, shell=v) for n, v in rows]
    return []


def _dslocal_accounts(ctx: ScanContext, gaps: List[str]) -> Tuple[List[MacAccount], List[MacGroup]]:
    accounts: List[MacAccount] = []
    groups: List[MacGroup] = []
    for kind in ("users", "groups"):
        folder = f"{DSLOCAL}/{kind}"
        for path, data in _plists(ctx, folder, gaps):
            try:
                if kind == "users":
                    accounts.append(account_from_dslocal(data))
                else:
                    groups.append(group_from_dslocal(data))
            except ValueError as exc:
                gaps.append(f"{path}: {exc}")
            del data
    return accounts, groups


def _dscl_groups(ctx: ScanContext, gaps: List[str]) -> List[MacGroup]:
    text = _run_text(ctx, DSCL_GROUP_MEMBERS, gaps, "group members")
    if text is not None:
        ids: Dict[str, Optional[int]] = {}
        id_text = _run_text(ctx, DSCL_GROUP_IDS, [], "group ids")
        for name, value in parse_dscl_list(id_text or ""):
            ids[name] = _int(value.split())
        return [MacGroup(n, ids.get(n), tuple(v.split())) for n, v in parse_dscl_list(text)]
    text = _run_text(ctx, DSCL_READ_ADMIN, gaps, "administrators (admin group)")
    for record in parse_dscl_records(text or ""):
        if "GroupMembership" in record or "PrimaryGroupID" in record:
            return [MacGroup("admin", _int(record.get("PrimaryGroupID", [])), tuple(record.get("GroupMembership", [])))]
    return []


# Groups whose members administer the Mac: admin (gid 80: the administrator accounts of System
# Settings, and "%admin ALL = (ALL) ALL" in macOS's stock /etc/sudoers) and wheel (gid 0, su(1)).
# com.apple.access_ssh / _screensharing only restrict who may use a sharing service: a setting.
MAC_ADMIN_GROUPS = ("admin",)
MAC_PRIVILEGED_GROUPS = ("admin", "wheel")


def collect_accounts(ctx: ScanContext, name: str = ACCOUNTS) -> Iterator[Item]:
    """One component per local user (hidden system accounts marked), groups with members, admin reasons;
    `name` is the collector its findings name."""

    gaps: List[str] = []
    accounts: List[MacAccount] = []
    groups: List[MacGroup] = []
    if ctx.recorded and ctx.which("dscl") is None:
        missing = unrecorded(ctx, "local directory listing (dscl . -readall /Users, dslocal)", DSLOCAL)
        if missing:
            yield missing
            return
    if ctx.live:
        accounts = _dscl_accounts(ctx, gaps)
        groups = _dscl_groups(ctx, gaps) if accounts else []
    if not accounts:
        accounts, groups = _dslocal_accounts(ctx, gaps)
    if not accounts:
        yield Gap("no local user records (dscl, or " + DSLOCAL + "/users): accounts unknown")
        yield from _gaps(gaps)
        return
    by_gid = {g.gid: g.name for g in groups if g.gid is not None}
    member_of: Dict[str, List[str]] = {}
    for g in groups:
        for m in g.members:
            member_of.setdefault(m, []).append(g.name)
    # macOS's stock /etc/sudoers grants "%admin ALL = (ALL) ALL"; read like Linux's (needs root).
    sudo_users, sudo_groups, _read = sudo_grants(ctx, gaps)
    for acct in accounts:
        props: List[Tuple[str, str]] = [(V.POSTURE_KIND, "account")]
        if acct.uid is not None:
            props.append((V.ACCOUNT_UID, str(acct.uid)))
        if acct.gid is not None:
            props.append((V.ACCOUNT_GID, str(acct.gid)))
        if acct.home:
            props.append((V.ACCOUNT_HOME, acct.home))
        if acct.shell:
            props += [(V.ACCOUNT_SHELL, acct.shell), (V.ACCOUNT_LOGIN, str(login_shell(acct.shell)).lower())]
        props.append((V.ACCOUNT_SYSTEM, str(_system_account(acct)).lower()))
        if acct.full_name:
            props.append((V.ACCOUNT_FULL_NAME, acct.full_name))
        props.append((V.ACCOUNT_PASSWORD, acct.password))
        if acct.password_changed:
            props.append((V.ACCOUNT_PASSWORD_CHANGED, acct.password_changed))
        names = sorted(set(member_of.get(acct.name, [])) | ({by_gid[acct.gid]} if acct.gid in by_gid else set()))
        props += [(V.ACCOUNT_GROUP, g) for g in names]
        admin = (["uid 0"] if acct.uid == 0 else []) + [f"group {g}" for g in names if g in MAC_ADMIN_GROUPS] + \
            (["sudoers"] if acct.name in sudo_users else []) + [f"sudoers %{g}" for g in names if g in sudo_groups]
        props += [(V.ACCOUNT_ADMIN, why) for why in admin]
        comp = Component(category=POSTURE_CATEGORY, kind=Kind.DATA, name=acct.name, description=acct.full_name,
                         ref=make_ref("account", acct.name), properties=tuple(props))
        yield comp
        if acct.uid == 0 and acct.name != "root":
            yield Finding(id="CBOM-ACCOUNT-EXTRA-UID0", title=f"account {acct.name} has uid 0 (root's powers)",
                          severity=Severity.HIGH, evidence=("dscl . -readall /Users",), refs=(comp.ref,),
                          collector=name)
        if acct.name == "root" and acct.password == "set":
            # macOS ships root without any authority (Password "*"): a local password means someone
            # enabled it (dsenableroot, Directory Utility).
            yield Finding(id="CBOM-ACCOUNT-ROOT-ENABLED", title="the root account is enabled (it has a password)",
                          severity=Severity.MEDIUM, detail="macOS ships root disabled; dsenableroot -d disables it",
                          evidence=("AuthenticationAuthority: ShadowHash",), refs=(comp.ref,), collector=name)
    for g in groups:
        privileged = g.name in MAC_PRIVILEGED_GROUPS or g.name in sudo_groups
        if not (g.members or privileged):
            continue
        members = sorted(set(g.members) | {a.name for a in accounts if a.gid is not None and a.gid == g.gid})
        props = [(V.POSTURE_KIND, "group")] + ([(V.GROUP_GID, str(g.gid))] if g.gid is not None else [])
        props += [(V.GROUP_MEMBER, m) for m in members]
        if g.name in sudo_groups:
            props.append((V.ACCOUNT_ADMIN, f"sudoers %{g.name}"))
        elif privileged:
            props.append((V.ACCOUNT_ADMIN, "administrators" if g.name in MAC_ADMIN_GROUPS else "privileged group"))
        yield Component(category=POSTURE_CATEGORY, kind=Kind.DATA, name=g.name, ref=make_ref("group", g.name),
                        properties=tuple(props))
    yield from _gaps(gaps)


# --- startup: launchd ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LaunchdJob:
    """The keys of a launchd job description an auditor reads (launchd.plist(5))."""

    label: str
    command: str  # Program, else ProgramArguments[0], with the arguments after it
    disabled: bool = False
    user: str = ""  # UserName (a daemon runs as root without it)
    triggers: Tuple[str, ...] = ()  # RunAtLoad, KeepAlive, StartInterval=3600s, on demand (socket ssh)…


def _interval(entry: Any) -> str:
    if not isinstance(entry, dict):
        return ""
    return " ".join(f"{k}={entry[k]}" for k in ("Month", "Day", "Weekday", "Hour", "Minute") if k in entry)


def parse_launchd_plist(data: bytes) -> LaunchdJob:
    """A launchd job from its plist (XML or binary). Raises ValueError when the file is not a
    property list or not a job (no Label, nothing to run)."""
    job = _load_plist(data)
    if not isinstance(job, dict) or not isinstance(job.get("Label"), str):
        raise ValueError("not a launchd job (no Label)")
    program = job.get("Program") if isinstance(job.get("Program"), str) else ""
    raw_args = job.get("ProgramArguments")
    args = [str(a) for a in raw_args] if isinstance(raw_args, list) else []
    # With both, Program is what runs and ProgramArguments[0] only its argv[0] (launchd.plist(5)).
    parts = ([program] + args[1:]) if program else args
    if not parts:
        raise ValueError(f"launchd job {job['Label']} names no Program nor ProgramArguments")
    command = " ".join(p if " " not in p else f'"{p}"' for p in parts)
    triggers: List[str] = []
    if job.get("RunAtLoad") is True:
        triggers.append("RunAtLoad")
    keep = job.get("KeepAlive")
    if keep is True:
        triggers.append("KeepAlive")
    elif isinstance(keep, dict) and keep:
        triggers.append("KeepAlive " + ",".join(sorted(str(k) for k in keep)))
    if job.get("OnDemand") is False:  # the pre-10.5 spelling of KeepAlive
        triggers.append("KeepAlive (OnDemand false)")
    if isinstance(job.get("StartInterval"), int):
        triggers.append(f"StartInterval={job['StartInterval']}s")
    calendar = job.get("StartCalendarInterval")
    for entry in calendar if isinstance(calendar, list) else [calendar] if calendar is not None else []:
        when = _interval(entry)
        triggers.append(f"StartCalendarInterval {when}".strip())
    for key in ("WatchPaths", "QueueDirectories"):
        if isinstance(job.get(key), list) and job[key]:
            triggers.append(f"{key}=" + ",".join(str(p) for p in job[key]))
    if job.get("StartOnMount") is True:
        triggers.append("StartOnMount")
    sockets = job.get("Sockets")
    if isinstance(sockets, dict) and sockets:
        names: List[str] = []
        for listeners in sockets.values():
            for sock in listeners if isinstance(listeners, list) else [listeners]:
                if isinstance(sock, dict):
                    names += [str(sock[k]) for k in ("SockServiceName", "SockPathName", "SecureSocketWithKey")
                              if k in sock]
        triggers.append("on demand (socket " + ",".join(names or ["?"]) + ")")
    return LaunchdJob(label=job["Label"], command=command, disabled=job.get("Disabled") is True,
                      user=job["UserName"] if isinstance(job.get("UserName"), str) else "", triggers=tuple(triggers))


def parse_launchd_overrides(data: bytes) -> Dict[str, bool]:
    """label -> disabled of launchd's override database (disabled.plist, `launchctl enable/disable`).
    Raises ValueError."""
    table = _load_plist(data)
    if not isinstance(table, dict):
        raise ValueError("not a launchd override table")
    return {str(k): v for k, v in table.items() if isinstance(v, bool)}


def parse_launchctl_list(text: str) -> Dict[str, Tuple[str, str]]:
    """label -> (PID or "-", last exit status) of `launchctl list` ("PID\\tStatus\\tLabel" header)."""
    out: Dict[str, Tuple[str, str]] = {}
    for line in text.splitlines():
        parts = line.split("\t") if "\t" in line else line.split()
        if len(parts) != 3 or parts[0] == "PID":
            continue
        pid, status, label = (p.strip() for p in parts)
        if label and (pid == "-" or pid.isdigit()):
            out[label] = (pid, status)
    return out


def _overrides(ctx: ScanContext, gaps: List[str]) -> Optional[Dict[str, bool]]:
    """The override database; {} when there is none, None when it could not be read (root only on
    a running Mac): then whether a job was switched on or off with launchctl is unknown."""
    try:
        data = ctx.read_bytes(OVERRIDES, PLIST_LIMIT)
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except OSError as exc:
        gaps.append(f"cannot read {OVERRIDES}: {exc.strerror or exc} (jobs switched on or off with launchctl unknown)")
        return None
    try:
        return parse_launchd_overrides(data)
    except ValueError as exc:
        gaps.append(f"{OVERRIDES}: {exc}")
        return None


def _jobs(ctx: ScanContext, gaps: List[str], apple_too: bool) -> Iterator[Tuple[str, str, bool, str, LaunchdJob]]:
    """(kind, path, Apple's, user folder owner, job) of every parsable job of the launchd folders
    (Apple's own folders, some 400 jobs, only with `apple_too`)."""
    folders: List[Tuple[str, str, bool, str]] = [(f, k, apple, "") for f, k, apple in LAUNCHD_DIRS
                                                 if apple_too or not apple]
    for home in ctx.glob("/Users/*/Library/LaunchAgents"):
        folders.append((home, "launchd-agent", False, home.split("/")[2]))
    for folder, kind, apple, owner in folders:
        for path, data in _plists(ctx, folder, gaps):
            try:
                yield kind, path, apple, owner, parse_launchd_plist(data)
            except ValueError as exc:
                gaps.append(f"{path}: {exc}")


def enabled(job: LaunchdJob, overrides: Optional[Dict[str, bool]]) -> bool:
    """launchd loads a job unless the override database, or else its own Disabled key, disables it
    (an unreadable database: the job's own key)."""
    return not (overrides or {}).get(job.label, job.disabled)


def switched_on(job: LaunchdJob, overrides: Optional[Dict[str, bool]]) -> bool:
    """An Apple job that ships disabled and that an administrator enabled (override false)."""
    return job.disabled and overrides is not None and overrides.get(job.label) is False


def collect_startup(ctx: ScanContext, name: str = STARTUP) -> Iterator[Item]:
    """Every enabled third-party launchd job, and Apple's jobs an administrator switched on."""

    missing = unrecorded(ctx, "launchd job folders", "/Library/LaunchDaemons", "/Library/LaunchAgents")
    if missing:
        yield missing
        return
    gaps: List[str] = []
    overrides = _overrides(ctx, gaps)
    # Apple's folders matter only when some job was switched on in the override database.
    apple_too = overrides is not None and False in overrides.values()
    for kind, path, apple, owner, job in _jobs(ctx, gaps, apple_too):
        if not enabled(job, overrides) or (apple and not switched_on(job, overrides)):
            continue
        if kind == "launchd-daemon":
            user = job.user or "root"
        else:
            user = owner or job.user or EVERY_USER_AGENT
        props: List[Tuple[str, str]] = [(V.POSTURE_KIND, "startup"), (V.STARTUP_TYPE, kind)]
        props += [(V.STARTUP_SCHEDULE, t) for t in job.triggers]
        props += [(V.STARTUP_USER, user), (V.STARTUP_COMMAND, job.command),
                  (V.STARTUP_ORIGIN, "vendor" if apple else "local"), (V.STARTUP_PATH, path)]
        yield Component(category=POSTURE_CATEGORY, kind=Kind.APPLICATION, name=job.label,
                        ref=make_ref("startup", kind, job.label, owner), properties=tuple(props))
    yield from _gaps(gaps)


# --- settings: parsers ---------------------------------------------------------------------------


def parse_socketfilterfw(text: str) -> Optional[int]:
    """The application firewall's global state of `socketfilterfw --getglobalstate`: "Firewall is
    enabled. (State = 1)"; 0 off, 1 on, 2 block all incoming. None when not recognised."""
    m = re.search(r"\(State = (\d)\)", text)
    if m:
        return int(m.group(1))
    low = text.lower()
    if "firewall is disabled" in low:
        return 0
    if "firewall is enabled" in low:
        return 1
    if "block all" in low and "enabled" in low:
        return 2
    return None


def parse_stealth(text: str) -> Optional[bool]:
    """`socketfilterfw --getstealthmode`: "Firewall stealth mode is on" (macOS 13+) or
    "Stealth mode enabled" (earlier)."""
    low = text.lower()
    if re.search(r"stealth mode (is on|enabled)", low):
        return True
    if re.search(r"stealth mode (is off|disabled)", low):
        return False
    return None


def parse_fdesetup_status(text: str) -> str:
    """on / off / encrypting / decrypting / "" of `fdesetup status` (fdesetup(8): "FileVault is On.",
    "FileVault is Off.", "Encryption in progress: Percent completed = 42.0")."""
    low = text.lower()
    if "encryption in progress" in low:
        return "encrypting"
    if "decryption in progress" in low:
        return "decrypting"
    m = re.search(r"filevault is (on|off)\b", low)
    return m.group(1) if m else ""


def parse_csrutil_status(text: str) -> str:
    """enabled / disabled / "enabled (custom configuration)" of `csrutil status` ("System Integrity
    Protection status: enabled." — "enabled (Custom Configuration)." with some protections off)."""
    m = re.search(r"System Integrity Protection status:\s*(enabled|disabled)\s*(\(custom configuration\))?",
                  text, re.I)
    if not m:
        return ""
    return m.group(1).lower() + (" (custom configuration)" if m.group(2) else "")


def parse_spctl_status(text: str) -> str:
    """enabled / disabled of `spctl --status` ("assessments enabled": Gatekeeper checks apps)."""
    m = re.search(r"assessments (enabled|disabled)", text)
    return m.group(1) if m else ""


def parse_systemsetup_remotelogin(text: str) -> str:
    """on / off of `systemsetup -getremotelogin` ("Remote Login: On")."""
    m = re.search(r"Remote Login:\s*(On|Off)\b", text, re.I)
    return m.group(1).lower() if m else ""


def parse_sp_firewall(text: str) -> Dict[str, str]:
    """The "Firewall Settings" of a system_profiler text report (SPFirewallDataType):
    {"Mode": …, "Firewall Logging": …, "Stealth Mode": …, "services": "Remote Login (SSH): Allow all
    connections; …"}. Mode "Allow all incoming connections" is the firewall off."""
    out: Dict[str, str] = {}
    lines = text.replace("\r\n", "\n").split("\n")
    start = next((i for i, ln in enumerate(lines) if ln.strip() == "Firewall Settings:"), None)
    if start is None:
        return out
    base = len(lines[start]) - len(lines[start].lstrip())
    list_name = ""
    entries: Dict[str, List[str]] = {}
    for line in lines[start + 1:]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= base:
            break
        key, _, value = line.strip().partition(":")
        value = value.strip()
        if not value:
            list_name = key
            entries.setdefault(key, [])
            continue
        if list_name and indent > base + 2 and key not in ("Mode", "Firewall Logging", "Stealth Mode"):
            entries[list_name].append(f"{key}: {value}")
        else:
            list_name = ""
            out[key] = value
    for name, items in entries.items():
        if items:
            out[name.lower()] = "; ".join(items)
    return out


def _sp_sip(text: str) -> str:
    m = re.search(r"^\s*System Integrity Protection:\s*(\S+)", text, re.M)
    return m.group(1).lower() if m else ""


# --- settings: collection ------------------------------------------------------------------------


# Apple's remote-access daemons: both ship with Disabled true; System Settings > Sharing switches them
# on in the override database (launchctl enable system/LABEL).
REMOTE_JOBS = (("Remote Login (SSH server)", "com.openssh.sshd", "/System/Library/LaunchDaemons/ssh.plist"),
               ("Screen Sharing (VNC server)", "com.apple.screensharing",
                "/System/Library/LaunchDaemons/com.apple.screensharing.plist"))


def _system_profiler_texts(ctx: ScanContext) -> List[str]:
    """Recorded system_profiler text reports (a recording may hold several: one per OS release)."""
    if not ctx.recorded:
        return []
    return [r.stdout for r in ctx.run_each(["system_profiler"]) if r.ok and not
            r.stdout.lstrip().startswith(("<?xml", "<plist", "{", "<!DOCTYPE"))]


def _firewall(ctx: ScanContext, gaps: List[str], absent: List[str]) -> Tuple[str, Optional[int], List[str], str]:
    """(firewall fact, global state, evidence, services the firewall lists as allowed)."""
    state: Optional[int] = None
    evidence: List[str] = []
    services = ""
    words = {0: "off", 1: "on", 2: "on, blocking all incoming connections"}
    if ctx.live:
        text = _run_text(ctx, (SOCKETFILTERFW, "--getglobalstate"), gaps, "application firewall state", absent)
        if text is not None:
            state = parse_socketfilterfw(text)
            evidence.append(text.strip().splitlines()[0])
    if state is None:
        data = _read_bytes(ctx, ALF_PLIST, gaps)
        if data is not None:
            try:
                prefs = _load_plist(data)
                value = prefs.get("globalstate") if isinstance(prefs, dict) else None
                if isinstance(value, int) and not isinstance(value, bool):
                    state = value
                    evidence.append(f"{ALF_PLIST} globalstate = {value}")
            except ValueError as exc:
                gaps.append(f"{ALF_PLIST}: {exc}")
    extra: List[str] = []
    if state is None:
        for report in _system_profiler_texts(ctx):
            fw = parse_sp_firewall(report)
            if "Mode" in fw:
                mode = fw["Mode"].lower()
                state = 0 if mode.startswith("allow all") else (2 if mode.startswith("block all") else 1)
                evidence.append(f"system_profiler Firewall Mode: {fw['Mode']}")
                extra += [fw["Mode"]] + [f"{k}: {v}" for k, v in fw.items()
                                         if k not in ("Mode", "applications", "services")]
                services = fw.get("services", "")
                break
    if state is None:
        return "", None, evidence, services
    if "application firewall state" in absent:
        absent.remove("application firewall state")  # known from the preferences or system_profiler
    if ctx.live:
        stealth = parse_stealth(_run_text(ctx, (SOCKETFILTERFW, "--getstealthmode"), [], "stealth mode", []) or "")
        if stealth is not None:
            extra.append(f"stealth mode {'on' if stealth else 'off'}")
    fact = f"application firewall {words.get(state, f'state {state}')}"
    return fact + (f" ({'; '.join(extra)})" if extra else ""), state, evidence, services


def _enabled_remote_jobs(ctx: ScanContext, gaps: List[str], installed: List[str]) -> Dict[str, str]:
    """label -> how it is known to be on, for the remote-access jobs; the labels of those whose
    job file is there but not enabled go to `installed`."""
    overrides = _overrides(ctx, gaps)
    on: Dict[str, str] = {}
    for _name, label, path in REMOTE_JOBS:
        data = _read_bytes(ctx, path, [])
        job = None
        if data is not None:
            try:
                job = parse_launchd_plist(data)
            except ValueError:
                job = None
        if job is None:
            continue
        if switched_on(job, overrides):
            on[label] = f"enabled in {OVERRIDES}"
        elif not job.disabled and overrides is not None and overrides.get(label) is not True:
            on[label] = f"{path} has no Disabled key"
        elif overrides is None:
            gaps.append(f"{label}: on or off unknown (the launchd override database could not be read)")
        else:
            installed.append(label)
    if ctx.live:
        res = ctx.run(["launchctl", "list"], timeout=20)
        if res.ok:
            loaded = parse_launchctl_list(res.stdout)
            for _name, label, _path in REMOTE_JOBS:
                if label in loaded:
                    on.setdefault(label, "loaded (launchctl list)")
    return on


# The sharing services as the firewall of Mac OS X 10.5-10.6 lists them (its "Services", turned on
# in the Sharing preferences and let in), by their launchd label.
SP_SERVICES = (("Remote Login", "com.openssh.sshd"), ("Screen Sharing", "com.apple.screensharing"))


def collect_settings(ctx: ScanContext, name: str = SETTINGS) -> Iterator[Item]:
    """Host facts for the firewall, FileVault, SIP, Gatekeeper and remote access, with findings
    (`name`: the collector they name)."""

    gaps: List[str] = []
    absent: List[str] = []
    if not ctx.live:
        yield Note("FileVault, SIP and Gatekeeper are asked of the running macOS, not read from a disk image")
    fact, state, evidence, services = _firewall(ctx, gaps, absent)
    if not fact and "application firewall state" not in absent:
        gaps.append(f"application firewall state unknown: no {ALF_PLIST} and no system_profiler report")
    if fact:
        yield HostFact(V.posture_fact("firewall"), fact)
        if state == 0:
            yield Finding(id="CBOM-FIREWALL-OFF", title="the macOS application firewall is off", severity=Severity.LOW,
                          detail="every listening service is reachable from the network",
                          evidence=tuple(evidence), collector=name)
    if ctx.live:
        text = _run_text(ctx, ("fdesetup", "status"), gaps, "FileVault state", absent)
        if text is not None:
            fv = parse_fdesetup_status(text)
            yield HostFact(V.posture_fact("disk-encryption"), f"FileVault {fv}" if fv else text.strip()[:200])
            if fv == "off":
                yield Finding(id="CBOM-DISK-NOT-ENCRYPTED", title="FileVault is off: the startup disk is not encrypted",
                              severity=Severity.MEDIUM, evidence=(text.strip().splitlines()[0],), collector=name)
        text = _run_text(ctx, ("csrutil", "status"), gaps, "System Integrity Protection", absent)
        sip = parse_csrutil_status(text or "")
        if not sip:
            sip = next((s for s in (_sp_sip(t) for t in _system_profiler_texts(ctx)) if s), "")
            if sip and "System Integrity Protection" in absent:
                absent.remove("System Integrity Protection")
        if sip:
            yield HostFact(V.posture_fact("sip"), sip)
            if sip != "enabled":
                yield Finding(id="CBOM-SIP-OFF", title=f"System Integrity Protection is {sip}",
                              severity=Severity.HIGH if sip == "disabled" else Severity.MEDIUM,
                              detail="root can then modify the system and load unsigned kernel extensions",
                              collector=name)
        text = _run_text(ctx, ("spctl", "--status"), gaps, "Gatekeeper", absent)
        gk = parse_spctl_status(text or "")
        if gk:
            yield HostFact(V.posture_fact("gatekeeper"), gk)
            if gk == "disabled":
                yield Finding(id="CBOM-GATEKEEPER-OFF", title="Gatekeeper is disabled: unsigned apps run unchecked",
                              severity=Severity.MEDIUM, collector=name)
    installed: List[str] = []
    remote = _enabled_remote_jobs(ctx, gaps, installed)
    for label_text, label in SP_SERVICES:
        item = next((s.strip() for s in services.split(";") if s.strip().startswith(label_text)), "")
        if item:
            remote.setdefault(label, f"the firewall lets it in: {item} (system_profiler)")
    if ctx.live and "com.openssh.sshd" not in remote:
        text = _run_text(ctx, ("systemsetup", "-getremotelogin"), [], "Remote Login", [])
        if parse_systemsetup_remotelogin(text or "") == "on":
            remote["com.openssh.sshd"] = "systemsetup -getremotelogin: On"
    for label_name, label, _path in REMOTE_JOBS:
        if label in remote:
            yield HostFact(V.posture_fact("remote-access"), f"{label_name}: enabled ({remote[label]})")
            if label != "com.openssh.sshd":  # SSH is the administrator's own tool; VNC/ARD are the risk
                yield Finding(id="CBOM-REMOTE-ACCESS", title=f"{label_name} starts by itself", severity=Severity.MEDIUM,
                              detail="remote-access software reachable from outside the plant network",
                              evidence=(remote[label],), collector=name)
        elif label in installed:
            yield HostFact(V.posture_fact("remote-access"), f"{label_name}: installed, not enabled")
    if ctx.live:
        text = _run_text(ctx, DSCL_GROUP_MEMBERS, [], "group members", [])
        for group, members in parse_dscl_list(text or ""):
            if group == "com.apple.access_ssh":
                yield HostFact(V.posture_fact("ssh-access-group"), members or "(empty)")
    if absent:
        how = "not recorded" if ctx.recorded else "the commands are missing"
        yield Gap(f"{', '.join(absent)} unknown: {how}")
    yield from _gaps(gaps)
