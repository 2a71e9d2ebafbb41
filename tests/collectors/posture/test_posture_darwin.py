"""macOS posture (collectors/posture/_darwin.py) on real files and recorded outputs of real Macs.

Every expected value below was read by eye from the file named in the test (SOURCES.md in
tests/fixtures/posture gives each file's origin: Apple's OpenSSH project, GLPI agent, Wireshark,
Munki, plaso, artemis, Orchard, reportFileVault, and the system_profiler reports of
../shared/fixtures/macos); none was copied from cbom's output.
"""
from __future__ import annotations

import base64
import plistlib
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cbom import vocabulary as V
from cbom.collector import Note, ScanContext
from cbom.host import RecordedHost
from cbom.model import Component, Finding, Gap, Host, HostFact, Platform, Scan
from cbom.posture_view import security_posture
from cbom.recording import Recording
from collectors.posture import _darwin as D

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "posture"
ROOT = FIX / "macos-assembled-root"
ORCHARD = FIX / "macos-orchard-itsafeature"
SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "macos"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/fixtures/macos not present")
USERS = ROOT / "private/var/db/dslocal/nodes/Default/users"


def _comps(items, kind=""):
    return [i for i in items if isinstance(i, Component) and (not kind or i.prop(V.POSTURE_KIND) == kind)]


def _recorded(folder: Path) -> ScanContext:
    return ScanContext(platform=Platform.DARWIN, host=RecordedHost(Recording(str(folder))), admin=True)


def _mac_root() -> ScanContext:
    return ScanContext(root=ROOT, platform=Platform.DARWIN, admin=True)


# --- launchd -------------------------------------------------------------------------------------

JOBS = [
    # Apple's OpenSSH project: Program plus ProgramArguments (argv[0] only), Disabled, a socket.
    ("System/Library/LaunchDaemons/ssh.plist", "com.openssh.sshd", "/usr/libexec/sshd-keygen-wrapper", True,
     ("on demand (socket ssh)",)),
    ("System/Library/LaunchAgents/com.openssh.ssh-agent.plist", "com.openssh.ssh-agent", "/usr/bin/ssh-agent -l",
     False, ("on demand (socket SSH_AUTH_SOCK)",)),
    # GLPI agent's ESET daemon: a path with spaces, RunAtLoad and KeepAlive.
    ("Library/LaunchDaemons/com.eset.protection.plist", "com.eset.protection",
     '"/Applications/ESET Endpoint Security.app/Contents/MacOS/startd"', False, ("RunAtLoad", "KeepAlive")),
    # Wireshark: Program without ProgramArguments.
    ("Library/LaunchDaemons/org.wireshark.ChmodBPF.plist", "org.wireshark.ChmodBPF",
     '"/Library/Application Support/Wireshark/ChmodBPF/ChmodBPF"', False, ("RunAtLoad",)),
    # Munki: StartInterval 3600, and a KeepAlive dictionary (PathState).
    ("Library/LaunchDaemons/com.googlecode.munki.managedsoftwareupdate-check.plist",
     "com.googlecode.munki.managedsoftwareupdate-check", "/usr/local/munki/managedsoftwareupdate --auto --quiet",
     False, ("StartInterval=3600s",)),
    ("Library/LaunchAgents/com.googlecode.munki.ManagedSoftwareCenter.plist",
     "com.googlecode.munki.ManagedSoftwareCenter", '/usr/local/munki/launchapp -a "/Applications/Software Center.app"',
     False, ("KeepAlive PathState",)),
]


@pytest.mark.parametrize("path,label,command,disabled,triggers", JOBS)
def test_launchd_job_plists(path, label, command, disabled, triggers):
    job = D.parse_launchd_plist((ROOT / path).read_bytes())
    assert (job.label, job.command, job.disabled, job.triggers) == (label, command, disabled, triggers)


