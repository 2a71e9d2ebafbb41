"""macOS: application bundles, pkgutil receipts and Homebrew kegs.

Live scans read bundle `Info.plist` files under /Applications (fast, exact,
no `system_profiler` run that takes minutes); `parse_sp_applications` reads
the same facts from a recorded `system_profiler -xml SPApplicationsDataType`,
which is what the tests use. Receipts are the plists in /var/db/receipts;
Homebrew kegs are the <name>/<version> directories of its Cellar.
"""
from __future__ import annotations

import plistlib
import re
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, Optional, Tuple

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.model import Category, Component, Gap, Item, Kind, make_ref

from ..hardware._darwin import parse_sp_text  # the system_profiler text layout, one parser
from ._common import summarise

APP_DIRS = ("/Applications", "/Applications/Utilities", "/System/Applications", "/System/Applications/Utilities")
RECEIPTS = "/var/db/receipts"
CELLARS = ("/opt/homebrew/Cellar", "/usr/local/Cellar")

_DEVELOPER_ID = re.compile(r"^Developer ID Application: (.+?)(?: \([A-Z0-9]{10}\))?$")


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ""


def app_component(name: str, version: str, path: str, bundle_id: str = "", obtained_from: str = "",
                  signed_by: Tuple[str, ...] = (), modified: str = "") -> Component:
    """One application bundle; identity is its path (two copies of an app are two components)."""
    publisher = ""
    if signed_by:
        m = _DEVELOPER_ID.match(signed_by[0])
        publisher = m.group(1) if m else ("Apple Inc." if obtained_from == "apple" else "")
    props: List[Tuple[str, str]] = [(V.PACKAGE_MANAGER, "macos-app"), (V.MACOS_PATH, path)]
    if bundle_id:
        props.append((V.MACOS_BUNDLE_ID, bundle_id))
    if obtained_from:
        props.append((V.MACOS_OBTAINED_FROM, obtained_from))
    if signed_by:
        props.append((V.MACOS_SIGNED_BY, signed_by[0]))
    if modified:
        props.append((V.MACOS_LAST_MODIFIED, modified))
    return Component(
        category=Category.SOFTWARE, kind=Kind.APPLICATION, name=name, version=version, publisher=publisher,
        ref=make_ref(Category.SOFTWARE.value, "macos-app", path), properties=tuple(props),
    )


def parse_sp_applications(data: bytes) -> Tuple[List[Component], List[str]]:
    """Applications of `system_profiler -xml SPApplicationsDataType` output."""
    try:
        doc = plistlib.loads(data)
        items = doc[0]["_items"]
    except Exception as exc:  # plistlib raises several kinds on damaged XML
        return [], [f"not a system_profiler plist: {type(exc).__name__}: {exc}"]
    out: List[Component] = []
    problems: List[str] = []
    for i, item in enumerate(items):
        name, path = item.get("_name", ""), item.get("path", "")
        if not name or not path:
            problems.append(f"item {i}: no name or path")
            continue
        out.append(app_component(
            name, str(item.get("version", "")), path, obtained_from=item.get("obtained_from", ""),
            signed_by=tuple(item.get("signed_by") or ()), modified=_iso(item.get("lastModified")),
        ))
    return out, problems


def parse_info_plist(data: bytes) -> Dict[str, Any]:
    """Name, version and id of a bundle's Contents/Info.plist (XML or binary). Raises ValueError."""
    try:
        d = plistlib.loads(data)
    except Exception as exc:
        raise ValueError(f"unreadable Info.plist: {type(exc).__name__}") from None
    if not isinstance(d, dict):
        raise ValueError("Info.plist is not a dictionary")
    return {
        "name": d.get("CFBundleDisplayName") or d.get("CFBundleName") or "",
        "version": str(d.get("CFBundleShortVersionString") or d.get("CFBundleVersion") or ""),
        "id": d.get("CFBundleIdentifier", ""),
    }


