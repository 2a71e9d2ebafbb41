"""crypto.linux: the certificates, SSH keys and private-key files of a Linux machine.

Truth is independent of cbom: `openssl x509` on the system store of this machine, `ssh-keygen -l`
on keys the test generates, and the CycloneDX 1.6 schema for the `cryptoProperties` objects.
A planted private key must never reach any output (JSON, YAML, HTML) of a full scan.
"""
from __future__ import annotations

import base64
import functools
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

import pytest

from cbom import validate
from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.crypto_props import crypto_properties
from cbom.model import Component, Finding, Gap
from collectors.crypto import KEY_HEAD, collect_linux
from collectors.crypto._ssh import parse_authorized_keys, parse_public_key, parse_sshd_config
from collectors.crypto._x509 import parse_der, split_pem
from conftest import REPO

STORE = Path("/etc/ssl/certs")
needs_store = pytest.mark.skipif(not (STORE / "ca-certificates.crt").is_file() or not shutil.which("openssl"),
                                 reason="no Debian system trust store or openssl on this machine")
needs_keygen = pytest.mark.skipif(not shutil.which("ssh-keygen") or not shutil.which("openssl"),
                                  reason="ssh-keygen and openssl are needed to make keys")


def _openssl(pem: bytes, *args: str) -> str:
    return subprocess.run(["openssl", "x509", "-noout", *args], input=pem, capture_output=True,
                          check=True).stdout.decode()


def _pem(der: bytes) -> bytes:
    return b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"


@functools.lru_cache(maxsize=None)
def _store_truth() -> Dict[str, Dict[str, str]]:
    """fingerprint -> openssl's view of every certificate file of /etc/ssl/certs (one cert per file;
    hash links and the .pem names lead to the same files, each read once)."""
    truth: Dict[str, Dict[str, str]] = {}
    files = {os.path.realpath(f) for f in STORE.iterdir() if f.name != "ca-certificates.crt" and f.is_file()}
    for f in map(Path, sorted(files)):
        pem = f.read_bytes()
        proc = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-text"], input=pem,
                              capture_output=True)
        if proc.returncode != 0:
            continue
        out = proc.stdout.decode()
        fp = re.search(r"Fingerprint=([0-9A-F:]+)", out).group(1).replace(":", "").lower()
        expired = subprocess.run(["openssl", "x509", "-noout", "-checkend", "0"], input=pem,
                                 capture_output=True).returncode != 0
        truth[fp] = {"sig": re.search(r"Signature Algorithm: (\S+)", out).group(1), "expired": str(expired)}
    return truth


@needs_store
def test_x509_fields_equal_openssl_for_every_certificate_of_the_bundle():
    certs, keys, bad = split_pem((STORE / "ca-certificates.crt").read_bytes())
    assert len(certs) > 50 and keys == [] and bad == 0
    for der in certs:
        c = parse_der(der)
        out = _openssl(_pem(der), "-fingerprint", "-sha256", "-subject", "-issuer", "-dates", "-serial",
                       "-nameopt", "RFC2253,-esc_msb", "-text")
        assert c.sha256 == re.search(r"Fingerprint=([0-9A-F:]+)", out).group(1).replace(":", "").lower()
        assert c.subject == re.search(r"^subject=(.*)$", out, re.M).group(1)
        assert c.issuer == re.search(r"^issuer=(.*)$", out, re.M).group(1)
        assert int(c.serial, 16) == int(re.search(r"^serial=(\w+)$", out, re.M).group(1), 16)
        assert c.signature_algorithm == re.search(r"Signature Algorithm: (\S+)", out).group(1)
        bits = re.search(r"Public-Key: \((\d+) bit", out)
        assert bits and c.key_size == int(bits.group(1))
        after = datetime.strptime(re.search(r"notAfter=(.*)", out).group(1), "%b %d %H:%M:%S %Y GMT")
        assert c.not_after == after.replace(tzinfo=timezone.utc)
        assert c.is_ca == ("CA:TRUE" in out) if "Basic Constraints" in out else c.is_ca is None


