"""Version ordering per ecosystem: Debian (dpkg), RPM (rpmvercmp), PEP 440, and a generic scheme.

Each comparison is a pure function returning -1, 0 or 1, so `cbom diff` can
classify a version change as upgrade / downgrade / same version. The Debian
and RPM algorithms follow the reference C code character for character
(dpkg lib/dpkg/version.c `verrevcmp`, rpm rpmio/rpmvercmp.c), because an
"almost dpkg" ordering gets exactly the cases auditors care about wrong
(epochs, `~` pre-releases, `+bN` rebuilds).
"""
from __future__ import annotations

import re
from typing import List, Tuple, Union

__all__ = [
    "compare_versions", "compare_debian", "compare_rpm", "compare_rpm_evr", "compare_pep440",
    "compare_generic", "is_debian_rebuild", "ECOSYSTEMS",
]

# Ecosystem names accepted by compare_versions(); the purl types that map to them are in
# cbom.diff.ecosystem_of().
ECOSYSTEMS = ("debian", "rpm", "pypi", "generic")


def _sign(n: int) -> int:
    return (n > 0) - (n < 0)


# --- Debian ---------------------------------------------------------------------------------------


def _dpkg_order(c: str) -> int:
    # dpkg lib/dpkg/version.c order(): digits sort as 0 (they are compared numerically
    # elsewhere), letters by ASCII, '~' before everything (even the end of the string),
    # every other character after all letters.
    if c.isdigit():
        return 0
    if c.isascii() and c.isalpha():
        return ord(c)
    if c == "~":
        return -1
    return ord(c) + 256


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        first_diff = 0
        while (i < la and not a[i].isdigit()) or (j < lb and not b[j].isdigit()):
            ac = _dpkg_order(a[i]) if i < la else 0
            bc = _dpkg_order(b[j]) if j < lb else 0
            if ac != bc:
                return _sign(ac - bc)
            i += 1
            j += 1
        while i < la and a[i] == "0":
            i += 1
        while j < lb and b[j] == "0":
            j += 1
        while i < la and a[i].isdigit() and j < lb and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < la and a[i].isdigit():
            return 1
        if j < lb and b[j].isdigit():
            return -1
        if first_diff:
            return _sign(first_diff)
    return 0


def parse_debian(version: str) -> Tuple[int, str, str]:
    """(epoch, upstream, revision) as dpkg parseversion() splits them.

    The epoch is before the first ':', the revision after the LAST '-'
    (so an upstream version may itself contain hyphens and colons).
    """
    version = version.strip()
    epoch = 0
    head, sep, rest = version.partition(":")
    if sep and head.isdigit():
        epoch, version = int(head), rest
    upstream, sep, revision = version.rpartition("-")
    if not sep:
        upstream, revision = version, ""
    return epoch, upstream, revision


def compare_debian(a: str, b: str) -> int:
    """dpkg --compare-versions ordering of two Debian versions (-1, 0, 1)."""
    ea, ua, ra = parse_debian(a)
    eb, ub, rb = parse_debian(b)
    if ea != eb:
        return _sign(ea - eb)
    return _verrevcmp(ua, ub) or _verrevcmp(ra, rb)


_BINNMU = re.compile(r"\+b\d+$")


def is_debian_rebuild(a: str, b: str) -> bool:
    """True when two Debian versions differ only by a binNMU suffix (`+bN`): same source, rebuilt.

    Debian Policy 5.6.12 / the binNMU convention: `1.2-3` and `1.2-3+b1` are built from the
    same source package; dpkg orders the binNMU higher, but nothing in the code changed.
    """
    return a != b and _BINNMU.sub("", a) == _BINNMU.sub("", b)


# --- RPM ------------------------------------------------------------------------------------------


def _ascii_alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def _ascii_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _ascii_alpha(c: str) -> bool:
    return c.isascii() and c.isalpha()


def compare_rpm(a: str, b: str) -> int:
    """rpmvercmp() of rpm >= 4.15 (with `~` and `^`): -1, 0 or 1 for one version or release string."""
    if a == b:
        return 0
    one, two = a, b
    i = j = 0
    l1, l2 = len(one), len(two)
    while i < l1 or j < l2:
        while i < l1 and not _ascii_alnum(one[i]) and one[i] not in "~^":
            i += 1
        while j < l2 and not _ascii_alnum(two[j]) and two[j] not in "~^":
            j += 1
        # '~' sorts before everything, even the end of the string.
        t1, t2 = i < l1 and one[i] == "~", j < l2 and two[j] == "~"
        if t1 or t2:
            if not t1:
                return 1
            if not t2:
                return -1
            i += 1
            j += 1
            continue
        # '^' sorts after the end of the string but before anything else.
        c1, c2 = i < l1 and one[i] == "^", j < l2 and two[j] == "^"
        if c1 or c2:
            if i >= l1:
                return -1
            if j >= l2:
                return 1
            if not c1:
                return 1
            if not c2:
                return -1
            i += 1
            j += 1
            continue
        if not (i < l1 and j < l2):
            break
        s1, s2 = i, j
        if _ascii_digit(one[i]):
            while i < l1 and _ascii_digit(one[i]):
                i += 1
            while j < l2 and _ascii_digit(two[j]):
                j += 1
            isnum = True
        else:
            while i < l1 and _ascii_alpha(one[i]):
                i += 1
            while j < l2 and _ascii_alpha(two[j]):
                j += 1
            isnum = False
        seg1, seg2 = one[s1:i], two[s2:j]
        if not seg2:
            # Segments of different types: numeric is newer than alpha.
            return 1 if isnum else -1
        if isnum:
            seg1, seg2 = seg1.lstrip("0"), seg2.lstrip("0")
            if len(seg1) != len(seg2):
                return 1 if len(seg1) > len(seg2) else -1
        if seg1 != seg2:
            return 1 if seg1 > seg2 else -1
    if i >= l1 and j >= l2:
        return 0
    # Whichever version still has characters left wins.
    return -1 if i >= l1 else 1


