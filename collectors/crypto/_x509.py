"""A small DER reader for X.509 certificates: what an inventory needs, nothing that verifies.

cbom has no X.509 library among its dependencies (`cryptography` is not installed on the plant
PCs cbom targets and is a 4 MB compiled wheel), and a certificate's identity needs only a
dozen DER fields: subject, issuer, validity, signature algorithm, public-key algorithm and
size, the CA flag, and the SHA-256 of the whole DER (what `openssl x509 -fingerprint -sha256`
prints). Field layout per RFC 5280 §4.1; algorithm OIDs per RFC 3279/4055/5480/5758/8410.
Nothing here checks a signature: the collector describes trust, it does not decide it.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import List, Optional, Tuple

__all__ = ["Certificate", "DerError", "parse_der", "pem_blocks", "split_pem"]


class DerError(ValueError):
    """The bytes are not a DER certificate this reader understands."""


@dataclass(frozen=True)
class Certificate:
    """The identity of one X.509 certificate (all text; times tz-aware UTC)."""

    sha256: str  # lower-case hex of the DER
    sha1: str
    subject: str  # RFC 4514 string, most significant RDN last (as `openssl -nameopt RFC2253`)
    issuer: str
    serial: str  # hex, lower case, without leading zeros
    not_before: datetime
    not_after: datetime
    signature_algorithm: str  # "sha256WithRSAEncryption", OpenSSL's long names
    signature_oid: str
    key_algorithm: str  # "RSA", "EC", "Ed25519", "DSA"…
    key_oid: str
    key_size: int  # bits; 0 when not derivable
    curve: str  # "prime256v1"… for EC keys, else ""
    version: int  # 1 or 3
    is_ca: Optional[bool]  # basicConstraints cA; None when the extension is absent
    common_name: str  # the subject's last CN, else its O/OU, for a display name

    @property
    def self_signed(self) -> bool:
        """Subject equals issuer (what every root CA is; the signature is not checked)."""
        return self.subject == self.issuer


# --- DER ------------------------------------------------------------------------------------------------


def _tlv(data: bytes, pos: int) -> Tuple[int, int, int]:
    """(tag, start of content, end of content) of the element at `pos`."""
    if pos + 2 > len(data):
        raise DerError("truncated element")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte tags are not used in certificates")
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise DerError("bad length")
        length = int.from_bytes(data[pos:pos + n], "big")
        pos += n
    end = pos + length
    if end > len(data):
        raise DerError("element runs past the end")
    return tag, pos, end


def _children(data: bytes, start: int, end: int) -> List[Tuple[int, int, int]]:
    out = []
    pos = start
    while pos < end:
        tag, s, e = _tlv(data, pos)
        out.append((tag, s, e))
        pos = e
    return out


def _oid(raw: bytes) -> str:
    if not raw:
        raise DerError("empty OID")
    first = raw[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for b in raw[1:]:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(p) for p in parts)


def _time(tag: int, raw: bytes) -> datetime:
    text = raw.decode("ascii", "replace")
    if tag == 0x17:  # UTCTime: YY >= 50 is 19YY (RFC 5280 §4.1.2.5.1)
        m = re.fullmatch(r"(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z", text)
        if not m:
            raise DerError(f"bad UTCTime {text!r}")
        yy = int(m.group(1))
        year = 1900 + yy if yy >= 50 else 2000 + yy
        rest = m.groups()[1:]
    elif tag == 0x18:
        m = re.fullmatch(r"(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(?:\.\d+)?Z", text)
        if not m:
            raise DerError(f"bad GeneralizedTime {text!r}")
        year = int(m.group(1))
        rest = m.groups()[1:]
    else:
        raise DerError("validity is not a time")
    mo, d, h, mi, s = (int(x or 0) for x in rest)
    return datetime(year, mo, d, h, mi, s, tzinfo=timezone.utc)


# RFC 4514 §3 short names, plus the ones OpenSSL prints in RFC2253 mode.
_NAMES = {
    "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
    "2.5.4.9": "street", "2.5.4.5": "serialNumber", "2.5.4.17": "postalCode", "2.5.4.97": "organizationIdentifier",
    "2.5.4.4": "SN", "2.5.4.42": "GN", "2.5.4.12": "title", "2.5.4.46": "dnQualifier", "2.5.4.65": "pseudonym",
    "2.5.4.15": "businessCategory", "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
    "1.2.840.113549.1.9.1": "emailAddress", "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
    "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST", "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL",
}


def _string(tag: int, raw: bytes) -> str:
    if tag == 0x1E:  # BMPString
        return raw.decode("utf-16-be", "replace")
    if tag == 0x1C:  # UniversalString
        return raw.decode("utf-32-be", "replace")
    if tag == 0x14:  # T61String: in practice Latin-1 in CA certificates
        return raw.decode("latin-1")
    return raw.decode("utf-8", "replace")


def _escape(value: str) -> str:
    # RFC 4514 §2.4: escape , + " \ < > ; and a leading # or space, a trailing space.
    out = re.sub(r'([,+"\\<>;])', r"\\\1", value)
    if out.startswith(("#", " ")):
        out = "\\" + out
    if out.endswith(" ") and not out.endswith("\\ "):
        out = out[:-1] + "\\ "
    return out


def _name(data: bytes, start: int, end: int) -> Tuple[str, List[Tuple[str, str]]]:
    """(RFC 4514 string, [(short name, value)] in DER order) of a Name."""
    rdns: List[str] = []
    flat: List[Tuple[str, str]] = []
    for _, s, e in _children(data, start, end):  # SET OF AttributeTypeAndValue
        parts = []
        for _, s2, e2 in _children(data, s, e):
            kids = _children(data, s2, e2)
            if len(kids) < 2:
                raise DerError("bad attribute")
            oid = _oid(data[kids[0][1]:kids[0][2]])
            key = _NAMES.get(oid, oid)
            value = _string(kids[1][0], data[kids[1][1]:kids[1][2]])
            flat.append((key, value))
            parts.append(f"{key}={_escape(value)}")
        rdns.append("+".join(parts))
    return ",".join(reversed(rdns)), flat


# OpenSSL's long names (`openssl x509 -text`, "Signature Algorithm:").
SIGNATURES = {
    "1.2.840.113549.1.1.2": "md2WithRSAEncryption", "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption", "1.2.840.113549.1.1.10": "rsassaPss",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption", "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption", "1.2.840.113549.1.1.14": "sha224WithRSAEncryption",
    "1.2.840.10045.4.1": "ecdsa-with-SHA1", "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256", "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512", "1.2.840.10040.4.3": "dsaWithSHA1",
    "2.16.840.1.101.3.4.3.2": "dsa_with_SHA256", "1.3.101.112": "ED25519", "1.3.101.113": "ED448",
    "1.2.156.10197.1.501": "SM2-with-SM3",
}
KEYS = {
    "1.2.840.113549.1.1.1": "RSA", "1.2.840.10045.2.1": "EC", "1.2.840.10040.4.1": "DSA",
    "1.3.101.112": "Ed25519", "1.3.101.113": "Ed448", "1.3.101.110": "X25519", "1.3.101.111": "X448",
    "1.2.840.113549.1.1.10": "RSASSA-PSS",
}
CURVES = {
    "1.2.840.10045.3.1.7": ("prime256v1", 256), "1.3.132.0.34": ("secp384r1", 384),
    "1.3.132.0.35": ("secp521r1", 521), "1.3.132.0.10": ("secp256k1", 256),
    "1.2.840.10045.3.1.1": ("prime192v1", 192), "1.3.132.0.33": ("secp224r1", 224),
    "1.3.36.3.3.2.8.1.1.7": ("brainpoolP256r1", 256), "1.3.36.3.3.2.8.1.1.11": ("brainpoolP384r1", 384),
    "1.3.36.3.3.2.8.1.1.13": ("brainpoolP512r1", 512), "1.2.156.10197.1.301": ("SM2", 256),
}
_FIXED_SIZES = {"Ed25519": 256, "Ed448": 456, "X25519": 253, "X448": 448}


def _algorithm(data: bytes, start: int, end: int) -> Tuple[str, Optional[Tuple[int, int, int]]]:
    kids = _children(data, start, end)
    if not kids or kids[0][0] != 0x06:
        raise DerError("bad AlgorithmIdentifier")
    return _oid(data[kids[0][1]:kids[0][2]]), (kids[1] if len(kids) > 1 else None)


def _int_bits(raw: bytes) -> int:
    return int.from_bytes(raw, "big").bit_length()


def _key(data: bytes, start: int, end: int) -> Tuple[str, str, int, str]:
    """(algorithm, OID, size in bits, curve) of a SubjectPublicKeyInfo."""
    kids = _children(data, start, end)
    oid, params = _algorithm(data, kids[0][1], kids[0][2])
    name = KEYS.get(oid, oid)
    bits_tag, bs, be = kids[1]
    size, curve = 0, ""
    if name in ("RSA", "RSASSA-PSS") and bits_tag == 0x03:
        # BIT STRING (first byte: unused bits) holding RSAPublicKey ::= SEQUENCE { modulus, exponent }
        _, s, e = _tlv(data, bs + 1)
        modulus = _children(data, s, e)[0]
        size = _int_bits(data[modulus[1]:modulus[2]])
    elif name == "EC" and params is not None and params[0] == 0x06:
        curve, size = CURVES.get(_oid(data[params[1]:params[2]]), (_oid(data[params[1]:params[2]]), 0))
    elif name == "DSA" and params is not None and params[0] == 0x30:
        p = _children(data, params[1], params[2])[0]  # Dss-Parms ::= SEQUENCE { p, q, g }
        size = _int_bits(data[p[1]:p[2]])
    else:
        size = _FIXED_SIZES.get(name, 0)
    return name, oid, size, curve


def _is_ca(data: bytes, start: int, end: int) -> Optional[bool]:
    """basicConstraints cA from the [3] extensions block; None when there is none."""
    _, s, e = _tlv(data, start)  # Extensions ::= SEQUENCE OF Extension
    for _, s2, e2 in _children(data, s, e):
        kids = _children(data, s2, e2)
        if _oid(data[kids[0][1]:kids[0][2]]) != "2.5.29.19":
            continue
        _, vs, ve = _tlv(data, kids[-1][1])  # OCTET STRING wraps BasicConstraints ::= SEQUENCE
        inner = _children(data, vs, ve)
        return bool(inner and inner[0][0] == 0x01 and data[inner[0][1]] != 0)
    return None


def parse_der(der: bytes) -> Certificate:
    """The identity of DER certificate `der`. Raises DerError for anything else."""
    try:
        return _parse(der)
    except DerError:
        raise
    except (IndexError, ValueError) as exc:
        raise DerError(f"not a certificate: {exc}") from None


def _parse(der: bytes) -> Certificate:
    tag, s, e = _tlv(der, 0)
    if tag != 0x30:
        raise DerError("not a SEQUENCE")
    cert = _children(der, s, e)
    if len(cert) != 3:
        raise DerError("a certificate has three parts")
    tbs = _children(der, cert[0][1], cert[0][2])
    i = 0
    version = 1
    if tbs[0][0] == 0xA0:
        _, vs, ve = _tlv(der, tbs[0][1])
        version = int.from_bytes(der[vs:ve], "big") + 1
        i = 1
    serial = int.from_bytes(der[tbs[i][1]:tbs[i][2]], "big", signed=True)
    issuer, _ = _name(der, tbs[i + 2][1], tbs[i + 2][2])
    validity = _children(der, tbs[i + 3][1], tbs[i + 3][2])
    not_before = _time(validity[0][0], der[validity[0][1]:validity[0][2]])
    not_after = _time(validity[1][0], der[validity[1][1]:validity[1][2]])
    subject, flat = _name(der, tbs[i + 4][1], tbs[i + 4][2])
    key_alg, key_oid, key_size, curve = _key(der, tbs[i + 5][1], tbs[i + 5][2])
    is_ca: Optional[bool] = None
    for tag2, s2, _e2 in tbs[i + 6:]:
        if tag2 == 0xA3:
            is_ca = _is_ca(der, s2, _e2)
    sig_oid, _ = _algorithm(der, cert[1][1], cert[1][2])
    label = next((v for k, v in reversed(flat) if k == "CN"), "") or next(
        (v for k, v in reversed(flat) if k in ("OU", "O")), "") or subject
    return Certificate(
        sha256=hashlib.sha256(der[:e]).hexdigest(), sha1=hashlib.sha1(der[:e]).hexdigest(),  # noqa: S324 - a fingerprint
        subject=subject, issuer=issuer, serial=format(serial if serial >= 0 else -serial, "x"),
        not_before=not_before, not_after=not_after,
        signature_algorithm=SIGNATURES.get(sig_oid, sig_oid), signature_oid=sig_oid,
        key_algorithm=key_alg, key_oid=key_oid, key_size=key_size, curve=curve, version=version,
        is_ca=is_ca, common_name=label,
    )


# --- PEM -----------------------------------------------------------------------------------------------

_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)


def pem_blocks(data: bytes) -> List[Tuple[str, bytes]]:
    """(label, DER) of each PEM block of `data` whose label is not a private key.

    A private key block is never decoded: its label alone is returned, with empty bytes, so a
    caller can say a key is there without its body ever leaving this function.
    """
    out: List[Tuple[str, bytes]] = []
    for m in _PEM.finditer(data):
        label = m.group(1).decode("ascii")
        if "PRIVATE" in label:
            out.append((label, b""))
            continue
        body = b"".join(ln for ln in m.group(2).split(b"\n") if b":" not in ln)  # RFC 1421 headers
        try:
            out.append((label, base64.b64decode(re.sub(rb"\s+", b"", body), validate=True)))
        except (binascii.Error, ValueError):
            out.append((label, b""))
    return out


def split_pem(data: bytes) -> Tuple[List[bytes], List[str], int]:
    """(certificate DERs, labels of private-key blocks, blocks that would not decode) of a file's bytes.

    A file without PEM armour is taken as one DER certificate when it starts with a SEQUENCE.
    """
    if b"-----BEGIN " not in data:
        return ([data] if data[:1] == b"\x30" else []), [], 0
    certs: List[bytes] = []
    keys: List[str] = []
    bad = 0
    for label, der in pem_blocks(data):
        if "PRIVATE" in label:
            keys.append(label)
        elif label in ("CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE"):
            if der:
                certs.append(der)
            else:
                bad += 1
    return certs, keys, bad
