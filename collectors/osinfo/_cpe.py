"""CPE 2.3 formatted strings for operating systems.

Bindings follow NISTIR 7695 (CPE Naming 2.3): in the formatted string every
printable character other than letters, digits, "_", "." and "-" is quoted
with a backslash, an empty (ANY) field is "*" and NA is "-". os-release's
`CPE_NAME` is usually the older 2.2 URI (`cpe:/o:redhat:enterprise_linux:9::baseos`),
sometimes already 2.3 (Amazon Linux 2023).
"""
from __future__ import annotations

import re
from typing import List
from urllib.parse import unquote

__all__ = ["make_cpe", "to_cpe23"]

FIELDS = ("part", "vendor", "product", "version", "update", "edition", "language",
          "sw_edition", "target_sw", "target_hw", "other")


def _fs(value: str) -> str:
    if value in ("", "*"):
        return "*"
    if value == "-":
        return "-"
    out = []
    for ch in value.lower():
        if ch.isascii() and (ch.isalnum() or ch in "_.-"):
            out.append(ch)
        elif ch == " ":
            out.append("_")  # NVD's convention for blanks in names
        elif ch.isascii() and ch.isprintable():
            out.append("\\" + ch)
        # anything else (non-ASCII) has no CPE binding and is dropped
    return "".join(out) or "*"


def make_cpe(part: str, vendor: str, product: str, version: str = "*", update: str = "*",
             edition: str = "*", language: str = "*", sw_edition: str = "*", target_sw: str = "*",
             target_hw: str = "*", other: str = "*") -> str:
    """A well-formed `cpe:2.3:...` string from plain (unquoted) field values."""
    values = (part, vendor, product, version, update, edition, language, sw_edition, target_sw, target_hw, other)
    return "cpe:2.3:" + ":".join(_fs(v) for v in values)


def _split_fs(cpe: str) -> List[str]:
    """Fields of a formatted string, honouring backslash-quoted colons."""
    return re.split(r"(?<!\\):", cpe)


def to_cpe23(cpe: str) -> str:
    """`cpe` as a CPE 2.3 formatted string, or "" when it is neither a 2.2 URI nor 2.3 FS."""
    cpe = cpe.strip()
    low = cpe.lower()
    if low.startswith("cpe:2.3:"):
        fields = _split_fs(cpe)
        # Amazon Linux writes the 2.3 prefix with only five fields ("cpe:2.3:o:amazon:amazon_linux:2023"):
        # the missing trailing fields are ANY.
        if not 5 <= len(fields) <= 13 or fields[2] not in ("a", "o", "h") or not all(fields[3:5]):
            return ""
        return ":".join(fields + ["*"] * (13 - len(fields)))
    if not low.startswith("cpe:/"):
        return ""
    comps = cpe[5:].split(":")
    if len(comps) > 7 or not comps[0] or comps[0].lower() not in ("a", "o", "h"):
        return ""
    comps += [""] * (7 - len(comps))
    part, vendor, product, version, update, edition, language = comps
    sw_edition = target_sw = target_hw = other = ""
    if edition.startswith("~"):  # packed edition: ~edition~sw_edition~target_sw~target_hw~other
        packed = (edition[1:].split("~") + [""] * 5)[:5]
        edition, sw_edition, target_sw, target_hw, other = packed
    values = [_uri_value(v) for v in (part, vendor, product, version, update, edition, language,
                                      sw_edition, target_sw, target_hw, other)]
    if not values[1] or not values[2]:
        return ""
    return make_cpe(*values)


def _uri_value(value: str) -> str:
    # %01 and %02 are the URI's single and multi-character wildcards: keep them ANY.
    if value in ("%01", "%02"):
        return "*"
    return unquote(value)
