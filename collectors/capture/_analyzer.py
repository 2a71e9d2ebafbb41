"""Passive traffic analysis: fast header parsing, protocol recognition by content, tables.

`Analyzer.feed(ts, frame, wirelen, linktype)` takes one raw frame (from a
file or a live socket, same code path) and updates bounded tables:

- protocol stacks: every frame contributes the set of Wireshark
  display-filter names it carries (`eth`, `ip`, `tcp`, `mbtcp`, `modbus`…);
  frames with the same stack share one counter, so the per-frame cost is one
  dict update;
- hosts by source MAC (addresses, names, identity, roles, packets/bytes);
- TCP/UDP conversations by endpoint pair, L2 pairs for non-IP frames;
- events for findings (credentials in clear, ICS write/control operations…).

Recognition is by content: a port only says where to look, the header must
check out (Modbus protocol id 0, TPKT version 3, DNP3 start bytes 0x0564…).
TCP payloads are cut into PDUs the way Wireshark's desegmentation does, so a
frame counts for an application protocol when a PDU of it ends in that frame
(Wireshark 4.0 behaviour; the per-capture truth files under
tests/fixtures/capture were made with tshark 4.0.17).

Every frame is counted. A frame whose headers are malformed or truncated
raises inside `_dissect`, is counted in `undecodable` and never stops the
analysis.
"""
from __future__ import annotations

import re
import struct
from typing import Callable, Dict, List, Optional, Set, Tuple

_u16 = struct.Struct(">H").unpack_from
_u32 = struct.Struct(">I").unpack_from
_u16le = struct.Struct("<H").unpack_from
_u32le = struct.Struct("<I").unpack_from

# Limits: memory grows with hosts and flows, never with packets. A hit cap is reported.
MAX_HOSTS = 20000
MAX_FLOWS = 200000
MAX_L2FLOWS = 50000
MAX_IPS_PER_HOST = 64
MAX_NAMES_PER_HOST = 16
MAX_EVENTS_PER_KIND = 64  # distinct (finding kind, hosts) pairs kept with evidence

# TCP server ports where we look for each length-framed protocol (content decides).
TCP_PORTS: Dict[int, str] = {
    502: "mbtcp", 102: "tpkt", 44818: "enip", 20000: "dnp3", 2404: "iec104", 4840: "opcua",
    4712: "synphasor", 4713: "synphasor", 445: "nbss", 139: "nbss", 443: "tls", 8443: "tls",
    636: "tls", 993: "tls", 995: "tls", 465: "tls", 22: "ssh", 80: "http", 8080: "http",
    8000: "http", 3128: "http", 21: "ftp", 23: "telnet",
}
UDP_PORTS: Dict[int, str] = {
    53: "dns", 5353: "mdns", 5355: "llmnr", 137: "nbns", 138: "nbdgm", 67: "dhcp", 68: "dhcp",
    546: "dhcpv6", 547: "dhcpv6", 1900: "ssdp", 123: "ntp", 161: "snmp", 162: "snmp",
    47808: "bvlc", 20000: "dnp3", 44818: "enip", 2222: "enip", 4713: "synphasor",
}
HTTP_METHODS = (b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE ", b"OPTIONS ", b"CONNECT ", b"TRACE ",
                b"PATCH ", b"NOTIFY ", b"M-SEARCH ", b"SUBSCRIBE ", b"UNSUBSCRIBE ")
OPCUA_TYPES = (b"HEL", b"ACK", b"ERR", b"RHE", b"OPN", b"MSG", b"CLO")

# ICS write/control operations (finding evidence). Modbus: function codes.
MODBUS_WRITES = {5: "Write Single Coil", 6: "Write Single Register", 15: "Write Multiple Coils",
                 16: "Write Multiple Registers", 22: "Mask Write Register", 23: "Read/Write Multiple Registers"}
# S7comm Job functions (Wireshark packet-s7comm.c s7comm_param_func_names).
S7_WRITES = {0x05: "Write Var", 0x1A: "Request download", 0x1B: "Download block", 0x1C: "Download ended",
             0x28: "PI-Service (start/compress/…)", 0x29: "PLC Stop"}
# DNP3 application function codes (IEEE 1815 table 4-1).
DNP3_WRITES = {2: "Write", 3: "Select", 4: "Operate", 5: "Direct Operate", 6: "Direct Operate No Ack",
               13: "Cold Restart", 14: "Warm Restart", 18: "Stop Application"}
# CIP services that change a device (ODVA CIP Vol 1 table ).
CIP_WRITES = {0x02: "Set_Attributes_All", 0x04: "Set_Attribute_List", 0x10: "Set_Attribute_Single",
              0x05: "Reset", 0x06: "Start", 0x07: "Stop"}
IEC104_CONTROL = set(range(45, 70))  # C_SC_NA_1 … C_BO_TA_1: commands in control direction

EOL_OS = re.compile(
    r"Windows (?:NT 4|NT 5\.[012]|XP|2000|Server 2003|5\.[012]\b|95|98|ME\b|Vista|NT 6\.0)|Windows 2003|"
    r"Win(?:XP|2K|NT)\b", re.I)


class Stop(Exception):
    """Truncated header: the frame is undecodable beyond this point."""


class HostRec:
    """What one source MAC did on the wire."""

    __slots__ = ("pkts", "bytes", "first", "last", "ips", "arp_ips", "names", "ident", "serves")

    def __init__(self, ts: float) -> None:
        self.pkts = 0
        self.bytes = 0
        self.first = ts
        self.last = ts
        self.ips: Dict[bytes, None] = {}
        self.arp_ips: Dict[bytes, None] = {}
        self.names: Dict[str, str] = {}  # hostname -> how learned
        self.ident: Dict[str, str] = {}  # "lldp-system-description" -> value
        self.serves: Dict[Tuple[str, int], None] = {}  # ("tcp", 502)


class _Dir:
    """TCP state of one direction of one connection: PDU framing across segments."""

    __slots__ = ("proto", "next_seq", "need", "pending", "buf", "mode")

    def __init__(self, proto: str) -> None:
        self.proto = proto
        self.next_seq = -1
        self.need = 0  # bytes still missing from the PDU in progress
        self.pending: Tuple[str, ...] = ()  # names of the PDU in progress
        self.buf = b""  # a header split across segments
        self.mode = 0  # protocol-specific (ssh: 1 = encrypted; http: 1 = websocket, 2 = until close)


