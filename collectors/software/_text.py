"""Bytes of a recorded Windows output as text, whatever encoding the recorder used.

Private stand-in for the shared `collectors._text.decode_recorded`, used when
that module is not available. Handles: UTF-16LE/BE or UTF-8 with BOM (regedit,
wmic redirected to a file), UTF-16LE without BOM after an ANSI banner (wmic's
one-time "Please wait while WMIC is being installed."), UTF-8, then cp1252.
"""
from __future__ import annotations

import codecs


def decode_recorded(data: bytes) -> str:
    try:
        from collectors._text import decode_recorded as shared  # type: ignore[import-not-found]
    except ImportError:
        return _decode(data)
    return shared(data)


def _decode(data: bytes) -> str:
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(codec, "replace")
    if data.count(0) > len(data) // 4:
        # UTF-16LE without BOM, maybe after an 8-bit banner: start at the first "X\0Y\0".
        start = next((i for i in range(len(data) - 3) if data[i] and not data[i + 1] and data[i + 2] and not data[i + 3]), 0)
        body = data[start:]
        if body.startswith(codecs.BOM_UTF16_LE):
            body = body[2:]
        return data[:start].decode("cp1252", "replace") + body.decode("utf-16-le", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")
