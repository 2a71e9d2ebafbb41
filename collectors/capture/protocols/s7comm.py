"""ISO-on-TCP (TCP 102): TPKT (RFC 1006), COTP (ISO 8073) and what rides on it: Siemens S7comm,
S7comm-plus, and the ISO session/presentation/ACSE/MMS stack (mms.py).

COTP data units (DT) are named in the frame that ends them, as packet-cotp.c's reassembly does;
the first fragment with data decides the protocol of the reassembled unit.

S7comm header and function codes follow Wireshark's packet-s7comm.c
(s7comm_param_func_names); module identity (order number, firmware, station and module names,
serial number) comes from SZL 0x0011/0x001C read responses (userdata function group 4,
subfunction 1), record by record (`szl_identity`).
"""
from __future__ import annotations

import re
import struct
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from mypy_extensions import mypyc_attr

from cbom.model import Severity

from .._records import StreamMode, TcpStream
from .._wire import ip, text, u16
from ._dissector import Dissector, EventKind
from .mms import N_PRES, is_session
from .mms import decode as mms_decode
from .mms import names as mms_names

if TYPE_CHECKING:
    from .._engine import Analyzer

# S7comm Job functions (Wireshark packet-s7comm.c s7comm_param_func_names): a variable write, and
# what changes the program or the state of the PLC. The PLC itself sends "Download block" and
# "Download ended" jobs to the station that asked to download (the PLC pulls the blocks).
S7_WRITES = {0x05: "Write Var"}
S7_CONTROLS = {0x1A: "Request download", 0x1B: "Download block", 0x1C: "Download ended",
               0x28: "PI-Service", 0x29: "PLC Stop"}
# PI services (packet-s7comm.c pi_service_names) and block types of their file names
# (s7comm_blocktype_names: "0A" is a DB ...).
PI_SERVICES = {"_INSE": "activate blocks", "_DELE": "delete blocks", "P_PROGRAM": "PLC start/stop",
               "_MODU": "copy RAM to ROM", "_GARB": "compress memory"}
_BLOCK_TYPES = {"08": "OB", "0A": "DB", "0B": "SDB", "0C": "FC", "0D": "SFC", "0E": "FB", "0F": "SFB"}

# Titles and explanation of S7_WRITE unchanged since issue 14 (translations key on them); its
# grade is that of the other protocols' writes now that downloads and stops are S7_CONTROL.
S7_WRITE = EventKind("s7_write", "CBOM-NET-ICS-WRITE", Severity.MEDIUM, "S7comm memory writes seen",
                     "A station wrote PLC memory (S7comm Write Var); confirm it is an authorised HMI or engineering "
                     "station.")
S7_CONTROL = EventKind("s7_control", "CBOM-NET-ICS-WRITE", Severity.HIGH, "S7comm program download or PLC stop seen",
                       "A station downloaded, activated or deleted program blocks of a PLC, or stopped it "
                       "(S7comm download functions, PI services, PLC Stop).")
S7P_CONTROL = EventKind("s7p_control", "CBOM-NET-ICS-WRITE", Severity.HIGH, "S7comm-plus PLC stop or start seen",
                        "A station set the operating state of an S7-1200/1500 CPU (STOP or RUN) through "
                        "S7comm-plus, as TIA Portal does before and after a download.")

_N_TPKT = ("tpkt",)
_N_COTP = ("tpkt", "cotp")
_N_S7 = ("tpkt", "cotp", "s7comm")
_N_S7P = ("tpkt", "cotp", "s7comm-plus")
_SES_CONNECT = (13, 14)  # ISO 8327 CONNECT, ACCEPT SPDUs
_WHOLE_CONNECT = 8192  # at most this much of one is held back across segments
_FRAGMENT = StreamMode.FRAGMENT
_PDUS = StreamMode.PDUS


# A tuple subclass cannot be a compiled (native) class: mypyc leaves this one to the interpreter.
@mypyc_attr(native_class=False)
class _Names(Tuple[str, ...]):
    """The display-filter names of a COTP unit, carrying its direction's upper-layer state.

    The engine keeps the names the framer returns for a PDU in progress in `TcpStream.pending`;
    the framer also leaves them there for complete PDUs, so the direction remembers what its
    COTP fragments are the start of (`frag`: the names of the reassembled unit, or () while
    the fragments carried no data yet) and whether its presentation connect negotiated MMS.
    """

    frag: Tuple[str, ...]
    mms: bool


_STATES: Dict[Tuple[Tuple[str, ...], Tuple[str, ...], bool], _Names] = {}


def _state(names: Tuple[str, ...], frag: Tuple[str, ...], mms: bool) -> _Names:
    key = (names, frag, mms)
    st = _STATES.get(key)
    if st is None:
        st = _STATES[key] = _Names(names)
        st.frag, st.mms = frag, mms
    return st


def check(p: bytes) -> bool:
    # TPKT owns its port whatever the content (Wireshark shows "Continuation"); a short
    # first segment is a keep-alive or a split header.
    return len(p) < 4 or (p[0] == 3 and p[1] == 0)


