"""Windows registry certificate stores (collectors/crypto/_windows.py) on a real regedit export.

The fixture is the `HKLM\\SOFTWARE\\Microsoft\\SystemCertificates\\Root\\Certificates\\<SHA-1>` export
of the Belgacom E-Trust Primary CA (tests/fixtures/posture/SOURCES.md). Expected values come from
`openssl x509 -inform der` on the certificate property of that blob (run again below when openssl
is installed), and from the key name, which is the certificate's SHA-1 thumbprint.
"""
from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from cbom.decode import decode_recorded
from collectors._text import parse_reg_export
from collectors.crypto import _windows as W
from collectors.crypto import _x509

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "posture" / "windows-sec505-root-cert"


def _keys():
    keys, problems = parse_reg_export(decode_recorded((FIX / "SystemCertificates-ROOT.reg").read_bytes()))
    assert problems == []
    return keys


def test_blob_property_32_is_the_certificate():
    [sc] = W.store_certificates(_keys())
    assert (sc.store, sc.scope, sc.thumbprint, sc.problem) == ("Root", "machine",
                                                                "4EF2E6670AC9B5091FE06BE0E5483EAAD6BA32D9", "")
    cert = _x509.parse_der(sc.der)
    # openssl x509 -inform der -noout -subject -dates -serial -fingerprint -sha1/-sha256:
    assert cert.sha1 == "4ef2e6670ac9b5091fe06be0e5483eaad6ba32d9"
    assert cert.sha256 == "d0bc49e4a97f4d9f0da357da61a18348826e35b8820592e480eff2cd389aa6e4"
    assert cert.serial == "378767ac"
    assert cert.common_name == "Belgacom E-Trust Primary CA"
    assert cert.not_before.isoformat() == "1998-11-04T13:04:39+00:00"
    assert cert.not_after.isoformat() == "2010-01-21T13:04:39+00:00"
    assert (cert.signature_algorithm, cert.key_algorithm, cert.key_size) == ("sha1WithRSAEncryption", "RSA", 1024)
    assert cert.self_signed


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl not installed")
def test_der_of_the_blob_as_openssl_reads_it(tmp_path):
    [sc] = W.store_certificates(_keys())
    der = tmp_path / "c.der"
    der.write_bytes(sc.der)
    out = subprocess.run(["openssl", "x509", "-inform", "der", "-in", str(der), "-noout", "-fingerprint", "-sha256"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip().split("=", 1)[1].replace(":", "").lower() == _x509.parse_der(sc.der).sha256


def test_blob_properties_before_the_certificate_are_skipped():
    # The blob holds properties 4 (MD5, 16 bytes), 3 (SHA-1, 20), 20 (key id, 20), then 32 (653 bytes).
    blob = _keys()[0][1]["Blob"]
    assert isinstance(blob, bytes)
    ids, pos = [], 0
    while pos < len(blob):
        prop, _one, length = struct.unpack_from("<III", blob, pos)
        ids.append((prop, length))
        pos += 12 + length
    assert ids == [(4, 16), (3, 20), (20, 20), (32, 653)]
    assert len(W.blob_certificate(blob)) == 653


@pytest.mark.parametrize("cut", [0, 11, 12, 100, 756])
def test_a_cut_blob_is_an_error_never_a_wrong_certificate(cut):
    blob = _keys()[0][1]["Blob"]
    assert isinstance(blob, bytes)
    with pytest.raises(W.BlobError):
        W.blob_certificate(blob[:cut])


def test_a_key_without_a_binary_blob_is_reported():
    keys = [("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\CA\\Certificates\\00AA", {"Blob": "text"})]
    [sc] = W.store_certificates(keys)
    assert sc.problem == "no binary Blob value" and sc.der == b""


# Debian's wine package ships Windows DLLs (PE files with version resources) for its x86_64 prefix;
# the provider DLLs cbom versions on a live Windows are among them. pefile is the independent reader.
WINE_DLLS = Path("/usr/lib/x86_64-linux-gnu/wine/x86_64-windows")


@pytest.mark.skipif(not WINE_DLLS.is_dir(), reason="Debian's wine package (.ci/setup installs it) is not installed")
def test_dll_file_versions_equal_pefile():
    import pefile

    from collectors.crypto._windows import CRYPTO_DLLS, pe_file_version

    checked = 0
    for _name, dll in CRYPTO_DLLS:
        path = WINE_DLLS / dll
        if not path.is_file():
            continue
        pe = pefile.PE(str(path), fast_load=True)
        pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]])
        infos = getattr(pe, "VS_FIXEDFILEINFO", [])
        truth = ""
        if infos:
            ms, ls = infos[0].FileVersionMS, infos[0].FileVersionLS
            truth = f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"
        data = path.read_bytes()
        assert pe_file_version(data) == truth, dll
        checked += bool(truth)
        # Cut anywhere, a file never raises: it has a version or none.
        for cut in (0, 3, len(data) // 2):
            assert isinstance(pe_file_version(data[:cut]), str)
    assert checked >= 2
