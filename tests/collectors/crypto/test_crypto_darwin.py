"""crypto.darwin: macOS trust-store certificates as cryptographic assets.

The certificates are Apple's own root store as published in apple-oss-distributions/
security_certificates (certificates/roots/, DER, each file named by the SHA-256 of its bytes:
the oracle for the fingerprints). What `security find-certificate -a -p` prints is those
certificates in PEM (RFC 7468); the recorded folder is made here with the standard library's
ssl.DER_cert_to_PEM_cert, and the expected expiry and signature algorithm of every certificate
come from `openssl storeutl -text` on that folder, never from cbom.
"""
from __future__ import annotations

import base64
import re
import shutil
import ssl
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

import pytest

from cbom import vocabulary as V
from cbom.collector import Note, ScanContext
from cbom.host import RecordedHost
from cbom.model import Component, Finding, Gap, Platform
from cbom.recording import Recording
from collectors.crypto import _darwin as C
from collectors.crypto._x509 import parse_der

ROOTS = Path(__file__).resolve().parents[2] / "fixtures" / "posture" / "macos-apple-roots-55349.0.11"
DERS = sorted(ROOTS.glob("*.cer"))
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def test_every_apple_root_parses_to_the_fingerprint_apple_named_it_by():
    assert len(DERS) == 156
    for der in DERS:
        assert parse_der(der.read_bytes()).sha256 == der.stem.lower(), der.name


def _openssl_truth(bundle: Path) -> List[Dict[str, str]]:
    """Not-after and signature algorithm of each certificate of a PEM file, in file order
    (`openssl storeutl -noout -text -certs`: one "N: Certificate" block each)."""
    text = subprocess.run(["openssl", "storeutl", "-noout", "-text", "-certs", str(bundle)], capture_output=True,
                          text=True, check=True).stdout
    out: List[Dict[str, str]] = []
    for block in re.split(r"^\d+: Certificate$", text, flags=re.M)[1:]:
        end = re.search(r"^\s*Not After : (.+)$", block, re.M)  # the first one: the Validity field
        sig = re.search(r"^\s*Signature Algorithm: (\S+)", block, re.M)
        assert end and sig
        when = datetime.strptime(" ".join(end.group(1).split()), "%b %d %H:%M:%S %Y GMT")
        out.append({"not_after": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "sig": sig.group(1)})
    return out


@pytest.fixture(scope="module")
def recorded_roots(tmp_path_factory) -> Path:
    """A recorded folder holding the root store as `security find-certificate -a -p` prints it (PEM)."""
    folder = tmp_path_factory.mktemp("mac-recording")
    pem = "".join(ssl.DER_cert_to_PEM_cert(der.read_bytes()) for der in DERS)
    (folder / "security-systemrootcertificates.pem").write_text(pem)
    return folder


@needs_openssl
def test_the_system_root_store_every_certificate_matches_openssl(recorded_roots):
    ctx = ScanContext(platform=Platform.DARWIN, host=RecordedHost(Recording(str(recorded_roots))))
    items = list(C.collect(ctx))
    certs = {c.prop(V.CRYPTO_FINGERPRINT_SHA256): c for c in items
             if isinstance(c, Component) and c.prop(V.CRYPTO_ASSET_TYPE) == "certificate"}
    assert sorted(certs) == sorted(d.stem.lower() for d in DERS)
    listed = _openssl_truth(recorded_roots / "security-systemrootcertificates.pem")
    assert len(listed) == len(DERS)
    truth = {d.stem.lower(): t for d, t in zip(DERS, listed)}
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for sha, want in truth.items():
        comp = certs[sha]
        assert comp.prop(V.CERT_NOT_AFTER) == want["not_after"], sha
        assert comp.prop(V.CERT_SIGNATURE_ALGORITHM) == want["sig"], sha
        assert comp.prop(V.CRYPTO_STORE) == "system-trust"
        assert comp.props(V.CRYPTO_PATH) == (C.SYSTEM_ROOTS,)
    findings = [f for f in items if isinstance(f, Finding)]
    expired = {f.refs[0] for f in findings if f.id == "CBOM-CERT-EXPIRED"}
    assert expired == {certs[s].ref for s, w in truth.items() if w["not_after"] < now}
    sha1 = {f.refs[0] for f in findings if f.id == "CBOM-CERT-WEAK-SIGNATURE"}
    assert sha1 == {certs[s].ref for s, w in truth.items() if w["sig"].lower().startswith(("sha1", "md5", "md2"))}
    assert len(sha1) > 0  # Apple still ships SHA-1-signed roots (their self-signature is never checked)
    assert not [f for f in findings if f.id == "CBOM-CERT-LOCAL-ANCHOR"]
    # System.keychain was not recorded: said, not taken as "no certificate added".
    gaps = [g.reason for g in items if isinstance(g, Gap)]
    assert gaps == [f"the recording holds no `security find-certificate -a -p {C.SYSTEM_KEYCHAIN}`: not collected"]
    algorithms = {c.name for c in items if isinstance(c, Component) and c.prop(V.CRYPTO_ASSET_TYPE) == "algorithm"}
    assert {w["sig"] for w in truth.values()} <= algorithms


