"""The os collector on Windows: parsers fed real recordings, and the collect() flow replayed."""
from __future__ import annotations

from pathlib import Path
from typing import Dict

import pytest

from cbom import cyclonedx, runner, validate
from cbom.collector import ScanContext
from cbom.host import RecordedHost
from cbom.recording import Recording
from cbom.model import Category, Component, Gap, HostFact, Kind, Platform, Status
from collectors._text import decode_recorded
from collectors.osinfo import OsWindows as OsCollector
from collectors.osinfo import _windows as w

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "os"


def text_of(rel: str) -> str:
    return decode_recorded((FIX / rel).read_bytes())


# (file, caption, version, build, service pack, edition, arch, hostname, owner, install date,
#  hotfix count, some KB ids, cpe)
SYSTEMINFO = [
    ("wesng-10-1809-precision-5530/systeminfo.txt", "Microsoft Windows 10 Pro", "10.0.17763", "17763", "",
     "Pro", "x64", "DESKTOP-LOQ9L09", "Operator", "2019-03-01T05:05:05", 5, ("KB4486553", "KB4482887"),
     "cpe:2.3:o:microsoft:windows_10_1809:10.0.17763:*:*:*:*:*:x64:*"),
    ("wesng-10-1809-zh-cn/systeminfo.txt", "Microsoft Windows 10 企业版 LTSC", "10.0.17763", "17763", "",
     "企业版 LTSC", "x64", "DESKTOP-0CQH3P2", "User", "2019-01-24T09:46:29", 1, ("KB4464455",),
     "cpe:2.3:o:microsoft:windows_10_1809:10.0.17763:*:*:*:*:*:x64:*"),
    ("wesng-10-22h2-optiplex-sx280/systeminfo.txt", "Microsoft Windows 10 Enterprise", "10.0.19045", "19045", "",
     "Enterprise", "x64", "DESKTOP-92B51CV", "User", "1999-01-01T13:00:00", 1, ("KB5022502",),
     "cpe:2.3:o:microsoft:windows_10_22h2:10.0.19045:*:*:*:*:*:x64:*"),
    ("wesng-11-24h2-ltsc/systeminfo.txt", "Microsoft Windows 11 Enterprise LTSC", "10.0.26100", "26100", "",
     "Enterprise LTSC", "x64", "WINXI24H2LTSC", "User", "2024-05-24T03:20:28", 3, ("KB5037589", "KB5039449"),
     "cpe:2.3:o:microsoft:windows_11_24h2:10.0.26100:*:*:*:*:*:x64:*"),
    ("wesng-2016-ms-7a70/systeminfo.txt", "Microsoft Windows Server 2016 Datacenter", "10.0.14393", "14393", "",
     "Datacenter", "x64", "MYSERVER", "Windows User", "2018-03-03T03:50:28", 5, ("KB4049065", "KB4483229"),
     "cpe:2.3:o:microsoft:windows_server_2016:10.0.14393:*:*:*:*:*:x64:*"),
    ("wesng-2022/systeminfo.txt", "Microsoft Windows Server 2022 Standard", "10.0.20348", "20348", "",
     "Standard", "x64", "WIN-RIBN7SM07BK", "Windows User", "2021-10-01T16:15:34", 3, ("KB5004330", "KB5005552"),
     "cpe:2.3:o:microsoft:windows_server_2022:10.0.20348:*:*:*:*:*:x64:*"),
    ("wesng-2008r2-sp1-x64/systeminfo.txt", "Microsoft Windows Server 2008 R2 Standard", "6.1.7601", "7601",
     "Service Pack 1", "Standard", "x64", "SRV2K8R2SP1X64", "Windows User", "2014-04-25T20:13:44", 2,
     ("KB958488", "KB976902"), "cpe:2.3:o:microsoft:windows_server_2008:r2:sp1:*:*:*:*:x64:*"),
    ("wesng-2003r2-sp2-x86/systeminfo.txt", "Microsoft(R) Windows(R) Server 2003, Standard Edition", "5.2.3790",
     "3790", "Service Pack 2", "Standard Edition", "x86", "SRV2K3R2SP2X86", "User", "2014-04-25T11:19:12", 68,
     ("Q147222", "KB2742604", "KB2510531-IE8"), "cpe:2.3:o:microsoft:windows_server_2003:-:sp2:*:*:*:*:x86:*"),
    ("wesng-7-sp1-x64-b/systeminfo.txt", "Microsoft Windows 7 Enterprise", "6.1.7601", "7601", "Service Pack 1",
     "Enterprise", "x64", "WIN7SP1X64", "User", "2014-04-25T15:34:47", 245, ("KB2849697",),
     "cpe:2.3:o:microsoft:windows_7:-:sp1:*:*:*:*:x64:*"),
    ("wesng-7-sp1-x64-fr/systeminfo-cmd.txt", "Microsoft Windows 7 Entreprise N", "6.1.7601", "7601",
     "Service Pack 1", "Entreprise N", "x64", "WIN-IDKKFN87EL8", "Utilisateur Windows", "2019-04-29T18:52:20",
     73, ("KB2491683", "KB4493472"), "cpe:2.3:o:microsoft:windows_7:-:sp1:*:*:*:*:x64:*"),
    ("wesng-7-sp1-x64-fr/systeminfo-powershell.txt", "Microsoft Windows 7 Entreprise N", "6.1.7601", "7601",
     "Service Pack 1", "Entreprise N", "x64", "WIN-IDKKFN87EL8", "Utilisateur Windows", "2019-04-29T18:52:20",
     93, ("KB2491683", "KB4493472"), "cpe:2.3:o:microsoft:windows_7:-:sp1:*:*:*:*:x64:*"),
    ("wesng-xp-sp2-x86/systeminfo.txt", "Microsoft Windows XP Professional", "5.1.2600", "2600", "Service Pack 2",
     "Professional", "x86", "WINXPSP2", "User", "2015-12-24T10:07:25", 1, ("Q147222",),
     "cpe:2.3:o:microsoft:windows_xp:-:sp2:*:*:*:*:x86:*"),
    ("wesng-xp-sp3-x86/systeminfo.txt", "Microsoft Windows XP Professional", "5.1.2600", "2600", "Service Pack 3",
     "Professional", "x86", "WINXPSP3", "User", "2014-04-23T20:37:21", 93, ("Q147222", "KB2378111_WM9"),
     "cpe:2.3:o:microsoft:windows_xp:-:sp3:*:*:*:*:x86:*"),
    ("wesng-xp-sp2-x64/systeminfo.txt", "Microsoft(R) Windows(R) XP Professional x64 Edition", "5.2.3790", "3790",
     "Service Pack 2", "Professional x64 Edition", "x64", "USER-8CEF73C787", "User", "2019-03-21T01:35:10", 84,
     ("Q147222", "KB929399"), "cpe:2.3:o:microsoft:windows_xp:-:sp2:*:*:*:*:x64:*"),
    ("jc-windows-10-vmware/systeminfo.txt", "Microsoft Windows 10 Enterprise", "10.0.19042", "19042", "",
     "Enterprise", "x64", "DESKTOP-WIN01", "User", "2021-02-16T11:20:27", 6, ("KB4578968", "KB4594440"),
     "cpe:2.3:o:microsoft:windows_10_20h2:10.0.19042:*:*:*:*:*:x64:*"),
    ("jc-windows-10-precision-5530-hyperv/systeminfo.txt", "Microsoft Windows 10 Enterprise", "10.0.17134", "17134",
     "", "Enterprise", "x64", "TESTLAPTOP", "Test, Inc.", "2019-03-26T15:51:30", 11, ("KB2693643", "KB4534293"),
     "cpe:2.3:o:microsoft:windows_10_1803:10.0.17134:*:*:*:*:*:x64:*"),
    ("jc-windows-7-11111aa/systeminfo.txt", "Microsoft Windows 7 Professional", "6.1.7601", "7601", "Service Pack 1",
     "Professional", "x64", "TEST", "jdoe", "2015-01-01T12:00:00", 245, ("KB2849697",),
     "cpe:2.3:o:microsoft:windows_7:-:sp1:*:*:*:*:x64:*"),
]