def _upper(p: bytes, s: int, e: int, mms: bool) -> Tuple[Tuple[str, ...], bool]:
    """Names of the COTP data p[s:e] (cut at the end of `p` when the unit spans segments) and
    whether the direction carries MMS. packet-cotp.c offers a data unit to its heuristic
    dissectors: S7comm (0x32, packet-s7comm.c), S7comm-plus (0x72, a plugin: Wireshark 4.0
    has no built-in dissector and shows "data") and the ISO 8327 session (packet-ses.c)."""
    e = min(e, len(p))
    if s >= e:
        return _N_COTP, mms
    if p[s] == 0x32:
        return _N_S7, mms
    if p[s] == 0x72:
        return _N_S7P, mms
    try:
        if is_session(p, s, e):
            return mms_names(p, s, e, mms)
    except (IndexError, ValueError):  # a presentation layer cut at the segment end
        return N_PRES, mms
    return _N_COTP, mms


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    n = len(p) - i
    if n < 4:
        if p[i] == 3 and (n == 1 or p[i + 1] == 0):  # a TPKT header cut by the segment end
            return None
        return n, _N_TPKT  # a stray byte (keep-alive): Wireshark's TPKT "Continuation"
    if p[i] != 3 or p[i + 1] != 0:  # not a TPKT header: Wireshark shows the rest as TPKT "Continuation"
        return n, _N_TPKT
    ln = u16(p, i + 2)[0]
    if ln < 4:
        return n, _N_TPKT
    if ln < 7:
        return ln, _N_TPKT
    if n < 7 or (n < ln and n < 32):
        # Some stacks send the TPKT header in a segment of its own: like Wireshark's TPKT
        # desegmentation, name nothing there and wait for the COTP header and the start of
        # its data, which name the unit.
        return None
    li, code = p[i + 4], p[i + 5] & 0xF0
    if code != 0xF0:  # not DT: connection management
        return ln, _N_COTP
    if n < ln and n > 5 + li and p[i + 5 + li] in _SES_CONNECT and ln <= _WHOLE_CONNECT:
        return None  # a session Connect/Accept is named by its whole presentation context list
    prev = dr.pending
    frag: Tuple[str, ...] = getattr(prev, "frag", ())
    mms: bool = getattr(prev, "mms", False)
    start, end = i + 5 + li, i + ln
    fragment = dr.mode is _FRAGMENT
    if not p[i + 6] & 0x80:  # DT without EOT: the unit continues in the next DT
        if not (fragment and frag) and end > start:  # the first fragment with data names the unit
            frag, mms = _upper(p, start, end, mms)
        dr.mode = _FRAGMENT
        st = dr.pending = _state(_N_COTP, frag, mms)
        return ln, st
    if fragment:  # the last fragment: the reassembled unit is named here (packet-cotp.c reassembly)
        names = frag
        if not names:
            names, mms = _upper(p, start, end, mms)
        dr.mode = _PDUS
    else:
        names, mms = _upper(p, start, end, mms)
    st = dr.pending = _state(names, (), mms)
    return ln, st


