"""Field decoders shared by the engine, the protocol modules and the model mapping.

Pure functions over bytes: unsigned integers (network and little-endian order),
printable text of string fields, and the display forms of addresses.
"""
from __future__ import annotations

import ipaddress
import socket
import struct
from typing import Tuple

__all__ = ["u16", "u32", "u16le", "u32le", "text", "ip", "mac", "ber_len_size", "ber_tlv"]

u16 = struct.Struct(">H").unpack_from
u32 = struct.Struct(">I").unpack_from
u16le = struct.Struct("<H").unpack_from
u32le = struct.Struct("<I").unpack_from
_ntoa = socket.inet_ntoa  # dotted decimal of 4 bytes (POSIX inet_ntoa; the same text as "%d.%d.%d.%d")


def text(v: bytes) -> str:
    """Printable text of a protocol string field (NULs and control characters dropped)."""
    s = v.split(b"\0", 1)[0].decode("utf-8", "replace")
    if s.isprintable():  # the common case, checked in one call
        return s.strip()
    return "".join(ch for ch in s if ch.isprintable()).strip()


def ip(b: bytes) -> str:
    """Dotted IPv4 or RFC 5952 IPv6 text of a 4- or 16-byte address."""
    if len(b) == 4:
        return _ntoa(b)
    return str(ipaddress.IPv6Address(b))


def mac(b: bytes) -> str:
    """Colon-separated lower-case hex of a MAC address."""
    return ":".join("%02x" % x for x in b)


def ber_len_size(p: bytes, i: int) -> int:
    """Bytes taken by the BER length at `i` (X.690 section 8.1.3: short or long form)."""
    return 1 + (p[i] & 0x7F if p[i] & 0x80 else 0)


def ber_tlv(p: bytes, i: int) -> Tuple[int, int, int]:
    """(tag, content start, content end) of the BER element at `i` with a one-byte tag (X.690
    section 8.1, definite lengths only). ValueError for a length form not taken, IndexError when
    the element runs past `p`."""
    tag, n = p[i], p[i + 1]
    if n < 0x80:
        start, ln = i + 2, n
    else:
        k = n & 0x7F
        if not 1 <= k <= 3:
            raise ValueError("BER length")
        start, ln = i + 2 + k, int.from_bytes(p[i + 2:i + 2 + k], "big")
    if start + ln > len(p):
        raise IndexError("BER element cut")
    return tag, start, start + ln
