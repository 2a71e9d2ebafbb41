"""IEC 61850-8-1 GOOSE (EtherType 0x88B8) and 9-2 Sampled Values (0x88BA).

GOOSE identity: the goosePdu (IEC 61850-8-1 Annex A, BER: APPID, length,
reserved 1 and 2, then [APPLICATION 1] with context tags 0 gocbRef, 2 datSet,
3 goID) names the publishing IED's control block ("AA1C1Q01A1LD0/LLN0$GO$gcb_A",
whose first part is the IED name and logical device), its data set and its
GOOSE id; kept as identity of the publishing MAC (several control blocks:
listed in the order first seen). Wireshark: packet-goose.c (`goose.gocbRef`,
`goose.datSet`, `goose.goID`), packet-sv.c.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

from .._records import HostRec, Truncated
from .._wire import ber_tlv, text
from ._dissector import Dissector

if TYPE_CHECKING:
    from .._engine import Analyzer

_KEYS = {0x80: "goose-gocbref", 0x82: "goose-datset", 0x83: "goose-goid"}
_MAX_VALUES = 8  # control blocks listed per publisher
_MAX_SEEN = 4096
# The analyser's memory of "goose": (publisher MAC + encoded gocbRef) already read. A publisher repeats the same
# control block every few milliseconds; its identity is read once, not at every frame.


def decode_goose(an: Analyzer, ts: float, b: bytes, off: int, end: int, st: List[str], h: Optional[HostRec]) -> None:
    if h is None:
        return
    try:
        _goose(an, b, off, h)
    except (Truncated, IndexError, ValueError):  # the frame is fine, its goosePdu is cut or garbled
        an.malformed_pdu("goose")


def _goose(an: Analyzer, b: bytes, off: int, h: HostRec) -> None:
    tag, q, pend = ber_tlv(b, off + 8)
    if tag != 0x61:  # goosePdu [APPLICATION 1]
        return
    tag, v, e = ber_tlv(b, q)
    seen = an.memory("goose")
    key = b[6:12] + b[v:e]
    if tag != 0x80 or key in seen or len(seen) >= _MAX_SEEN:
        return
    while q < pend:
        tag, v, q = ber_tlv(b, q)
        name = _KEYS.get(tag)
        if name is not None:
            _add(h, name, text(b[v:q]))
        if tag == 0x83:  # goID is the last identity field; allData follows
            break
    seen[key] = None  # only once read whole: a cut frame is read again next time


def _add(h: HostRec, key: str, value: str) -> None:
    if not value:
        return
    have = h.ident.get(key, "")
    seen = have.split(", ") if have else []
    if value not in seen and len(seen) < _MAX_VALUES:
        h.ident[key] = ", ".join(seen + [value])


GOOSE = Dissector(name="goose", title="IEC 61850 GOOSE", ethertypes=(0x88B8,), link=decode_goose)
SV = Dissector(name="sv", title="IEC 61850 Sampled Values", ethertypes=(0x88BA,))