def parse_rpm_evr(evr: str) -> Tuple[int, str, str]:
    """(epoch, version, release) of `[epoch:]version[-release]`; a missing epoch is 0.

    The split is Debian's (epoch before the first ':', release after the last '-')."""
    return parse_debian(evr)


def compare_rpm_evr(a: str, b: str) -> int:
    """rpm's EVR comparison; a release is compared only when both sides have one (rpmdsCompare)."""
    ea, va, ra = parse_rpm_evr(a)
    eb, vb, rb = parse_rpm_evr(b)
    if ea != eb:
        return _sign(ea - eb)
    rc = compare_rpm(va, vb)
    if rc or not (ra and rb):
        return rc
    return compare_rpm(ra, rb)


# --- PEP 440 --------------------------------------------------------------------------------------


def compare_pep440(a: str, b: str) -> int:
    """PEP 440 ordering through `packaging`; versions it rejects fall back to compare_generic()."""
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - packaging is a dependency of pip/setuptools
        return compare_generic(a, b)
    try:
        va, vb = Version(a), Version(b)
    except InvalidVersion:
        return compare_generic(a, b)
    return (va > vb) - (va < vb)


# --- generic --------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\d+|[A-Za-z]+|~")
# Words that mark a pre-release (sort before the release) and a post-release (after it), as in
# PEP 440, semver, Alpine (_alpha) and vendor firmware strings ("1.2 build 7", "SP1").
_PRE = {"dev": 0, "snapshot": 0, "alpha": 1, "beta": 2, "pre": 3, "preview": 3, "rc": 4}
_POST = {"post", "patch", "pl", "build", "rev", "update", "sp", "hotfix"}


def _generic_key(version: str) -> List[Tuple[int, Union[int, str]]]:
    v = version.strip()
    if v[:1] in ("v", "V") and v[1:2].isdigit():
        v = v[1:]
    key: List[Tuple[int, Union[int, str]]] = []
    for tok in _TOKEN.findall(v):
        if tok == "~":
            key.append((-2, 0))  # Debian-style "sorts before anything"
        elif tok.isdigit():
            key.append((2, int(tok)))
        else:
            low = tok.lower()
            # Single letters ("1.0b", "5.5p1") stay plain letters, as rpm and dpkg treat them:
            # "b" may mean beta or build depending on the vendor.
            if low in _PRE:
                key.append((-1, _PRE[low]))
            elif low in _POST:
                key.append((1, low))
            else:
                key.append((0, low))
    return key


def compare_generic(a: str, b: str) -> int:
    """Semantic-ish ordering for versions of no known ecosystem (firmware, drivers, other tools).

    Numbers compare numerically, `v1.2` equals `1.2`, pre-release words (alpha, beta, rc, dev)
    sort before the release, post-release words (build, patch, p, sp) after it, other letters
    after a shorter version's end but before numbers. Separators are ignored.
    """
    if a == b:
        return 0
    ka, kb = _generic_key(a), _generic_key(b)
    for x, y in zip(ka, kb):
        if x != y:
            if x[0] != y[0]:
                return 1 if x[0] > y[0] else -1
            return 1 if x[1] > y[1] else -1  # type: ignore[operator]
    if len(ka) == len(kb):
        return 0
    # The longer one wins unless what it has more is a pre-release marker ("1.0" > "1.0rc1").
    longer, sign = (ka, 1) if len(ka) > len(kb) else (kb, -1)
    extra = longer[min(len(ka), len(kb))]
    return -sign if extra[0] < 0 else sign


def compare_versions(a: str, b: str, ecosystem: str = "generic") -> int:
    """Order two versions by the rules of `ecosystem` (debian, rpm, pypi, generic): -1, 0 or 1."""
    if a == b:
        return 0
    if ecosystem == "debian":
        return compare_debian(a, b)
    if ecosystem == "rpm":
        return compare_rpm_evr(a, b)
    if ecosystem == "pypi":
        return compare_pep440(a, b)
    return compare_generic(a, b)