@pytest.mark.parametrize("case", SYSTEMINFO, ids=[c[0] for c in SYSTEMINFO])
def test_systeminfo_recordings(case):
    (rel, caption, version, build, sp, edition, arch, host, owner, installed, count, kbs, cpe) = case
    info = w.parse_systeminfo(text_of(rel))
    assert info is not None
    assert (info.caption, info.version, info.build, info.service_pack) == (caption, version, build, sp)
    assert (info.arch, info.hostname, info.owner, info.install_date) == (arch, host, owner, installed)
    assert w.edition_of(info.caption) == edition
    assert len(info.hotfixes) == count
    ids = [h.kb for h in info.hotfixes]
    assert all(kb in ids for kb in kbs)
    assert all(kb.startswith(("KB", "Q")) for kb in ids)
    assert w.windows_cpe(info) == cpe
    comp = w.component(info)
    assert comp.cpe == cpe and comp.version == version and comp.name == "windows"
    assert len(comp.props("cbom:hotfix")) == count


def test_systeminfo_details():
    info = w.parse_systeminfo(text_of("wesng-10-1809-precision-5530/systeminfo.txt"))
    assert info.boot_time == "2019-03-07T17:06:11"
    assert info.timezone == "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"
    assert info.locale == "en-us"
    assert info.manufacturer == "Microsoft Corporation"
    assert info.organization == ""  # "N/A"
    assert info.server is False
    zh = w.parse_systeminfo(text_of("wesng-10-1809-zh-cn/systeminfo.txt"))
    assert zh.locale == "zh-cn" and zh.timezone.startswith("(UTC+01:00) 阿姆斯特丹")
    fr = w.parse_systeminfo(text_of("wesng-7-sp1-x64-fr/systeminfo-cmd.txt"))
    assert fr.locale == "fr" and fr.boot_time == "2019-04-29T18:56:01"
    us = w.parse_systeminfo(text_of("jc-windows-10-precision-5530-hyperv/systeminfo.txt"))
    assert us.boot_time == "2021-03-30T06:13:59" and us.organization == "Test, Inc."
    srv = w.parse_systeminfo(text_of("wesng-2016-ms-7a70/systeminfo.txt"))
    assert srv.server is True
    # XP and 2003 print an uptime instead of a boot time: not a date, left out.
    assert w.parse_systeminfo(text_of("wesng-xp-sp2-x86/systeminfo.txt")).boot_time == ""