@pytest.fixture(scope="module")
def live_items():
    return list(collect_linux(ScanContext()))


@needs_store
def test_every_system_store_certificate_is_a_component_matched_by_sha256(live_items):
    truth = _store_truth()
    assert len(truth) > 50
    certs = {c.prop(V.CRYPTO_FINGERPRINT_SHA256): c for c in live_items
             if isinstance(c, Component) and c.prop(V.CRYPTO_ASSET_TYPE) == "certificate"}
    assert set(truth) <= set(certs)
    for fp, c in certs.items():
        assert c.kind.value == "cryptographic-asset" and c.category.value == "crypto"
        assert c.hashes == (("SHA-256", fp),)
    assert [i for i in live_items if isinstance(i, Gap)] == []


@needs_store
def test_expired_and_sha1_certificates_are_findings(live_items):
    truth = _store_truth()
    by_ref = {c.ref: c.prop(V.CRYPTO_FINGERPRINT_SHA256) for c in live_items if isinstance(c, Component)}
    findings = [f for f in live_items if isinstance(f, Finding)]
    expired = {by_ref[f.refs[0]] for f in findings if f.id == "CBOM-CERT-EXPIRED"}
    sha1 = {by_ref[f.refs[0]] for f in findings if f.id == "CBOM-CERT-WEAK-SIGNATURE" and "SHA1" in f.title}
    assert {fp for fp, t in truth.items() if t["expired"] == "True"} <= expired
    assert {fp for fp, t in truth.items() if t["sig"].lower().startswith("sha1")} <= sha1
    # Nothing flagged that openssl does not see as such (every flagged one is in the store).
    assert expired <= set(truth) and sha1 <= set(truth)


@needs_store
def test_locally_added_anchors_are_marked(live_items):
    local_dir = Path("/usr/local/share/ca-certificates")
    expected = set()
    for f in local_dir.rglob("*.crt"):
        out = _openssl(f.read_bytes(), "-fingerprint", "-sha256")
        expected.add(re.search(r"Fingerprint=([0-9A-F:]+)", out).group(1).replace(":", "").lower())
    marked = {c.prop(V.CRYPTO_FINGERPRINT_SHA256) for c in live_items
              if isinstance(c, Component) and c.prop(V.CRYPTO_LOCAL_ANCHOR) == "true"}
    assert marked == expected


# --- a planted root: keys, SSH, private-key safety --------------------------------------------------