def test_startup_of_a_mac_disk_lists_the_enabled_third_party_jobs_only():
    """Under --root: the four jobs of /Library (none disabled); Apple's sshd ships Disabled and no
    override enables it, and Apple's ssh-agent is part of the base system: neither is listed."""
    items = list(D.collect_startup(_mac_root()))
    startup = {c.name: c for c in _comps(items, "startup")}
    assert sorted(startup) == ["com.eset.protection", "com.googlecode.munki.ManagedSoftwareCenter",
                               "com.googlecode.munki.managedsoftwareupdate-check", "org.wireshark.ChmodBPF"]
    eset = startup["com.eset.protection"]
    assert eset.prop(V.STARTUP_TYPE) == "launchd-daemon"
    assert eset.prop(V.STARTUP_USER) == "root"  # no UserName: a daemon runs as root (launchd.plist(5))
    assert eset.props(V.STARTUP_SCHEDULE) == ("RunAtLoad", "KeepAlive")
    assert eset.prop(V.STARTUP_PATH) == "/Library/LaunchDaemons/com.eset.protection.plist"
    assert eset.prop(V.STARTUP_ORIGIN) == "local"
    agent = startup["com.googlecode.munki.ManagedSoftwareCenter"]
    assert (agent.prop(V.STARTUP_TYPE), agent.prop(V.STARTUP_USER)) == ("launchd-agent", D.EVERY_USER_AGENT)
    assert not [i for i in items if isinstance(i, Gap)]


def test_the_recorded_launchctl_list_of_glpi():
    text = (FIX / "macos-glpi-eset" / "launchctl-list.txt").read_text()
    assert D.parse_launchctl_list(text) == {"com.eset.protection": ("594", "0")}


def test_a_damaged_job_file_is_a_gap_and_the_others_are_still_listed(tmp_path):
    daemons = tmp_path / "Library" / "LaunchDaemons"
    shutil.copytree(ROOT / "Library" / "LaunchDaemons", daemons)
    (daemons / "com.example.broken.plist").write_bytes(b"bplist00\x00\x01garbage")  # malformed on purpose
    items = list(D.collect_startup(ScanContext(root=tmp_path, platform=Platform.DARWIN)))
    assert len(_comps(items, "startup")) == 3
    gaps = [i.reason for i in items if isinstance(i, Gap)]
    assert len(gaps) == 1 and gaps[0].startswith("/Library/LaunchDaemons/com.example.broken.plist: not a property list")


@pytest.mark.parametrize("data,why", [
    (b"", "not a property list"), (b"<plist><dict><key>Label</key>", "not a property list"),
    (plistlib.dumps({"Program": "/bin/true"}), "no Label"), (plistlib.dumps({"Label": "x"}), "names no Program"),
    (plistlib.dumps(["Label"]), "no Label"),
])
def test_malformed_job_plists_raise_value_error(data, why):
    with pytest.raises(ValueError, match=why):
        D.parse_launchd_plist(data)
    with pytest.raises(ValueError):
        D.parse_launchd_overrides(b"not a plist")


# --- accounts ------------------------------------------------------------------------------------


def test_dslocal_user_records_binary_plists():
    """plaso's user.plist and artemis' nobody.plist are binary plists written by opendirectoryd."""
    user_data = (USERS / "user.plist").read_bytes()
    assert user_data.startswith(b"bplist00")
    user = D.account_from_dslocal(user_data)
    assert (user.name, user.uid, user.gid, user.home, user.shell, user.full_name) == \
        ("user", 501, 20, "/Users/user", "/bin/bash", "Joaquin Moreno")
    assert user.password == "set"  # authentication_authority ;ShadowHash;HASHLIST:<SALTED-SHA512-PBKDF2>
    nobody = D.account_from_dslocal((USERS / "nobody.plist").read_bytes())
    assert (nobody.name, nobody.uid, nobody.gid, nobody.home, nobody.shell, nobody.full_name) == \
        ("nobody", -2, -2, "/var/empty", "/usr/bin/false", "Unprivileged User")
    assert nobody.password == "none"  # passwd "*", no authority
    # accountPolicyData passwordLastSetTime 1595003387.9019661 (`date -u -d @1595003387`).
    assert nobody.password_changed == "2020-07-17T16:29:47Z"


