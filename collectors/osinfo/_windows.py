"""Windows: parse `systeminfo`, `wmic ... get /format:list`, `wmic qfe` and our PowerShell dump.

Pure functions of text (decode bytes with `collectors._text.decode_recorded`
first). `systeminfo` labels are translated into the display language, so
fields are found by their *position*, which is the same in every language and
every version from XP to Windows 11 24H2; the value column is found from the
first line, counting East Asian characters as two columns, as the console does.
"""
from __future__ import annotations

import locale as _locale
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Dict, List, Optional, Sequence, Tuple

from cbom import vocabulary as V
from cbom.recording import wmi_datetime  # CIM DATETIME: also the collect.bat manifest's times
from cbom.model import Category, Component, Kind, make_ref

from .._text import clean_na as _clean
from .._text import parse_wmic_list
from .._text import systeminfo_lines as _systeminfo_lines
from ._cpe import make_cpe

__all__ = [
    "Hotfix",
    "WindowsInfo",
    "component",
    "edition_of",
    "hotfixes_from_records",
    "info_from_wmi",
    "merge",
    "parse_sections",
    "parse_systeminfo",
    "parse_wmic_list",
    "parse_wmic_table",
    "windows_cpe",
    "wmi_datetime",
]


@dataclass(frozen=True)
class Hotfix:
    """One installed update: "KB4486553", install date as YYYY-MM-DD when known."""

    kb: str
    installed_on: str = ""

    @property
    def value(self) -> str:
        return f"{self.kb} {self.installed_on}".strip()


@dataclass(frozen=True)
class WindowsInfo:
    """What we know of one Windows installation; empty strings are unknown."""

    caption: str = ""  # "Microsoft Windows 10 Pro"
    version: str = ""  # "10.0.17763"
    build: str = ""  # "17763"
    ubr: str = ""  # update build revision (registry), "5329"
    display_version: str = ""  # "1809", "22H2"
    edition_id: str = ""  # registry EditionID, "Professional"
    service_pack: str = ""  # "Service Pack 1"
    server: Optional[bool] = None
    arch: str = ""  # "x64", "x86", "arm64"
    install_date: str = ""
    boot_time: str = ""
    owner: str = ""
    organization: str = ""
    hostname: str = ""
    manufacturer: str = ""
    timezone: str = ""
    locale: str = ""
    hotfixes: Tuple[Hotfix, ...] = ()
    hotfixes_known: bool = False  # True when a hotfix list was read (possibly empty)
    hotfixes_declared: int = 0  # systeminfo's "N Hotfix(s) Installed."
    hotfixes_truncated: bool = False  # systeminfo cut its list short (it stops near 245 entries)


# --- text helpers ---------------------------------------------------------------------------------

# --- systeminfo -----------------------------------------------------------------------------------

# Position of each field among systeminfo's top-level lines (XP .. Windows 11 24H2, any language).
_SI_FIELDS = {
    0: "hostname", 1: "caption", 2: "version", 3: "manufacturer", 4: "configuration",
    6: "owner", 7: "organization", 9: "install_date", 10: "boot_time", 13: "system_type",
    19: "system_locale", 21: "timezone", 30: "hotfixes",
}
_VERSION_RE = re.compile(r"^(\d+\.\d+\.\d+)\b")


