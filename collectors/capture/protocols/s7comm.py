"""Siemens S7 Communication over ISO-on-TCP: TPKT (RFC 1006, TCP 102), COTP (ISO 8073) and S7comm.

S7comm header and function codes follow Wireshark's packet-s7comm.c
(s7comm_param_func_names); module identity comes from SZL 0x0011/0x001C read
responses (userdata function group 4, subfunction 1).
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Optional, Tuple

from cbom.model import Severity

from .._records import StreamMode, TcpStream
from .._wire import ip, text, u16
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

# S7comm Job functions (Wireshark packet-s7comm.c s7comm_param_func_names).
S7_WRITES = {0x05: "Write Var", 0x1A: "Request download", 0x1B: "Download block", 0x1C: "Download ended",
             0x28: "PI-Service (start/compress/…)", 0x29: "PLC Stop"}

S7_WRITE = EventKind("s7_write", "CBOM-NET-ICS-WRITE", Severity.HIGH, "S7comm write, download or PLC control seen",
                     "A station wrote PLC memory, downloaded blocks or stopped the PLC.")

_N_TPKT = ("tpkt",)
_N_COTP = ("tpkt", "cotp")
_N_S7 = ("tpkt", "cotp", "s7comm")
_FRAGMENT = StreamMode.FRAGMENT
_PDUS = StreamMode.PDUS


def check(p: bytes) -> bool:
    # TPKT owns its port whatever the content (Wireshark shows "Continuation"); a short
    # first segment is a keep-alive or a split header.
    return len(p) < 4 or (p[0] == 3 and p[1] == 0)


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if len(p) < i + 4:
        return None
    if p[i] != 3:  # TPKT version
        return 0, ()
    ln = u16(p, i + 2)[0]
    if ln < 4:
        return 0, ()
    if len(p) < i + 7 or ln < 7:
        return ln, _N_TPKT if ln < 7 else _N_COTP
    li, code = p[i + 4], p[i + 5] & 0xF0
    if code == 0xF0:  # DT: payload complete when EOT is set; S7comm payloads start with 0x32
        eot = p[i + 6] & 0x80
        if not eot:
            dr.mode = _FRAGMENT  # COTP fragment: the next DT finishes it
            return ln, _N_COTP
        if len(p) > i + 5 + li and p[i + 5 + li] == 0x32:
            dr.mode = _PDUS
            return ln, _N_S7
        if dr.mode is _FRAGMENT:
            dr.mode = _PDUS
            return ln, _N_S7
        return ln, _N_COTP
    return ln, _N_COTP


def decode(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    # TPKT(4) COTP(li) S7comm: 0x32, rosctr, ..., param at 10 (job/ack) or 12 (ack_data)
    li = pdu[4]
    if pdu[5] != 0xF0:
        return
    s7 = pdu[5 + li:]
    if len(s7) < 11 or s7[0] != 0x32:
        return
    if dport == 102:
        an.serve("s7comm", dst, 102, "tcp")
    rosctr = s7[1]
    hlen = 12 if rosctr in (2, 3) else 10
    if len(s7) <= hlen:
        return
    func = s7[hlen]
    if rosctr == 1 and func in S7_WRITES:
        an.event(S7_WRITE, src.hex() + dst.hex() + "%02x" % func, ts, "S7comm %s from %s to %s"
                 % (S7_WRITES[func], ip(src), ip(dst)))
    elif rosctr == 7 and len(s7) >= hlen + 8:
        # Userdata: SZL read response (function group 4, subfunction 1) carries module identity
        plen = u16(s7, 6)[0]
        param = s7[10:10 + plen]
        data = s7[10 + plen:]
        if len(param) >= 8 and param[5] & 0x0F == 4 and param[6] == 1 and (param[5] >> 4) == 8 and len(data) > 12:
            szl_id = u16(data, 4)[0]
            if szl_id in (0x0011, 0x001C):
                t = text(data[12:])
                if t:
                    an.ident_ip(src, "s7-szl-0x%04x" % szl_id, re.sub(r"\s{2,}", " ", t)[:120])


S7COMM = Dissector(name="s7comm", title="Siemens S7 Communication",
                   names={"tpkt": "TPKT (RFC 1006)", "cotp": "ISO 8073 COTP"},
                   tcp_ports=(102,), check=check, frame=frame, pdu=decode, keep_pdu_start=True,
                   partial_names=_N_TPKT, events=(S7_WRITE,))
