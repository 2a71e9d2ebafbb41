"""Passive traffic analysis engine: link layer, IP, TCP reassembly, flows, host and name tables.

`Analyzer.feed(ts, frame, wirelen, linktype)` takes one raw frame (from a
file or a live socket, same code path) and updates bounded tables:

- protocol stacks: every frame contributes the set of Wireshark
  display-filter names it carries (`eth`, `ip`, `tcp`, `mbtcp`, `modbus`…);
  frames with the same stack share one counter, so the per-frame cost is one
  dict update;
- hosts by source MAC (addresses, names, identity, roles, packets/bytes);
- TCP/UDP conversations by endpoint pair, L2 pairs for non-IP frames;
- events for findings (credentials in clear, ICS write/control operations…).

The application protocols live in `protocols/`, one module each; this engine
only hands them payloads. Recognition is by content: a port only says where
to look, the header must check out (Modbus protocol id 0, TPKT version 3,
DNP3 start bytes 0x0564…). TCP payloads are cut into PDUs the way Wireshark's
desegmentation does, so a frame counts for an application protocol when a PDU
of it ends in that frame (Wireshark 4.0 behaviour; the per-capture truth files
under tests/fixtures/capture were made with tshark 4.0.17).

Every frame is counted. A frame whose headers are malformed or truncated is
counted in `undecodable`; a malformed PDU inside a good frame in
`malformed[protocol]`; neither stops the analysis. An exception that is not
about the data (TypeError, AttributeError…) is a dissector bug: it is counted
in `dissector_errors[protocol]` with its message and reported as a gap.
"""
from __future__ import annotations

import collections
from typing import Any, Collection, Dict, List, Optional, Sequence, Set, Tuple

from . import protocols
from ._records import (
    MALFORMED,
    MAX_BUFFERED,
    MAX_EVENTS_PER_KIND,
    MAX_FLOWS,
    MAX_HOSTS,
    MAX_IPS_PER_HOST,
    MAX_L2FLOWS,
    MAX_NAMES_PER_HOST,
    MAX_STREAM_BUFFER,
    MAX_TCP_STREAMS,
    Event,
    Failure,
    Flow,
    FlowKey,
    HostRec,
    L2Flow,
    L2FlowKey,
    StreamMode,
    TcpStream,
    Truncated,
)
from ._wire import u16, u32, u32le
from .protocols._dissector import Dissector, EventKind, Framer, Table

__all__ = ["Analyzer", "LLC_FLOW", "TITLES"]

# Titles of the layers the engine itself recognises (the protocols declare their own).
TITLES = {
    "eth": "Ethernet", "vlan": "802.1Q VLAN", "ip": "IPv4", "ipv6": "IPv6", "icmp": "ICMP", "icmpv6": "ICMPv6",
    "igmp": "IGMP", "tcp": "TCP", "udp": "UDP", "llc": "802.2 LLC", "data": "Unrecognised payload",
    "ethertype": "Ethernet II type field", "sll": "Linux cooked capture",
}
LLC_FLOW = 0  # L2 flow "EtherType" of 802.3 frames carrying 802.2 LLC

_UPGRADING = StreamMode.UPGRADING
_UPGRADED = StreamMode.UPGRADED
_BODY = StreamMode.BODY
_PDUS = StreamMode.PDUS
_INF = float("inf")
# Entries of each direction cache of `Analyzer._eth_ip4` (~350 bytes each: at most ~6 MB per cache).
MAX_DIRECTIONS = 1 << 14


