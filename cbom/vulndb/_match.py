"""Matching a scan's components against the offline database -> `model.Vulnerability` records."""
from __future__ import annotations

import json
import re
import sqlite3
from collections import defaultdict
from datetime import date
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from .. import vocabulary as V
from ..model import Category, Component, Severity, VulnKind, Vulnerability
from . import _csaf, _eol, _osv, _wesng

WES_SEVERITY = {"critical": Severity.CRITICAL, "important": Severity.HIGH, "moderate": Severity.MEDIUM,
                "low": Severity.LOW}
WORD_SEVERITY = {"critical": Severity.CRITICAL, "high": Severity.HIGH, "important": Severity.HIGH,
                 "moderate": Severity.MEDIUM, "medium": Severity.MEDIUM, "low": Severity.LOW,
                 "negligible": Severity.INFO, "unimportant": Severity.INFO}
MSRC = "https://msrc.microsoft.com/update-guide/vulnerability/"


def _iso8(day: str) -> str:
    return f"{day[:4]}-{day[4:6]}-{day[6:8]}" if re.match(r"\d{8}$", day) else day


def _tables(con: sqlite3.Connection) -> Dict[str, int]:
    """Rows per knowledge table, so a database lacking a source skips its matcher."""
    out = {}
    for t in ("win_row", "eol", "osv_affected", "csaf_product"):
        out[t] = con.execute(f"SELECT EXISTS (SELECT 1 FROM {t})").fetchone()[0]  # noqa: S608 - fixed names
    return out


# --- Windows --------------------------------------------------------------------------------------------

def windows_release_of(c: Component) -> Optional[_wesng.WindowsRelease]:
    if c.category != Category.OPERATING_SYSTEM or c.name.lower() != "windows":
        return None
    return _wesng.windows_release(c.description or c.name, c.version, c.prop(V.OS_SERVICE_PACK), c.prop(V.OS_ARCH))


def installed_kbs(components: Sequence[Component], os_component: Component) -> Tuple[str, ...]:
    values = list(os_component.props(V.OS_HOTFIX))
    values += [c.name for c in components if c.prop(V.PACKAGE_MANAGER) == "windows-hotfix"]
    return _wesng.installed_kbs(values)


def match_windows(con: sqlite3.Connection, os_component: Component, kbs: Iterable[str]) -> List[Vulnerability]:
    rel = windows_release_of(os_component)
    if rel is None:
        return []
    product = _wesng.product_filter(rel)
    rows = _wesng.applicable_rows(con, product)
    missing = _wesng.missing_rows(rows, kbs)
    out = []
    for cve, rs in sorted(_wesng.group_by_cve(missing).items()):
        sev = min((WES_SEVERITY.get(r.severity.lower(), Severity.UNKNOWN) for r in rs), key=lambda s: list(Severity).index(s))
        kbs_fixing = sorted({r.kb for r in rs if r.kb}, key=lambda k: (len(k), k))
        titles = sorted({r.title for r in rs if r.title})
        exploits = sorted({e for r in rs for e in r.exploits.split(",") if e.strip()})
        posted = sorted(r.posted for r in rs if r.posted)
        out.append(Vulnerability(
            id=cve, source="WES-NG (MSRC)", source_url=MSRC + cve, severity=sev, method="other",
            title="; ".join(sorted({f"{r.component} {r.impact}".strip() for r in rs}))[:300] or titles[0][:300],
            detail="; ".join(titles)[:500], refs=(os_component.ref,), affected=product,
            published=_iso8(posted[0]) if posted else "", updated=_iso8(posted[-1]) if posted else "",
            recommendation="Install " + ", ".join(f"KB{k}" for k in kbs_fixing) if kbs_fixing else "",
            exploited=bool(exploits), confidence="exact",
        ))
    return out


# --- end of life -------------------------------------------------------------------------------------

def _eol_candidates(c: Component) -> Tuple[str, List[str]]:
    rel = windows_release_of(c)
    if rel is not None:
        return _eol.windows_cycles(rel, c.prop(V.OS_EDITION) or c.description)
    if c.category == Category.OPERATING_SYSTEM:
        return _eol.linux_cycles(c.name, c.version)
    return "", []


