"""Software collector: parsers on real recorded package databases, damaged copies, --root."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from packageurl import PackageURL

from cbom import cyclonedx, validate
from cbom.collector import ScanContext
from cbom.model import Component, Gap, Kind, Platform, Status
from cbom.runner import run_one, scan
from _areas import area
from collectors.software._common import (
    Distro, normalise_license, spdx_expression, to_component,
)
from collectors.software._darwin import parse_sp_applications
from collectors.software._linux import (
    kernel_module_component, parse_apk_installed, parse_dpkg_status, parse_pacman_desc, parse_proc_modules,
    parse_rpm_qa,
)
from collectors.software._python import distribution_package
from collectors._text import decode_recorded
from collectors.software._windows import (
    hotfix_components, parse_reg_export, parse_wmic_qfe, uninstall_components,
)

SoftwareCollector = area("software")


# Property names spelled out (the vocabulary's own spelling is checked, not trusted).
P_DATE = "cbom:package:install-date"
P_LICENSE_TEXT = "cbom:package:license-declared"
P_MANAGER = "cbom:package-manager"
P_SIZE = "cbom:package:installed-size"
P_SOURCE = "cbom:package:source"

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "software"
UBUNTU_STATUS = FIX / "ubuntu-18.04-texlive" / "status"


def _linux_ctx(root: Path) -> ScanContext:
    return ScanContext(platform=Platform.LINUX, root=root)


def _components(items):
    return [i for i in items if isinstance(i, Component)]


# --- dpkg ----------------------------------------------------------------------------------------


def test_dpkg_status_real_file_exact_values():
    packages, problems = parse_dpkg_status(UBUNTU_STATUS.read_text("utf-8"))
    assert problems == []
    assert len(packages) == 357
    first = to_component(packages[0], Distro("ubuntu", "18.04"))
    assert (first.name, first.version) == ("libquadmath0", "8.4.0-1ubuntu1~18.04")
    assert first.purl == "pkg:deb/ubuntu/libquadmath0@8.4.0-1ubuntu1~18.04?arch=amd64&distro=ubuntu-18.04"
    assert first.kind == Kind.LIBRARY
    assert first.supplier == "Ubuntu Core developers"
    assert first.description == "GCC Quad-Precision Math Library"
    assert first.prop(P_SOURCE) == "gcc-8"
    assert first.prop(P_SIZE) == str(269 * 1024)
    assert first.prop(P_MANAGER) == "dpkg"
    fdisk = next(p for p in packages if p.name == "fdisk")
    assert (fdisk.version, fdisk.arch, fdisk.source, fdisk.section) == ("2.31.1-0.4ubuntu3.6", "amd64", "util-linux", "utils")


def test_dpkg_purl_follows_spec_and_parses_back():
    packages, _ = parse_dpkg_status(UBUNTU_STATUS.read_text("utf-8"))
    for pkg in packages:
        purl = to_component(pkg, Distro("ubuntu", "18.04")).purl
        parsed = PackageURL.from_string(purl)
        assert (parsed.type, parsed.namespace, parsed.name, parsed.version) == ("deb", "ubuntu", pkg.name, pkg.version)
        assert parsed.qualifiers == {"arch": pkg.arch, "distro": "ubuntu-18.04"}
        assert parsed.to_string() == purl
    # The issue's own example: the epoch stays in a deb version (purl-spec deb examples).
    from collectors.software._common import Package

    pkg = Package(manager="dpkg", name="openssl", version="3.0.17-1~deb12u2", arch="amd64")
    assert to_component(pkg, Distro("debian", "12")).purl == "pkg:deb/debian/openssl@3.0.17-1~deb12u2?arch=amd64&distro=debian-12"
    pkg = Package(manager="dpkg", name="attr", version="1:2.4.47-2+b1", arch="amd64")
    assert to_component(pkg, Distro("debian", "9")).purl == "pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64&distro=debian-9"


def test_dpkg_status_states():
    text = UBUNTU_STATUS.read_text("utf-8")
    text = text.replace("Package: fdisk\nStatus: install ok installed",
                        "Package: fdisk\nStatus: deinstall ok config-files", 1)
    text = text.replace("Package: libgs9-common\nStatus: install ok installed",
                        "Package: libgs9-common\nStatus: hold ok installed", 1)
    packages, problems = parse_dpkg_status(text)
    names = {p.name for p in packages}
    assert problems == []
    assert "fdisk" not in names  # removed, only its conffiles remain
    assert "libgs9-common" in names  # held packages are installed
    assert len(packages) == 356


def test_dpkg_truncated_file_keeps_every_complete_stanza():
    data = UBUNTU_STATUS.read_bytes()
    cut = data[: len(data) // 2]
    cut = cut[: cut.rindex(b"\nVersion: ") + 12]  # cut inside a Version value
    complete = sum(line.startswith(b"Package: ") for line in cut[: cut.rindex(b"\n\n")].splitlines())
    packages, problems = parse_dpkg_status(cut.decode("utf-8"))
    assert len(packages) == complete
    assert len(problems) == 1 and "truncated" in problems[0]


def _fake_dpkg_root(tmp_path: Path, data: bytes, os_release: str = "") -> Path:
    status = tmp_path / "var" / "lib" / "dpkg" / "status"
    status.parent.mkdir(parents=True)
    status.write_bytes(data)
    if os_release:
        (tmp_path / "etc").mkdir()
        (tmp_path / "etc" / "os-release").write_text(os_release)
    return tmp_path


def test_dpkg_damaged_copy_is_partial_with_count(tmp_path):
    data = UBUNTU_STATUS.read_bytes()
    # 1: a stanza loses its Version; 2: a non-UTF-8 byte in a description; 3: a garbage line.
    data = data.replace(b"Version: 2.31.1-0.4ubuntu3.6\n", b"", 1)
    data = data.replace(b"Description: GCC Quad-Precision Math Library", b"Description: GCC Quad-Precision \xff Library", 1)
    data = data.replace(b"Package: libgs9-common\n", b"Package: libgs9-common\n%%garbage%%\n", 1)
    root = _fake_dpkg_root(tmp_path, data)
    run, items = run_one(SoftwareCollector, _linux_ctx(root))
    assert run.status == Status.PARTIAL
    comps = _components(items)
    assert len(comps) == 356  # only fdisk (no Version) is missing
    gaps = [i.reason for i in items if isinstance(i, Gap)]
    assert len(gaps) == 1
    assert gaps[0].startswith("dpkg /var/lib/dpkg/status: 3 problems")
    assert "fdisk (line" in gaps[0] and "no Version" in gaps[0]
    assert "non-UTF-8" in gaps[0] and "garbage" in gaps[0]
    quad = next(c for c in comps if c.name == "libquadmath0")
    assert quad.description == "GCC Quad-Precision \ufffd Library"


def test_root_redirects_every_read(tmp_path):
    root = _fake_dpkg_root(tmp_path, UBUNTU_STATUS.read_bytes(), 'ID=ubuntu\nVERSION_ID="18.04"\n')
    run, items = run_one(SoftwareCollector, _linux_ctx(root))
    assert run.status == Status.OK, run.reason
    comps = _components(items)
    assert len(comps) == 357  # nothing of this machine (its dpkg, its Pythons, /proc) leaks in
    assert all(c.purl.endswith("distro=ubuntu-18.04") for c in comps)


# --- rpm, apk, pacman ----------------------------------------------------------------------------


def test_rpm_qa_glpi_recording():
    packages, problems = parse_rpm_qa((FIX / "mageia-2-glpi" / "rpm-qa.txt").read_text("utf-8"))
    assert problems == [] and len(packages) == 10
    c = to_component(packages[0], Distro("mageia", "2"))
    assert (c.name, c.version, c.supplier) == ("libpciaccess0", "0.12.1-1.mga1", "Mageia.Org")
    assert c.purl == "pkg:rpm/mageia/libpciaccess0@0.12.1-1.mga1?arch=i586&distro=mageia-2"
    assert c.description == "Generic PCI access library (from X.org)"
    assert c.prop(P_DATE) == "2011-07-19T13:05:03Z" and c.prop(P_SIZE) == "38452"
    tainted = next(p for p in packages if p.name == "lib64swresample0")
    assert tainted.version == "0.10.2-2.mga2.tainted"


def test_rpm_epoch_qualifier_and_bad_line():
    line = ("bash\tx86_64\t5.1.8-6.el9\t1700000000\t7738634\tRed Hat, Inc.\tThe GNU Bourne Again shell\tUnspecified\t2\t"
            "bash-5.1.8-6.el9.src.rpm\tGPLv3+\tRed Hat\thttps://www.gnu.org/software/bash\n")
    packages, problems = parse_rpm_qa(line + "broken line\n")
    assert problems == ["line 2: 1 columns, expected 8 or more"]
    c = to_component(packages[0], Distro("rhel", "9.3"))
    assert c.version == "2:5.1.8-6.el9"
    assert c.purl == "pkg:rpm/rhel/bash@5.1.8-6.el9?arch=x86_64&distro=rhel-9.3&epoch=2"


def test_apk_installed_real_database():
    text = (FIX / "alpine-3.14-armv7-minirootfs" / "installed").read_text("utf-8")
    packages, problems = parse_apk_installed(text)
    assert problems == [] and len(packages) == 11
    comps = {p.name: to_component(p, Distro("alpine", "3.14.0")) for p in packages}
    musl = comps["musl"]
    assert (musl.version, musl.licenses, musl.supplier) == ("1.2.2-r3", ("MIT",), "Timo Teräs")
    assert musl.purl == "pkg:apk/alpine/musl@1.2.2-r3?arch=armv7&distro=alpine-3.14.0"
    assert musl.prop(P_SIZE) == "516096"
    assert comps["libcrypto1.1"].prop(P_SOURCE) == "openssl"
    assert comps["ca-certificates-bundle"].licenses == ("MPL-2.0 AND MIT",)
    assert comps["libretls"].licenses == ("ISC AND (BSD-3-Clause OR MIT)",)
    assert comps["musl-utils"].licenses == ("MIT", "BSD", "GPL2+")  # old space-separated list
    assert comps["boost1.75-system"].licenses == ("custom",)
    truncated = text[: text.index("P:zlib") + 8]
    packages, problems = parse_apk_installed(truncated)
    assert [p.name for p in packages][-1] == "ca-certificates-bundle"
    assert len(packages) == 4 and len(problems) == 1 and "truncated" in problems[0]


def test_pacman_local_database_with_corrupt_entry(tmp_path):
    local = tmp_path / "var" / "lib" / "pacman" / "local"
    shutil.copytree(FIX / "arch-syft" / "local", local)
    (local / "ALPM_DB_VERSION").write_text("9\n")
    run, items = run_one(SoftwareCollector, _linux_ctx(tmp_path))
    assert run.status == Status.PARTIAL
    assert run.reason == "pacman /var/lib/pacman/local: 1 problem (corrupt-0.2.1-3/desc: no %NAME% field)"
    comps = {c.name: c for c in _components(items)}
    assert sorted(comps) == ["emacs", "gmp", "tree-sitter"]
    gmp = comps["gmp"]
    assert gmp.purl == "pkg:alpm/arch/gmp@6.2.1-2?arch=x86_64"
    assert gmp.licenses == ("LGPL3", "GPL")  # Arch's old names are ambiguous: kept as declared
    assert gmp.prop(P_DATE) == "2022-10-16T00:04:00Z"
    assert gmp.supplier == "Antonio Rojas"
    assert comps["tree-sitter"].licenses == ("MIT",)


def test_pacman_desc_missing_version():
    with pytest.raises(ValueError, match="VERSION"):
        parse_pacman_desc("%NAME%\nfoo\n\n%ARCH%\nx86_64\n")


# --- kernel modules ------------------------------------------------------------------------------


def test_proc_modules_recording():
    modules, problems = parse_proc_modules((FIX / "jc-proc-modules" / "modules").read_text())
    assert problems == [] and len(modules) == 92
    assert modules[0] == ("binfmt_misc", 24576, "", "Live")
    vsock = next(m for m in modules if m[0] == "vsock")
    assert vsock == ("vsock", 45056, "vsock_loopback,vmw_vsock_virtio_transport_common,vmw_vsock_vmci_transport", "Live")
    c = kernel_module_component(*vsock, version="1.0.2.0-k", srcversion="ABC", kernel="5.8.0-1-generic")
    assert c.prop(P_MANAGER) == "kernel-module" and c.prop("cbom:kernel-module:used-by").startswith("vsock_loopback")
    assert c.ref == kernel_module_component("vsock", 1, "", "Live", "", "", "").ref  # identity is the name
    _, problems = parse_proc_modules("garbage\n")
    assert problems == ["line 1: 'garbage'"]


# --- Python --------------------------------------------------------------------------------------


def test_python_metadata_licences():
    meta = "Metadata-Version: 2.4\nName: Foo_Bar\nVersion: 1.0\nLicense-Expression: mit OR apache-2.0\nAuthor: A\n\nbody: x\n"
    c = to_component(distribution_package(meta, "/site"), Distro("debian", "12"))
    assert c.purl == "pkg:pypi/foo-bar@1.0"
    assert c.licenses == ("MIT OR Apache-2.0",)
    meta = "Name: x\nVersion: 2\nClassifier: License :: OSI Approved :: MIT License\n"
    c = to_component(distribution_package(meta, "/site"), Distro())
    assert c.licenses == ("MIT",) and c.props(P_LICENSE_TEXT) == ("MIT License",)
    with pytest.raises(ValueError, match="Version"):
        distribution_package("Name: x\n", "/site")


def test_licence_normalisation():
    assert spdx_expression("gpl-2.0-or-later") == "GPL-2.0-or-later"
    assert spdx_expression("Apache-2.0 WITH LLVM-exception") == "Apache-2.0 WITH LLVM-exception"
    assert spdx_expression("GPL2+") is None
    assert normalise_license("Apache Software License") == ("Apache Software License", False)
    assert normalise_license("Foo AND Bar") == ("Foo and Bar", False)  # not an expression the writer would emit


# --- Windows -------------------------------------------------------------------------------------


def _reg(name: str):
    return parse_reg_export(decode_recorded((FIX / name / "Uninstall.reg").read_bytes()))


def test_windows_xp_uninstall_export():
    keys, problems = _reg("windows-xp-unnamed")
    assert problems == [] and len(keys) == 536
    comps = list(uninstall_components(keys))
    assert len(comps) == 418
    shock = next(c for c in comps if c.name == "Adobe Shockwave Player 11")
    assert (shock.version, shock.publisher) == ("11", "Adobe Systems, Inc.")
    assert shock.prop("cbom:windows:install-location") == "C:\\WINDOWS\\system32\\Adobe\\"
    kb = next(c for c in comps if c.name == "Security Update for Windows XP (KB2079403)")
    assert kb.prop("cbom:windows:release-type") == "Security Update"
    assert kb.prop("cbom:windows:update-of") == "Windows XP - Software Updates"
    assert kb.prop(P_DATE) == "2010-08-16"
    assert sum(c.prop("cbom:windows:release-type") == "Security Update" for c in comps) == 209
    assert len({c.ref for c in comps}) == len(comps)


def test_windows_russian_uninstall_export():
    keys, problems = _reg("windows-10-russian")
    assert problems == []
    csp, onec = list(uninstall_components(keys))
    assert (csp.name, csp.version, csp.publisher) == ("КриптоПро CSP", "5.0.12000", "Компания КриптоПро")
    assert csp.prop(P_DATE) == "2021-07-24"
    assert csp.prop("cbom:windows:install-location") == "C:\\Program Files (x86)\\Crypto Pro\\CSP\\"
    assert csp.prop("cbom:windows:msi-product-code") == "{50F91F80-D397-437C-B0C8-62128DE3B55E}"
    assert dict(keys[1][1])["HelpLink"] == "https://support.cryptopro.ru/"  # REG_EXPAND_SZ hex(2)
    assert (onec.name, onec.version) == ("1C Предприятие 7.7", "77.27")


def test_windows_truncated_export_keeps_other_programs():
    text = decode_recorded((FIX / "windows-10-russian" / "Uninstall.reg").read_bytes())
    start = text.index('"Readme"=hex(2):')
    cut = text[: text.index("\n", start) + 1]  # ends after a line that continues (trailing backslash)
    keys, problems = parse_reg_export(cut)
    assert problems == [f"line {cut.count(chr(10))}: value cut short at end of file"]
    keys, problems = parse_reg_export(text[: start + 40])  # no final line break
    assert problems == ["file does not end with a line break (truncated?)"]
    comps = list(uninstall_components(keys))
    assert comps == []  # DisplayName comes after the cut: nothing invented
    damaged = text.replace('"DisplayVersion"="5.0.12000"', '"DisplayVersion"="5.0.12000', 1)
    keys, problems = parse_reg_export(damaged)
    assert len(problems) == 1 and "unterminated" in problems[0]
    assert [c.name for c in uninstall_components(keys)] == ["КриптоПро CSP", "1C Предприятие 7.7"]


def test_wmic_qfe_tables():
    rows, problems = parse_wmic_qfe(decode_recorded((FIX / "wesng-qfe" / "7-sp1-x64-b.txt").read_bytes()))
    assert problems == [] and len(rows) == 271
    comps = list(hotfix_components(rows))
    assert comps[0].name == "KB2849697" and comps[0].description == "Update"
    assert comps[0].prop("cbom:windows:installed-on") == "5/22/2015"
    assert comps[0].prop("cbom:windows:installed-by") == "WIN7SP1X64\\User"
    rows, problems = parse_wmic_qfe(decode_recorded((FIX / "wesng-qfe" / "xp-sp2-x86.txt").read_bytes()))
    assert [r["HotFixID"] for r in rows] == ["Q147222"]  # after wmic's ANSI first-run banner


# --- macOS ---------------------------------------------------------------------------------------


def test_macos_system_profiler_applications():
    comps, problems = parse_sp_applications((FIX / "macos-apps" / "sample5.xml").read_bytes())
    assert problems == [] and len(comps) == 367
    onedrive = next(c for c in comps if c.name == "OneDrive")
    assert (onedrive.version, onedrive.publisher) == ("24.065.0331", "Microsoft Corporation")
    assert onedrive.prop("cbom:macos:path") == "/Applications/OneDrive.app"
    assert onedrive.prop("cbom:macos:last-modified") == "2024-04-25T11:11:14Z"
    safari = next(c for c in comps if c.name == "Safari")
    assert (safari.version, safari.publisher) == ("17.4.1", "Apple Inc.")
    _, problems = parse_sp_applications(b"<plist><array><dict>")
    assert len(problems) == 1


# --- the document --------------------------------------------------------------------------------


def test_document_validates():
    result = scan([SoftwareCollector], ScanContext(), host_name="x")
    assert result.runs[0].status in (Status.OK, Status.PARTIAL)
    assert len(result.components) > 0
    assert validate.errors(cyclonedx.to_dict(result)) == []


def test_fixture_documents_validate(tmp_path):
    root = _fake_dpkg_root(tmp_path, UBUNTU_STATUS.read_bytes(), "ID=ubuntu\nVERSION_ID=18.04\n")
    shutil.copytree(FIX / "arch-syft" / "local", root / "var" / "lib" / "pacman" / "local")
    apk = root / "lib" / "apk" / "db"
    apk.mkdir(parents=True)
    shutil.copy(FIX / "alpine-3.14-armv7-minirootfs" / "installed", apk / "installed")
    result = scan([SoftwareCollector], _linux_ctx(root), host_name="x")
    assert len(result.components) == 357 + 3 + 11
    keys, _ = _reg("windows-xp-unnamed")
    mac, _ = parse_sp_applications((FIX / "macos-apps" / "sample5.xml").read_bytes())
    from dataclasses import replace

    doc = cyclonedx.to_dict(replace(result, components=result.components + tuple(uninstall_components(keys)) + tuple(mac)))
    assert validate.errors(doc) == []