@pytest.mark.parametrize("rel, declared, listed", [
    ("jc-windows-7-11111aa/systeminfo.txt", 302, 245),  # ends "[246]"
    ("wesng-7-sp1-x64-b/systeminfo.txt", 271, 245),
    ("wesng-2003r2-sp2-x86/systeminfo.txt", 352, 68),  # ends "[240]: KB2862" (cut mid-id); "File 1" entries
    ("wesng-xp-sp2-x64/systeminfo.txt", 300, 84),
])
def test_systeminfo_truncated_hotfix_list(rel, declared, listed):
    info = w.parse_systeminfo(text_of(rel))
    assert info.hotfixes_truncated and info.hotfixes_declared == declared
    assert len(info.hotfixes) == listed
    assert "KB2862" not in [h.kb for h in info.hotfixes]  # the cut-off last line is dropped


def test_systeminfo_complete_list_not_truncated():
    info = w.parse_systeminfo(text_of("wesng-7-sp1-x64-fr/systeminfo-powershell.txt"))
    assert not info.hotfixes_truncated and info.hotfixes_declared == 93 == len(info.hotfixes)


# (file, rows, distinct KBs, first hotfix value, a KB id)
QFE = [
    ("wesng-10-1809-precision-5530/wmic-qfe.txt", 5, 5, "KB4486553 2019-03-07", "KB4482887"),
    ("wesng-7-sp1-x64-b/wmic-qfe.txt", 271, 271, "KB2849697 2015-05-22", "KB2670838"),
    ("wesng-xp-sp2-x86/wmic-qfe.txt", 1, 1, "Q147222", "Q147222"),  # ANSI banner before UTF-16
    ("wesng-xp-sp2-x64/wmic-qfe.txt", 300, 156, "KB2115168 2019-03-21", "KB2229593"),  # banner + "File 1"
    ("wesng-xp-sp3-x86/wmic-qfe.txt", 262, 135, "KB2115168 2016-12-31", "KB2862152"),  # "File 1" quirk
]


