"""MMS (ISO 9506) over the OSI upper layers, carried by COTP on ISO-on-TCP (TCP 102).

The TPKT/COTP framer (s7comm.py, which owns TCP 102) hands each COTP data unit
that starts with an ISO 8327 session SPDU to `names` (display-filter names of the
unit) and `decode` (identity and write/control operations). The layers follow
Wireshark's dissectors:
- ISO 8327-1 session (packet-ses.c): an SPDU is SI (1 byte), LI (1 byte, or 0xFF and
  2 bytes), parameters; a Give Tokens SPDU (SI 1, LI 0) precedes a Data Transfer SPDU
  (SI 1) whose user information follows its parameters; the user data of Connect,
  Accept, Finish, Disconnect, Refuse and Abort SPDUs is the parameter group 193 (or
  194, extended user data). Recognised as packet-ses.c's COTP heuristic does: a known
  SPDU type, a known second type after Give Tokens, a length that fits.
- ISO 8823 presentation (packet-pres.c): CP-type and CPA-PPDU are SETs (0x31) whose
  normal-mode parameters ([2]) hold the presentation-context-definition list ([4],
  context id + abstract syntax) and the user data; data transfer carries
  fully-encoded-data ([APPLICATION 1], 0x61), a SEQUENCE of PDV lists (context id,
  then single-ASN1-type [0] or octet-aligned [1]).
- ACSE (ISO 8650, packet-acse.c): AARQ..ABRT are [APPLICATION 0..4] (0x60..0x64).
- MMS (packet-mms.c): the MMSpdu CHOICE tags [0]..[13]; confirmed-RequestPDU is
  invokeID, optional listOfModifier, then the service, whose context tag is its
  number in ConfirmedServiceRequest (write = 5, identify = 2, start = 40, stop = 41 ...).

Like Wireshark, which learns from the presentation connect which context ids carry
ACSE and MMS and names neither on a connection whose connect it did not see, a
direction is known to carry MMS once its own CP (client) or CPA (server) PPDU
negotiated the MMS abstract syntax (1.0.9506.2.1) or application context
(1.0.9506.2.3); before that, its data units are named "ses" and "pres" only. The
identity and write decoding does not need that state: it reads any MMS PDU.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, List, Optional, Tuple

from cbom.model import Severity

from .._wire import ip, text
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

# ISO 8327 SPDU types (packet-ses.h ses_vals; `tshark -G values`, field ses.type).
SES_TYPES = frozenset((1, 2, 5, 7, 8, 9, 10, 12, 13, 14, 15, 16, 21, 22, 25, 26, 29, 33, 34, 41, 42, 45, 48, 49,
                       50, 53, 57, 58, 61, 62, 64))
_DT = 1  # Data Transfer (and Give Tokens, category 0, same SI)
_USER_DATA_PGI = (0xC1, 0xC2)  # User Data, Extended User Data
_LOOSE = 0x100  # flag on the SPDU type: its user data lies outside the PGI that should hold it
# The MMS object identifiers, BER-encoded after the OID tag and length: 1.0.9506.2.1 (abstract
# syntax) and 1.0.9506.2.3 (application context): 28 CA 22 02 01 / 03 (ISO 9506-2 annex A).
_MMS_OID = bytes.fromhex("0605 28CA2202")

# MMS ConfirmedServiceRequest numbers that change a server (packet-mms.c ConfirmedServiceRequest,
# `tshark -G values`, field mms.confirmedServiceRequest).
MMS_WRITES = {5: "write"}
MMS_CONTROLS = {26: "initiateDownloadSequence", 32: "requestDomainDownload", 34: "loadDomainContent",
                36: "deleteDomain", 38: "createProgramInvocation", 39: "deleteProgramInvocation", 40: "start",
                41: "stop", 42: "resume", 43: "reset", 44: "kill", 46: "obtainFile", 76: "fileDelete"}
_IDENTIFY = 2
# Identify-Response fields (ISO 9506-2: vendorName [0], modelName [1], revision [2]).
_IDENTITY_KEYS = {0: "mms-vendor", 1: "mms-model", 2: "mms-revision"}

MMS_WRITE = EventKind("mms_write", "CBOM-NET-ICS-WRITE", Severity.MEDIUM, "MMS write requests seen",
                      "A client wrote variables of an MMS server (IEC 61850 IED, ICCP peer): in IEC 61850 this "
                      "includes report settings and the Oper attributes that operate switchgear; confirm it is an "
                      "authorised SCADA client.")
MMS_CONTROL = EventKind("mms_control", "CBOM-NET-ICS-WRITE", Severity.HIGH, "MMS download or program control seen",
                        "A client downloaded a domain, deleted one, or started, stopped, reset or killed a program "
                        "invocation of an MMS server.")

N_SES = ("tpkt", "cotp", "ses")
N_PRES = ("tpkt", "cotp", "ses", "pres")
N_ACSE = ("tpkt", "cotp", "ses", "pres", "acse")
N_MMS = ("tpkt", "cotp", "ses", "pres", "mms")
N_ACSE_MMS = ("tpkt", "cotp", "ses", "pres", "acse", "mms")


def ber(p: bytes, i: int) -> Tuple[int, int, int, int]:
    """(class and constructed bits, tag number, content start, content end) of the BER element at
    `i` (X.690 section 8.1). The end may lie past `p` when the element is cut; IndexError when
    the header itself is."""
    t = p[i]
    i += 1
    num = t & 0x1F
    if num == 0x1F:  # high tag number: base-128 digits
        num = 0
        for _ in range(4):
            b = p[i]
            i += 1
            num = (num << 7) | (b & 0x7F)
            if not b & 0x80:
                break
        else:
            raise ValueError("BER tag too long")
    n = p[i]
    i += 1
    if n & 0x80:
        k = n & 0x7F
        if not 1 <= k <= 3:
            raise ValueError("BER length form")
        n = int.from_bytes(p[i:i + k], "big")
        if i + k > len(p):
            raise IndexError("BER length cut")
        i += k
    return t & 0xE0, num, i, i + n


def children(p: bytes, start: int, end: int) -> Iterator[Tuple[int, int, int, int]]:
    """The BER elements between `start` and `end` (stops at the end of `p`)."""
    end = min(end, len(p))
    while start < end:
        el = ber(p, start)
        yield el
        start = el[3]


def _item_len(p: bytes, i: int) -> Tuple[int, int]:
    """(value, size) of an ISO 8327 length item (one byte, or 0xFF and two bytes)."""
    if p[i] == 0xFF:
        return (p[i + 1] << 8) | p[i + 2], 3
    return p[i], 1


def is_session(p: bytes, s: int, e: int) -> bool:
    """packet-ses.c's COTP heuristic on the data unit p[s:e]."""
    if e - s < 2 or p[s] not in SES_TYPES:
        return False
    if p[s] == _DT and e - s >= 4 and p[s + 2] not in SES_TYPES:  # Give Tokens, then the next SPDU
        return False
    li, ll = _item_len(p, s + 1)
    n = 1 + ll + li
    if s + n - 1 > e:  # as packet-ses.c compares: the length item and value, without the SI byte
        return False
    return s + n >= e or p[s + n] in SES_TYPES


