"""Ethernet frames and classic pcap files built with the standard library, for the capture tests
(tests/adversarial/test_pcaps.py, tests/collectors/test_capture_limits.py). Addresses are
documentation ones (RFC 5737 192.0.2.0/24) and locally administered MACs only."""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Sequence


def mac(i: int) -> bytes:
    return bytes([2, 0xAA, 0, 0, i >> 8, i & 255])


def ip(i: int) -> bytes:
    return bytes([192, 0, 2, i])


def eth(src: bytes, dst: bytes, et: int, pl: bytes) -> bytes:
    return dst + src + struct.pack(">H", et) + pl


def ipv4(src: bytes, dst: bytes, proto: int, pl: bytes) -> bytes:
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(pl), 1, 0, 64, proto, 0, src, dst) + pl


def tcp(pl: bytes, sport: int, dport: int, seq: int = 1000, s: int = 7, d: int = 6, flags: int = 0x18) -> bytes:
    seg = struct.pack(">HHIIBBHHH", sport, dport, seq, 1, 0x50, flags, 65535, 0, 0) + pl
    return eth(mac(s), mac(d), 0x0800, ipv4(ip(s), ip(d), 6, seg))


def udp(pl: bytes, sport: int, dport: int, s: int = 7, d: int = 6) -> bytes:
    seg = struct.pack(">HHHH", sport, dport, 8 + len(pl), 0) + pl
    return eth(mac(s), mac(d), 0x0800, ipv4(ip(s), ip(d), 17, seg))


def arp(i: int) -> bytes:
    body = struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, mac(i), ip(i), b"\xff" * 6, ip(1))
    return eth(mac(i), b"\xff" * 6, 0x0806, body)


def pcap(path: Path, frames: Sequence[bytes], t0: int = 1_700_000_000) -> Path:
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for n, fr in enumerate(frames):
            f.write(struct.pack("<IIII", t0 + n, 0, len(fr), len(fr)) + fr)
    return path
