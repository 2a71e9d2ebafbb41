"""Windows patch level from WES-NG's `definitions.zip` (github.com/bitsadmin/wesng, BSD-3-Clause).

The archive holds `CVEs_YYYYMMDD.csv` (MSRC bulletins and the Security Update Guide: one row per
CVE x KB x affected product, with the KBs each update supersedes), `Custom_YYYYMMDD.csv` (service
packs and rollups added by WES-NG's author) and `Version_X.XX.txt`. Columns, as of 2026-06:
DatePosted, CVE, BulletinKB, Title, AffectedProduct, AffectedComponent, Severity, Impact,
Supersedes (";"-separated KBs), Exploits (URLs). Lines starting with "#" are comments.

Matching follows WES-NG's documented approach (README "How it works", wes.py 1.06) so that the
result can be checked against it: the machine's product string is built from its OS name, build,
service pack and architecture as systeminfo states them; every row whose AffectedProduct contains
that string (and, without a service pack, is not a "... Service Pack N" product) applies; an update
is missing when it is neither installed nor superseded by another update of that product.
"""
from __future__ import annotations

import csv
import io
import re
import sqlite3
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Set, Tuple

from ._db import Builder, SourceInfo

HEADER = ("DatePosted", "CVE", "BulletinKB", "Title", "AffectedProduct", "AffectedComponent",
          "Severity", "Impact", "Supersedes", "Exploits")
URL = "https://github.com/bitsadmin/wesng"
LICENCE = "BSD-3-Clause"
_CVES = re.compile(r"(?:^|/)CVEs_(\d{8})\.csv$")
_CUSTOM = re.compile(r"(?:^|/)Custom_(\d{8})\.csv$")

# Windows 10/11 and Server 2016+ name their feature updates by version; the build number says
# which (Microsoft "Windows 10/11 release information"). A build between two listed is the earlier.
BUILD_VERSIONS = (
    (10240, "1507"), (10586, "1511"), (14393, "1607"), (15063, "1703"), (16299, "1709"), (17134, "1803"),
    (17763, "1809"), (18362, "1903"), (18363, "1909"), (19041, "2004"), (19042, "20H2"), (19043, "21H1"),
    (19044, "21H2"), (19045, "22H2"), (20348, "21H2"), (22000, "21H2"), (22621, "22H2"), (22631, "23H2"),
    (26100, "24H2"), (26200, "25H2"),
)


class SourceError(Exception):
    """An upstream file that cannot be taken; the message is one line."""


def is_definitions(names: Iterable[str]) -> bool:
    return any(_CVES.search(n) for n in names)


def load_definitions(zf: zipfile.ZipFile, label: str, builder: Builder) -> SourceInfo:
    """Read WES-NG's definitions.zip (already opened) into the database."""
    names = zf.namelist()
    cves = [n for n in names if _CVES.search(n)]
    if len(cves) != 1:
        raise SourceError(f"{label}: not a WES-NG definitions.zip (expected one CVEs_YYYYMMDD.csv, found {len(cves)})")
    m = _CVES.search(cves[0])
    stamp = m.group(1) if m else ""
    day = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:]}"
    files = [cves[0]] + [n for n in names if _CUSTOM.search(n)]
    version = next((n for n in names if n.startswith("Version_")), "")
    info = SourceInfo(kind="wesng", name=f"WES-NG definitions {version[8:-4] if version else ''}".strip(),
                      path=label, date=day, licence=LICENCE, url=URL, records=0)
    source_id = builder.add_source(info)
    con = builder.con
    products: Dict[str, int] = {}
    texts: Dict[str, int] = {}

    def pid(name: str) -> int:
        if name not in products:
            products[name] = len(products) + 1
        return products[name]

    def tid(value: str) -> int:
        if value not in texts:
            texts[value] = len(texts) + 1
        return texts[value]

    count = 0
    for name in files:
        try:
            with zf.open(name) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                reader = csv.reader(line for line in text if not line.startswith("#"))
                header = next(reader, None)
                if header is None or tuple(header[:len(HEADER)]) != HEADER:
                    raise SourceError(f"{label}: {name}: unexpected header {','.join(header or [])[:80]!r} "
                                      f"(expected {','.join(HEADER)})")
                batch: List[tuple] = []
                for lineno, row in enumerate(reader, 2):
                    if len(row) < len(HEADER):
                        if not row:
                            continue
                        raise SourceError(f"{label}: {name}: line {lineno}: {len(row)} columns, expected {len(HEADER)}")
                    posted, cve, kb, title, product, component, severity, impact, supersedes, exploits = row[:10]
                    # texts repeat over thousands of rows: each is stored once, in win_text
                    batch.append((pid(product), kb, tid(cve), posted, tid(title), tid(component), tid(severity),
                                  tid(impact), tid(supersedes), tid(exploits)))
                    if len(batch) >= 20000:
                        con.executemany("INSERT INTO win_row VALUES (?,?,?,?,?,?,?,?,?,?)", batch)
                        count += len(batch)
                        batch = []
                con.executemany("INSERT INTO win_row VALUES (?,?,?,?,?,?,?,?,?,?)", batch)
                count += len(batch)
        except (zipfile.BadZipFile, EOFError, OSError, UnicodeDecodeError, csv.Error) as exc:
            raise SourceError(f"{label}: {name}: unreadable ({type(exc).__name__}: {exc})".splitlines()[0]) from None
    if count == 0:
        raise SourceError(f"{label}: WES-NG definitions hold no rows")
    con.executemany("INSERT INTO win_product (id, name) VALUES (?, ?)", [(i, n) for n, i in products.items()])
    con.executemany("INSERT INTO win_text (id, value) VALUES (?, ?)", [(i, v) for v, i in texts.items()])
    builder.set_records(source_id, count)
    return SourceInfo(info.kind, info.name, info.path, info.date, info.licence, info.url, count)