def test_a_certificate_in_the_system_keychain_is_a_local_anchor(tmp_path):
    """A root an administrator put in System.keychain (here one of Apple's own roots, recorded as the
    System keychain's only certificate) is a trust anchor added on this machine."""
    folder = tmp_path / "rec"
    folder.mkdir()
    der = DERS[0]
    (folder / "security-system-keychain.pem").write_text(ssl.DER_cert_to_PEM_cert(der.read_bytes()))
    items = list(C.collect(ScanContext(platform=Platform.DARWIN, host=RecordedHost(Recording(str(folder))))))
    certs = [c for c in items if isinstance(c, Component) and c.prop(V.CRYPTO_ASSET_TYPE) == "certificate"]
    assert len(certs) == 1 and certs[0].prop(V.CRYPTO_FINGERPRINT_SHA256) == der.stem.lower()
    assert certs[0].prop(V.CRYPTO_STORE) == "local-trust" and certs[0].prop(V.CRYPTO_LOCAL_ANCHOR) == "true"
    assert [f.id for f in items if isinstance(f, Finding) and f.id == "CBOM-CERT-LOCAL-ANCHOR"] == \
        ["CBOM-CERT-LOCAL-ANCHOR"]


def test_malformed_security_output_is_said_never_raised():
    pem = (ROOTS / DERS[1].name).read_bytes()
    good = ssl.DER_cert_to_PEM_cert(pem)
    broken = "-----BEGIN CERTIFICATE-----\n%%%% not base64 %%%%\n-----END CERTIFICATE-----\n"
    cut = "-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(pem[:200]).decode() + "-----END CERTIFICATE-----\n"
    key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    certs, problems = C.parse_security_pem(good + broken + cut + key)
    assert [c.sha256 for c in certs] == [DERS[1].stem.lower()]
    assert any("do not decode" in p for p in problems)
    assert any("cannot parse" in p for p in problems)
    assert "a PRIVATE KEY block (not read)" in problems


def test_a_mac_disk_image_is_not_read_for_keychains(tmp_path):
    items = list(C.collect(ScanContext(root=tmp_path, platform=Platform.DARWIN)))
    assert len(items) == 1 and isinstance(items[0], Note)


def test_a_mac_document_validates_as_cyclonedx_1_6(recorded_roots):
    """The Mac's certificates, accounts, launchd jobs and settings in one CycloneDX 1.6 document."""
    from cbom import cyclonedx, validate
    from cbom.model import Host, HostFact, Scan
    from collectors.posture import _darwin as P

    if validate.unavailable("1.6"):
        pytest.skip(validate.unavailable("1.6"))
    fixtures = ROOTS.parent
    disk = ScanContext(root=fixtures / "macos-assembled-root", platform=Platform.DARWIN)
    recorded = ScanContext(platform=Platform.DARWIN, host=RecordedHost(Recording(str(fixtures / "macos-orchard-itsafeature"))))
    items = list(C.collect(ScanContext(platform=Platform.DARWIN, host=RecordedHost(Recording(str(recorded_roots))))))
    items += list(P.collect_startup(disk)) + list(P.collect_settings(disk)) + list(P.collect_accounts(recorded))
    comps = tuple(i for i in items if isinstance(i, Component))
    scan = Scan(id="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79", started=datetime.now(timezone.utc),
                tool_version="test", host=Host(name="mac").with_facts(i for i in items if isinstance(i, HostFact)),
                components=comps, findings=tuple(i for i in items if isinstance(i, Finding)))
    assert validate.errors(cyclonedx.to_dict(scan, "1.6")) == []
