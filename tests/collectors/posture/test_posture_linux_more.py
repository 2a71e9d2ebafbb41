"""Last logons, neighbours, hosts, mounts, package sources and field-bus ids (posture, Linux).

Truth: `lastlog`, `ip neigh`, `findmnt`, `getent hosts`, `apt-cache policy` and `lspci -n` of this machine;
the real files under tests/fixtures/posture (SOURCES.md) read by eye; pci.ids/usb.ids for the vendor ids.
"""
from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

import pytest

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.model import Component, Finding, Gap, HostFact, Severity
from collectors.posture import _linux, collect_accounts, collect_serial, collect_settings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "posture"
DATA = Path(__file__).resolve().parents[3] / "collectors" / "data"


def _facts(items: List[object], name: str) -> List[str]:
    return [i.value for i in items if isinstance(i, HostFact) and i.name == V.posture_fact(name)]


def _run(argv: List[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout


def _accounts(ctx: ScanContext) -> Dict[str, Component]:
    return {c.name: c for c in collect_accounts(ctx) if isinstance(c, Component) and c.prop(V.POSTURE_KIND) == "account"}


# --- last logon -------------------------------------------------------------------------------------


def test_last_logon_of_a_real_lastlog_under_root():
    root = FIXTURES / "debian12-lastlog"
    accounts = _accounts(ScanContext(root=root))
    # lastlog-u-root.txt: "root  pts/0  Tue Dec  1 20:07:16 +0000 2026"
    truth = (root / "lastlog-u-root.txt").read_text().splitlines()[1].split()
    when = datetime.strptime(" ".join(truth[2:]), "%a %b %d %H:%M:%S %z %Y").astimezone(timezone.utc)
    assert accounts["root"].prop(V.ACCOUNT_LAST_LOGON) == when.strftime("%Y-%m-%dT%H:%M:%SZ") + f" on {truth[1]}"
    # Accounts that cannot log on say nothing; none other has a record.
    assert accounts["daemon"].prop(V.ACCOUNT_LAST_LOGON) == ""


def test_lastlog_records_and_damage():
    data = (FIXTURES / "debian12-lastlog/var/log/lastlog").read_bytes()
    assert set(_linux.parse_lastlog(data)) == {0}
    assert _linux.parse_lastlog(data[:100]) == {}  # a cut record is no record
    assert _linux.parse_lastlog(b"") == {}
    assert _linux.lastlog_record_size(292 * 3) == 292 and _linux.lastlog_record_size(296 * 5) == 296
    assert _linux.lastlog_record_size(0, "aarch64") == 296


@pytest.mark.live
def test_live_last_logons_equal_lastlog():
    if not shutil.which("lastlog") or not Path("/var/log/lastlog").is_file():
        pytest.skip("no lastlog(8) or /var/log/lastlog here")
    accounts = _accounts(ScanContext())
    empty = Path("/var/log/lastlog").stat().st_size == 0
    for line in _run(["lastlog"]).splitlines()[1:]:
        name = line.split()[0]
        if name not in accounts:
            continue
        got = accounts[name].prop(V.ACCOUNT_LAST_LOGON)
        if "**Never logged in**" in line:
            assert got in ("", "never") and (got == "" or not empty)
            assert got == "never" or accounts[name].prop(V.ACCOUNT_LOGIN) == "false" or empty
        else:
            when = datetime.strptime(" ".join(line.split()[-6:]), "%a %b %d %H:%M:%S %z %Y").astimezone(timezone.utc)
            assert got.startswith(when.strftime("%Y-%m-%dT%H:%M:%SZ")), (name, got, line)


# --- neighbours, hosts, mounts ----------------------------------------------------------------------


@pytest.mark.live
def test_live_neighbours_equal_ip_neigh():
    if not shutil.which("ip"):
        pytest.skip("no ip(8) here")
    got = {tuple(v.split()[:3]) for v in _facts(list(collect_settings(ScanContext())), "neighbour")
           if not v.endswith("incomplete")}
    truth = set()
    for line in _run(["ip", "-4", "neigh", "show"]).splitlines():
        m = re.match(r"^(\S+) dev (\S+) lladdr (\S+)", line)
        if m:
            truth.add((m.group(1), m.group(3).lower(), m.group(2)))
    assert got == truth


@pytest.mark.live
def test_live_mounts_equal_findmnt():
    if not shutil.which("findmnt"):
        pytest.skip("no findmnt(8) here")
    got = {tuple(v.split()[:2]) for v in _facts(list(collect_settings(ScanContext())), "mount")}
    truth = set()
    for line in _run(["findmnt", "-rn", "-o", "TARGET,FSTYPE"]).splitlines():
        target, fstype = line.rsplit(" ", 1)
        if fstype not in _linux_pseudo():
            truth.add((target.replace("\\x20", " "), fstype))
    assert got == truth


def _linux_pseudo() -> frozenset:
    from collectors.posture import _PSEUDO_FS
    return _PSEUDO_FS


@pytest.mark.live
def test_live_hosts_entries_resolve_as_getent_says():
    for value in _facts(list(collect_settings(ScanContext())), "hosts-entry"):
        ip, *names = value.split()
        assert ip in _run(["getent", "hosts", names[0]]).split()


def test_mount_and_hosts_parsers_on_real_text():
    # /proc/mounts lines of this machine (a space in a mount point is written \040).
    mounts = _linux.parse_mounts("/dev/vda / ext4 rw,relatime,discard 0 0\n"
                                 "tmpfs /media/usb\\040stick vfat rw,nosuid,nodev,noexec 0 0\n# a comment\n")
    assert [(m.target, m.fstype, m.options[-1]) for m in mounts] == [("/", "ext4", "discard"),
                                                                    ("/media/usb stick", "vfat", "noexec")]
    assert _linux.parse_hosts("127.0.0.1\tlocalhost\n10.1.2.3 plc1 plc1.plant # S7-1500\n\n#x\n") == [
        ("127.0.0.1", ("localhost",)), ("10.1.2.3", ("plc1", "plc1.plant"))]
    assert _linux.parse_proc_arp("IP address       HW type     Flags       HW address            Mask     Device\n"
                                 "192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0\n"
                                 "192.0.2.9        0x1         0x0         00:00:00:00:00:00     *        eth0\n"
                                 "garbage\n") == [
        _linux.Neighbour("192.0.2.1", "02:fc:00:00:00:05", "eth0", "complete"),
        _linux.Neighbour("192.0.2.9", "00:00:00:00:00:00", "eth0", "incomplete")]


# --- package sources --------------------------------------------------------------------------------


@pytest.mark.live
def test_live_apt_sources_equal_apt_cache_policy():
    if not shutil.which("apt-cache"):
        pytest.skip("no apt here")
    got = {tuple(v.split()[1:3]) for v in _facts(list(collect_settings(ScanContext())), "package-source")
           if v.startswith("deb ")}
    truth = set()
    for line in _run(["apt-cache", "policy"]).splitlines():
        m = re.match(r"^\s*\d+ (\S+) (\S+?)/\S+ \S+ Packages$", line)
        if m:
            truth.add((m.group(1).rstrip("/"), m.group(2)))
    assert {(u.rstrip("/"), s) for u, s in got} == truth


def test_yum_repos_of_a_real_fedora(tmp_path):
    items = list(collect_settings(ScanContext(root=FIXTURES / "fedora-yum-repos")))
    sources = _facts(items, "package-source")
    # fedora.repo: [fedora] enabled=1 gpgcheck=1 (metalink); -debuginfo and -source enabled=0.
    # firefoxpwa.repo: enabled=1 gpgcheck=0.
    assert len(sources) == 2 and any(s.startswith("rpm-md https://mirrors.fedoraproject.org/metalink") and
                                     " fedora gpgcheck=1 " in s for s in sources)
    unsigned = [i for i in items if isinstance(i, Finding) and i.id == "CBOM-PACKAGE-SOURCE-UNSIGNED"]
    assert len(unsigned) == 1 and unsigned[0].severity == Severity.LOW
    assert unsigned[0].evidence == ("/etc/yum.repos.d/firefoxpwa.repo: "
                                    "https://packagecloud.io/filips/FirefoxPWA/rpm_any/rpm_any/$basearch firefoxpwa "
                                    "(gpgcheck=0)",)


def test_apt_sources_of_the_debootstrap_image(debootstrap_root):
    items = list(collect_settings(ScanContext(root=debootstrap_root)))
    # Its /etc/apt/sources.list: "deb http://deb.debian.org/debian bookworm main", no signed-by.
    assert _facts(items, "package-source") == ["deb http://deb.debian.org/debian bookworm main (/etc/apt/sources.list)"]
    plain = [i for i in items if isinstance(i, Finding) and i.id == "CBOM-PACKAGE-SOURCE-PLAIN-HTTP"]
    assert len(plain) == 1 and plain[0].severity == Severity.INFO
    assert _facts(items, "mount") == []  # "# UNCONFIGURED FSTAB FOR BASE SYSTEM"
    assert not [i for i in items if isinstance(i, Gap) and "sources" in i.reason]


def test_deb822_and_one_line_forms():
    # /etc/apt/sources.list.d/debian.sources of this Debian 12 machine (the first stanza).
    text = ("Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n"
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: http://x/\nSuites: y\n"
            "Enabled: no\n")
    got = _linux.parse_deb822_sources(text)
    assert [(s.uri, s.suite, s.signed_by, s.enabled) for s in got] == [
        ("http://deb.debian.org/debian", "bookworm", "/usr/share/keyrings/debian-archive-keyring.gpg", True),
        ("http://deb.debian.org/debian", "bookworm-updates", "/usr/share/keyrings/debian-archive-keyring.gpg", True),
        ("http://x/", "y", "", False)]
    one = _linux.parse_sources_list("deb [arch=amd64 trusted=yes] http://repo.plant/ ./\n#deb http://a b c\nnonsense\n")
    assert [(s.uri, s.suite, s.trusted) for s in one] == [("http://repo.plant/", "./", True)]


# --- field-bus and serial ---------------------------------------------------------------------------


def _ids(kind: str) -> Dict[str, str]:
    """vendor id -> name, read straight from the bundled ids file."""
    out = {}
    with gzip.open(DATA / f"{kind}.ids.gz", "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^([0-9a-f]{4})  (.*)$", line)
            if m:
                out[m.group(1)] = m.group(2)
    return out


def test_fieldbus_vendor_ids_are_the_makers_the_ids_files_name():
    pci, usb = _ids("pci"), _ids("usb")
    makers = ("Hilscher", "PEAK", "Kvaser", "IXXAT", "SOFTING", "Janz", "ESD", "Vector")
    for vid in _linux.FIELDBUS_VENDORS["pci"]:
        assert any(m.lower() in pci[vid].lower() for m in makers), (vid, pci[vid])
    for vid in _linux.FIELDBUS_VENDORS["usb"]:
        assert any(m.lower() in usb[vid].lower() for m in makers), (vid, usb[vid])
    assert pci["110a"] == "Siemens AG" and usb["0908"] == "Siemens AG"
    # pci.ids: 110a 3141 "SIMATIC NET CP 5611 / 5621"; a Siemens function without that name is not one.
    assert _linux.is_fieldbus("pci", "110a", "SIMATIC NET CP 5611 / 5621")
    assert not _linux.is_fieldbus("pci", "110a", "PCI-to-PCI bridge")
    assert _linux.is_fieldbus("pci", "15cf", "CIFX PCI/PCIe") and not _linux.is_fieldbus("usb", "15cf", "")


@pytest.mark.live
def test_live_fieldbus_cards_equal_lspci_vendors():
    if not Path("/sys/bus/pci/devices").is_dir():
        pytest.skip("no PCI bus here")
    got = {c.prop(V.BUS_ADDRESS) for c in collect_serial(ScanContext()) if isinstance(c, Component)
           and c.prop(V.DEVICE_TYPE) == "fieldbus" and c.prop(V.BUS) == "pci"}
    truth = set()
    if shutil.which("lspci"):
        for line in _run(["lspci", "-Dn"]).splitlines():
            addr, _, ids = line.split()[:3]
            if ids.split(":")[0] in _linux.FIELDBUS_VENDORS["pci"]:
                truth.add(addr)
        assert got >= truth
    siemens = [p for p in Path("/sys/bus/pci/devices").iterdir() if (p / "vendor").read_text().strip() == "0x110a"]
    assert len(got) == len(truth) + sum(1 for p in siemens if p.name in got)


# --- recordings (usb_bundle/collect/collect.sh) -------------------------------------------------------

COLLECT_SH = Path(__file__).resolve().parents[3] / "usb_bundle" / "collect" / "collect.sh"
_SHADOW_MARKS = {"", "!", "!redacted", "*", "$redacted$"}


def _shadow_awk() -> str:
    m = re.search(r"awk -F: '(.*?)' /etc/shadow", COLLECT_SH.read_text(), re.S)
    assert m
    return m.group(1)


def test_shadow_metadata_keeps_the_state_never_the_hash(tmp_path):
    from collectors.posture import _accounts

    if not shutil.which("openssl") or not shutil.which("awk"):
        pytest.skip("needs openssl and awk")
    # A real SHA-512 crypt hash (openssl passwd -6), locked and unlocked, and the other shadow(5) forms.
    digest = _run(["openssl", "passwd", "-6", "-salt", "cbomtest", "secret"]).strip()
    assert digest.startswith("$6$cbomtest$")
    text = (f"alice:{digest}:19000:0:99999:7:::\nbob:!{digest}:19000:0:99999:7:::\ncarol::19000::::::\n"
            "daemon:*:19000:0:99999:7:::\nlocked:!*:19000::::::\nnew:!!:19000::::::\n")
    (tmp_path / "shadow").write_text(text)
    out = subprocess.run(["awk", "-F:", _shadow_awk(), str(tmp_path / "shadow")], capture_output=True, text=True,
                         timeout=10).stdout
    assert digest[12:] not in out and "cbomtest" not in out
    assert {line.split(":")[1] for line in out.splitlines()} <= _SHADOW_MARKS
    before, after = _accounts.parse_shadow(text), _accounts.parse_shadow(out)
    assert {n: s.password for n, s in after.items()} == {n: s.password for n, s in before.items()} == {
        "alice": "set", "bob": "locked", "carol": "empty", "daemon": "none", "locked": "none", "new": "none"}
    assert [(s.changed, s.max_days) for s in after.values()] == [(s.changed, s.max_days) for s in before.values()]


@pytest.mark.live
def test_a_recording_of_this_machine_says_what_the_live_scan_says(tmp_path):
    """collect.sh run here, then the posture collectors on the recording and on the running system."""
    from cbom.host import RecordedHost
    from cbom.recording import Recording
    from collectors.posture import collect_startup

    subprocess.run(["sh", str(COLLECT_SH), str(tmp_path / "rec")], capture_output=True, timeout=120, check=True)
    if Path("/etc/shadow").is_file():
        recorded = (tmp_path / "rec" / "shadow-metadata").read_text()
        assert {line.split(":")[1] for line in recorded.splitlines()} <= _SHADOW_MARKS
    rec = Recording(str(tmp_path / "rec"))
    recorded_ctx = ScanContext(platform=rec.platform, host=RecordedHost(rec), admin=True)
    for collect in (collect_accounts, collect_startup, collect_settings):
        live = [i for i in collect(ScanContext()) if not isinstance(i, Gap)]
        again = [i for i in collect(recorded_ctx) if not isinstance(i, Gap)]
        # Components and host facts alike, whatever the backend (kernel-cmdline and sysctls included).
        # One difference is known: a FAT stick keeps no symlink, so a recorded unit is found on the
        # load path (/usr/lib/systemd/…) where the live link names /lib/systemd/… — one file on a
        # merged-/usr system.
        assert sorted(_same_usr(again)) == sorted(_same_usr(live)), collect.__name__


def _same_usr(items: List[object]) -> List[str]:
    return [repr(i).replace("'/lib/systemd/", "'/usr/lib/systemd/") for i in items]