def _keygen(path: Path, kind: str, bits: str = "") -> None:
    argv = ["ssh-keygen", "-q", "-N", "", "-t", kind, "-f", str(path), "-C", f"root@{kind}-test"]
    if bits:
        argv += ["-b", bits]
    subprocess.run(argv, check=True)


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    if not shutil.which("ssh-keygen") or not shutil.which("openssl"):
        pytest.skip("ssh-keygen and openssl are needed to make keys")
    root = tmp_path_factory.mktemp("root")
    etc = root / "etc"
    for d in ("ssh", "ssl/certs", "ssl/private", "usr-local"):
        (etc / d).mkdir(parents=True, exist_ok=True)
    (root / "usr/local/share/ca-certificates").mkdir(parents=True)
    _keygen(etc / "ssh/ssh_host_ed25519_key", "ed25519")
    _keygen(etc / "ssh/ssh_host_rsa_key", "rsa", "1024")
    _keygen(etc / "ssh/ssh_host_ecdsa_key", "ecdsa", "384")
    (etc / "ssh/sshd_config").write_text("Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n")
    (etc / "ssh/sshd_config.d").mkdir()
    (etc / "ssh/sshd_config.d/10-local.conf").write_text("PasswordAuthentication yes\n")
    # A self-signed server certificate with its key in one file (haproxy style), and the key alone.
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha1", "-days", "1",
                    "-subj", "/CN=plant-hmi.example/O=Test", "-keyout", str(etc / "ssl/private/hmi.key"),
                    "-out", str(root / "usr/local/share/ca-certificates/hmi.crt")], check=True, capture_output=True)
    # A locally added 1024-bit RSA anchor (too short: NIST SP 800-131A).
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-sha256", "-days", "3650",
                    "-subj", "/CN=old-plc-ca", "-keyout", str(root / "old-plc-ca.key"),
                    "-out", str(root / "usr/local/share/ca-certificates/old-plc-ca.crt")], check=True, capture_output=True)
    (root / "old-plc-ca.key").unlink()
    key = (etc / "ssl/private/hmi.key").read_bytes()
    (etc / "ssl/certs/combined.pem").write_bytes((root / "usr/local/share/ca-certificates/hmi.crt").read_bytes()
                                                 + key)
    (etc / "ssl/certs/stray.key.pem").write_bytes(key)
    os.symlink("/usr/local/share/ca-certificates/hmi.crt", etc / "ssl/certs/hmi.pem")
    # An MQTT broker's TLS files, named by its configuration (Eclipse Mosquitto mosquitto.conf(5)).
    (etc / "mosquitto/certs").mkdir(parents=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "30", "-subj", "/CN=broker.plant.example", "-keyout", str(etc / "mosquitto/certs/broker.key"),
                    "-out", str(etc / "mosquitto/certs/broker.crt")], check=True, capture_output=True)
    (etc / "mosquitto/mosquitto.conf").write_text(
        "listener 8883\n# certfile /etc/mosquitto/certs/old.crt\ncertfile /etc/mosquitto/certs/broker.crt\n"
        "keyfile /etc/mosquitto/certs/broker.key\ncafile /etc/mosquitto/certs/missing-ca.crt\n")
    # passwd with a home holding authorized_keys (with options).
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\nop:x:1000:1000:Operator:/home/op:/bin/bash\n")
    (root / "home/op/.ssh").mkdir(parents=True)
    pub = (etc / "ssh/ssh_host_ed25519_key.pub").read_text().strip()
    (root / "home/op/.ssh/authorized_keys").write_text(
        f'# maintenance laptop\nfrom="10.0.0.0/8",no-pty,command="/bin/echo a b" {pub}\n'
        + (etc / "ssh/ssh_host_rsa_key.pub").read_text())
    return root


def _key_bodies(root: Path) -> List[str]:
    """Every 16-character run of the base64 body of every private key planted (what must not leak)."""
    runs = []
    for f in list(root.rglob("*_key")) + [root / "etc/ssl/private/hmi.key", root / "etc/mosquitto/certs/broker.key"]:
        body = "".join(ln for ln in f.read_text().splitlines() if not ln.startswith("-----"))
        runs += [body[i:i + 16] for i in range(0, len(body) - 16, 8)]
    assert len(runs) > 100
    return runs


