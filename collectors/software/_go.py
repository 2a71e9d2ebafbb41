"""Go executables and the modules built into them, read from their embedded build information.

The Go linker (1.18 and later) writes a 32-byte header at the start of the `.go.buildinfo`
data: the 14-byte magic "\\xff Go buildinf:", the pointer size, a flags byte whose bit 2
(flagsVersionInl) says the strings follow inline, each as a uvarint length and its bytes: the
toolchain version ("go1.19.8"), then the module information framed by two 16-byte sentinels
(src/debug/buildinfo/buildinfo.go of the Go source, readRawBuildInfo / decodeString). The
module text is runtime/debug's BuildInfo.String form (src/runtime/debug/mod.go, ParseBuildInfo):
tab-separated lines "path P", "mod P V SUM", "dep P V SUM", "=> P V SUM" (replaces the line
before), "build K=V". A binary built outside module mode (GOPATH, as Debian's dh-golang does)
names only its package path: its dependencies are not recorded in it.

Bounded: only ELF files carrying the Go build-id note near their start (cmd/link writes an
ELF note of owner "Go", type 4, NT_GO_BUILDID, beside the headers) are read further, and then
only the first 64 KiB of the first writable PT_LOAD segment, where debug/buildinfo itself looks
(elfExe.DataStart), more only when the module list runs past it or the header is elsewhere in
the data; at most MAX_BINARIES binaries. Binaries of an
older Go (pointer-form header) and externally linked ones without the note are not read.
"""
from __future__ import annotations

import os
import posixpath
import re
import struct
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Set, Tuple

from cbom import vocabulary as V
from cbom.collector import Collector, ScanContext
from cbom.model import Category, Component, Gap, Item, Kind, Platform, make_ref

from ._common import summarise

__all__ = ["COLLECTORS", "GoBuildInfo", "GoModule", "SoftwareGoBinaries", "collect_go_binaries", "elf_go_data_segments",
           "parse_build_info", "parse_modinfo"]

# Where executables lie outside the package managers' reach as well as inside it: `go install`
# writes to $HOME/go/bin, vendors' tarballs to /opt/<product>/bin or /usr/local/bin.
BIN_DIRS = ("/usr/local/bin", "/usr/local/sbin", "/usr/bin", "/usr/sbin", "/opt/*/bin", "/opt/*", "/opt/*/*/bin",
            "/usr/lib/*/bin", "/usr/libexec/*", "/root/go/bin", "/home/*/go/bin", "/srv/*/bin")
HEAD = 8192  # ELF header, program headers and the Go note lie in the first page
MAX_FILES = 6000  # files whose head is read
MAX_BINARIES = 200  # Go binaries whose build information is read
MAX_READ = 64 * 1024 * 1024  # bytes of one data segment searched when the header is not at its start
SEARCH = 64 * 1024  # debug/buildinfo searches the first 64 KiB of the data start
MODINFO_WINDOW = 4 * 1024 * 1024  # read from there when the module list runs past SEARCH

MAGIC = b"\xff Go buildinf:"
_FLAG_BIG_ENDIAN = 0x1
_FLAG_INLINE = 0x2
# src/cmd/go/internal/modload/build.go infoStart / infoEnd: the module text's framing.
_SENTINEL = 16
_GO_NOTE = re.compile(rb"\x04\x00\x00\x00.{4}\x04\x00\x00\x00Go\x00\x00", re.S)


@dataclass(frozen=True)
class GoModule:
    path: str
    version: str = ""
    sum: str = ""


@dataclass(frozen=True)
class GoBuildInfo:
    go_version: str  # "go1.19.8"
    path: str = ""  # the main package's import path
    main: Optional[GoModule] = None
    deps: Tuple[GoModule, ...] = ()
    settings: Tuple[Tuple[str, str], ...] = field(default=())


def _uvarint(data: bytes, pos: int) -> Tuple[int, int]:
    """encoding/binary.Uvarint: (value, next position); raises ValueError past the data or 10 bytes."""
    value = shift = 0
    for i in range(10):
        if pos + i >= len(data):
            raise ValueError("truncated varint")
        b = data[pos + i]
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos + i + 1
        shift += 7
    raise ValueError("varint longer than 10 bytes")


def parse_modinfo(text: str) -> Tuple[str, Optional[GoModule], Tuple[GoModule, ...], Tuple[Tuple[str, str], ...]]:
    """(package path, main module, dependencies, build settings) of runtime/debug's module text."""
    path = ""
    main: Optional[GoModule] = None
    deps: List[GoModule] = []
    settings: List[Tuple[str, str]] = []
    for line in text.split("\n"):
        parts = line.split("\t")
        word = parts[0]
        if word == "path" and len(parts) >= 2:
            path = parts[1]
        elif word in ("mod", "dep") and len(parts) >= 2:
            mod = GoModule(parts[1], parts[2] if len(parts) > 2 else "", parts[3] if len(parts) > 3 else "")
            if word == "mod":
                main = mod
            else:
                deps.append(mod)
        elif word == "=>" and len(parts) >= 2 and deps:
            # A replace directive: the module built is the replacement (go version -m prints it under
            # it); one by a local folder ("=> ./internal/x (devel)") is the original module's code
            # at no published version (go.mod reference: "replace" with a file path).
            if parts[1].startswith(("./", "../", "/")):
                deps[-1] = GoModule(deps[-1].path)
            else:
                deps[-1] = GoModule(parts[1], parts[2] if len(parts) > 2 else "", parts[3] if len(parts) > 3 else "")
        elif word == "build" and len(parts) >= 2:
            key, _, value = parts[1].partition("=")
            settings.append((key, value))
    return path, main, tuple(deps), tuple(settings)