class Analyzer:
    """Aggregates frames into protocol, host, conversation and event tables."""

    def __init__(self, max_hosts: int = MAX_HOSTS, max_flows: int = MAX_FLOWS,
                 dissectors: Optional[Sequence[Dissector]] = None, max_streams: int = MAX_TCP_STREAMS,
                 max_buffered: int = MAX_BUFFERED, fast_path: bool = True) -> None:
        # fast_path=False sends every frame through the general path (`_dissect`): the tests check that
        # both paths give the same tables.
        self.fast_path = fast_path
        self.table = Table(protocols.DISSECTORS if dissectors is None else dissectors)
        self._tcp_ports = self.table.tcp_ports
        self._udp_ports = self.table.udp_ports
        self._ethertypes = self.table.ethertypes
        self.max_hosts = max_hosts
        self.max_flows = max_flows
        self.max_streams = max_streams
        self.max_buffered = max_buffered
        self.frames = 0
        self.bytes = 0
        self.undecodable = 0
        self.unsupported_linktype: Dict[int, int] = {}
        # Earliest and latest timestamps: files may come in any order (issue 18, D13).
        self._t0 = _INF
        self._t1 = -_INF
        self.stacks: Dict[Tuple[str, ...], List[int]] = {}
        self.hosts: Dict[bytes, HostRec] = {}
        self.flows: Dict[FlowKey, Flow] = {}
        self.l2flows: Dict[L2FlowKey, L2Flow] = {}
        # src endpoint + dst endpoint -> one direction's state, least recently used first
        self.tcp: "collections.OrderedDict[bytes, TcpStream]" = collections.OrderedDict()
        self.buffered = 0  # bytes all TCP directions hold (`TcpStream.buf`)
        self._holding: "collections.OrderedDict[bytes, None]" = collections.OrderedDict()  # who holds them
        self.caps_hit: Dict[str, int] = {}  # table -> frames not tracked because it was full
        self.arp: Dict[bytes, Dict[bytes, float]] = {}  # ip -> {mac: first seen}
        self.ip_names: Dict[bytes, Dict[str, str]] = {}  # ip -> {name: how}
        self.ip_ident: Dict[bytes, Dict[str, str]] = {}  # ip -> {key: value}
        self.ip_serves: Dict[bytes, Dict[Tuple[str, int], None]] = {}
        self.endpoints: Dict[str, Dict[Tuple[bytes, int, str], None]] = {}  # proto -> {(ip, port, l4)}
        self.events: Dict[Tuple[EventKind, str], Event] = {}  # (kind, key) -> evidence
        self.malformed: Dict[str, int] = {}  # protocol -> PDUs cut short or garbled (frame itself fine)
        self.dissector_errors: Dict[str, Failure] = {}  # protocol -> packets a decoder bug hit
        # IPv4 source+destination address and port (12 bytes of the frame) -> what `_eth_ip4` needs for the
        # next packets of that direction (its `Flow`, which way it goes, its keys), so that they skip `_flow`.
        # A flow is never removed from `flows`, so an entry stays true; the caches only save work.
        self._tcp_dirs: Dict[bytes, Tuple[Flow, bool, bytes, bytes, bytes, bytes]] = {}
        self._udp_dirs: Dict[bytes, Tuple[Flow, bool, bytes]] = {}
        self._served: Set[Tuple[str, bytes, int, str]] = set()  # `serve` calls already in both tables
        self._memory: Dict[str, Dict[bytes, Any]] = {}  # `memory`: each dissector's, by protocol name

    # ------------------------------------------------------------------ public

    def feed(self, ts: float, buf: bytes, wirelen: int = 0, linktype: int = 1) -> None:
        """Account for one frame; never raises for frame content."""
        self.frames += 1
        wl = wirelen or len(buf)
        self.bytes += wl
        if ts < self._t0:
            self._t0 = ts
        if ts > self._t1:
            self._t1 = ts
        # Ethernet II carrying IPv4 without options: most frames of any capture
        fast = linktype == 1 and buf[12:15] == b"\x08\x00\x45" and len(buf) >= 34 and self.fast_path
        st: List[str] = ["eth", "ethertype", "ip"] if fast else []
        try:
            if fast:
                self._eth_ip4(ts, buf, wl, st)
            else:
                self._dissect(ts, buf, wl, linktype, st)
        except MALFORMED:  # a hostile or cut frame
            self.undecodable += 1
        except Exception as exc:  # a bug in the engine's own layers: named after the deepest one
            self.failed(st[-1] if st else "frame", exc)
        key = tuple(st)
        rec = self.stacks.get(key)
        if rec is None:
            self.stacks[key] = [1, wl]
        else:
            rec[0] += 1
            rec[1] += wl

    @property
    def first_ts(self) -> Optional[float]:
        """Earliest timestamp seen (None before any frame)."""
        return self._t0 if self.frames else None

    @property
    def last_ts(self) -> Optional[float]:
        """Latest timestamp seen (None before any frame)."""
        return self._t1 if self.frames else None

    def protocols(self) -> Dict[str, Tuple[int, int]]:
        """Protocol name -> (frames, bytes): a frame counts once per name it carries."""
        out: Dict[str, List[int]] = {}
        for stack, (n, b) in self.stacks.items():
            for name in set(stack):
                r = out.setdefault(name, [0, 0])
                r[0] += n
                r[1] += b
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}

    # ------------------------------------------------------------------ what dissectors report

    def event(self, kind: EventKind, key: str, ts: float, detail: str) -> None:
        """One occurrence of a finding's evidence; `key` names the hosts (see `EventKind.subject`)."""
        ev = self.events.get((kind, key))
        if ev is None:
            if sum(1 for k in self.events if k[0] is kind) >= MAX_EVENTS_PER_KIND:
                self._cap("events")
                return
            self.events[(kind, key)] = Event(kind, 1, ts, detail)
        else:
            self.events[(kind, key)] = ev._replace(packets=ev.packets + 1)

    def name_ip(self, ip: bytes, name: str, how: str) -> None:
        """A host name of an IP address, learned from traffic (DNS answer, HTTP Host…)."""
        name = name.strip().rstrip(".")
        if not name or not ip or ip in (b"\0\0\0\0", b"\xff\xff\xff\xff"):
            return
        d = self.ip_names.setdefault(ip, {})
        if name not in d and len(d) < MAX_NAMES_PER_HOST:
            d[name] = how

    def ident_ip(self, ip: bytes, key: str, value: str) -> None:
        """An identity fact of an IP address (first value kept, 200 characters at most)."""
        value = value.strip()
        if value:
            d = self.ip_ident.setdefault(ip, {})
            if key not in d:
                d[key] = value[:200]

    def serve(self, proto: str, ip: bytes, port: int, l4: str) -> None:
        """`ip` serves `proto` on `port`."""
        k = (proto, ip, port, l4)
        if k in self._served:  # the decoders say so for every request: the second time changes nothing
            return
        d = self.endpoints.setdefault(proto, {})
        e = (ip, port, l4)
        if len(d) < 256:
            d[e] = None
        s = self.ip_serves.setdefault(ip, {})
        if len(s) < 64:
            s[(l4, port)] = None
        if e in d and (l4, port) in s:  # both tables hold it (they never lose an entry)
            self._served.add(k)

    def memory(self, proto: str) -> Dict[bytes, Any]:
        """What a dissector of `proto` remembers across packets of this capture (a request awaiting its
        reply, a connection's login…); the dissector bounds it."""
        d = self._memory.get(proto)
        if d is None:
            d = self._memory[proto] = {}
        return d

    def malformed_pdu(self, proto: str) -> None:
        """A PDU of `proto` too short or garbled to decode (the frame itself was fine)."""
        self.malformed[proto] = self.malformed.get(proto, 0) + 1

    def failed(self, proto: str, exc: BaseException) -> None:
        """A decoder of `proto` raised something other than malformed data: a bug, kept for the report."""
        f = self.dissector_errors.get(proto)
        if f is None:
            self.dissector_errors[proto] = Failure(1, "%s: %s" % (type(exc).__name__, exc))
        else:
            self.dissector_errors[proto] = f._replace(packets=f.packets + 1)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _remember(cache: Dict[bytes, Any], k: bytes, value: Any) -> None:
        """Keep what a direction's next packets need; the cache starts again when full (memory stays bounded)."""
        if len(cache) >= MAX_DIRECTIONS:
            cache.clear()
        cache[k] = value

    def _cap(self, table: str) -> None:
        self.caps_hit[table] = self.caps_hit.get(table, 0) + 1

    # ------------------------------------------------------------------ layer 2

    def _eth_ip4(self, ts: float, b: bytes, wl: int, st: List[str]) -> None:
        """The frame most captures are made of: Ethernet II, IPv4 without options (`_dissect`, `_ip4` and
        `_l4` in one function, with the same results: `feed` checked the EtherType, version and length and
        put the first three names on the stack)."""
        src = b[6:12]
        hosts = self.hosts
        h = hosts.get(src)
        if h is None:
            if len(hosts) >= self.max_hosts:
                self._cap("hosts")
            else:
                h = hosts[src] = HostRec(ts)
        ips = b[26:30]
        if h is not None:
            h.pkts += 1
            h.bytes += wl
            if ts > h.last:
                h.last = ts
            elif ts < h.first:
                h.first = ts
            hips = h.ips
            if ips not in hips and len(hips) < MAX_IPS_PER_HOST:
                hips[ips] = None
        n = len(b)
        tot = (b[16] << 8) | b[17]
        end = 14 + tot if tot >= 20 else n
        if end > n:
            end = n
        if b[20] & 0x1F or b[21]:  # not the first fragment: no transport header here
            st.append("data")
            return
        proto = b[23]
        if proto == 6:
            st.append("tcp")
            if end < 54:
                raise Truncated
            doff = (b[46] >> 4) * 4
            if doff < 20:
                raise Truncated
            k = b[26:38]  # source and destination address and port: one direction of one conversation
            c = self._tcp_dirs.get(k)
            if c is None:
                dst = b[30:34]
                s = ips + b[34:36]
                d = dst + b[36:38]
                fl = self._flow(ts, 6, s, d, wl)
                key = s + d
                if fl is not None:
                    self._remember(self._tcp_dirs, k, (fl, fl.initiator == s, s, d, key, dst))
            else:  # `_flow` without building its key
                fl, fwd, s, d, key, dst = c
                if fwd:
                    fl.pkts_fwd += 1
                    fl.bytes_fwd += wl
                else:
                    fl.pkts_back += 1
                    fl.bytes_back += wl
                if ts > fl.last:
                    fl.last = ts
                elif ts < fl.first:
                    fl.first = ts
            p = 34 + doff
            pl = b[p:end] if p < end else b""
            flags = b[47]
            sport = (b[34] << 8) | b[35]
            if flags & 0x12 == 0x12 and len(self.tcp) < self.max_flows:  # SYN+ACK: the sender serves this port
                self.serve("tcp", ips, sport, "tcp")
            if pl or flags & 0x05:
                self._tcp(ts, key, s, d, sport, (b[36] << 8) | b[37], u32(b, 38)[0], flags, pl, st, ips, dst, fl)
        elif proto == 17:
            st.append("udp")
            if end < 42:
                raise Truncated
            k = b[26:38]
            cu = self._udp_dirs.get(k)
            if cu is None:
                dst = b[30:34]
                s = ips + b[34:36]
                fl = self._flow(ts, 17, s, dst + b[36:38], wl)
                if fl is not None:
                    self._remember(self._udp_dirs, k, (fl, fl.initiator == s, dst))
            else:
                fl, fwd, dst = cu
                if fwd:
                    fl.pkts_fwd += 1
                    fl.bytes_fwd += wl
                else:
                    fl.pkts_back += 1
                    fl.bytes_back += wl
                if ts > fl.last:
                    fl.last = ts
                elif ts < fl.first:
                    fl.first = ts
            ulen = (b[38] << 8) | b[39]
            e = 34 + ulen if 8 <= ulen and 34 + ulen <= end else end
            n0 = len(st)
            self._udp(ts, b[42:e], (b[34] << 8) | b[35], (b[36] << 8) | b[37], ips, dst, st, False)
            if fl is not None and not fl.app and len(st) > n0 and st[n0] != "data":
                fl.app = st[n0]
        else:
            self._l4(ts, b, 34, end, proto, ips, b[30:34], wl, st, h, False)

    def _dissect(self, ts: float, b: bytes, wl: int, lt: int, st: List[str]) -> None:
        h: Optional[HostRec]
        if lt == 1:  # Ethernet
            if len(b) < 14:
                st.append("eth")
                raise Truncated
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
                if ts > h.last:
                    h.last = ts
                elif ts < h.first:
                    h.first = ts
            et = (b[12] << 8) | b[13]
            off = 14
            if et <= 1500:  # 802.3 length field: an 802.2 LLC header follows
                self._llc(ts, b, off, 14 + et, st, src, h, wl)
                return
            st.append("ethertype")
            while et == 0x8100 or et == 0x88A8:
                if len(b) < off + 4:
                    raise Truncated
                st.append("vlan")
                et = (b[off + 2] << 8) | b[off + 3]
                off += 4
                st.append("ethertype")
        elif lt == 113:  # Linux cooked v1: pkttype, hatype, halen, addr[8], protocol
            if len(b) < 16:
                raise Truncated
            st.append("sll")
            halen = u16(b, 4)[0]
            src = b[6:12] if halen == 6 else b""
            h = self._l2host(src, ts, wl)
            et = u16(b, 14)[0]
            off = 16
        elif lt == 276:  # Linux cooked v2: protocol, reserved, ifindex, hatype, pkttype, halen, addr[8]
            if len(b) < 20:
                raise Truncated
            st.append("sll")
            src = b[12:18] if b[11] == 6 else b""
            h = self._l2host(src, ts, wl)
            et = u16(b, 0)[0]
            off = 20
        elif lt in (101, 12, 14, 228, 229):  # raw IP
            st.append("raw")
            src, h, off = b"", None, 0
            if not b:
                raise Truncated
            et = 0x0800 if b[0] >> 4 == 4 else 0x86DD if b[0] >> 4 == 6 else 0
        elif lt == 0 or lt == 108:  # BSD loopback: address family in host / network order
            if len(b) < 4:
                raise Truncated
            st.append("null")
            af = u32le(b, 0)[0] if lt == 0 else u32(b, 0)[0]
            if af > 0xFFFF:
                af = u32(b, 0)[0]
            src, h, off = b"", None, 4
            et = 0x0800 if af == 2 else 0x86DD if af in (10, 24, 28, 30) else 0
        else:
            self.unsupported_linktype[lt] = self.unsupported_linktype.get(lt, 0) + 1
            raise Truncated

        if et == 0x0800:
            self._ip4(ts, b, off, wl, st, h, False)
        elif et == 0x86DD:
            self._ip6(ts, b, off, wl, st, h)
        else:
            if src and lt == 1:
                self._l2flow(ts, et, src, b[0:6], wl)
            dis = self._ethertypes.get(et)
            if dis is not None:
                self._link(dis, ts, b, off, len(b), st, h)

    def _link(self, dis: Dissector, ts: float, b: bytes, off: int, end: int, st: List[str],
              h: Optional[HostRec]) -> None:
        st.append(dis.name)
        fn = dis.link
        if fn is None:
            return
        try:
            fn(self, ts, b, off, end, st, h)
        except MALFORMED:
            raise
        except Exception as exc:
            self.failed(dis.name, exc)

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
        if ts > h.last:
            h.last = ts
        elif ts < h.first:
            h.first = ts
        return h

    def _l2flow(self, ts: float, et: int, src: bytes, dst: bytes, wl: int) -> None:
        key = (et, src, dst) if src < dst else (et, dst, src)
        f = self.l2flows.get(key)
        if f is None:
            if len(self.l2flows) >= MAX_L2FLOWS:
                self._cap("l2flows")
                return
            self.l2flows[key] = L2Flow(src, ts, wl)
        else:
            f.pkts += 1
            f.bytes += wl
            if ts > f.last:
                f.last = ts
            elif ts < f.first:
                f.first = ts

    def _llc(self, ts: float, b: bytes, off: int, end: int, st: List[str], src: bytes, h: Optional[HostRec],
             wl: int) -> None:
        # IEEE 802.2: DSAP, SSAP, control (1 byte, U-format); SNAP (DSAP = SSAP = 0xAA) adds OUI + protocol id.
        if len(b) < off + 3:
            raise Truncated
        st.append("llc")
        self._l2flow(ts, LLC_FLOW, src, b[0:6], wl)
        dsap, ssap = b[off], b[off + 1]
        if dsap != ssap:
            return
        if dsap == 0xAA:
            if len(b) < off + 8:
                return
            dis = self.table.snap.get((b[off + 3:off + 6], u16(b, off + 6)[0]))
            off += 8
        else:
            dis = self.table.llc_saps.get(dsap)
            off += 3
        if dis is not None:
            self._link(dis, ts, b, off, end, st, h)

    # ------------------------------------------------------------------ IP

    def _ip4(self, ts: float, b: bytes, off: int, wl: int, st: List[str], h: Optional[HostRec], inner: bool) -> None:
        if len(b) < off + 20:
            raise Truncated
        st.append("ip")
        vihl = b[off]
        ihl = (vihl & 15) * 4
        if vihl >> 4 != 4 or ihl < 20:
            raise Truncated
        tot = u16(b, off + 2)[0]
        end = off + tot if tot >= ihl else len(b)
        if end > len(b):
            end = len(b)  # snapped frame: parse what is there
        proto = b[off + 9]
        src = b[off + 12:off + 16]
        dst = b[off + 16:off + 20]
        if h is not None and not inner and src not in h.ips and len(h.ips) < MAX_IPS_PER_HOST:
            h.ips[src] = None
        frag = u16(b, off + 6)[0]
        if frag & 0x1FFF:  # not the first fragment: no transport header here
            st.append("data")
            return
        self._l4(ts, b, off + ihl, end, proto, src, dst, wl, st, h, inner)

    def _ip6(self, ts: float, b: bytes, off: int, wl: int, st: List[str], h: Optional[HostRec]) -> None:
        if len(b) < off + 40:
            raise Truncated
        st.append("ipv6")
        plen = u16(b, off + 4)[0]
        nh = b[off + 6]
        src = b[off + 8:off + 24]
        dst = b[off + 24:off + 40]
        if h is not None and src not in h.ips and len(h.ips) < MAX_IPS_PER_HOST:
            h.ips[src] = None
        p = off + 40
        end = min(len(b), p + plen) if plen else len(b)
        while nh in (0, 43, 44, 60):  # hop-by-hop, routing, fragment, destination options (RFC 8200)
            if p + 8 > end:
                raise Truncated
            if nh == 0:
                st.append("ipv6.hopopts")
            elif nh == 44:
                st.append("ipv6.fragment")
                if u16(b, p + 2)[0] & 0xFFF8:
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
                raise Truncated
            st.append("tcp")
            sport = (b[p] << 8) | b[p + 1]
            dport = (b[p + 2] << 8) | b[p + 3]
            doff = (b[p + 12] >> 4) * 4
            if doff < 20:
                raise Truncated
            s = src + b[p:p + 2]
            d = dst + b[p + 2:p + 4]
            if inner:
                return
            fl = self._flow(ts, 6, s, d, wl)
            pl = b[p + doff:end] if p + doff < end else b""
            flags = b[p + 13]
            if flags & 0x12 == 0x12 and len(self.tcp) < self.max_flows:  # SYN+ACK: the sender serves this port
                self.serve("tcp", src, sport, "tcp")
            if pl or flags & 0x05:
                self._tcp(ts, s + d, s, d, sport, dport, u32(b, p + 4)[0], flags, pl, st, src, dst, fl)
        elif proto == 17:
            if end < p + 8:
                st.append("udp")
                raise Truncated
            st.append("udp")
            sport = (b[p] << 8) | b[p + 1]
            dport = (b[p + 2] << 8) | b[p + 3]
            ulen = (b[p + 4] << 8) | b[p + 5]
            fl = None if inner else self._flow(ts, 17, src + b[p:p + 2], dst + b[p + 2:p + 4], wl)
            e = p + ulen if 8 <= ulen and p + ulen <= end else end
            n0 = len(st)
            self._udp(ts, b[p + 8:e], sport, dport, src, dst, st, inner)
            if fl is not None and not fl.app and len(st) > n0 and st[n0] != "data":
                fl.app = st[n0]
        elif proto == 1:
            st.append("icmp")
            if end >= p + 8 and b[p] in (3, 4, 5, 11, 12) and not inner:  # errors quote the offending header
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

    def _flow(self, ts: float, proto: int, s: bytes, d: bytes, wl: int) -> Optional[Flow]:
        if s < d:
            key = (proto, s, d)
        else:
            key = (proto, d, s)
        f = self.flows.get(key)
        if f is None:
            if len(self.flows) >= self.max_flows:
                self._cap("flows")
                return None
            f = self.flows[key] = Flow(s, ts, wl)
        else:
            if f.initiator == s:
                f.pkts_fwd += 1
                f.bytes_fwd += wl
            else:
                f.pkts_back += 1
                f.bytes_back += wl
            if ts > f.last:
                f.last = ts
            elif ts < f.first:
                f.first = ts
        return f

    # ------------------------------------------------------------------ UDP

    def _udp(self, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes, st: List[str],
             inner: bool) -> None:
        if not pl:
            return
        lo, hi = (sport, dport) if sport <= dport else (dport, sport)
        dis = self._udp_ports.get(lo) or self._udp_ports.get(hi)
        if dis is None:
            for looks_like, cand in self.table.udp_heuristics:
                if looks_like(pl):
                    dis = cand
                    break
            else:
                st.append("data")
                return
        fn = dis.datagram
        if fn is None:
            st.append(dis.name)
            return
        try:
            fn(self, ts, pl, sport, dport, src, dst, st, inner)
        except MALFORMED:
            raise
        except Exception as exc:
            self.failed(dis.name, exc)

    # ------------------------------------------------------------------ TCP

    def _tcp(self, ts: float, key: bytes, s: bytes, d: bytes, sport: int, dport: int, seq: int, flags: int,
             pl: bytes, st: List[str], src: bytes, dst: bytes, fl: Optional[Flow]) -> None:
        tcp = self.tcp
        dr = tcp.get(key)
        if dr is None:
            if not pl:
                return
            if len(tcp) >= self.max_streams:
                self._forget(next(iter(tcp)), "tcp-streams")
            other = tcp.get(d + s)
            dr = tcp[key] = TcpStream(self._guess_tcp(pl, sport, dport, other), other.conn if other else None)
            dr.next_seq = seq
            if fl is not None and dr.dissector is not None and not fl.app:
                fl.app = dr.dissector.name
        else:
            tcp.move_to_end(key)
        dis = dr.dissector
        if flags & 0x05 and not pl:  # FIN/RST: the stream may be reused by a new connection
            if flags & 0x04 or dis is None or dis.fin_ends_stream:
                self._forget(key, "")
            return
        if dis is None:
            st.append("data")
            return
        n = len(pl)
        held = len(dr.buf)
        # Sequence accounting: old data is a retransmission, a hole resets the PDU framing.
        if dr.next_seq >= 0 and seq != dr.next_seq:
            delta = (seq - dr.next_seq) & 0xFFFFFFFF
            if delta >= 0x80000000:  # before what we have seen
                back = 0x100000000 - delta
                if back >= n:
                    # Wireshark 4.0 does not hand retransmitted data to the application dissector
                    # (its keep-alive and spurious-retransmission rules need every pure ACK tracked;
                    # we do not, which costs a frame or two per capture, well inside 1 %).
                    return
                pl = pl[back:]
                n = len(pl)
                seq = dr.next_seq
            else:
                dr.need = 0
                dr.buf = b""
                if dr.mode is _BODY:  # lost inside a chunked body: look for the next message
                    dr.mode = _PDUS
        dr.next_seq = (seq + n) & 0xFFFFFFFF
        framer = dis.frame
        try:
            if framer is None:
                st.append(dis.name)
                if dis.stream is not None:
                    dis.stream(self, ts, pl, st, src, dst, sport, dport)
            else:
                self._frame_pdus(ts, dis, framer, dr, pl, st, src, dst, sport, dport)
        except MALFORMED:
            raise
        except Exception as exc:
            self.failed(dis.name, exc)
        finally:
            if held or dr.buf:
                self._account(key, dr, held)
        if dr.mode is _UPGRADING:  # e.g. HTTP 101 to WebSocket: both directions now carry frames
            dr.mode = _UPGRADED
            other = self.tcp.get(d + s)
            if other is not None:
                other.mode = _UPGRADED

    def _forget(self, key: bytes, table: str) -> None:
        """Drop the state of one TCP direction; with `table`, count it there if a PDU was in progress."""
        dr = self.tcp.pop(key)
        if dr.buf:
            self.buffered -= len(dr.buf)
            del self._holding[key]
        if table and (dr.buf or dr.need or dr.mode is not _PDUS):
            self._cap(table)

    def _account(self, key: bytes, dr: TcpStream, held: int) -> None:
        """Keep the bytes all directions hold under `max_buffered`, dropping the oldest holders' first."""
        n = len(dr.buf)
        self.buffered += n - held
        holding = self._holding
        if n:
            holding[key] = None
            holding.move_to_end(key)
        elif held:
            del holding[key]
        while self.buffered > self.max_buffered:
            k = holding.popitem(last=False)[0]
            other = self.tcp[k]
            self.buffered -= len(other.buf)
            other.buf = b""
            other.need = 0  # its framing starts again at the next PDU boundary it can recognise
            self._cap("tcp-reassembly")

    def _guess_tcp(self, pl: bytes, sport: int, dport: int, other: Optional[TcpStream]) -> Optional[Dissector]:
        """Dissector of a TCP direction from its first payload (content decides; ports hint)."""
        if other is not None and other.dissector is not None:
            return other.dissector
        for port in (dport, sport) if dport < sport else (sport, dport):
            cand = self._tcp_ports.get(port)
            if cand is not None and (cand.owns_ports or self._check(cand, pl)):
                return cand
        # No port hint matched: try the self-identifying protocols anywhere.
        for cand in self.table.tcp_heuristics:
            if self._check(cand, pl):
                return cand
        return None

    def _check(self, dis: Dissector, pl: bytes) -> bool:
        if dis.check is None:
            return True
        try:
            return dis.check(pl)
        except MALFORMED:
            raise
        except Exception as exc:
            self.failed(dis.name, exc)
            return False

    def _frame_pdus(self, ts: float, dis: Dissector, framer: Framer, dr: TcpStream, pl: bytes, st: List[str],
                    src: bytes, dst: bytes, sport: int, dport: int) -> None:
        n = len(pl)
        pos = 0
        # Display-filter names of the segment: the framer's tuple as it is while there is one kind of PDU
        # (the common case: no set to build), a set of them once several kinds are seen.
        names: Collection[str] = ()
        if dr.need:
            if n < dr.need:
                dr.need -= n
                return
            pos = dr.need
            dr.need = 0
            names = dr.pending
            if dr.buf:
                self._pdu(ts, dis, dr.buf + pl[:pos], src, dst, sport, dport)
                dr.buf = b""
        elif dr.buf:
            pl = dr.buf + pl
            n = len(pl)
            dr.buf = b""
        # Every turn either leaves the loop or moves `pos` forward (a PDU length is > 0), so no
        # input can keep it turning; a framer that rejects the data resets the direction's framing.
        fn = dis.pdu
        while pos < n:
            body = dr.mode is _BODY  # a piece of a message body: skipped, not decoded
            try:
                r = framer(pl, pos, dr)
            except MALFORMED:
                self.malformed_pdu(dis.name)
                names = {*names, dis.name}
                dr.need = 0
                dr.mode = _PDUS
                break
            if r is None:  # header incomplete: keep it for the next segment
                if n - pos <= MAX_STREAM_BUFFER:
                    dr.buf = pl[pos:]
                else:
                    self._cap("tcp-reassembly")
                names = {*names, *dis.partial_names}
                break
            ln, pnames = r
            if ln <= 0:  # not a valid PDU start
                if dis.partial_names:  # e.g. TPKT labels what it cannot parse "Continuation"
                    names = {*names, *dis.partial_names}
                elif not names:
                    names = ("data",)
                dr.need = 0
                break
            if pos + ln <= n:
                if names is not pnames:
                    names = pnames if not names else {*names, *pnames}
                if fn is not None and not body:  # `_pdu`, inline: most segments carry one PDU or more
                    try:
                        fn(self, ts, pl[pos:pos + ln], src, dst, sport, dport)
                    except MALFORMED:
                        self.malformed_pdu(dis.name)
                    except Exception as exc:
                        self.failed(dis.name, exc)
                pos += ln
            else:
                dr.need = pos + ln - n
                dr.pending = pnames
                if dis.shows_partial:  # e.g. the TLS dissector shows itself before asking for more data
                    names = {*names, *pnames}
                # keep the start of a large PDU when its content matters (identity, writes)
                dr.buf = pl[pos:] if dis.keep_pdu_start and not body and n - pos < 4096 else b""
                break
        if names:
            st.extend(names)

    def _pdu(self, ts: float, dis: Dissector, pdu: bytes, src: bytes, dst: bytes, sport: int, dport: int) -> None:
        """Deep look at one complete PDU (identity, names, write operations)."""
        fn = dis.pdu
        if fn is None:
            return
        try:
            fn(self, ts, pdu, src, dst, sport, dport)
        except MALFORMED:  # the frames were fine, this PDU is cut or garbled: counted, not fatal
            self.malformed_pdu(dis.name)
        except Exception as exc:
            self.failed(dis.name, exc)
