"""What each component category means to a diff: one `CategoryRules` entry per category.

An entry says how components of its category are matched across two scans, how
they are named in the diff, and which of their changes are notable. A new category
is one entry in `CATEGORIES`; a category without one is matched by the default
(cbom identity ref, then group/name) and has no notable rules of its own.

Components are matched across the two documents by a stable identity, never by
position or bom-ref text alone (a cbom bom-ref that does not carry the version
is used, since collectors derive it from the same identity):

| category           | identity, tried in order                                                      |
|--------------------|-------------------------------------------------------------------------------|
| software           | PURL without version (type/namespace/name + `arch`), then group/name          |
| operating-system   | cbom identity ref, then name                                                  |
| hardware           | cbom identity ref (slot/bus), `cbom:bus`, `cdx:device:serialNumber`, name     |
| firmware           | `cbom:hardware-ref` + name, cbom identity ref, name                           |
| network-interface  | name, `cdx:device:macAddress`                                                 |
| listening-service  | `cbom:protocol`/`cbom:port`/`cbom:process`, then protocol/port                |
| observed-host      | `cdx:device:macAddress`, then IP address, then name                           |
| observed-protocol  | name (case-insensitive)                                                       |
| crypto and others  | cbom identity ref, then group/name                                            |
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from cbom import vocabulary as V

from ..model import Category, Component, Severity, make_ref
from .model import Change
from .purl import purl_key, purl_sans_version

__all__ = ["CategoryRules", "CATEGORIES", "Rule", "rules_for", "identity", "display_name"]

# Groups of property names (cbom/vocabulary.py) a rule reads as one.
IP_PROPS = (V.IPV4, V.IPV6, V.NET_IP)  # network (interfaces), capture (observed hosts)
SOURCE_PROPS = (V.PACKAGE_MANAGER,)  # software
LOCATION_PROPS = (V.PCI_ADDRESS, V.USB_PORT, V.BUS_ADDRESS)  # hardware
MACHINE_ID_PROPS = (V.UUID,)  # hardware (SMBIOS system UUID)

# Industrial protocols whose first appearance on an OT network deserves more than a "new protocol".
_INDUSTRIAL = re.compile(
    r"\b(s7|s7comm|s7comm-plus|modbus|dnp3|enip|ethernet/ip|cip|profinet|pn-dcp|pn-rt|bacnet|"
    r"iec[- ]?104|iec[- ]?60870|goose|mms|iec[- ]?61850|opc[- ]?ua|fins|melsec|slmp|hart|ecat|ethercat)\b",
    re.IGNORECASE,
)

Rule = Tuple[Severity, str, str]  # a notable change: severity, id ("CBOM-DIFF-…"), one-line title


# --- helpers shared by the entries -----------------------------------------------------------------


def first(c: Component, names: Sequence[str]) -> str:
    """The value of the first of the properties `names` that `c` has, "" if none."""
    for n in names:
        v = c.prop(n)
        if v:
            return v
    return ""


def _explicit_ref(c: Component) -> str:
    """The component's bom-ref when a cbom collector derived it from identity fields.

    A ref cbom derived by default contains the version (category + name@version), so it
    changes on every upgrade: only a ref that differs from that default identifies the thing.
    Refs of other tools ("requests==2.31.0", syft's "pkg:…?package-id=…") are not used.
    """
    ref = c.ref
    if not ref.startswith(c.category.value + ":"):
        return ""
    default = make_ref(c.category.value, c.purl or f"{c.group}/{c.name}@{c.version}")
    return "" if ref == default else ref


def _location(c: Component) -> str:
    """Where a device sits: PCI address, USB port path… (`cbom:bus` alone may just say "pci")."""
    loc = first(c, LOCATION_PROPS)
    if loc:
        return loc
    bus = c.prop(V.BUS)
    return bus if any(ch.isdigit() for ch in bus) else ""


def _name_key(c: Component) -> Optional[str]:
    return f"name:{c.group}/{c.name}".lower() if c.name else None


def _ref_key(c: Component) -> Optional[str]:
    ref = _explicit_ref(c)
    return f"ref:{ref}" if ref else None


def _tagged(tag: str, value: str) -> Optional[str]:
    return f"{tag}:{value}" if value else None


def _versions(ch: Change) -> str:
    return f"{ch.old.version} → {ch.new.version}"


# --- the defaults: what a category without rules of its own gets -----------------------------------


def _ref_then_name(c: Component) -> List[Optional[str]]:
    return [_ref_key(c), _name_key(c)]


def _always(o: Component, n: Component, key: str) -> bool:
    return True


def _name_version(c: Component) -> str:
    return f"{c.name} {c.version}".strip()


def _name(c: Component) -> str:
    return c.name


def _purl_base(c: Component) -> str:
    return c.purl and purl_sans_version(c.purl).split("?")[0]


def _nothing(c: Component) -> Optional[Rule]:
    return None


def _no_rules(ch: Change) -> List[Rule]:
    return []


@dataclass(frozen=True)
class CategoryRules:
    """What one category means to a diff (each field defaults to the generic behaviour)."""

    # The identity keys of a component, one per matching pass, strongest first (None: no key).
    identities: Callable[[Component], List[Optional[str]]] = _ref_then_name
    # Whether a weaker identity `key` may pair `old` and `new` that a stronger one did not.
    compatible: Callable[[Component, Component, str], bool] = _always
    display_name: Callable[[Component], str] = _name  # in the lists of the diff
    extra: Callable[[Component], str] = _purl_base  # the third column of the text diff
    added: Callable[[Component], Optional[Rule]] = _nothing  # notable when it appears
    removed: Callable[[Component], Optional[Rule]] = _nothing  # notable when it is gone
    changed: Callable[[Change], List[Rule]] = _no_rules  # beyond downgrades and Secure Boot
    downgrade: Tuple[Severity, str] = (Severity.MEDIUM, "CBOM-DIFF-SOFTWARE-DOWNGRADE")  # severity, id


# --- software ---------------------------------------------------------------------------------------


def _software_ids(c: Component) -> List[Optional[str]]:
    return [purl_key(c.purl) if c.purl else None, _name_key(c)]


def _software_compatible(o: Component, n: Component, key: str) -> bool:
    # Two packages that both have a PURL and did not match by it are different packages
    # (pkg:deb/…/six is not pkg:pypi/six), whatever their names. A purl field that is
    # not a purl (syft's test documents write "a-purl-2") identifies nothing.
    return not (o.purl and n.purl and purl_key(o.purl) and purl_key(n.purl))


# --- operating system -------------------------------------------------------------------------------


def _os_added(c: Component) -> Rule:
    return Severity.HIGH, "CBOM-DIFF-OS-REPLACED", f"operating system appeared: {_name_version(c)}"


def _os_changed(ch: Change) -> List[Rule]:
    if ch.version_change and ch.version_change != "downgrade":
        return [(Severity.LOW, "CBOM-DIFF-OS-CHANGED", f"operating system changed: {ch.new.name} {_versions(ch)}")]
    return []


# --- hardware ---------------------------------------------------------------------------------------


def _hardware_ids(c: Component) -> List[Optional[str]]:
    return [_ref_key(c), _tagged("bus", _location(c)), _tagged("serial", c.prop(V.SERIAL_NUMBER)), _name_key(c)]


def _hardware_compatible(o: Component, n: Component, key: str) -> bool:
    # Same serial: the device moved. Same name in two different slots: two devices.
    return key.startswith(("bus:", "serial:")) or not (
        (_explicit_ref(o) and _explicit_ref(n)) or (_location(o) and _location(n)))


def _hardware_extra(c: Component) -> str:
    return _location(c) or c.manufacturer


def _hardware_changed(ch: Change) -> List[Rule]:
    swapped = (f"property:{V.SERIAL_NUMBER}", "name", "manufacturer")
    if not any(f.field in swapped for f in ch.fields):
        return []
    what = ", ".join(f"{f.field.replace('property:', '')} {f.old or '(none)'} → {f.new or '(none)'}"
                     for f in ch.fields if f.field in swapped)
    return [(Severity.HIGH, "CBOM-DIFF-HARDWARE-SWAPPED", f"hardware swapped in the same place: {what}")]


# --- firmware ---------------------------------------------------------------------------------------


def _firmware_ids(c: Component) -> List[Optional[str]]:
    hw = c.prop(V.HARDWARE_REF) or (c.depends_on[0] if c.depends_on else "")
    return [f"on:{hw}/{c.name}" if hw else None, _ref_key(c), _name_key(c)]


def _firmware_changed(ch: Change) -> List[Rule]:
    if ch.version_change in ("upgrade", "changed", "same"):
        return [(Severity.MEDIUM, "CBOM-DIFF-FIRMWARE-CHANGED", f"firmware changed: {ch.new.name} {_versions(ch)}")]
    if ch.version_change == "rebuild":
        return [(Severity.HIGH, "CBOM-DIFF-FIRMWARE-REBUILT",
                 f"firmware image changed without a version change: {ch.new.name} {ch.new.version}")]
    return []


# --- network interfaces -----------------------------------------------------------------------------


def _interface_ids(c: Component) -> List[Optional[str]]:
    return [_tagged("if", c.name), _tagged("mac", c.prop(V.MAC_ADDRESS).lower())]


def _mac_and_ip(c: Component) -> str:
    return " ".join(x for x in (c.prop(V.MAC_ADDRESS), first(c, IP_PROPS)) if x)


def _interface_added(c: Component) -> Rule:
    return (Severity.MEDIUM, "CBOM-DIFF-INTERFACE-ADDED",
            f"new network interface {c.name}" + (f" ({c.prop(V.MAC_ADDRESS)})" if c.prop(V.MAC_ADDRESS) else ""))


def _interface_changed(ch: Change) -> List[Rule]:
    if not any(f.field == f"property:{V.MAC_ADDRESS}" for f in ch.fields):
        return []
    o, n = ch.old, ch.new
    return [(Severity.MEDIUM, "CBOM-DIFF-MAC-CHANGED",
             f"interface {n.name} MAC changed {o.prop(V.MAC_ADDRESS) or '(none)'} → {n.prop(V.MAC_ADDRESS) or '(none)'}")]


# --- listening services -----------------------------------------------------------------------------


def _service_ids(c: Component) -> List[Optional[str]]:
    proto, port, proc = c.prop(V.SVC_PROTOCOL).lower(), c.prop(V.SVC_PORT), c.prop(V.SVC_PROCESS)
    if proto and port:
        return [f"{proto}/{port}/{proc}", f"{proto}/{port}"]
    return _ref_then_name(c)


def _service_label(c: Component) -> str:
    if not c.prop(V.SVC_PORT):
        return _name_version(c)
    addrs = ", ".join(c.props(V.SVC_ADDRESS))
    where = f" on {addrs}" if addrs else ""
    return f"{c.prop(V.SVC_PROTOCOL)}/{c.prop(V.SVC_PORT)} ({c.prop(V.SVC_PROCESS) or c.name}){where}"


def _service_changed(ch: Change) -> List[Rule]:
    o, n = ch.old, ch.new
    names = {f.field for f in ch.fields}
    out: List[Rule] = []
    if f"property:{V.SVC_PROCESS}" in names:
        out.append((Severity.MEDIUM, "CBOM-DIFF-LISTENER-PROCESS",
                    f"{o.prop(V.SVC_PROTOCOL)}/{o.prop(V.SVC_PORT)} now served by {n.prop(V.SVC_PROCESS)} "
                    f"(was {o.prop(V.SVC_PROCESS)})"))
    if f"property:{V.SVC_ADDRESS}" in names:
        out.append((Severity.MEDIUM, "CBOM-DIFF-LISTENER-EXPOSURE",
                    f"{_service_label(o).split(' on ')[0]} now listens on {', '.join(n.props(V.SVC_ADDRESS))} "
                    f"(was {', '.join(o.props(V.SVC_ADDRESS))})"))
    return out


# --- observed hosts and protocols (capture) ---------------------------------------------------------


def _host_ids(c: Component) -> List[Optional[str]]:
    return [_tagged("mac", c.prop(V.MAC_ADDRESS).lower()), _tagged("ip", first(c, IP_PROPS)), _ref_key(c), _name_key(c)]


def _host_compatible(o: Component, n: Component, key: str) -> bool:
    # Same IP, two MACs: another device took the address.
    return not (o.prop(V.MAC_ADDRESS) and n.prop(V.MAC_ADDRESS))


def _host_label(c: Component) -> str:
    bits = [x for x in (first(c, IP_PROPS), c.prop(V.MAC_ADDRESS)) if x]
    return c.name + (f" ({', '.join(bits)})" if bits and c.name not in bits else "")


def _protocol_ids(c: Component) -> List[Optional[str]]:
    return [f"proto:{c.name.lower()}", _ref_key(c)]


def _protocol_added(c: Component) -> Rule:
    industrial = bool(_INDUSTRIAL.search(c.name))
    return (Severity.HIGH if industrial else Severity.MEDIUM, "CBOM-DIFF-NEW-PROTOCOL",
            f"protocol never seen before: {c.name}" + (" (industrial)" if industrial else ""))


# --- security posture and cryptographic assets (cbom.posture_view) ----------------------------------


def _posture_added(c: Component) -> Optional[Rule]:
    from ..posture_view import notable_change

    return next(iter(notable_change(None, c)), None)


def _posture_removed(c: Component) -> Optional[Rule]:
    from ..posture_view import notable_change

    return next(iter(notable_change(c, None)), None)


def _posture_changed(ch: Change) -> List[Rule]:
    from ..posture_view import notable_change

    return notable_change(ch.old, ch.new)


# --- the table --------------------------------------------------------------------------------------


CATEGORIES: Dict[Category, CategoryRules] = {
    Category.SOFTWARE: CategoryRules(identities=_software_ids, compatible=_software_compatible),
    Category.OPERATING_SYSTEM: CategoryRules(
        added=_os_added, changed=_os_changed,
        downgrade=(Severity.HIGH, "CBOM-DIFF-OS-DOWNGRADE")),
    Category.HARDWARE: CategoryRules(
        identities=_hardware_ids, compatible=_hardware_compatible, extra=_hardware_extra,
        added=lambda c: (Severity.MEDIUM, "CBOM-DIFF-HARDWARE-ADDED", f"hardware added: {_name_version(c)}"),
        removed=lambda c: (Severity.LOW, "CBOM-DIFF-HARDWARE-REMOVED", f"hardware removed: {_name_version(c)}"),
        changed=_hardware_changed,
        downgrade=(Severity.MEDIUM, "CBOM-DIFF-HARDWARE-DOWNGRADE")),
    Category.FIRMWARE: CategoryRules(
        identities=_firmware_ids,
        added=lambda c: (Severity.MEDIUM, "CBOM-DIFF-FIRMWARE-ADDED", f"firmware appeared: {_name_version(c)}"),
        removed=lambda c: (Severity.LOW, "CBOM-DIFF-FIRMWARE-REMOVED",
                           f"firmware no longer reported: {_name_version(c)}"),
        changed=_firmware_changed,
        downgrade=(Severity.HIGH, "CBOM-DIFF-FIRMWARE-DOWNGRADE")),
    Category.NETWORK_INTERFACE: CategoryRules(
        identities=_interface_ids, extra=_mac_and_ip, added=_interface_added,
        removed=lambda c: (Severity.LOW, "CBOM-DIFF-INTERFACE-REMOVED", f"network interface gone: {c.name}"),
        changed=_interface_changed),
    Category.LISTENING_SERVICE: CategoryRules(
        identities=_service_ids, display_name=_service_label,
        extra=lambda c: ", ".join(c.props(V.SVC_ADDRESS)),
        added=lambda c: (Severity.MEDIUM, "CBOM-DIFF-NEW-LISTENER", f"new listening service {_service_label(c)}"),
        changed=_service_changed),
    Category.OBSERVED_HOST: CategoryRules(
        identities=_host_ids, compatible=_host_compatible, display_name=_host_label,
        extra=_mac_and_ip,
        added=lambda c: (Severity.MEDIUM, "CBOM-DIFF-NEW-HOST", f"new host on the network: {_host_label(c)}")),
    Category.OBSERVED_PROTOCOL: CategoryRules(identities=_protocol_ids, added=_protocol_added),
    Category.CRYPTO: CategoryRules(downgrade=(Severity.MEDIUM, "CBOM-DIFF-CRYPTO-DOWNGRADE"),
                                   added=_posture_added, removed=_posture_removed, changed=_posture_changed),
    Category.POSTURE: CategoryRules(added=_posture_added, removed=_posture_removed, changed=_posture_changed),
}
_DEFAULT = CategoryRules()


def rules_for(category: Category) -> CategoryRules:
    """The entry of `category` (the default rules when it has none)."""
    return CATEGORIES.get(category, _DEFAULT)


def identity(c: Component, keys: Optional[Sequence[Optional[str]]] = None) -> str:
    """The identity a component is matched by (its first non-empty key), as shown in reports.

    `keys`: its identity keys when already computed (`CategoryRules.identities`).
    """
    for k in rules_for(c.category).identities(c) if keys is None else keys:
        if k:
            return k
    return f"ref:{c.ref}"


def display_name(c: Component) -> str:
    """How a component is named in a diff (a listening service by protocol/port/process)."""
    return rules_for(c.category).display_name(c)