def test_ssh_host_keys_match_ssh_keygen(planted):
    items = list(collect_linux(ScanContext(root=planted)))
    host = {c.prop(V.CRYPTO_FINGERPRINT_SHA256): c for c in items if isinstance(c, Component)
            and c.prop(V.CRYPTO_STORE) == "ssh-host" and c.prop(V.CRYPTO_MATERIAL_TYPE) == "public-key"}
    for pub in sorted((planted / "etc/ssh").glob("ssh_host_*_key.pub")):
        out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(pub)], capture_output=True,
                             text=True, check=True).stdout.split()
        bits, fp = int(out[0]), out[1]
        assert fp in host and host[fp].prop(V.CRYPTO_KEY_SIZE) == str(bits)
        priv = next(c for c in items if isinstance(c, Component) and c.prop(V.CRYPTO_PATH) == f"/etc/ssh/{pub.stem}")
        assert priv.prop(V.CRYPTO_MATERIAL_TYPE) == "private-key"
        assert priv.prop(V.CRYPTO_FINGERPRINT_SHA256) == fp
        assert priv.prop(V.CRYPTO_KEY_FORMAT) == "OPENSSH PRIVATE KEY"
    findings = {f.id: f for f in items if isinstance(f, Finding)}
    assert "ssh_host_rsa_key.pub: ssh-rsa 1024 bits" in findings["CBOM-SSH-WEAK-HOST-KEY"].evidence[0]
    assert "CBOM-SSH-ROOT-PASSWORD" in findings  # PermitRootLogin yes + PasswordAuthentication from Include
    assert "CBOM-CERT-LOCAL-ANCHOR" in findings and "CBOM-CERT-WEAK-SIGNATURE" in findings
    auth = [c for c in items if isinstance(c, Component) and c.prop(V.CRYPTO_STORE) == "ssh-authorized"]
    assert sorted(c.prop(V.CRYPTO_ACCOUNT) for c in auth) == ["op", "op"]
    assert any(c.prop(V.CRYPTO_KEY_OPTIONS).startswith('from="10.0.0.0/8"') for c in auth)


def test_private_keys_are_read_only_up_to_their_header(planted, monkeypatch):
    """Every read of a file holding a private key asks for at most KEY_HEAD bytes, head only —
    except a combined cert+key file, whose key block is skipped undecoded (checked below)."""
    reads = []
    ctx = ScanContext(root=planted)
    original = ctx.host.read_bytes

    def spy(path, limit=1 << 26, head=False, offset=0):
        reads.append((path, limit, head and not offset))  # a window past the header is no head read
        return original(path, limit, head, offset)

    monkeypatch.setattr(ctx.host, "read_bytes", spy)
    items = list(collect_linux(ctx))
    key_files = {"/etc/ssl/private/hmi.key", "/etc/ssl/certs/stray.key.pem", "/etc/ssh/ssh_host_ed25519_key",
                 "/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ecdsa_key", "/etc/mosquitto/certs/broker.key"}
    for path, limit, head in reads:
        if path in key_files:
            assert head and limit == KEY_HEAD, (path, limit, head)
    assert {p for p, _, _ in reads} >= key_files
    stray = next(c for c in items if isinstance(c, Component) and c.prop(V.CRYPTO_PATH) == "/etc/ssl/certs/stray.key.pem")
    assert stray.prop(V.CRYPTO_KEY_FORMAT) == "PRIVATE KEY"
    combined = [c for c in items if isinstance(c, Component) and c.prop(V.CRYPTO_PATH) == "/etc/ssl/certs/combined.pem"
                and c.prop(V.CRYPTO_MATERIAL_TYPE) == "private-key"]
    assert len(combined) == 1


