"""The `crypto.linux` collector: certificates, SSH keys and private-key files, as cryptographic assets.

Trust stores (Debian/Ubuntu /etc/ssl/certs and /usr/local/share/ca-certificates, Red Hat
/etc/pki), certificates and keys that server configurations name (nginx, Apache, PostgreSQL,
Mosquitto…), private-key folders (/etc/ssl/private, /etc/pki/tls/private), OpenSSH host keys and
server settings, every account's authorized_keys, package-signing OpenPGP keys (apt, rpm), the
OpenSSL library and the CPU's crypto instructions. A certificate is one component per
distinct DER (matched by SHA-256, as `openssl x509 -fingerprint -sha256`), however many files
and hash links hold it; the algorithms it names are components too, so the CycloneDX document's
`cryptoProperties` can refer to them.

A private key is never read beyond its first line: its presence, its PEM label and, for an SSH
key, the type and size of its public half (the .pub beside it) are all that is recorded.
"""
from __future__ import annotations

import os
import posixpath
import re
from dataclasses import replace
from datetime import datetime, timezone
from typing import Dict, Iterable, Iterator, List, Optional, Set, Tuple

from cbom import vocabulary as V
from cbom.collector import Collector, ScanContext
from cbom.model import Component, Finding, Gap, HostFact, Item, Platform, Severity

from ..hardware import _cpuid
from ..hardware._darwin import sysctl_cpu
from ..posture import unrecorded
from ..posture._accounts import parse_passwd
from . import _common, _darwin, _pgp, _ssh, _windows, _x509

__all__ = ["COLLECTORS", "CryptoLinux", "CryptoMacos", "CryptoWindows"]

# Where distributions keep trust anchors and bundles (update-ca-certificates(8), update-ca-trust(8)).
TRUST_DIRS = ("/etc/ssl/certs", "/usr/local/share/ca-certificates", "/etc/pki/ca-trust/source/anchors",
              "/etc/pki/ca-trust/extracted/pem", "/etc/pki/tls/certs", "/usr/share/pki/trust/anchors",
              "/etc/ca-certificates/trust-source/anchors")
# Anchors an administrator adds: the first two per Debian's and Red Hat's manuals, the rest SUSE/Arch.
LOCAL_DIRS = ("/usr/local/share/ca-certificates", "/etc/pki/ca-trust/source/anchors",
              "/etc/ca-certificates/trust-source/anchors")
KEY_DIRS = ("/etc/ssl/private", "/etc/pki/tls/private")
CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der", ".ca-bundle")
MAX_FILES = 5000  # a trust folder holding more is not a trust store; say so rather than read on
CERT_FILE_LIMIT = 8 << 20
# The longest private-key PEM header, "-----BEGIN ENCRYPTED PRIVATE KEY-----", and its newline:
# what is read of a file that may be a key. Nothing past it is ever requested.
KEY_HEAD = 38


class CryptoLinux(Collector):
    name = "crypto.linux"
    description = "certificates of the trust stores, SSH host and authorized keys, private-key files (never their content)"
    platforms = frozenset({Platform.LINUX})
    timeout = 30.0

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        return collect_linux(ctx)


class CryptoWindows(Collector):
    name = "crypto.windows"
    description = "certificates of the registry certificate stores (ROOT, CA, Disallowed, My…), CPU crypto instructions"
    platforms = frozenset({Platform.WINDOWS})
    timeout = 30.0

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        yield from _windows.collect_windows(ctx, self.name)
        yield from _windows.crypto_libraries(ctx)
        found, _why = _cpuid.read_cpuid(ctx)  # the hardware collector reports why it could not
        yield from _cpu_crypto(found.flags if found else ())


class CryptoMacos(Collector):
    name = "crypto.macos"
    description = "certificates of the system root store and the System keychain, CPU crypto instructions"
    platforms = frozenset({Platform.DARWIN})
    timeout = 60.0

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        yield from _darwin.collect(ctx, self.name)
        found = sysctl_cpu(ctx)
        yield from _cpu_crypto(found.flags if found else ())


COLLECTORS = (CryptoLinux, CryptoWindows, CryptoMacos)


