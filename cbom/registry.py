"""The registry of collectors: entry points, plus the built-ins a composition root passes in.

Built-in collectors are registered through the `cbom.collectors` entry-point
group exactly like third-party ones. A frozen build without installed metadata
(the USB bundle) has no entry points: its entry script passes the built-in
tuple (`collectors.BUILTIN`) here, so the core never imports `collectors`.
"""
from __future__ import annotations

import logging
import sys
from importlib import metadata
from typing import Any, Dict, List, Sequence, Tuple, Type

from .collector import Collector

__all__ = ["ENTRY_POINT_GROUP", "entry_points", "load_collectors"]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "cbom.collectors"


def load_collectors(builtin: Sequence[type] = (), include_entry_points: bool = True
                    ) -> Tuple[List[Type[Collector]], List[str]]:
    """Every registered collector class, and one line per plug-in that failed to load.

    Entry points first; `builtin` fills in what is missing (a bundle without
    dist-info). A broken plug-in is reported, never fatal.
    """
    found: Dict[str, Type[Collector]] = {}
    errors: List[str] = []
    if include_entry_points:
        for ep in entry_points():
            try:
                cls = ep.load()
            except Exception as exc:  # a broken third-party plug-in must not stop the scan
                errors.append(f"collector plug-in {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}")
                continue
            _register(found, cls, errors, origin=ep.value)
    for cls in builtin:
        if getattr(cls, "name", None) not in found:
            _register(found, cls, errors, origin="built-in")
    return sorted(found.values(), key=lambda c: c.name), errors


def _register(found: Dict[str, Type[Collector]], cls: object, errors: List[str], origin: str) -> None:
    name = getattr(cls, "name", None)
    if not (isinstance(cls, type) and issubclass(cls, Collector) and isinstance(name, str) and name):
        errors.append(f"{origin}: not a collector (subclass cbom.collector.Collector and set `name`)")
        return
    if name in found and found[name] is not cls:
        errors.append(f"{origin}: collector name {name!r} already taken by {found[name].__module__}; ignored")
        return
    found[name] = cls


def entry_points() -> List[Any]:
    """The installed entry points of the `cbom.collectors` group (none in a frozen bundle)."""
    try:
        if sys.version_info >= (3, 10):
            return list(metadata.entry_points(group=ENTRY_POINT_GROUP))
        return list(metadata.entry_points().get(ENTRY_POINT_GROUP, []))  # Python 3.9: a dict of lists
    except Exception as exc:  # a damaged site-packages must not stop the scan
        log.warning("could not read entry points: %s", exc)
        return []