def match_eol(con: sqlite3.Connection, components: Sequence[Component], today: date) -> List[Vulnerability]:
    out = []
    for c in components:
        product, candidates = _eol_candidates(c)
        words = re.findall(r"[A-Za-z]+", " ".join((c.prop(V.OS_CODENAME), c.description))) \
            if c.category == Category.OPERATING_SYSTEM else []
        found = _eol.find_cycle(con, product, candidates, words)
        if not found:
            continue
        cycle, label, released, eol, _lts, latest, link, title = found
        if eol == "true":
            ended = True
            eol_date = ""
        elif re.match(r"\d{4}-\d\d-\d\d$", eol):
            ended = date.fromisoformat(eol) <= today
            eol_date = eol
        else:
            ended = False
            eol_date = ""
        if not ended:
            continue
        ago = f", {_ago((today - date.fromisoformat(eol_date)).days)}" if eol_date else ""
        name = _product_label(title, label)
        out.append(Vulnerability(
            id=f"EOL-{product}-{cycle}", source="endoflife.date", source_url=f"https://endoflife.date/{product}",
            kind=VulnKind.END_OF_LIFE, severity=Severity.HIGH, method="other",
            title=_eol_title(c, title, name, label, cycle, eol_date, ago),
            detail=f"Release cycle {label} of {title}, released {released or 'unknown'}, supported until "
                   f"{eol_date or 'an undated end'}." + (f" Latest release of the cycle: {latest}." if latest else ""),
            refs=(c.ref,), affected=name, eol_date=eol_date, cycle=cycle,
            recommendation=f"Upgrade to a supported release of {title}" + (f" (see {link})" if link else ""),
            confidence="exact",
        ))
    return out


def _ago(days: int) -> str:
    years, months = days // 365, (days % 365) // 30
    if years:
        return f"{years} year{'s' * (years > 1)}" + (f" {months} month{'s' * (months > 1)}" if months else "") + " ago"
    return f"{months} month{'s' * (months > 1)} ago" if months else f"{days} day{'s' * (days != 1)} ago"


def _product_label(title: str, label: str) -> str:
    """ "Apple macOS" + "macOS 11 (Big Sur)" -> "Apple macOS 11 (Big Sur)": labels may repeat the product name."""
    tw, lw = title.split(), label.split()
    for k in range(min(len(tw), len(lw)), 0, -1):
        if [w.lower() for w in tw[-k:]] == [w.lower() for w in lw[:k]]:
            return " ".join(tw + lw[k:])
    return f"{title} {label}"


def _eol_title(c: Component, title: str, name: str, label: str, cycle: str, eol_date: str, ago: str) -> str:
    """One line; says so when the machine is on an earlier cycle than the one matched.

    endoflife.date lists only the last cycle of XP (SP3) and Vista (SP2): an XP SP2 machine is past
    the end of that last cycle, and past its own (earlier) end too.
    """
    when = f"({eol_date or 'ended'}{ago})"
    rel = windows_release_of(c)
    sp = re.search(r"sp(\d+)$", cycle)
    if rel is not None and sp and rel.service_pack < int(sp.group(1)):
        own = f"SP{rel.service_pack}" if rel.service_pack else "without service pack"
        return f"{title} {rel.generation} {own} is past its end of life: even the last cycle, {label}, ended {when}"
    return f"{name} is past its end of life {when}"


# --- OSV --------------------------------------------------------------------------------------------------

def _os_release(components: Sequence[Component]) -> Tuple[str, str]:
    """(os-release ID, VERSION_ID major or Ubuntu's YY.MM) of the scanned Linux machine."""
    for c in components:
        if c.category == Category.OPERATING_SYSTEM and c.name.lower() != "windows":
            parts = re.findall(r"\d+", c.version)
            if c.name.lower() == "ubuntu" and len(parts) >= 2:
                return "ubuntu", f"{parts[0]}.{parts[1]}"
            return c.name.lower(), parts[0] if parts else ""
    return "", ""