def user_data(p: bytes, s: int, e: int) -> Optional[Tuple[int, int, int]]:
    """(SPDU type, start, end) of the presentation data of the session data unit p[s:e], or None."""
    t = p[s]
    li, ll = _item_len(p, s + 1)
    body = s + 1 + ll
    if t in (1, 2) and body + li < e:  # category 0 (Give/Please Tokens) then a category 2 SPDU
        s = body + li
        t = p[s]
        li, ll = _item_len(p, s + 1)
        body = s + 1 + ll
    if t == _DT:
        return (t, body + li, e) if body + li < e else None
    i, pend = body, min(body + li, e)
    while i + 2 <= pend:  # parameters: PI/PGI code, length, value
        code = p[i]
        n, nl = _item_len(p, i + 1)
        if code in _USER_DATA_PGI:
            if n == 0 and i + 1 + nl < pend:  # data after an empty User Data PGI (seen from
                return t | _LOOSE, i + 1 + nl, pend  # libiec61850): Wireshark shows it malformed
            return t, i + 1 + nl, min(i + 1 + nl + n, e)
        i += 1 + nl + n
    return None


def _pdvs(p: bytes, cs: int, ce: int) -> Iterator[Tuple[int, int]]:
    """(start, end) of the APDU of each PDV list in the content p[cs:ce] of fully-encoded-data."""
    for _c, n, ls, le in children(p, cs, ce):
        if n != 16:  # PDV-list SEQUENCE
            continue
        for c2, n2, vs, ve in children(p, ls, min(le, ce)):
            if c2 & 0x80 and n2 in (0, 1):  # single-ASN1-type [0], octet-aligned [1]
                yield vs, min(ve, ce)


def apdus(p: bytes, s: int, e: int) -> Tuple[bool, List[Tuple[int, int]]]:
    """(whether the PPDU p[s:e] is a presentation connect or accept, (start, end) of its APDUs)."""
    if s >= e:
        return False, []
    cls, num, cs, ce = ber(p, s)
    ce = min(ce, e)
    if cls == 0x20 and num == 17:  # CP-type / CPA-PPDU SET: normal-mode-parameters [2], its user data
        out: List[Tuple[int, int]] = []
        for c, n, ns, ne in children(p, cs, ce):
            if c & 0x80 and n == 2:
                for c2, n2, us, ue in children(p, ns, min(ne, ce)):
                    if c2 == 0x60 and n2 == 1:  # fully-encoded-data [APPLICATION 1]
                        out.extend(_pdvs(p, us, min(ue, ce)))
        return True, out
    if cls == 0x60 and num == 1:
        return False, list(_pdvs(p, cs, ce))
    return False, []


