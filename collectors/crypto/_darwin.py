"""macOS trust stores as cryptographic assets: the system roots and the certificates an administrator added.

macOS keeps its trust anchors in keychains, not in files of certificates: the roots Apple ships
in /System/Library/Keychains/SystemRootCertificates.keychain (built from the DER files of Apple's
security_certificates project, certificates/roots/), and what an administrator or an MDM profile
adds in /Library/Keychains/System.keychain. `security find-certificate -a -p KEYCHAIN`
(security(1)) prints every certificate of a keychain as a PEM block; nothing else of the
keychain (no private key, no password) is asked for. The PEM blocks are read with the same DER
reader as the Linux trust stores (collectors/crypto/_x509.py), one component per distinct
certificate (SHA-256 of the DER, as `openssl x509 -fingerprint -sha256`).

A self-signed CA certificate in System.keychain is a trust anchor added on this machine (a local
anchor, as /usr/local/share/ca-certificates is on Linux); the keychain also holds the Mac's own
certificates (com.apple.systemdefault, com.apple.kerberos.kdc), which are listed as such, not
as anchors. A keychain is a database file: under --root (a disk image) it is not read.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Dict, Iterator, List, Sequence, Tuple

from cbom.collector import Note, ScanContext
from cbom.host import register_command
from cbom.model import Gap, Item

from . import _common, _x509

__all__ = ["COLLECTOR", "COMMANDS", "KEYCHAINS", "collect", "parse_security_pem"]

COLLECTOR = "crypto.darwin"
SYSTEM_ROOTS = "/System/Library/Keychains/SystemRootCertificates.keychain"
SYSTEM_KEYCHAIN = "/Library/Keychains/System.keychain"
# (keychain, store written on its certificates, whether a self-signed CA there was added locally)
KEYCHAINS: Tuple[Tuple[str, str, bool], ...] = ((SYSTEM_ROOTS, "system-trust", False),
                                                 (SYSTEM_KEYCHAIN, "system-keychain", True))
# `security find-certificate -a -p KEYCHAIN` -> recorded file names (collect.sh on a Mac).
COMMANDS: Dict[Tuple[str, ...], Tuple[str, ...]] = {
    ("security", "find-certificate", "-a", "-p", SYSTEM_ROOTS.lower()): ("security-systemrootcertificates*",),
    ("security", "find-certificate", "-a", "-p", SYSTEM_KEYCHAIN.lower()): ("security-system-keychain*",),
}
for _argv, _names in COMMANDS.items():
    register_command(_argv, _names)


def parse_security_pem(text: str) -> Tuple[List[_x509.Certificate], List[str]]:
    """The certificates of `security find-certificate -p` output, and a problem per block that does
    not decode or parse (said, never fatal)."""
    ders, keys, bad = _x509.split_pem(text.encode("utf-8", "replace"))
    problems = [f"{bad} PEM block(s) that do not decode"] if bad else []
    problems += [f"a {label} block (not read)" for label in keys]
    certs: List[_x509.Certificate] = []
    for der in ders:
        try:
            certs.append(_x509.parse_der(der))
        except _x509.DerError as exc:
            problems.append(f"a certificate cbom cannot parse ({exc})")
    return certs, problems


def _items(certs: Sequence[_x509.Certificate], keychain: str, store: str, added_here: bool, now: datetime,
           seen: Dict[str, str], algorithms: _common.Algorithms, name: str) -> Iterator[Item]:
    for cert in certs:
        if cert.sha256 in seen:
            continue  # a root also present in System.keychain: listed once, from the first keychain
        seen[cert.sha256] = keychain
        local = added_here and cert.self_signed and cert.is_ca is not False
        comp = _common.certificate_component(cert, [keychain], "local-trust" if local else store, local)
        yield comp
        yield from _common.certificate_findings(cert, comp.ref, [keychain], now, local, collector=name)
        _common.note_algorithms(cert, algorithms)


def collect(ctx: ScanContext, name: str = COLLECTOR) -> Iterator[Item]:
    """Every certificate of the system root store and of the System keychain, with findings
    (`name`: the collector they name)."""
    if not ctx.live:
        yield Note("macOS keychains are read with `security` on the running Mac, not from a disk image")
        return
    now = datetime.now(timezone.utc)
    seen: Dict[str, str] = {}
    algorithms: _common.Algorithms = {}
    for keychain, store, added_here in KEYCHAINS:
        res = ctx.run(["security", "find-certificate", "-a", "-p", keychain], timeout=30)
        if not res.ok:
            if res.rc == 127 and ctx.recorded:
                yield Gap(f"the recording holds no `security find-certificate -a -p {keychain}`: not collected")
            else:
                yield Gap(f"{keychain}: {res.why()}")
            continue
        certs, problems = parse_security_pem(res.stdout)
        for problem in problems:
            yield Gap(f"{keychain}: {problem}")
        if not certs and store == "system-trust":
            yield Gap(f"{keychain}: no certificate in the output of security find-certificate")
        yield from _items(certs, keychain, store, added_here, now, seen, algorithms, name)
    yield from _common.algorithm_components(algorithms)
