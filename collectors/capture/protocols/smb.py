"""SMB over NetBIOS Session Service (RFC 1002 section 4.3; TCP 445 and 139): SMB1 and SMB2/3.

SMB1 is a finding of its own; its Session Setup AndX response names the
server OS ([MS-CIFS] 2.2.4.53.2). Wireshark: packet-nbss.c, packet-smb.c, packet-smb2.c.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Tuple

from cbom.model import Severity

from .._records import TcpStream
from .._wire import ip, u16, u16le
from ._dissector import Dissector, EventKind
from ._eol import EOL_OS, report_eol

if TYPE_CHECKING:
    from .._engine import Analyzer

SMB1 = EventKind("smb1", "CBOM-NET-SMB1", Severity.MEDIUM, "SMB version 1 in use",
                 "SMBv1 is deprecated and was the vector of WannaCry/NotPetya; disable it where possible.")

_SESSION_TYPES = (0x00, 0x81, 0x82, 0x83, 0x84, 0x85)  # message, request, +/- response, retarget, keep-alive
_N_NBSS = ("nbss",)
_N_SMB = ("nbss", "smb")
_N_SMB2 = ("nbss", "smb2")


def check(p: bytes) -> bool:
    return len(p) >= 4 and p[0] in _SESSION_TYPES


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if len(p) < i + 4:
        return None
    t = p[i]
    if t not in _SESSION_TYPES:
        return 0, ()
    ln = 4 + (((p[i + 1] & 1) << 16) | u16(p, i + 2)[0])  # 17-bit length
    if t == 0 and ln > 4:
        if len(p) < i + 8:
            return None
        m = p[i + 4:i + 8]
        if m == b"\xfeSMB":
            return ln, _N_SMB2
        if m == b"\xffSMB":
            return ln, _N_SMB
    return ln, _N_NBSS


def decode(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    if pdu[4:8] == b"\xffSMB":
        if dport in (445, 139):
            an.serve("smb", dst, dport, "tcp")
        an.event(SMB1, src.hex() + dst.hex() if src < dst else dst.hex() + src.hex(), ts,
                 "SMBv1 between %s and %s" % (ip(src), ip(dst)))
        cmd = pdu[8]
        if cmd == 0x73 and sport in (445, 139):  # Session Setup AndX response: NativeOS strings
            _native_os(an, ts, pdu, src)
    elif pdu[4:8] == b"\xfeSMB" and dport in (445, 139):
        an.serve("smb2", dst, dport, "tcp")


def _native_os(an: Analyzer, ts: float, pdu: bytes, src: bytes) -> None:
    # SMB header starts at 4 (after NBSS); words at 37; extended-security responses
    # (word count 4) carry the security blob before NativeOS (MS-CIFS 2.2.4.53.2).
    flags2 = u16le(pdu, 4 + 10)[0]
    wc = pdu[4 + 32]
    pos = 4 + 33 + wc * 2 + 2
    if wc == 4:
        pos += u16le(pdu, 4 + 33 + 6)[0]
    elif wc != 3:
        return
    if flags2 & 0x8000:  # Unicode strings, aligned on 2 bytes from the SMB header
        if (pos - 4) & 1:
            pos += 1
        end = pos
        while end + 1 < len(pdu) and pdu[end:end + 2] != b"\0\0":
            end += 2
        native = pdu[pos:end].decode("utf-16-le", "replace")
    else:
        native = pdu[pos:].split(b"\0", 1)[0].decode("latin-1", "replace")
    native = "".join(ch for ch in native if ch.isprintable()).strip()
    if native:
        an.ident_ip(src, "smb-native-os", native)
        report_eol(an, ts, src, native, "SMB NativeOS")


SMB = Dissector(name="smb", title="SMB (version 1)", names={"nbss": "NetBIOS Session Service", "smb2": "SMB2/3"},
                tcp_ports=(445, 139), check=check, frame=frame, pdu=decode, keep_pdu_start=True,
                events=(SMB1, EOL_OS))