# --- the machine's product string ------------------------------------------------------------------

# "Microsoft(R) Windows(R) Server 2003", "Microsoft® Windows Vista™", and "Microsoftr Windows Serverr 2008"
# (the ® of a code page that lacks it, read as "r", as WES-NG's validation/ outputs show).
_WIN = re.compile(r"Windows(?:\(R\)|®|r)?\s*(?:(Server)(?:\(R\)|®|r)?\s*)?"
                  r"(XP|Vista|7|8\.1|8|10|11|2003|2008|2012|2016|2019|2022|2025)(?:,?\s*(R2))?", re.IGNORECASE)


@dataclass(frozen=True)
class WindowsRelease:
    """What identifies a Windows patch level: generation, build, service pack, architecture."""

    generation: str  # "XP", "Vista", "7", "8", "8.1", "10", "11", "2003", "2008", "2008 R2", "2012 R2", …
    build: int
    service_pack: int  # 0 when none
    arch: str  # "x86", "x64", "arm64"
    version: str = ""  # feature-update version of 10/11/2016+: "1809", "22H2"


def windows_release(os_name: str, version: str, service_pack: str, arch: str) -> Optional[WindowsRelease]:
    """The release of a Windows machine from systeminfo's "OS Name", "OS Version" and "System Type".

    `version` is "6.1.7601" (the build is the last number), `service_pack` "Service Pack 1" or "",
    `arch` "x86"/"x64"/"arm64". None when `os_name` names no Windows generation known here.
    """
    m = _WIN.search(os_name)
    if not m:
        return None
    gen = m.group(2).upper() if m.group(2).lower() in ("xp",) else m.group(2).capitalize()
    if m.group(3) and gen in ("2003", "2008", "2012"):
        gen += " R2"
    digits = re.findall(r"\d+", version)
    build = int(digits[2]) if len(digits) >= 3 else int(digits[-1]) if digits else 0
    sp = re.search(r"(\d+)", service_pack or "")
    feature = ""
    for number, name in BUILD_VERSIONS:
        if build >= number:
            feature = name
    return WindowsRelease(gen, build, int(sp.group(1)) if sp else 0, (arch or "x64").lower(), feature)


