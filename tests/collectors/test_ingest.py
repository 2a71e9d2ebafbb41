"""`cbom ingest`: recorded folders (../shared/fixtures, collect.sh run here) → the same CBOM as a live scan.

The shared fixture folders are read in place (skipped when ../shared/fixtures is
absent); the values asserted were read by hand from the recorded files.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from cbom import cyclonedx, runner, validate
from cbom.collector import ScanContext
from cbom.host import RecordedHost
from cbom.model import Category, Platform, Status
from cbom.recording import Recording, describe, parse_manifest
from cbom.registry import load_collectors
from collectors import BUILTIN
from collectors.network._unix import parse_ip_addr, parse_ss
from collectors.osinfo._linux import uname_fields
from collectors.software._linux import parse_rpm_qai

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "fixtures"
COLLECT_SH = REPO / "usb_bundle" / "collect" / "collect.sh"
COLLECT_BAT = REPO / "usb_bundle" / "collect" / "collect.bat"
COLLECT_PS1 = REPO / "usb_bundle" / "collect" / "collect.ps1"

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/fixtures not present")


def ingest(folder: Path):
    """What `cbom ingest FOLDER` scans: the normal collectors on the recorded backend (cbom.cli.cmd_ingest)."""
    rec = Recording(str(folder))
    assert rec.platform is not None, f"{folder}: platform not recognised"
    ctx = ScanContext(platform=rec.platform, host=RecordedHost(rec), admin=True)
    chosen = runner.select_for_recording(BUILTIN, rec.platform)
    scan = runner.scan(chosen, ctx, host_name=rec.path.resolve().name, properties=tuple(describe(rec, rec.platform)))
    return runner.named_by_os(scan)


def by_name(scan, name):
    return [c for c in scan.components if c.name == name]


def one(scan, category, **fields):
    found = [c for c in scan.components if c.category == category
             and all(getattr(c, k) == v for k, v in fields.items())]
    assert len(found) == 1, (fields, [(c.name, c.version) for c in scan.components if c.category == category])
    return found[0]


def gaps(scan):
    """Every collector's gaps (the recording check's first)."""
    return [g for run in scan.runs for g in run.gaps]


def _folders():
    if not SHARED.is_dir():
        # Say it: without ../shared this module runs 24 of its 93 tests, and an empty parameter
        # list would hide the ~69 recorded folders behind one anonymous "empty parameter set".
        return [pytest.param(None, id="shared-absent", marks=pytest.mark.skip(
            reason=f"{SHARED} absent: every recorded folder of ../shared/fixtures not tested"))]
    return sorted(p for p in SHARED.glob("*/*") if p.is_dir())


# ---------------------------------------------------------------- every folder


@needs_shared
@pytest.mark.parametrize("folder", _folders(), ids=lambda p: f"{p.parent.name}/{p.name}" if p else "shared-absent")
def test_every_shared_folder_ingests_into_a_valid_cbom(folder):
    scan = ingest(folder)
    assert scan.runs[0].status in (Status.OK, Status.PARTIAL), scan.runs[0]
    assert not any("ingest stopped early" in g for g in gaps(scan))
    assert validate.errors(cyclonedx.to_dict(scan)) == []
    assert scan.components, "nothing ingested"
    assert ("cbom:source", "recorded") in scan.properties


# ---------------------------------------------------------------- Windows identity facts


@needs_shared
def test_windows_10_systeminfo_and_qfe():
    scan = ingest(SHARED / "windows/wesng-10-1809-precision-5530")
    assert scan.host.name == "DESKTOP-LOQ9L09"
    assert (scan.host.manufacturer, scan.host.model) == ("Dell Inc.", "Precision 5530")
    os_ = one(scan, Category.OPERATING_SYSTEM)
    assert (os_.name, os_.version, os_.description) == ("windows", "10.0.17763", "Microsoft Windows 10 Pro")
    assert os_.prop("cbom:build") == "17763"
    assert [h.split()[0] for h in os_.props("cbom:hotfix")] == ["KB4486553", "KB4470788", "KB4480056",
                                                                "KB4487038", "KB4482887"]
    bios = one(scan, Category.FIRMWARE, name="BIOS")
    assert (bios.manufacturer, bios.version, bios.prop("cbom:firmware:release-date")) == ("Dell Inc.", "1.7.0", "2018-12-25")
    cpu = [c for c in scan.components if c.prop("cbom:device-type") == "cpu"]
    assert [c.name for c in cpu] == ["Intel64 Family 6 Model 158 Stepping 10"]
    mem = one(scan, Category.HARDWARE, name="System memory")
    assert mem.prop("cbom:memory:total-bytes") == str(32503 << 20)  # "32 503 MB"
    assert {c.name for c in scan.components if c.category == Category.SOFTWARE} >= {"KB4486553", "KB4482887"}


@needs_shared
def test_windows_7_french_cp850_systeminfo():
    scan = ingest(SHARED / "windows/wesng-7-sp1-x64-fr")  # cmd (cp850) and PowerShell (UTF-16) captures
    os_ = one(scan, Category.OPERATING_SYSTEM)
    assert os_.version == "6.1.7601" and os_.prop("cbom:service-pack") == "Service Pack 1"
    assert os_.description == "Microsoft Windows 7 Entreprise N"
    assert len(os_.props("cbom:hotfix")) == 73
    assert (scan.host.manufacturer, scan.host.model) == ("VMware, Inc.", "VMware Virtual Platform")
    bios = one(scan, Category.FIRMWARE, name="BIOS")
    # "Phoenix Technologies LTD 6.00, 13/04/2018": day first
    assert (bios.manufacturer, bios.version, bios.prop("cbom:firmware:release-date")) == \
        ("Phoenix Technologies LTD", "6.00", "2018-04-13")


@needs_shared
def test_windows_chinese_systeminfo():
    scan = ingest(SHARED / "windows/wesng-10-1809-zh-cn")
    os_ = one(scan, Category.OPERATING_SYSTEM)
    assert os_.version == "10.0.17763"
    assert scan.host.name == "DESKTOP-0CQH3P2"


@needs_shared
def test_windows_xp_banner_before_utf16_qfe():
    scan = ingest(SHARED / "windows/wesng-xp-sp2-x86")
    os_ = one(scan, Category.OPERATING_SYSTEM)
    assert (os_.version, os_.prop("cbom:service-pack")) == ("5.1.2600", "Service Pack 2")
    assert os_.description == "Microsoft Windows XP Professional"
    assert [c.name for c in scan.components if c.category == Category.SOFTWARE] == ["Q147222"]


@needs_shared
def test_windows_xp_wmi_dmidecode_and_registry_cpu_name():
    scan = ingest(SHARED / "windows/glpi-xp-fry5264")
    assert scan.host.name == "FRY5264"
    assert (scan.host.manufacturer, scan.host.model, scan.host.serial) == ("Dell Inc.", "Precision M4400", "HLG964J")
    cpus = [c for c in scan.components if c.prop("cbom:device-type") == "cpu"]
    # WMI says "Pentium III Xeon"; CentralProcessor.reg holds the real name
    assert [c.name for c in cpus] == ["Intel(R) Core(TM)2 Duo CPU T9400 @ 2.53GHz"]
    modules = sorted((c.name, c.prop("cbom:memory:locator"), c.prop("cdx:device:serialNumber"))
                     for c in scan.components if c.prop("cbom:device-type") == "memory-module")
    assert modules == [("EBE21UE8ACUA-8G-E", "DIMM_A", "14FA6621"), ("EBE21UE8ACUA-8G-E", "DIMM_B", "AEF96621")]
    bios = one(scan, Category.FIRMWARE, name="BIOS")
    assert (bios.manufacturer, bios.version, bios.prop("cbom:firmware:release-date")) == ("Dell Inc.", "A24", "2010-08-19")


@needs_shared
def test_windows_proxmox_wmi_bios_and_computer_system():
    scan = ingest(SHARED / "windows/glpi-proxmox-vm")
    assert (scan.host.manufacturer, scan.host.model) == ("BOCHS", "BXPC")  # SeaBIOS "BOCHS_", "BXPC____"
    bios = one(scan, Category.FIRMWARE, name="BIOS")
    assert bios.prop("cbom:firmware:release-date") == "2014-04-01"


@needs_shared
def test_windows_7_board_memory_nics():
    scan = ingest(SHARED / "windows/glpi-7-netchaeiv")
    board = [c for c in scan.components if c.prop("cbom:device-type") == "baseboard"]
    assert [(c.manufacturer, c.name, c.prop("cdx:device:serialNumber")) for c in board] == \
        [("ASUSTeK Computer INC.", "P8P67", "MT7013K30709271")]
    assert [c.name for c in scan.components if c.prop("cbom:device-type") == "cpu"] == \
        ["Intel(R) Core(TM) i5-2300 CPU @ 2.80GHz"]
    assert sorted(c.name for c in scan.components if c.prop("cbom:device-type") == "memory-module") == \
        ["F3-12800CL9-2GBXL", "F3-12800CL9-2GBXL"]
    macs = {c.name: c.prop("cdx:device:macAddress") for c in scan.components
            if c.prop("cbom:device-type") == "network-adapter"}
    assert macs["Realtek PCIe GBE Family Controller"] == "F4:6D:04:97:2D:3E"
    bios = one(scan, Category.FIRMWARE, name="BIOS")
    assert (bios.manufacturer, bios.version) == ("American Megatrends Inc.", "1503")


@needs_shared
def test_windows_2003_two_xeons_and_memory():
    scan = ingest(SHARED / "windows/glpi-2003-ardevd02")
    assert scan.host.name == "ARDEVD02"
    cpus = [c for c in scan.components if c.prop("cbom:device-type") == "cpu"]
    assert [c.name for c in cpus] == ["Intel(R) Xeon(TM) CPU 3.06GHz"] * 2
    assert [c.prop("cbom:memory:size-bytes") for c in scan.components
            if c.prop("cbom:device-type") == "memory-module"] == ["1073741824"] * 2


@needs_shared
def test_windows_uninstall_programs_and_qfe_wmi():
    scan = ingest(SHARED / "windows/glpi-xp-unnamed")
    software = [c for c in scan.components if c.category == Category.SOFTWARE]
    assert len(software) == 418  # subkeys with a DisplayName (several products share a name)
    programs = {(c.name, c.version) for c in software}
    assert {("Java(TM) 6 Update 31", "6.0.310"), ("Adobe Flash Player 11 Plugin", "11.1.102.62")} <= programs
    russian = ingest(SHARED / "windows/glpi-10-russian")
    assert {(c.name, c.version) for c in russian.components} == {("КриптоПро CSP", "5.0.12000"),
                                                                 ("1C Предприятие 7.7", "77.27")}
    goneri = ingest(SHARED / "windows/glpi-xp-ordi-de-goneri")
    assert goneri.host.name == "ORDI-DE-GONÉRI"
    assert {"KB980195", "KB980232", "KB980436"} <= {c.name for c in goneri.components}


@needs_shared
def test_windows_disks_and_ipconfig():
    scan = ingest(SHARED / "windows/glpi-2008-vmw005777")
    disks = [c for c in scan.components if c.prop("cbom:device-type") == "storage"]
    assert len(disks) == 16
    # A one-property Win32_OperatingSystem dump: said, not hidden.
    assert any("wmic os output not recognised" in g for g in gaps(scan))
    ipc = ingest(SHARED / "windows/jc-ipconfig")
    macs = {c.prop("cdx:device:macAddress") for c in ipc.components}
    assert {"24:4b:fe:ab:43:c3", "00:0c:29:d6:12:2e", "a8:7e:ea:55:26:b0"} <= macs


# ---------------------------------------------------------------- Linux and macOS identity facts


@needs_shared
def test_linux_industrial_pc_dmidecode():
    scan = ingest(SHARED / "linux/linuxhw-siemens-simatic-ipc227g")
    assert (scan.host.manufacturer, scan.host.model) == ("SIEMENS AG", "SIMATIC IPC227G")
    assert scan.host.serial == ""  # hw-probe masked it as '--'
    bios = one(scan, Category.FIRMWARE, name="BIOS")
    assert (bios.manufacturer, bios.version, bios.prop("cbom:firmware:release-date")) == \
        ("INSYDE Corp.", "V28.01.05", "2022-09-14")
    assert [c.name for c in scan.components if c.prop("cbom:device-type") == "cpu"] == \
        ["Intel Atom(R) x6413E Processor @ 1.50GHz"]
    assert [(c.name, c.manufacturer) for c in scan.components if c.prop("cbom:device-type") == "memory-module"] == \
        [("8ATF2G64HZ-3G2F1", "Micron Technology")]


@needs_shared
def test_linux_centos_rpm_qai_lsblk_lsusb():
    scan = ingest(SHARED / "linux/jc-centos-7.7-vmware")
    assert scan.host.serial == "VMware-56 4d fd 28 89 33 f8 e2-64 74 01 59 92 3b 58 0e"
    make = [c for c in scan.components if c.category == Category.SOFTWARE and c.name == "make"]
    assert [c.version for c in make] == ["1:3.82-24.el7"] or [c.version for c in make] == ["3.82-24.el7"]
    assert "pkg:rpm/" in make[0].purl
    assert len([c for c in scan.components if c.category == Category.SOFTWARE]) == 430
    assert [c.name for c in scan.components if c.prop("cbom:device-type") == "storage"] == ["sda"]
    assert [c.name for c in scan.components if c.prop("cbom:device-type") == "cpu"] == \
        ["Intel(R) Core(TM) i5-8279U CPU @ 2.40GHz"]  # one enabled socket of VMware's 64
    assert "VMware Virtual USB Mouse" in {c.name for c in scan.components}


@needs_shared
def test_linux_cpuinfo_samples_one_by_one(tmp_path):
    expected = {"ansible-x86_64-8cpu.txt": "Intel(R) Core(TM) i7-4800MQ CPU @ 2.70GHz"}
    for sample in sorted((SHARED / "linux/cpuinfo").glob("*.txt")):
        folder = tmp_path / sample.stem
        folder.mkdir()
        shutil.copy(sample, folder / "proc-cpuinfo.txt")
        scan = ingest(folder)
        cpus = [c for c in scan.components if c.prop("cbom:device-type") == "cpu"]
        assert cpus, sample.name
        if expected.get(sample.name):
            assert cpus[0].name == expected[sample.name]


@needs_shared
def test_macos_system_profiler_newest_recording_wins():
    scan = ingest(SHARED / "macos/glpi-powermac-g5-ck54202sr6v")
    assert (scan.host.manufacturer, scan.host.model, scan.host.serial) == ("Apple", "PowerMac11,2", "CK54202SR6V")
    os_ = one(scan, Category.OPERATING_SYSTEM)
    assert (os_.version, os_.prop("cbom:build")) == ("10.5.8", "9L31a")
    assert one(scan, Category.FIRMWARE, name="Boot ROM (system firmware)").version == "5.2.7f1"
    assert {"Maxtor 6B250S0", "PowerPC G5 (1.1)"} <= {c.name for c in scan.components}


@needs_shared
def test_macos_sw_vers_sysctl_and_applications():
    big_sur = ingest(SHARED / "macos/sys-toolkit-big-sur")
    os_ = one(big_sur, Category.OPERATING_SYSTEM)
    assert (os_.version, os_.prop("cbom:build")) == ("11.6.2", "20G314")
    mbp = ingest(SHARED / "macos/ansible-macbookpro18-1")
    assert mbp.host.model == "MacBookPro18,1" and mbp.host.name == "akasurde-mac"
    assert [c.name for c in mbp.components if c.prop("cbom:device-type") == "cpu"] == ["Apple M1 Pro"]
    apps = ingest(SHARED / "macos/glpi-applications-sample5-xml")
    assert len([c for c in apps.components if c.category == Category.SOFTWARE]) == 367
    text_apps = ingest(SHARED / "macos/fi-applications-sample1")  # text form, French Mac
    terminal = [c for c in text_apps.components if c.name == "Terminal"]
    assert [(c.version, c.prop("cbom:macos:path")) for c in terminal] == [("2.1.2", "/Applications/Utilities/Terminal.app")]


# ---------------------------------------------------------------- damaged input


def test_unparseable_file_is_a_gap_and_the_rest_is_ingested(tmp_path):
    (tmp_path / "systeminfo.txt").write_bytes(b"\x00\x01garbage\xff\xfe")
    (tmp_path / "Win32_BIOS.wmi").write_text("Manufacturer=Acme\nSMBIOSBIOSVersion=1.2.3\nReleaseDate=20200102000000.000000+000\n")
    (tmp_path / "Win32_Processor.wmi").write_text("")
    scan = ingest(tmp_path)
    assert {r.name: r.status for r in scan.runs}["os.windows"] == Status.PARTIAL
    assert any("systeminfo output not recognised" in g for g in gaps(scan))
    assert any(g.startswith("Win32_Processor: ") for g in gaps(scan))
    missing = [g for g in gaps(scan) if g.startswith("expected files missing")]
    assert missing and "Uninstall.reg" in missing[0] and "Win32_BIOS.wmi" not in missing[0]
    bios = one(scan, Category.FIRMWARE, name="BIOS")
    assert (bios.manufacturer, bios.version, bios.prop("cbom:firmware:release-date")) == ("Acme", "1.2.3", "2020-01-02")
    assert validate.errors(cyclonedx.to_dict(scan)) == []


def test_truncated_dpkg_status_and_altered_file(tmp_path):
    (tmp_path / "os-release").write_text('ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12"\n')
    (tmp_path / "dpkg-status").write_text(
        "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.13.dfsg-1\n\n"
        "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVers")
    data = (tmp_path / "os-release").read_bytes()
    (tmp_path / "SHA256SUMS").write_text(f"{hashlib.sha256(data + b'x').hexdigest()}  os-release\n")
    scan = ingest(tmp_path)
    assert [c.version for c in scan.components if c.name == "zlib1g"] == ["1:1.2.13.dfsg-1"]
    assert any(g.startswith("dpkg") and "truncated" in g for g in gaps(scan)), gaps(scan)
    assert any("os-release: does not match its SHA256SUMS" in g for g in gaps(scan))


def test_unrecognised_folder_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n")
    assert Recording(str(tmp_path)).platform is None  # cbom ingest refuses it (cbom.cli.cmd_ingest)


# ---------------------------------------------------------------- small parsers


def test_manifest_and_uname():
    m = parse_manifest("# cbom collect.sh manifest: file\texit code\tUTC time\tcommand\n"
                       "# script collect.sh version 2; host plc-07; started 20261123T201330Z; uid 0; os Linux\n"
                       "uname-a.txt\t0\t2026-11-23T20:13:30Z\tuname -a\nrpm-qai.txt\t127\t2026-11-23T20:13:30Z\trpm -qai\n")
    assert (m.script, m.host, m.started) == ("collect.sh version 2", "plc-07", "20261123T201330Z")
    assert [(e.file, e.rc) for e in m.entries] == [("uname-a.txt", "0"), ("rpm-qai.txt", "127")]
    assert uname_fields("Linux vm 6.18.44-fc-v782 #1 SMP PREEMPT_DYNAMIC @0 x86_64 GNU/Linux") == \
        ("6.18.44-fc-v782", "#1 SMP PREEMPT_DYNAMIC @0", "x86_64")
    assert uname_fields("Linux box 2.6.32 #1 Tue Mar 1 armv7l GNU/Linux")[2] == "armv7l"


def test_ip_addr_ss_and_rpm_qai():
    infos = parse_ip_addr("2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400 qdisc pfifo_fast state UP\n"
                          "    link/ether 02:fc:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n"
                          "    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\n"
                          "    inet6 fe80::fc:ff:fe00:1/64 scope link \n")
    assert [(i.name, i.mac, i.ipv4, i.ipv6, i.mtu, i.state) for i in infos] == \
        [("eth0", "02:fc:00:00:00:01", ["192.0.2.2/24"], ["fe80::fc:ff:fe00:1/64"], 1400, "up")]
    socks = parse_ss('Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n'
                     'tcp   LISTEN 0      128          0.0.0.0:22      0.0.0.0:*    users:(("sshd",pid=1,fd=3))\n'
                     'udp   UNCONN 0      0               [::]:161        [::]:*\n')
    assert [(s.protocol, s.address, s.port, s.process) for s in socks] == \
        [("tcp", "0.0.0.0", 22, "sshd"), ("udp", "::", 161, "unknown")]
    pkgs, problems = parse_rpm_qai("Name        : make\nEpoch       : 1\nVersion     : 3.82\nRelease     : 24.el7\n"
                                   "Architecture: x86_64\nInstall Date: Wed 16 Oct 2019 09:21:42 AM PDT\n"
                                   "Summary     : A GNU tool\nDescription :\nName: is not a field here\n"
                                   "Name        : bash\nVersion     : 4.2.46\nRelease     : 33.el7\n")
    assert [(p.name, p.version, p.epoch, p.install_date) for p in pkgs] == \
        [("make", "3.82-24.el7", "1", "2019-10-16"), ("bash", "4.2.46-33.el7", "", "")]
    assert problems == []


# ---------------------------------------------------------------- the collect scripts


def test_collect_bat_uses_the_commands_of_the_windows_fixtures():
    text = COLLECT_BAT.read_bytes().decode("ascii")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")  # cmd.exe wants CRLF
    for needle in ("systeminfo", "wmic qfe", "wmic path %%c get /format:list", "ipconfig /all", "netstat -ano",
                   "driverquery /v", "reg export", r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall",
                   r"HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Uninstall", "certutil -hashfile"):
        assert needle in text, needle
    for cls in ("Win32_ComputerSystem", "Win32_BIOS", "Win32_BaseBoard", "Win32_Processor", "Win32_PhysicalMemory",
                "Win32_DiskDrive", "Win32_NetworkAdapter", "Win32_NetworkAdapterConfiguration",
                "Win32_OperatingSystem", "Win32_QuickFixEngineering", "Win32_PnPEntity"):
        assert cls + " " in text or cls + ")" in text, cls
    ps1 = COLLECT_PS1.read_text(encoding="utf-8")
    assert "-Encoding Unicode" in ps1 and "reg export" in ps1 and "systeminfo" in ps1


def test_collect_sh_is_posix_sh():
    for shell in ("sh", "dash", "busybox"):
        exe = shutil.which(shell)
        if exe:
            argv = [exe, "sh", "-n", str(COLLECT_SH)] if shell == "busybox" else [exe, "-n", str(COLLECT_SH)]
            assert subprocess.run(argv, capture_output=True).returncode == 0, shell


COMPARED = (Category.HARDWARE, Category.FIRMWARE, Category.OPERATING_SYSTEM, Category.SOFTWARE,
            Category.NETWORK_INTERFACE, Category.LISTENING_SERVICE)

# Properties a collect.sh recording does not hold yet, so `cbom ingest` of it leaves them out
# (product defects, reported in issue 18; not differences of time). Tolerated only as *absent* from
# the recorded component: a recorded value that differs from the live one still fails the test.
RECORDING_LACKS = {
    # collect.sh records `dpkg-query`'s status, not the mtimes of /var/lib/dpkg/info/*.list.
    (Category.SOFTWARE, "cbom:package:install-date"),
    # `lspci -nnmmv` has no "Kernel driver in use" (that is -k), and /sys/module/*/version is not copied.
    (Category.HARDWARE, "cbom:driver"), (Category.HARDWARE, "cbom:driver:version"),
    # With no LANG in /etc/default/locale, a live scan takes cbom's own $LANG; the recording keeps no environment.
    (Category.OPERATING_SYSTEM, "cbom:locale"),
}


def _compared(scan):
    """Every component of the compared categories with all its fields and properties, by ref.

    Python distributions and kernel modules are not recorded by collect.sh (README) and are left out."""
    out = {}
    for c in scan.components:
        if c.category in COMPARED and c.prop("cbom:package-manager") not in ("python", "kernel-module"):
            props: dict = {}
            for key, value in c.properties:
                props.setdefault(key, []).append(value)
            out[c.ref] = ((c.category, c.kind, c.name, c.version, c.manufacturer, c.purl, c.description,
                           tuple(sorted(c.depends_on))), props)
    return out


def _differences(live: dict, recorded: dict) -> list:
    """What differs between the live and the recorded components, beyond RECORDING_LACKS."""
    problems = [("only live", r, live[r][0][2]) for r in live.keys() - recorded.keys()]
    problems += [("only recorded", r, recorded[r][0][2]) for r in recorded.keys() - live.keys()]
    for ref in live.keys() & recorded.keys():
        (fields, a), (rec_fields, b) = live[ref], recorded[ref]
        if fields != rec_fields:
            problems.append(("fields", fields, rec_fields))
        category = fields[0]
        for key in a.keys() | b.keys():
            if a.get(key) == b.get(key):
                continue
            if (category, key) in RECORDING_LACKS and key not in b:
                continue
            if category == Category.NETWORK_INTERFACE and key == "cbom:route" and _routes_as_recorded(a[key]) == b.get(key):
                continue
            problems.append((fields[2], key, a.get(key), b.get(key)))
    return problems


def _routes_as_recorded(live_routes: list) -> list:
    """The routes of an interface a recording gives: collect.sh records `ip route` (no `ip -6 route`)
    and the recorded backend reads only its default routes from it (a product gap, issue 18)."""
    return [r for r in live_routes if r.startswith("default via ") and ":" not in r.split()[2]]


@pytest.mark.live
def test_collect_sh_here_then_ingest_equals_a_live_scan(tmp_path):
    """collect.sh run here, ingested, against the live collectors run right after: the same components,
    network interfaces (names, MACs, addresses, MTU, state, driver, PCI address) and listening services
    included, with every property. What may truly differ between two reads seconds apart: listening
    sockets of short-lived programs and addresses renewed meanwhile (DHCP, SLAAC) — so a difference
    is retried twice with a fresh recording and scan; a lasting one fails."""
    classes, _ = load_collectors()
    for attempt in range(3):
        out = tmp_path / f"rec{attempt}"
        proc = subprocess.run(["sh", str(COLLECT_SH), str(out)], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert (out / "manifest.txt").is_file()
        recorded = ingest(out)
        # software.npm/.go/.jar: collect.sh does not record global npm folders, executables or jars
        # (their runs on the recording say so, a gap), so the live side leaves them out.
        # posture.serial: its serial ports are hardware components, which the recording has too.
        live = runner.scan(runner.select(classes, ["os", "hardware", "firmware", "software", "network",
                                                   "posture.serial"],
                                         ["software.npm", "software.go", "software.jar"], platform=Platform.LINUX),
                           ScanContext(), host_name="live")
        a, b = _compared(live), _compared(recorded)
        problems = _differences(a, b)
        if not problems:
            break
    assert problems == []
    # The comparison covered the network: every interface of this machine, with its MAC and addresses.
    interfaces = {c.name: c for c in recorded.components if c.category == Category.NETWORK_INTERFACE}
    here = {p.name for p in Path("/sys/class/net").iterdir() if (p / "type").is_file()}  # not bonding_masters
    assert set(interfaces) == here
    for name, c in interfaces.items():
        mac = (Path("/sys/class/net", name, "address").read_text().strip()
               if Path("/sys/class/net", name, "type").read_text().strip() == "1" else "")
        assert c.prop("cdx:device:macAddress") == mac, name
    assert any(c.props("cbom:ipv4") for c in interfaces.values())
    live_os = one(live, Category.OPERATING_SYSTEM)
    rec_os = one(recorded, Category.OPERATING_SYSTEM)
    for prop in ("cbom:kernel", "cbom:kernel-version", "cbom:arch", "cbom:hostname", "cbom:boot-time"):
        assert rec_os.prop(prop) == live_os.prop(prop) != "", prop
    assert recorded.host.name == live_os.prop("cbom:hostname")
    props = dict(recorded.properties)
    assert props["cbom:recorded:script"].startswith("collect.sh")
    assert Recording(str(out)).platform == Platform.LINUX
    # every file checksummed by the script still matches
    assert not any("SHA256SUMS" in g for g in gaps(recorded))
