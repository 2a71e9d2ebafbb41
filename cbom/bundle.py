"""`cbom verify-bundle`: check a USB bundle against its SHA256SUMS before trusting it.

The bundle (built by `usb_bundle/build`) carries a `SHA256SUMS` file in the
`sha256sum` format (`<hex>  <relative/posix/path>`) listing every file of the
bundle, and a `BUNDLE-INFO.json` marker. Verification re-hashes every listed
file and reports each one that is missing, changed or unreadable, and each
file present on the stick but not listed (an "extra": a dropped executable is
exactly what an auditor must notice). Output the tool itself writes on the
stick (`reports/`, `recordings/`) and the launchers' temporary venvs are not
extras; neither are the folders operating systems create on any removable
disk (Windows `System Volume Information`, macOS `.Trashes`, ...).

The same file checks with coreutils alone: `cd BUNDLE && sha256sum -c SHA256SUMS`.
SHA256SUMS itself can be replaced by whoever alters the stick, so its own
SHA-256 is printed here and at build time: compare it with the value noted
when the stick was made.

Exit codes: 0 intact, 1 altered (missing/changed/extra files), 2 cannot tell
(no or garbled SHA256SUMS, unreadable folder or files).
"""
from __future__ import annotations

import errno
import fnmatch
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

__all__ = [
    "SUMS_NAME", "MARKER", "BundleUnreadable", "Verification", "sha256_file", "bundle_files",
    "write_sums", "parse_sums", "verify", "default_dir", "command",
]

SUMS_NAME = "SHA256SUMS"
MARKER = "BUNDLE-INFO.json"
EXIT_INTACT, EXIT_ALTERED, EXIT_UNREADABLE = 0, 1, 2

# Top-level entries that are not part of the bundle: what the launchers and collect.sh write next
# to themselves, their temporary venvs, and what Windows/macOS create on every removable disk.
IGNORED_TOP = (
    "reports", "recordings", ".cbom-tmp-*",
    "System Volume Information", "$RECYCLE.BIN", ".Trashes", ".Spotlight-V100", ".fseventsd",
)
_CHUNK = 1 << 20
# A bundle lists ~2,000 files (~200 KB of SHA256SUMS); a list fifty times longer is not one.
SUMS_LIMIT = 16 << 20


class BundleUnreadable(RuntimeError):
    """The bundle cannot be checked at all (no SHA256SUMS, garbled SHA256SUMS, unreadable folder)."""


@dataclass(frozen=True)
class Verification:
    """Outcome of checking one bundle folder; every list holds relative POSIX paths, sorted."""

    root: Path
    checked: int
    missing: Tuple[str, ...] = ()
    changed: Tuple[str, ...] = ()
    extra: Tuple[str, ...] = ()
    unreadable: Tuple[str, ...] = ()
    sums_sha256: str = ""

    @property
    def altered(self) -> bool:
        return bool(self.missing or self.changed or self.extra)

    @property
    def exit_code(self) -> int:
        if self.altered:
            return EXIT_ALTERED  # an unreadable file does not hide a change we did see
        return EXIT_UNREADABLE if self.unreadable else EXIT_INTACT


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's content (symlinks followed), read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _ignored(rel: str) -> bool:
    top = rel.split("/", 1)[0]
    return rel == SUMS_NAME or any(fnmatch.fnmatchcase(top, pat) for pat in IGNORED_TOP)


def bundle_files(root: Path) -> List[str]:
    """Every file under `root` as a relative POSIX path, sorted, minus SHA256SUMS and ignored entries.

    Directory symlinks are not followed (a bundle has none; one added later shows up as an extra
    file entry, not as the tree it points to). Raises OSError when a folder cannot be listed.
    """
    out: List[str] = []

    def fail(exc: OSError) -> None:
        raise exc

    for dirpath, dirnames, filenames in os.walk(root, onerror=fail):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else rel_dir + "/"
        keep = []
        for d in sorted(dirnames):
            if os.path.islink(os.path.join(dirpath, d)):
                filenames.append(d)
            elif not _ignored(prefix + d):
                keep.append(d)
        dirnames[:] = keep
        out.extend(prefix + name for name in filenames if not _ignored(prefix + name))
    return sorted(out)