def _now(ctx: ScanContext) -> datetime:
    """The time certificates are judged at: now (a recording is judged when it is read, too)."""
    return datetime.now(timezone.utc)


def _host_path(ctx: ScanContext, local: str) -> str:
    root = str(ctx.root).rstrip("/")
    return local[len(root):] or "/" if root and local.startswith(root + "/") else local


def _is_hash_link(name: str) -> bool:
    # c_rehash/openssl rehash names: 8 hex digits, ".", a digit (".r0" for CRLs).
    stem, _, n = name.partition(".")
    return len(stem) == 8 and all(c in "0123456789abcdef" for c in stem) and n.isdigit()


def _store_files(ctx: ScanContext, gaps: List[str]) -> List[Tuple[str, str]]:
    """(host path, resolved local path) of each distinct certificate file of the trust folders."""
    seen: Set[str] = set()
    out: List[Tuple[str, str]] = []
    for folder in TRUST_DIRS:
        try:
            names = ctx.listdir(folder)
        except FileNotFoundError:
            continue
        except NotADirectoryError:
            continue
        except OSError as exc:
            gaps.append(f"cannot list {folder}: {exc.strerror or exc}")
            continue
        # Named files first, hash links after: a link's target is then already known by its name.
        paths: List[str] = []
        for name in names:
            path = posixpath.join(folder, name)
            if ctx.is_dir(path) and folder in LOCAL_DIRS:
                try:  # update-ca-certificates reads one level of sub-folders
                    paths += [posixpath.join(path, n) for n in ctx.listdir(path)]
                except OSError:
                    pass
            else:
                paths.append(path)
        paths.sort(key=lambda p: (_is_hash_link(posixpath.basename(p)), p))
        if len(paths) > MAX_FILES:
            gaps.append(f"{folder}: {len(paths)} files, only the first {MAX_FILES} read")
            paths = paths[:MAX_FILES]
        for path in paths:
            base = posixpath.basename(path)
            if not (base.lower().endswith(CERT_SUFFIXES) or _is_hash_link(base) or base.endswith(".crt")):
                continue
            local = str(ctx.path(path))
            if local in seen:
                continue
            seen.add(local)
            out.append((path, local))
    return out


def _certificates(ctx: ScanContext, now: datetime, gaps: List[str]) -> Iterator[Item]:
    found: Dict[str, Tuple[_x509.Certificate, List[str]]] = {}
    for path, local in _store_files(ctx, gaps):
        head = _read_bytes(ctx, path, KEY_HEAD, gaps, head=True)
        if head is None:
            continue
        label = _ssh.private_key_label(head)
        if label:  # a key dropped in a certificate folder: note it, never read on
            yield _common.private_key_component(path, label, "key-file")
            continue
        data = _read_bytes(ctx, path, CERT_FILE_LIMIT, gaps)
        if data is None:
            continue
        ders, keys, bad = _x509.split_pem(data)
        del data
        for key_label in keys:  # a key block after a certificate (a combined .pem): never decoded
            yield _common.private_key_component(path, key_label, "key-file")
        if bad:
            gaps.append(f"{path}: {bad} PEM block(s) that do not decode")
        # The host path a link's target has (so /usr/local/share/... marks a local anchor).
        where = [path]
        target = _host_path(ctx, local)
        if target != path:
            where.append(target)
        for der in ders:
            try:
                cert = _x509.parse_der(der)
            except _x509.DerError as exc:
                gaps.append(f"{path}: a certificate cbom cannot parse ({exc})")
                continue
            entry = found.setdefault(cert.sha256, (cert, []))
            entry[1].extend(p for p in where if p not in entry[1])
    algorithms: _common.Algorithms = {}
    for cert, paths in found.values():
        local_anchor = any(p.startswith(d + "/") for p in paths for d in LOCAL_DIRS)
        store = "local-trust" if local_anchor else "system-trust"
        comp = _common.certificate_component(cert, paths, store, local_anchor)
        yield comp
        yield from _common.certificate_findings(cert, comp.ref, paths, now, local_anchor)
        _common.note_algorithms(cert, algorithms)
    yield from _common.algorithm_components(algorithms)


