"""Windows: installed programs from the registry Uninstall keys, and installed hotfixes.

The Uninstall keys are what "Programs and Features" lists: HKLM in the native
(64-bit) and WOW6432Node (32-bit) views, and HKCU for per-user installs. The
parsers take the text of a `reg export` file (regedit format 5.00) so tests
run on real exports; on a live machine the same records come from `winreg`.
Hotfixes come from Win32_QuickFixEngineering (`wmic qfe` table or PowerShell CSV).
"""
from __future__ import annotations

import csv
import io
import re
import sys
from typing import Dict, Iterator, List, Tuple

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.model import Category, Component, Gap, Item, Kind, make_ref

from .._text import RegKey, RegValue, parse_reg_export, parse_wmic_list
from ._common import summarise

__all__ = ["RegKey", "RegValue", "parse_reg_export"]  # re-exported: the reg export parser lives in _text

UNINSTALL = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
UNINSTALL_32 = r"SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall"
UPDATE_TYPES = ("security update", "update", "hotfix", "service pack", "update rollup", "critical update")

def _view(key: str) -> str:
    upper = key.upper()
    if upper.startswith(("HKEY_CURRENT_USER", "HKCU", "HKEY_USERS", "HKU")):
        return "user"
    if "\\WOW6432NODE\\" in upper:
        return "32-bit"
    return "native"


def _install_date(value: RegValue) -> str:
    """InstallDate is 'YYYYMMDD' by convention; anything else is kept out of the ISO field."""
    s = str(value).strip()
    if re.fullmatch(r"(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])", s):
        return f"{s[:4]}-{s[4:6]}-{s[6:]}"
    return ""


def uninstall_components(keys: List[RegKey]) -> Iterator[Component]:
    """Programs (and updates listed beside them) of the Uninstall subkeys that have a DisplayName."""
    for key, values in keys:
        parent, _, sub = key.rpartition("\\")
        if not parent.upper().endswith("\\UNINSTALL"):
            continue  # the Uninstall key itself, or deeper subkeys
        name = values.get("DisplayName")
        if not isinstance(name, str) or not name.strip():
            continue  # Windows does not list entries without a display name either
        version = values.get("DisplayVersion", "")
        props: List[Tuple[str, str]] = [
            (V.PACKAGE_MANAGER, "windows-registry"),
            (V.WINDOWS_UNINSTALL_KEY, key),
            (V.WINDOWS_REGISTRY_VIEW, _view(key)),
        ]
        date = _install_date(values.get("InstallDate", ""))
        if date:
            props.append((V.PACKAGE_INSTALL_DATE, date))
        size = values.get("EstimatedSize")
        if isinstance(size, int) and size > 0:
            props.append((V.PACKAGE_INSTALLED_SIZE, str(size * 1024)))  # EstimatedSize is in KiB
        location = values.get("InstallLocation")
        if isinstance(location, str) and location:
            props.append((V.WINDOWS_INSTALL_LOCATION, location))
        release = values.get("ReleaseType")
        parent_name = values.get("ParentDisplayName")
        if isinstance(release, str) and release:
            props.append((V.WINDOWS_RELEASE_TYPE, release))
        if isinstance(parent_name, str) and parent_name:
            props.append((V.WINDOWS_UPDATE_OF, parent_name))
        if values.get("SystemComponent") == 1:
            props.append((V.WINDOWS_SYSTEM_COMPONENT, "true"))
        if values.get("WindowsInstaller") == 1:
            props.append((V.WINDOWS_MSI_PRODUCT_CODE, sub))
        publisher = values.get("Publisher", "")
        yield Component(
            category=Category.SOFTWARE,
            kind=Kind.APPLICATION,
            name=name.strip(),
            version=str(version).strip() if isinstance(version, (str, int)) else "",
            publisher=publisher.strip() if isinstance(publisher, str) else "",
            ref=make_ref(Category.SOFTWARE.value, "windows-uninstall", _view(key), sub.lower()),
            properties=tuple(props),
        )


# --- hotfixes ------------------------------------------------------------------------------------


