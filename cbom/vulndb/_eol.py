"""Release cycles and end-of-life dates from endoflife.date (github.com/endoflife-date/endoflife.date, MIT).

The publisher distributes its data as `products/<product>.md`: a YAML front matter between two
"---" lines whose `releases` list gives per cycle `releaseCycle`, `releaseLabel` (optional,
"__RELEASE_CYCLE__" replaced by the cycle), `releaseDate`, `eol` (a date, or true/false when
the end is not dated), `lts`, `latest`, `link`. A folder given to `cbom db build` is searched for
such files (the repository root, its `products/` folder, or a folder of product files).

Machines are mapped to a product and cycle here: Windows by generation, edition and build
(`windows` and `windows-server` products), Linux by os-release ID and VERSION_ID.
"""
from __future__ import annotations

import re
import sqlite3
from datetime import date, datetime
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from ._db import Builder, SourceInfo
from ._wesng import SourceError, WindowsRelease

URL = "https://endoflife.date"
LICENCE = "MIT"

# os-release ID -> endoflife.date product (its permalink)
LINUX_PRODUCTS = {
    "debian": "debian", "ubuntu": "ubuntu", "centos": "centos", "rhel": "rhel", "rocky": "rocky-linux",
    "almalinux": "almalinux", "alpine": "alpine-linux", "fedora": "fedora", "amzn": "amazon-linux",
    "sles": "sles", "sled": "sles", "opensuse-leap": "opensuse", "ol": "oracle-linux", "linuxmint": "linuxmint",
    "raspbian": "debian", "macos": "macos",  # macOS: cbom's os.macos component is named "macos"
}


def front_matter(text: str, label: str) -> Dict[str, Any]:
    """The YAML front matter of an endoflife.date product file."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise SourceError(f"{label}: not an endoflife.date product file (no front matter)")
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "---")
    except StopIteration:
        raise SourceError(f"{label}: front matter not closed by '---' (truncated?)") from None
    try:
        data = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as exc:
        raise SourceError(f"{label}: malformed YAML front matter ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("releases"), list):
        raise SourceError(f"{label}: no `releases` list in the front matter")
    return data


def _iso(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    if isinstance(value, bool) or value is None:
        return ""
    return str(value)


def cycles(data: Dict[str, Any], product: str) -> List[tuple]:
    """(product, cycle, label, released, eol, lts, latest, link, title, codename) per release of one product file."""
    out = []
    label_tpl = str(data.get("releaseLabel") or "")
    title = str(data.get("title") or product)
    for rel in data["releases"]:
        if not isinstance(rel, dict) or "releaseCycle" not in rel:
            continue
        cycle = str(rel["releaseCycle"])
        label = str(rel.get("releaseLabel") or label_tpl or cycle)
        label = label.replace("__RELEASE_CYCLE__", cycle).replace("__CODENAME__", str(rel.get("codename") or ""))
        eol = rel.get("eol")
        # eol: a date, or true (ended, undated) / false (supported)
        eol_text = _iso(eol) if not isinstance(eol, bool) else ("true" if eol else "")
        out.append((product, cycle, label.strip(), _iso(rel.get("releaseDate")), eol_text, int(bool(rel.get("lts"))),
                    str(rel.get("latest") or ""), str(rel.get("link") or ""), title, str(rel.get("codename") or "")))
    return out


def product_files(folder: Path) -> List[Path]:
    for candidate in (folder / "products", folder):
        files = sorted(candidate.glob("*.md"))
        if files:
            return files
    return []


def load_products(files: Sequence[Path], label: str, builder: Builder) -> SourceInfo:
    rows: List[tuple] = []
    newest = ""
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(f"{path}: unreadable ({exc})".splitlines()[0]) from None
        data = front_matter(text, str(path))
        product = path.stem
        for rel in data["releases"]:
            if isinstance(rel, dict):
                for key in ("releaseDate", "latestReleaseDate"):
                    day = _iso(rel.get(key))
                    if re.match(r"\d{4}-\d\d-\d\d$", day) and day > newest:
                        newest = day
        rows.extend(cycles(data, product))
    if not rows:
        raise SourceError(f"{label}: no release cycle found")
    builder.con.executemany("INSERT INTO eol VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    info = SourceInfo(kind="endoflife.date", name=f"endoflife.date release data ({len(files)} products)",
                      path=label, date=newest, licence=LICENCE, url=URL, records=len(rows))
    builder.add_source(info)
    return info


# --- mapping a machine to a cycle -------------------------------------------------------------------

def windows_cycles(rel: WindowsRelease, edition: str) -> Tuple[str, List[str]]:
    """(product, candidate cycles, most specific first) of a Windows release."""
    ed = edition.lower()
    gen = rel.generation
    if gen == "XP":
        return "windows", ["5-sp3"]  # the last XP cycle: any XP is past it
    if gen == "Vista":
        return "windows", ["6-sp2"]
    if gen == "7":
        return "windows", ["7-sp1", "7"]
    if gen in ("8", "8.1"):
        return "windows", [gen]
    if gen in ("10", "11"):
        v = rel.version.lower()
        base = f"{gen}-{v}"
        if "ltsc" in ed or "ltsb" in ed:
            kinds = ["-e-lts", "-iot-lts", "-lts"]
        elif "iot" in ed:
            kinds = ["-iot-lts", "-iot", "-e"]
        elif "enterprise" in ed or "education" in ed:
            kinds = ["-e", ""]
        else:  # Home, Pro, Pro for Workstations…
            kinds = ["-w", ""]
        return "windows", [base + k for k in kinds] + [base]
    year = gen.split()[0]
    r2 = "-r2" if "R2" in gen else ""
    sp = f"-sp{rel.service_pack}" if rel.service_pack else ""
    return "windows-server", [f"{year}{r2}{sp}", f"{year}{r2}"]


def linux_cycles(os_id: str, version: str) -> Tuple[str, List[str]]:
    product = LINUX_PRODUCTS.get(os_id.lower(), "")
    parts = re.findall(r"\d+", version)
    out = []
    if version:
        out.append(version)
    for n in (3, 2, 1):
        if len(parts) >= n:
            out.append(".".join(parts[:n]))
    return product, list(dict.fromkeys(out))


def find_cycle(con: sqlite3.Connection, product: str, candidates: Iterable[str],
               codenames: Iterable[str] = ()) -> Optional[tuple]:
    """(cycle, label, released, eol, lts, latest, link, title) of the first candidate the data has.

    Without a matching cycle, a release codename ("stretch" of Debian testing's "stretch/sid",
    which states no VERSION_ID) names the cycle whose `codename` it is.
    """
    if not product:
        return None
    found = list(con.execute(
        "SELECT cycle, label, released, eol, lts, latest, link, title, codename FROM eol WHERE product = ?", (product,)))
    rows = {r[0]: r[:8] for r in found}
    for c in candidates:
        if c in rows:
            return rows[c]
    names = {n.lower() for n in codenames if n}
    for r in found:
        if r[8] and r[8].lower() in names:
            return r[:8]
    return None