def parse_receipt(data: bytes) -> Optional[Component]:
    """A pkgutil receipt (/var/db/receipts/<id>.plist) as a component, or None when unusable."""
    try:
        d = plistlib.loads(data)
    except Exception:
        return None
    pkg_id = d.get("PackageIdentifier") if isinstance(d, dict) else None
    if not pkg_id:
        return None
    props: List[Tuple[str, str]] = [(V.PACKAGE_MANAGER, "pkgutil")]
    if _iso(d.get("InstallDate")):
        props.append((V.PACKAGE_INSTALL_DATE, _iso(d.get("InstallDate"))))
    if d.get("InstallProcessName"):
        props.append((V.MACOS_INSTALL_PROCESS, str(d["InstallProcessName"])))
    return Component(
        category=Category.SOFTWARE, kind=Kind.APPLICATION, name=pkg_id, version=str(d.get("PackageVersion", "")),
        ref=make_ref(Category.SOFTWARE.value, "pkgutil", pkg_id), properties=tuple(props),
    )


def text_applications(text: str) -> List[Item]:
    """Applications of the text form of `system_profiler SPApplicationsDataType` (labels stay English)."""
    tree = parse_sp_text(text)
    out: List[Item] = []
    for name, fields in (tree.get("Applications") or {}).items():
        if not isinstance(fields, dict):
            continue
        path = str(fields.get("Location", ""))
        if not path.startswith("/"):
            continue
        out.append(app_component(name, str(fields.get("Version", "")), path))
    return out


def recorded_applications(ctx: ScanContext) -> Iterator[Item]:
    """Applications of a recorded Mac: its `system_profiler SPApplicationsDataType` output (-xml or text).

    Live, the bundles' Info.plist files are read instead; both give `app_component`s.
    """
    for res in ctx.run_each(["system_profiler", "SPApplicationsDataType"]):
        if not res.ok:
            yield Gap(f"applications not read: {res.why()}")
            continue
        if res.stdout.lstrip().startswith(("<?xml", "<plist")):
            apps, problems = parse_sp_applications(res.raw)
            if problems:
                yield Gap(f"SPApplicationsDataType: {problems[0]}" if not apps else
                          f"SPApplicationsDataType: {len(problems)} items skipped: {problems[0]}")
            yield from apps
        else:
            found = text_applications(res.stdout)
            if not found:
                yield Gap("SPApplicationsDataType: no application with a Location found (not system_profiler output?)")
            yield from found


def collect_darwin(ctx: ScanContext) -> Iterator[Item]:  # pragma: no cover - macOS only
    if ctx.recorded:
        yield from recorded_applications(ctx)
        return
    problems: List[str] = []
    for base in APP_DIRS:
        for path in ctx.glob(f"{base}/*.app"):
            bundle = path.rsplit("/", 1)[-1]
            try:
                info = parse_info_plist(ctx.read_bytes(f"{path}/Contents/Info.plist"))
            except (OSError, ValueError) as exc:
                problems.append(f"{path}: {exc}")
                continue
            yield app_component(info["name"] or bundle[:-4], info["version"], path, bundle_id=info["id"])
    for plist in ctx.glob(f"{RECEIPTS}/*.plist"):
        try:
            comp = parse_receipt(ctx.read_bytes(plist))
        except OSError as exc:
            problems.append(f"{plist}: {exc.strerror or exc}")
            continue
        if comp:
            yield comp
    for cellar in CELLARS:
        for keg in (k for k in ctx.glob(f"{cellar}/*/*") if ctx.is_dir(k)):
            formula, version = keg.split("/")[-2:]
            yield Component(
                category=Category.SOFTWARE, kind=Kind.APPLICATION, name=formula, version=version,
                ref=make_ref(Category.SOFTWARE.value, "homebrew", cellar, formula, version),
                properties=((V.PACKAGE_MANAGER, "homebrew"), (V.HOMEBREW_CELLAR, cellar)),
            )
    if problems:
        yield Gap(summarise("macOS applications", problems))