def parse_wmic_qfe(text: str) -> Tuple[List[Dict[str, str]], List[str]]:
    """Rows of `wmic qfe` default table output (fixed-width columns under the header)."""
    lines = [ln.rstrip("\r") for ln in text.splitlines()]
    header_no = next((i for i, ln in enumerate(lines) if "HotFixID" in ln), None)
    if header_no is None:
        return [], ["no header with HotFixID"]
    # First run of wmic on a machine prints this banner (ANSI, no line break) before the table.
    header = lines[header_no].split("Please wait while WMIC is being installed.")[-1]
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    names = header.split()
    rows: List[Dict[str, str]] = []
    problems: List[str] = []
    for number, line in enumerate(lines[header_no + 1:], header_no + 2):
        if not line.strip():
            continue
        row = {}
        for i, name in enumerate(names):
            end = starts[i + 1] if i + 1 < len(starts) else len(line)
            row[name] = line[starts[i]:end].strip()
        if not row.get("HotFixID"):
            problems.append(f"line {number}: no HotFixID")
            continue
        rows.append(row)
    return rows, problems


def parse_qfe_csv(text: str) -> Tuple[List[Dict[str, str]], List[str]]:
    """Rows of `Get-CimInstance Win32_QuickFixEngineering | ConvertTo-Csv -NoTypeInformation`."""
    rows = [r for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))]
    good = [r for r in rows if (r.get("HotFixID") or "").strip()]
    return good, [f"row {i}: no HotFixID" for i, r in enumerate(rows, 2) if r not in good]


def hotfix_components(rows: List[Dict[str, str]]) -> Iterator[Component]:
    seen = set()
    for row in rows:
        kb = row["HotFixID"].strip()
        # Windows XP lists one "File 1" row per file of some updates: no identity of their own.
        if kb.lower().startswith("file ") or kb.upper() in seen:
            continue
        seen.add(kb.upper())
        props: List[Tuple[str, str]] = [(V.PACKAGE_MANAGER, "windows-hotfix")]
        for field, prop in (("InstalledOn", V.WINDOWS_INSTALLED_ON), ("InstalledBy", V.WINDOWS_INSTALLED_BY),
                            ("Caption", V.WINDOWS_HOTFIX_URL)):
            if row.get(field, "").strip():
                props.append((prop, row[field].strip()))
        yield Component(
            category=Category.SOFTWARE,
            kind=Kind.APPLICATION,
            name=kb,
            description=(row.get("Description") or "").strip(),
            publisher="Microsoft Corporation",
            ref=make_ref(Category.SOFTWARE.value, "windows-hotfix", kb.upper()),
            properties=tuple(props),
        )


# --- live ----------------------------------------------------------------------------------------


def _read_winreg_uninstall() -> Tuple[List[RegKey], List[str]]:  # pragma: no cover - Windows only
    if sys.platform != "win32":  # the same error `import winreg` raises elsewhere; tells mypy the rest is Windows
        raise ModuleNotFoundError("No module named 'winreg'", name="winreg")
    import winreg

    keys: List[RegKey] = []
    problems: List[str] = []
    views = (
        (winreg.HKEY_LOCAL_MACHINE, "HKEY_LOCAL_MACHINE", UNINSTALL, winreg.KEY_WOW64_64KEY),
        (winreg.HKEY_LOCAL_MACHINE, "HKEY_LOCAL_MACHINE", UNINSTALL_32, 0),
        (winreg.HKEY_CURRENT_USER, "HKEY_CURRENT_USER", UNINSTALL, 0),
    )
    for hive, hive_name, path, flag in views:
        try:
            root = winreg.OpenKey(hive, path, 0, winreg.KEY_READ | flag)
        except OSError:
            continue  # no 32-bit view on 32-bit Windows, no per-user installs
        with root:
            count = winreg.QueryInfoKey(root)[0]
            for i in range(count):
                try:
                    sub = winreg.EnumKey(root, i)
                    with winreg.OpenKey(root, sub) as k:
                        values: Dict[str, RegValue] = {}
                        for j in range(winreg.QueryInfoKey(k)[1]):
                            name, data, _ = winreg.EnumValue(k, j)
                            values[name] = tuple(data) if isinstance(data, list) else data
                except OSError as exc:
                    problems.append(f"{hive_name}\\{path}\\{i}: {exc}")
                    continue
                keys.append((f"{hive_name}\\{path}\\{sub}", values))
    return keys, problems