def test_accounts_of_a_mac_disk_never_carry_the_password_hash():
    items = list(D.collect_accounts(_mac_root()))
    accounts = {c.name: c for c in _comps(items, "account")}
    assert sorted(accounts) == ["nobody", "user"]
    user, nobody = accounts["user"], accounts["nobody"]
    assert (user.prop(V.ACCOUNT_UID), user.prop(V.ACCOUNT_SYSTEM), user.prop(V.ACCOUNT_LOGIN)) == ("501", "false", "true")
    assert (nobody.prop(V.ACCOUNT_UID), nobody.prop(V.ACCOUNT_SYSTEM), nobody.prop(V.ACCOUNT_LOGIN)) == \
        ("-2", "true", "false")
    assert user.prop(V.ACCOUNT_FULL_NAME) == "Joaquin Moreno"
    # The record holds the salted hash (ShadowHashData): no form of it may reach any value.
    record = plistlib.loads((USERS / "user.plist").read_bytes())
    blob = record["ShadowHashData"][0]
    inner = plistlib.loads(blob)
    secrets = [blob.hex(), base64.b64encode(blob).decode()]
    for entry in inner.values():
        for value in entry.values() if isinstance(entry, dict) else []:
            if isinstance(value, bytes) and len(value) >= 16:
                secrets += [value.hex(), base64.b64encode(value).decode()]
    text = repr(items)
    assert len(secrets) > 2 and not any(s[:24] in text for s in secrets)


def test_dscl_read_of_the_admin_group_and_of_a_user_orchard():
    admin = D.parse_dscl_records((ORCHARD / "dscl-read-groups-admin.txt").read_text())
    assert len(admin) == 1
    assert admin[0]["GroupMembership"] == ["root", "itsafeature"]
    assert admin[0]["PrimaryGroupID"] == ["80"]
    assert admin[0]["RecordName"] == ["admin", "BUILTIN\\Administrators"]
    assert admin[0]["dsAttrTypeNative:record_daemon_version"] == ["4850000"]
    records = D.parse_dscl_records((ORCHARD / "dscl-read-users-itsafeature.txt").read_text())
    assert len(records) == 1
    assert records[0]["RealName"] == ["It's a feature"]  # the value on the line after "RealName:"
    acct = D.account_from_record(records[0])
    assert acct is not None
    assert (acct.name, acct.uid, acct.gid, acct.home, acct.shell, acct.full_name) == \
        ("itsafeature", 501, 20, "/Users/itsafeature", "/bin/bash", "It's a feature")
    assert acct.password == "set"  # ;ShadowHash;HASHLIST:<SALTED-SHA512-PBKDF2,SRP-RFC5054-4096-SHA512-PBKDF2>
    # accountPolicyData passwordLastSetTime 1540611064.6205959 (`date -u -d @1540611064`).
    assert acct.password_changed == "2018-10-27T03:31:04Z"


def test_dscl_list_of_group_members_orchard():
    rows = dict(D.parse_dscl_list((ORCHARD / "dscl-list-groups-groupmembership.txt").read_text()))
    assert len(rows) == 33  # 33 lines, one group each
    assert rows["admin"] == "root itsafeature"
    assert rows["com.apple.access_ssh"] == "itsafeature"
    assert rows["certusers"] == "root _jabber _postfix _cyrus _calendar _dovecot"


def test_recorded_dscl_listings_of_a_mac_orchard():
    """Only `dscl . ls /Users UserShell` (with the author's "..." elisions) and the group members were
    kept: 19 accounts, administrators from the admin group, UIDs unknown (said in a gap)."""
    items = list(D.collect_accounts(_recorded(ORCHARD)))
    accounts = {c.name: c for c in _comps(items, "account")}
    assert sorted(accounts) == sorted(
        ["_amavisd", "_analyticsd", "_appleevents", "_mbsetupuser", "_mcxalr", "_unknown", "_update_sharing",
         "_usbmuxd", "_uucp", "_warmd", "_webauthserver", "_windowserver", "_www", "_wwwproxy", "_xserverdocs",
         "daemon", "itsafeature", "nobody", "root"])
    me = accounts["itsafeature"]
    assert me.props(V.ACCOUNT_ADMIN) == ("group admin",)
    assert (me.prop(V.ACCOUNT_SHELL), me.prop(V.ACCOUNT_LOGIN), me.prop(V.ACCOUNT_SYSTEM)) == ("/bin/bash", "true", "false")
    assert "com.apple.access_ssh" in me.props(V.ACCOUNT_GROUP)
    assert accounts["root"].props(V.ACCOUNT_ADMIN) == ("group admin",)
    setup = accounts["_mbsetupuser"]  # Apple's setup-assistant account: a shell, but a hidden role account
    assert (setup.prop(V.ACCOUNT_LOGIN), setup.prop(V.ACCOUNT_SYSTEM)) == ("true", "true")
    assert all(c.prop(V.ACCOUNT_UID) == "" for c in accounts.values())
    groups = {c.name: c for c in _comps(items, "group")}
    assert groups["admin"].props(V.GROUP_MEMBER) == ("itsafeature", "root")
    assert groups["admin"].props(V.ACCOUNT_ADMIN) == ("administrators",)
    assert groups["wheel"].props(V.GROUP_MEMBER) == ("root",)
    assert any("UIDs, homes and password states unknown" in i.reason for i in items if isinstance(i, Gap))
    # The report's accounts table takes them as they are: administrators first.
    host = Host(name="t")
    scan = Scan(id="urn:uuid:x", started=datetime.now(timezone.utc), tool_version="t", host=host,
                components=tuple(_comps(items)))
    table = next(t for t in security_posture(scan) if t.key == "accounts")
    assert [r[0] for r in table.rows[:2]] == ["itsafeature", "root"]


