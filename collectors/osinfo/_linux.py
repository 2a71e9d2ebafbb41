"""Linux: parse os-release and its predecessors, /proc and securityfs values.

Pure functions of text, in the manner of `distro`'s `_parse_*_content()`;
the collector does the reading (through ctx, so --root applies).
"""
from __future__ import annotations

import re
import struct
from datetime import datetime, timezone
from typing import Dict, List, Optional, Tuple

from cbom import vocabulary as V
from cbom.model import Category, Component, Kind, make_ref

from ._cpe import make_cpe, to_cpe23

__all__ = [
    "component",
    "distro_cpe",
    "elf_machine",
    "parse_btime",
    "parse_locale_conf",
    "parse_lockdown",
    "parse_lsb_release",
    "parse_os_release",
    "parse_release_line",
    "timezone_from_link",
]


def parse_os_release(text: str) -> Dict[str, str]:
    """KEY=value pairs of an os-release file (os-release(5): shell-style quoting, # comments)."""
    out: Dict[str, str] = {}
    for line in text.replace("\r", "").split("\n"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.match(r"^[A-Z][A-Z0-9_]*$", key):
            continue
        out[key] = _unquote(value.strip())
    return out


def _unquote(value: str) -> str:
    """A shell-quoted os-release value: "…" (backslash escapes \\ " $ `), '…' (literal) or bare.

    An unbalanced quote (a truncated file) keeps what was read.
    """
    out: List[str] = []
    quote = ""
    i = 0
    while i < len(value):
        ch = value[i]
        if quote == "'":
            if ch == "'":
                quote = ""
            else:
                out.append(ch)
        elif ch == "\\" and i + 1 < len(value) and (not quote or value[i + 1] in '"\\$`'):
            i += 1
            out.append(value[i])
        elif quote == '"':
            if ch == '"':
                quote = ""
            else:
                out.append(ch)
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (not out or out[-1].isspace()):
            break  # a comment after the value
        else:
            out.append(ch)
        i += 1
    return "".join(out).strip()


def parse_lsb_release(text: str) -> Dict[str, str]:
    """/etc/lsb-release (DISTRIB_ID=…) mapped onto os-release keys."""
    raw = parse_os_release(text)
    keys = {"DISTRIB_ID": "NAME", "DISTRIB_RELEASE": "VERSION_ID", "DISTRIB_CODENAME": "VERSION_CODENAME",
            "DISTRIB_DESCRIPTION": "PRETTY_NAME"}
    out = {ours: raw[theirs] for theirs, ours in keys.items() if raw.get(theirs)}
    if out.get("NAME"):
        out["ID"] = out["NAME"].lower().replace(" ", "")
    return out


_RELEASE_FILES = {
    # file under /etc: os-release ID (when the first line does not say better)
    "redhat-release": "rhel", "centos-release": "centos", "fedora-release": "fedora",
    "rocky-release": "rocky", "almalinux-release": "almalinux", "oracle-release": "ol",
    "SuSE-release": "sles", "system-release": "",
}
_RELEASE_NAMES = (
    ("centos", "centos"), ("red hat enterprise", "rhel"), ("fedora", "fedora"), ("rocky", "rocky"),
    ("almalinux", "almalinux"), ("oracle linux", "ol"), ("scientific", "scientific"),
    ("opensuse", "opensuse"), ("suse linux enterprise server", "sles"), ("amazon linux", "amzn"),
)


def parse_release_line(text: str, file_id: str = "") -> Dict[str, str]:
    """A pre-os-release "Name release 6.10 (Final)" file (redhat-release, centos-release…)."""
    first = text.strip().split("\n", 1)[0].strip() if text.strip() else ""
    m = re.match(r"^(.+?)\s+(?:release\s+)?(\d[\w.]*)\s*(?:\((.+?)\))?\s*$", first)
    if not m:
        return {}
    name, version, codename = m.group(1), m.group(2), m.group(3) or ""
    low = name.lower()
    dist_id = next((i for key, i in _RELEASE_NAMES if key in low), file_id or low.split()[0])
    out = {"ID": dist_id, "NAME": name, "VERSION_ID": version, "PRETTY_NAME": first}
    if codename:
        out["VERSION_CODENAME"] = codename
    return out


def release_files() -> Tuple[Tuple[str, str], ...]:
    """(/etc path, default ID) of the legacy release files, most specific first."""
    return tuple((f"/etc/{name}", i) for name, i in _RELEASE_FILES.items())


def parse_btime(proc_stat: str) -> str:
    """Boot time from /proc/stat's "btime <epoch>" line as UTC ISO 8601, or ""."""
    m = re.search(r"^btime\s+(\d+)\s*$", proc_stat, re.MULTILINE)
    if not m:
        return ""
    return datetime.fromtimestamp(int(m.group(1)), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_locale_conf(text: str) -> str:
    """LANG (else LC_ALL) of /etc/default/locale, /etc/locale.conf or /etc/sysconfig/i18n."""
    values = parse_os_release(text)
    return values.get("LANG") or values.get("LC_ALL") or ""


def timezone_from_link(target: str) -> str:
    """"Europe/Paris" of an /etc/localtime symlink target (…/zoneinfo/Europe/Paris), or ""."""
    m = re.search(r"zoneinfo/(?:posix/|right/)?(.+)$", target)
    return m.group(1) if m else ""


def parse_lockdown(text: str) -> str:
    """The selected mode of /sys/kernel/security/lockdown ("[none] integrity confidentiality")."""
    m = re.search(r"\[(\w+)\]", text)
    return m.group(1) if m else ""


# ELF e_machine values (elf(5), include/uapi/linux/elf-em.h).
_EM = {3: "i386", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390x", 40: "arm", 42: "sh", 50: "ia64",
       62: "x86_64", 183: "aarch64", 243: "riscv64", 258: "loongarch64"}


def elf_machine(header: bytes) -> str:
    """The architecture (uname -m style) of an ELF header, or "" when it is not ELF."""
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return ""
    endian = "<" if header[5] == 1 else ">"
    machine = struct.unpack(endian + "H", header[18:20])[0]
    arch = _EM.get(machine, "")
    if arch == "arm" and header[4] == 1:
        return "armv7l"  # 32-bit ARM userland; the exact v6/v7 level is not in the header
    if arch == "ppc64" and endian == "<":
        return "ppc64le"
    if arch == "riscv64" and header[4] == 1:
        return "riscv32"
    if arch == "mips" and header[4] == 2:
        return "mips64"
    return arch


# Distributions without CPE_NAME in os-release: NVD vendor/product (CVE configurations use these).
_DISTRO_CPE = {
    "debian": ("debian", "debian_linux"),
    "ubuntu": ("canonical", "ubuntu_linux"),
    "linuxmint": ("linuxmint", "linux_mint"),
    "alpine": ("alpinelinux", "alpine_linux"),
    "centos": ("centos", "centos"),
    "rhel": ("redhat", "enterprise_linux"),
    "fedora": ("fedoraproject", "fedora"),
    "opensuse-leap": ("opensuse", "leap"),
    "sles": ("suse", "linux_enterprise_server"),
    "amzn": ("amazon", "amazon_linux"),
    "ol": ("oracle", "linux"),
    "rocky": ("rocky", "rocky"),
    "almalinux": ("almalinux", "almalinux"),
    "kali": ("kali", "kali_linux"),
    "photon": ("vmware", "photon_os"),
}
# Who distributes the OS, for the component's supplier (display names).
_SUPPLIERS = {
    "debian": "Debian", "ubuntu": "Canonical Ltd.", "rhel": "Red Hat, Inc.", "centos": "CentOS Project",
    "fedora": "Fedora Project", "sles": "SUSE", "opensuse-leap": "openSUSE Project",
    "rocky": "Rocky Enterprise Software Foundation",
    "almalinux": "AlmaLinux OS Foundation", "alpine": "Alpine Linux", "amzn": "Amazon Web Services",
    "ol": "Oracle Corporation", "raspbian": "Raspberry Pi Foundation", "linuxmint": "Linux Mint",
}


def distro_cpe(info: Dict[str, str]) -> str:
    """CPE 2.3 of the distribution: CPE_NAME converted, else built for a known ID, else ""."""
    if info.get("CPE_NAME"):
        cpe = to_cpe23(info["CPE_NAME"])
        if cpe:
            return cpe
    dist = info.get("ID", "")
    version = info.get("VERSION_ID", "")
    if dist not in _DISTRO_CPE or not version:
        return ""
    vendor, product = _DISTRO_CPE[dist]
    sw_edition = "lts" if dist == "ubuntu" and "LTS" in info.get("VERSION", "") else "*"
    return make_cpe("o", vendor, product, version, sw_edition=sw_edition)


def codename(info: Dict[str, str]) -> str:
    """VERSION_CODENAME, else UBUNTU_CODENAME, else the word in VERSION's parentheses."""
    for key in ("VERSION_CODENAME", "UBUNTU_CODENAME"):
        if info.get(key):
            return info[key]
    m = re.search(r"\(([^)]+)\)", info.get("VERSION", ""))
    return m.group(1).split(",")[0].strip() if m else ""


def component(info: Dict[str, str], facts: List[Tuple[str, str]], version: str = "") -> Optional[Component]:
    """The operating-system component from os-release values and `(property, value)` facts.

    `version` is the most precise installed release known (Debian's point release), else
    VERSION_ID. The bom-ref names the distribution only, so it stays when the version changes.
    None when `info` names no distribution at all.
    """
    # os-release(5): "If not set, a default of ID=linux may be used."
    name = info.get("ID") or ("linux" if info.get("NAME") else "")
    if not name:
        return None
    props: List[Tuple[str, str]] = []

    def add(key: str, value: str) -> None:
        if value:
            props.append((key, value))

    add(V.OS_DISTRO_NAME, info.get("NAME", ""))
    add(V.OS_ID_LIKE, info.get("ID_LIKE", ""))
    add(V.OS_CODENAME, codename(info))
    add(V.OS_VARIANT, info.get("VARIANT_ID", ""))
    add(V.OS_BUILD_ID, info.get("BUILD_ID", ""))
    add(V.OS_IMAGE_ID, info.get("IMAGE_ID", ""))
    add(V.OS_IMAGE_VERSION, info.get("IMAGE_VERSION", ""))
    add(V.OS_SUPPORT_END, info.get("SUPPORT_END", ""))
    for key, value in facts:
        add(key, value)
    pretty = info.get("PRETTY_NAME") or " ".join(p for p in (info.get("NAME", ""), info.get("VERSION", "")) if p)
    return Component(
        category=Category.OPERATING_SYSTEM,
        kind=Kind.OPERATING_SYSTEM,
        name=name,
        version=version or info.get("VERSION_ID", ""),
        ref=make_ref(Category.OPERATING_SYSTEM.value, name),
        supplier=_SUPPLIERS.get(name, ""),
        description=pretty,
        cpe=distro_cpe(info),
        properties=tuple(props),
    )


def uname_fields(text: str) -> Tuple[str, str, str]:
    """(kernel release, kernel version, machine) of `uname -a` output (GNU or busybox)."""
    parts = text.strip().split()
    if len(parts) < 3:
        return "", "", ""
    release = parts[2]
    tail = parts[3:]
    for suffix in ("GNU/Linux", "Linux"):
        if tail and tail[-1] == suffix:
            tail = tail[:-1]
    # GNU: "... x86_64 x86_64 x86_64" (machine, processor, platform; the last two may be "unknown").
    while len(tail) > 1 and tail[-1] in ("unknown",):
        tail = tail[:-1]
    machine = ""
    arch_re = re.compile(r"^(x86_64|i[3-6]86|aarch64|armv\w+|arm64|ppc\w*|s390x?|mips\w*|riscv\w+|sparc\w*|ia64|alpha"
                         r"|loongarch64)$")
    while tail and arch_re.match(tail[-1]):
        machine = tail.pop()
    return release, " ".join(tail), machine