class Analyzer:
    """Aggregates frames into protocol, host, conversation and event tables."""

    def __init__(self, max_hosts: int = MAX_HOSTS, max_flows: int = MAX_FLOWS) -> None:
        self.max_hosts = max_hosts
        self.max_flows = max_flows
        self.frames = 0
        self.bytes = 0
        self.undecodable = 0
        self.unsupported_linktype: Dict[int, int] = {}
        self.first_ts: Optional[float] = None
        self.last_ts: Optional[float] = None
        self.stacks: Dict[Tuple[str, ...], List[int]] = {}
        self.hosts: Dict[bytes, HostRec] = {}
        self.flows: Dict[tuple, list] = {}  # (proto, ep_lo, ep_hi) -> [ep_first_src, pa, pb, ba, bb, first, last]
        self.l2flows: Dict[tuple, list] = {}  # (ethertype, mac_lo, mac_hi) -> [pkts, bytes, first, last]
        self.tcp: Dict[bytes, _Dir] = {}
        self.caps_hit: Dict[str, int] = {}  # table -> frames not tracked because it was full
        self.arp: Dict[bytes, Dict[bytes, float]] = {}  # ip -> {mac: first seen}
        self.ip_names: Dict[bytes, Dict[str, str]] = {}  # ip -> {name: how}
        self.ip_ident: Dict[bytes, Dict[str, str]] = {}  # ip -> {key: value}
        self.ip_serves: Dict[bytes, Dict[Tuple[str, int], None]] = {}
        self.endpoints: Dict[str, Dict[Tuple[bytes, int, str], None]] = {}  # proto -> {(ip, port, l4)}
        self.events: Dict[Tuple[str, str], list] = {}  # (kind, key) -> [count, first ts, detail]
        self.counters: Dict[str, int] = {}  # e.g. "modbus.func_code=16"

    # ------------------------------------------------------------------ public

    def feed(self, ts: float, buf: bytes, wirelen: int = 0, linktype: int = 1) -> None:
        """Account for one frame; never raises for frame content."""
        self.frames += 1
        wl = wirelen or len(buf)
        self.bytes += wl
        if self.first_ts is None:
            self.first_ts = ts
        self.last_ts = ts
        st: List[str] = []
        try:
            self._dissect(ts, buf, wl, linktype, st)
        except Exception:  # Stop, IndexError, struct.error, UnicodeError…: a hostile or cut frame
            self.undecodable += 1
        key = tuple(st)
        rec = self.stacks.get(key)
        if rec is None:
            self.stacks[key] = [1, wl]
        else:
            rec[0] += 1
            rec[1] += wl

    def protocols(self) -> Dict[str, Tuple[int, int]]:
        """Protocol name -> (frames, bytes): a frame counts once per name it carries."""
        out: Dict[str, List[int]] = {}
        for stack, (n, b) in self.stacks.items():
            for name in set(stack):
                r = out.setdefault(name, [0, 0])
                r[0] += n
                r[1] += b
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}

    # ------------------------------------------------------------------ helpers

    def _cap(self, table: str) -> None:
        self.caps_hit[table] = self.caps_hit.get(table, 0) + 1

    def _event(self, kind: str, key: str, ts: float, detail: str) -> None:
        ev = self.events.get((kind, key))
        if ev is None:
            if sum(1 for k in self.events if k[0] == kind) >= MAX_EVENTS_PER_KIND:
                self._cap("events")
                return
            self.events[(kind, key)] = [1, ts, detail]
        else:
            ev[0] += 1

    def _count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1

    def _name_ip(self, ip: bytes, name: str, how: str) -> None:
        name = name.strip().rstrip(".")
        if not name or not ip or ip in (b"\0\0\0\0", b"\xff\xff\xff\xff"):
            return
        d = self.ip_names.setdefault(ip, {})
        if name not in d and len(d) < MAX_NAMES_PER_HOST:
            d[name] = how

    def _ident_ip(self, ip: bytes, key: str, value: str) -> None:
        value = value.strip()
        if value:
            d = self.ip_ident.setdefault(ip, {})
            if key not in d:
                d[key] = value[:200]

    def _serve(self, proto: str, ip: bytes, port: int, l4: str) -> None:
        d = self.endpoints.setdefault(proto, {})
        if len(d) < 256:
            d[(ip, port, l4)] = None
        s = self.ip_serves.setdefault(ip, {})
        if len(s) < 64:
            s[(l4, port)] = None

    # ------------------------------------------------------------------ layer 2

    def _dissect(self, ts: float, b: bytes, wl: int, lt: int, st: List[str]) -> None:
        if lt == 1:  # Ethernet
            if len(b) < 14:
                st.append("eth")
                raise Stop
            st.append("eth")
            src = b[6:12]
            h = self.hosts.get(src)
            if h is None:
                if len(self.hosts) >= self.max_hosts:
                    self._cap("hosts")
                else:
                    h = self.hosts[src] = HostRec(ts)
            if h is not None:
                h.pkts += 1
                h.bytes += wl
                h.last = ts
            et = (b[12] << 8) | b[13]
            off = 14
            if et <= 1500:
                self._llc(ts, b, off, 14 + et, st, src, h, wl)
                return
            st.append("ethertype")
            while et == 0x8100 or et == 0x88A8:
                if len(b) < off + 4:
                    raise Stop
                st.append("vlan")
                et = (b[off + 2] << 8) | b[off + 3]
                off += 4
                st.append("ethertype")
        elif lt == 113:  # Linux cooked v1: pkttype, hatype, halen, addr[8], protocol
            if len(b) < 16:
                raise Stop
            st.append("sll")
            halen = _u16(b, 4)[0]
            src = b[6:12] if halen == 6 else b""
            h = self._l2host(src, ts, wl)
            et = _u16(b, 14)[0]
            off = 16
        elif lt == 276:  # Linux cooked v2: protocol, reserved, ifindex, hatype, pkttype, halen, addr[8]
            if len(b) < 20:
                raise Stop
            st.append("sll")
            src = b[12:18] if b[11] == 6 else b""
            h = self._l2host(src, ts, wl)
            et = _u16(b, 0)[0]
            off = 20
        elif lt in (101, 12, 14, 228, 229):  # raw IP
            st.append("raw")
            src, h, off = b"", None, 0
            if not b:
                raise Stop
            et = 0x0800 if b[0] >> 4 == 4 else 0x86DD if b[0] >> 4 == 6 else 0
        elif lt == 0 or lt == 108:  # BSD loopback: address family in host / network order
            if len(b) < 4:
                raise Stop
            st.append("null")
            af = _u32le(b, 0)[0] if lt == 0 else _u32(b, 0)[0]
            if af > 0xFFFF:
                af = _u32(b, 0)[0]
            src, h, off = b"", None, 4
            et = 0x0800 if af == 2 else 0x86DD if af in (10, 24, 28, 30) else 0
        else:
            self.unsupported_linktype[lt] = self.unsupported_linktype.get(lt, 0) + 1
            raise Stop

        if et == 0x0800:
            self._ip4(ts, b, off, wl, st, h, False)
        elif et == 0x86DD:
            self._ip6(ts, b, off, wl, st, h)
        else:
            if src and lt == 1:
                self._l2flow(ts, et, src, b[0:6], wl)
            if et == 0x0806:
                st.append("arp")
                self._arp(ts, b, off, h)
            elif et == 0x88CC:
                st.append("lldp")
                self._lldp(b, off, h)
            elif et == 0x8892:
                st.append("pn_rt")
                self._pn(ts, b, off, st, h)
            elif et == 0x88B8:
                st.append("goose")
            elif et == 0x88BA:
                st.append("sv")
            elif et == 0x88A4:
                st.append("ecat")

    def _l2host(self, src: bytes, ts: float, wl: int) -> Optional[HostRec]:
        if not src:
            return None
        h = self.hosts.get(src)
        if h is None:
            if len(self.hosts) >= self.max_hosts:
                self._cap("hosts")
                return None
            h = self.hosts[src] = HostRec(ts)
        h.pkts += 1
        h.bytes += wl
        h.last = ts
        return h

    def _l2flow(self, ts: float, et: int, src: bytes, dst: bytes, wl: int) -> None:
        key = (et, src, dst) if src < dst else (et, dst, src)
        f = self.l2flows.get(key)
        if f is None:
            if len(self.l2flows) >= MAX_L2FLOWS:
                self._cap("l2flows")
                return
            self.l2flows[key] = [1, wl, ts, ts, src]
        else:
            f[0] += 1
            f[1] += wl
            f[3] = ts

    def _llc(self, ts: float, b: bytes, off: int, end: int, st: List[str], src: bytes, h: Optional[HostRec],
             wl: int) -> None:
        if len(b) < off + 3:
            raise Stop
        st.append("llc")
        self._l2flow(ts, 0, src, b[0:6], wl)
        dsap, ssap = b[off], b[off + 1]
        if dsap == 0x42 and ssap == 0x42:
            st.append("stp")
        elif dsap == 0xAA and ssap == 0xAA and len(b) >= off + 8:
            oui = b[off + 3:off + 6]
            pid = _u16(b, off + 6)[0]
            if oui == b"\x00\x00\x0c":
                if pid == 0x2000:
                    st.append("cdp")
                    self._cdp(b, off + 8, end, h)
                elif pid == 0x2004:
                    st.append("dtp")
                elif pid == 0x010B:
                    st.append("stp")
        elif dsap == 0xF0 and ssap == 0xF0:
            st.append("netbios")
            if b"\xffSMB" in b[off:end]:
                st.append("smb")

    # ------------------------------------------------------------------ ARP / LLDP / CDP / Profinet

    def _arp(self, ts: float, b: bytes, off: int, h: Optional[HostRec]) -> None:
        if len(b) < off + 28:
            raise Stop
        if b[off + 4] != 6 or b[off + 5] != 4:
            return
        smac = b[off + 8:off + 14]
        sip = b[off + 14:off + 18]
        if sip == b"\0\0\0\0":  # ARP probe (RFC 5227): claims nothing yet
            return
        if h is not None and len(h.arp_ips) < MAX_IPS_PER_HOST:
            h.arp_ips[sip] = None
        macs = self.arp.setdefault(sip, {})
        if smac not in macs and len(macs) < 16:
            macs[smac] = ts

    def _lldp(self, b: bytes, off: int, h: Optional[HostRec]) -> None:
        n = len(b)
        while off + 2 <= n:
            t = _u16(b, off)[0]
            typ, ln = t >> 9, t & 0x1FF
            v = b[off + 2:off + 2 + ln]
            off += 2 + ln
            if typ == 0:
                break
            if h is None:
                continue
            if typ == 5:
                name = _text(v)
                if name and len(h.names) < MAX_NAMES_PER_HOST:
                    h.names.setdefault(name, "lldp")
            elif typ == 6:
                h.ident.setdefault("lldp-system-description", _text(v))
            elif typ == 1 and v[:1] == b"\x07":
                h.ident.setdefault("lldp-chassis-id", _text(v[1:]))
            elif typ == 8 and len(v) >= 6 and v[1] == 1 and v[0] == 5:
                h.ident.setdefault("lldp-management-address", ".".join(str(x) for x in v[2:6]))

    def _cdp(self, b: bytes, off: int, end: int, h: Optional[HostRec]) -> None:
        off += 4  # version, ttl, checksum
        end = min(end, len(b))
        while off + 4 <= end:
            typ, ln = struct.unpack_from(">HH", b, off)
            if ln < 4:
                break
            v = b[off + 4:off + ln]
            off += ln
            if h is None:
                continue
            if typ == 1:
                name = _text(v)
                if name and len(h.names) < MAX_NAMES_PER_HOST:
                    h.names.setdefault(name, "cdp")
            elif typ == 6:
                h.ident.setdefault("cdp-platform", _text(v))
            elif typ == 5:
                h.ident.setdefault("cdp-software", _text(v).splitlines()[0] if _text(v) else "")
            elif typ == 2 and len(v) >= 4:
                # count, then (ptype, plen, proto, alen, addr); NLPID 0xcc = IPv4
                p = 4
                for _ in range(min(_u32(v, 0)[0], 8)):
                    if p + 2 > len(v):
                        break
                    plen = v[p + 1]
                    proto = v[p + 2:p + 2 + plen]
                    alen = _u16(v, p + 2 + plen)[0]
                    addr = v[p + 4 + plen:p + 4 + plen + alen]
                    if proto == b"\xcc" and alen == 4 and len(h.arp_ips) < MAX_IPS_PER_HOST:
                        h.ident.setdefault("cdp-address", ".".join(str(x) for x in addr))
                    p += 4 + plen + alen

    def _pn(self, ts: float, b: bytes, off: int, st: List[str], h: Optional[HostRec]) -> None:
        if len(b) < off + 2:
            raise Stop
        fid = _u16(b, off)[0]
        if 0xFEFC <= fid <= 0xFEFF:
            st.append("pn_dcp")
            self._dcp(ts, b, off + 2, h)

    def _dcp(self, ts: float, b: bytes, off: int, h: Optional[HostRec]) -> None:
        if len(b) < off + 10:
            raise Stop
        sid, stype = b[off], b[off + 1]
        self._count("pn_dcp.service_id=%d" % sid)
        dlen = _u16(b, off + 8)[0]
        p, end = off + 10, min(len(b), off + 10 + dlen)
        response = stype != 0
        if sid == 4 and not response:  # Set request: an engineering tool changes a device
            self._event("pn_dcp_set", b[0:6].hex(), ts, "PROFINET DCP Set request to %s" % _mac(b[0:6]))
        while p + 4 <= end:
            opt, sub, blen = b[p], b[p + 1], _u16(b, p + 2)[0]
            v = b[p + 4:p + 4 + blen]
            p += 4 + blen + (blen & 1)
            if not (response or sid == 6) or h is None:
                continue
            v = v[2:]  # BlockInfo precedes the value in responses
            if opt == 2 and sub == 2:
                name = _text(v)
                if name and len(h.names) < MAX_NAMES_PER_HOST:
                    h.names.setdefault(name, "pn_dcp")
            elif opt == 2 and sub == 1:
                h.ident.setdefault("profinet-type-of-station", _text(v))
            elif opt == 2 and sub == 3 and len(v) >= 4:
                h.ident.setdefault("profinet-vendor-id", "0x%04x" % _u16(v, 0)[0])
                h.ident.setdefault("profinet-device-id", "0x%04x" % _u16(v, 2)[0])
            elif opt == 1 and sub == 2 and len(v) >= 4 and len(h.arp_ips) < MAX_IPS_PER_HOST:
                if v[0:4] != b"\0\0\0\0":
                    h.ident.setdefault("profinet-ip", ".".join(str(x) for x in v[0:4]))

    # ------------------------------------------------------------------ IP

    def _ip4(self, ts: float, b: bytes, off: int, wl: int, st: List[str], h: Optional[HostRec], inner: bool) -> None:
        if len(b) < off + 20:
            raise Stop
        st.append("ip")
        vihl = b[off]
        ihl = (vihl & 15) * 4
        if vihl >> 4 != 4 or ihl < 20:
            raise Stop
        tot = _u16(b, off + 2)[0]
        end = off + tot if tot >= ihl else len(b)
        if end > len(b):
            end = len(b)  # snapped frame: parse what is there
        proto = b[off + 9]
        src = b[off + 12:off + 16]
        dst = b[off + 16:off + 20]
        if h is not None and not inner and src not in h.ips and len(h.ips) < MAX_IPS_PER_HOST:
            h.ips[src] = None
        frag = _u16(b, off + 6)[0]
        if frag & 0x1FFF:  # not the first fragment: no transport header here
            st.append("data")
            return
        self._l4(ts, b, off + ihl, end, proto, src, dst, wl, st, h, inner)

    def _ip6(self, ts: float, b: bytes, off: int, wl: int, st: List[str], h: Optional[HostRec]) -> None:
        if len(b) < off + 40:
            raise Stop
        st.append("ipv6")
        plen = _u16(b, off + 4)[0]
        nh = b[off + 6]
        src = b[off + 8:off + 24]
        dst = b[off + 24:off + 40]
        if h is not None and src not in h.ips and len(h.ips) < MAX_IPS_PER_HOST:
            h.ips[src] = None
        p = off + 40
        end = min(len(b), p + plen) if plen else len(b)
        while nh in (0, 43, 44, 60):
            if p + 8 > end:
                raise Stop
            if nh == 0:
                st.append("ipv6.hopopts")
            elif nh == 44:
                st.append("ipv6.fragment")
                if _u16(b, p + 2)[0] & 0xFFF8:
                    st.append("data")
                    return
                nh = b[p]
                p += 8
                continue
            nh, p = b[p], p + 8 + b[p + 1] * 8
        self._l4(ts, b, p, end, nh, src, dst, wl, st, h, False)

    def _l4(self, ts: float, b: bytes, p: int, end: int, proto: int, src: bytes, dst: bytes, wl: int,
            st: List[str], h: Optional[HostRec], inner: bool) -> None:
        if proto == 6:
            if end < p + 20:
                st.append("tcp")
                raise Stop
            st.append("tcp")
            sport = (b[p] << 8) | b[p + 1]
            dport = (b[p + 2] << 8) | b[p + 3]
            doff = (b[p + 12] >> 4) * 4
            if doff < 20:
                raise Stop
            s = src + b[p:p + 2]
            d = dst + b[p + 2:p + 4]
            if inner:
                return
            fl = self._flow(ts, 6, s, d, wl)
            pl = b[p + doff:end] if p + doff < end else b""
            flags = b[p + 13]
            if flags & 0x12 == 0x12 and len(self.tcp) < self.max_flows:  # SYN+ACK: the sender serves this port
                self._serve("tcp", src, sport, "tcp")
            if pl or flags & 0x05:
                self._tcp(ts, s, d, sport, dport, _u32(b, p + 4)[0], flags, pl, st, src, dst, fl)
        elif proto == 17:
            if end < p + 8:
                st.append("udp")
                raise Stop
            st.append("udp")
            sport = (b[p] << 8) | b[p + 1]
            dport = (b[p + 2] << 8) | b[p + 3]
            ulen = (b[p + 4] << 8) | b[p + 5]
            fl = None if inner else self._flow(ts, 17, src + b[p:p + 2], dst + b[p + 2:p + 4], wl)
            e = p + ulen if 8 <= ulen and p + ulen <= end else end
            n0 = len(st)
            self._udp(ts, b[p + 8:e], sport, dport, src, dst, st, h, inner)
            if fl is not None and not fl[7] and len(st) > n0 and st[n0] != "data":
                fl[7] = st[n0]
        elif proto == 1:
            st.append("icmp")
            if end >= p + 8 and b[p] in (3, 4, 5, 11, 12) and not inner:
                self._ip4(ts, b, p + 8, 0, st, None, True)
            elif end > p + 8 and b[p] in (0, 8):
                st.append("data")
        elif proto == 58:
            st.append("icmpv6")
        elif proto == 2:
            st.append("igmp")
        elif proto == 47:
            st.append("gre")
        elif proto == 50:
            st.append("esp")
        elif proto == 132:
            st.append("sctp")

    def _flow(self, ts: float, proto: int, s: bytes, d: bytes, wl: int) -> Optional[list]:
        if s < d:
            key = (proto, s, d)
        else:
            key = (proto, d, s)
        f = self.flows.get(key)
        if f is None:
            if len(self.flows) >= self.max_flows:
                self._cap("flows")
                return None
            f = self.flows[key] = [s, 1, 0, wl, 0, ts, ts, ""]
        elif f[0] == s:
            f[1] += 1
            f[3] += wl
            f[6] = ts
        else:
            f[2] += 1
            f[4] += wl
            f[6] = ts
        return f

    # ------------------------------------------------------------------ UDP

    def _udp(self, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes, st: List[str],
             h: Optional[HostRec], inner: bool) -> None:
        if not pl:
            return
        lo, hi = (sport, dport) if sport <= dport else (dport, sport)
        proto = UDP_PORTS.get(lo) or UDP_PORTS.get(hi)
        if proto is None:
            if len(pl) >= 4 and pl[0] == 0x05 and pl[1] == 0x64:
                proto = "dnp3"
            else:
                st.append("data")
                return
        fn = _UDP_DISSECT.get(proto)
        if fn is None:
            st.append(proto)
            return
        fn(self, ts, pl, sport, dport, src, dst, st, h, inner)

    def _u_dns(self, ts, pl, sport, dport, src, dst, st, h, inner, name="dns"):
        if len(pl) < 12:
            st.append("data" if name == "dns" else name)
            return
        st.append(name)
        if inner:
            return
        qr = pl[2] & 0x80
        if qr and (pl[6] or pl[7] or name != "dns"):
            via = name
            try:
                for rname, rtype, rdata in _dns_answers(pl):
                    if rtype == 1 and len(rdata) == 4:
                        self._name_ip(rdata, rname, via)
                    elif rtype == 28 and len(rdata) == 16:
                        self._name_ip(rdata, rname, via)
                    elif rtype == 12 and isinstance(rdata, str):
                        ip = _ptr_ip(rname)
                        if ip:
                            self._name_ip(ip, rdata, via)
            except (IndexError, struct.error, ValueError):
                pass

    def _u_mdns(self, ts, pl, sport, dport, src, dst, st, h, inner):
        if sport == 5353 or dport == 5353:
            self._u_dns(ts, pl, sport, dport, src, dst, st, h, inner, "mdns")

    def _u_llmnr(self, ts, pl, sport, dport, src, dst, st, h, inner):
        self._u_dns(ts, pl, sport, dport, src, dst, st, h, inner, "llmnr")

    def _u_nbns(self, ts, pl, sport, dport, src, dst, st, h, inner):
        st.append("nbns")
        if inner or len(pl) < 12:
            return
        opcode = (pl[2] >> 3) & 0xF
        qd, an, ns, ar = struct.unpack_from(">HHHH", pl, 4)
        try:
            p = 12
            name = ""
            if qd:
                name, p = _nb_name(pl, p)
                p += 4
            resp = pl[2] & 0x80
            if (not resp and opcode in (5, 8, 15) and ar) or (resp and an):
                # registration/refresh request (name + address in the additional record) or positive answer
                rname, p = _nb_name(pl, p) if pl[p] != 0xC0 else (name, p + 2)
                rdlen = _u16(pl, p + 8)[0]
                if rdlen >= 6:
                    ip = pl[p + 12:p + 16]
                    self._name_ip(ip, rname or name, "nbns")
        except (IndexError, struct.error, ValueError):
            pass

    def _u_nbdgm(self, ts, pl, sport, dport, src, dst, st, h, inner):
        st.append("nbdgm")
        if len(pl) > 14 and pl[0] in (0x10, 0x11, 0x12):
            i = pl.find(b"\xffSMB", 14)
            if i >= 0:
                st.append("smb")
                if b"\\MAILSLOT\\BROWSE" in pl or b"\\MAILSLOT\\LANMAN" in pl:
                    st.append("browser")
                    # Host Announcement (opcode 1/15): server name is 16 bytes after 6 header bytes
                    j = pl.find(b"\\MAILSLOT\\BROWSE\x00")
                    if j >= 0 and j + 17 < len(pl) and pl[j + 17] in (1, 15) and not inner:
                        self._name_ip(src, _text(pl[j + 23:j + 39]), "browser")
                        m = pl[j + 39:j + 41]
                        if len(m) == 2 and m[0] < 6 and not inner:
                            self._ident_ip(src, "netbios-os-version", "%d.%d" % (m[0], m[1]))

    def _u_dhcp(self, ts, pl, sport, dport, src, dst, st, h, inner):
        if len(pl) < 240 or pl[236:240] != b"\x63\x82\x53\x63":
            st.append("data")
            return
        st.append("dhcp")
        if inner:
            return
        chaddr = pl[28:34]
        p, n = 240, len(pl)
        opts: Dict[int, bytes] = {}
        while p < n:
            code = pl[p]
            if code == 255:
                break
            if code == 0:
                p += 1
                continue
            ln = pl[p + 1]
            opts.setdefault(code, pl[p + 2:p + 2 + ln])
            p += 2 + ln
        hr = self.hosts.get(chaddr)
        if hr is not None:
            if 12 in opts:
                name = _text(opts[12])
                if name and len(hr.names) < MAX_NAMES_PER_HOST:
                    hr.names.setdefault(name, "dhcp")
            if 81 in opts and len(opts[81]) > 3:
                name = _text(opts[81][3:])
                if name and len(hr.names) < MAX_NAMES_PER_HOST:
                    hr.names.setdefault(name, "dhcp-fqdn")
            if 60 in opts:
                vc = _text(opts[60])
                hr.ident.setdefault("dhcp-vendor-class", vc)

    def _u_ssdp(self, ts, pl, sport, dport, src, dst, st, h, inner):
        if pl.startswith((b"NOTIFY ", b"M-SEARCH ", b"HTTP/1.")):
            st.append("ssdp")
            if not inner:
                m = re.search(rb"\r\nSERVER: *([^\r\n]+)", pl, re.I)
                if m:
                    self._ident_ip(src, "ssdp-server", _text(m.group(1)))
                    self._eol(ts, src, _text(m.group(1)), "SSDP Server header")
        else:
            st.append("data")

    def _u_ntp(self, ts, pl, sport, dport, src, dst, st, h, inner):
        if len(pl) >= 48 or (len(pl) >= 12 and (pl[0] >> 3) & 7 in (1, 2, 3, 4)):
            st.append("ntp")
        else:
            st.append("data")

    def _u_snmp(self, ts, pl, sport, dport, src, dst, st, h, inner):
        if len(pl) < 2 or pl[0] != 0x30:
            st.append("data")
            return
        st.append("snmp")
        if inner:
            return
        try:
            p = 1 + _ber_len_size(pl, 1)
            if pl[p] == 0x02 and pl[p + 1] == 1:
                version = pl[p + 2]
                p += 3
                if version in (0, 1) and pl[p] == 0x04:
                    clen = pl[p + 1]
                    if clen < 0x80:
                        community = pl[p + 2:p + 2 + clen]
                        if dport in (161, 162):  # the sender of a request/trap holds the community
                            self._event("snmp_community", src.hex() + dst.hex(), ts,
                                        "SNMPv%s community string (%d characters) sent in clear from %s to %s"
                                        % ("1" if version == 0 else "2c", len(community), _ip(src), _ip(dst)))
                if sport in (161,):
                    self._serve("snmp", src, 161, "udp")
        except IndexError:
            pass

    def _u_bvlc(self, ts, pl, sport, dport, src, dst, st, h, inner):
        if len(pl) < 4 or pl[0] != 0x81:
            st.append("data")
            return
        st.append("bvlc")
        fn = pl[1]
        p = 4
        if fn == 0x04:  # Forwarded-NPDU carries the original source B/IP address
            p = 10
        elif fn not in (0x0A, 0x0B):  # only Original-Unicast/Broadcast-NPDU carry an NPDU
            return
        if len(pl) > p + 1 and pl[p] == 0x01:
            st.append("bacnet")
            ctrl = pl[p + 1]
            if not ctrl & 0x80:
                st.append("bacapp")
            if not inner:
                self._serve("bacnet", src if sport == 47808 else dst, 47808, "udp")

    def _u_dnp3(self, ts, pl, sport, dport, src, dst, st, h, inner):
        if len(pl) >= 10 and pl[0] == 0x05 and pl[1] == 0x64:
            st.append("dnp3")
            if not inner:
                self._dnp3_app(ts, pl, 0, src, dst)
        else:
            st.append("data")

    def _u_enip(self, ts, pl, sport, dport, src, dst, st, h, inner):
        if sport == 2222 or dport == 2222:
            st.append("enip")
            st.append("cip")
            return
        if len(pl) >= 24 and _u16le(pl, 2)[0] + 24 <= len(pl):
            st.append("enip")
            if not inner:
                self._enip(ts, pl, 0, src, dst, st, sport == 44818)
        else:
            st.append("data")

    def _u_synphasor(self, ts, pl, sport, dport, src, dst, st, h, inner):
        if len(pl) >= 4 and pl[0] == 0xAA:
            st.append("synphasor")
        else:
            st.append("data")

    def _u_simple(self, ts, pl, sport, dport, src, dst, st, h, inner, name=""):
        st.append(name)

    # ------------------------------------------------------------------ TCP

    def _tcp(self, ts: float, s: bytes, d: bytes, sport: int, dport: int, seq: int, flags: int, pl: bytes,
             st: List[str], src: bytes, dst: bytes, fl: Optional[list]) -> None:
        key = s + d
        dr = self.tcp.get(key)
        if dr is None:
            if not pl:
                return
            if len(self.tcp) >= self.max_flows * 2:
                self._cap("tcp-streams")
                return
            dr = self.tcp[key] = _Dir(_guess_tcp(pl, sport, dport, self.tcp.get(d + s)))
            dr.next_seq = seq
            if fl is not None and dr.proto and not fl[7]:
                fl[7] = dr.proto
        if flags & 0x05 and not pl:  # FIN/RST: the stream may be reused by a new connection
            if flags & 0x04 or dr.proto in ("", "http"):
                del self.tcp[key]
            return
        if not dr.proto:
            st.append("data")
            return
        n = len(pl)
        # Sequence accounting: old data is a retransmission, a hole resets the PDU framing.
        if dr.next_seq >= 0 and seq != dr.next_seq:
            delta = (seq - dr.next_seq) & 0xFFFFFFFF
            if delta >= 0x80000000:  # before what we have seen
                back = 0x100000000 - delta
                if back >= n:
                    self._retrans(ts, dr, pl, st, s, d, src, dst, sport, dport)
                    return
                pl = pl[back:]
                n = len(pl)
                seq = dr.next_seq
            else:
                dr.need = 0
                dr.buf = b""
        dr.next_seq = (seq + n) & 0xFFFFFFFF
        self._frame_pdus(ts, dr, pl, st, src, dst, sport, dport)
        if dr.mode == 3:  # HTTP upgraded to WebSocket: both directions now carry frames
            dr.mode = 1
            other = self.tcp.get(d + s)
            if other is not None:
                other.mode = 1

    def _retrans(self, ts, dr, pl, st, s, d, src, dst, sport, dport) -> None:
        # Wireshark 4.0 does not hand retransmitted data to the application dissector
        # (its keep-alive and spurious-retransmission rules need every pure ACK tracked;
        # we do not, which costs a frame or two per capture, well inside 1 %).
        return

    def _frame_pdus(self, ts, dr, pl, st, src, dst, sport, dport, retrans=False) -> None:
        proto = dr.proto
        if proto in _UNFRAMED:
            if proto == "ssh":
                self._ssh(ts, dr, pl, st, src)
            else:
                st.append(proto)
                if not retrans:
                    self._line_proto(ts, proto, pl, src, dst, sport, dport)
            return
        framer = _FRAMERS[proto]
        n = len(pl)
        pos = 0
        names: Set[str] = set()
        if dr.need:
            if n < dr.need:
                dr.need -= n
                return
            pos = dr.need
            dr.need = 0
            names.update(dr.pending)
            if dr.buf:
                self._pdu_payload(ts, proto, dr.buf + pl[:pos], src, dst, sport, dport, dr)
                dr.buf = b""
        elif dr.buf:
            pl = dr.buf + pl
            n = len(pl)
            dr.buf = b""
        while pos < n:
            r = framer(pl, pos, dr)
            if r is None:  # header incomplete: keep it for the next segment
                dr.buf = pl[pos:] if n - pos < 65536 else b""
                if proto == "tpkt":
                    names.add("tpkt")
                break
            ln, pnames = r
            if ln <= 0:  # not a valid PDU start
                if proto == "tpkt":  # TPKT labels what it cannot parse "Continuation"
                    names.add("tpkt")
                elif not names:
                    names.add("data")
                dr.need = 0
                break
            if pos + ln <= n:
                names.update(pnames)
                self._pdu_payload(ts, proto, pl[pos:pos + ln], src, dst, sport, dport, dr)
                pos += ln
            else:
                dr.need = pos + ln - n
                dr.pending = pnames
                if proto == "tls":  # the TLS dissector shows itself before asking for more data
                    names.update(pnames)
                # keep the start of a large PDU when its content matters (identity, writes)
                dr.buf = pl[pos:] if proto in _KEEP_PDU and n - pos < 4096 else b""
                break
        if names:
            st.extend(names)

    def _ssh(self, ts, dr, pl, st, src) -> None:
        st.append("ssh")
        if pl.startswith(b"SSH-"):
            banner = _text(pl.split(b"\r\n", 1)[0].split(b"\n", 1)[0])
            self._ident_ip(src, "ssh-banner", banner)
            self._eol(ts, src, banner, "SSH banner")

    # ------------------------------------------------------------------ application payloads

    def _pdu_payload(self, ts, proto, pdu, src, dst, sport, dport, dr) -> None:
        """Deep look at one complete PDU (identity, names, write operations). Never raises."""
        try:
            fn = _PAYLOAD.get(proto)
            if fn is not None:
                fn(self, ts, pdu, src, dst, sport, dport, dr)
        except (IndexError, struct.error, ValueError, UnicodeError):
            pass

    def _p_modbus(self, ts, pdu, src, dst, sport, dport, dr) -> None:
        fc = pdu[7]
        self._count("modbus.func_code=%d" % (fc & 0x7F))
        if dport == 502:
            self._serve("mbtcp", dst, 502, "tcp")
            if fc in MODBUS_WRITES:
                self._event("modbus_write", src.hex() + dst.hex(), ts, "Modbus %s (function %d) from %s to %s"
                            % (MODBUS_WRITES[fc], fc, _ip(src), _ip(dst)))
        elif sport == 502 and fc == 43 and len(pdu) > 14 and pdu[8] == 14:
            # Read Device Identification response: objects id, len, value
            count = pdu[13]
            p = 14
            names = {0: "modbus-vendor", 1: "modbus-product-code", 2: "modbus-revision", 4: "modbus-product-name",
                     5: "modbus-model-name"}
            for _ in range(count):
                oid, ln = pdu[p], pdu[p + 1]
                if oid in names:
                    self._ident_ip(src, names[oid], _text(pdu[p + 2:p + 2 + ln]))
                p += 2 + ln

    def _p_tpkt(self, ts, pdu, src, dst, sport, dport, dr) -> None:
        # TPKT(4) COTP(li) S7comm: 0x32, rosctr, ..., param at 10 (job/ack) or 12 (ack_data)
        li = pdu[4]
        if pdu[5] != 0xF0:
            return
        s7 = pdu[5 + li:]
        if len(s7) < 11 or s7[0] != 0x32:
            return
        if dport == 102:
            self._serve("s7comm", dst, 102, "tcp")
        rosctr = s7[1]
        hlen = 12 if rosctr in (2, 3) else 10
        if len(s7) <= hlen:
            return
        func = s7[hlen]
        self._count("s7comm.param.func=0x%02x" % func)
        if rosctr == 1 and func in S7_WRITES:
            self._event("s7_write", src.hex() + dst.hex() + "%02x" % func, ts, "S7comm %s from %s to %s"
                        % (S7_WRITES[func], _ip(src), _ip(dst)))
        elif rosctr == 7 and len(s7) >= hlen + 8:
            # Userdata: SZL read response (function group 4, subfunction 1) carries module identity
            plen = _u16(s7, 6)[0]
            param = s7[10:10 + plen]
            data = s7[10 + plen:]
            if len(param) >= 8 and param[5] & 0x0F == 4 and param[6] == 1 and (param[5] >> 4) == 8 and len(data) > 12:
                szl_id = _u16(data, 4)[0]
                if szl_id in (0x0011, 0x001C):
                    text = _text(data[12:])
                    if text:
                        self._ident_ip(src, "s7-szl-0x%04x" % szl_id, re.sub(r"\s{2,}", " ", text)[:120])

    def _p_enip(self, ts, pdu, src, dst, sport, dport, dr) -> None:
        self._enip(ts, pdu, 0, src, dst, None, sport == 44818)

    def _enip(self, ts, pl, p, src, dst, st, from_server) -> None:
        cmd = _u16le(pl, p)[0]
        self._count("enip.command=0x%04x" % cmd)
        if cmd == 0x63 and from_server and len(pl) > p + 30:
            # ListIdentity response: CPF count, item type 0x0c, len, identity object
            q = p + 24 + 2 + 4  # header, item count, item type+len
            q += 2 + 16  # encapsulation version, socket address
            vendor, dtype, pcode = struct.unpack_from("<HHH", pl, q)
            rev = "%d.%d" % (pl[q + 6], pl[q + 7])
            serial = _u32le(pl, q + 10)[0]
            nlen = pl[q + 14]
            name = _text(pl[q + 15:q + 15 + nlen])
            self._ident_ip(src, "enip-product-name", name)
            self._ident_ip(src, "enip-revision", rev)
            self._ident_ip(src, "enip-vendor-id", str(vendor))
            self._ident_ip(src, "enip-device-type", str(dtype))
            self._ident_ip(src, "enip-product-code", str(pcode))
            self._ident_ip(src, "enip-serial", "0x%08x" % serial)
        elif cmd in (0x6F, 0x70) and not from_server:
            self._serve("enip", dst, 44818, "tcp")
            # CPF: interface handle(4) timeout(2) count(2) items...
            q = p + 24 + 6
            count = _u16le(pl, q)[0]
            q += 2
            for _ in range(min(count, 4)):
                itype, ilen = struct.unpack_from("<HH", pl, q)
                body = pl[q + 4:q + 4 + ilen]
                q += 4 + ilen
                if itype in (0xB2, 0xB1) and body:
                    svc = body[2] if itype == 0xB1 and len(body) > 2 else body[0]
                    if svc & 0x80:  # a reply, not a request
                        continue
                    self._count("cip.sc=0x%02x" % svc)
                    if svc == 0x52 and itype == 0xB2 and len(body) > 2:  # Unconnected Send: embedded request
                        ps = body[1] * 2
                        inner = body[2 + ps + 4:]
                        if inner and not inner[0] & 0x80:
                            svc = inner[0]
                            self._count("cip.sc=0x%02x" % svc)
                    if svc in CIP_WRITES:
                        self._event("cip_write", src.hex() + dst.hex() + "%02x" % svc, ts,
                                    "CIP %s (service 0x%02x) from %s to %s" % (CIP_WRITES[svc], svc, _ip(src), _ip(dst)))

    def _p_dnp3(self, ts, pdu, src, dst, sport, dport, dr) -> None:
        if dport == 20000:
            self._serve("dnp3", dst, 20000, "tcp")
        self._dnp3_app(ts, pdu, 0, src, dst)

    def _dnp3_app(self, ts, pdu, p, src, dst) -> None:
        ctrl = pdu[p + 3]
        # first user-data block after the 10-byte header: transport(1) app-control(1) function(1)
        if not ctrl & 0x40 or len(pdu) < p + 13:  # only primary (master) frames carry requests
            return
        tr = pdu[p + 10]
        if not tr & 0x40:  # not the first transport segment
            return
        fc = pdu[p + 12]
        self._count("dnp3.al.func=%d" % fc)
        if fc in DNP3_WRITES:
            self._event("dnp3_write", src.hex() + dst.hex() + "%02x" % fc, ts, "DNP3 %s (function %d) from %s to %s"
                        % (DNP3_WRITES[fc], fc, _ip(src), _ip(dst)))

    def _p_iec104(self, ts, pdu, src, dst, sport, dport, dr) -> None:
        if dport == 2404:
            self._serve("iec60870_104", dst, 2404, "tcp")
        if len(pdu) > 6 and not pdu[2] & 1:
            tid = pdu[6]
            if tid in IEC104_CONTROL and dport == 2404:
                self._event("iec104_command", src.hex() + dst.hex() + "%02x" % tid, ts,
                            "IEC 60870-5-104 command (type %d) from %s to %s" % (tid, _ip(src), _ip(dst)))

    def _p_opcua(self, ts, pdu, src, dst, sport, dport, dr) -> None:
        if pdu[:3] == b"HEL":
            self._serve("opcua", dst, dport, "tcp")
        if pdu[:3] == b"OPN" and b"SecurityPolicy#None" in pdu[:200] and sport > dport:
            self._event("opcua_none", src.hex() + dst.hex(), ts,
                        "OPC UA secure channel with SecurityPolicy None from %s to %s:%d" % (_ip(src), _ip(dst), dport))

    def _p_nbss(self, ts, pdu, src, dst, sport, dport, dr) -> None:
        if pdu[4:8] == b"\xffSMB":
            if dport in (445, 139):
                self._serve("smb", dst, dport, "tcp")
            self._event("smb1", src.hex() + dst.hex() if src < dst else dst.hex() + src.hex(), ts,
                        "SMBv1 between %s and %s" % (_ip(src), _ip(dst)))
            cmd = pdu[8]
            if cmd == 0x73 and sport in (445, 139):  # Session Setup AndX response: NativeOS strings
                self._smb_native_os(ts, pdu, src)
        elif pdu[4:8] == b"\xfeSMB" and dport in (445, 139):
            self._serve("smb2", dst, dport, "tcp")

    def _smb_native_os(self, ts, pdu, src) -> None:
        # SMB header starts at 4 (after NBSS); words at 37; extended-security responses
        # (word count 4) carry the security blob before NativeOS (MS-CIFS 2.2.4.53.2).
        flags2 = _u16le(pdu, 4 + 10)[0]
        wc = pdu[4 + 32]
        pos = 4 + 33 + wc * 2 + 2
        if wc == 4:
            pos += _u16le(pdu, 4 + 33 + 6)[0]
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
            self._ident_ip(src, "smb-native-os", native)
            self._eol(ts, src, native, "SMB NativeOS")

    def _p_http(self, ts, pdu, src, dst, sport, dport, dr) -> None:
        head = pdu[:4096]
        if head.startswith(b"HTTP/"):
            self._serve("http", src, sport, "tcp")
            m = re.search(rb"\r\nServer: *([^\r\n]+)", head, re.I)
            if m:
                self._ident_ip(src, "http-server", _text(m.group(1)))
                self._eol(ts, src, _text(m.group(1)), "HTTP Server header")
        else:
            m = re.search(rb"\r\nUser-Agent: *([^\r\n]+)", head, re.I)
            if m:
                self._ident_ip(src, "http-user-agent", _text(m.group(1)))
                self._eol(ts, src, _text(m.group(1)), "HTTP User-Agent")
            m = re.search(rb"\r\nHost: *([^\r\n:]+)", head, re.I)
            if m:
                self._name_ip(dst, _text(m.group(1)), "http-host")
            if re.search(rb"\r\nAuthorization: *Basic ", head, re.I):
                self._event("http_basic", src.hex() + dst.hex(), ts,
                            "HTTP Basic authentication (password in clear) from %s to %s:%d" % (_ip(src), _ip(dst), dport))

    def _p_tls(self, ts, pdu, src, dst, sport, dport, dr) -> None:
        if pdu[0] == 0x16 and len(pdu) > 9 and pdu[5] == 1:  # ClientHello: SNI
            self._serve("tls", dst, dport, "tcp")
            sni = _tls_sni(pdu)
            if sni:
                self._name_ip(dst, sni, "tls-sni")

    def _line_proto(self, ts, proto, pl, src, dst, sport, dport) -> None:
        if proto == "ftp":
            if dport == 21:
                self._serve("ftp", dst, 21, "tcp")
                if pl[:5].upper() == b"PASS ":
                    self._event("ftp_pass", src.hex() + dst.hex(), ts,
                                "FTP password sent in clear from %s to %s" % (_ip(src), _ip(dst)))
            elif pl[:4] == b"220 " or pl[:4] == b"220-":
                self._ident_ip(src, "ftp-banner", _text(pl[4:].split(b"\r\n")[0]))
        elif proto == "telnet":
            if dport == 23:
                self._serve("telnet", dst, 23, "tcp")
                self._event("telnet", src.hex() + dst.hex(), ts,
                            "Telnet session (login and commands in clear) from %s to %s" % (_ip(src), _ip(dst)))

    def _eol(self, ts, ip, text, where) -> None:
        m = EOL_OS.search(text)
        if m:
            self._event("eol_os", ip.hex(), ts, "%s announces an end-of-life system (%r in %s)" % (_ip(ip), m.group(0), where))


