"""Turn recorded or captured command output (bytes of unknown encoding) into text.

Windows tools write whatever their console, pipe or redirection gave them:
`wmic ... > file` and PowerShell `>` write UTF-16LE with a BOM, `systeminfo`
writes the OEM code page (cp850 in Western Europe, cp936/GBK in China), and
XP's first `wmic` run prints an ANSI banner ("Please wait while WMIC is being
installed.") *before* its UTF-16LE output, with no BOM in between. These
helpers are shared by every collector and by the recorded-host backend.
"""
from __future__ import annotations

import codecs
import re
import unicodedata
from typing import Optional

__all__ = ["clean_text", "control_free", "decode_recorded"]

# Candidate single/double-byte code pages for BOM-less, non-UTF-8 bytes, in order of preference
# when nothing tells them apart: console tools (systeminfo) write the OEM page.
_LATIN_PAGES = ("cp850", "cp1252")


def decode_recorded(data: bytes) -> str:
    """Text of `data`, whatever the encoding a Windows, macOS or Linux tool used.

    BOM sniffing (UTF-8, UTF-16LE/BE), BOM-less UTF-16LE (also after an ASCII
    banner), strict UTF-8, then the OEM/ANSI code page that fits best
    (cp850, cp1252 or cp936). Line ends become "\\n" (wmic's "\\r\\r\\n" too).
    Never raises: undecodable bytes become U+FFFD. No-break spaces (cp850 byte
    0xFF, used as thousands separator) are kept; parsers fold them.
    """
    if not data:
        return ""
    return clean_text(_decode(data))


def clean_text(text: str) -> str:
    """Normalise already-decoded output: NULs of mis-decoded UTF-16, BOMs, CR/LF variants."""
    if "\x00" in text:
        # UTF-16LE read as UTF-8 (or a single-byte code page): every other char is NUL,
        # and a UTF-8 decoder turned the BOM bytes FF FE into two U+FFFD.
        text = text.removeprefix("\ufffd\ufffd")
        text = text.replace("\x00", "")
    text = text.replace("\ufeff", "")
    # wmic writing to a pipe ends lines with "\r\r\n".
    return text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")


# C0 controls (the NUL of UTF-16 read as bytes included), DEL and C1 controls.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_KEEP_LINES = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def control_free(text: str, keep_lines: bool = False) -> str:
    """`text` without NUL and other control characters: NULs are dropped, every other control
    (tab, line break, ESC…) becomes a space, except line breaks when `keep_lines`. What a reason
    or a gap recorded in the CBOM may hold: one readable line, whatever a tool wrote on stderr."""
    pattern = _CONTROL_KEEP_LINES if keep_lines else _CONTROL
    return pattern.sub(lambda m: "" if m.group() == "\x00" else " ", text)


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace")
    if data.startswith(codecs.BOM_UTF16_LE):
        return data[2:].decode("utf-16-le", "replace")
    if data.startswith(codecs.BOM_UTF16_BE):
        return data[2:].decode("utf-16-be", "replace")
    start = _utf16_start(data)
    if start is not None:
        head, tail = data[:start], data[start:]
        if tail.startswith(codecs.BOM_UTF16_LE):
            tail = tail[2:]
        return (_decode_8bit(head) if head else "") + tail.decode("utf-16-le", "replace")
    if data[:1] == b"\x00" and data[1:2] not in (b"", b"\x00"):
        return data.decode("utf-16-be", "replace")
    return _decode_8bit(data)


def _utf16_start(data: bytes) -> Optional[int]:
    """Offset where BOM-less (or mid-stream BOM) UTF-16LE text begins, or None."""
    bom = data.find(codecs.BOM_UTF16_LE)
    nul = data.find(b"\x00")
    if bom > 0 and (nul < 0 or nul > bom) and _is_text(data[:bom]):
        return bom
    if nul < 1:
        return None
    start = nul - 1  # the first UTF-16 code unit is "X\x00"
    tail = data[start:start + 400]
    highs = tail[1::2]
    if highs and highs.count(0) >= 0.6 * len(highs) and _is_text(data[:start]):
        return start
    return None


def _is_text(head: bytes) -> bool:
    return all(b >= 0x20 or b in (9, 10, 13) for b in head)


def _decode_8bit(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _looks_double_byte(data):
        try:
            return data.decode("cp936")
        except UnicodeDecodeError:
            pass
    best = max(_LATIN_PAGES, key=lambda cp: _latin_score(data.decode(cp, "replace")))
    return data.decode(best, "replace")


def _looks_double_byte(data: bytes) -> bool:
    """GBK text has its high bytes in pairs (lead+trail); Western text has them alone between letters."""
    runs, isolated, run = 0, 0, 0
    for b in data + b"\x00":
        if b >= 0x80:
            run += 1
            continue
        if run:
            runs += 1
            isolated += run == 1 or run % 2 == 1
        run = 0
    return runs > 0 and isolated <= 0.2 * runs


def _latin_score(text: str) -> int:
    """Lower-case accented letters and no-break spaces: frequent in real Western text.

    é è à ç ô ü are 0x80-0x9F in cp850 but 0xE0-0xFF in cp1252, so only the
    right code page turns most high bytes into lower-case letters.
    """
    score = 0
    for ch in text:
        if ord(ch) < 0x80:
            continue
        if ch == "\xa0" or (unicodedata.category(ch) == "Ll" and ord(ch) < 0x250):
            score += 1
        elif ch == "\ufffd":
            score -= 2
    return score