def _purl_parts(purl: str) -> Tuple[str, str, str, str, Dict[str, str]]:
    """(type, namespace, name, version, qualifiers) of a PURL (percent-decoded)."""
    from urllib.parse import unquote

    body = purl[4:] if purl.startswith("pkg:") else purl
    body, _, _sub = body.partition("#")
    body, _, quals = body.partition("?")
    q = dict(p.split("=", 1) for p in quals.split("&") if "=" in p)
    path, _, version = body.partition("@")
    segs = path.split("/")
    ptype = segs[0].lower()
    name = unquote(segs[-1]) if len(segs) > 1 else ""
    ns = "/".join(unquote(s) for s in segs[1:-1])
    return ptype, ns, name, unquote(version), {k: unquote(v) for k, v in q.items()}


def osv_query(c: Component, os_id: str, os_version: str) -> Optional[Tuple[str, str, str, str]]:
    """(ecosystem family, release or "", package name, version) to look a component up in OSV."""
    if not c.purl:
        return None
    ptype, ns, name, version, q = _purl_parts(c.purl)
    if not version:
        return None
    if ptype == "pypi":
        return "PyPI", "", _osv.normal_name("PyPI", name), version
    if ptype == "deb":
        family = "Ubuntu" if (ns.lower() == "ubuntu" or os_id == "ubuntu") else "Debian"
        distro = q.get("distro", "")
        release = re.sub(r"^[a-z]+-", "", distro) if distro else os_version
        if family == "Debian":
            release = release.split(".")[0]
        src = c.prop(V.PACKAGE_SOURCE)
        if src:
            m = re.match(r"(\S+)(?:\s+\((\S+)\))?", src)
            if m:
                name = m.group(1)
                version = m.group(2) or version
        return family, release, name, version
    if ptype == "npm":
        return "npm", "", f"{ns}/{name}" if ns else name, version
    return None


def _release_ok(ecosystem: str, family: str, release: str) -> bool:
    parts = ecosystem.split(":")
    if parts[0] != family:
        return False
    if len(parts) == 1:
        return True
    if "Pro" in parts[1:]:  # Ubuntu Pro (ESM) versions are not those of the public archive
        return False
    return bool(release) and parts[1] == release


def match_osv(con: sqlite3.Connection, components: Sequence[Component]) -> List[Vulnerability]:
    os_id, os_version = _os_release(components)
    hits: Dict[Tuple[str, str], List[Tuple[str, List[dict]]]] = defaultdict(list)
    for c in components:
        q = osv_query(c, os_id, os_version)
        if q is None:
            continue
        family, release, name, version = q
        for vid, eco, ranges_json, versions_json in con.execute(
                "SELECT vuln, ecosystem, ranges, versions FROM osv_affected WHERE name = ?", (name,)):
            if not _release_ok(eco, family, release):
                continue
            ranges = json.loads(ranges_json)
            if _osv.affects(ranges, json.loads(versions_json), eco, version):
                hits[(vid, c.ref)].append((eco, ranges))
    out = []
    for (vid, ref), found in sorted(hits.items()):
        row = con.execute("SELECT summary, aliases, published, modified, vector, severity, url FROM osv_vuln WHERE id = ?",
                          (vid,)).fetchone()
        if row is None:
            continue
        summary, aliases, published, modified, vector, word, url = row
        ranges = [r for _e, rs in found for r in rs]
        fixed = sorted(set(_osv.fixed_versions(ranges)))
        sev = WORD_SEVERITY.get(word.lower(), Severity.UNKNOWN) if word else Severity.UNKNOWN
        score = cvss3_base_score(vector) if vector.startswith("CVSS:3") else None
        if sev == Severity.UNKNOWN and score is not None:
            sev = cvss3_severity(score)
        out.append(Vulnerability(
            id=vid, source="OSV", source_url=url, severity=sev, score=score, vector=vector,
            method=("CVSSv31" if vector.startswith("CVSS:3.1") else "CVSSv3" if vector.startswith("CVSS:3") else
                    "CVSSv4" if vector.startswith("CVSS:4") else "other"),
            title=summary, refs=(ref,), affected=f"{found[0][0]}: {_osv.describe_ranges(ranges)}",
            published=published, updated=modified, aliases=tuple(json.loads(aliases)),
            vers=_osv.to_vers(found[0][0], found[0][1]) if len(found) == 1 else "",
            recommendation=f"Upgrade to {' or '.join(fixed)}" if fixed else "No fixed version published",
            confidence="exact",
        ))
    return out


