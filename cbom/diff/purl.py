"""Package URLs as the diff needs them: parsed, normalised, and with the version left out."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Dict, Optional, Tuple
from urllib.parse import unquote

__all__ = ["split_purl", "purl_key", "purl_sans_version"]

# purl-spec PURL-TYPES: names (and namespaces) of these types are case-insensitive.
_LOWER_TYPES = {"deb", "pypi", "github", "bitbucket", "apk", "alpm", "nuget", "composer", "hex", "pub", "npm"}


def _unq(text: str) -> str:
    return unquote(text) if "%" in text else text


@lru_cache(maxsize=65536)
def split_purl(purl: str) -> Optional[Tuple[str, str, str, str, Dict[str, str]]]:
    """(type, namespace, name, version, qualifiers) of a purl, normalised; None if not a purl.

    A small parser instead of packageurl-python: 40,000 purls must parse in well under a
    second (tests check it agrees with packageurl-python on real purls).
    """
    if not purl.startswith("pkg:"):
        return None
    rest = purl[4:].lstrip("/")
    rest = rest.partition("#")[0]
    rest, _, query = rest.partition("?")
    typ, _, path = rest.partition("/")
    if not typ or not path:
        return None
    typ = typ.lower()
    ns, _, last = path.rstrip("/").rpartition("/")
    name, _, version = last.partition("@")
    name, ns, version = _unq(name), _unq(ns), _unq(version)
    if typ in _LOWER_TYPES:
        name, ns = name.lower(), ns.lower()
    if typ == "pypi":
        name = re.sub(r"[-_.]+", "-", name)
    quals: Dict[str, str] = {}
    if query:
        for pair in query.split("&"):
            k, _, v = pair.partition("=")
            if k and v:
                quals[k.lower()] = _unq(v)
    return typ, ns, name, version, quals


@lru_cache(maxsize=65536)
def purl_key(purl: str) -> Optional[str]:
    """`pkg:type/namespace/name?arch=…`: the identity of a package whatever its version."""
    head, _, query = purl.partition("#")[0].partition("?")
    # Drop the version before anything is decoded: only the name part is needed.
    ns_name, at, _ = head.rpartition("@")
    if not at or "/" in _:
        ns_name = head
    p = split_purl(ns_name + ("?" + query if query else ""))
    if not p:
        return None
    typ, ns, name, _v, q = p
    return f"pkg:{typ}/{ns + '/' if ns else ''}{name}" + (f"?arch={q['arch']}" if q.get("arch") else "")


def purl_sans_version(purl: str) -> str:
    """The purl normalised, without its version (qualifiers sorted); `purl` itself if not a purl."""
    p = split_purl(purl)
    if not p:
        return purl
    typ, ns, name, _, q = p
    quals = "&".join(f"{k}={q[k]}" for k in sorted(q))
    return f"pkg:{typ}/{ns + '/' if ns else ''}{name}" + (f"?{quals}" if quals else "")