# Server configurations that name certificate and key files (glob, then the files it includes are
# not followed): web servers, the database, the MQTT broker common on plant networks, HAProxy.
SERVICE_CONFIGS = ("/etc/nginx/nginx.conf", "/etc/nginx/sites-enabled/*", "/etc/nginx/conf.d/*.conf",
                   "/etc/apache2/sites-enabled/*", "/etc/apache2/mods-enabled/ssl.conf", "/etc/httpd/conf.d/*.conf",
                   "/etc/postgresql/*/main/postgresql.conf", "/etc/mosquitto/mosquitto.conf",
                   "/etc/mosquitto/conf.d/*.conf", "/etc/haproxy/haproxy.cfg", "/etc/lighttpd/lighttpd.conf",
                   "/etc/lighttpd/conf-enabled/*.conf", "/etc/openvpn/*.conf", "/etc/openvpn/server/*.conf",
                   "/etc/ipsec.conf", "/etc/stunnel/*.conf", "/etc/vsftpd.conf", "/etc/postfix/main.cf",
                   "/etc/dovecot/conf.d/10-ssl.conf")
# An absolute path ending in a certificate or key suffix, outside comments; quotes and a leading
# "<" (dovecot's "ssl_cert = </etc/…") allowed.
_REFERENCE = re.compile(r"""^[^#;\n]*?[\s='"<](/[^\s'";,]+\.(?:pem|crt|cer|der|key|p12|pfx))\b""", re.M)


def service_references(text: str) -> List[str]:
    """Absolute certificate/key paths a server configuration names (commented lines skipped)."""
    out: List[str] = []
    for m in _REFERENCE.finditer(text):
        if m.group(1) not in out:
            out.append(m.group(1))
    return out


def _service_files(ctx: ScanContext, now: datetime, seen_certs: Set[str], gaps: List[str]) -> Iterator[Item]:
    refs: Dict[str, List[str]] = {}
    for pattern in SERVICE_CONFIGS:
        for conf in ctx.glob(pattern):
            text = _read_text(ctx, conf, gaps)
            for path in service_references(text or ""):
                refs.setdefault(path, []).append(conf)
    for path in sorted(refs):
        if not ctx.is_file(path):
            continue  # named but absent (Debian's commented-in snakeoil paths with ssl = off)
        by = [(V.CRYPTO_REFERENCED_BY, c) for c in refs[path]]
        try:
            label = _ssh.private_key_label(ctx.read_bytes(path, KEY_HEAD, head=True))
        except OSError as exc:
            gaps.append(f"cannot read {path} (named by {refs[path][0]}): {exc.strerror or exc}")
            continue
        if label:
            comp = _common.private_key_component(path, label, "service")
            yield replace(comp, properties=comp.properties + tuple(by))
            continue
        data = _read_bytes(ctx, path, CERT_FILE_LIMIT, gaps)
        if data is None:
            continue
        ders, keys, _bad = _x509.split_pem(data)
        for key_label in keys:
            comp = _common.private_key_component(path, key_label, "service")
            yield replace(comp, properties=comp.properties + tuple(by))
        for der in ders:
            try:
                cert = _x509.parse_der(der)
            except _x509.DerError as exc:
                gaps.append(f"{path}: a certificate cbom cannot parse ({exc})")
                continue
            if cert.sha256 in seen_certs:
                continue  # a trust-store certificate a service also names: listed once
            seen_certs.add(cert.sha256)
            comp = _common.certificate_component(cert, [path], "service", False)
            yield replace(comp, properties=comp.properties + tuple(by))
            yield from _common.certificate_findings(cert, comp.ref, [path], now, False)


APT_GLOBAL = ("/etc/apt/trusted.gpg", "/etc/apt/trusted.gpg.d/*.gpg", "/etc/apt/trusted.gpg.d/*.asc")
APT_SOURCES = ("/etc/apt/sources.list", "/etc/apt/sources.list.d/*.list", "/etc/apt/sources.list.d/*.sources")
RPM_KEYS = ("/etc/pki/rpm-gpg/*",)
# sources.list(5): "[signed-by=/path]" in one-line form, "Signed-By: /path" in deb822 form (an
# inline armoured key there is left out: it is not a file).
_SIGNED_BY = re.compile(r"(?:signed-by=|^Signed-By:[ \t]*)(/[^\s\],]+)", re.M | re.I)


