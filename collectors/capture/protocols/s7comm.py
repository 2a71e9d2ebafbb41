"""Siemens S7 Communication over ISO-on-TCP: TPKT (RFC 1006, TCP 102), COTP (ISO 8073) and S7comm.

S7comm header and function codes follow Wireshark's packet-s7comm.c
(s7comm_param_func_names); module identity (order number, firmware, station and module names,
serial number) comes from SZL 0x0011/0x001C read responses (userdata function group 4,
subfunction 1), record by record (`szl_identity`).
"""
from __future__ import annotations

import re
import struct
from typing import TYPE_CHECKING, List, Optional, Tuple

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
            for key, value in szl_identity(data):
                an.ident_ip(src, key, value)


# SZL partial lists naming a module (Siemens, "System Software for S7-300/400 System and Standard
# Functions", SZL-ID W#16#xy11 and W#16#xy1C; Wireshark packet-s7comm_szl_ids.c): record index ->
# identity key. xy11 records: index (2), MLFB order number (20 characters), BGTyp (2), Ausbg (2),
# Ausbe (2); index 7 is the firmware, "V" in Ausbg's first byte, then three version numbers.
# xy1C records: index (2), a 24-character (index 3: 32) name.
_SZL_11 = {0x0001: "s7-order-number", 0x0006: "s7-order-number"}
_SZL_1C = {0x0001: "s7-station-name", 0x0002: "s7-module-name", 0x0003: "s7-plant-tag",
           0x0005: "s7-serial-number", 0x0007: "s7-module-type", 0x000B: "s7-location"}


def szl_identity(data: bytes) -> List[Tuple[str, str]]:
    """(key, value) of the identity records of one SZL read response's data (return code,
    transport size, length, SZL-ID, index, record length, record count, records). A response
    split over several PDUs gives the records of its first PDU only."""
    szl_id, _index, size, count = struct.unpack_from(">HHHH", data, 4)
    part = szl_id & 0x00FF
    if part not in (0x11, 0x1C) or size < 4:
        return []
    out = []
    for n in range(count):
        rec = data[12 + n * size:12 + (n + 1) * size]
        if len(rec) < size:  # the rest is in the next PDU of the response
            break
        index = u16(rec, 0)[0]
        if part == 0x11 and size >= 28:
            if index in _SZL_11:
                out.append((_SZL_11[index], text(rec[2:22])))
            elif index == 0x0007 and rec[24] == ord("V"):
                out.append(("s7-firmware-version", "V%d.%d.%d" % (rec[25], rec[26], rec[27])))
        elif part == 0x1C and index in _SZL_1C:
            out.append((_SZL_1C[index], re.sub(r"\s{2,}", " ", text(rec[2:]))))
    return [(k, v) for k, v in out if v]


S7COMM = Dissector(name="s7comm", title="Siemens S7 Communication",
                   names={"tpkt": "TPKT (RFC 1006)", "cotp": "ISO 8073 COTP"},
                   tcp_ports=(102,), check=check, frame=frame, pdu=decode, keep_pdu_start=True,
                   partial_names=_N_TPKT, events=(S7_WRITE,))