# ---------------------------------------------------------------------- TCP framing

def _guess_tcp(pl: bytes, sport: int, dport: int, other: Optional[_Dir]) -> str:
    """Protocol of a TCP direction from its first payload (content decides; ports hint)."""
    if other is not None and other.proto:
        return other.proto
    for port in (dport, sport) if dport < sport else (sport, dport):
        cand = TCP_PORTS.get(port)
        if cand and _CHECK[cand](pl):
            return cand
    # No port hint matched: try the self-identifying protocols anywhere.
    for cand in ("opcua", "tls", "ssh", "http"):
        if _CHECK[cand](pl):
            return cand
    if (sport in TCP_PORTS or dport in TCP_PORTS) and not pl:
        return ""
    return ""


def _chk_mbtcp(p: bytes) -> bool:
    return len(p) >= 8 and p[2] == 0 and p[3] == 0 and 2 <= _u16(p, 4)[0] <= 260


def _chk_tpkt(p: bytes) -> bool:
    # TPKT owns its port whatever the content (Wireshark shows "Continuation"); a short
    # first segment is a keep-alive or a split header.
    return len(p) < 4 or (p[0] == 3 and p[1] == 0)


def _chk_enip(p: bytes) -> bool:
    return len(p) >= 24 and _u16le(p, 0)[0] in (0x01, 0x04, 0x63, 0x64, 0x65, 0x66, 0x6F, 0x70)


