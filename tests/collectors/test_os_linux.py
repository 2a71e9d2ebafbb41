"""The os collector on Linux: live against independent commands, --root against os-release fixtures."""
from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cbom import cyclonedx, runner, validate
from cbom.collector import ScanContext
from cbom.model import Category, Component, Gap, HostFact, Kind, Platform, Status
from _areas import area
from collectors.osinfo import _linux as lx
from collectors.osinfo._cpe import make_cpe, to_cpe23

OsCollector = area("os")

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "os"
LINUX = os.uname().sysname == "Linux"


def collect(ctx):
    items = list(OsCollector().collect(ctx))
    comps = [i for i in items if isinstance(i, Component)]
    gaps = [i.reason for i in items if isinstance(i, Gap)]
    facts = [i for i in items if isinstance(i, HostFact)]
    return comps, gaps, facts


def sh(cmd: str) -> str:
    return subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, check=True).stdout.strip()


# --- live ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live():
    if not LINUX:
        pytest.skip("Linux only")
    comps, gaps, facts = collect(ScanContext())
    assert gaps == []
    assert len(comps) == 1
    return comps[0], facts


@pytest.mark.live
def test_live_kernel_and_arch(live):
    comp, _ = live
    assert comp.prop("cbom:kernel") == sh("uname -r")
    assert comp.prop("cbom:kernel-version") == sh("uname -v")
    assert comp.prop("cbom:arch") == sh("uname -m")


@pytest.mark.live
def test_live_os_release_read_by_the_shell(live):
    comp, facts = live
    path = "/etc/os-release" if os.path.exists("/etc/os-release") else "/usr/lib/os-release"
    # The shell itself parses the file: an independent reading of the same quoting rules.
    ident, version, pretty, codename = sh(
        f'. {path}; printf "%s\\n%s\\n%s\\n%s" "$ID" "$VERSION_ID" "$PRETTY_NAME" "$VERSION_CODENAME"'
    ).split("\n")
    assert comp.category == Category.OPERATING_SYSTEM and comp.kind == Kind.OPERATING_SYSTEM
    point = Path("/etc/debian_version").read_text().strip() if ident == "debian" else ""
    # Debian's point release ("12.11") is the installed version when it belongs to VERSION_ID ("12").
    expected = point if point.startswith(version + ".") else version
    assert (comp.name, comp.version, comp.description) == (ident, expected, pretty)
    if codename:
        assert comp.prop("cbom:codename") == codename
    assert HostFact("cbom:os", pretty) in facts
    if ident == "debian":
        assert comp.cpe == f"cpe:2.3:o:debian:debian_linux:{version}:*:*:*:*:*:*:*"
        assert comp.prop("cbom:point-release") == Path("/etc/debian_version").read_text().strip()


