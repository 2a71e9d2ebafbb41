"""Offline PCI and USB vendor/device names from the pci.ids / usb.ids databases.

The tool carries trimmed gzip copies in `collectors/data/` (vendor, device and
class lines; subsystem lines dropped, see collectors/data/IDS_SOURCES.md), so
names resolve the same on a plant PC without pciutils/hwdata as on a
workstation. Parsing is done once per process and only on first use.
"""
from __future__ import annotations

import gzip
import threading
from pathlib import Path
from typing import Dict, Optional, Tuple

DATA = Path(__file__).resolve().parent / "data"

_lock = threading.Lock()
_cache: Dict[str, IdsDatabase] = {}


class IdsDatabase:
    """Names from one pci.ids/usb.ids-format file; ids are lower-case hex strings."""

    def __init__(self, text: str) -> None:
        self.version = ""
        self.vendors: Dict[str, str] = {}
        self.devices: Dict[Tuple[str, str], str] = {}
        self.classes: Dict[str, str] = {}
        self.subclasses: Dict[Tuple[str, str], str] = {}
        self._parse(text)

    def _parse(self, text: str) -> None:
        top = ""  # current vendor id, or class id when in_class
        in_class = False
        for line in text.splitlines():
            if not line or line[0] == "#":
                if line.startswith("#\tVersion:") or line.startswith("# Version:"):
                    self.version = line.split(":", 1)[1].strip()
                continue
            if line.startswith("\t\t"):
                continue  # subsystems / protocols: not shipped, not used
            if line[0] == "\t":
                key, _, name = line[1:].partition("  ")
                if top and name:
                    (self.subclasses if in_class else self.devices)[(top, key.lower())] = name.strip()
                continue
            if line.startswith("C "):
                in_class = True
                key, _, name = line[2:].partition("  ")
                top = key.lower()
                self.classes[top] = name.strip()
                continue
            key, _, name = line.partition("  ")
            if len(key) == 4 and name:
                in_class = False
                top = key.lower()
                self.vendors[top] = name.strip()
            else:
                # usb.ids trailing sections (AT, HID, L, …) use other keys: stop vendor scope
                top, in_class = "", False

    def vendor(self, vendor_id: str) -> str:
        return self.vendors.get(vendor_id.lower(), "")

    def device(self, vendor_id: str, device_id: str) -> str:
        return self.devices.get((vendor_id.lower(), device_id.lower()), "")

    def class_name(self, class_id: str, subclass_id: str = "") -> str:
        """Subclass name when known (e.g. 'Ethernet controller'), else the class name."""
        if subclass_id:
            name = self.subclasses.get((class_id.lower(), subclass_id.lower()))
            if name:
                return name
        return self.classes.get(class_id.lower(), "")


def load(kind: str, path: Optional[Path] = None) -> IdsDatabase:
    """The shipped database `kind` ("pci" or "usb"), or the file at `path`; cached.

    A missing or unreadable file gives an empty database: names are then left
    out, ids are still reported.
    """
    key = str(path) if path else kind
    with _lock:
        db = _cache.get(key)
        if db is None:
            db = IdsDatabase(_read(path or DATA / f"{kind}.ids.gz"))
            _cache[key] = db
    return db


def _read(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError:
        return ""
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            return ""
    # pci.ids/usb.ids are UTF-8 since 2014; older copies may hold Latin-1 bytes.
    return raw.decode("utf-8", "replace")