def _chk_dnp3(p: bytes) -> bool:
    return len(p) >= 10 and p[0] == 0x05 and p[1] == 0x64


def _chk_iec104(p: bytes) -> bool:
    return len(p) >= 6 and p[0] == 0x68 and 4 <= p[1] <= 253


def _chk_opcua(p: bytes) -> bool:
    return len(p) >= 8 and p[:3] in OPCUA_TYPES and p[3:4] in (b"F", b"C", b"A") and _u32le(p, 4)[0] >= 8


def _chk_synphasor(p: bytes) -> bool:
    return len(p) >= 4 and p[0] == 0xAA and (p[1] >> 4) in (0, 1, 2, 3, 4, 5)


def _chk_nbss(p: bytes) -> bool:
    return len(p) >= 4 and p[0] in (0x00, 0x81, 0x82, 0x83, 0x84, 0x85)


def _chk_tls(p: bytes) -> bool:
    return len(p) >= 5 and 0x14 <= p[0] <= 0x17 and p[1] == 3 and p[2] <= 4


def _chk_ssh(p: bytes) -> bool:
    return p.startswith(b"SSH-")


def _chk_http(p: bytes) -> bool:
    return p.startswith(HTTP_METHODS) or p.startswith(b"HTTP/1.")


def _chk_any(p: bytes) -> bool:
    return True