def test_no_byte_of_a_private_key_reaches_any_output(planted, tmp_path):
    out = tmp_path / "out"
    code = ("import sys; from cbom.cli import run; from collectors import BUILTIN; "
            "sys.argv = ['cbom'] + sys.argv[1:]; run(BUILTIN)")
    proc = subprocess.run([sys.executable, "-c", code, "scan", "--root", str(planted), "--only", "crypto,posture",
                           "--format", "json,yaml,html", "-o", str(out)], capture_output=True, text=True,
                          cwd=REPO, timeout=300, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    files = sorted(p for p in out.iterdir() if p.suffix in (".json", ".yaml", ".html"))
    assert len(files) == 3, proc.stderr
    text = "\n".join(p.read_text(encoding="utf-8") for p in files) + proc.stdout + proc.stderr
    leaked = [run for run in _key_bodies(planted) if run in text]
    assert leaked == []
    assert "OPENSSH PRIVATE KEY" in text  # the key's presence is stated


# --- parsers on real text ---------------------------------------------------------------------------


def test_service_certificates_are_found_through_the_configuration_naming_them(planted):
    items = [c for c in collect_linux(ScanContext(root=planted)) if isinstance(c, Component)]
    service = {c.prop(V.CRYPTO_PATH): c for c in items if c.prop(V.CRYPTO_STORE) == "service"}
    assert set(service) == {"/etc/mosquitto/certs/broker.crt", "/etc/mosquitto/certs/broker.key"}
    out = _openssl((planted / "etc/mosquitto/certs/broker.crt").read_bytes(), "-fingerprint", "-sha256")
    cert = service["/etc/mosquitto/certs/broker.crt"]
    assert cert.prop(V.CRYPTO_FINGERPRINT_SHA256) == re.search(r"=([0-9A-F:]+)", out).group(1).replace(":", "").lower()
    assert cert.prop(V.CRYPTO_CURVE) == "prime256v1" and cert.prop(V.CRYPTO_KEY_SIZE) == "256"
    assert cert.prop(V.CRYPTO_REFERENCED_BY) == "/etc/mosquitto/mosquitto.conf"
    assert service["/etc/mosquitto/certs/broker.key"].prop(V.CRYPTO_MATERIAL_TYPE) == "private-key"


def test_sshd_config_first_value_wins_and_match_blocks_are_left_out():
    values, includes = parse_sshd_config(
        "Include /etc/ssh/sshd_config.d/*.conf\n#PermitRootLogin yes\nPermitRootLogin no\nPermitRootLogin yes\n"
        "PasswordAuthentication=no\nMatch User anoncvs\n\tPasswordAuthentication yes\n")
    assert includes == ["/etc/ssh/sshd_config.d/*.conf"]
    assert values["permitrootlogin"] == "no" and values["passwordauthentication"] == "no"


@needs_keygen
def test_authorized_keys_parser_against_ssh_keygen(tmp_path):
    _keygen(tmp_path / "k", "ed25519")
    pub = (tmp_path / "k.pub").read_text().strip()
    fp = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(tmp_path / "k.pub")], capture_output=True,
                        text=True, check=True).stdout.split()[1]
    keys = parse_authorized_keys(f'command="echo ssh-rsa x",no-pty {pub}\n\n# c\nnot a key\n{pub}\n')
    assert [k.fingerprint for k in keys] == [fp, fp]
    assert keys[0].options == 'command="echo ssh-rsa x",no-pty'
    assert parse_public_key(pub).bits == 256


# --- CycloneDX 1.6 cryptoProperties --------------------------------------------------------------


def _document(components: List[dict]) -> dict:
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
            "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79", "components": components}


def test_crypto_properties_validate_against_the_1_6_schema(planted):
    if validate.unavailable("1.6"):
        pytest.skip(validate.unavailable("1.6"))
    items = [c for c in collect_linux(ScanContext(root=planted)) if isinstance(c, Component)]
    if STORE.is_dir():
        items += [c for c in collect_linux(ScanContext()) if isinstance(c, Component)]
    comps = []
    seen = set()
    for c in items:
        if c.ref in seen or c.kind.value == "library":  # a crypto library is a plain library component
            continue
        seen.add(c.ref)
        props = crypto_properties(c)
        assert props is not None, c.name
        comps.append({"type": "cryptographic-asset", "name": c.name, "bom-ref": c.ref, "cryptoProperties": props})
    assert {d["cryptoProperties"]["assetType"] for d in comps} == {"certificate", "related-crypto-material",
                                                                     "algorithm"}
    assert validate.errors(_document(comps)) == []
    refs = {d["bom-ref"] for d in comps}
    for d in comps:  # every reference names a component of the document
        cert = d["cryptoProperties"].get("certificateProperties", {})
        for key in ("signatureAlgorithmRef", "subjectPublicKeyRef"):
            assert key not in cert or cert[key] in refs
    cert = next(d for d in comps if d["cryptoProperties"]["assetType"] == "certificate")
    assert set(cert["cryptoProperties"]["certificateProperties"]) >= {
        "subjectName", "issuerName", "notValidBefore", "notValidAfter", "signatureAlgorithmRef", "certificateFormat"}
    json.dumps(comps)


