"""Parsers of Windows tool output shared by several collectors.

Decoding recorded bytes lives in `cbom.decode` (the recorded-host backend needs it too).
"""
from __future__ import annotations

import html
import re
import unicodedata
from typing import Dict, List, Optional, Tuple, Union

from cbom.decode import clean_text, decode_recorded

__all__ = ["RegKey", "RegValue", "clean_na", "clean_text", "decode_recorded", "parse_reg_export", "parse_wmic_list",
           "systeminfo_lines"]


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


# --- systeminfo (read by os.windows for the OS, by hardware.windows for the machine and its firmware) ---

_NA = {"", "n/a", "暂缺", "non disponible", "nicht zutreffend", "n/d", "н/д", "не применимо"}


def clean_na(value: str) -> str:
    """`value` stripped, or "" for the "N/A" of every language systeminfo and wmic print."""
    value = value.replace("\xa0", " ").strip()
    return "" if value.lower() in _NA else value


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _cut(line: str, column: int) -> Tuple[str, str]:
    """Split `line` at display column `column` (wide characters count two)."""
    w = 0
    for i, ch in enumerate(line):
        if w >= column:
            return line[:i], line[i:]
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return line, ""


def systeminfo_lines(text: str) -> List[Tuple[str, str, List[str]]]:
    """Top-level (label, value, continuation lines) triples of a systeminfo listing."""
    lines = [ln.rstrip() for ln in text.replace("\r", "").split("\n")]
    lines = [ln for ln in lines if ln.strip()]
    # The host name line comes first; skip what precedes it (a BOM mangled by a UTF-8 pipe).
    while lines and not re.match(r"^\S[^:]*:\s+\S", lines[0]):
        lines.pop(0)
    if not lines:
        return []
    m = re.match(r"^(\S[^:]*:\s+)\S", lines[0])
    assert m is not None  # the loop above stopped on a line this matches
    column = _width(m.group(1))
    out: List[Tuple[str, str, List[str]]] = []
    for ln in lines:
        if ln[:1].isspace():
            if out:
                out[-1][2].append(ln.strip())
            continue
        label, value = _cut(ln, column)
        if not (label.rstrip().endswith(":") and (label[-1:].isspace() or not value)):
            # Not aligned on the column (OEM bytes read as UTF-8, hand-edited): split at the
            # first ":" followed by 2+ spaces, else at the last ": ", else take a bare label.
            m = (re.match(r"^(.*?:)\s{2,}(.*)$", ln) or re.match(r"^(.*:)\s+(.*)$", ln)
                 or re.match(r"^(.*:)()$", ln))
            if not m:
                return out
            label, value = m.group(1), m.group(2)
        out.append((label.strip(), value.strip(), []))
    return out


# --- regedit exports (`reg export KEY FILE`, regedit format 5.00 or REGEDIT4) ---

RegValue = Union[str, int, bytes, Tuple[str, ...]]
RegKey = Tuple[str, Dict[str, RegValue]]

_NEXT_VALUE = re.compile(r'^(@|"[^"\\]*")=')
_VALUE = re.compile(r'^(@|"(?:[^"\\]|\\.)*")=(.*)$', re.S)


def _closed(data: str) -> bool:
    """True when a quoted value ends with an unescaped quote."""
    return bool(re.fullmatch(r'"(?:[^"\\]|\\.)*"', data, re.S))


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def _hex_bytes(data: str) -> bytes:
    return bytes(int(b, 16) for b in data.replace(" ", "").split(",") if b)


def _reg_value(data: str) -> RegValue:
    """One value's data as written by regedit (`"text"`, `dword:`, `hex(N):`)."""
    if data.startswith('"') and data.endswith('"') and len(data) >= 2:
        return _unescape(data[1:-1])
    if data.startswith("dword:"):
        return int(data[6:], 16)
    if data.startswith("hex"):
        kind, _, raw = data.partition(":")
        blob = _hex_bytes(raw)
        if kind == "hex(2)":  # REG_EXPAND_SZ, UTF-16LE, NUL-terminated
            return blob.decode("utf-16-le", "replace").rstrip("\x00")
        if kind == "hex(7)":  # REG_MULTI_SZ
            return tuple(s for s in blob.decode("utf-16-le", "replace").split("\x00") if s)
        if kind == "hex(b)":  # REG_QWORD, little endian
            return int.from_bytes(blob, "little")
        return blob
    raise ValueError(f"unknown value data {data[:20]!r}")


def parse_reg_export(text: str) -> Tuple[List[RegKey], List[str]]:
    """(key path, {value name: data}) of every key in a regedit export, and unreadable lines."""
    keys: List[RegKey] = []
    problems: List[str] = []
    values: Optional[Dict[str, RegValue]] = None
    pending = ""
    pending_line = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if pending.endswith("\n") and (raw.startswith("[") or _NEXT_VALUE.match(raw)):
            # The open string was damage, not a line break: report it and read on normally.
            problems.append(f"line {pending_line}: unterminated string")
            pending = ""
        if pending:
            line = pending + (raw.strip() if not pending.endswith("\n") else raw)
        else:
            line, pending_line = raw.strip(), number
        if line.endswith("\\") and not line.startswith("["):
            pending = line[:-1]  # hex data goes on after a trailing backslash
            continue
        m = _VALUE.match(line)
        if m and m.group(2).startswith('"') and not _closed(m.group(2)):
            pending = line + "\n"  # a REG_SZ holding a line break
            continue
        pending = ""
        if not line or line.startswith(";") or line.startswith("Windows Registry Editor") or line == "REGEDIT4":
            continue
        if line.startswith("[") and line.endswith("]"):
            values = {}
            keys.append((line[1:-1], values))
            continue
        m = _VALUE.match(line)
        if not m or values is None:
            problems.append(f"line {pending_line}: {line[:40]!r}")
            continue
        name = "" if m.group(1) == "@" else _unescape(m.group(1)[1:-1])
        if m.group(2) == "-":
            continue  # deletion marker of a .reg patch, not data
        try:
            values[name] = _reg_value(m.group(2))
        except ValueError as exc:
            problems.append(f"line {pending_line}: {exc}")
    if pending:
        problems.append(f"line {pending_line}: value cut short at end of file")
    elif text and not text.endswith(("\n", "\r")):
        problems.append("file does not end with a line break (truncated?)")
    return keys, problems