def parse_build_info(data: bytes, start: int = 0, end: Optional[int] = None, base: int = 0) -> Optional[GoBuildInfo]:
    """The build information of the first Go 1.18+ header found in `data[start:end]` (`data` being
    the file's bytes from offset `base`: the header's 16-byte alignment is the file's).

    None when there is none; raises ValueError for a header in the pre-1.18 pointer form or a
    truncated/garbled one.
    """
    end = len(data) if end is None else end
    pos = data.find(MAGIC, start, end)
    while pos >= 0 and (base + pos) % 16:  # the linker aligns the header to 16 bytes (buildInfoAlign)
        pos = data.find(MAGIC, pos + 1, end)
    if pos < 0:
        return None
    if len(data) < pos + 32:
        raise ValueError("truncated Go build information header")
    flags = data[pos + 15]
    if not flags & _FLAG_INLINE:
        raise ValueError("Go build information in the pre-1.18 pointer form (not read)")
    n, p = _uvarint(data, pos + 32)
    version = data[p:p + n]
    if len(version) < n:
        raise ValueError("truncated Go version string")
    n, p = _uvarint(data, p + n)
    mod = data[p:p + n]
    if len(mod) < n:
        raise ValueError("truncated Go module information")
    # The module text is framed by 16-byte sentinels when present (buildinfo.go: len >= 33 and
    # a newline right before the closing one).
    if len(mod) >= 2 * _SENTINEL + 1 and mod[-_SENTINEL - 1:-_SENTINEL] == b"\n":
        mod = mod[_SENTINEL:-_SENTINEL]
    else:
        mod = b""
    path, main, deps, settings = parse_modinfo(mod.decode("utf-8", "replace"))
    return GoBuildInfo(version.decode("utf-8", "replace"), path, main, deps, settings)


def elf_go_data_segments(head: bytes) -> Optional[List[Tuple[int, int]]]:
    """(file offset, file size) of the writable, non-executable PT_LOAD segments of a Go ELF
    executable whose first bytes are `head`, in file order; None when it is not ELF or carries no
    Go build-id note there. An internally linked binary has `.go.buildinfo` at the start of the
    first; an externally linked one (cgo, PIE) wherever the system linker put it, in one of them.

    ELF header and program header layout: the System V gABI (e_phoff at 32/28, e_phentsize and
    e_phnum at 54/42 and 56/44 for 64/32-bit; p_type, p_flags, p_offset per class).
    """
    if head[:4] != b"\x7fELF" or len(head) < 64 or not _GO_NOTE.search(head):
        return None
    bits64 = head[4] == 2
    end = "<" if head[5] == 1 else ">"
    try:
        if bits64:
            phoff = struct.unpack_from(end + "Q", head, 32)[0]
            phentsize, phnum = struct.unpack_from(end + "HH", head, 54)
        else:
            phoff = struct.unpack_from(end + "I", head, 28)[0]
            phentsize, phnum = struct.unpack_from(end + "HH", head, 42)
        segments: List[Tuple[int, int]] = []
        for i in range(min(phnum, 64)):
            at = phoff + i * phentsize
            if bits64:
                p_type, p_flags, p_offset, _, _, p_filesz = struct.unpack_from(end + "IIQQQQ", head, at)
            else:
                p_type, p_offset, _, _, p_filesz, _, p_flags = struct.unpack_from(end + "IIIIIII", head, at)
            if p_type == 1 and p_flags & 0x3 == 0x2:  # PT_LOAD, PF_W without PF_X
                segments.append((int(p_offset), int(p_filesz)))
    except struct.error:
        return None
    return sorted(segments)


def _purl(path: str, version: str) -> str:
    from packageurl import PackageURL

    namespace, _, name = path.rpartition("/")
    try:
        return PackageURL(type="golang", namespace=namespace or None, name=name,
                          version=version if version and version != "(devel)" else None).to_string()
    except ValueError:
        return ""