@pytest.mark.parametrize("rel, rows, distinct, first, kb", QFE, ids=[q[0] for q in QFE])
def test_wmic_qfe_recordings(rel, rows, distinct, first, kb):
    records = w.parse_wmic_table(text_of(rel))
    assert len(records) == rows
    fixes = w.hotfixes_from_records(records)
    assert len(fixes) == distinct
    assert fixes[0].value == first
    assert kb in [h.kb for h in fixes]


def test_qfe_and_systeminfo_agree():
    si = w.parse_systeminfo(text_of("wesng-10-1809-precision-5530/systeminfo.txt"))
    qfe = w.hotfixes_from_records(w.parse_wmic_table(text_of("wesng-10-1809-precision-5530/wmic-qfe.txt")))
    assert [h.kb for h in si.hotfixes] == [h.kb for h in qfe]


def test_wmi_qfe_list_xp_file1_quirk():
    records = w.parse_wmic_list(text_of("glpi-xp-ordi-de-goneri/Win32_QuickFixEngineering.wmi"))
    assert len(records) == 16
    assert records[0]["CSName"] == "ORDI-DE-GONÉRI"  # non-ASCII host name survives UTF-16
    fixes = w.hotfixes_from_records(records)
    assert [h.kb for h in fixes[:3]] == ["KB2079403", "KB2115168", "KB2121546"]


def test_wmi_operating_system_list():
    records = w.parse_wmic_list(text_of("glpi-7-lubianka/Win32_OperatingSystem.wmi"))
    assert len(records) == 1
    info = w.info_from_wmi(records[0])
    assert info.caption == "Microsoft Windows 7 Professionnel"
    assert (info.version, info.build, info.service_pack) == ("6.1.7600", "7600", "")
    assert info.arch == "x86"  # "32 bits"
    assert info.install_date == "2013-08-13T13:37:55Z"  # +120 min offset removed
    assert info.boot_time == "2013-08-22T18:42:18Z"
    assert (info.owner, info.hostname, info.locale, info.timezone) == ("guillaume", "LUBIANKA", "fr-FR", "UTC+02:00")
    assert info.server is False
    assert w.windows_cpe(info) == "cpe:2.3:o:microsoft:windows_7:-:-:*:*:*:*:x86:*"
    comp = w.component(info)
    assert comp.prop("cbom:edition") == "Professionnel"
    assert comp.supplier == "Microsoft Corporation"


def test_wmi_single_property_dump_is_not_an_os():
    records = w.parse_wmic_list(text_of("glpi-2008-vmw005777/Win32_OperatingSystem.wmi"))
    assert records == [{"SystemDrive": "C:"}]
    assert w.info_from_wmi(records[0]) is None


