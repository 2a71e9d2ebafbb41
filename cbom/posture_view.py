"""Plain rows for the report's "Security posture" and "Cryptographic assets" sections, and the
diff's notable posture changes, from a `Scan` (pure functions; no collector imported).

Posture components are recognised by their `cbom:posture:kind` property (account, group, startup),
serial ports by device type, crypto assets by category; machine-wide settings are the
`cbom:posture:*` host facts. Column titles are English msgids: the report passes them through
its translator. Rows are sorted so two renderings of one scan are identical. A cell is a
collected value (an account, a unit, a path, a certificate's name), kept as it is in every
language, unless its column is in `words` or the cell in `word_cells`: then it is a text cbom
writes itself ("yes", "never", "system-trust", "every user (systemd --user)"), which the report
translates as a generated text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import AbstractSet, Dict, FrozenSet, List, Optional, Sequence, Tuple

from . import vocabulary as V
from .model import Category, Component, Kind, Scan, Severity

__all__ = ["Table", "cryptographic_assets", "notable_change", "security_posture"]

Rule = Tuple[Severity, str, str]  # as cbom/diff/categories.py: (severity, finding id, one line)


@dataclass(frozen=True)
class Table:
    """One sub-section: a title, column titles, and rows of plain text cells."""

    key: str  # stable id for templates: "accounts", "startup", "serial", "settings", "certificates"…
    title: str
    columns: Tuple[str, ...]
    rows: Tuple[Tuple[str, ...], ...]
    # Columns (indexes) whose every cell is cbom's own word, and single (row, column) cells of cbom's
    # words in a column that otherwise holds collected values; all other cells are collected.
    words: Tuple[int, ...] = ()
    word_cells: FrozenSet[Tuple[int, int]] = frozenset()


def _kind(c: Component) -> str:
    return c.prop(V.POSTURE_KIND)


def _yes(value: str) -> str:
    return "yes" if value == "true" else ("no" if value == "false" else value)


def _account_row(c: Component) -> Tuple[str, ...]:
    admin = ", ".join(c.props(V.ACCOUNT_ADMIN))
    return (c.name, c.prop(V.ACCOUNT_UID), _yes(c.prop(V.ACCOUNT_LOGIN)), c.prop(V.ACCOUNT_PASSWORD),
            c.prop(V.ACCOUNT_PASSWORD_MAX_DAYS), admin, ", ".join(c.props(V.ACCOUNT_GROUP)), c.prop(V.ACCOUNT_SHELL))


def _cells(rows: Sequence[Component], column: int, ours: AbstractSet[int]) -> FrozenSet[Tuple[int, int]]:
    """The cells of `column` in the rows (indexes) `ours`: those cbom wrote, in a column of collected values."""
    return frozenset((i, column) for i in range(len(rows)) if i in ours)


# What posture.startup writes in the User column for a systemd user unit (collectors/posture): an
# account name has no space, so this text is never a collected user.
EVERY_USER = "every user (systemd --user)"
EVERY_USER_AGENT = "every user (launchd agent)"  # collectors/posture/_darwin.py
# Startup types whose "When" is cbom's own text: a cron.daily-style period, "runlevels 2,3,4,5",
# "anacron 1 (delay 5 min, cron.daily)"; other types' schedules and targets are collected.
_WORDED_SCHEDULES = ("cron-script", "sysv", "anacron")
# Security settings whose value cbom words itself ("none found", "ufw enabled (…)", "OpenSSH server:
# installed, not enabled"); sysctls, sshd options, the kernel command line are collected values.
_WORDED_SETTINGS = ("firewall", "disk-encryption", "remote-access")


def _startup_row(c: Component) -> Tuple[str, ...]:
    when = ", ".join(c.props(V.STARTUP_WANTED_BY) + c.props(V.STARTUP_SCHEDULE))
    return (c.name, c.prop(V.STARTUP_TYPE), when, c.prop(V.STARTUP_USER), c.prop(V.STARTUP_COMMAND) or c.description,
            c.prop(V.STARTUP_PATH))


def security_posture(scan: Scan) -> Tuple[Table, ...]:
    """Accounts (administrators and log-on accounts first), startup items, serial/CAN ports and the
    machine-wide settings (sysctls, firewall, disk encryption, remote access, SSH server)."""
    accounts = [c for c in scan.components if _kind(c) == "account"]
    accounts.sort(key=lambda c: (not c.props(V.ACCOUNT_ADMIN), c.prop(V.ACCOUNT_LOGIN) != "true",
                                 c.prop(V.ACCOUNT_SYSTEM) == "true", c.name))
    groups = sorted((c for c in scan.components if _kind(c) == "group"),
                    key=lambda c: (not c.props(V.ACCOUNT_ADMIN), c.name))
    startup = sorted((c for c in scan.components if _kind(c) == "startup"),
                     key=lambda c: (c.prop(V.STARTUP_TYPE), c.name, c.prop(V.STARTUP_PATH)))
    ports = sorted((c for c in scan.by_category(Category.HARDWARE) if c.prop(V.DEVICE_TYPE) in ("serial", "can")),
                   key=lambda c: c.name)
    settings = sorted((k[len(V.POSTURE_FACT_PREFIX):], v) for k, v in scan.host.properties
                      if k.startswith(V.POSTURE_FACT_PREFIX))
    when_ours = {i for i, c in enumerate(startup) if c.prop(V.STARTUP_TYPE) in _WORDED_SCHEDULES}
    user_ours = {i for i, c in enumerate(startup) if c.prop(V.STARTUP_USER) in (EVERY_USER, EVERY_USER_AGENT)}
    return (
        Table("accounts", "Accounts",
              ("Account", "UID", "Log-on", "Password", "Password max. days", "Administrator", "Groups", "Shell"),
              tuple(_account_row(c) for c in accounts), words=(2, 3, 4, 5)),
        Table("groups", "Groups", ("Group", "GID", "Privilege", "Members"),
              tuple((c.name, c.prop(V.GROUP_GID), ", ".join(c.props(V.ACCOUNT_ADMIN)), ", ".join(c.props(V.GROUP_MEMBER)))
                    for c in groups), words=(2,)),
        Table("startup", "Started automatically", ("Name", "Type", "When", "User", "Command", "File"),
              tuple(_startup_row(c) for c in startup), words=(1,),
              word_cells=_cells(startup, 2, when_ours) | _cells(startup, 3, user_ours)),
        Table("serial", "Serial and field-bus ports", ("Port", "UART / type", "Address", "IRQ", "Driver"),
              tuple((c.prop(V.SERIAL_DEVICE) or c.prop(V.INTERFACE) or c.name,
                     c.prop(V.SERIAL_UART) or c.prop(V.DEVICE_TYPE), c.prop(V.SERIAL_PORT), c.prop(V.SERIAL_IRQ),
                     c.prop(V.DRIVER)) for c in ports)),
        Table("settings", "Security settings", ("Setting", "Value"), tuple(settings), words=(0,),
              word_cells=frozenset((i, 1) for i, (k, _v) in enumerate(settings) if k in _WORDED_SETTINGS)),
    )


SELF_SIGNED = "self-signed"


def _self_signed(c: Component) -> bool:
    """Issuer and subject (the component's description, as crypto.linux writes it) are one name:
    a root, whose issuer column would repeat its subject."""
    return bool(c.description) and c.prop(V.CERT_ISSUER) == c.description


def _cert_row(c: Component) -> Tuple[str, ...]:
    key = c.prop(V.CRYPTO_KEY_ALGORITHM) + (f" {c.prop(V.CRYPTO_KEY_SIZE)}" if c.prop(V.CRYPTO_KEY_SIZE) else "")
    issuer = SELF_SIGNED if _self_signed(c) else c.prop(V.CERT_ISSUER)
    return (c.name, issuer, c.prop(V.CERT_NOT_BEFORE)[:10], c.prop(V.CERT_NOT_AFTER)[:10],
            c.prop(V.CERT_SIGNATURE_ALGORITHM), key, c.prop(V.CRYPTO_STORE), c.prop(V.CRYPTO_FINGERPRINT_SHA256))


def _worded_formats(keys: Sequence[Component]) -> AbstractSet[int]:
    """Keys whose Algorithm cell is cbom's text: "unknown" (a private key without a PEM label, see
    collectors/crypto) or "algorithm 22" (an OpenPGP algorithm number cbom has no name for)."""
    return {i for i, c in enumerate(keys)
            if c.prop(V.CRYPTO_KEY_ALGORITHM).startswith("algorithm ")
            or not c.prop(V.CRYPTO_KEY_ALGORITHM) and c.prop(V.CRYPTO_KEY_FORMAT) == "unknown"}


def cryptographic_assets(scan: Scan) -> Tuple[Table, ...]:
    """Certificates (locally added first, then by expiry), keys (public and private: presence,
    type, size, fingerprint), crypto libraries and the algorithms certificates use."""
    crypto = scan.by_category(Category.CRYPTO)
    certs = sorted((c for c in crypto if c.prop(V.CRYPTO_ASSET_TYPE) == "certificate"),
                   key=lambda c: (c.prop(V.CRYPTO_LOCAL_ANCHOR) != "true", c.prop(V.CERT_NOT_AFTER), c.name))
    keys = sorted((c for c in crypto if c.prop(V.CRYPTO_ASSET_TYPE) == "related-crypto-material"),
                  key=lambda c: (c.prop(V.CRYPTO_STORE), c.prop(V.CRYPTO_MATERIAL_TYPE), c.name))
    algorithms = sorted((c for c in crypto if c.prop(V.CRYPTO_ASSET_TYPE) in ("algorithm", "protocol")),
                        key=lambda c: c.name)
    scope_ours = {i for i, c in enumerate(keys) if not c.prop(V.CRYPTO_ACCOUNT)}  # a trust scope, not an account
    used: Dict[str, int] = {}
    for c in certs:
        for ref in (c.prop(V.CERT_SIGNATURE_ALGORITHM_REF), c.prop(V.CRYPTO_ALGORITHM_REF)):
            used[ref] = used.get(ref, 0) + 1
    return (
        Table("certificates", "Certificates",
              ("Name", "Issuer", "Valid from", "Valid to", "Signature", "Key", "Store", "SHA-256"),
              tuple(_cert_row(c) for c in certs), words=(6,),
              word_cells=_cells(certs, 1, {i for i, c in enumerate(certs) if _self_signed(c)})),
        Table("keys", "Keys", ("Key", "Kind", "Algorithm", "Bits", "Account / trusted for", "Fingerprint", "File"),
              tuple((c.name, c.prop(V.CRYPTO_MATERIAL_TYPE), c.prop(V.CRYPTO_KEY_ALGORITHM) or c.prop(V.CRYPTO_KEY_FORMAT),
                     c.prop(V.CRYPTO_KEY_SIZE), c.prop(V.CRYPTO_ACCOUNT) or c.prop(V.CRYPTO_TRUST_SCOPE),
                     c.prop(V.CRYPTO_FINGERPRINT_SHA256) or c.prop(V.CRYPTO_FINGERPRINT),
                     ", ".join(c.props(V.CRYPTO_PATH))) for c in keys),
              words=(1,), word_cells=_cells(keys, 2, _worded_formats(keys)) | _cells(keys, 4, scope_ours)),
        Table("libraries", "Cryptographic libraries", ("Library", "Version", "File"),
              tuple((c.name, c.version, ", ".join(c.props(V.CRYPTO_PATH)))
                    for c in sorted((c for c in crypto if c.kind == Kind.LIBRARY), key=lambda c: (c.name, c.version)))),
        Table("algorithms", "Algorithms", ("Algorithm", "Primitive", "Parameters", "Certificates using it"),
              tuple((c.name, c.prop(V.CRYPTO_PRIMITIVE),
                     " ".join(x for x in (c.prop(V.CRYPTO_PARAMETER_SET), c.prop(V.CRYPTO_CURVE)) if x),
                     str(used.get(c.ref, 0))) for c in algorithms), words=(1,)),
    )


def _admin(c: Optional[Component]) -> Sequence[str]:
    return c.props(V.ACCOUNT_ADMIN) if c is not None else ()


def notable_change(old: Optional[Component], new: Optional[Component]) -> List[Rule]:
    """What the diff should flag for one posture or crypto component (matched by ref): `old` None
    when it appeared, `new` None when it went. Empty when nothing about it is notable."""
    c = new or old
    if c is None:
        return []
    kind = _kind(c)
    out: List[Rule] = []
    if kind == "account":
        if old is None and new is not None:
            if _admin(new):
                out.append((Severity.HIGH, "CBOM-DIFF-NEW-ADMIN",
                            f"new administrator account {new.name} ({', '.join(_admin(new))})"))
            else:
                out.append((Severity.MEDIUM, "CBOM-DIFF-NEW-ACCOUNT", f"new account {new.name}"))
        elif old is not None and new is not None:
            gained = sorted(set(_admin(new)) - set(_admin(old)))
            if gained:
                out.append((Severity.HIGH, "CBOM-DIFF-NEW-ADMIN",
                            f"account {new.name} became administrator ({', '.join(gained)})"))
            if new.prop(V.ACCOUNT_PASSWORD) == "empty" and old.prop(V.ACCOUNT_PASSWORD) != "empty":
                out.append((Severity.HIGH, "CBOM-DIFF-EMPTY-PASSWORD", f"account {new.name} now has an empty password"))
            # Windows (Win32_UserAccount.PasswordRequired false): the account may have no password.
            if new.prop(V.ACCOUNT_PASSWORD) == "not-required" and old.prop(V.ACCOUNT_PASSWORD) != "not-required":
                out.append((Severity.HIGH, "CBOM-DIFF-EMPTY-PASSWORD",
                            f"account {new.name} no longer requires a password"))
            if new.prop(V.ACCOUNT_LOGIN) == "true" and old.prop(V.ACCOUNT_LOGIN) != "true":
                out.append((Severity.MEDIUM, "CBOM-DIFF-ACCOUNT-LOGIN", f"account {new.name} can now log on"))
        elif new is None and old is not None and _admin(old):
            out.append((Severity.LOW, "CBOM-DIFF-ADMIN-REMOVED", f"administrator account {old.name} removed"))
    elif kind == "group" and new is not None and _admin(new):
        added = sorted(set(new.props(V.GROUP_MEMBER)) - set(old.props(V.GROUP_MEMBER) if old is not None else ()))
        if added:
            out.append((Severity.HIGH, "CBOM-DIFF-NEW-ADMIN",
                        f"new member(s) of privileged group {new.name}: {', '.join(added)}"))
    elif kind == "startup":
        if old is None and new is not None:
            out.append((Severity.MEDIUM, "CBOM-DIFF-NEW-STARTUP",
                        f"new {new.prop(V.STARTUP_TYPE) or 'startup item'} starts by itself: {new.name}"))
        elif old is not None and new is not None and old.prop(V.STARTUP_COMMAND) != new.prop(V.STARTUP_COMMAND):
            out.append((Severity.MEDIUM, "CBOM-DIFF-STARTUP-CHANGED",
                        f"{new.name} now runs {new.prop(V.STARTUP_COMMAND) or '(unknown command)'}"))
    elif c.category == Category.CRYPTO:
        asset = c.prop(V.CRYPTO_ASSET_TYPE)
        store = c.prop(V.CRYPTO_STORE)
        if old is None and new is not None:
            if asset == "certificate" and store in ("system-trust", "local-trust"):
                local = new.prop(V.CRYPTO_LOCAL_ANCHOR) == "true"
                out.append((Severity.HIGH if local else Severity.MEDIUM, "CBOM-DIFF-NEW-TRUSTED-CA",
                            f"new trusted CA{' (added locally)' if local else ''}: {new.name}"))
            elif store == "ssh-authorized":
                out.append((Severity.HIGH, "CBOM-DIFF-NEW-AUTHORIZED-KEY",
                            f"new SSH key may log on as {new.prop(V.CRYPTO_ACCOUNT)}: {new.version}"))
            elif store == "ssh-host" and new.prop(V.CRYPTO_MATERIAL_TYPE) == "public-key":
                out.append((Severity.LOW, "CBOM-DIFF-SSH-HOST-KEY", f"new SSH host key: {new.name} {new.version}"))
            elif store == "package-signing":
                out.append((Severity.HIGH, "CBOM-DIFF-NEW-SIGNING-KEY",
                            f"new trusted package-signing key: {new.name} ({new.version[-16:]})"))
            elif new.prop(V.CRYPTO_MATERIAL_TYPE) == "private-key":
                out.append((Severity.MEDIUM, "CBOM-DIFF-NEW-PRIVATE-KEY", f"new private key file: {new.name}"))
    elif c.prop(V.DEVICE_TYPE) in ("serial", "can") and old is None and new is not None:
        out.append((Severity.MEDIUM, "CBOM-DIFF-NEW-SERIAL-PORT", f"new field-bus/serial port: {new.name}"))
    return out