# --- CSAF (industrial devices and engineering software, by text) -----------------------------------------

def match_csaf(con: sqlite3.Connection, components: Sequence[Component]) -> List[Vulnerability]:
    out = []
    seen = set()
    index = _csaf.load_index(con)
    for c in components:
        vendor = c.manufacturer or c.supplier or c.publisher or c.group
        if not vendor or c.category == Category.OPERATING_SYSTEM:
            continue
        for r in _csaf.match_text(index, vendor, c.name, c.version):
            key = (r["cve"] or r["advisory"], r["advisory"], c.ref)
            if key in seen:  # one advisory listing several versions/ranges that all match
                continue
            seen.add(key)
            score = float(r["score"]) if re.match(r"\d+(\.\d+)?$", r["score"]) else None
            out.append(Vulnerability(
                id=r["cve"] or r["advisory"], source=f"CISA ICS {r['advisory']}", source_url=r["url"],
                severity=cvss3_severity(score) if score is not None else Severity.UNKNOWN, score=score,
                vector=r["vector"], method="CVSSv31" if r["vector"].startswith("CVSS:3.1") else "CVSSv3",
                title=r["title"], refs=(c.ref,), affected=f"{r['vendor']} {r['product']} {r['version']}",
                published=r["released"], recommendation=r["remediation"],
                confidence="name/version text",
            ))
    return out


# --- CVSS v3 base score (FIRST CVSS v3.1 specification, section 7.1) ---------------------------------------

_W = {"AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}, "AC": {"L": 0.77, "H": 0.44},
      "UI": {"N": 0.85, "R": 0.62}, "C": {"H": 0.56, "L": 0.22, "N": 0.0}}


def _roundup(x: float) -> float:
    i = int(round(x * 100000))
    return i / 100000.0 if i % 10000 == 0 else (i // 10000 + 1) / 10.0


def cvss3_base_score(vector: str) -> Optional[float]:
    try:
        m = dict(p.split(":", 1) for p in vector.split("/")[1:])
        scope_changed = m["S"] == "C"
        pr = {"N": 0.85, "L": 0.68 if scope_changed else 0.62, "H": 0.5 if scope_changed else 0.27}[m["PR"]]
        iss = 1 - (1 - _W["C"][m["C"]]) * (1 - _W["C"][m["I"]]) * (1 - _W["C"][m["A"]])
        impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if scope_changed else 6.42 * iss
        expl = 8.22 * _W["AV"][m["AV"]] * _W["AC"][m["AC"]] * pr * _W["UI"][m["UI"]]
    except (KeyError, ValueError):
        return None
    if impact <= 0:
        return 0.0
    return _roundup(min(1.08 * (impact + expl), 10)) if scope_changed else _roundup(min(impact + expl, 10))


def cvss3_severity(score: float) -> Severity:
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0:
        return Severity.LOW
    return Severity.NONE


# --- everything ----------------------------------------------------------------------------------------

def match_components(con: sqlite3.Connection, components: Sequence[Component], today: date) -> Tuple[Vulnerability, ...]:
    have = _tables(con)
    out: List[Vulnerability] = []
    if have["win_row"]:
        for c in components:
            if windows_release_of(c) is not None:
                out += match_windows(con, c, installed_kbs(components, c))
    if have["eol"]:
        out += match_eol(con, components, today)
    if have["osv_affected"]:
        out += match_osv(con, components)
    if have["csaf_product"]:
        out += match_csaf(con, components)
    return tuple(out)
