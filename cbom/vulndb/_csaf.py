"""CISA ICS advisories in CSAF 2.0 (github.com/cisagov/CSAF, `csaf_files/OT/white/<year>/*.json`).

A CSAF document names products in `product_tree.branches`: vendor > product_name >
product_version or product_version_range (CISA writes ranges as `vers:` strings, e.g.
"vers:all/*", "vers:intdot/<4.2"), each leaf carrying a `product_id`. Each of `vulnerabilities[]`
lists the ids it affects in `product_status.known_affected`, its CVE, CVSS v3 `scores` and
`remediations`. Industrial devices seen on the network and engineering software are identified by
vendor and product *text*, not by an identifier shared with the advisory: such matches are stated
with confidence "name/version text".
"""
from __future__ import annotations

import json
import re
import sqlite3
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from .._versions import compare_generic
from ._db import Builder, SourceInfo
from ._wesng import SourceError

URL = "https://github.com/cisagov/CSAF"
LICENCE = "TLP:WHITE (CISA; disclosure not limited)"


def is_csaf(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("document"), dict) \
        and str(doc["document"].get("csaf_version", "")).startswith("2.")


def _leaves(branches: Any, path: Tuple[Tuple[str, str], ...] = ()) -> Iterator[Tuple[str, str, str, str]]:
    """(vendor, product, version or range, product_id) of every leaf of a product tree."""
    for b in branches or []:
        if not isinstance(b, dict):
            continue
        here = path + ((str(b.get("category", "")), str(b.get("name", ""))),)
        if isinstance(b.get("product"), dict) and b["product"].get("product_id"):
            vendor = next((n for c, n in here if c == "vendor"), "")
            names = [n for c, n in here if c in ("product_name", "product_family")]
            version = next((n for c, n in reversed(here) if c in ("product_version", "product_version_range")), "")
            yield vendor, " ".join(names), version, str(b["product"]["product_id"])
        yield from _leaves(b.get("branches"), here)


def load_documents(items: Iterable[Tuple[str, bytes]], label: str, builder: Builder) -> SourceInfo:
    rows: List[tuple] = []
    newest = ""
    count = 0
    for where, raw in items:
        try:
            doc = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SourceError(f"{where}: malformed JSON ({exc})".splitlines()[0]) from None
        if not is_csaf(doc):
            raise SourceError(f"{where}: not a CSAF 2.0 document (no document.csaf_version)")
        d = doc["document"]
        tracking = d.get("tracking") or {}
        advisory = str(tracking.get("id") or where)
        released = str(tracking.get("current_release_date") or "")[:10]
        newest = max(newest, released)
        url = next((r.get("url", "") for r in d.get("references") or []
                    if isinstance(r, dict) and r.get("category") == "self" and "Web" in str(r.get("summary", ""))), "")
        leaves = {pid: (v, p, ver) for v, p, ver, pid in _leaves((doc.get("product_tree") or {}).get("branches"))}
        count += 1
        for vuln in doc.get("vulnerabilities") or []:
            if not isinstance(vuln, dict):
                continue
            cve = str(vuln.get("cve") or "")
            score, vector = "", ""
            for s in vuln.get("scores") or []:
                cv = s.get("cvss_v3") if isinstance(s, dict) else None
                if isinstance(cv, dict):
                    score, vector = str(cv.get("baseScore", "")), str(cv.get("vectorString", ""))
            fix = next((str(r.get("details", "")) for r in vuln.get("remediations") or []
                        if isinstance(r, dict) and r.get("category") == "vendor_fix"), "")
            for pid in (vuln.get("product_status") or {}).get("known_affected") or []:
                if pid in leaves:
                    vendor, product, version = leaves[pid]
                    rows.append((advisory, vendor, product, version, "known_affected", cve, str(d.get("title", "")),
                                 released, score, vector, fix[:300], url))
    if count == 0:
        raise SourceError(f"{label}: no CSAF document found")
    builder.con.executemany("INSERT INTO csaf_product VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    info = SourceInfo(kind="csaf", name=f"CISA ICS advisories, CSAF 2.0 ({count} documents)", path=label,
                      date=newest, licence=LICENCE, url=URL, records=count)
    builder.add_source(info)
    return info


# --- matching by text ----------------------------------------------------------------------------------

def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def version_in(spec: str, version: str) -> Optional[bool]:
    """Whether `version` satisfies a CSAF product version or `vers:` range; None when unknown.

    `vers:` (the package-url VERS spec): "vers:<scheme>/<constraint>|<constraint>…", each constraint
    an operator (<, <=, >, >=, =, !=) and a version, "*" for every version. Constraints joined by
    "|" are here read as a conjunction of bounds (CISA writes "vers:intdot/>=1.0|<2.0").
    """
    spec = re.sub(r"(?i)^all versions\s*", "", spec.strip())  # CISA: "All versions < V223.0 Update 10"
    if not spec:
        return True
    if not spec.startswith("vers:"):
        if not version:
            return None
        # CISA's product_version_range names are mostly bare constraints: "<V2.4", "<=4.1.5"
        if not re.match(r"(<=|>=|!=|<|>|=)", spec):
            return compare_generic(spec, version) == 0
        body = spec
    else:
        body = spec.split("/", 1)[1] if "/" in spec else ""
    if body.strip() == "*":
        return True
    if not version:
        return None
    ok = True
    for part in body.split("|"):
        m = re.match(r"\s*(<=|>=|!=|<|>|=)?\s*(.+)", part)
        if not m:
            return None
        op, bound = m.group(1) or "=", m.group(2).strip()
        c = compare_generic(version, bound)
        ok = ok and {"<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0, "=": c == 0, "!=": c != 0}[op]
    return ok


COLUMNS = ("advisory", "vendor", "product", "version", "status", "cve", "title", "released", "score", "vector",
           "remediation", "url")


def load_index(con: sqlite3.Connection) -> Dict[str, List[Dict[str, str]]]:
    """Advisory rows by normalised vendor name, read once per scan."""
    out: Dict[str, List[Dict[str, str]]] = {}
    for row in con.execute("SELECT * FROM csaf_product"):
        r = dict(zip(COLUMNS, row))
        out.setdefault(_norm(r["vendor"]), []).append(r)
    return out


def match_text(index: Dict[str, List[Dict[str, str]]], vendor: str, product: str, version: str) -> List[Dict[str, str]]:
    """Advisory rows whose vendor and product name the component's vendor and name.

    The vendor must be contained in the component's manufacturer/vendor text (or the reverse), and
    every word of the advisory's product name must appear in the component's name; the version
    must satisfy the advisory's version or range (an unknown version matches only "vers:all/*").
    """
    nv = _norm(vendor)
    if not nv:
        return []
    words = set(_norm(product).split())
    out = []
    for av, rows in index.items():
        if not av or not (av in nv or nv in av):
            continue
        for r in rows:
            pw = set(_norm(r["product"]).split())
            if pw and pw <= words and version_in(r["version"], version) is True:
                out.append(r)
    return out