def test_recorded_ssh_access_group_is_a_setting():
    items = list(D.collect_settings(_recorded(ORCHARD)))
    facts = {f.name: f.value for f in items if isinstance(f, HostFact)}
    assert facts[V.posture_fact("ssh-access-group")] == "itsafeature"


# --- settings ------------------------------------------------------------------------------------


def test_fdesetup_status_of_a_macos_10_15_6_mac(tmp_path):
    text = (FIX / "macos-reportfilevault-10.15.6" / "fdesetup-status.txt").read_text()
    assert D.parse_fdesetup_status(text) == "on"
    items = list(D.collect_settings(_recorded(FIX / "macos-reportfilevault-10.15.6")))
    facts = {f.name: f.value for f in items if isinstance(f, HostFact)}
    assert facts[V.posture_fact("disk-encryption")] == "FileVault on"
    assert not [f for f in items if isinstance(f, Finding) and f.id == "CBOM-DISK-NOT-ENCRYPTED"]
    gaps = [g.reason for g in items if isinstance(g, Gap)]
    assert any("System Integrity Protection" in g and "not recorded" in g for g in gaps)


@needs_shared
def test_firewall_of_mac_os_x_10_6_from_system_profiler():
    """iMac7,1, Mac OS X 10.6.4: Mode "Limit incoming connections to specific services and
    applications", Services "Remote Login (SSH): Allow all connections", logging and stealth No."""
    text = (SHARED / "glpi-10.6-imac7-1" / "system_profiler.txt").read_text()
    fw = D.parse_sp_firewall(text)
    assert fw["Mode"] == "Limit incoming connections to specific services and applications"
    assert fw["services"] == "Remote Login (SSH): Allow all connections"
    assert fw["applications"].split("; ")[0] == "com.getdropbox.dropbox: Allow all connections"
    assert len(fw["applications"].split("; ")) == 7
    assert (fw["Firewall Logging"], fw["Stealth Mode"]) == ("No", "No")
    items = list(D.collect_settings(_recorded(SHARED / "glpi-10.6-imac7-1")))
    facts = {f.name: f.value for f in items if isinstance(f, HostFact)}
    assert facts[V.posture_fact("firewall")].startswith(
        "application firewall on (Limit incoming connections to specific services and applications")
    assert facts[V.posture_fact("remote-access")].startswith("Remote Login (SSH server): enabled")
    assert not [f for f in items if isinstance(f, Finding)]


@needs_shared
def test_firewall_off_on_a_power_mac_g5_10_5():
    """Power Mac G5, 10.5.8: Firewall Settings Mode "Allow all incoming connections"."""
    items = list(D.collect_settings(_recorded(SHARED / "glpi-powermac-g5-ck54202sr6v")))
    facts = {f.name: f.value for f in items if isinstance(f, HostFact)}
    assert facts[V.posture_fact("firewall")] == "application firewall off (Allow all incoming connections)"
    off = [f for f in items if isinstance(f, Finding)]
    assert [f.id for f in off] == ["CBOM-FIREWALL-OFF"]
    assert off[0].evidence == ("system_profiler Firewall Mode: Allow all incoming connections",)


