"""The notable-change rules: which differences a reviewer must see first, and how severe they are.

The rules of one category live in its entry of `cbom.diff.categories`; this module adds
those of every category (a downgrade, Secure Boot turned off or on), the machine's own
(its serial number) and new findings, and orders them most severe first.
"""
from __future__ import annotations

import re
from typing import Iterable, List, Optional, Sequence

from ..model import Finding, Scan, Severity
from .categories import rules_for
from .model import CategoryDiff, FieldChange, Notable

__all__ = ["category_notables", "host_notables", "finding_notables", "ordered"]

_SECURE_BOOT = re.compile(r"secure[-_ ]?boot", re.IGNORECASE)
_ON = {"on", "enabled", "enable", "true", "yes", "1", "active", "enforcing"}
_OFF = {"off", "disabled", "disable", "false", "no", "0", "inactive", "not enabled"}
_SEV_ORDER = {s: i for i, s in enumerate(Severity)}


def _onoff(value: str) -> Optional[bool]:
    v = value.strip().lower()
    if v in _ON:
        return True
    if v in _OFF:
        return False
    return None


def _secure_boot(fields: Iterable[FieldChange], category: str, ident: str) -> List[Notable]:
    """Secure Boot turned off (high) or on (info), from changed properties named like `secure-boot`."""
    out = []
    for f in fields:
        if not (f.field.startswith("property:") and _SECURE_BOOT.search(f.field)):
            continue
        was, now = _onoff(f.old), _onoff(f.new)
        if was is not False and now is False:
            out.append(Notable(Severity.HIGH, "CBOM-DIFF-SECUREBOOT-OFF", category, ident,
                               f"Secure Boot turned off ({f.old or '(none)'} → {f.new})"))
        elif was is not True and now is True:
            out.append(Notable(Severity.INFO, "CBOM-DIFF-SECUREBOOT-ON", category, ident,
                               f"Secure Boot turned on ({f.old or '(none)'} → {f.new})"))
    return out


def category_notables(cd: CategoryDiff) -> List[Notable]:
    """The notable changes among one category's added, removed and changed components."""
    rules = rules_for(cd.category)
    cat = cd.category.value
    out: List[Notable] = []
    for ident, c in cd.added:
        rule = rules.added(c)
        if rule:
            out.append(Notable(rule[0], rule[1], cat, ident, rule[2]))
    for ident, c in cd.removed:
        rule = rules.removed(c)
        if rule:
            out.append(Notable(rule[0], rule[1], cat, ident, rule[2]))
    for ch in cd.changed:
        if ch.version_change == "downgrade":
            sev, nid = rules.downgrade
            out.append(Notable(sev, nid, cat, ch.identity,
                               f"{cat} downgraded: {ch.new.name} {ch.old.version} → {ch.new.version}"))
        out.extend(Notable(sev, nid, cat, ch.identity, title) for sev, nid, title in rules.changed(ch))
        out.extend(_secure_boot(ch.fields, cat, ch.identity))
    return out


def host_notables(old: Scan, new: Scan, host: Sequence[FieldChange]) -> List[Notable]:
    """Notable changes of the machine itself: Secure Boot, a new serial number."""
    out = _secure_boot(host, "host", "host")
    if any(f.field == "serial" for f in host) and old.host.serial and new.host.serial:
        out.append(Notable(Severity.HIGH, "CBOM-DIFF-MACHINE-SERIAL", "host", "host",
                           f"machine serial number changed {old.host.serial} → {new.host.serial}"))
    return out


def finding_notables(added: Iterable[Finding]) -> List[Notable]:
    """Every new finding is notable, with its own severity and id."""
    return [Notable(f.severity, f.id, "finding", f.ref, f"new finding: {f.title}") for f in added]


def ordered(notable: Iterable[Notable]) -> List[Notable]:
    """Most severe first, then by category, id and identity (stable otherwise)."""
    return sorted(notable, key=lambda x: (_SEV_ORDER[x.severity], x.category, x.id, x.identity))
