"""OpenSSH public keys, authorized_keys lines and sshd_config, parsed from their text.

Formats per sshd(8) "AUTHORIZED_KEYS FILE FORMAT", RFC 4253 §6.6 (ssh-rsa, ssh-dss), RFC 5656
§3.1 (ecdsa-sha2-*) and RFC 8709 (ssh-ed25519). The fingerprint is the one `ssh-keygen -l`
prints since OpenSSH 6.8: "SHA256:" + unpadded base64 of the SHA-256 of the key blob.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
import shlex
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

__all__ = ["SshKey", "parse_authorized_keys", "parse_public_key", "parse_sshd_config", "private_key_label"]

KEY_TYPES = ("ssh-rsa", "ssh-dss", "ssh-ed25519", "ssh-ed448", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
             "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")
_TYPE_RE = re.compile(r"(?:ssh-(?:rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp\d+|sk-\S+@openssh\.com|\S+-cert-v01@openssh\.com)")
_AFTER_OPTIONS = re.compile(r"\s(" + _TYPE_RE.pattern + r")\s+\S")
_FIXED = {"ssh-ed25519": 256, "ssh-ed448": 456, "sk-ssh-ed25519@openssh.com": 256,
          "ecdsa-sha2-nistp256": 256, "ecdsa-sha2-nistp384": 384, "ecdsa-sha2-nistp521": 521,
          "sk-ecdsa-sha2-nistp256@openssh.com": 256}


@dataclass(frozen=True)
class SshKey:
    """One OpenSSH public key."""

    type: str  # "ssh-ed25519"
    bits: int  # 0 when not derivable
    fingerprint: str  # "SHA256:…"
    comment: str = ""
    options: str = ""  # authorized_keys options, verbatim


def _strings(blob: bytes) -> List[bytes]:
    """The RFC 4251 `string`/`mpint` fields of a key blob (length-prefixed)."""
    out = []
    pos = 0
    while pos + 4 <= len(blob):
        n = int.from_bytes(blob[pos:pos + 4], "big")
        pos += 4
        if pos + n > len(blob):
            break
        out.append(blob[pos:pos + n])
        pos += n
    return out


def _bits(key_type: str, blob: bytes) -> int:
    if key_type in _FIXED:
        return _FIXED[key_type]
    fields = _strings(blob)
    if key_type == "ssh-rsa" and len(fields) >= 3:  # string "ssh-rsa", mpint e, mpint n
        return int.from_bytes(fields[2], "big").bit_length()
    if key_type == "ssh-dss" and len(fields) >= 2:  # string "ssh-dss", mpint p, q, g, y
        return int.from_bytes(fields[1], "big").bit_length()
    return 0


def parse_public_key(text: str) -> Optional[SshKey]:
    """The key of one `TYPE BASE64 [COMMENT]` line (a .pub file), or None."""
    parts = text.strip().split(None, 2)
    if len(parts) < 2 or not _TYPE_RE.fullmatch(parts[0]):
        return None
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        return None
    fields = _strings(blob)
    if not fields or fields[0].decode("ascii", "replace") != parts[0]:
        return None  # the blob names its own type: a mismatch is a damaged line
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")
    return SshKey(type=parts[0], bits=_bits(parts[0], blob), fingerprint=f"SHA256:{digest}",
                  comment=parts[2].strip() if len(parts) > 2 else "")


def parse_authorized_keys(text: str) -> List[SshKey]:
    """Every key of an authorized_keys file; options before the key type are kept verbatim."""
    keys = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key = parse_public_key(line)
        if key is not None:
            keys.append(key)
            continue
        # Options come first, comma-separated, and may hold quoted spaces (command="… ssh-rsa …"):
        # the key is the first key-type token after a blank that starts a valid key.
        for m in _AFTER_OPTIONS.finditer(line):
            key = parse_public_key(line[m.start(1):])
            if key is not None:
                keys.append(SshKey(key.type, key.bits, key.fingerprint, key.comment, line[:m.start(1)].strip()))
                break
    return keys


def parse_sshd_config(text: str) -> Tuple[Dict[str, str], List[str]]:
    """(first value of each keyword, lower-cased keys; Include patterns) of an sshd_config.

    sshd uses the first value it reads for a keyword (sshd_config(5)), so a later line does not
    override an earlier one; `Match` blocks are conditional and left out.
    """
    values: Dict[str, str] = {}
    includes: List[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.replace("=", " ", 1).partition(" ") if "=" in line.split(None, 1)[0] else \
            line.partition(" ")
        key = key.strip().lower()
        value = value.strip()
        if key == "match":
            break
        if key == "include":
            try:
                includes.extend(shlex.split(value))
            except ValueError:
                includes.extend(value.split())
            continue
        values.setdefault(key, value)
    return values, includes


_PEM_HEADER = re.compile(rb"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----")


def private_key_label(head: bytes) -> str:
    """The PEM label ("OPENSSH PRIVATE KEY", "RSA PRIVATE KEY"…) in the first bytes of a file, or ""."""
    m = _PEM_HEADER.search(head)
    return m.group(1).decode("ascii") if m else ""