def decode(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    # TPKT(4) COTP(li) S7comm: 0x32, rosctr, ..., param at 10 (job/ack) or 12 (ack_data)
    if len(pdu) < 7 or pdu[0] != 3 or pdu[5] != 0xF0:  # continuation bytes, connection management
        return
    li = pdu[4]
    s = 5 + li
    first = pdu[s] if len(pdu) > s else -1
    if first == 0x72:
        plus_decode(an, ts, pdu, s, src, dst, dport)
        return
    if first != 0x32:
        if pdu[6] & 0x80 and is_session(pdu, s, len(pdu)):  # a whole unit (a fragment is not decoded)
            mms_decode(an, ts, pdu, s, src, dst, sport, dport)
        return
    s7 = pdu[s:]
    if len(s7) < 11:
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
    elif rosctr == 1 and func in S7_CONTROLS:
        what = S7_CONTROLS[func]
        try:
            pi = pi_service(s7[hlen:hlen + u16(s7, 6)[0]]) if func in (0x28, 0x29) else ""
        except (IndexError, struct.error):  # a cut parameter: the function alone is the evidence
            pi = ""
        if pi and func == 0x29:
            pi = "(%s)" % pi.split(" ")[0]
        an.event(S7_CONTROL, src.hex() + dst.hex() + "%02x" % func, ts, "S7comm %s%s from %s to %s"
                 % (what, " " + pi if pi else "", ip(src), ip(dst)))
    elif rosctr == 7 and len(s7) >= hlen + 8:
        # Userdata: SZL read response (function group 4, subfunction 1) carries module identity
        plen = u16(s7, 6)[0]
        param = s7[10:10 + plen]
        data = s7[10 + plen:]
        if len(param) >= 8 and param[5] & 0x0F == 4 and param[6] == 1 and (param[5] >> 4) == 8 and len(data) > 12:
            for key, value in szl_identity(data):
                an.ident_ip(src, key, value)


def pi_service(param: bytes) -> str:
    """"<service> (<meaning>[: blocks])" of a PI-Service (0x28) or PLC Stop (0x29) job's parameter
    (packet-s7comm.c s7comm_decode_pi_service / s7comm_decode_plc_controls_param_hex29): 0x28,
    7 unknown bytes, parameter block length (2), parameter block, name length (1), name; 0x29,
    5 unknown bytes, name length (1), name. _INSE/_DELE parameter blocks: block count, one
    unknown byte, then per block its type (2 characters), number (5) and file system (1)."""
    if param[0] == 0x28:
        blen = u16(param, 8)[0]
        block = param[10:10 + blen]
        at = 10 + blen
    else:
        block, at = b"", 6
    name = text(param[at + 1:at + 1 + param[at]])
    if name not in PI_SERVICES:
        return name
    blocks = []
    if name in ("_INSE", "_DELE") and len(block) >= 2:
        for k in range(min(block[0], 8)):
            item = text(block[2 + 8 * k:10 + 8 * k])
            if len(item) >= 7 and item[:2] in _BLOCK_TYPES and item[2:7].isdigit():
                blocks.append("%s %d" % (_BLOCK_TYPES[item[:2]], int(item[2:7])))
    return "%s (%s%s)" % (name, PI_SERVICES[name], ": " + ", ".join(blocks) if blocks else "")


# S7comm-plus (Wireshark 4.0 has no dissector; the S7comm-plus plugin by Thomas Wiens,
# packet-s7comm_plus.c, sourceforge.net/projects/s7commwireshark): header 0x72, protocol version,
# data length (2), then opcode (0x31 request, 0x32 response, 0x33 notification), reserved (2),
# function (2). A CreateObject (0x04CA) response opening a session carries the PLC's
# ServerSessionVersion string in clear: "1;<order number>;V<firmware>".
_PLUS_CREATE_OBJECT = 0x04CA
_PLUS_VERSION = re.compile(rb"\d;(6E[SK]7 ?[0-9A-Z][0-9A-Z -]{6,22}?) *;V(\d{1,3}(?:\.\d{1,3}){1,3})")
# A request's SetVariable (function 0x04F2) of the CPU execution unit (object 52), address 2167 (its
# requested operating state; the variable-length unsigned 0x90 0x77), value a DInt (type 0x08): 1 STOP,
# 3 RUN (thomas-v2/S7CommPlusDriver: Core/Ids.cs, Core/Functioncode.cs, SetPlcOperatingState). After
# the opcode: reserved (2), function (2), reserved (2), sequence (2), session (4), transport flags (1),
# object (4), address count (1), address, value flags (1), type (1), value. Protocol version 3 puts an
# integrity part (its length, 32, and a digest) before the opcode.
_PLUS_SET_STATE = bytes.fromhex("00000034019077")
_PLUS_STATES = {1: "STOP", 3: "RUN"}


def plus_decode(an: Analyzer, ts: float, pdu: bytes, s: int, src: bytes, dst: bytes, dport: int) -> None:
    """S7comm-plus: the endpoint, the PLC's order number and firmware from a session's opening, and a
    request setting the CPU's operating state."""
    if dport == 102:
        an.serve("s7comm-plus", dst, 102, "tcp")
        p = s + 4 + (33 if pdu[s + 1] == 3 and pdu[s + 4] == 0x20 else 0)
        if pdu[p] == 0x31 and u16(pdu, p + 3)[0] == 0x04F2 and pdu[p + 14:p + 21] == _PLUS_SET_STATE \
                and pdu[p + 22] == 0x08:
            value = pdu[p + 23] if pdu[p + 23] < 0x40 else -1  # a one-byte positive variable-length integer
            an.event(S7P_CONTROL, src.hex() + dst.hex() + "%02x" % value, ts,
                     "S7comm-plus SetVariable of the CPU operating state to %s from %s to %s" % (
                         _PLUS_STATES.get(value, "value %d" % value if value >= 0 else "an unknown value"),
                         ip(src), ip(dst)))
    elif pdu[s + 4] == 0x32 and u16(pdu, s + 7)[0] == _PLUS_CREATE_OBJECT:
        m = _PLUS_VERSION.search(pdu, s + 9)
        if m:
            an.ident_ip(src, "s7-order-number", text(m.group(1)))
            an.ident_ip(src, "s7-firmware-version", "V" + m.group(2).decode("ascii"))


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
                   names={"tpkt": "TPKT (RFC 1006)", "cotp": "ISO 8073 COTP",
                          "s7comm-plus": "Siemens S7 Communication Plus (S7-1200/1500; named as the "
                                         "Wireshark plugin does: Wireshark 4.0 has no built-in dissector)"},
                   tcp_ports=(102,), check=check, frame=frame, pdu=decode, keep_pdu_start=True,
                   events=(S7_WRITE, S7_CONTROL, S7P_CONTROL))