def signed_by_paths(text: str) -> List[str]:
    """Keyring files a sources.list or .sources file restricts its repositories to."""
    out: List[str] = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for m in _SIGNED_BY.finditer(line):
            if m.group(1) not in out:
                out.append(m.group(1))
    return out


def _signing_keys(ctx: ScanContext, now: datetime, gaps: List[str]) -> Iterator[Item]:
    files: Dict[str, str] = {}  # keyring path -> trust scope
    for pattern in APT_GLOBAL + RPM_KEYS:
        for path in ctx.glob(pattern):
            files.setdefault(path, "all-repositories")
    for pattern in APT_SOURCES:
        for src in ctx.glob(pattern):
            for path in signed_by_paths(_read_text(ctx, src, gaps) or ""):
                files.setdefault(path, "signed-by")
    found: Dict[str, Tuple[_pgp.PgpKey, List[str], str]] = {}
    for path, scope in sorted(files.items()):
        if not ctx.is_file(path):
            continue
        data = _read_bytes(ctx, path, CERT_FILE_LIMIT, gaps)
        if data is None:
            continue
        try:
            keys = _pgp.parse_keyring(data)
        except (IndexError, ValueError) as exc:
            gaps.append(f"{path}: not an OpenPGP keyring cbom can read ({type(exc).__name__})")
            continue
        for key in keys:
            entry = found.setdefault(key.fingerprint, (key, [], scope))
            entry[1].append(path)
            if scope == "all-repositories" and entry[2] != scope:  # trusted everywhere wins
                found[key.fingerprint] = (key, entry[1], scope)
    for key, paths, scope in found.values():
        comp = _common.pgp_key_component(key, paths, scope)
        yield comp
        yield from _common.pgp_key_findings(key, comp.ref, paths, now)


def _private_keys(ctx: ScanContext, gaps: List[str]) -> Iterator[Item]:
    for folder in KEY_DIRS:
        try:
            names = ctx.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            gaps.append(f"cannot list {folder}: {exc.strerror or exc}")
            continue
        for name in names:
            path = posixpath.join(folder, name)
            if not ctx.is_file(path):
                continue
            try:
                label = _ssh.private_key_label(ctx.read_bytes(path, KEY_HEAD, head=True))
            except OSError as exc:
                gaps.append(f"cannot read the first line of {path}: {exc.strerror or exc}")
                label = ""
            yield _common.private_key_component(path, label, "key-file")


def _read_bytes(ctx: ScanContext, path: str, limit: int, gaps: List[str], head: bool = False) -> Optional[bytes]:
    """The first `limit` bytes of `path` (with `head`, only those: a file that may hold a key), or
    None with "cannot read PATH: why" in `gaps`."""
    try:
        return ctx.read_bytes(path, limit, head=head)
    except OSError as exc:
        gaps.append(f"cannot read {path}: {exc.strerror or exc}")
        return None