def test_powershell_sections_reuse_the_list_format():
    body = text_of("glpi-7-lubianka/Win32_OperatingSystem.wmi")
    sections = w.parse_sections("[os]\n" + body + "[cv]\nEditionID=Professional\nUBR=\nDisplayVersion=\n"
                                "[extra]\nTimeZoneKeyName=Romance Standard Time\nUICulture=fr-FR\nArch=x86\n")
    assert sections["os"][0] == w.parse_wmic_list(body)[0]
    info = w.info_from_sections(sections)
    assert info.hotfixes_known and info.hotfixes == ()
    assert (info.timezone, info.edition_id, info.arch) == ("Romance Standard Time", "Professional", "x86")


def test_wmi_datetime_and_qfe_dates():
    assert w.wmi_datetime("20190301050505.000000-300") == "2019-03-01T10:05:05Z"
    assert w.wmi_datetime("garbage") == ""
    assert w.qfe_date("3/7/2019") == "2019-03-07"
    assert w.qfe_date("20190307") == "2019-03-07"
    assert w.qfe_date("01cc4c0a2b3f1a00").startswith("2011-")  # FILETIME (XP-era installers)
    assert w.qfe_date("") == ""


def test_ubr_makes_the_full_build():
    info = w.WindowsInfo(caption="Microsoft Windows 10 Pro", version="10.0.19045", build="19045", ubr="3803",
                         arch="x64")
    comp = w.component(info)
    assert comp.version == "10.0.19045.3803" and comp.prop("cbom:build") == "19045.3803"
    assert comp.cpe == "cpe:2.3:o:microsoft:windows_10_22h2:10.0.19045.3803:*:*:*:*:*:x64:*"
    assert comp.prop("cbom:display-version") == "22H2"


@pytest.mark.parametrize("text", [
    "",
    "\x00\x01garbage\xff" * 20,
    "Host Name:                 PC\nOS Name:                   Microsoft Windows 10 Pro\n",
    "Host Name:                 PC\nOS Name:                   Microsoft Windows 10 Pro\nOS Version:     ",
    "<html>error</html>",
])
def test_garbled_systeminfo_is_none(text):
    assert w.parse_systeminfo(text) is None


