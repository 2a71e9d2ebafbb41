"""Windows certificate stores, read from the registry, as cryptographic assets.

CryptoAPI's registry-backed system stores keep one key per certificate,
`HKLM\\SOFTWARE\\Microsoft\\SystemCertificates\\<STORE>\\Certificates\\<SHA-1 thumbprint>`, whose
`Blob` value is the certificate's serialized store element: a run of property entries, each
`DWORD property id, DWORD reserved (1), DWORD length, BYTE data[length]`, little endian. Property
32, CERT_CERT_PROP_ID (wincrypt.h), holds the DER certificate; 3 is its SHA-1 hash, 4 its MD5
hash, 20 its key identifier, 2 the key's provider information (a container *name*, never key
material). Sources: Microsoft Learn, "CertSerializeCertificateStoreElement" and "CertGetCertificate
ContextProperty" (property ids); Wine's dlls/crypt32/serialize.c (`WINE_CERT_PROP_HEADER`), which
reads and writes the same layout.

The same stores under HKLM\\SOFTWARE\\Policies (group policy), EnterpriseCertificates (Active
Directory) and HKCU (the user running the scan or collect.bat) are read too; only each store's
`Certificates` subkey is read or recorded.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Dict, Iterator, List, Optional, Tuple

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.host import CERT_STORE_ROOTS, CERT_STORES
from cbom.model import Finding, Gap, Item, Severity

from .._text import RegKey
from ..posture._windows import reg_keys
from . import _common, _x509

__all__ = ["CERT_CERT_PROP_ID", "StoreCertificate", "blob_certificate", "collect_windows", "store_certificates"]

CERT_CERT_PROP_ID = 32
CERT_SHA1_HASH_PROP_ID = 3
_HEADER = struct.Struct("<III")

# Registry roots of the system stores (CERT_SYSTEM_STORE_LOCAL_MACHINE, _GROUP_POLICY, _ENTERPRISE,
# CERT_SYSTEM_STORE_CURRENT_USER) and the stores read: the `Certificates` subkey of each, which
# collect.bat exports one file per store (cbom.host.CERT_STORE_ROOTS, the recorded-file contract).
STORE_KEYS = tuple(f"{root}\\{store}\\Certificates" for root, _file in CERT_STORE_ROOTS for store in CERT_STORES)
# Stores whose certificates are trust anchors ("system-trust" as on Linux); a certificate in a
# Root store that group policy or Active Directory pushed, or of one user, was added locally.
TRUST_STORES = ("root", "authroot")


class BlobError(ValueError):
    """A `Blob` value that is not a serialized certificate store element."""


def blob_certificate(blob: bytes) -> bytes:
    """The DER certificate (property 32) of one serialized store element. Raises BlobError."""
    pos = 0
    while pos + _HEADER.size <= len(blob):
        prop, _reserved, length = _HEADER.unpack_from(blob, pos)
        pos += _HEADER.size
        if length > len(blob) - pos:
            raise BlobError(f"property {prop} of {length} bytes runs past the blob's {len(blob)}")
        if prop == CERT_CERT_PROP_ID:
            return blob[pos:pos + length]
        pos += length
    raise BlobError("no certificate property (32) in the blob")


@dataclass(frozen=True)
class StoreCertificate:
    """One `Certificates\\<thumbprint>` key: where it is, and its DER (or why it has none)."""

    key: str  # the full registry key
    store: str  # ROOT, CA, My, Disallowed…
    scope: str  # machine, policy, enterprise, user
    thumbprint: str
    der: bytes
    problem: str = ""


def _scope(key: str) -> str:
    low = key.lower()
    if "\\policies\\" in low:
        return "policy"
    if "\\enterprisecertificates" in low:
        return "enterprise"
    if low.startswith(("hkey_current_user", "hkcu", "hkey_users", "hku")):
        return "user"
    return "machine"


def store_certificates(keys: List[RegKey]) -> List[StoreCertificate]:
    """Every `…\\<STORE>\\Certificates\\<thumbprint>` key with a Blob value, decoded to DER."""
    out = []
    for key, values in keys:
        parts = key.split("\\")
        if len(parts) < 3 or parts[-2].lower() != "certificates":
            continue
        blob = values.get("Blob")
        store, thumb = parts[-3], parts[-1]
        if not isinstance(blob, bytes):
            out.append(StoreCertificate(key, store, _scope(key), thumb, b"", "no binary Blob value"))
            continue
        try:
            out.append(StoreCertificate(key, store, _scope(key), thumb, blob_certificate(blob)))
        except BlobError as exc:
            out.append(StoreCertificate(key, store, _scope(key), thumb, b"", str(exc)))
    return out


# The system's cryptographic providers: CNG (bcrypt.dll, bcryptprimitives.dll, ncrypt.dll), the
# TLS/SSL security package (schannel.dll) and the CryptoAPI RSA/AES provider (rsaenh.dll), host
# paths relative to the system drive. Their version is the file version of their resources.
CRYPTO_DLLS = (("Schannel", "schannel.dll"), ("CNG bcrypt", "bcrypt.dll"), ("CNG primitives", "bcryptprimitives.dll"),
               ("CNG key storage", "ncrypt.dll"), ("Microsoft Enhanced RSA and AES Cryptographic Provider", "rsaenh.dll"))
SYSTEM32 = "Windows/System32"
# VS_FIXEDFILEINFO (Microsoft docs, "VS_FIXEDFILEINFO structure"): dwSignature 0xFEEF04BD, then
# dwStrucVersion, dwFileVersionMS, dwFileVersionLS; the structure is DWORD-aligned in the resource.
_FIXED_FILE_INFO = struct.pack("<I", 0xFEEF04BD)


def pe_file_version(data: bytes) -> str:
    """"10.0.19041.5072" from a PE file's version resource; "" when it has none."""
    pos = data.find(_FIXED_FILE_INFO)
    while pos >= 0 and pos % 4:
        pos = data.find(_FIXED_FILE_INFO, pos + 1)
    if pos < 0 or len(data) < pos + 16:
        return ""
    ms, ls = struct.unpack_from("<II", data, pos + 8)
    return f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"


