"""End-of-life operating systems named in banners (SSDP, SSH, SMB NativeOS, HTTP headers).

Shared by several protocols, so the event kind lives here; each dissector that
calls `report_eol` lists `EOL_OS` in its `events`.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from cbom.model import Severity

from .._wire import ip
from ._dissector import EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

# Windows releases out of extended support (Microsoft lifecycle: XP/2003 2014-2015, Vista 2017);
# "Windows 5.x" is how SMB NativeOS and some User-Agents spell 2000/XP/2003.
EOL_OS_RE = re.compile(
    r"Windows (?:NT 4|NT 5\.[012]|XP|2000|Server 2003|5\.[012]\b|95|98|ME\b|Vista|NT 6\.0)|Windows 2003|"
    r"Win(?:XP|2K|NT)\b", re.I)

EOL_OS = EventKind("eol_os", "CBOM-NET-EOL-OS", Severity.HIGH, "Host announces an end-of-life operating system",
                   "The system no longer receives security updates.")


def report_eol(an: Analyzer, ts: float, addr: bytes, text: str, where: str) -> None:
    """Raise `EOL_OS` when `text` (a banner of the host at `addr`) names an end-of-life system."""
    m = EOL_OS_RE.search(text)
    if m:
        an.event(EOL_OS, addr.hex(), ts,
                 "%s announces an end-of-life system (%r in %s)" % (ip(addr), m.group(0), where))