def parse_systeminfo(text: str) -> Optional[WindowsInfo]:
    """WindowsInfo from `systeminfo` output, or None when it is not systeminfo output."""
    entries = _systeminfo_lines(text)
    if len(entries) < 3:
        return None
    # Fields are found by position (their labels are in the machine's language). A copy that starts
    # at "OS Name:" has lost its first line, Host Name: the version then sits one place up, and every
    # field moves with it (WES-NG's validation/10_1803_x64_enterprise_es-ar_20190307_systeminfo.txt).
    if not _VERSION_RE.match(_clean(entries[2][1])) and _VERSION_RE.match(_clean(entries[1][1])):
        entries = [("", "", [])] + entries
    got: Dict[str, Tuple[str, List[str]]] = {}
    for pos, name in _SI_FIELDS.items():
        if pos < len(entries):
            got[name] = (entries[pos][1], entries[pos][2])
    version_text = _clean(got["version"][0])
    m = _VERSION_RE.match(version_text)
    if not m:
        return None
    caption = _clean(got.get("caption", ("", []))[0])
    build = re.findall(r"\d+", version_text)[-1]
    sp = re.search(r"Service Pack \d+", version_text)
    system_type = _clean(got.get("system_type", ("", []))[0])
    locale_text = _clean(got.get("system_locale", ("", []))[0])
    hotfixes: Tuple[Hotfix, ...] = ()
    known, declared, truncated = False, 0, False
    if "hotfixes" in got:
        value, cont = got["hotfixes"]
        count = re.search(r"\d+", _clean(value))
        if count:
            # "302 Hotfix(s) Installed.", "安装了 1 个修补程序。", "73 Corrections installées."
            known, declared = True, int(count.group(0))
            listed = [c for c in cont if c.startswith("[")]
            if len(listed) < declared:
                # systeminfo's buffer ends mid-list ("[246]", "[240]: KB2862"): the last line is unreliable.
                truncated, listed = True, listed[:-1]
            hotfixes = tuple(_dedupe(_hotfix_from_line(c) for c in listed))
    config = _clean(got.get("configuration", ("", []))[0])
    # "Standalone Server", "Member Server", "Primary Domain Controller"; captions keep "Server" in every language.
    server = "Server" in caption or bool(re.search(r"server|serveur|domain controller", config, re.IGNORECASE))
    return WindowsInfo(
        caption=caption,
        version=m.group(1),
        build=build,
        service_pack=sp.group(0) if sp else "",
        server=server,
        arch=_arch_from_system_type(system_type),
        install_date=local_datetime(_clean(got.get("install_date", ("", []))[0])),
        boot_time=local_datetime(_clean(got.get("boot_time", ("", []))[0])),
        owner=_clean(got.get("owner", ("", []))[0]),
        organization=_clean(got.get("organization", ("", []))[0]),
        hostname=_clean(got.get("hostname", ("", []))[0]),
        manufacturer=_clean(got.get("manufacturer", ("", []))[0]),
        timezone=_clean(got.get("timezone", ("", []))[0]),
        locale=locale_text.split(";")[0].strip(),
        hotfixes=hotfixes,
        hotfixes_known=known,
        hotfixes_declared=declared,
        hotfixes_truncated=truncated,
    )


def _hotfix_from_line(line: str) -> Optional[Hotfix]:
    # "[01]: KB4486553", "[172]: KB2742604 - QFE", "[181]: KB975558_WM8", "[01]: File 1" (2003/XP).
    m = re.match(r"^\[\d+\]\s*:\s*(\S+)", line.replace("\xa0", " "))
    if not m or not re.match(r"^(KB|Q)\d+", m.group(1), re.IGNORECASE):
        return None
    return Hotfix(m.group(1).upper())


def _dedupe(items) -> List[Hotfix]:
    seen: Dict[str, Hotfix] = {}
    for h in items:
        if h is None:
            continue
        if h.kb not in seen or (not seen[h.kb].installed_on and h.installed_on):
            seen[h.kb] = h
    return list(seen.values())


def _arch_from_system_type(value: str) -> str:
    v = value.lower()
    if v.startswith(("x64", "amd64")):
        return "x64"
    if v.startswith("arm64"):
        return "arm64"
    if v.startswith(("x86", "x86-based")):
        return "x86"
    if v.startswith(("itanium", "ia64")):
        return "ia64"
    return ""


