"""Parsers of Windows tool output shared by several collectors.

Decoding recorded bytes lives in `cbom.decode` (the recorded-host backend needs it too).
"""
from __future__ import annotations

import html
import re
from typing import Dict, List

from cbom.decode import clean_text, decode_recorded

__all__ = ["clean_text", "decode_recorded", "parse_wmic_list"]


def parse_wmic_list(text: str) -> List[Dict[str, str]]:
    """`wmic path CLASS get /format:list`: instances separated by blank lines, 'Key=Value' lines."""
    out: List[Dict[str, str]] = []
    cur: Dict[str, str] = {}
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            if cur:
                out.append(cur)
                cur = {}
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            continue  # banners such as "Please wait while WMIC is being installed."
        if key in cur:  # no blank line between two instances (truncated/edited dumps)
            out.append(cur)
            cur = {}
        cur[key] = html.unescape(value.strip())  # wmic escapes '&' as '&amp;' in /format:list
    if cur:
        out.append(cur)
    return out