def test_crypto_properties_is_none_for_other_components():
    from cbom.model import Category, Kind
    assert crypto_properties(Component(category=Category.SOFTWARE, kind=Kind.LIBRARY, name="x")) is None


def test_crypto_properties_in_the_written_document_validate_and_survive_reading_back(planted, tmp_path):
    """What the lead's hook will do: cbom's own document, each crypto component given its
    cryptoProperties; valid 1.6, and the properties read back give the same object."""
    from cbom import cyclonedx
    from cbom.model import Host, Scan

    if validate.unavailable("1.6"):
        pytest.skip(validate.unavailable("1.6"))
    comps = {c.ref: c for c in collect_linux(ScanContext(root=planted)) if isinstance(c, Component)
             and c.kind.value == "cryptographic-asset"}
    scan = Scan(id="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79", started=datetime.now(timezone.utc),
                tool_version="test", host=Host(name="planted"), components=tuple(comps.values()))
    doc = cyclonedx.to_dict(scan, "1.6")
    for d in doc["components"]:
        d["cryptoProperties"] = crypto_properties(comps[d["bom-ref"]])
    assert validate.errors(doc) == []
    path = tmp_path / "cbom.cdx.json"
    path.write_text(cyclonedx.dumps(doc), encoding="utf-8")
    back = {c.ref: c for c in cyclonedx.load(str(path)).components}
    assert {ref: crypto_properties(c) for ref, c in back.items()} == {ref: crypto_properties(c)
                                                                      for ref, c in comps.items()}


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command")
def test_the_openssl_library_version_equals_openssl_version(live_items):
    out = subprocess.run(["openssl", "version"], capture_output=True, text=True, check=True).stdout
    # "OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.0.19 27 Jan 2026)": the library's is the last.
    library = re.findall(r"OpenSSL (\d+\.\d+\.\d+[a-z]?)", out)[-1]
    libs = [c for c in live_items if isinstance(c, Component) and c.kind.value == "library" and c.name == "OpenSSL"]
    assert library in {c.version for c in libs}


@pytest.mark.skipif(not shutil.which("dpkg-query"), reason="the truth is dpkg's record of each library's package")
def test_every_crypto_library_version_equals_its_package(live_items):
    """GnuTLS, Libgcrypt, NSS, OpenSSL: the version read from the library equals the upstream part of
    the version dpkg installed the file with (libgnutls30 3.7.9-2+deb12u6 -> 3.7.9)."""
    libs = [c for c in live_items if isinstance(c, Component) and c.kind.value == "library"]
    assert {"OpenSSL", "GnuTLS", "Libgcrypt"} <= {c.name for c in libs}  # apt itself links the first three
    for lib in libs:
        path = lib.prop(V.CRYPTO_PATH)
        owner = subprocess.run(["dpkg-query", "-S", os.path.realpath(path)], capture_output=True, text=True)
        if owner.returncode:  # merged /usr: dpkg knows the file by its /lib path
            owner = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True)
        if owner.returncode:
            continue  # not a packaged file (built by hand): no truth to compare with
        package = owner.stdout.split(":")[0] + (":" + owner.stdout.split(":")[1] if owner.stdout.count(":") > 1 else "")
        version = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package.strip()], capture_output=True,
                                 text=True).stdout
        upstream = re.sub(r"^\d+:", "", version).split("-")[0].split("+")[0]
        assert lib.version == upstream, (lib.name, path, package, version)


