"""Beckhoff ADS over AMS/TCP, TCP 48898 (Wireshark display filter `ams`).

Follows Wireshark's packet-ams.c and Beckhoff's ADS specification (TwinCAT
Information System, "ADS-Specification"): an AMS/TCP header (2 reserved bytes, then the
length of the AMS packet, little-endian 32 bits) precedes a 32-byte AMS header
(target AMS Net ID and port, source AMS Net ID and port, command id, state flags with
0x0001 = response, data length, error code, invoke id) and the ADS data. Wireshark 4.0
registers `ams` on TCP 48898 only (the UDP 48899 route and discovery service is shown as
data, and so it is here).

Every AMS packet names the AMS Net IDs of both stations. A Read Device Info response
(command 1: result, major version, minor version, build, 16-byte device name) names
the ADS device and its TwinCAT version. ADS Write (3) and Write Control (5: ADS state
change, e.g. RUN/STOP of a PLC runtime) requests become findings.

The TwinCAT system service on UDP 48899 (discovery and AddRoute; no Wireshark 4.0
dissector, so its datagrams stay `data`) is decoded as reverse-engineered by pyads
(stlehmann/pyads, pyads/pyads_ex.py): magic 03 66 14 71, invoke id, service (1 =
discovery, 6 = AddRoute, 0x80000000 set in responses), AMS Net ID, AMS port, tag count,
then tags (id, length, data; little-endian 16 bits each). A discovery response names the
host (tag 5), its OS version (tag 4, an OSVERSIONINFO) and TwinCAT version (tag 3); an
AddRoute request names the route (tag 0x0C, usually the client's host name) and the user
(tag 0x0D), and carries the password (tag 2) in clear.
"""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from cbom.model import Severity

from .._records import TcpStream
from .._wire import ip, text, u16le, u32le
from ._dissector import Dissector, EventKind

if TYPE_CHECKING:
    from .._engine import Analyzer

# ADS states (ADSSTATE in Beckhoff's TcAdsDef.h; Wireshark packet-ams.c names them the same).
ADS_STATES = {0: "INVALID", 1: "IDLE", 2: "RESET", 3: "INIT", 4: "START", 5: "RUN", 6: "STOP", 7: "SAVECFG",
              8: "LOADCFG", 9: "POWERFAILURE", 10: "POWERGOOD", 11: "ERROR", 12: "SHUTDOWN", 13: "SUSPEND",
              14: "RESUME", 15: "CONFIG", 16: "RECONFIG"}

ADS_CONTROL = EventKind("ads_write_control", "CBOM-NET-ICS-WRITE", Severity.HIGH, "Beckhoff ADS Write Control seen",
                        "A station changed the ADS state of a TwinCAT device (start, stop, reset or reconfigure "
                        "a PLC runtime or the system).")
ADS_ROUTE_PASSWORD = EventKind("ads_route_password", "CBOM-NET-CLEARTEXT-CREDENTIALS", Severity.HIGH,
                                "TwinCAT AddRoute with a user name and password in clear text",
                                "A TwinCAT AddRoute request (UDP 48899) carries the target's Windows user name and "
                                "password unencrypted; anyone on the segment can read them.")
ADS_WRITE = EventKind("ads_write", "CBOM-NET-ICS-WRITE", Severity.MEDIUM, "Beckhoff ADS Write seen",
                      "A station wrote variables or memory of a TwinCAT device; confirm it is an authorised "
                      "engineering station or HMI.")

PORT = 48898
SUMUP_WRITE = 0xF081  # ADSIGRP_SUMUP_WRITE: several writes in one Read Write request (TcAdsDef.h)
_NAMES = ("ams",)
_HDR = 6 + 32  # AMS/TCP header + AMS header


def net_id(b: bytes) -> str:
    """Dotted form of a 6-byte AMS Net ID (e.g. 5.20.134.10.1.1)."""
    return ".".join(str(x) for x in b)


def check(p: bytes) -> bool:
    # AMS/TCP reserved field: 0 for an AMS command, 0x1000/0x1001 for AMS router port messages
    return len(p) < 2 or p[:2] in (b"\0\0", b"\0\x10", b"\x01\x10")


def frame(p: bytes, i: int, dr: TcpStream) -> Optional[Tuple[int, Tuple[str, ...]]]:
    # packet-ams.c cuts the stream by the length field whatever the reserved field holds
    if len(p) < i + 6:
        return None
    return 6 + u32le(p, i + 2)[0], _NAMES


