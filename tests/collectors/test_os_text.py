"""collectors._text.decode_recorded on every encoding the Windows recordings use."""
from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from collectors._text import clean_text, decode_recorded

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "os"


@pytest.mark.parametrize("rel, starts, contains", [
    # ASCII, CRLF
    ("wesng-2022/systeminfo.txt", "\nHost Name:                 WIN-RIBN7SM07BK\n", "Windows Server 2022"),
    # ASCII plus 0xFF = the OEM (cp850) no-break space used as thousands separator
    ("wesng-10-1809-precision-5530/systeminfo.txt", "\nHost Name:", "32\xa0503 MB"),
    # cp850 French, LF only
    ("wesng-7-sp1-x64-fr/systeminfo-cmd.txt", "\nNom de l'hôte:", "Propriétaire enregistré:"),
    # UTF-16LE with BOM, as PowerShell's `>` writes it
    ("wesng-7-sp1-x64-fr/systeminfo-powershell.txt", "\nNom de l'hôte:", "Paramètres régionaux d'entrée:"),
    # cp936 / GBK
    ("wesng-10-1809-zh-cn/systeminfo.txt", "\n主机名:           DESKTOP-0CQH3P2\n", "OS 名称:          Microsoft Windows 10 企业版 LTSC"),
    # UTF-16LE with BOM (wmic > file)
    ("wesng-10-1809-precision-5530/wmic-qfe.txt", "Description      FixComments  HotFixID", "KB4482887"),
    # XP: ANSI banner, then UTF-16LE without BOM
    ("wesng-xp-sp2-x86/wmic-qfe.txt", "Please wait while WMIC is being installed.Caption  CSName", "Q147222"),
    ("wesng-xp-sp2-x64/wmic-qfe.txt", "Please wait while WMIC is being installed.Caption", "KB2115168"),
    # wmic /format:list, UTF-16LE with BOM, non-ASCII host name
    ("glpi-xp-ordi-de-goneri/Win32_QuickFixEngineering.wmi", "\n\nCaption=\nCSName=ORDI-DE-GONÉRI\n", "KB2079403"),
])
def test_decode_recordings(rel, starts, contains):
    text = decode_recorded((FIX / rel).read_bytes())
    assert text.startswith(starts)
    assert contains in text
    assert "\r" not in text and "\x00" not in text and "\ufffd" not in text


def test_decode_cp850_and_powershell_copies_agree():
    cmd = decode_recorded((FIX / "wesng-7-sp1-x64-fr/systeminfo-cmd.txt").read_bytes())
    ps = decode_recorded((FIX / "wesng-7-sp1-x64-fr/systeminfo-powershell.txt").read_bytes())
    # Same machine, same header fields (the captures differ later: memory and hotfix count).
    assert cmd.split("\n")[1:15] == ps.split("\n")[1:15]


@pytest.mark.parametrize("data, expected", [
    (b"", ""),
    (codecs.BOM_UTF8 + "héllo\r\n".encode(), "héllo\n"),
    (codecs.BOM_UTF16_BE + "hé\r\n".encode("utf-16-be"), "hé\n"),
    ("plain utf-8 ünïcode\n".encode(), "plain utf-8 ünïcode\n"),
    ("caf\u00e9 cr\u00e8me\r\r\n".encode("cp1252"), "café crème\n"),  # ANSI, wmic's "\r\r\n"
    ("Größe über\n".encode("cp850"), "Größe über\n"),
    ("x" .encode("utf-16-le"), "x"),
])
def test_decode_synthetic(data, expected):
    assert decode_recorded(data) == expected


def test_decode_never_raises():
    for rel in sorted(p.relative_to(FIX) for p in FIX.rglob("*") if p.is_file()):
        data = (FIX / rel).read_bytes()
        for cut in (1, 2, 3, 61, len(data) // 2 + 1):
            assert isinstance(decode_recorded(data[:cut]), str)
    assert isinstance(decode_recorded(bytes(range(256)) * 3), str)


def test_clean_text_repairs_utf16_read_as_utf8():
    mangled = ("\ufeffKey=Valu\u00e9\r\n".encode("utf-16-le")).decode("utf-8", "replace")
    assert clean_text(mangled) == "Key=Valu\ufffd\n"