def _read_text(ctx: ScanContext, path: str, gaps: List[str]) -> Optional[str]:
    try:
        return ctx.read(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        gaps.append(f"cannot read {path}: {exc.strerror or exc}")
        return None


def _sshd_settings(ctx: ScanContext, gaps: List[str]) -> Tuple[Dict[str, str], bool]:
    """sshd's effective first values (Include files read in order), and whether a config exists."""
    values: Dict[str, str] = {}
    text = _read_text(ctx, "/etc/ssh/sshd_config", gaps)
    if text is None:
        return values, False
    pending = [("/etc/ssh/sshd_config", text)]
    seen = 0
    while pending and seen < 64:
        path, body = pending.pop(0)
        seen += 1
        got, includes = _ssh.parse_sshd_config(body)
        for k, v in got.items():
            values.setdefault(k, v)
        extra: List[Tuple[str, str]] = []
        for pattern in includes:
            full = pattern if pattern.startswith("/") else posixpath.join("/etc/ssh", pattern)
            for inc in sorted(ctx.glob(full)):
                inc_text = _read_text(ctx, inc, gaps)
                if inc_text is not None:
                    extra.append((inc, inc_text))
        pending = extra + pending  # an Include is read where it stands
    return values, True


def _ssh_items(ctx: ScanContext, gaps: List[str]) -> Iterator[Item]:
    weak: List[str] = []
    refs: List[str] = []
    for pub_path in sorted(ctx.glob("/etc/ssh/ssh_host_*_key.pub")):
        text = _read_text(ctx, pub_path, gaps)
        key = _ssh.parse_public_key(text or "")
        if key is None:
            gaps.append(f"{pub_path}: not an OpenSSH public key")
            continue
        comp = _common.ssh_key_component(key, "ssh-host", pub_path)
        yield comp
        if key.type == "ssh-dss" or (key.type == "ssh-rsa" and 0 < key.bits < _common.MIN_RSA):
            weak.append(f"{pub_path}: {key.type} {key.bits} bits")
            refs.append(comp.ref)
    for priv in sorted(ctx.glob("/etc/ssh/ssh_host_*_key")):
        public = None
        pub_text = _read_text(ctx, priv + ".pub", gaps)
        if pub_text:
            public = _ssh.parse_public_key(pub_text)
        try:
            label = _ssh.private_key_label(ctx.read_bytes(priv, KEY_HEAD, head=True))
        except OSError as exc:
            gaps.append(f"cannot read the first line of {priv}: {exc.strerror or exc}")
            label = ""
        yield _common.private_key_component(priv, label, "ssh-host", public)
    if weak:
        yield Finding(id="CBOM-SSH-WEAK-HOST-KEY", title="weak SSH host key type or size", severity=Severity.MEDIUM,
                      detail="DSA host keys are disabled by default since OpenSSH 7.0; RSA below 2048 bits is weak",
                      evidence=tuple(weak), refs=tuple(refs), collector=CryptoLinux.name)
    settings, present = _sshd_settings(ctx, gaps)
    if present:
        # Defaults of OpenSSH >= 7.0 (sshd_config(5)) when the file does not set them.
        root_login = settings.get("permitrootlogin", "prohibit-password").lower()
        password = settings.get("passwordauthentication", "yes").lower()
        yield HostFact(V.posture_fact("sshd-permit-root-login"), root_login)
        yield HostFact(V.posture_fact("sshd-password-authentication"), password)
        if root_login == "yes" and password == "yes":
            yield Finding(id="CBOM-SSH-ROOT-PASSWORD", title="SSH server lets root log on with a password",
                          severity=Severity.HIGH,
                          detail="sshd_config: PermitRootLogin yes and PasswordAuthentication yes",
                          evidence=("/etc/ssh/sshd_config",), collector=CryptoLinux.name)


def _authorized_keys(ctx: ScanContext, gaps: List[str]) -> Iterator[Item]:
    text = _read_text(ctx, "/etc/passwd", gaps) or ""
    homes: Dict[str, str] = {}
    for acct in parse_passwd(text):
        if acct.home and acct.home != "/" and acct.home not in homes.values() or acct.uid == 0:
            homes.setdefault(acct.name, acct.home)
    for account, home in sorted(homes.items()):
        for name in ("authorized_keys", "authorized_keys2"):
            path = posixpath.join(home, ".ssh", name)
            body = _read_text(ctx, path, gaps)
            if not body:
                continue
            for key in _ssh.parse_authorized_keys(body):
                yield _common.ssh_key_component(key, "ssh-authorized", path, account)


# /proc/cpuinfo flags that accelerate or feed cryptography (arch/x86/include/asm/cpufeatures.h;
# arm64 Features: aes, pmull, sha1, sha2, sha3, sha512).
CPU_CRYPTO_FLAGS = ("aes", "vaes", "pclmulqdq", "vpclmulqdq", "sha_ni", "rdrand", "rdseed", "gfni", "padlock",
                    "pmull", "sha1", "sha2", "sha3", "sha512", "sm3", "sm4", "rng")


def _cpu_crypto(flags: Iterable[str]) -> Iterator[HostFact]:
    have = set(flags)
    crypto = [f for f in CPU_CRYPTO_FLAGS if f in have]
    if crypto:
        yield HostFact(V.posture_fact("cpu-crypto"), " ".join(crypto))


def cpu_crypto_features(cpuinfo: str) -> List[str]:
    """The crypto flags of the first processor of a /proc/cpuinfo text, in CPU_CRYPTO_FLAGS order."""
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("flags", "Features"):
            have = set(value.split())
            return [f for f in CPU_CRYPTO_FLAGS if f in have]
    return []


# The cryptographic libraries every Linux program links, each found by its shared object and its
# version read from a text the library itself carries:
# - OpenSSL's libcrypto: "OpenSSL 3.0.19 27 Jan 2026", what `openssl version` prints (crypto/cversion.c);
# - GnuTLS: "Enabled GnuTLS 3.7.9 logging...", its debug-log greeting (lib/global.c, VERSION);
# - Libgcrypt: "This is Libgcrypt 1.10.1 - The GNU Crypto Library" (src/global.c, its copyright blurb);
# - NSS: "Version: NSS 3.87.1" (lib/nss/nssinit.c, the $Header/Version string NSS_VERSION).
_LIB_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib/arm-linux-gnueabihf",
             "/usr/lib/i386-linux-gnu", "/usr/lib64", "/usr/lib", "/lib")
