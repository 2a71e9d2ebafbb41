"""Windows posture (collectors/posture/_windows.py) on real recordings of real Windows machines.

Every expected value below was read by eye from the recorded file named in the test
(tests/fixtures/posture/SOURCES.md gives each file's origin); none was copied from cbom's output.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cbom import cyclonedx, runner, validate
from cbom.collector import ScanContext
from cbom.decode import decode_recorded
from cbom.host import RecordedHost
from cbom.model import Category, Component, Platform, Severity, Status
from cbom.recording import Recording, describe
from collectors import BUILTIN
from collectors._text import parse_reg_export, parse_wmic_list
from collectors.posture import _windows as W

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "posture"


def _wmi(folder: str, cls: str):
    return parse_wmic_list(decode_recorded((FIX / folder / f"{cls}.wmi").read_bytes()))


def _reg(*files: Path):
    keys = []
    for f in files:
        got, problems = parse_reg_export(decode_recorded(f.read_bytes()))
        assert problems == [], (f, problems)
        keys += got
    return keys


# --- accounts ----------------------------------------------------------------------------------------


def test_standalone_windows_10_accounts():
    # 10-StandAlone-Win32_UserAccount.wmi: four local accounts of XPS-FUSIONINVEN; only teclib is
    # enabled (Disabled=FALSE), with PasswordRequired=FALSE; none has PasswordExpires=TRUE.
    accounts = W.windows_accounts(_wmi("windows-fi-10-standalone", "Win32_UserAccount"))
    assert [a.name for a in accounts] == ["Administrateur", "DefaultAccount", "Invité", "teclib"]
    assert [a.name for a in accounts if not a.disabled] == ["teclib"]
    assert [a.rid for a in accounts] == ["500", "503", "501", "1001"]
    assert [a.name for a in accounts if a.password_required] == ["Administrateur"]
    assert not any(a.password_expires for a in accounts)
    assert {a.domain for a in accounts} == {"XPS-FUSIONINVEN"}
    assert accounts[1].description == "Compte utilisateur géré par le système."


def test_windows_7_domain_member_accounts():
    # 7-AD-Win32_UserAccount.wmi: the built-in Administrateur is enabled, the Guest (Invité) disabled.
    accounts = W.windows_accounts(_wmi("windows-fi-7-ad", "Win32_UserAccount"))
    assert [(a.name, a.disabled, a.rid) for a in accounts] == [("Administrateur", False, "500"), ("Invité", True, "501")]
    assert accounts[0].sid == "S-1-5-21-115688116-1377296920-1994510132-500"


def test_net_user_block():
    # net-user.txt (kryptohaker/winadmin README): never logged on, three local groups, the second cut
    # by net.exe to 21 characters ("Remote Management Use"), global groups "*None".
    users = W.parse_net_user((FIX / "windows-winadmin-net-user" / "net-user.txt").read_text())
    assert len(users) == 1
    u = users[0]
    assert u.name == "kryptohaker"
    assert u.last_logon == "Never"
    assert u.password_last_set == "8/3/2023 1:18:40 AM"
    assert u.fields["Password expires"] == "9/14/2023 1:18:40 AM"
    assert u.fields["Account active"] == "Yes"
    assert u.local_groups == ("Administrators", "Remote Management Use", "Users")
    assert u.global_groups == ()


def test_net_user_blocks_one_after_the_other_and_a_prompt_before():
    # collect.bat appends every account's `net user NAME`; an echoed prompt line before it is not a field.
    text = (FIX / "windows-winadmin-net-user" / "net-user.txt").read_text()
    users = W.parse_net_user("PS C:\\Temp> net user kryptohaker\n\n" + text + text.replace("kryptohaker", "second"))
    assert [u.name for u in users] == ["kryptohaker", "second"]
    assert users[1].local_groups == ("Administrators", "Remote Management Use", "Users")


@pytest.mark.parametrize("garbled", ["", "The command completed successfully.\n", "User name    x\n",
                                     "\x00\xff" * 40, "User name                    a\nFull Name\n"])
def test_net_user_garbage_gives_no_account(garbled):
    assert W.parse_net_user(garbled) == []


# --- what starts by itself ---------------------------------------------------------------------------


def test_schtasks_csv_one_task_two_triggers():
    # schtasks.csv (resticprofile's test data): one task, two rows (one per trigger), weekly on
    # weekdays at 17:15 and on weekends at 00:00, run as "user", enabled.
    tasks, problems = W.parse_schtasks_csv((FIX / "windows-resticprofile-schtasks" / "schtasks.csv").read_text())
    assert problems == []
    assert len(tasks) == 1
    t = tasks[0]
    assert t.name == "\\resticprofile backup\\self backup"
    assert t.run_as == "user" and t.state == "Enabled" and t.author == "resticprofile"
    assert t.command.startswith("R:\\Temp\\go-build4112622634\\b001\\exe\\resticprofile.exe --no-ansi")
    assert t.schedules == ("Weekly 17:15:00 MON, TUE, WED, THU, FRI", "Weekly 00:00:00 SUN, SAT")


def test_schtasks_short_row_is_a_problem_not_a_task():
    text = (FIX / "windows-resticprofile-schtasks" / "schtasks.csv").read_text()
    header = text.splitlines()[0]
    tasks, problems = W.parse_schtasks_csv(text + header + '\n"H","\\cut","N/A"\n')
    assert len(tasks) == 1  # the repeated header is skipped, the cut row reported
    assert problems == ["row 5: 3 columns, not a verbose schtasks row"]


# --- settings ----------------------------------------------------------------------------------------


def test_bitlocker_volume_of_a_windows_10_machine():
    # win10-crypt-Win32_EncryptableVolume.wmi: C:, ProtectionStatus=1, ConversionStatus=1, EncryptionMethod=4.
    assert W.bitlocker_states(_wmi("windows-fi-win10-crypt", "Win32_EncryptableVolume")) == \
        [("C:", True, "protection on, fully encrypted, AES-256")]


def test_firewall_off_on_the_windows_7_export():
    # 7_firewall-FirewallPolicy.reg: EnableFirewall=dword:00000000 in the three profile keys.
    keys = _reg(FIX / "windows-fi-7-firewall" / "FirewallPolicy.reg")
    assert W.firewall_profiles(keys) == {"Domain": False, "Public": False, "Private": False}


def test_firewall_on_from_three_profile_exports():
    # GLPI agent's 10-*Profile.reg: EnableFirewall=dword:00000001 in each.
    keys = _reg(*sorted((FIX / "windows-glpi-10-firewall").iterdir()))
    assert W.firewall_profiles(keys) == {"Domain": True, "Public": True, "Private": True}


# --- end to end: `cbom ingest` of a recording folder ------------------------------------------------


def _ingest(folder: Path):
    rec = Recording(str(folder))
    assert rec.platform == Platform.WINDOWS
    ctx = ScanContext(platform=rec.platform, host=RecordedHost(rec), admin=True)
    chosen = runner.select_for_recording(BUILTIN, rec.platform)
    return runner.scan(chosen, ctx, host_name=folder.name, properties=tuple(describe(rec, rec.platform)))


@pytest.fixture()
def recording(tmp_path: Path) -> Path:
    """A collect.bat-style folder made of the real recorded files (of several machines: each
    assertion below concerns one file)."""
    folder = tmp_path / "WIN-REC"
    folder.mkdir()
    for src in ("windows-fi-10-standalone/Win32_UserAccount.wmi", "windows-resticprofile-schtasks/schtasks.csv",
                "windows-fi-win10-crypt/Win32_EncryptableVolume.wmi", "windows-fi-7-firewall/FirewallPolicy.reg",
                "windows-sec505-root-cert/SystemCertificates-ROOT.reg"):
        shutil.copy(FIX / src, folder / Path(src).name)
    return folder


def test_ingest_of_a_recording_gives_accounts_tasks_settings_and_certificates(recording):
    scan = _ingest(recording)
    runs = {r.name: r for r in scan.runs}
    for name in ("posture.accounts", "posture.startup", "posture.settings", "crypto.windows"):
        assert runs[name].status in (Status.OK, Status.PARTIAL), runs[name]
    posture = [c for c in scan.components if c.category == Category.POSTURE]
    accounts = {c.name: c for c in posture if c.prop("cbom:posture:kind") == "account"}
    assert sorted(accounts) == ["Administrateur", "DefaultAccount", "Invité", "teclib"]
    assert accounts["teclib"].prop("cbom:account:login") == "true"
    assert accounts["teclib"].prop("cbom:account:password") == "not-required"
    assert accounts["Administrateur"].prop("cbom:account:admin") == "built-in Administrator (RID 500)"
    assert accounts["Administrateur"].prop("cbom:account:uid") == "S-1-5-21-407181654-3485178747-2417891341-500"
    tasks = [c for c in posture if c.prop("cbom:startup:type") == "scheduled-task"]
    assert [t.name for t in tasks] == ["\\resticprofile backup\\self backup"]
    ids = sorted(f.id for f in scan.findings)
    # teclib: enabled without a required password, and a password that never expires; the
    # disabled accounts give no finding. The firewall is off in all three profiles.
    assert ids.count("CBOM-ACCOUNT-PASSWORD-NOT-REQUIRED") == 1
    assert ids.count("CBOM-ACCOUNT-PASSWORD-NEVER-EXPIRES") == 1
    assert "CBOM-ACCOUNT-BUILTIN-ENABLED" not in ids
    assert "CBOM-FIREWALL-OFF" in ids
    facts = dict(scan.host.properties)
    assert facts["cbom:posture:firewall"] == "Windows Firewall Domain: off; Public: off; Private: off"
    assert facts["cbom:posture:disk-encryption"] == "C: BitLocker protection on, fully encrypted, AES-256"
    # The Belgacom root of the regedit export: expired 2010-01-21, SHA-1 signed, RSA 1024.
    certs = [c for c in scan.components if c.prop("cbom:crypto:asset-type") == "certificate"]
    assert [c.name for c in certs] == ["Belgacom E-Trust Primary CA"]
    assert {"CBOM-CERT-EXPIRED", "CBOM-CERT-WEAK-SIGNATURE", "CBOM-CERT-WEAK-KEY"} <= set(ids)
    # What the folder does not hold is said, never concluded from.
    gaps = [g for r in scan.runs for g in r.gaps]
    assert any("Win32_Service.wmi" in g and "not collected" in g for g in gaps)
    assert any("net-localgroup-administrators.txt" in g for g in gaps)
    assert validate.errors(cyclonedx.to_dict(scan)) == []


def test_enabled_builtin_administrator_of_the_windows_7_machine(tmp_path):
    folder = tmp_path / "W7"
    folder.mkdir()
    shutil.copy(FIX / "windows-fi-7-ad" / "Win32_UserAccount.wmi", folder)
    scan = _ingest(folder)
    found = [f for f in scan.findings if f.id == "CBOM-ACCOUNT-BUILTIN-ENABLED"]
    assert [f.title for f in found] == ["the built-in Administrator account (Administrateur) is enabled"]
    never = [f for f in scan.findings if f.id == "CBOM-ACCOUNT-PASSWORD-NEVER-EXPIRES"]
    assert [f.detail for f in never] == ["Administrateur"]


def test_a_windows_recording_without_these_files_gives_gaps_never_none(tmp_path):
    folder = tmp_path / "BARE"
    folder.mkdir()
    shutil.copy(FIX / "windows-fi-win10-crypt" / "Win32_EncryptableVolume.wmi", folder)
    scan = _ingest(folder)
    runs = {r.name: r for r in scan.runs}
    assert "no Win32_UserAccount.wmi" in " ".join(runs["posture.accounts"].gaps)
    assert "certificate store" in " ".join(runs["crypto.windows"].gaps)
    assert not [c for c in scan.components if c.category == Category.POSTURE]
    assert "cbom:posture:firewall" not in dict(scan.host.properties)


def test_net_localgroup_text_that_is_not_a_member_list():
    # What an error or a usage text gives (hand-made: a malformed input): no rule, so no members at all.
    assert W.parse_net_localgroup("System error 1376 has occurred.\n\nThe specified local group does not exist.\n") \
        == ("", None)


def test_collect_bat_output_under_wine_gives_gaps_never_a_failure_or_none_found():
    # windows-wine8-collect-bat: this project's collect.bat run by wine 8.0's cmd (SOURCES.md). Wine's
    # wmic refuses `where` and unknown classes, its reg finds no FirewallPolicy: each is a gap that
    # says why, and nothing is reported as absent from the machine.
    scan = _ingest(FIX / "windows-wine8-collect-bat")
    runs = {r.name: r for r in scan.runs}
    for name in ("posture.accounts", "posture.startup", "posture.settings", "crypto.windows"):
        assert runs[name].status == Status.PARTIAL, runs[name]
    assert "Command line not supported" in " ".join(runs["posture.accounts"].gaps)
    assert "FirewallPolicy` exited 1" in " ".join(runs["posture.settings"].gaps)
    # The Run keys wine exported are empty, the missing WOW6432Node/RunOnce ones are "no such key".
    assert not any("CurrentVersion\\Run" in g for g in runs["posture.startup"].gaps)
    assert not [c for c in scan.components if c.category == Category.POSTURE]
    assert not [k for k, _ in scan.host.properties if k.startswith("cbom:posture:")]


def test_diff_flags_an_account_that_stopped_requiring_a_password(recording: Path, tmp_path: Path):
    """The recorded machine's teclib account has PasswordRequired=FALSE; the same machine before
    (that one line TRUE) required it: the diff's notable change says so."""
    from cbom.posture_view import notable_change

    before = tmp_path / "BEFORE"
    shutil.copytree(recording, before)
    wmi = before / "Win32_UserAccount.wmi"
    text = wmi.read_bytes().decode("utf-16")
    block = text.index("Name=teclib")
    start = text.rindex("\r\n\r\n", 0, block)
    end = text.find("\r\n\r\n", block)
    end = len(text) if end < 0 else end
    assert text[start:end].count("PasswordRequired=FALSE") == 1
    wmi.write_bytes((text[:start] + text[start:end].replace(
        "PasswordRequired=FALSE", "PasswordRequired=TRUE") + text[end:]).encode("utf-16"))

    def teclib(folder: Path) -> Component:
        return next(c for c in _ingest(folder).components if c.category == Category.POSTURE and c.name == "teclib")

    old, new = teclib(before), teclib(recording)
    assert (old.prop("cbom:account:password"), new.prop("cbom:account:password")) == ("required", "not-required")
    assert (Severity.HIGH, "CBOM-DIFF-EMPTY-PASSWORD", "account teclib no longer requires a password") \
        in notable_change(old, new)
    assert notable_change(new, new) == []