def test_truncated_recordings_never_raise():
    for rel, *_ in SYSTEMINFO:
        data = (FIX / rel).read_bytes()
        for cut in (0, 1, 7, 100, 333, len(data) // 2):
            info = w.parse_systeminfo(decode_recorded(data[:cut]))
            assert info is None or info.version
    for rel, *_ in QFE:
        data = (FIX / rel).read_bytes()
        for cut in (1, 51, 333, len(data) // 3):
            w.hotfixes_from_records(w.parse_wmic_table(decode_recorded(data[:cut])))


# --- collect() replayed -------------------------------------------------------------------------


# The recorded names collect.bat gives these commands' outputs (cbom/host.py COMMANDS).
_RECORDED = {"systeminfo": "systeminfo.txt", "wmic os": "Win32_OperatingSystem.wmi", "wmic qfe": "wmic-qfe.txt",
             "powershell": "powershell.txt"}


def recorded(tmp_path: Path, outputs: Dict[str, bytes]) -> ScanContext:
    """A Windows scan context over a recorded folder holding `outputs` (command → bytes), the real backend."""
    for command, data in outputs.items():
        (tmp_path / _RECORDED[command]).write_bytes(data)
    return ScanContext(platform=Platform.WINDOWS, host=RecordedHost(Recording(str(tmp_path))), admin=False)


def _items(ctx):
    items = list(OsCollector().collect(ctx))
    comps = [i for i in items if isinstance(i, Component)]
    gaps = [i.reason for i in items if isinstance(i, Gap)]
    facts = [i for i in items if isinstance(i, HostFact)]
    return comps, gaps, facts


def test_collect_falls_back_to_systeminfo(tmp_path):
    ctx = recorded(tmp_path, {"systeminfo": (FIX / "wesng-10-1809-precision-5530/systeminfo.txt").read_bytes()})
    comps, gaps, facts = _items(ctx)
    assert ctx.host.used == ["systeminfo.txt"]  # PowerShell and wmic were not recorded
    assert gaps == []
    (comp,) = comps
    assert comp.category == Category.OPERATING_SYSTEM and comp.kind == Kind.OPERATING_SYSTEM
    assert comp.description == "Microsoft Windows 10 Pro"
    assert comp.props("cbom:hotfix") == ("KB4486553", "KB4470788", "KB4480056", "KB4487038", "KB4482887")
    assert comp.prop("cbom:display-version") == "1809"
    assert facts == [HostFact("cbom:os", "Microsoft Windows 10 Pro")]


def test_collect_oem_bytes_through_utf8_pipe(tmp_path):
    # A cp936 systeminfo read through _exec's UTF-8 decoding: the labels are lost, the values are not.
    ctx = recorded(tmp_path, {"systeminfo": (FIX / "wesng-10-1809-zh-cn/systeminfo.txt").read_bytes()})
    comps, gaps, _ = _items(ctx)
    assert gaps == []
    assert comps[0].version == "10.0.17763" and comps[0].props("cbom:hotfix") == ("KB4464455",)


def test_collect_truncated_systeminfo_list_is_a_gap(tmp_path):
    ctx = recorded(tmp_path, {"systeminfo": (FIX / "jc-windows-7-11111aa/systeminfo.txt").read_bytes()})
    comps, gaps, _ = _items(ctx)
    assert len(comps[0].props("cbom:hotfix")) == 245
    assert gaps == ["hotfix list incomplete: systeminfo announced 302 but cut its list short (245 KB ids read)"]


def test_collect_wmic_then_systeminfo_for_hotfixes(tmp_path):
    ctx = recorded(tmp_path, {"wmic os": (FIX / "glpi-7-lubianka/Win32_OperatingSystem.wmi").read_bytes()})
    comps, gaps, _ = _items(ctx)
    assert comps[0].version == "6.1.7600" and comps[0].prop("cbom:hostname") == "LUBIANKA"
    assert len(gaps) == 1 and gaps[0].startswith("installed hotfixes unknown: ")


def test_collect_garbled_everything_is_a_gap(tmp_path):
    ctx = recorded(tmp_path, {"powershell": b"\xff\xfe\x00garbage", "wmic os": b"nonsense",
                         "systeminfo": (FIX / "wesng-2022/systeminfo.txt").read_bytes()[:70]})
    comps, gaps, facts = _items(ctx)
    assert comps == [] and facts == []
    assert len(gaps) == 1 and gaps[0].startswith("Windows version unknown: ")
    assert "systeminfo output not recognised" in gaps[0]


def test_windows_scan_validates_as_cyclonedx(tmp_path):
    ctx = recorded(tmp_path, {"systeminfo": (FIX / "wesng-7-sp1-x64-fr/systeminfo-powershell.txt").read_bytes(),
                         "wmic qfe": (FIX / "wesng-7-sp1-x64-b/wmic-qfe.txt").read_bytes()})
    scan = runner.scan([OsCollector], ctx, host_name="x")
    assert scan.runs[0].status == Status.OK, scan.runs[0].reason
    doc = cyclonedx.to_dict(scan)
    assert validate.errors(doc) == []
    (comp,) = doc["components"]
    assert comp["type"] == "operating-system" and comp["cpe"].startswith("cpe:2.3:o:microsoft:windows_7:")


def test_collect_systeminfo_cut_after_the_version_keeps_the_os(tmp_path):
    ctx = recorded(tmp_path, {"systeminfo": (FIX / "wesng-2022/systeminfo.txt").read_bytes()[:150]})
    comps, gaps, _ = _items(ctx)
    assert comps[0].version == "10.0.20348" and comps[0].props("cbom:hotfix") == ()
    assert len(gaps) == 1 and gaps[0].startswith("installed hotfixes unknown: ")