@needs_shared
def test_sip_of_a_macbook_air_m1_from_system_profiler():
    """MacBookAir10,1, macOS 11.2.3: "System Integrity Protection: Enabled"; its report has no
    Firewall section, so the firewall state is a gap."""
    items = list(D.collect_settings(_recorded(SHARED / "glpi-11-macbookair10-1")))
    facts = {f.name: f.value for f in items if isinstance(f, HostFact)}
    assert facts[V.posture_fact("sip")] == "enabled"
    assert V.posture_fact("firewall") not in facts
    gaps = " ".join(g.reason for g in items if isinstance(g, Gap))
    assert "application firewall state" in gaps and "System Integrity Protection" not in gaps


def test_settings_of_a_mac_disk_say_ssh_is_installed_but_not_enabled():
    items = list(D.collect_settings(_mac_root()))
    facts = [(f.name, f.value) for f in items if isinstance(f, HostFact)]
    assert facts == [(V.posture_fact("remote-access"), "Remote Login (SSH server): installed, not enabled")]
    assert any(isinstance(i, Note) for i in items)
    assert not [f for f in items if isinstance(f, Finding)]


@pytest.mark.parametrize("text", ["", "garbage\n", "\x00\x01", "Firewall\n"])
def test_unrecognised_settings_outputs_give_nothing(text):
    assert D.parse_socketfilterfw(text) is None
    assert D.parse_stealth(text) is None
    assert D.parse_fdesetup_status(text) == ""
    assert D.parse_csrutil_status(text) == ""
    assert D.parse_spctl_status(text) == ""
    assert D.parse_systemsetup_remotelogin(text) == ""
    assert D.parse_sp_firewall(text) == {}
    assert D.parse_dscl_records(text.replace("\x00", "")) in ([], [{}])


def test_a_recording_without_these_files_gives_gaps_never_none_found(tmp_path):
    (tmp_path / "sw_vers.txt").write_text("ProductName:\tMac OS X\n")  # a recording of other things only
    ctx = _recorded(tmp_path)
    for collect in (D.collect_accounts, D.collect_startup):
        items = list(collect(ctx))
        assert len(items) == 1 and isinstance(items[0], Gap) and "the recording holds no" in items[0].reason
    items = list(D.collect_settings(ctx))
    assert not [i for i in items if isinstance(i, (HostFact, Finding, Component))]
    assert any("not recorded" in i.reason for i in items if isinstance(i, Gap))


def test_launchd_folders_copied_into_a_recording(tmp_path):
    """collect.sh copies /Library/LaunchDaemons as library-launchdaemons/: same jobs, host paths."""
    shutil.copytree(ROOT / "Library" / "LaunchDaemons", tmp_path / "library-launchdaemons")
    items = list(D.collect_startup(_recorded(tmp_path)))
    paths = sorted(c.prop(V.STARTUP_PATH) for c in _comps(items, "startup"))
    assert paths == ["/Library/LaunchDaemons/com.eset.protection.plist",
                     "/Library/LaunchDaemons/com.googlecode.munki.managedsoftwareupdate-check.plist",
                     "/Library/LaunchDaemons/org.wireshark.ChmodBPF.plist"]


def test_a_damaged_override_database_is_a_gap(tmp_path):
    shutil.copytree(ROOT / "Library", tmp_path / "Library")
    shutil.copytree(ROOT / "System", tmp_path / "System")
    db = tmp_path / "private/var/db/com.apple.xpc.launchd"
    db.mkdir(parents=True)
    (db / "disabled.plist").write_bytes(b"<?xml version=\"1.0\"?><plist><dict><key>com.openssh.sshd</key>")  # cut short
    ctx = ScanContext(root=tmp_path, platform=Platform.DARWIN)
    items = list(D.collect_startup(ctx))
    assert len(_comps(items, "startup")) == 4
    assert [i.reason for i in items if isinstance(i, Gap)] == [
        "/private/var/db/com.apple.xpc.launchd/disabled.plist: not a property list (ExpatError)"]
    settings = list(D.collect_settings(ctx))
    assert not [f for f in settings if isinstance(f, HostFact)]  # sshd may have been switched on: unknown
    assert "com.openssh.sshd: on or off unknown (the launchd override database could not be read)" in \
        [g.reason for g in settings if isinstance(g, Gap)]
