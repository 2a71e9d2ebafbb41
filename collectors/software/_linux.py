"""Linux package databases: dpkg, rpm, apk, pacman, snap, flatpak, loaded kernel modules.

Every `parse_*` function is pure (text in, `Package` records and problem lines
out) and is tested on real database files; the `collect_*` functions do the
I/O through the scan context so `--root` redirects every read.
"""
from __future__ import annotations

import os
import re
from datetime import datetime
from typing import Dict, Iterator, List, Optional, Tuple

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.model import Category, Component, Gap, Item, Kind, make_ref

from ._common import (
    Distro, Package, distro_from_os_release, iso_from_epoch, package_items, summarise, to_component,
)

DPKG_STATUS = "/var/lib/dpkg/status"
DPKG_STATUS_D = "/var/lib/dpkg/status.d"  # distroless images: one stanza file per package
APK_INSTALLED = "/lib/apk/db/installed"
PACMAN_LOCAL = "/var/lib/pacman/local"
RPM_DBS = ("/var/lib/rpm", "/usr/lib/sysimage/rpm")

# The first eight columns are the GLPI agent's format (so its recordings are our fixtures);
# the rest add what a PURL and a licence need. `(none)` is rpm's empty value.
RPM_QUERYFORMAT = (
    "%{NAME}\t%{ARCH}\t%{VERSION}-%{RELEASE}\t%{INSTALLTIME}\t%{SIZE}\t%{VENDOR}\t%{SUMMARY}\t%{GROUP}"
    "\t%{EPOCH}\t%{SOURCERPM}\t%{LICENSE}\t%{PACKAGER}\t%{URL}\n"
)

_REPLACED = "\ufffd"  # what ctx.read() puts for an undecodable byte


def read_distro(ctx: ScanContext) -> Distro:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            return distro_from_os_release(ctx.read(path))
        except OSError:
            continue
    return Distro()


# --- dpkg ----------------------------------------------------------------------------------------


def _stanzas(text: str) -> Iterator[Tuple[int, List[str], bool]]:
    """(first line number, lines, complete) of each blank-line separated stanza.

    A file that does not end with a newline was cut short: its last stanza is
    flagged incomplete (dpkg always ends a stanza with "\\n").
    """
    lines = text.split("\n")
    truncated = bool(text) and not text.endswith("\n")
    start = 1
    block: List[str] = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            if not block:
                start = number
            block.append(line)
        elif block:
            yield start, block, True
            block = []
    if block:
        yield start, block, not truncated


def parse_dpkg_status(text: str, require_status: bool = True) -> Tuple[List[Package], List[str]]:
    """Installed packages of a dpkg status file, and one line per stanza that could not be used.

    Installed means the third word of `Status` is `installed` (deb-control(5);
    want may be `install` or `hold`), which is what `dpkg-query -W` marks `ii`/`hi`.
    Stanzas in other states (config-files, half-installed, not-installed) are
    not installed software and are skipped silently. `require_status=False`
    reads status.d files, whose stanzas have no Status field.
    """
    packages: List[Package] = []
    problems: List[str] = []
    for line_no, block, complete in _stanzas(text):
        fields = {}
        bad_line = ""
        key = ""
        for line in block:
            if line[0] in " \t":
                if not key:
                    bad_line = line
                continue  # continuation lines: only the first line of a field is used
            key, sep, value = line.partition(":")
            if not sep:
                bad_line = bad_line or line
                key = ""
                continue
            fields[key] = value.strip()
        name = fields.get("Package", "")
        where = f"{name or 'stanza'} (line {line_no})"
        if not complete:
            problems.append(f"{where}: file ends inside this stanza (truncated)")
            continue
        status = fields.get("Status", "install ok installed" if not require_status else "")
        words = status.split()
        if len(words) != 3:
            problems.append(f"{where}: no valid Status field")
            continue
        if words[2] != "installed":
            continue
        if not name:
            problems.append(f"stanza at line {line_no}: no Package field")
            continue
        version = fields.get("Version", "")
        if not version:
            problems.append(f"{where}: no Version field")
            continue
        if bad_line:
            problems.append(f"{where}: malformed line {bad_line[:40]!r} ignored")
        if any(_REPLACED in v for v in fields.values()):
            bad = sorted(k for k, v in fields.items() if _REPLACED in v)
            problems.append(f"{where}: non-UTF-8 bytes in {', '.join(bad)} (replaced)")
        size = fields.get("Installed-Size", "")
        packages.append(Package(
            manager="dpkg",
            name=name,
            version=version,
            arch=fields.get("Architecture", ""),
            source=fields.get("Source", ""),
            maintainer=fields.get("Maintainer", ""),
            description=fields.get("Description", ""),
            size=int(size) * 1024 if size.isdigit() else None,  # Installed-Size is in KiB
            homepage=fields.get("Homepage", ""),
            section=fields.get("Section", ""),
        ))
    return packages, problems


