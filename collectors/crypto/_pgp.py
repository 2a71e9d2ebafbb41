"""OpenPGP public keys (package-signing keyrings), read from their packets (RFC 9580, RFC 4880).

What an inventory needs of a trusted signing key: its fingerprint (v4: SHA-1 over 0x99, a
two-byte length and the key packet; v6: SHA-256 over 0x9B, a four-byte length and the packet),
algorithm and size, creation and expiry (the key-expiration subpacket of its self-signatures)
and first user ID. Binary keyrings (.gpg) and ASCII armour (.asc) are both read; signatures are
not verified.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator, List, Optional, Tuple

__all__ = ["PgpKey", "dearmor", "parse_keyring"]

# RFC 9580 §9.1 public-key algorithm ids.
ALGORITHMS = {1: "RSA", 2: "RSA", 3: "RSA", 16: "ElGamal", 17: "DSA", 18: "ECDH", 19: "ECDSA", 22: "EdDSA",
              25: "X25519", 26: "X448", 27: "Ed25519", 28: "Ed448"}
# Curve OIDs (DER content bytes) of ECDH/ECDSA/EdDSA keys: (name, bits).
CURVES = {
    bytes.fromhex("2a8648ce3d030107"): ("nistp256", 256), bytes.fromhex("2b81040022"): ("nistp384", 384),
    # Ed25519/Curve25519 keys count 255 bits, as GnuPG prints them.
    bytes.fromhex("2b81040023"): ("nistp521", 521), bytes.fromhex("2b06010401da470f01"): ("ed25519", 255),
    bytes.fromhex("2b060104019755010501"): ("cv25519", 255), bytes.fromhex("2b2403030208010107"): ("brainpoolP256r1", 256),
    bytes.fromhex("2b240303020801010b"): ("brainpoolP384r1", 384), bytes.fromhex("2b240303020801010d"): ("brainpoolP512r1", 512),
}
_FIXED = {25: 256, 26: 448, 27: 256, 28: 456}


@dataclass(frozen=True)
class PgpKey:
    fingerprint: str  # upper-case hex
    algorithm: str
    bits: int
    curve: str
    created: datetime
    expires: Optional[datetime]
    user_id: str
    version: int


def dearmor(data: bytes) -> bytes:
    """The binary packets of ASCII-armoured `data` (every armoured block, concatenated); binary
    input is returned as it is."""
    if b"-----BEGIN PGP" not in data:
        return data
    out = b""
    for m in re.finditer(rb"-----BEGIN PGP [A-Z ]+-----\r?\n(.*?)-----END PGP", data, re.S):
        body = m.group(1)
        # Armour headers ("Comment: …") end at the first blank line; "=XXXX" is the CRC-24 line.
        if re.search(rb"^[\w-]+: ", body, re.M):
            body = re.split(rb"\r?\n\r?\n", body, maxsplit=1)[-1]
        lines = [ln for ln in body.split(b"\n") if ln.strip() and not ln.startswith(b"=")]
        try:
            out += base64.b64decode(b"".join(ln.strip() for ln in lines))
        except (binascii.Error, ValueError):
            continue
    return out


def _packets(data: bytes) -> Iterator[Tuple[int, bytes]]:
    pos = 0
    while pos < len(data):
        b = data[pos]
        if not b & 0x80:
            return  # not a packet: garbage or the end of a damaged ring
        if b & 0x40:  # new format
            tag = b & 0x3F
            o1 = data[pos + 1]
            if o1 < 192:
                n, pos = o1, pos + 2
            elif o1 < 224:
                n, pos = ((o1 - 192) << 8) + data[pos + 2] + 192, pos + 3
            elif o1 == 255:
                n, pos = int.from_bytes(data[pos + 2:pos + 6], "big"), pos + 6
            else:
                return  # partial lengths are for data packets, never in a keyring
        else:
            tag = (b >> 2) & 0x0F
            kind = b & 3
            if kind == 3:
                n, pos = len(data) - pos - 1, pos + 1
            else:
                size = 1 << kind
                n, pos = int.from_bytes(data[pos + 1:pos + 1 + size], "big"), pos + 1 + size
        yield tag, data[pos:pos + n]
        pos += n


def _key(body: bytes) -> Tuple[str, int, str, datetime, int, str]:
    """(algorithm, bits, curve, created, version, fingerprint) of a public-key packet body."""
    version = body[0]
    created = datetime.fromtimestamp(int.from_bytes(body[1:5], "big"), timezone.utc)
    algo = body[5]
    material = body[10:] if version in (5, 6) else body[6:]
    bits, curve = 0, ""
    if algo in (1, 2, 3, 16, 17):
        bits = int.from_bytes(material[0:2], "big")  # the first MPI's bit count: n, or p
    elif algo in (18, 19, 22):
        oid = material[1:1 + material[0]]
        curve, bits = CURVES.get(oid, (oid.hex(), 0))
    else:
        bits = _FIXED.get(algo, 0)
    if version == 4:
        fp = hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest()  # noqa: S324 - RFC 9580 §5.5.4.2
    else:
        fp = hashlib.sha256(b"\x9b" + len(body).to_bytes(4, "big") + body).hexdigest()
    return ALGORITHMS.get(algo, f"algorithm {algo}"), bits, curve, created, version, fp.upper()


def _expiry_seconds(sig: bytes) -> Optional[int]:
    """The key-expiration time (subpacket 9) of a v4/v6 self-signature, in seconds after creation."""
    if not sig or sig[0] not in (4, 6) or sig[1] not in (0x10, 0x11, 0x12, 0x13, 0x1F):
        return None
    width = 4 if sig[0] == 6 else 2
    hashed_len = int.from_bytes(sig[4:4 + width], "big")
    area = sig[4 + width:4 + width + hashed_len]
    pos = 0
    while pos < len(area):
        o1 = area[pos]
        if o1 < 192:
            n, pos = o1, pos + 1
        elif o1 < 255:
            n, pos = ((o1 - 192) << 8) + area[pos + 1] + 192, pos + 2
        else:
            n, pos = int.from_bytes(area[pos + 1:pos + 5], "big"), pos + 5
        if n and area[pos] & 0x7F == 9:
            return int.from_bytes(area[pos + 1:pos + n], "big")
        pos += n
    return None


def parse_keyring(data: bytes) -> List[PgpKey]:
    """Every primary public key of a keyring or armoured key file (subkeys belong to their key)."""
    keys: List[PgpKey] = []
    current: Optional[dict] = None
    for tag, body in _packets(dearmor(data)):
        if tag in (6, 14) and body:
            if tag == 6:
                if current:
                    keys.append(_finish(current))
                algorithm, bits, curve, created, version, fp = _key(body)
                current = {"fp": fp, "algorithm": algorithm, "bits": bits, "curve": curve, "created": created,
                           "version": version, "uid": "", "expiry": None, "in_subkeys": False}
            elif current:
                current["in_subkeys"] = True
        elif current is not None and not current["in_subkeys"]:
            if tag == 13 and not current["uid"]:
                current["uid"] = body.decode("utf-8", "replace")
            elif tag == 2:
                seconds = _expiry_seconds(body)
                if seconds is not None:
                    current["expiry"] = seconds  # the latest self-signature read wins
    if current:
        keys.append(_finish(current))
    return keys


def _finish(k: dict) -> PgpKey:
    expires = k["created"] + timedelta(seconds=k["expiry"]) if k["expiry"] else None
    return PgpKey(k["fp"], k["algorithm"], k["bits"], k["curve"], k["created"], expires, k["uid"], k["version"])
