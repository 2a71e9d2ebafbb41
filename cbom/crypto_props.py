"""CycloneDX 1.6 `cryptoProperties` of a cryptographic-asset component, from its properties.

Collectors carry crypto facts as `cbom:crypto:*` / `cbom:cert:*` properties (cbom/vocabulary.py);
this pure function turns them into the object of the 1.6 schema (`definitions.cryptoProperties`,
"assetType" certificate / related-crypto-material / algorithm / protocol), for the document writer.
Only fields the schema defines are written; a date that is not ISO 8601 is left out rather
than failing validation.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Optional

from . import vocabulary as V
from .model import Component, Kind

__all__ = ["crypto_properties"]

_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)\Z")
# Schema enums (bom-1.6.schema.json): values outside them are written as "other"/"unknown".
_PRIMITIVES = frozenset({"drbg", "mac", "block-cipher", "stream-cipher", "signature", "hash", "pke", "xof", "kdf",
                         "key-agree", "kem", "ae", "combiner", "other", "unknown"})
_MATERIAL = frozenset({"private-key", "public-key", "secret-key", "key", "ciphertext", "signature", "digest",
                       "initialization-vector", "nonce", "seed", "salt", "shared-secret", "tag", "additional-data",
                       "password", "credential", "token", "other", "unknown"})
_PROTOCOLS = frozenset({"tls", "ssh", "ipsec", "ike", "sstp", "wpa", "other", "unknown"})


def _date(value: str) -> Optional[str]:
    return value if _DATE.match(value) else None


def _int(value: str) -> Optional[int]:
    return int(value) if value.isdigit() else None


def _texts(component: Component, fields: Dict[str, str]) -> Dict[str, Any]:
    """{CycloneDX field: value} of the properties (values of `fields`) the component has."""
    return {key: component.prop(name) for key, name in fields.items() if component.prop(name)}


def _dates(component: Component, fields: Dict[str, str]) -> Dict[str, Any]:
    """As `_texts`, for date properties (only values in ISO 8601 form)."""
    found = {key: _date(component.prop(name)) for key, name in fields.items()}
    return {key: when for key, when in found.items() if when}


def crypto_properties(component: Component) -> Optional[Dict[str, Any]]:
    """The `cryptoProperties` object of `component`, or None when it is not a cryptographic asset
    cbom described (no `cbom:crypto:asset-type` property, or another component type)."""
    asset = component.prop(V.CRYPTO_ASSET_TYPE)
    if component.kind != Kind.CRYPTOGRAPHIC_ASSET or not asset:
        return None
    out: Dict[str, Any] = {}
    if asset == "certificate":
        # The schema's subjectPublicKeyRef names the key; cbom refers to the key's algorithm asset
        # ("RSA-2048"), the one public-key fact a certificate store inventory holds.
        cert = {**_texts(component, {"subjectName": V.CERT_SUBJECT, "issuerName": V.CERT_ISSUER}),
                **_dates(component, {"notValidBefore": V.CERT_NOT_BEFORE, "notValidAfter": V.CERT_NOT_AFTER}),
                **_texts(component, {"signatureAlgorithmRef": V.CERT_SIGNATURE_ALGORITHM_REF,
                                     "subjectPublicKeyRef": V.CRYPTO_ALGORITHM_REF,
                                     "certificateFormat": V.CERT_FORMAT, "certificateExtension": V.CERT_EXTENSION})}
        out = {"assetType": "certificate", "certificateProperties": cert}
    elif asset == "related-crypto-material":
        material: Dict[str, Any] = {}
        kind = component.prop(V.CRYPTO_MATERIAL_TYPE)
        material["type"] = kind if kind in _MATERIAL else "unknown"
        fingerprint = component.prop(V.CRYPTO_FINGERPRINT_SHA256) or component.prop(V.CRYPTO_FINGERPRINT)
        if fingerprint:
            material["id"] = fingerprint
        material.update(_dates(component, {"creationDate": V.CRYPTO_CREATED, "expirationDate": V.CRYPTO_EXPIRES}))
        material.update(_texts(component, {"algorithmRef": V.CRYPTO_ALGORITHM_REF}))
        size = _int(component.prop(V.CRYPTO_KEY_SIZE))
        if size is not None:
            material["size"] = size
        material.update(_texts(component, {"format": V.CRYPTO_KEY_FORMAT}))
        out = {"assetType": "related-crypto-material", "relatedCryptoMaterialProperties": material}
    elif asset == "algorithm":
        alg: Dict[str, Any] = {}
        primitive = component.prop(V.CRYPTO_PRIMITIVE)
        if primitive:
            alg["primitive"] = primitive if primitive in _PRIMITIVES else "other"
        alg.update(_texts(component, {"parameterSetIdentifier": V.CRYPTO_PARAMETER_SET, "curve": V.CRYPTO_CURVE}))
        out = {"assetType": "algorithm", "algorithmProperties": alg}
    elif asset == "protocol":
        proto = component.prop(V.CRYPTO_PRIMITIVE) or "unknown"
        out = {"assetType": "protocol", "protocolProperties": {"type": proto if proto in _PROTOCOLS else "other"}}
        if component.version:
            out["protocolProperties"]["version"] = component.version
    else:
        return None
    if component.prop(V.CRYPTO_OID):
        out["oid"] = component.prop(V.CRYPTO_OID)
    return out