def local_datetime(value: str) -> str:
    """systeminfo's local date/time ("3/26/2019, 3:51:30 PM", "29/04/2019, 18:52:20",
    "2019/1/24, 9:46:29", "24-05-2024, 03:20:28") as ISO 8601 without offset, or "".

    The order of day and month follows the user's regional settings and is not
    written anywhere: year-first is Y-M-D; an AM/PM clock is the US M/D/Y;
    otherwise D/M/Y (every other locale with a 24-hour clock), unless a part
    above 12 proves the order.
    """
    m = re.match(
        r"^\s*(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})\s*,?\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?",
        value,
    )
    if not m:
        return ""
    a, b, c = int(m.group(1)), int(m.group(2)), int(m.group(3))
    hour, minute, second = int(m.group(4)), int(m.group(5)), int(m.group(6) or 0)
    ampm = (m.group(7) or "").lower().replace(".", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    if len(m.group(1)) == 4:
        year, month, day = a, b, c
    else:
        year = c
        month, day = (a, b) if ampm else (b, a)
        if month > 12 and day <= 12:
            month, day = day, month
    try:
        return datetime(year, month, day, hour, minute, second).isoformat()
    except ValueError:
        return ""


# --- wmic / WMI -----------------------------------------------------------------------------------


_WMIC_BANNER = re.compile(r"^Please wait while WMIC is being installed\.\s*")


def parse_wmic_table(text: str) -> List[Dict[str, str]]:
    """Rows of `wmic <alias>` table output, split at the header's column starts."""
    lines = [ln for ln in text.replace("\r", "").split("\n") if ln.strip()]
    if not lines:
        return []
    header = _WMIC_BANNER.sub("", lines[0])
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    names = header.split()
    if not names or not all(re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", n) for n in names):
        return []
    rows = []
    for ln in lines[1:]:
        row = {}
        for i, name in enumerate(names):
            end = starts[i + 1] if i + 1 < len(starts) else None
            row[name] = ln[starts[i]:end].strip()
        rows.append(row)
    return rows


def parse_sections(text: str) -> Dict[str, List[Dict[str, str]]]:
    """Output of our PowerShell script: "[name]" lines, each starting one Key=Value record."""
    out: Dict[str, List[Dict[str, str]]] = {}
    current: Optional[Dict[str, str]] = None
    for raw in text.replace("\r", "").split("\n"):
        line = raw.strip()
        m = re.match(r"^\[([a-z]+)\]$", line)
        if m:
            current = {}
            out.setdefault(m.group(1), []).append(current)
            continue
        key, sep, value = line.partition("=")
        if current is not None and sep and re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
            current[key] = value.strip()
    return out


def qfe_date(value: str) -> str:
    """Win32_QuickFixEngineering.InstalledOn as YYYY-MM-DD, or "".

    The provider returns what the installer wrote: usually US "M/D/YYYY" whatever
    the locale, sometimes "YYYYMMDD", on older systems a hex FILETIME.
    """
    v = value.strip()
    m = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", v)
    try:
        if m:
            month, day = int(m.group(1)), int(m.group(2))
            if month > 12 and day <= 12:
                month, day = day, month
            return datetime(int(m.group(3)), month, day).strftime("%Y-%m-%d")
        if re.match(r"^\d{8}$", v):
            return datetime.strptime(v, "%Y%m%d").strftime("%Y-%m-%d")
        if re.match(r"^[0-9a-fA-F]{15,16}$", v):
            when = datetime(1601, 1, 1) + timedelta(microseconds=int(v, 16) // 10)
            return when.strftime("%Y-%m-%d")
    except (ValueError, OverflowError):
        return ""
    return ""


def hotfixes_from_records(records: Sequence[Dict[str, str]]) -> List[Hotfix]:
    """Hotfixes of Win32_QuickFixEngineering rows (wmic table or list, or our dump).

    XP and 2003 report many updates as HotFixID "File 1" with the KB number in
    ServicePackInEffect (a known provider quirk).
    """
    out = []
    for r in records:
        kb = r.get("HotFixID", "").strip()
        if not re.match(r"^(KB|Q)\d+", kb, re.IGNORECASE):
            kb = r.get("ServicePackInEffect", "").strip()
        if not re.match(r"^(KB|Q)\d+", kb, re.IGNORECASE):
            continue
        out.append(Hotfix(kb.upper(), qfe_date(r.get("InstalledOn", ""))))
    return _dedupe(out)


def info_from_wmi(os_record: Dict[str, str], current_version: Optional[Dict[str, str]] = None,
                  extra: Optional[Dict[str, str]] = None) -> Optional[WindowsInfo]:
    """WindowsInfo from a Win32_OperatingSystem instance (+ registry CurrentVersion values)."""
    cv = current_version or {}
    extra = extra or {}
    version = os_record.get("Version", "").strip()
    if not _VERSION_RE.match(version):
        return None
    caption = _clean(os_record.get("Caption", ""))
    ptype = os_record.get("ProductType", "").strip()
    lcid = os_record.get("Locale", "").strip()
    loc = extra.get("UICulture", "")
    if not loc and re.match(r"^[0-9a-fA-F]{4}$", lcid):
        loc = _locale.windows_locale.get(int(lcid, 16), "").replace("_", "-")
    tz = extra.get("TimeZoneKeyName", "")
    if not tz and re.match(r"^-?\d+$", os_record.get("CurrentTimeZone", "").strip()):
        minutes = int(os_record["CurrentTimeZone"])
        tz = "UTC{}{:02d}:{:02d}".format("+" if minutes >= 0 else "-", abs(minutes) // 60, abs(minutes) % 60)
    ubr = cv.get("UBR", "").strip()
    if ubr.lower().startswith("0x"):
        ubr = str(int(ubr, 16))
    return WindowsInfo(
        caption=caption,
        version=version,
        build=os_record.get("BuildNumber", "").strip() or version.split(".")[-1],
        ubr=ubr if ubr.isdigit() else "",
        display_version=cv.get("DisplayVersion", "").strip() or _release_id(cv.get("ReleaseId", "")),
        edition_id=cv.get("EditionID", "").strip(),
        service_pack=_clean(os_record.get("CSDVersion", "")),
        server=(ptype in ("2", "3")) if ptype else (("Server" in caption) or None),
        arch=_arch_from_env(extra.get("Arch", "")) or _arch_from_os_architecture(os_record.get("OSArchitecture", "")),
        install_date=wmi_datetime(os_record.get("InstallDate", "")),
        boot_time=wmi_datetime(os_record.get("LastBootUpTime", "")),
        owner=_clean(os_record.get("RegisteredUser", "")),
        organization=_clean(os_record.get("Organization", "")),
        hostname=os_record.get("CSName", "").strip(),
        manufacturer=_clean(os_record.get("Manufacturer", "")),
        timezone=tz,
        locale=loc,
    )


def _release_id(value: str) -> str:
    # ReleaseId stays "2009" from 20H2 on; only trust it up to 2004.
    value = value.strip()
    return value if value.isdigit() and value <= "2004" else ""


def _arch_from_env(value: str) -> str:
    return {"amd64": "x64", "x86": "x86", "arm64": "arm64", "ia64": "ia64"}.get(value.strip().lower(), "")


def _arch_from_os_architecture(value: str) -> str:
    # "64-bit", "32 bits", "64 位", "ARM 64-bit Processor" (localised).
    v = value.lower()
    if "arm" in v:
        return "arm64" if "64" in v else "arm"
    if "64" in v:
        return "x64"
    if "32" in v:
        return "x86"
    return ""


def merge(primary: Optional[WindowsInfo], secondary: Optional[WindowsInfo]) -> Optional[WindowsInfo]:
    """`primary` with its unknown fields filled from `secondary`."""
    if primary is None or secondary is None:
        return primary or secondary
    fields = {}
    for name in WindowsInfo.__dataclass_fields__:
        if name.startswith("hotfixes"):
            continue
        if getattr(primary, name) in ("", None):
            fields[name] = getattr(secondary, name)
    if not primary.hotfixes_known:
        for name in ("hotfixes", "hotfixes_known", "hotfixes_declared", "hotfixes_truncated"):
            fields[name] = getattr(secondary, name)
    return replace(primary, **fields)


# --- component ------------------------------------------------------------------------------------

# Windows 10/11 feature updates by build (Microsoft "release information" pages).
_WIN10 = {"10240": "1507", "10586": "1511", "14393": "1607", "15063": "1703", "16299": "1709",
          "17134": "1803", "17763": "1809", "18362": "1903", "18363": "1909", "19041": "2004",
          "19042": "20H2", "19043": "21H1", "19044": "21H2", "19045": "22H2"}
_WIN11 = {"22000": "21H2", "22621": "22H2", "22631": "23H2", "26100": "24H2", "26200": "25H2"}
_SERVER10 = {"14393": "2016", "17763": "2019", "20348": "2022", "26100": "2025"}


def edition_of(caption: str) -> str:
    """"Pro" of "Microsoft Windows 10 Pro", "Standard Edition" of "…Server 2003, Standard Edition"."""
    s = re.sub(r"\((?:R|TM)\)|®|™", "", caption).strip()
    m = re.match(r"^(?:Microsoft\s+)?Windows\s+(?:Server\s+)?(?:XP|Vista|\d+(?:\.\d+)?)(?:\s+R2)?[\s,]*(.*)$", s, re.IGNORECASE)
    return m.group(1).strip() if m else ""


def _display_version(info: WindowsInfo) -> str:
    if info.display_version:
        return info.display_version
    if not info.version.startswith("10.0.") or info.server:
        return ""
    return _WIN11.get(info.build) or _WIN10.get(info.build, "")


def windows_cpe(info: WindowsInfo) -> str:
    """The NVD CPE 2.3 name of the installation, or "" when the product is not known."""
    parts = info.version.split(".")
    if len(parts) < 2:
        return ""
    nt = f"{parts[0]}.{parts[1]}"
    server = bool(info.server)
    r2 = bool(re.search(r"\bR2\b", info.caption))
    sp = re.search(r"(\d+)", info.service_pack or "")
    update = f"sp{sp.group(1)}" if sp else "-"
    hw = info.arch or "*"
    full = info.version + (f".{info.ubr}" if info.ubr else "")
    if nt == "10.0":
        if server:
            year = _SERVER10.get(info.build)
            return make_cpe("o", "microsoft", f"windows_server_{year}", full, target_hw=hw) if year else ""
        major = "11" if info.build.isdigit() and int(info.build) >= 22000 else "10"
        dv = _display_version(info)
        if dv:
            return make_cpe("o", "microsoft", f"windows_{major}_{dv.lower()}", full, target_hw=hw)
        return make_cpe("o", "microsoft", f"windows_{major}", "-", target_hw=hw)
    products = {
        "5.0": ("windows_2000", "windows_2000"),
        "5.1": ("windows_xp", "windows_xp"),
        "5.2": ("windows_xp", "windows_server_2003"),
        "6.0": ("windows_vista", "windows_server_2008"),
        "6.1": ("windows_7", "windows_server_2008"),
        "6.2": ("windows_8", "windows_server_2012"),
        "6.3": ("windows_8.1", "windows_server_2012"),
    }
    if nt not in products:
        return ""
    product = products[nt][1 if server else 0]
    version = "r2" if server and (r2 or nt in ("6.1", "6.3")) else "-"
    return make_cpe("o", "microsoft", product, version, update, target_hw=hw)


def component(info: WindowsInfo) -> Component:
    """The operating-system component of a Windows installation."""
    build = info.build + (f".{info.ubr}" if info.ubr else "")
    version = info.version + (f".{info.ubr}" if info.ubr else "")
    props: List[Tuple[str, str]] = []

    def add(name: str, value: str) -> None:
        if value:
            props.append((name, value))

    add(V.OS_BUILD, build)
    add(V.OS_EDITION, edition_of(info.caption))
    add(V.OS_EDITION_ID, info.edition_id)
    add(V.OS_DISPLAY_VERSION, _display_version(info))
    add(V.OS_SERVICE_PACK, info.service_pack)
    add(V.OS_ARCH, info.arch)
    add(V.OS_HOSTNAME, info.hostname)
    add(V.OS_INSTALL_DATE, info.install_date)
    add(V.OS_BOOT_TIME, info.boot_time)
    add(V.OS_REGISTERED_OWNER, info.owner)
    add(V.OS_REGISTERED_ORGANIZATION, info.organization)
    add(V.OS_TIMEZONE, info.timezone)
    add(V.OS_LOCALE, info.locale)
    for h in info.hotfixes:
        props.append((V.OS_HOTFIX, h.value))
    vendor = info.manufacturer or "Microsoft Corporation"
    return Component(
        category=Category.OPERATING_SYSTEM,
        kind=Kind.OPERATING_SYSTEM,
        name="windows",
        version=version,
        ref=make_ref(Category.OPERATING_SYSTEM.value, "windows"),
        supplier=vendor,
        manufacturer=vendor,
        description=info.caption or f"Windows {info.version}",
        cpe=windows_cpe(info),
        properties=tuple(props),
    )


# The live dump: one PowerShell start (about a second) instead of wmic + systeminfo (10-30 s).
# Get-WmiObject exists from PowerShell 2.0 (Windows 7 / 2008 R2) to 5.1; output is
# forced to UTF-8 so non-ASCII owner names survive the pipe; records use the
# wmic /format:list layout so the same parser reads both.
POWERSHELL_SCRIPT = r"""
$ErrorActionPreference = 'SilentlyContinue'
try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch {}
function Dump($tag, $objs) {
  foreach ($o in @($objs)) {
    if ($o -eq $null) { continue }
    "[$tag]"
    foreach ($p in $o.psbase.Properties) { "$($p.Name)=$($p.Value)" }
  }
}
Dump 'os' (Get-WmiObject Win32_OperatingSystem)
Dump 'qfe' (Get-WmiObject Win32_QuickFixEngineering)
$cv = Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
'[cv]'
foreach ($n in 'ProductName','EditionID','DisplayVersion','ReleaseId','CurrentBuild','UBR','InstallationType') { "$n=$($cv.$n)" }
'[extra]'
"TimeZoneKeyName=$((Get-ItemProperty 'HKLM:\SYSTEM\CurrentControlSet\Control\TimeZoneInformation').TimeZoneKeyName)"
"UICulture=$([System.Globalization.CultureInfo]::InstalledUICulture.Name)"
if ($env:PROCESSOR_ARCHITEW6432) { "Arch=$env:PROCESSOR_ARCHITEW6432" } else { "Arch=$env:PROCESSOR_ARCHITECTURE" }
"""


def info_from_sections(sections: Dict[str, List[Dict[str, str]]]) -> Optional[WindowsInfo]:
    """WindowsInfo from the PowerShell dump (see POWERSHELL_SCRIPT)."""
    os_records = sections.get("os") or []
    if not os_records:
        return None
    cv = (sections.get("cv") or [{}])[0]
    extra = (sections.get("extra") or [{}])[0]
    info = info_from_wmi(os_records[0], cv, extra)
    if info is None:
        return None
    fixes = hotfixes_from_records(sections.get("qfe") or [])
    return replace(info, hotfixes=tuple(fixes), hotfixes_known=True)