def write_sums(root: Path, files: Optional[Iterable[str]] = None) -> str:
    """Write `root/SHA256SUMS` over `files` (default: every bundle file); return its own SHA-256."""
    names = sorted(files) if files is not None else bundle_files(root)
    text = "".join(f"{sha256_file(root / name)}  {name}\n" for name in names)
    data = text.encode("utf-8")
    (root / SUMS_NAME).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def parse_sums(text: str) -> Dict[str, str]:
    """`sha256sum` output -> {relative path: hex}. Accepts text (`  `) and binary (` *`) mode lines.

    Raises ValueError on a line that is neither, on an absolute or `..` path, or on a repeated path:
    a SHA256SUMS that could make us hash files outside the bundle is garbled, not trusted.
    """
    sums: Dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        digest, sep, name = line[:64], line[64:66], line[66:]
        if len(digest) != 64 or sep not in ("  ", " *") or not name:
            raise ValueError(f"line {n} is not '<sha256>  <path>'")
        try:
            int(digest, 16)
        except ValueError:
            raise ValueError(f"line {n}: {digest[:16]}... is not a hex SHA-256") from None
        name = name.replace("\\", "/")
        parts = name.split("/")
        if name.startswith("/") or ".." in parts or (len(name) > 1 and name[1] == ":"):
            raise ValueError(f"line {n}: path {name!r} points outside the bundle")
        if name in sums:
            raise ValueError(f"line {n}: {name} is listed twice")
        sums[name] = digest.lower()
    if not sums:
        raise ValueError("no file listed")
    return sums


def verify(root: Path) -> Verification:
    """Check every file of bundle `root` against its SHA256SUMS. Raises BundleUnreadable."""
    from .cyclonedx import ReadError, read_bytes

    sums_path = root / SUMS_NAME
    if not os.path.lexists(sums_path):
        raise BundleUnreadable(f"{sums_path}: {os.strerror(errno.ENOENT)}")
    try:
        # A regular file of at most SUMS_LIMIT bytes: a FIFO would block for ever, /dev/zero never ends.
        raw = read_bytes(str(sums_path), SUMS_LIMIT)
    except ReadError as exc:
        raise BundleUnreadable(str(exc)) from None
    try:
        sums = parse_sums(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BundleUnreadable(f"{sums_path}: garbled: {exc}") from None
    try:
        present = bundle_files(root)
    except OSError as exc:
        raise BundleUnreadable(f"cannot list {root}: {exc.strerror or exc}") from None
    missing, changed, unreadable = [], [], []
    for name, digest in sorted(sums.items()):
        path = root / name
        if not path.is_file():
            missing.append(name)
            continue
        try:
            if sha256_file(path) != digest:
                changed.append(name)
        except OSError:
            unreadable.append(name)
    extra = [name for name in present if name not in sums]
    return Verification(root=root, checked=len(sums), missing=tuple(missing), changed=tuple(changed),
                        extra=tuple(extra), unreadable=tuple(unreadable),
                        sums_sha256=hashlib.sha256(raw).hexdigest())


def _is_bundle(folder: Path) -> bool:
    return (folder / SUMS_NAME).is_file() and (folder / MARKER).is_file()


def default_dir() -> Path:
    """The bundle this cbom runs from: the nearest folder above the executable holding SHA256SUMS
    and BUNDLE-INFO.json (frozen build, or the launcher's venv on the stick); else the current folder.
    """
    # abspath, not resolve(): a venv's python is a symlink to the host's interpreter.
    starts = [Path(os.path.abspath(sys.executable)).parent, Path(os.path.abspath(sys.prefix))]
    for start in starts:
        for folder in (start, *start.parents):
            if _is_bundle(folder):
                return folder
    return Path.cwd()


def command(args) -> int:
    """`cbom verify-bundle [DIR]`: print the verdict and each problem; return 0 / 1 / 2."""
    root = Path(args.dir) if getattr(args, "dir", None) else default_dir()
    try:
        result = verify(root)
    except BundleUnreadable as exc:
        print(f"cbom verify-bundle: cannot check {root}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    for label, names in (("missing", result.missing), ("changed", result.changed),
                         ("extra", result.extra), ("unreadable", result.unreadable)):
        for name in names:
            print(f"{label:<10} {name}")
    print(f"SHA256SUMS sha256 {result.sums_sha256}")
    if result.altered:
        print(f"{root}: ALTERED: {len(result.missing)} missing, {len(result.changed)} changed, "
              f"{len(result.extra)} extra file(s) of {result.checked} listed")
    elif result.unreadable:
        print(f"{root}: cannot tell: {len(result.unreadable)} file(s) unreadable")
    else:
        print(f"{root}: intact ({result.checked} files match SHA256SUMS)")
    return result.exit_code
