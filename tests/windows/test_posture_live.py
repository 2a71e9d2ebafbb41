"""The live (winreg) path of the Windows posture and certificate collectors, under wine with
Windows' own CPython 3.13 of this tier: real recorded registry exports are imported into a fresh wine
registry and read back live (collectors/posture/_windows.py, collectors/crypto/_windows.py)."""
from __future__ import annotations

import shutil

import pytest

from conftest import REPO
from wine_fixtures import bundle, prefix, win_pythons, win_wheelhouse  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow
FIX = REPO / "tests" / "fixtures" / "posture"

LIVE_SCRIPT = r'''
import sys
sys.path.insert(0, sys.argv[1])
from cbom import runner
from cbom.collector import ScanContext
from cbom.model import Platform
import collectors
ctx = ScanContext(platform=Platform.WINDOWS, admin=True)
chosen = [c for c in collectors.BUILTIN if c.name in ("crypto.windows", "posture.startup", "posture.settings")]
scan = runner.scan(chosen, ctx, host_name="wine")
for c in scan.components:
    print("COMP", c.name, c.prop("cbom:crypto:fingerprint-sha256"), c.prop("cbom:startup:command"), sep="\t")
for k, v in scan.host.properties:
    print("FACT", k, v, sep="\t")
for r in scan.runs:
    print("RUN", r.name, r.status.value, sep="\t")
'''


def test_live_registry_reading_equals_the_recording_under_wine(tmp_path, win_pythons):  # noqa: F811
    """The recorded exports imported into a fresh wine registry are read back live through winreg
    (the live code path of a Windows scan) into the same certificate, firewall state and Run entry."""
    import os
    import subprocess

    env = dict(os.environ, WINEPREFIX=str(tmp_path / "prefix"), WINEDEBUG="-all", WINEDLLOVERRIDES="mscoree,mshtml=",
               WINEARCH="win64", PYTHONDONTWRITEBYTECODE="1")

    def wine(*argv: str, timeout: int = 300, setup: bool = True) -> str:
        # Pipes on every std handle: wine 8.0 programs die when one is a regular file (notes §1, W1).
        # A preparation step is tried twice: wine itself, not cbom, has failed once on a loaded machine.
        for _attempt in range(2 if setup else 1):
            proc = subprocess.run(["wine", *argv], env=env, stdin=subprocess.PIPE, capture_output=True,
                                  timeout=timeout)
            if proc.returncode == 0:
                break
        assert proc.returncode == 0, f"wine {argv[0]}: " + proc.stderr.decode(errors="replace")[-1000:]
        return proc.stdout.decode("utf-8", "replace")

    try:
        boot = subprocess.run(["wineboot", "-i"], env=env, capture_output=True, timeout=300)
        assert boot.returncode == 0, boot.stderr.decode(errors="replace")[-1000:]
        for src in ("windows-sec505-root-cert/SystemCertificates-ROOT.reg", "windows-glpi-10-firewall/DomainProfile.reg",
                    "windows-glpi-10-firewall/PublicProfile.reg", "windows-glpi-10-firewall/StandardProfile.reg"):
            shutil.copy(FIX / src, tmp_path / "import.reg")
            wine("reg", "import", "Z:" + str(tmp_path / "import.reg").replace("/", "\\"))
        wine("reg", "add", r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run", "/v", "CbomProbe", "/d",
             r"C:\probe\probe.exe /quiet", "/f")
        (tmp_path / "live.py").write_text(LIVE_SCRIPT, encoding="utf-8")
        repo = "Z:" + str(REPO).replace("/", "\\")
        out = wine(str(win_pythons["3.13"]), "Z:" + str(tmp_path / "live.py").replace("/", "\\"), repo, timeout=600,
                   setup=False)
    finally:
        subprocess.run(["wineserver", "-k"], env=env, capture_output=True, timeout=60)
    rows = [line.rstrip("\r").split("\t") for line in out.splitlines()]
    comps = {r[1]: r[2:] for r in rows if r[0] == "COMP"}
    facts = {r[1]: r[2] for r in rows if r[0] == "FACT"}
    # openssl's SHA-256 of the recorded blob's certificate (test_crypto_windows), here read live.
    assert comps["Belgacom E-Trust Primary CA"][0] == \
        "d0bc49e4a97f4d9f0da357da61a18348826e35b8820592e480eff2cd389aa6e4"
    assert comps["CbomProbe"][1] == r"C:\probe\probe.exe /quiet"
    assert facts["cbom:posture:firewall"] == "Windows Firewall Domain: on; Public: on; Private: on"
    assert {r[1]: r[2] for r in rows if r[0] == "RUN"}["crypto.windows"] == "ok"