def decode(an: Analyzer, ts: float, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
    if len(pdu) < _HDR or pdu[0] or pdu[1]:  # only AMS commands (reserved 0) carry an AMS header
        return
    if dport == PORT:
        an.serve("ams", dst, PORT, "tcp")
    target, tport, source = pdu[6:12], u16le(pdu, 12)[0], pdu[14:20]
    cmd, flags = u16le(pdu, 22)[0], u16le(pdu, 24)[0]
    an.ident_ip(src, "ams-net-id", net_id(source))  # its own (the target may sit behind its AMS router)
    data = pdu[_HDR:]
    if flags & 0x0001:  # response
        if cmd == 1 and len(data) >= 24 and u32le(data, 0)[0] == 0:
            # Read Device Info: result, major, minor, build, device name (16 bytes)
            an.ident_ip(src, "ads-device-name", text(data[8:24]))
            an.ident_ip(src, "ads-version", "%d.%d.%d" % (data[4], data[5], u16le(data, 6)[0]))
        return
    who = "from %s (AMS %s) to %s (AMS %s port %d)" % (ip(src), net_id(source), ip(dst), net_id(target), tport)
    if cmd == 5 and len(data) >= 2:  # Write Control: ADS state, device state, length, data
        state = u16le(data, 0)[0]
        an.event(ADS_CONTROL, src.hex() + dst.hex() + "%04x" % state, ts, "ADS Write Control to state %s %s"
                 % (ADS_STATES.get(state, str(state)), who))
    elif (cmd == 3 and len(data) >= 8) or (cmd == 9 and len(data) >= 16 and u32le(data, 0)[0] == SUMUP_WRITE):
        # Write: index group, index offset, length, data; or a Read Write of the sum-up write group
        group = u32le(data, 0)[0]
        an.event(ADS_WRITE, src.hex() + dst.hex() + "%d" % tport, ts, "ADS %s (index group 0x%x) %s"
                 % ("Write" if cmd == 3 else "Read Write (sum-up write)", group, who))


SYSTEM_SERVICE_PORT = 48899
_MAGIC = b"\x03\x66\x14\x71"
_WIN_PLATFORMS = {2: "Windows NT", 3: "Windows CE"}  # OSVERSIONINFO.dwPlatformId


def route_tags(pl: bytes) -> Dict[int, bytes]:
    """Tag id -> data of a TwinCAT system-service datagram (first occurrence of each tag)."""
    count = u32le(pl, 20)[0]
    out: Dict[int, bytes] = {}
    p = 24
    for _ in range(min(count, 32)):
        tag, ln = u16le(pl, p)[0], u16le(pl, p + 2)[0]
        out.setdefault(tag, pl[p + 4:p + 4 + ln])
        p += 4 + ln
    return out


def decode_system_service(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
                          st: List[str], inner: bool) -> None:
    st.append("data")  # what Wireshark 4.0 shows
    if inner or len(pl) < 24 or pl[:4] != _MAGIC:
        return
    service = u32le(pl, 8)[0]
    tags = route_tags(pl)
    an.ident_ip(src, "ams-net-id", net_id(pl[12:18]))
    if service == 0x80000001:  # discovery response
        an.ident_ip(src, "ads-hostname", text(tags.get(5, b"")))
        ver = tags.get(3, b"")
        if len(ver) >= 4:
            an.ident_ip(src, "twincat-version", "%d.%d.%d" % (ver[0], ver[1], u16le(ver, 2)[0]))
        osv = tags.get(4, b"")
        if len(osv) >= 20:
            major, minor, build, platform = struct.unpack_from("<IIII", osv, 4)
            an.ident_ip(src, "ads-os-version", "%s %d.%d (build %d)"
                        % (_WIN_PLATFORMS.get(platform, "platform %d" % platform), major, minor, build))
    elif service == 6:  # AddRoute request: route name (tag 0x0C), user (0x0D), password (2)
        an.ident_ip(src, "ads-route-name", text(tags.get(0x0C, b"")))
        if 2 not in tags:
            return
        user = text(tags.get(0x0D, b""))
        an.event(ADS_ROUTE_PASSWORD, src.hex() + dst.hex(), ts, "TwinCAT AddRoute from %s to %s with user %r "
                 "and its password in clear" % (ip(src), ip(dst), user))


AMS = Dissector(name="ams", title="Beckhoff ADS/AMS", tcp_ports=(PORT,), udp_ports=(SYSTEM_SERVICE_PORT,),
                check=check, frame=frame, pdu=decode, keep_pdu_start=True, datagram=decode_system_service,
                events=(ADS_CONTROL, ADS_WRITE, ADS_ROUTE_PASSWORD))
