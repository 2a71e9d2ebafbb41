"""What every posture collector of the package shares: the category its items travel in, reads that
turn a failure into a gap (an absent file is silent), the recording check, and the sudoers walk."""
from __future__ import annotations

import posixpath
from typing import Iterator, List, Optional, Set, Tuple

from cbom.collector import ScanContext
from cbom.model import Category, Gap

from . import _accounts

__all__ = ["POSTURE_CATEGORY", "sudo_grants", "unrecorded"]

# The model has no posture category yet: accounts and startup items travel as software-category
# components of CycloneDX type data/application, told apart by cbom:posture:kind. Changing this one
# constant moves them when the core grows a category of their own.
POSTURE_CATEGORY = Category.POSTURE


def _read(ctx: ScanContext, path: str, gaps: List[str], why: str = "") -> Optional[str]:
    """Text of `path`; None when absent (silently) or unreadable (a gap saying what is lost)."""
    try:
        return ctx.read(path)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as exc:
        gaps.append(f"cannot read {path}: {exc.strerror or exc}" + (f" ({why})" if why else ""))
        return None


def _small(ctx: ScanContext, path: str, gaps: List[str]) -> Optional[str]:
    """A /proc/sys value. Read with a small buffer: a sysctl handler allocates what read() asks
    for, and the default 64 MiB read limit fails with ENOMEM (Linux 6.x proc_sys_call_handler)."""
    try:
        return " ".join(ctx.read_bytes(path, 4096, head=True).decode("utf-8", "replace").split())
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        gaps.append(f"cannot read {path}: {exc.strerror or exc}")
        return None


def _listdir(ctx: ScanContext, path: str, gaps: List[str]) -> List[str]:
    try:
        return ctx.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        gaps.append(f"cannot list {path}: {exc.strerror or exc}")
        return []


def unrecorded(ctx: ScanContext, what: str, *paths: str) -> Optional[Gap]:
    """A gap when `ctx` is a recording that holds none of `paths` (collect.bat/collect.sh do not copy
    them yet): absent there means "unknown", never "none", so nothing is concluded from it."""
    if ctx.recorded and not any(ctx.host.looked_at(p) or ctx.exists(p) for p in paths):
        return Gap(f"the recording holds no {what} ({', '.join(paths)}): not collected")
    return None


def _gaps(gaps: List[str]) -> Iterator[Gap]:
    for why in gaps[:40]:
        yield Gap(why)
    if len(gaps) > 40:
        yield Gap(f"and {len(gaps) - 40} more unreadable files")


def sudo_grants(ctx: ScanContext, gaps: List[str]) -> Tuple[Set[str], Set[str], bool]:
    """(users, groups) that sudoers gives a rule, and whether a sudoers file was read at all."""
    users: Set[str] = set()
    groups: Set[str] = set()
    pending = ["/etc/sudoers"]
    done: Set[str] = set()
    read_any = False
    while pending and len(done) < 200:
        path = pending.pop(0)
        if path in done:
            continue
        done.add(path)
        text = _read(ctx, path, gaps, "administrators granted by sudo unknown")
        if text is None:
            continue
        read_any = True
        u, g, includes = _accounts.parse_sudoers(text)
        users |= u
        groups |= g
        for inc in includes:
            if inc.startswith("dir:"):
                folder = inc[4:]
                # sudoers(5): files in an includedir ending in "~" or containing "." are skipped.
                pending += [posixpath.join(folder, n) for n in _listdir(ctx, folder, gaps)
                            if not n.endswith("~") and "." not in n]
            else:
                pending.append(inc if inc.startswith("/") else posixpath.join(posixpath.dirname(path), inc))
    return users, groups, read_any