def test_cpu_crypto_features_from_cpuinfo_text():
    from collectors.crypto import cpu_crypto_features

    # A subset of the flags line of this machine's /proc/cpuinfo (Intel Xeon, Linux 6.x), in its order.
    text = ("processor\t: 0\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep pclmulqdq ssse3 fma cx16 "
            "sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm bmi1 avx2 smep bmi2 rdseed "
            "adx smap clflushopt clwb sha_ni xsaveopt vaes vpclmulqdq\n")
    assert cpu_crypto_features(text) == ["aes", "vaes", "pclmulqdq", "vpclmulqdq", "sha_ni", "rdrand", "rdseed"]
    # Hand-made arm64 "Features" lines: one without the ARMv8 crypto extensions (Cortex-A72 of a
    # Raspberry Pi 4 lacks them), one with them.
    assert cpu_crypto_features("Features\t: fp asimd evtstrm crc32 cpuid\n") == []
    assert cpu_crypto_features("Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics\n") == [
        "aes", "pmull", "sha1", "sha2"]


def _gpg_keys(path: str) -> List[tuple]:
    """(fingerprint, bits, created, expires) of each primary key, as `gpg --show-keys` lists them."""
    out = subprocess.run(["gpg", "--show-keys", "--with-colons", path], capture_output=True, text=True).stdout
    keys, pending = [], None
    for line in out.splitlines():
        f = line.split(":")
        if f[0] == "pub":
            pending = f
        elif f[0] == "fpr" and pending is not None:
            keys.append((f[9], int(pending[2]), int(pending[5]), int(pending[6]) if pending[6] else None))
            pending = None
    return keys


@pytest.mark.skipif(not shutil.which("gpg") or not Path("/etc/apt").is_dir(), reason="needs gpg and apt keyrings")
def test_package_signing_keys_equal_gpg_show_keys(live_items):
    from collectors.crypto import signed_by_paths
    from collectors.crypto._pgp import parse_keyring

    trusted = sorted(str(p) for p in Path("/etc/apt/trusted.gpg.d").glob("*") if p.suffix in (".gpg", ".asc"))
    trusted += [p for p in ["/etc/apt/trusted.gpg"] if Path(p).is_file()]
    for src in [Path("/etc/apt/sources.list")] + sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        if src.is_file():
            trusted += [p for p in signed_by_paths(src.read_text()) if Path(p).is_file()]
    assert trusted
    expected = set()
    for path in trusted:
        truth = _gpg_keys(path)
        mine = [(k.fingerprint, k.bits, int(k.created.timestamp()), int(k.expires.timestamp()) if k.expires else None)
                for k in parse_keyring(Path(path).read_bytes())]
        assert mine == truth, path
        expected |= {t[0] for t in truth}
    found = {c.prop(V.CRYPTO_FINGERPRINT) for c in live_items
             if isinstance(c, Component) and c.prop(V.CRYPTO_STORE) == "package-signing"}
    assert found == expected


def test_short_keys_and_certificates_close_to_expiry_are_findings(planted):
    items = list(collect_linux(ScanContext(root=planted)))
    findings = [f for f in items if isinstance(f, Finding)]
    by_ref = {c.ref: c for c in items if isinstance(c, Component)}
    weak = {by_ref[f.refs[0]].name for f in findings if f.id == "CBOM-CERT-WEAK-KEY"}
    out = _openssl((planted / "usr/local/share/ca-certificates/old-plc-ca.crt").read_bytes(), "-text")
    assert "Public-Key: (1024 bit)" in out and weak == {"old-plc-ca"}
    # -days 30 (broker) and -days 1 (hmi): both within the 30-day window, per `openssl x509 -checkend`.
    soon = {by_ref[f.refs[0]].name for f in findings if f.id == "CBOM-CERT-EXPIRING"}
    for name, path in (("broker.plant.example", "etc/mosquitto/certs/broker.crt"),
                       ("plant-hmi.example", "usr/local/share/ca-certificates/hmi.crt")):
        ends = subprocess.run(["openssl", "x509", "-noout", "-checkend", str(30 * 86400)],
                              input=(planted / path).read_bytes(), capture_output=True).returncode != 0
        assert ends and name in soon