_CHECK: Dict[str, Callable[[bytes], bool]] = {
    "mbtcp": _chk_mbtcp, "tpkt": _chk_tpkt, "enip": _chk_enip, "dnp3": _chk_dnp3, "iec104": _chk_iec104,
    "opcua": _chk_opcua, "synphasor": _chk_synphasor, "nbss": _chk_nbss, "tls": _chk_tls, "ssh": _chk_ssh,
    "http": _chk_http, "ftp": _chk_any, "telnet": _chk_any,
}
_UNFRAMED = frozenset(("ssh", "ftp", "telnet"))
_KEEP_PDU = frozenset(("enip", "nbss", "http", "tpkt", "opcua", "mbtcp"))

_N_MB = ("mbtcp", "modbus")
_N_MB0 = ("mbtcp",)


def _f_mbtcp(p: bytes, i: int, dr: _Dir):
    if len(p) < i + 6:
        return None
    if p[i + 2] or p[i + 3]:
        return 0, ()
    ln = _u16(p, i + 4)[0]
    if ln < 2:
        return 0, ()
    return 6 + ln, _N_MB


_N_TPKT = ("tpkt",)
_N_COTP = ("tpkt", "cotp")
_N_S7 = ("tpkt", "cotp", "s7comm")


def _f_tpkt(p: bytes, i: int, dr: _Dir):
    if len(p) < i + 4:
        return None
    if p[i] != 3:
        return 0, ()
    ln = _u16(p, i + 2)[0]
    if ln < 4:
        return 0, ()
    if len(p) < i + 7 or ln < 7:
        return ln, _N_TPKT if ln < 7 else _N_COTP
    li, code = p[i + 4], p[i + 5] & 0xF0
    if code == 0xF0:  # DT: payload complete when EOT is set; S7comm payloads start with 0x32
        eot = p[i + 6] & 0x80
        if not eot:
            dr.mode = 1  # COTP fragment: the next DT finishes it
            return ln, _N_COTP
        if len(p) > i + 5 + li and p[i + 5 + li] == 0x32:
            dr.mode = 0
            return ln, _N_S7
        if dr.mode == 1:
            dr.mode = 0
            return ln, _N_S7
        return ln, _N_COTP
    return ln, _N_COTP


