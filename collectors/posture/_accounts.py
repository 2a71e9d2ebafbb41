"""Local accounts and groups from passwd(5), shadow(5), group(5) and sudoers(5) text.

Nothing of a password hash leaves `password_state`: the shadow field is reduced on the spot to
set / locked / none / empty, the words `passwd -S` uses (passwd(1), shadow-utils 4.13).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Dict, List, Optional, Set, Tuple

__all__ = ["Account", "Group", "login_shell", "parse_group", "parse_login_defs", "parse_passwd", "parse_shadow",
           "parse_sudoers", "password_state"]

NOLOGIN = ("/nologin", "/false", "/bin/sync", "/sbin/halt", "/sbin/shutdown")


@dataclass(frozen=True)
class Account:
    """One line of /etc/passwd."""

    name: str
    uid: int
    gid: int
    gecos: str
    home: str
    shell: str


@dataclass(frozen=True)
class Shadow:
    """What cbom keeps of one /etc/shadow line: never the hash."""

    password: str  # set, locked, none, empty
    changed: Optional[date] = None
    max_days: Optional[int] = None  # None: the field is empty (no maximum)
    expires: Optional[date] = None


@dataclass(frozen=True)
class Group:
    name: str
    gid: int
    members: Tuple[str, ...] = field(default=())


def parse_passwd(text: str) -> List[Account]:
    """Every well-formed passwd entry (NIS "+" lines and damaged lines are skipped)."""
    out = []
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) < 7 or not parts[0] or parts[0][0] in "+-#":
            continue
        try:
            uid, gid = int(parts[2]), int(parts[3])
        except ValueError:
            continue
        out.append(Account(parts[0], uid, gid, parts[4], parts[5], ":".join(parts[6:])))
    return out


def password_state(field_: str) -> str:
    """set / locked / none / empty for a shadow password field; the field itself is not kept."""
    if field_ == "":
        return "empty"  # a log-on without any password (shadow(5))
    if field_.startswith("!"):
        rest = field_.lstrip("!")
        return "locked" if rest and rest not in ("*", "x") else "none"
    if field_[0] in "*x" or len(field_) < 13 and not field_.startswith("$"):
        return "none"  # "*" or any string crypt(3) can never produce: no password log-on
    return "set"


def _day(value: str) -> Optional[date]:
    """A shadow date field (days since 1970-01-01), or None when empty or 0-as-"change now"."""
    if not value.strip().isdigit():
        return None
    return date(1970, 1, 1) + timedelta(days=int(value))


def parse_shadow(text: str) -> Dict[str, Shadow]:
    """Password state and ageing per account name."""
    out: Dict[str, Shadow] = {}
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) < 2 or not parts[0]:
            continue
        parts += [""] * (9 - len(parts))
        max_days = int(parts[4]) if parts[4].strip().isdigit() else None
        changed = _day(parts[2]) if parts[2].strip() != "0" else None
        out[parts[0]] = Shadow(password_state(parts[1]), changed, max_days, _day(parts[7]))
    return out


def parse_group(text: str) -> List[Group]:
    out = []
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) < 4 or not parts[0] or parts[0][0] in "+-#":
            continue
        try:
            gid = int(parts[2])
        except ValueError:
            continue
        out.append(Group(parts[0], gid, tuple(m for m in parts[3].split(",") if m)))
    return out


def parse_login_defs(text: str) -> Dict[str, str]:
    """KEY VALUE lines of /etc/login.defs (UID_MIN, PASS_MAX_DAYS…)."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and not parts[0].startswith("#"):
            out[parts[0]] = parts[1]
    return out


def login_shell(shell: str) -> bool:
    """True when `shell` lets the account log on interactively."""
    return bool(shell) and not shell.endswith(NOLOGIN)


_SUDO_RULE = re.compile(r"^\s*([%\w.@+\-\\]+(?:\s*,\s*[%\w.@+\-\\]+)*)\s+\S+\s*=\s*(?:\([^)]*\)\s*)?(.*)$")


def parse_sudoers(text: str) -> Tuple[Set[str], Set[str], List[str]]:
    """(users, %groups, @includedir/@include targets) granted a rule in one sudoers file.

    Only rules naming users or groups directly are resolved; User_Alias members are expanded,
    Defaults lines are ignored. "#include" is an include, "#" followed by anything else a comment.
    """
    users: Set[str] = set()
    groups: Set[str] = set()
    includes: List[str] = []
    aliases: Dict[str, List[str]] = {}
    joined = re.sub(r"\\\n", " ", text)
    for raw in joined.splitlines():
        line = raw.strip()
        m = re.match(r"^[@#](includedir|include)\s+(\S+)", line)
        if m:
            includes.append(("dir:" if m.group(1) == "includedir" else "") + m.group(2))
            continue
        if not line or line.startswith("#") or line.startswith("Defaults"):
            continue
        m = re.match(r"^User_Alias\s+(\w+)\s*=\s*(.*)$", line)
        if m:
            aliases[m.group(1)] = [x.strip() for x in m.group(2).split(",") if x.strip()]
            continue
        if re.match(r"^(Runas|Host|Cmnd|Cmd)_Alias\b", line):
            continue
        rule = _SUDO_RULE.match(line)
        if not rule:
            continue
        for who in (w.strip() for w in rule.group(1).split(",")):
            for name in aliases.get(who, [who]):
                if name.startswith("%"):
                    groups.add(name[1:])
                elif name and name != "ALL" and not name.startswith("!"):
                    users.add(name)
    return users, groups, includes