def names(p: bytes, s: int, e: int, mms: bool) -> Tuple[Tuple[str, ...], bool]:
    """(display-filter names of the session data unit p[s:e], whether its direction now carries MMS)."""
    ud = user_data(p, s, e)
    if ud is None:
        return N_SES, mms
    t, us, ue = ud
    connect, pdus = apdus(p, us, ue)
    if connect and (_MMS_OID in p[us:ue] or any(_initiate(p, a, b) for a, b in pdus)):
        mms = True
    if t & _LOOSE:  # Wireshark's presentation layer stops at the malformed SPDU
        return N_PRES, mms
    if not mms or not pdus:
        return (N_ACSE if connect and pdus and p[pdus[0][0]] & 0xE0 == 0x60 else N_PRES), mms
    first = p[pdus[0][0]]
    if first & 0xE0 == 0x60:  # ACSE APDU; AARQ/AARE carry the MMS initiate in their user information
        return (N_ACSE_MMS if connect else N_ACSE), mms
    if first & 0xC0 == 0x80 and first & 0x1F <= 13:  # an MMSpdu choice
        return N_MMS, mms
    return N_PRES, mms


def _initiate(p: bytes, s: int, e: int) -> bool:
    """Whether the ACSE AARQ/AARE at p[s:e] carries an MMS initiate PDU in its user information
    ([30], an EXTERNAL whose single-ASN1-type [0] holds initiate-Request/Response [8]/[9])."""
    cls, num, cs, ce = ber(p, s)
    if cls != 0x60 or num not in (0, 1):
        return False
    for c, n, us, ue in children(p, cs, min(ce, e)):
        if c == 0xA0 and n == 30:
            for _c, n2, xs, xe in children(p, us, ue):
                if n2 == 8:  # EXTERNAL
                    for c3, n3, vs, _ve in children(p, xs, xe):
                        if c3 == 0xA0 and n3 == 0 and vs < len(p):
                            return p[vs] in (0xA8, 0xA9)
    return False


def decode(an: Analyzer, ts: float, p: bytes, s: int, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    """Identity (Identify responses) and write/control requests of the MMS PDUs in the data unit p[s:]."""
    e = len(p)
    ud = user_data(p, s, e)
    if ud is None:
        return
    if dport == 102:
        an.serve("mms", dst, 102, "tcp")
    for a, b in apdus(p, ud[1], ud[2])[1]:
        cls, num, cs, ce = ber(p, a)
        if cls != 0xA0:
            continue
        if num == 0:  # confirmed-RequestPDU: invokeID, [listOfModifier], service
            _request(an, ts, p, cs, min(ce, b), src, dst)
        elif num == 1:  # confirmed-ResponsePDU: invokeID, service
            els = list(children(p, cs, min(ce, b)))
            if len(els) >= 2 and els[1][0] == 0xA0 and els[1][1] == _IDENTIFY:
                for c, n, vs, ve in children(p, els[1][2], els[1][3]):
                    if c == 0x80 and n in _IDENTITY_KEYS:
                        an.ident_ip(src, _IDENTITY_KEYS[n], text(p[vs:ve]))


def _request(an: Analyzer, ts: float, p: bytes, s: int, e: int, src: bytes, dst: bytes) -> None:
    for c, n, vs, ve in children(p, s, e):
        if c == 0 and n in (2, 16):  # invokeID INTEGER, listOfModifier SEQUENCE
            continue
        if not c & 0x80:
            return
        if n in MMS_WRITES:
            var = _first_name(p, vs, ve)
            an.event(MMS_WRITE, src.hex() + dst.hex(), ts, "MMS write%s from %s to %s"
                     % (" of " + var if var else "", ip(src), ip(dst)))
        elif n in MMS_CONTROLS:
            an.event(MMS_CONTROL, src.hex() + dst.hex() + "%02x" % n, ts, "MMS %s from %s to %s"
                     % (MMS_CONTROLS[n], ip(src), ip(dst)))
        return


def _first_name(p: bytes, s: int, e: int) -> str:
    """"domain/item" of the first variable a Write-Request names (variableAccessSpecification
    listOfVariable [0] -> SEQUENCE -> variableSpecification name [0] -> ObjectName), or ""."""
    node = (s, e)
    for want in ((0xA0, 0), (0x20, 16), (0xA0, 0)):
        for c, n, vs, ve in children(p, node[0], node[1]):
            if (c, n) == want:
                node = (vs, ve)
                break
        else:
            return ""
    for c, n, vs, ve in children(p, node[0], node[1]):
        if c == 0x80 and n in (0, 2):  # vmd-specific, aa-specific Identifier
            return text(p[vs:ve])
        if c == 0xA0 and n == 1:  # domain-specific: domainId, itemId
            parts = [text(p[a:b]) for _c, _n, a, b in children(p, vs, ve)]
            return "/".join(parts[:2])
    return ""


# Names only: TCP 102 belongs to the TPKT/COTP framer in s7comm.py, which calls `names` and `decode`.
MMS = Dissector(name="mms", title="ISO 9506 MMS (Manufacturing Message Specification)",
                names={"ses": "ISO 8327 session", "pres": "ISO 8823 presentation", "acse": "ISO 8650 ACSE"},
                events=(MMS_WRITE, MMS_CONTROL))