def go_components(binary: str, info: GoBuildInfo) -> List[Component]:
    """The binary (main module or package path, Go toolchain) and one library per dependency module.

    A module (or standard library) version is one component whichever binaries embed it (their
    dependsOn say which): the same bytes of the same version, not one copy per program."""
    deps: List[Component] = []
    for mod in info.deps:
        version = "" if mod.version == "(devel)" else mod.version  # built from a work tree: no version
        deps.append(Component(
            category=Category.SOFTWARE, kind=Kind.LIBRARY, name=mod.path, version=version,
            purl=_purl(mod.path, version), ref=make_ref(Category.SOFTWARE.value, "go", mod.path, version),
            properties=((V.PACKAGE_MANAGER, "go"),)))
    # The toolchain's standard library is built in too (syft's convention: pkg:golang/stdlib).
    # "go1.23.1 X:nocoverageredesign": a GOEXPERIMENT build names its experiments after the version.
    go = info.go_version.split(" ")[0]
    go = go[2:] if go.startswith("go") else go
    stdlib = Component(category=Category.SOFTWARE, kind=Kind.LIBRARY, name="stdlib", version=go,
                       purl=_purl("stdlib", go), description=f"Go standard library of {info.go_version}",
                       ref=make_ref(Category.SOFTWARE.value, "go", "stdlib", go),
                       properties=((V.PACKAGE_MANAGER, "go"),))
    main = info.main
    name = main.path if main else (info.path or posixpath.basename(binary))
    version = main.version if main and main.version != "(devel)" else ""
    settings = dict(info.settings)
    what = f"Go program {info.path or name} built with {info.go_version}"
    if settings.get("vcs.revision"):
        what += f" from revision {settings['vcs.revision'][:12]}"
    app = Component(category=Category.SOFTWARE, kind=Kind.APPLICATION, name=name, version=version,
                    purl=_purl(name, version) if main else "", description=what,
                    ref=make_ref(Category.SOFTWARE.value, "go", binary),
                    properties=((V.PACKAGE_MANAGER, "go"), (V.PACKAGE_PATH, binary)),
                    depends_on=tuple(c.ref for c in deps) + (stdlib.ref,))
    return [app, stdlib, *deps]


class SoftwareGoBinaries(Collector):
    name = "software.go"
    description = "Go executables (bin folders, /opt) with the modules built into them (embedded build information)"
    platforms = frozenset({Platform.LINUX})
    timeout = 60.0

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        return collect_go_binaries(ctx)


def _candidates(ctx: ScanContext) -> Iterator[str]:
    seen: Set[str] = set()
    for pattern in BIN_DIRS:
        for folder in (ctx.glob(pattern) if "*" in pattern else [pattern]):
            try:
                names = ctx.listdir(folder)
            except OSError:
                continue
            for name in names:
                path = posixpath.join(folder, name)
                real = os.path.realpath(ctx.path(path))  # links resolved inside the scanned machine
                if real in seen:
                    continue
                seen.add(real)
                yield path


def _read_build_info(ctx: ScanContext, path: str, segments: List[Tuple[int, int]]) -> GoBuildInfo:
    """The build information of Go binary `path`: first where debug/buildinfo finds it (the first
    64 KiB of the first data segment), then anywhere in the data segments; only those windows of
    the file are read. Raises OSError, ValueError."""
    first = segments[0][0]
    for window in (SEARCH, MODINFO_WINDOW):  # the module list of a large program may pass 64 KiB
        data = ctx.read_bytes(path, window, offset=first)
        try:
            info = parse_build_info(data, 0, SEARCH, base=first)
        except ValueError as exc:
            if "truncated" in str(exc) and len(data) == window < MODINFO_WINDOW:
                continue
            raise
        if info is not None:
            return info
        break
    for off, size in segments:
        if size > MAX_READ:
            raise ValueError(f"Go build information not in the first {SEARCH // 1024} KiB of its data, and a data "
                             f"segment is larger than cbom's read limit of {MAX_READ >> 20} MiB: not read")
        info = parse_build_info(ctx.read_bytes(path, size, offset=off), base=off)
        if info is not None:
            return info
    raise ValueError("a Go binary without Go 1.18+ build information in its data segments")


def collect_go_binaries(ctx: ScanContext) -> Iterator[Item]:
    """Components of every Go binary found in the usual bin folders, with their modules."""
    if ctx.recorded:
        yield Gap("the recording holds no executables (Go binaries are read from their files): not collected")
        return
    problems: List[str] = []
    files = found = 0
    for path in _candidates(ctx):
        if files >= MAX_FILES:
            problems.append(f"more than {MAX_FILES} files in the bin folders: the rest not looked at")
            break
        if not ctx.is_file(path):
            continue
        files += 1
        try:
            head = ctx.read_bytes(path, HEAD, head=True)
        except OSError:
            continue  # unreadable or not a regular file: not a program of ours to read
        segments = elf_go_data_segments(head)
        if not segments:
            continue
        if found >= MAX_BINARIES:
            problems.append(f"more than {MAX_BINARIES} Go binaries: the rest not read")
            break
        found += 1
        try:
            info = _read_build_info(ctx, path, segments)
        except OSError as exc:
            problems.append(f"{path}: {exc.strerror or exc}")
            continue
        except ValueError as exc:
            problems.append(f"{path}: {exc}")
            continue
        yield from go_components(path, info)
    if problems:
        yield Gap(summarise("go", problems))


COLLECTORS = (SoftwareGoBinaries,)