_N_ENIP = ("enip",)
_N_CIP = ("enip", "cip")


def _f_enip(p: bytes, i: int, dr: _Dir):
    if len(p) < i + 24:
        return None
    cmd = _u16le(p, i)[0]
    ln = 24 + _u16le(p, i + 2)[0]
    if cmd in (0x6F, 0x70):
        return ln, _N_CIP
    if cmd in (0x01, 0x04, 0x63, 0x64, 0x65, 0x66):
        return ln, _N_ENIP
    return 0, ()


_N_DNP3 = ("dnp3",)


def _f_dnp3(p: bytes, i: int, dr: _Dir):
    if len(p) < i + 3:
        return None
    if p[i] != 0x05 or p[i + 1] != 0x64:
        return 0, ()
    n = p[i + 2] - 5
    if n < 0:
        return 0, ()
    return 10 + n + 2 * ((n + 15) // 16), _N_DNP3


_N_104 = ("iec60870_104",)
_N_104A = ("iec60870_104", "iec60870_asdu")


def _f_iec104(p: bytes, i: int, dr: _Dir):
    if len(p) < i + 3:
        return None
    if p[i] != 0x68:
        return 0, ()
    ln = p[i + 1]
    return 2 + ln, (_N_104A if not p[i + 2] & 1 and ln > 4 else _N_104)


_N_OPCUA = ("opcua",)


def _f_opcua(p: bytes, i: int, dr: _Dir):
    if len(p) < i + 8:
        return None
    if p[i:i + 3] not in OPCUA_TYPES:
        return 0, ()
    return _u32le(p, i + 4)[0], _N_OPCUA


_N_SYN = ("synphasor",)


def _f_synphasor(p: bytes, i: int, dr: _Dir):
    if len(p) < i + 4:
        return None
    if p[i] != 0xAA:
        return 0, ()
    return _u16(p, i + 2)[0], _N_SYN


_N_NBSS = ("nbss",)
_N_SMB = ("nbss", "smb")
_N_SMB2 = ("nbss", "smb2")


def _f_nbss(p: bytes, i: int, dr: _Dir):
    if len(p) < i + 4:
        return None
    t = p[i]
    if t not in (0x00, 0x81, 0x82, 0x83, 0x84, 0x85):
        return 0, ()
    ln = 4 + (((p[i + 1] & 1) << 16) | _u16(p, i + 2)[0])
    if t == 0 and ln > 4:
        if len(p) < i + 8:
            return None
        m = p[i + 4:i + 8]
        if m == b"\xfeSMB":
            return ln, _N_SMB2
        if m == b"\xffSMB":
            return ln, _N_SMB
    return ln, _N_NBSS


_N_TLS = ("tls",)


def _f_tls(p: bytes, i: int, dr: _Dir):
    if len(p) < i + 5:
        return None
    if not (0x14 <= p[i] <= 0x17 and p[i + 1] == 3):
        return 0, ()
    return 5 + _u16(p, i + 3)[0], _N_TLS


_N_HTTP = ("http",)
_CL = re.compile(rb"\r\ncontent-length: *(\d+)", re.I)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding: *chunked", re.I)
_UPGRADE = re.compile(rb"\r\nupgrade: *websocket", re.I)


def _f_http(p: bytes, i: int, dr: _Dir):
    if dr.mode == 1:  # WebSocket frames after a 101 Switching Protocols (RFC 6455 section 5.2)
        if len(p) < i + 2:
            return None
        ln = p[i + 1] & 0x7F
        hl = 2
        if ln == 126:
            if len(p) < i + 4:
                return None
            ln, hl = _u16(p, i + 2)[0], 4
        elif ln == 127:
            if len(p) < i + 10:
                return None
            ln, hl = struct.unpack_from(">Q", p, i + 2)[0], 10
        if p[i + 1] & 0x80:
            hl += 4
        return hl + ln, _N_HTTP
    if dr.mode == 2:  # body until the connection closes: every segment is part of it
        return len(p) - i, ()
    e = p.find(b"\r\n\r\n", i)
    if e < 0:
        if p.startswith(HTTP_METHODS, i) or p.startswith(b"HTTP/", i):
            return None
        return 0, ()
    head = p[i:e]
    if not (head.startswith(HTTP_METHODS) or head.startswith(b"HTTP/")):
        return 0, ()
    hl = e + 4 - i
    if head.startswith(b"HTTP/"):
        code = head[9:12]
        if code == b"101" and _UPGRADE.search(head):
            dr.mode = 3  # switch after this response
        if code[:1] == b"1" or code in (b"204", b"304"):
            return hl, _N_HTTP
    m = _CL.search(head)
    if m:
        body = int(m.group(1))
    elif _CHUNKED.search(head):
        body = _chunked_len(p, i + hl)
        if body is None:
            return None
    elif head.startswith(b"HTTP/"):
        return hl, _N_HTTP
    else:
        body = 0
    return hl + body, _N_HTTP


def _chunked_len(p: bytes, i: int) -> Optional[int]:
    start = i
    while True:
        e = p.find(b"\r\n", i)
        if e < 0:
            return None
        try:
            size = int(p[i:e].split(b";")[0].strip() or b"0", 16)
        except ValueError:
            return e + 2 - start
        i = e + 2 + size + 2
        if size == 0:
            # trailers end with an empty line; usually none
            return i - start
        if i > len(p):
            return None


_FRAMERS = {
    "mbtcp": _f_mbtcp, "tpkt": _f_tpkt, "enip": _f_enip, "dnp3": _f_dnp3, "iec104": _f_iec104,
    "opcua": _f_opcua, "synphasor": _f_synphasor, "nbss": _f_nbss, "tls": _f_tls, "http": _f_http,
}
_PAYLOAD = {
    "mbtcp": Analyzer._p_modbus, "tpkt": Analyzer._p_tpkt, "enip": Analyzer._p_enip, "dnp3": Analyzer._p_dnp3,
    "iec104": Analyzer._p_iec104, "opcua": Analyzer._p_opcua, "nbss": Analyzer._p_nbss, "http": Analyzer._p_http,
    "tls": Analyzer._p_tls,
}
_UDP_DISSECT = {
    "dns": Analyzer._u_dns, "mdns": Analyzer._u_mdns, "llmnr": Analyzer._u_llmnr, "nbns": Analyzer._u_nbns,
    "nbdgm": Analyzer._u_nbdgm, "dhcp": Analyzer._u_dhcp, "ssdp": Analyzer._u_ssdp, "ntp": Analyzer._u_ntp,
    "snmp": Analyzer._u_snmp, "bvlc": Analyzer._u_bvlc, "dnp3": Analyzer._u_dnp3, "enip": Analyzer._u_enip,
    "synphasor": Analyzer._u_synphasor,
}


# ---------------------------------------------------------------------- small decoders

def _text(v: bytes) -> str:
    """Printable text of a protocol string field (NULs and control characters dropped)."""
    s = v.split(b"\0", 1)[0].decode("utf-8", "replace")
    return "".join(ch for ch in s if ch.isprintable()).strip()


def _ip(b: bytes) -> str:
    if len(b) == 4:
        return "%d.%d.%d.%d" % (b[0], b[1], b[2], b[3])
    import ipaddress

    return str(ipaddress.IPv6Address(b))


def _mac(b: bytes) -> str:
    return ":".join("%02x" % x for x in b)


def _ber_len_size(p: bytes, i: int) -> int:
    return 1 + (p[i] & 0x7F if p[i] & 0x80 else 0)


def _dns_name(p: bytes, i: int, depth: int = 0) -> Tuple[str, int]:
    labels = []
    end = -1
    jumps = 0
    while True:
        ln = p[i]
        if ln == 0:
            i += 1
            break
        if ln & 0xC0 == 0xC0:
            if end < 0:
                end = i + 2
            i = ((ln & 0x3F) << 8) | p[i + 1]
            jumps += 1
            if jumps > 32:
                raise ValueError("DNS compression loop")
            continue
        labels.append(p[i + 1:i + 1 + ln].decode("utf-8", "replace"))
        i += 1 + ln
        if len(labels) > 128:
            raise ValueError("DNS name too long")
    return ".".join(labels), (end if end >= 0 else i)


def _dns_answers(p: bytes):
    """(name, type, rdata) of the answer and additional records of a DNS message."""
    qd, an, ns, ar = struct.unpack_from(">HHHH", p, 4)
    i = 12
    for _ in range(qd):
        _, i = _dns_name(p, i)
        i += 4
    out = []
    for n in range(min(an + ns + ar, 256)):
        name, i = _dns_name(p, i)
        rtype, _cls, _ttl, rdlen = struct.unpack_from(">HHIH", p, i)
        i += 10
        rdata: object = p[i:i + rdlen]
        if rtype in (12, 5):
            rdata = _dns_name(p, i)[0]
        if an <= n < an + ns:  # authority records name servers, not hosts
            i += rdlen
            continue
        out.append((name, rtype, rdata))
        i += rdlen
    return out


def _ptr_ip(name: str) -> Optional[bytes]:
    n = name.lower().rstrip(".")
    if n.endswith(".in-addr.arpa"):
        parts = n[:-13].split(".")
        if len(parts) == 4 and all(x.isdigit() and int(x) < 256 for x in parts):
            return bytes(int(x) for x in reversed(parts))
    return None


def _nb_name(p: bytes, i: int) -> Tuple[str, int]:
    """A NetBIOS first-level encoded name (RFC 1001 section 14.1), without the suffix byte."""
    ln = p[i]
    enc = p[i + 1:i + 1 + ln]
    i += 1 + ln
    while p[i] != 0:  # scope labels
        i += 1 + p[i]
    i += 1
    if ln != 32:
        return "", i
    raw = bytes(((enc[k] - 65) << 4) | (enc[k + 1] - 65) for k in range(0, 32, 2))
    return raw[:15].decode("latin-1").rstrip(" \0"), i


def _tls_sni(p: bytes) -> str:
    # record(5) handshake(4) version(2) random(32) session id, cipher suites, compression, extensions
    i = 5 + 4 + 2 + 32
    i += 1 + p[i]
    i += 2 + _u16(p, i)[0]
    i += 1 + p[i]
    end = i + 2 + _u16(p, i)[0]
    i += 2
    while i + 4 <= min(end, len(p)):
        et, ln = struct.unpack_from(">HH", p, i)
        if et == 0 and ln > 5:
            nl = _u16(p, i + 7)[0]
            return p[i + 9:i + 9 + nl].decode("ascii", "replace")
        i += 4 + ln
    return ""