CRYPTO_LIBRARIES: Tuple[Tuple[str, str, "re.Pattern[bytes]"], ...] = (
    ("OpenSSL", "libcrypto.so.*", re.compile(rb"OpenSSL (\d+\.\d+\.\d+[a-z]?)(?: [^\x00]{0,40})?\x00")),
    ("GnuTLS", "libgnutls.so.*", re.compile(rb"Enabled GnuTLS (\d+\.\d+\.\d+) logging")),
    ("Libgcrypt", "libgcrypt.so.*", re.compile(rb"This is Libgcrypt (\d+\.\d+\.\d+)")),
    ("NSS", "libnss3.so", re.compile(rb"Version: NSS (\d+\.\d+(?:\.\d+)*)")),
)


def _crypto_libraries(ctx: ScanContext, gaps: List[str]) -> Iterator[Item]:
    seen: Set[str] = set()
    for name, file_glob, version_text in CRYPTO_LIBRARIES:
        for folder in _LIB_DIRS:
            for path in ctx.glob(f"{folder}/{file_glob}"):
                local = os.path.realpath(ctx.path(path))  # libgnutls.so.30 -> libgnutls.so.30.34.3: one library
                if local in seen or not ctx.is_file(path):
                    continue
                seen.add(local)
                data = _read_bytes(ctx, path, 16 << 20, gaps)
                if data is None:
                    continue
                m = version_text.search(data)
                yield _common.library_component(name, m.group(1).decode("ascii") if m else "", path)


def collect_linux(ctx: ScanContext) -> Iterator[Item]:
    """Every cryptographic asset of a Linux machine (live, --root or recorded)."""
    missing = unrecorded(ctx, "certificate store or SSH configuration", *TRUST_DIRS[:1], "/etc/pki", "/etc/ssh")
    if missing:
        yield missing
        return
    gaps: List[str] = []
    now = _now(ctx)
    seen: Set[str] = set()
    for item in _certificates(ctx, now, gaps):
        if isinstance(item, Component) and item.prop(V.CRYPTO_ASSET_TYPE) == "certificate":
            seen.add(item.prop(V.CRYPTO_FINGERPRINT_SHA256))
        yield item
    yield from _service_files(ctx, now, seen, gaps)
    yield from _signing_keys(ctx, now, gaps)
    yield from _crypto_libraries(ctx, gaps)
    if ctx.live:
        try:
            flags = cpu_crypto_features(ctx.read("/proc/cpuinfo"))
        except OSError:
            flags = []
        yield from _cpu_crypto(flags)
    yield from _private_keys(ctx, gaps)
    yield from _ssh_items(ctx, gaps)
    yield from _authorized_keys(ctx, gaps)
    for why in gaps[:50]:
        yield Gap(why)
    if len(gaps) > 50:
        yield Gap(f"{len(gaps) - 50} more unreadable files")