def product_filter(rel: WindowsRelease) -> str:
    """The AffectedProduct text (a substring) naming this release in the definitions.

    The spellings are MSRC's product names as they appear in the CSV ("Windows 7 for x64-based
    Systems Service Pack 1", "Microsoft Windows XP Professional x64 Edition Service Pack 2").
    As WES-NG does, Server 2003/2008 (R2) are named without their service pack (systeminfo does
    not tell 2003 from 2003 R2; 2008's "Service Pack 2" rows are then left out by the
    service-pack rule of `applicable_products`).
    """
    x64 = rel.arch in ("x64", "amd64", "x86_64")
    bits = "x64-based" if x64 else "32-bit" if rel.arch == "x86" else f"{rel.arch.upper()}-based"
    sp = f" Service Pack {rel.service_pack}" if rel.service_pack else ""
    gen = rel.generation
    if gen == "XP":
        return "Microsoft Windows XP" + (" Professional x64 Edition" if x64 else "") + sp
    if gen == "Vista":
        return "Windows Vista" + (" x64 Edition" if x64 else "") + sp
    if gen == "7":
        return f"Windows 7 for {bits} Systems{sp}"
    if gen in ("8", "8.1"):
        return f"Windows {gen} for {bits} Systems"
    if gen in ("10", "11"):
        return f"Windows {gen} Version {rel.version} for {bits} Systems"
    if gen.startswith("2003"):
        return "Microsoft Windows Server 2003" + (" x64 Edition" if x64 else "")
    if gen.startswith("2008"):
        return f"Windows Server {gen} for {bits} Systems"
    return f"Windows Server {gen}"


def applicable_products(names: Iterable[str], product: str) -> List[str]:
    """The AffectedProduct names that concern `product` (substring rule, see `product_filter`)."""
    if "Service Pack" in product:
        return [n for n in names if product in n]
    with_sp = product + " Service Pack"
    return [n for n in names if product in n and with_sp not in n]


# --- matching ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WinRow:
    kb: str
    cve: str
    posted: str
    title: str
    product: str
    component: str
    severity: str
    impact: str
    supersedes: str
    exploits: str


def applicable_rows(con: sqlite3.Connection, product: str) -> List[WinRow]:
    names = {name: pid for pid, name in con.execute("SELECT id, name FROM win_product")}
    chosen = applicable_products(names, product)
    if not chosen:
        return []
    ids = [names[n] for n in chosen]
    marks = ",".join("?" * len(ids))
    rows = con.execute(f"SELECT kb, cve, posted, title, product, component, severity, impact, supersedes, exploits "
                       f"FROM win_row WHERE product IN ({marks})", ids).fetchall()
    wanted = {i for r in rows for i in (r[1], r[3], r[5], r[6], r[7], r[8], r[9])}
    text: Dict[int, str] = {}
    for i, value in con.execute("SELECT id, value FROM win_text"):
        if i in wanted:
            text[i] = value
    product_names = {pid: name for name, pid in names.items()}
    return [WinRow(kb, text[cve], posted, text[title], product_names[product], text[comp], text[sev], text[impact],
                   text[sup], text[exp])
            for kb, cve, posted, title, product, comp, sev, impact, sup, exp in rows]


def missing_rows(rows: List[WinRow], installed: Iterable[str]) -> List[WinRow]:
    """The rows of updates neither installed nor superseded by an update of this product.

    An update listed in any applicable row's Supersedes is covered by a later one (WES-NG
    assumes the later one is what the machine should install, and reports that one instead).
    """
    covered: Set[str] = {normal_kb(k) for k in installed}
    for r in rows:
        if r.supersedes:
            covered.update(k.strip() for k in r.supersedes.split(";") if k.strip())
    return [r for r in rows if r.kb not in covered]


def normal_kb(kb: str) -> str:
    """ "KB2871997" -> "2871997" (the definitions' BulletinKB)."""
    kb = kb.strip().upper()
    return kb[2:] if kb.startswith("KB") else kb


def group_by_cve(rows: Iterable[WinRow]) -> Dict[str, List[WinRow]]:
    out: Dict[str, List[WinRow]] = defaultdict(list)
    for r in rows:
        if r.cve.upper().startswith("CVE-"):
            out[r.cve.upper()].append(r)
    return out


def installed_kbs(text_values: Iterable[str]) -> Tuple[str, ...]:
    """KB numbers from hotfix names/properties ("KB2871997", "KB976902 - Update")."""
    out = []
    for value in text_values:
        for m in re.finditer(r"KB(\d+)", value, re.IGNORECASE):
            out.append(m.group(1))
    return tuple(dict.fromkeys(out))
