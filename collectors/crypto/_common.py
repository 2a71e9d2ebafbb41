"""Components and findings for cryptographic assets, from parsed certificates and keys (no I/O)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from cbom import vocabulary as V
from cbom.model import Category, Component, Finding, Kind, Severity, make_ref

from ._pgp import PgpKey
from ._ssh import SshKey
from ._x509 import Certificate

__all__ = ["algorithm_component", "certificate_component", "certificate_findings", "ssh_key_component",
           "private_key_component", "iso", "WEAK_DIGESTS"]

COLLECTOR = "crypto.linux"
SOON = timedelta(days=30)  # "soon-expiring": the renewal window most CAs and ACME clients use
WEAK_DIGESTS = ("md2", "md5", "sha1")  # collision attacks are practical (SHAttered 2017, RFC 6151)
MIN_RSA = 2048  # NIST SP 800-131A Rev. 2: RSA < 2048 bits disallowed for signatures since 2014


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _weak_digest(signature: str) -> str:
    low = signature.lower()
    return next((d for d in WEAK_DIGESTS if low.startswith(d) or f"with{d}" in low or f"-{d}" in low
                 or f"_{d}" in low), "")


def algorithm_component(name: str, primitive: str, oid: str = "", parameter: str = "", curve: str = "") -> Component:
    """One algorithm asset ("sha256WithRSAEncryption", "RSA-2048"): what certificates and keys refer to."""
    props: List[Tuple[str, str]] = [(V.CRYPTO_ASSET_TYPE, "algorithm"), (V.CRYPTO_PRIMITIVE, primitive)]
    if oid:
        props.append((V.CRYPTO_OID, oid))
    if parameter:
        props.append((V.CRYPTO_PARAMETER_SET, parameter))
    if curve:
        props.append((V.CRYPTO_CURVE, curve))
    return Component(category=Category.CRYPTO, kind=Kind.CRYPTOGRAPHIC_ASSET, name=name,
                     ref=make_ref("crypto", "algorithm", name), properties=tuple(props))


def pgp_key_component(key: PgpKey, paths: Sequence[str], scope: str) -> Component:
    """A package-signing OpenPGP key trusted by the package manager."""
    props: List[Tuple[str, str]] = [
        (V.CRYPTO_ASSET_TYPE, "related-crypto-material"), (V.CRYPTO_MATERIAL_TYPE, "public-key"),
        (V.CRYPTO_STORE, "package-signing"), (V.CRYPTO_TRUST_SCOPE, scope), (V.CRYPTO_KEY_ALGORITHM, key.algorithm),
    ]
    if key.bits:
        props.append((V.CRYPTO_KEY_SIZE, str(key.bits)))
    if key.curve:
        props.append((V.CRYPTO_CURVE, key.curve))
    props += [(V.CRYPTO_FINGERPRINT, key.fingerprint), (V.CRYPTO_KEY_FORMAT, f"openpgp-v{key.version}"),
              (V.CRYPTO_CREATED, iso(key.created))]
    if key.expires:
        props.append((V.CRYPTO_EXPIRES, iso(key.expires)))
    props += [(V.CRYPTO_PATH, p) for p in paths]
    return Component(category=Category.CRYPTO, kind=Kind.CRYPTOGRAPHIC_ASSET, name=key.user_id or key.fingerprint,
                     version=key.fingerprint, ref=make_ref("crypto", "openpgp", key.fingerprint),
                     properties=tuple(props))


def pgp_key_findings(key: PgpKey, ref: str, paths: Sequence[str], now: datetime,
                     collector: str = COLLECTOR) -> Iterable[Finding]:
    """An expired trusted signing key (stale trust), a short RSA/DSA one (forgeable signatures)."""
    label = f"{key.user_id or key.fingerprint} ({key.fingerprint[-16:]})"
    if key.expires and key.expires < now:
        yield Finding(id="CBOM-PGP-KEY-EXPIRED", title="expired package-signing key still trusted",
                      severity=Severity.LOW, detail=f"expired {iso(key.expires)}", evidence=(label, *paths[:3]),
                      refs=(ref,), collector=collector)
    if key.algorithm in ("RSA", "DSA", "ElGamal") and 0 < key.bits < MIN_RSA:
        yield Finding(id="CBOM-PGP-WEAK-KEY", title=f"{key.algorithm} package-signing key of {key.bits} bits",
                      severity=Severity.MEDIUM, detail=f"below {MIN_RSA} bits (NIST SP 800-131A)",
                      evidence=(label, *paths[:3]), refs=(ref,), collector=collector)


def library_component(name: str, version: str, path: str) -> Component:
    """A cryptographic library found on disk (CycloneDX type library, category crypto)."""
    return Component(category=Category.CRYPTO, kind=Kind.LIBRARY, name=name, version=version,
                     ref=make_ref("crypto", "library", name, path),
                     properties=((V.CRYPTO_PATH, path),))


# The algorithm assets certificates name: name -> (primitive, OID, parameter set, curve).
Algorithms = Dict[str, Tuple[str, str, str, str]]


def note_algorithms(cert: Certificate, algorithms: Algorithms) -> None:
    """Remember the signature and key algorithms of `cert` (the first certificate naming one wins)."""
    algorithms.setdefault(cert.signature_algorithm, ("signature", cert.signature_oid, "", ""))
    key_name = key_algorithm_name(cert.key_algorithm, cert.key_size, cert.curve)
    # RSA keys both sign and encrypt (pke); EC, EdDSA and DSA keys of certificates sign.
    algorithms.setdefault(key_name, ("pke" if cert.key_algorithm == "RSA" else "signature", cert.key_oid,
                                     str(cert.key_size) if cert.key_size else "", cert.curve))


def algorithm_components(algorithms: Algorithms) -> Iterator[Component]:
    """One algorithm asset per algorithm noted, in name order."""
    for name in sorted(algorithms):
        primitive, oid, parameter, curve = algorithms[name]
        yield algorithm_component(name, primitive, oid, parameter, curve)


def key_algorithm_name(algorithm: str, bits: int, curve: str = "") -> str:
    """"RSA-2048", "EC-prime256v1", "Ed25519": the name of a public-key algorithm asset."""
    if curve:
        return f"{algorithm}-{curve}"
    return f"{algorithm}-{bits}" if bits and algorithm in ("RSA", "DSA", "RSASSA-PSS") else algorithm


def certificate_component(cert: Certificate, paths: Sequence[str], store: str, local: bool) -> Component:
    """A certificate as a cryptographic-asset component, identified by its SHA-256 fingerprint."""
    sig_ref = make_ref("crypto", "algorithm", cert.signature_algorithm)
    key_name = key_algorithm_name(cert.key_algorithm, cert.key_size, cert.curve)
    props: List[Tuple[str, str]] = [
        (V.CRYPTO_ASSET_TYPE, "certificate"), (V.CRYPTO_STORE, store),
        (V.CERT_SUBJECT, cert.subject), (V.CERT_ISSUER, cert.issuer), (V.CERT_SERIAL, cert.serial),
        (V.CERT_NOT_BEFORE, iso(cert.not_before)), (V.CERT_NOT_AFTER, iso(cert.not_after)),
        (V.CERT_SIGNATURE_ALGORITHM, cert.signature_algorithm), (V.CERT_SIGNATURE_ALGORITHM_REF, sig_ref),
        (V.CRYPTO_KEY_ALGORITHM, cert.key_algorithm),
    ]
    if cert.key_size:
        props.append((V.CRYPTO_KEY_SIZE, str(cert.key_size)))
    if cert.curve:
        props.append((V.CRYPTO_CURVE, cert.curve))
    props.append((V.CRYPTO_ALGORITHM_REF, make_ref("crypto", "algorithm", key_name)))
    props += [(V.CRYPTO_FINGERPRINT_SHA256, cert.sha256), (V.CERT_FORMAT, "X.509"), (V.CERT_VERSION, str(cert.version)),
              (V.CERT_SELF_SIGNED, str(cert.self_signed).lower())]
    if cert.is_ca is not None:
        props.append((V.CERT_CA, str(cert.is_ca).lower()))
    if local:
        props.append((V.CRYPTO_LOCAL_ANCHOR, "true"))
    exts = sorted({p.rsplit(".", 1)[-1].lower() for p in paths if "." in p.rsplit("/", 1)[-1]} - {"0", "1", "2"})
    if exts:
        props.append((V.CERT_EXTENSION, exts[0]))
    props += [(V.CRYPTO_PATH, p) for p in paths]
    return Component(
        category=Category.CRYPTO, kind=Kind.CRYPTOGRAPHIC_ASSET, name=cert.common_name,
        version=cert.serial, description=cert.subject, ref=make_ref("crypto", "x509", cert.sha256),
        hashes=(("SHA-256", cert.sha256),), properties=tuple(props),
    )


def certificate_findings(cert: Certificate, ref: str, paths: Sequence[str], now: datetime, local: bool,
                         collector: str = COLLECTOR) -> Iterable[Finding]:
    """Expired or soon-expiring, weak signature digest, short RSA key, locally added trust anchor."""
    # The title names the kind of finding, the certificate is the first evidence line: the report
    # then explains a kind once and lists its certificates (30 SHA-1 roots: one page, not ten).
    label = f"{cert.common_name} ({cert.sha256[:16]}…)"
    where = (label, *paths[:3])
    if cert.not_after < now:
        yield Finding(id="CBOM-CERT-EXPIRED", title="expired certificate",
                      severity=Severity.LOW if cert.self_signed else Severity.MEDIUM,
                      detail=f"not valid after {iso(cert.not_after)}; subject {cert.subject}",
                      evidence=where, refs=(ref,), collector=collector)
    elif cert.not_after < now + SOON:
        yield Finding(id="CBOM-CERT-EXPIRING", title="certificate expires within 30 days",
                      severity=Severity.LOW, detail=f"not valid after {iso(cert.not_after)}",
                      evidence=where, refs=(ref,), collector=collector)
    digest = _weak_digest(cert.signature_algorithm)
    if digest:
        # A root's self-signature is never checked by a verifier: weak there is low, elsewhere medium.
        yield Finding(id="CBOM-CERT-WEAK-SIGNATURE", title=f"certificate signed with {digest.upper()}",
                      severity=Severity.LOW if cert.self_signed else Severity.MEDIUM,
                      detail=f"signature algorithm {cert.signature_algorithm}", evidence=where, refs=(ref,),
                      collector=collector)
    if cert.key_algorithm in ("RSA", "DSA") and 0 < cert.key_size < MIN_RSA:
        yield Finding(id="CBOM-CERT-WEAK-KEY", title=f"{cert.key_algorithm} key of {cert.key_size} bits",
                      severity=Severity.MEDIUM, detail=f"below {MIN_RSA} bits (NIST SP 800-131A)",
                      evidence=where, refs=(ref,), collector=collector)
    if local:
        yield Finding(id="CBOM-CERT-LOCAL-ANCHOR", title="trust anchor added on this machine",
                      severity=Severity.INFO,
                      detail=f"subject {cert.subject}; every TLS connection of the machine trusts what it signs",
                      evidence=where, refs=(ref,), collector=collector)


def ssh_key_component(key: SshKey, store: str, path: str, account: str = "") -> Component:
    """An SSH public key (host key, or an authorized key of `account`) as related crypto material."""
    props: List[Tuple[str, str]] = [
        (V.CRYPTO_ASSET_TYPE, "related-crypto-material"), (V.CRYPTO_MATERIAL_TYPE, "public-key"),
        (V.CRYPTO_STORE, store), (V.CRYPTO_KEY_ALGORITHM, key.type),
    ]
    if key.bits:
        props.append((V.CRYPTO_KEY_SIZE, str(key.bits)))
    props += [(V.CRYPTO_FINGERPRINT_SHA256, key.fingerprint), (V.CRYPTO_KEY_FORMAT, "openssh")]
    if account:
        props.append((V.CRYPTO_ACCOUNT, account))
    if key.options:
        props.append((V.CRYPTO_KEY_OPTIONS, key.options))
    props.append((V.CRYPTO_PATH, path))
    who = f" of {account}" if account else ""
    kind = "SSH host key" if store == "ssh-host" else "SSH authorized key"
    return Component(
        category=Category.CRYPTO, kind=Kind.CRYPTOGRAPHIC_ASSET, name=f"{kind} {key.type}{who}",
        version=key.fingerprint, description=key.comment,
        ref=make_ref("crypto", store, account, key.fingerprint), properties=tuple(props),
    )


def private_key_component(path: str, label: str, store: str, public: Optional[SshKey] = None) -> Component:
    """That a private key file exists: its PEM label, and type/size from its public half when there is one.

    Nothing of the key itself is carried: the component is built from the path, the header
    label and the matching public key only.
    """
    props: List[Tuple[str, str]] = [
        (V.CRYPTO_ASSET_TYPE, "related-crypto-material"), (V.CRYPTO_MATERIAL_TYPE, "private-key"),
        (V.CRYPTO_STORE, store), (V.CRYPTO_KEY_FORMAT, label or "unknown"),
    ]
    if public is not None:
        props.append((V.CRYPTO_KEY_ALGORITHM, public.type))
        if public.bits:
            props.append((V.CRYPTO_KEY_SIZE, str(public.bits)))
        props.append((V.CRYPTO_FINGERPRINT_SHA256, public.fingerprint))
    props.append((V.CRYPTO_PATH, path))
    return Component(
        category=Category.CRYPTO, kind=Kind.CRYPTOGRAPHIC_ASSET, name=f"private key {path}",
        ref=make_ref("crypto", "private-key", path), properties=tuple(props),
    )