def parse_dpkg_query(text: str) -> Tuple[List[Package], List[str]]:
    """Packages of `dpkg-query -W -f '${Package}\\t${Architecture}\\t${Version}\\t${Installed-Size}\\t${Section}'`
    (the listing GLPI's agent records; Installed-Size is in KiB)."""
    packages: List[Package] = []
    problems: List[str] = []
    for number, line in enumerate(text.replace("\r", "").split("\n"), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < 3 or not cols[0] or not cols[2]:
            problems.append(f"line {number}: {line[:40]!r}")
            continue
        size = cols[3] if len(cols) > 3 else ""
        packages.append(Package(manager="dpkg", name=cols[0], version=cols[2], arch=cols[1],
                                size=int(size) * 1024 if size.isdigit() else None,
                                section=cols[4] if len(cols) > 4 else ""))
    return packages, problems


def _dpkg_install_dates(ctx: ScanContext, packages: List[Package]) -> None:
    """dpkg keeps no install date; the mtime of info/<pkg>.list is when this version was unpacked."""
    for pkg in packages:
        for name in (f"{pkg.name}:{pkg.arch}.list", f"{pkg.name}.list"):
            try:
                mtime = os.stat(ctx.path(f"/var/lib/dpkg/info/{name}")).st_mtime
            except OSError:
                continue
            pkg.install_date = iso_from_epoch(str(int(mtime)))
            break


def collect_dpkg(ctx: ScanContext, distro: Distro) -> Iterator[Item]:
    packages: List[Package] = []
    text = None
    try:
        text = ctx.read(DPKG_STATUS)
    except (FileNotFoundError, NotADirectoryError):
        pass  # no dpkg here
    except OSError as exc:  # a FIFO, a link out of an image, a file past the read limit…
        yield Gap(f"dpkg: cannot read {DPKG_STATUS}: {exc.strerror or exc}")
    if text is not None:
        packages, problems = parse_dpkg_status(text)
        if problems:
            yield Gap(summarise(f"dpkg {DPKG_STATUS}", problems))
    if ctx.is_dir(DPKG_STATUS_D):
        problems = []
        for entry in ctx.listdir(DPKG_STATUS_D):
            try:
                found, bad = parse_dpkg_status(ctx.read(f"{DPKG_STATUS_D}/{entry}"), require_status=False)
            except OSError as exc:
                problems.append(f"{entry}: {exc.strerror or exc}")
                continue
            packages.extend(found)
            problems.extend(f"{entry}: {b}" for b in bad)
        if problems:
            yield Gap(summarise(f"dpkg {DPKG_STATUS_D}", problems))
    _dpkg_install_dates(ctx, packages)
    for pkg in packages:
        yield to_component(pkg, distro)
    if ctx.recorded:
        yield from _recorded_dpkg_query(ctx, distro)


def _recorded_dpkg_query(ctx: ScanContext, distro: Distro) -> Iterator[Item]:
    """A recording may hold a `dpkg-query -W` listing instead of (or beside) the status file."""
    result = ctx.run(["dpkg-query", "-W"])
    if not result.ok:
        return
    yield from package_items("dpkg-query -W", *parse_dpkg_query(result.stdout), distro)


# --- rpm -----------------------------------------------------------------------------------------


def _none(value: str) -> str:
    return "" if value == "(none)" else value


def parse_rpm_qa(text: str) -> Tuple[List[Package], List[str]]:
    """Packages from `rpm -qa --queryformat RPM_QUERYFORMAT` (8 columns or more)."""
    packages: List[Package] = []
    problems: List[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        cols = [_none(c) for c in line.split("\t")]
        if len(cols) < 8:
            problems.append(f"line {number}: {len(cols)} columns, expected 8 or more")
            continue
        name, arch, evr, installed, size, vendor, summary, group = cols[:8]
        epoch, source, licence, packager, url = (cols[8:13] + [""] * 5)[:5]
        if name == "gpg-pubkey":  # imported signing keys, not software
            continue
        version = evr
        if not name or not version or version == "-":
            problems.append(f"line {number}: no name or version")
            continue
        packages.append(Package(
            manager="rpm",
            name=name,
            version=version,
            arch=arch,
            epoch=epoch,
            source=source,
            maintainer=packager,
            vendor=vendor,
            description=summary,
            licenses=(licence,) if licence else (),
            size=int(size) if size.isdigit() else None,
            install_date=iso_from_epoch(installed),
            homepage=url,
            section=group,
        ))
    return packages, problems


def _rpm_date(value: str) -> str:
    """rpm's localised install date in the C locale ("Wed 16 Oct 2019 09:21:42 AM PDT") as a date."""
    v = " ".join(value.split()[:5]) if re.search(r"[AP]M", value) else value
    for fmt in ("%a %d %b %Y %I:%M:%S %p", "%a %d %b %Y %H:%M:%S", "%a %b %d %H:%M:%S %Y"):
        try:
            return datetime.strptime(v.strip(), fmt).strftime("%Y-%m-%d")
        except ValueError:
            continue
    return ""


def parse_rpm_qai(text: str) -> Tuple[List[Package], List[str]]:
    """Packages of `rpm -qai` ("Name        : make" blocks; Description runs to the next Name)."""
    packages: List[Package] = []
    problems: List[str] = []
    fields: Dict[str, str] = {}
    in_description = False

    def flush() -> None:
        if not fields:
            return
        name, version, release = fields.get("Name", ""), fields.get("Version", ""), fields.get("Release", "")
        if name == "gpg-pubkey":
            return
        if not name or not version:
            problems.append(f"package {name or '?'}: no name or version")
            return
        size = fields.get("Size", "")
        epoch = fields.get("Epoch", "")
        packages.append(Package(
            manager="rpm", name=name, version=f"{version}-{release}" if release else version,
            arch=fields.get("Architecture", ""), epoch="" if epoch == "(none)" else epoch,
            source=fields.get("Source RPM", ""), maintainer=fields.get("Packager", ""), vendor=fields.get("Vendor", ""),
            description=fields.get("Summary", ""),
            licenses=(fields["License"],) if fields.get("License") else (),
            size=int(size) if size.isdigit() else None, install_date=_rpm_date(fields.get("Install Date", "")),
            homepage=fields.get("URL", ""), section=fields.get("Group", ""),
        ))

    for line in text.replace("\r", "").split("\n"):
        # rpm pads every tag to 12 columns ("Name        : make"): a "Name:" inside a Description is text.
        m = re.match(r"^([A-Z][A-Za-z ]{1,11}?)\s*: ?(.*)$", line) if line[12:14] in (": ", ":") else None
        if m and m.group(1) == "Name" and (in_description or fields):
            flush()
            fields, in_description = {}, False
        if in_description:
            continue
        if m and m.group(1) in ("Name", "Epoch", "Version", "Release", "Architecture", "Install Date", "Group",
                                "Size", "License", "Source RPM", "Packager", "Vendor", "URL", "Summary",
                                "Signature", "Build Date", "Build Host", "Relocations", "Description"):
            if m.group(1) == "Description":
                in_description = True
            else:
                fields[m.group(1)] = m.group(2).strip()
    flush()
    return packages, problems


def _recorded_rpm(ctx: ScanContext, distro: Distro) -> Iterator[Item]:
    """A recording holds `rpm -qai` text (collect.sh) and/or the query-format listing (other recorders)."""
    result = ctx.run(["rpm", "-qai"])
    if result.ok:
        packages, problems = parse_rpm_qai(result.stdout)
        if not packages and not problems and result.stdout.strip():
            yield Gap("rpm -qai: no 'Name :' block (not `rpm -qai` output?)")
        yield from package_items("rpm -qai", packages, problems, distro)
    result = ctx.run(["rpm", "-qa", "--queryformat", RPM_QUERYFORMAT])
    if result.ok:
        yield from package_items("rpm -qa", *parse_rpm_qa(result.stdout), distro)


def collect_rpm(ctx: ScanContext, distro: Distro) -> Iterator[Item]:
    if ctx.recorded:
        yield from _recorded_rpm(ctx, distro)
        return
    db = next((d for d in RPM_DBS if ctx.is_dir(d) and ctx.listdir(d)), None)
    if db is None:
        return
    argv = ["rpm", "-qa", "--queryformat", RPM_QUERYFORMAT]
    if not ctx.live:
        argv[1:1] = ["--root", str(ctx.root)]
    result = ctx.run(argv, timeout=120)
    if not result.ok:
        yield Gap(f"rpm: database {db} present but not read: {result.why()}")
        return
    yield from package_items("rpm -qa", *parse_rpm_qa(result.stdout), distro)


# --- apk -----------------------------------------------------------------------------------------


def parse_apk_installed(text: str) -> Tuple[List[Package], List[str]]:
    """Packages of Alpine's /lib/apk/db/installed (apk-tools "installed database" v2 format)."""
    packages: List[Package] = []
    problems: List[str] = []
    for line_no, block, complete in _stanzas(text):
        fields = {}
        for line in block:
            if len(line) > 2 and line[1] == ":" and line[0] not in fields:
                fields[line[0]] = line[2:]
        name, version = fields.get("P", ""), fields.get("V", "")
        where = f"{name or 'stanza'} (line {line_no})"
        if not complete:
            problems.append(f"{where}: file ends inside this stanza (truncated)")
            continue
        if not name or not version:
            problems.append(f"{where}: no {'P (name)' if not name else 'V (version)'} field")
            continue
        if any(_REPLACED in fields.get(k, "") for k in "PVTLm"):
            problems.append(f"{where}: non-UTF-8 bytes (replaced)")
        size = fields.get("I", "")
        packages.append(Package(
            manager="apk",
            name=name,
            version=version,
            arch=fields.get("A", ""),
            source=fields.get("o", ""),
            maintainer=fields.get("m", ""),
            description=fields.get("T", ""),
            licenses=_split_licences(fields.get("L", "")),
            size=int(size) if size.isdigit() else None,
            homepage=fields.get("U", ""),
        ))
    return packages, problems


def _split_licences(value: str) -> Tuple[str, ...]:
    """apk/pacman 'MIT BSD GPL2+' lists (space separated) vs one SPDX expression."""
    from ._common import spdx_expression

    value = value.strip()
    if not value:
        return ()
    if spdx_expression(value) or re.search(r"\b(AND|OR|WITH)\b|\(", value):
        return (value,)
    return tuple(value.split())


def collect_apk(ctx: ScanContext, distro: Distro) -> Iterator[Item]:
    try:
        text = ctx.read(APK_INSTALLED)
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        yield Gap(f"apk: cannot read {APK_INSTALLED}: {exc.strerror or exc}")
        return
    yield from package_items(f"apk {APK_INSTALLED}", *parse_apk_installed(text), distro)


# --- pacman --------------------------------------------------------------------------------------


def parse_pacman_desc(text: str) -> Package:
    """One package from a pacman local database `desc` file (alpm-db-desc). Raises ValueError."""
    fields: Dict[str, List[str]] = {}
    current: Optional[List[str]] = None
    for line in text.splitlines():
        if len(line) > 2 and line.startswith("%") and line.endswith("%"):
            current = fields.setdefault(line[1:-1], [])
        elif not line:
            current = None
        elif current is not None:
            current.append(line)

    def one(key: str) -> str:
        return (fields.get(key) or [""])[0]

    name, version = one("NAME"), one("VERSION")
    if not name or not version:
        raise ValueError(f"no %{'NAME' if not name else 'VERSION'}% field")
    size = one("SIZE")
    return Package(
        manager="pacman",
        name=name,
        version=version,
        arch=one("ARCH"),
        source=one("BASE"),
        maintainer=one("PACKAGER"),
        description=one("DESC"),
        licenses=tuple(fields.get("LICENSE", ())),
        size=int(size) if size.isdigit() else None,
        install_date=iso_from_epoch(one("INSTALLDATE")),
        homepage=one("URL"),
    )


def collect_pacman(ctx: ScanContext, distro: Distro) -> Iterator[Item]:
    if not ctx.is_dir(PACMAN_LOCAL):
        return
    problems: List[str] = []
    for entry in ctx.listdir(PACMAN_LOCAL):
        if not ctx.is_dir(f"{PACMAN_LOCAL}/{entry}"):
            continue  # ALPM_DB_VERSION
        try:
            pkg = parse_pacman_desc(ctx.read(f"{PACMAN_LOCAL}/{entry}/desc"))
        except OSError as exc:
            problems.append(f"{entry}/desc: {exc.strerror or exc}")
            continue
        except ValueError as exc:
            problems.append(f"{entry}/desc: {exc}")
            continue
        yield to_component(pkg, distro)
    if problems:
        yield Gap(summarise(f"pacman {PACMAN_LOCAL}", problems))


# --- snap and flatpak ----------------------------------------------------------------------------


def parse_snap_yaml(text: str) -> Tuple[str, str, str]:
    """(name, version, summary) from a snap's meta/snap.yaml top-level keys (no YAML library needed)."""
    found: Dict[str, str] = {}
    for line in text.splitlines():
        if line[:1] in (" ", "\t", "#", "-") or ":" not in line:
            continue
        key, _, value = line.partition(":")
        found.setdefault(key.strip(), value.strip().strip("'\""))
    return found.get("name", ""), found.get("version", ""), found.get("summary", "")


def collect_snap(ctx: ScanContext) -> Iterator[Item]:
    for meta in ctx.glob("/snap/*/current/meta/snap.yaml"):
        try:
            name, version, summary = parse_snap_yaml(ctx.read(meta))
        except OSError as exc:
            yield Gap(f"snap: cannot read {meta}: {exc.strerror or exc}")
            continue
        if not name:
            continue
        # "current" links to the revision's folder (/snap/NAME/1234), resolved inside the machine.
        revision = ctx.path(meta[:-len("/meta/snap.yaml")]).name
        yield Component(
            category=Category.SOFTWARE, kind=Kind.APPLICATION, name=name, version=version, description=summary,
            ref=make_ref(Category.SOFTWARE.value, "snap", name, version, revision),
            properties=((V.PACKAGE_MANAGER, "snap"), (V.SNAP_REVISION, revision)),
        )


_RELEASE = re.compile(r"<release\b[^>]*\bversion=\"([^\"]+)\"")


def collect_flatpak(ctx: ScanContext) -> Iterator[Item]:
    for base in ("/var/lib/flatpak", *(f"/home/{h}/.local/share/flatpak" for h in _homes(ctx))):
        if not ctx.is_dir(base):
            continue
        for kind_dir, kind in (("app", Kind.APPLICATION), ("runtime", Kind.FRAMEWORK)):
            for active in ctx.glob(f"{base}/{kind_dir}/*/*/*/active"):
                app_id, arch, branch = active.split("/")[-4:-1]
                version = ""
                try:
                    m = _RELEASE.search(ctx.read(f"{active}/files/share/metainfo/{app_id}.metainfo.xml"))
                    version = m.group(1) if m else ""
                except OSError:
                    pass  # no metainfo: the version stays unknown
                yield Component(
                    category=Category.SOFTWARE, kind=kind, name=app_id, version=version,
                    ref=make_ref(Category.SOFTWARE.value, "flatpak", base, app_id, arch, branch),
                    properties=((V.PACKAGE_MANAGER, "flatpak"), (V.PACKAGE_ARCH, arch), (V.FLATPAK_BRANCH, branch)),
                )


def _homes(ctx: ScanContext) -> List[str]:
    try:
        return [n for n in ctx.listdir("/home") if ctx.is_dir(f"/home/{n}")]
    except OSError:
        return []


# --- kernel modules ------------------------------------------------------------------------------


def parse_proc_modules(text: str) -> Tuple[List[Tuple[str, int, str, str]], List[str]]:
    """(name, size, used-by, state) of each line of /proc/modules (proc(5)), and bad lines."""
    out: List[Tuple[str, int, str, str]] = []
    problems: List[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 5 or not parts[1].isdigit():
            problems.append(f"line {number}: {line[:40]!r}")
            continue
        used_by = "" if parts[3] == "-" else parts[3].rstrip(",")
        out.append((parts[0], int(parts[1]), used_by, parts[4]))
    return out, problems


def kernel_module_component(name: str, size: int, used_by: str, state: str, version: str, srcversion: str,
                            kernel: str) -> Component:
    props = [(V.PACKAGE_MANAGER, "kernel-module"), (V.KERNEL_MODULE_SIZE, str(size)), (V.KERNEL_MODULE_STATE, state)]
    if used_by:
        props.append((V.KERNEL_MODULE_USED_BY, used_by))
    if srcversion:
        props.append((V.KERNEL_MODULE_SRCVERSION, srcversion))
    if kernel:
        props.append((V.KERNEL_RELEASE, kernel))
    return Component(
        category=Category.SOFTWARE, kind=Kind.LIBRARY, name=name, version=version,
        ref=make_ref(Category.SOFTWARE.value, "kernel-module", name),
        properties=tuple(props),
    )


def collect_kernel_modules(ctx: ScanContext) -> Iterator[Item]:
    """Loaded modules: only on the live system (a mounted image has no running kernel)."""
    if not ctx.live:
        return
    try:
        text = ctx.read("/proc/modules")
    except OSError as exc:
        if ctx.recorded and isinstance(exc, FileNotFoundError):
            return  # not recorded: the recording collector lists what the recording lacks
        yield Gap(f"kernel modules: cannot read /proc/modules: {exc.strerror or exc}")
        return
    try:
        kernel = ctx.read("/proc/sys/kernel/osrelease").strip()
    except OSError:
        kernel = ""
    if ctx.recorded:  # collect.sh records `uname -a`, not /proc/sys/kernel
        from ..osinfo._linux import uname_fields

        result = ctx.run(["uname", "-a"])
        kernel = uname_fields(result.stdout)[0] if result.ok else ""
    modules, problems = parse_proc_modules(text)
    if problems:
        yield Gap(summarise("/proc/modules", problems))
    for name, size, used_by, state in modules:
        # /sys/module/<name>/version exists only for modules declaring MODULE_VERSION.
        values = []
        for attr in ("version", "srcversion"):
            try:
                values.append(ctx.read(f"/sys/module/{name}/{attr}").strip())
            except OSError:
                values.append("")
        yield kernel_module_component(name, size, used_by, state, values[0], values[1], kernel)


def collect_linux(ctx: ScanContext) -> Iterator[Item]:
    distro = read_distro(ctx)
    yield from collect_dpkg(ctx, distro)
    yield from collect_rpm(ctx, distro)
    yield from collect_apk(ctx, distro)
    yield from collect_pacman(ctx, distro)
    yield from collect_snap(ctx)
    yield from collect_flatpak(ctx)
    yield from collect_kernel_modules(ctx)