@pytest.mark.live
def test_live_hostname_boot_time_timezone(live):
    comp, _ = live
    assert comp.prop("cbom:hostname") == sh("hostname")
    boot = datetime.strptime(comp.prop("cbom:boot-time"), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    if shutil.which("uptime"):
        # `uptime -s` prints local time; `date -d` turns it into epoch seconds.
        epoch = int(sh('date -d "$(uptime -s)" +%s'))
        assert abs(boot.timestamp() - epoch) <= 2
    if os.path.exists("/etc/timezone"):
        assert comp.prop("cbom:timezone") == Path("/etc/timezone").read_text().split()[0]
    elif os.path.islink("/etc/localtime"):
        assert os.readlink("/etc/localtime").endswith("/" + comp.prop("cbom:timezone"))


@pytest.mark.live
def test_live_security_modules(live):
    comp, _ = live
    if os.path.exists("/sys/fs/selinux/enforce"):
        mode = Path("/sys/fs/selinux/enforce").read_text().strip()
        assert comp.prop("cbom:selinux") == {"1": "enforcing", "0": "permissive"}[mode]
    else:
        assert comp.prop("cbom:selinux") == "disabled"
    if os.path.exists("/sys/module/apparmor/parameters/enabled"):
        flag = Path("/sys/module/apparmor/parameters/enabled").read_text().strip()
        assert comp.prop("cbom:apparmor") == {"Y": "enabled", "N": "disabled"}[flag]
    else:
        assert comp.prop("cbom:apparmor") == "not loaded"
    if os.path.exists("/sys/kernel/security/lsm"):
        assert comp.prop("cbom:lsm") == Path("/sys/kernel/security/lsm").read_text().strip().strip(",")


@pytest.mark.live
def test_live_scan_validates_as_cyclonedx():
    if not LINUX:
        pytest.skip("Linux only")
    scan = runner.scan([OsCollector], ScanContext(), host_name="x")
    assert [r.status for r in scan.runs] == [Status.OK]
    assert validate.errors(cyclonedx.to_dict(scan)) == []
    assert scan.host.properties[0][0] == "cbom:os"
    back = cyclonedx.from_dict(cyclonedx.to_dict(scan))
    assert back.components == scan.components


# --- --root: a mounted image --------------------------------------------------------------------------

ROOTS = [
    # folder, name, version, description, cpe, codename, supplier, extra property
    ("distro-rhel9", "rhel", "9.6", "Red Hat Enterprise Linux 9.6 (Plow)",
     "cpe:2.3:o:redhat:enterprise_linux:9:*:baseos:*:*:*:*:*", "Plow", "Red Hat, Inc.", ("cbom:id-like", "fedora")),
    ("distro-ubuntu24", "ubuntu", "24.04", "Ubuntu 24.04.3 LTS",
     "cpe:2.3:o:canonical:ubuntu_linux:24.04:*:*:*:lts:*:*:*", "noble", "Canonical Ltd.", ("cbom:id-like", "debian")),
    ("distro-rocky9", "rocky", "9.3", "Rocky Linux 9.3 (Blue Onyx)",
     "cpe:2.3:o:rocky:rocky:9:*:baseos:*:*:*:*:*", "Blue Onyx", "Rocky Enterprise Software Foundation",
     ("cbom:support-end", "2032-05-31")),
    ("distro-fedora42", "fedora", "42", "Fedora Linux 42 (Forty Two)",
     "cpe:2.3:o:fedoraproject:fedora:42:*:*:*:*:*:*:*", "Forty Two", "Fedora Project",
     ("cbom:support-end", "2026-05-13")),
    ("distro-alpine", "alpine", "3.23.2", "Alpine Linux v3.23",
     "cpe:2.3:o:alpinelinux:alpine_linux:3.23.2:*:*:*:*:*:*:*", "", "Alpine Linux", ("cbom:distro-name", "Alpine Linux")),
    ("distro-debian9", "debian", "", "Debian GNU/Linux stretch/sid", "", "", "Debian",
     ("cbom:distro-name", "Debian GNU/Linux")),
    ("distro-amazon2023", "amzn", "2023", "Amazon Linux 2023",
     "cpe:2.3:o:amazon:amazon_linux:2023:*:*:*:*:*:*:*", "", "Amazon Web Services", ("cbom:support-end", "2028-03-01")),
]


def image(tmp_path: Path, folder: str) -> Path:
    root = tmp_path / "image"
    shutil.copytree(FIX / folder, root)
    return root


@pytest.mark.parametrize("case", ROOTS, ids=[r[0] for r in ROOTS])
def test_root_os_release(tmp_path, case):
    folder, name, version, pretty, cpe, codename, supplier, (key, value) = case
    ctx = ScanContext(root=image(tmp_path, folder), platform=Platform.LINUX)
    comps, gaps, facts = collect(ctx)
    (comp,) = comps
    assert (comp.name, comp.version, comp.description, comp.cpe) == (name, version, pretty, cpe)
    assert comp.prop("cbom:codename") == codename and comp.supplier == supplier
    assert comp.prop(key) == value
    assert comp.purl == ""  # no PURL type exists for an operating system
    assert facts == [HostFact("cbom:os", pretty)]
    # Nothing of the scanning machine leaks in: no running kernel, no boot time, no /sys.
    for live_only in ("cbom:kernel", "cbom:boot-time", "cbom:selinux", "cbom:apparmor", "cbom:lsm", "cbom:hostname"):
        assert comp.prop(live_only) == ""
    assert gaps == [f"kernel unknown: {ctx.root} is not a running system and holds no /lib/modules/* or /boot/vmlinuz-*"]


def test_root_ref_is_stable_across_versions(tmp_path):
    # Two releases of one distribution (9.6, then 9.3 written over it): the version differs, the ref does not.
    a = collect(ScanContext(root=image(tmp_path / "a", "distro-rhel9"), platform=Platform.LINUX))[0][0]
    older = image(tmp_path / "b", "distro-rhel9")
    for f in (older / "etc/os-release", older / "usr/lib/os-release"):
        if f.is_file() and not f.is_symlink():
            f.write_text(f.read_text().replace("9.6", "9.3"))
    b = collect(ScanContext(root=older, platform=Platform.LINUX))[0][0]
    assert (a.version, b.version) == ("9.6", "9.3")
    assert a.ref == b.ref


def test_root_absolute_symlink_stays_inside_the_image(tmp_path):
    root = tmp_path / "image"
    (root / "etc").mkdir(parents=True)
    (root / "usr/lib").mkdir(parents=True)
    shutil.copy(FIX / "distro-alpine/etc/os-release", root / "usr/lib/os-release")
    # Followed by the OS this would read the scanning machine's /usr/lib/os-release.
    (root / "etc/os-release").symlink_to("/usr/lib/os-release")
    (comp,), _, _ = collect(ScanContext(root=root, platform=Platform.LINUX))
    assert (comp.name, comp.version) == ("alpine", "3.23.2")


def test_root_full_image(tmp_path):
    root = image(tmp_path, "distro-ubuntu24")
    (root / "lib/modules/6.8.0-45-generic").mkdir(parents=True)
    (root / "boot").mkdir()
    (root / "boot/vmlinuz-6.8.0-49-generic").write_bytes(b"")
    (root / "bin").mkdir()
    shutil.copy(os.path.realpath("/bin/sh"), root / "bin/sh")  # a real ELF of this machine
    (root / "etc/hostname").write_text("plc-gateway-7\n")
    (root / "etc/localtime").symlink_to("/usr/share/zoneinfo/Europe/Berlin")  # dangling inside the image
    (root / "etc/default").mkdir()
    (root / "etc/default/locale").write_text('LANG="de_DE.UTF-8"\n')
    (root / "etc/selinux").mkdir()
    (root / "etc/selinux/config").write_text("# comment\nSELINUX=permissive\nSELINUXTYPE=targeted\n")
    (comp,), gaps, _ = collect(ScanContext(root=root, platform=Platform.LINUX))
    assert gaps == []
    assert comp.props("cbom:kernel-installed") == ("6.8.0-45-generic", "6.8.0-49-generic")
    assert comp.prop("cbom:arch") == os.uname().machine
    assert comp.prop("cbom:hostname") == "plc-gateway-7"
    assert comp.prop("cbom:timezone") == "Europe/Berlin"
    assert comp.prop("cbom:locale") == "de_DE.UTF-8"
    assert comp.prop("cbom:selinux-config") == "permissive"


def test_root_lsb_release_only(tmp_path):
    root = image(tmp_path, "distro-ubuntu24")
    (root / "etc/os-release").unlink()
    (comp,), _, _ = collect(ScanContext(root=root, platform=Platform.LINUX))
    assert (comp.name, comp.version, comp.description) == ("ubuntu", "24.04", "Ubuntu 24.04.3 LTS")
    assert comp.prop("cbom:codename") == "noble"


@pytest.mark.parametrize("content", [
    os.urandom(512).replace(b"=", b"-"),
    b"\x00\x01\x02\xff\xfe",
    b"",
])
def test_root_garbled_os_release_is_a_gap(tmp_path, content):
    root = tmp_path / "image"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_bytes(content)
    comps, gaps, facts = collect(ScanContext(root=root, platform=Platform.LINUX))
    assert comps == [] and facts == []
    assert "/etc/os-release holds no ID= line (garbled or truncated?)" in gaps
    assert gaps[-1].startswith("Linux distribution unknown: ")


def test_root_truncated_os_release(tmp_path):
    root = tmp_path / "image"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_bytes((FIX / "distro-rhel9/etc/os-release").read_bytes()[:40])
    (comp,), gaps, _ = collect(ScanContext(root=root, platform=Platform.LINUX))
    assert comp.name == "linux" and comp.prop("cbom:distro-name") == "Red Hat Enterprise Linux"
    assert "/etc/os-release holds no ID= line (garbled or truncated?)" in gaps


def test_root_unreadable_os_release_is_a_gap(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    root = image(tmp_path, "distro-rhel9")
    (root / "etc/os-release").chmod(0)
    _, gaps, _ = collect(ScanContext(root=root, platform=Platform.LINUX))
    assert "cannot read /etc/os-release: Permission denied" in gaps


def test_empty_root(tmp_path):
    comps, gaps, _ = collect(ScanContext(root=tmp_path, platform=Platform.LINUX))
    assert comps == []
    assert gaps[-1] == f"Linux distribution unknown: no usable os-release, lsb-release or /etc/*-release under {tmp_path}"


def test_root_scan_through_runner_is_partial_and_valid(tmp_path):
    scan = runner.scan([OsCollector], ScanContext(root=image(tmp_path, "distro-rhel9"), platform=Platform.LINUX),
                       host_name="x")
    (run,) = scan.runs
    assert run.status == Status.PARTIAL and run.reason.startswith("kernel unknown")
    assert validate.errors(cyclonedx.to_dict(scan)) == []


# --- pure parsers ---------------------------------------------------------------------------------------


def test_parse_os_release_quoting():
    text = 'A="x y"\nB=\'single $quoted\'\nC=plain\n# X=comment\nD="esc \\"q\\" \\$d"\nlower=ignored\nE="unclosed\n'
    assert lx.parse_os_release(text) == {"A": "x y", "B": "single $quoted", "C": "plain", "D": 'esc "q" $d',
                                         "E": "unclosed"}


@pytest.mark.parametrize("line, expected", [
    ("CentOS release 6.10 (Final)", {"ID": "centos", "VERSION_ID": "6.10", "VERSION_CODENAME": "Final"}),
    ("CentOS Linux release 7.9.2009 (Core)", {"ID": "centos", "VERSION_ID": "7.9.2009", "VERSION_CODENAME": "Core"}),
    ("Red Hat Enterprise Linux Server release 6.2 (Santiago)", {"ID": "rhel", "VERSION_ID": "6.2"}),
    ("base-release", {}),  # python-distro's kvmibm1 redhat-release: no version, nothing to say
])
def test_parse_release_line(line, expected):
    got = lx.parse_release_line(line + "\n")
    assert {k: got.get(k) for k in expected} == expected
    if not expected:
        assert got == {}


def test_legacy_release_cpe():
    info = lx.parse_release_line("CentOS release 6.10 (Final)\n", "centos")
    assert lx.distro_cpe(info) == "cpe:2.3:o:centos:centos:6.10:*:*:*:*:*:*:*"


def test_small_parsers():
    assert lx.parse_btime("cpu 1 2 3\nbtime 1700000000\nprocesses 5\n") == "2023-11-14T22:13:20Z"
    assert lx.parse_btime("garbage") == ""
    assert lx.parse_lockdown("[none] integrity confidentiality\n") == "none"
    assert lx.timezone_from_link("../usr/share/zoneinfo/America/New_York") == "America/New_York"
    assert lx.timezone_from_link("/var/db/timezone/zoneinfo/Europe/Paris") == "Europe/Paris"  # macOS
    assert lx.timezone_from_link("") == ""
    assert lx.parse_locale_conf('# x\nLANG="fr_FR.UTF-8"\nLC_TIME=C\n') == "fr_FR.UTF-8"
    assert lx.parse_lsb_release((FIX / "distro-ubuntu24/etc/lsb-release").read_text())["VERSION_ID"] == "24.04"
    with open(os.path.realpath("/bin/sh"), "rb") as f:
        assert lx.elf_machine(f.read(64)) == os.uname().machine
    assert lx.elf_machine(b"#!/bin/sh\n" + b"\x00" * 60) == ""


@pytest.mark.parametrize("given, expected", [
    ("cpe:/o:redhat:enterprise_linux:9::baseos", "cpe:2.3:o:redhat:enterprise_linux:9:*:baseos:*:*:*:*:*"),
    ("cpe:/o:fedoraproject:fedora:42", "cpe:2.3:o:fedoraproject:fedora:42:*:*:*:*:*:*:*"),
    ("cpe:/o:suse:sles:15:sp5", "cpe:2.3:o:suse:sles:15:sp5:*:*:*:*:*:*"),
    ("cpe:/o:vendor:prod%21uct:1.0::~~~~x64~", "cpe:2.3:o:vendor:prod\\!uct:1.0:*:*:*:*:*:x64:*"),
    ("cpe:2.3:o:amazon:amazon_linux:2023", "cpe:2.3:o:amazon:amazon_linux:2023:*:*:*:*:*:*:*"),
    ("cpe:2.3:o:debian:debian_linux:12:*:*:*:*:*:*:*", "cpe:2.3:o:debian:debian_linux:12:*:*:*:*:*:*:*"),
    ("not a cpe", ""),
    ("cpe:/", ""),
    ("cpe:/x:a:b", ""),
])
def test_to_cpe23(given, expected):
    assert to_cpe23(given) == expected


def test_make_cpe_quotes():
    assert make_cpe("o", "microsoft", "windows_8.1", "-", "sp1") == "cpe:2.3:o:microsoft:windows_8.1:-:sp1:*:*:*:*:*:*"
    assert make_cpe("o", "v", "p", "1:2") == "cpe:2.3:o:v:p:1\\:2:*:*:*:*:*:*:*"