def collect_windows(ctx: ScanContext) -> Iterator[Item]:
    if ctx.local:  # pragma: no cover - Windows only
        keys, problems = _read_winreg_uninstall()
        if problems:
            yield Gap(summarise("registry Uninstall keys", problems))
        yield from uninstall_components(keys)
        yield from live_hotfixes(ctx)
    elif ctx.recorded:
        yield from _recorded(ctx)
    else:
        # An offline Windows disk needs its SOFTWARE hive parsed; not implemented yet.
        yield Gap("Windows software under --root is not read (offline registry hives are not parsed)")


HOTFIX_PS = ("Get-CimInstance Win32_QuickFixEngineering | Select-Object HotFixID,Description,"
             "InstalledOn,InstalledBy,Caption | ConvertTo-Csv -NoTypeInformation")


def live_hotfixes(ctx: ScanContext) -> Iterator[Item]:
    """Installed hotfixes of the running machine: PowerShell CIM as CSV, else `wmic qfe`.

    Every Windows since XP lists at least one update, so an answer with no HotFixID row (exit 0,
    nothing printed: a locked-down PowerShell, wine's stub) is a gap, never "no hotfixes".
    """
    ps = ctx.run(["powershell", "-NoProfile", "-NonInteractive", "-Command", HOTFIX_PS], timeout=60)
    ps_why = ps.why(quote=False)
    if ps.ok and ps.stdout.strip():
        rows, problems = parse_qfe_csv(ps.stdout)
        if rows:
            if problems:
                yield Gap(summarise("Win32_QuickFixEngineering", problems))
            yield from hotfix_components(rows)
            return
        ps_why = "no HotFixID row" + (f" ({problems[0]})" if problems else "")
    qfe = ctx.run(["wmic", "qfe", "get", "/format:list"], timeout=60)
    rows, why = _wmic_qfe_rows(qfe)
    if not rows:
        yield Gap(f"hotfixes not read (PowerShell Win32_QuickFixEngineering: {ps_why}; wmic: {why})")
        return
    yield from hotfix_components(rows)


def _wmic_qfe_rows(res) -> Tuple[List[Dict[str, str]], str]:
    """Rows of one `wmic qfe` answer (list or table form), and why there are none."""
    if not res.ok or res.empty:
        return [], res.why()
    if "HotFixID=" in res.stdout:
        rows = [r for r in parse_wmic_list(res.stdout) if r.get("HotFixID")]
        return rows, "" if rows else "no HotFixID value"
    found, problems = parse_wmic_qfe(res.stdout)
    return found, problems[0] if problems and not found else ""


def _recorded(ctx: ScanContext) -> Iterator[Item]:
    """A recorded machine: collect.bat's `reg export` of the Uninstall keys (the records winreg gives
    live, through the same builder) and its `wmic qfe` output (list or table form)."""
    for res in ctx.run_each(["reg", "export", "HKLM\\" + UNINSTALL]):
        if not res.ok:
            yield Gap(f"installed programs not read: {res.why()}")
            continue
        keys, problems = parse_reg_export(res.stdout)
        if problems:
            yield Gap(summarise("Uninstall export", problems))
        if not keys:
            yield Gap("Uninstall export: no registry key (not a regedit export?)")
        yield from uninstall_components(keys)
    rows: List[Dict[str, str]] = []
    for res in ctx.run_each(["wmic", "qfe", "get", "/format:list"]):
        if not res.ok:
            continue
        found, why = _wmic_qfe_rows(res)
        if why and not found:
            yield Gap(f"wmic qfe output: {why}")
        rows += found
    yield from hotfix_components([r for r in rows if r.get("HotFixID")])