def crypto_libraries(ctx: ScanContext) -> Iterator[Item]:
    """The cryptographic provider DLLs of the running Windows, with their file versions."""
    if not (ctx.local and ctx.live):
        return  # a recording holds no system DLL; collect.bat does not copy them
    for name, dll in CRYPTO_DLLS:
        path = f"{SYSTEM32}/{dll}"
        try:
            data = ctx.read_bytes(path, 16 << 20)
        except FileNotFoundError:
            continue
        except OSError as exc:
            yield Gap(f"{path}: {exc.strerror or exc}: its version not read")
            continue
        yield _common.library_component(name, pe_file_version(data), path)


def _store_label(store: str) -> str:
    low = store.lower()
    if low in TRUST_STORES:
        return "system-trust"
    return "windows-" + low


def collect_windows(ctx: ScanContext, collector: str, now: Optional[datetime] = None) -> Iterator[Item]:
    """Certificates of the Windows registry stores (live: winreg; recorded: `reg export` files)."""
    now = now or datetime.now(timezone.utc)
    keys: List[RegKey] = []
    problems: List[str] = []
    unrecorded = 0
    for key in STORE_KEYS:
        got, bad = reg_keys(ctx, key, depth=1, optional=True)
        keys += got
        if ctx.recorded and any("was not recorded" in b for b in bad):
            unrecorded += 1
            continue
        problems += bad
    if ctx.recorded and unrecorded == len(STORE_KEYS):
        yield Gap("the recording holds no export of a certificate store (SystemCertificates-ROOT.reg…): "
                  "not collected")
        return
    found: Dict[str, Tuple[_x509.Certificate, List[str], List[StoreCertificate]]] = {}
    for sc in store_certificates(keys):
        if sc.problem:
            problems.append(f"{sc.key}: {sc.problem}")
            continue
        try:
            cert = _x509.parse_der(sc.der)
        except _x509.DerError as exc:
            problems.append(f"{sc.key}: a certificate cbom cannot parse ({exc})")
            continue
        if sc.thumbprint and cert.sha1.lower() != sc.thumbprint.lower():
            problems.append(f"{sc.key}: the key names thumbprint {sc.thumbprint}, the certificate's SHA-1 is "
                            f"{cert.sha1}")
        entry = found.setdefault(cert.sha256, (cert, [], []))
        entry[1].append(sc.key)
        entry[2].append(sc)
    algorithms: _common.Algorithms = {}
    distrusted: List[str] = []
    for cert, paths, places in found.values():
        stores = sorted({p.store.lower() for p in places})
        # A trust anchor pushed by policy or AD, or trusted by one user only, was added here.
        local = any(p.store.lower() in TRUST_STORES and p.scope != "machine" for p in places)
        label = _store_label(places[0].store) if len(stores) == 1 else \
            ("system-trust" if any(s in TRUST_STORES for s in stores) else _store_label(places[0].store))
        comp = _common.certificate_component(cert, paths, label, local)
        comp = replace(comp, properties=comp.properties + tuple(
            (V.CRYPTO_STORE, _store_label(s)) for s in stores if _store_label(s) != label))
        yield comp
        yield from _common.certificate_findings(cert, comp.ref, paths, now, local, collector=collector)
        if "disallowed" in stores:
            distrusted.append(f"{cert.common_name} ({cert.sha1})")
        _common.note_algorithms(cert, algorithms)
    yield from _common.algorithm_components(algorithms)
    if distrusted:
        yield Finding(id="CBOM-CERT-DISALLOWED", title=f"{len(distrusted)} certificate(s) explicitly distrusted",
                      severity=Severity.INFO, detail="the Disallowed store: Windows refuses these certificates",
                      evidence=tuple(distrusted[:20]), collector=collector)
    for why in problems[:40]:
        yield Gap(why)
    if len(problems) > 40:
        yield Gap(f"and {len(problems) - 40} more certificate store problems")
