"""From the Analyzer's tables to model items: observed hosts, protocols, findings, statistics.

Mapping (documented in README "capture"):
- one `observed-host` device per source MAC, ref `make_ref("observed-host", mac)`; per
  source IP, ref `make_ref("observed-host", "ip", ip)`, when the link type carries no MAC,
  behind a zeroed MAC, and for the remote addresses a router's MAC relays (see `_hosts`):
  `cdx:device:macAddress`,
  `cbom:net:ip` (one per address), `cbom:net:vendor`, `cbom:net:hostname`,
  `cbom:net:identity:<source>`, `cbom:net:serves` ("tcp/502"), packets, bytes,
  first/last seen;
- one `observed-protocol` per Wireshark display-filter name, type `data`:
  packets, bytes, `cbom:net:endpoint` ("modbus://192.0.2.10:502") for the
  server side, and its conversations as typed `Conversation` records (on the
  application protocol of the flow, or on tcp/udp when unrecognised; the
  writer turns each into one `cbom:net:conversation` property);
- findings from the analyzer's events, addresses and ARP table;
- capture statistics as `cbom:capture:*` host facts, drops and caps also as gaps.
"""
from __future__ import annotations

import ipaddress
from datetime import datetime, timezone
from typing import Dict, Iterable, List, Optional, Set, Tuple

from cbom import vocabulary as V
from cbom.model import (
    Category,
    Component,
    Conversation,
    Finding,
    Gap,
    HostFact,
    Item,
    Kind,
    Severity,
    make_ref,
)

from . import _oui
from ._engine import LLC_FLOW, TITLES, Analyzer
from ._records import MAX_BUFFERED, MAX_IPS_PER_HOST, MAX_STREAM_BUFFER, MAX_TCP_STREAMS, HostRec
from ._wire import ip as _ip
from ._wire import mac as _mac
from .protocols import Subject

MAX_CONVERSATIONS = 2000  # per document: keeps the CycloneDX file small
MAX_ENDPOINTS = 64

def _ts(t: Optional[float]) -> str:
    """ISO 8601 UTC time of a packet timestamp; "" when there is none or it has no calendar date
    (the readers replace those, see `_pcap.MAX_TS`; this keeps one that slipped through harmless)."""
    if t is None:
        return ""
    try:
        return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
    except (OverflowError, ValueError, OSError):
        return ""


# Gap wording of the TCP reassembly bounds (the other tables refuse new entries when full).
_CAP_GAPS = {
    "tcp-streams": "%s: %d TCP directions forgotten in the middle of a PDU to stay within "
                   + str(MAX_TCP_STREAMS) + " tracked (least recently used first); those PDUs are not decoded",
    "tcp-reassembly": "%s: %d incomplete PDU headers dropped to bound reassembly memory ("
                      + str(MAX_STREAM_BUFFER >> 10) + " KiB per direction, " + str(MAX_BUFFERED >> 20)
                      + " MiB in all); those PDUs are not decoded",
}


def _is_unspecified(ip: bytes) -> bool:
    return ip in (b"\0\0\0\0", b"\0" * 16, b"\xff\xff\xff\xff")


def _ep(b: bytes) -> str:
    ip, port = b[:-2], (b[-2] << 8) | b[-1]
    return ("[%s]:%d" if len(ip) == 16 else "%s:%d") % (_ip(ip), port)


def host_ref(mac: str) -> str:
    return make_ref(Category.OBSERVED_HOST.value, mac)


def items_from(an: Analyzer, source: str) -> List[Item]:
    """Model items for everything `an` saw (pure: no I/O besides the bundled OUI database)."""
    items: List[Item] = []
    ip_owner: Dict[bytes, str] = {}  # ip -> ref of the host it belongs to
    mac_ref: Dict[bytes, str] = {}  # MAC -> ref of the host keyed by it (not for a shared MAC)
    items.extend(_hosts(an, ip_owner, mac_ref))

    # ---- protocols and conversations
    protos = an.protocols()
    titles = dict(TITLES, **an.table.titles)
    l2_names = dict(an.table.l2_names)
    l2_names[LLC_FLOW] = "llc"
    convs: Dict[str, List[Conversation]] = {}
    hosts_of: Dict[str, Set[bytes]] = {}
    n_conv = 0
    for (p, a, b), f in sorted(an.flows.items(), key=lambda kv: kv[1].first):
        l4 = "tcp" if p == 6 else "udp"
        app = f.app or l4
        if app not in protos:
            app = l4
        src, dst = (a, b) if f.initiator == a else (b, a)
        hosts_of.setdefault(app, set()).update((src[:-2], dst[:-2]))
        if n_conv < MAX_CONVERSATIONS:
            convs.setdefault(app, []).append(
                Conversation(l4, _ep(src), _ep(dst), f.pkts, f.bytes, _ts(f.first), _ts(f.last)))
            n_conv += 1
    for (et, m1, m2), lf in sorted(an.l2flows.items(), key=lambda kv: kv[1].first):
        name = l2_names.get(et)
        if name and name in protos and n_conv < MAX_CONVERSATIONS:
            src, dst = (m1, m2) if lf.initiator == m1 else (m2, m1)
            convs.setdefault(name, []).append(
                Conversation("", _mac(src), _mac(dst), lf.pkts, lf.bytes, _ts(lf.first), _ts(lf.last)))
            n_conv += 1
    for name, (pkts, byts) in protos.items():
        props = [(V.NET_PACKETS, str(pkts)), (V.NET_BYTES, str(byts))]
        if name in hosts_of:
            props.append((V.NET_HOSTS, str(len(hosts_of[name]))))
        eps = sorted(an.endpoints.get(name, {}), key=lambda e: (e[0], e[1]))[:MAX_ENDPOINTS]
        scheme = an.table.schemes.get(name, name)
        props += [(V.NET_ENDPOINT, "%s://%s:%d" % (scheme, _ip(ip) if len(ip) == 4 else "[%s]" % _ip(ip), port))
                  for ip, port, _l4 in eps]
        items.append(Component(category=Category.OBSERVED_PROTOCOL, kind=Kind.DATA, name=name,
                               ref=make_ref(Category.OBSERVED_PROTOCOL.value, name),
                               description=titles.get(name, ""), properties=tuple(props),
                               conversations=tuple(convs.get(name, ()))))

    items.extend(_findings(an, ip_owner, mac_ref))
    items.extend(_stats(an, source, n_conv))
    return items


ZERO_MAC = b"\0" * 6


def shared_mac(mac: bytes) -> bool:
    """A source MAC that does not name one station: all zeros (Linux loopback, container bridges,
    anonymised traces) or a group address (I/G bit set: never a valid source, seen in rewritten traces)."""
    return mac == ZERO_MAC or bool(mac[0] & 1)


def is_router(h: HostRec) -> bool:
    """A MAC sending from more IPv4 addresses than a station has: a router relaying remote ones
    (IPv6 is left out of the count: one station has several, link-local and temporary ones)."""
    return sum(1 for ip in h.ips if len(ip) == 4) > ROUTER_IPS


def _claimed(an: Analyzer, macb: bytes, h: HostRec, ip: bytes) -> bool:
    """`ip` is the station's own: announced in ARP by this MAC, or an IPv6 link-local address."""
    return ip in h.arp_ips or macb in an.arp.get(ip, {}) or (len(ip) == 16 and ip[0] == 0xFE and ip[1] & 0xC0 == 0x80)


def _ip_stats(an: Analyzer, wanted: Set[bytes]) -> Dict[bytes, List[float]]:
    """Packets and bytes each address of `wanted` sent, and the first and last time of the
    conversations it sent in, from the TCP/UDP conversations (what an address sends outside
    TCP/UDP, ICMP for one, is not in them)."""
    out: Dict[bytes, List[float]] = {}
    for (_p, a, b), f in an.flows.items():
        resp = b if f.initiator == a else a
        for ep, n, byts in ((f.initiator, f.pkts_fwd, f.bytes_fwd), (resp, f.pkts_back, f.bytes_back)):
            ip = ep[:-2]
            if n and ip in wanted:
                r = out.get(ip)
                if r is None:
                    out[ip] = [n, byts, f.first, f.last]
                else:
                    r[0] += n
                    r[1] += byts
                    r[2] = min(r[2], f.first)
                    r[3] = max(r[3], f.last)
    return out


def _facts(an: Analyzer, ips: Iterable[bytes], names: Dict[str, str], ident: Dict[str, str]) -> List[str]:
    """Add what traffic said of `ips` to `names`/`ident`; return the services they offer ("tcp/502")."""
    serves: Dict[str, None] = {}
    for ip in ips:
        for n, how in an.ip_names.get(ip, {}).items():
            names.setdefault(n, how)
        for k, v in an.ip_ident.get(ip, {}).items():
            ident.setdefault(k, v)
        for (l4, port) in an.ip_serves.get(ip, {}):
            serves["%s/%d" % (l4, port)] = None
    return sorted(serves, key=lambda x: (x.split("/")[0], int(x.split("/")[1])))


def _hosts(an: Analyzer, ip_owner: Dict[bytes, str], mac_ref: Dict[bytes, str]) -> Iterable[Component]:
    """Observed hosts, filling `ip_owner` (address -> host ref) and `mac_ref` (MAC -> host ref).

    A MAC is one host when it names one station. It is not when it is shared (all zeros: every
    address behind it is a station of its own) or when it is a router's: the router stays one
    host with its own addresses (those it announced in ARP), and each remote address it relays
    becomes a host keyed by IP, as `tshark -z endpoints,ip` lists them. Those IP-keyed hosts keep,
    as `cdx:device:macAddress`, the MAC their frames carried on this segment (what the wire says),
    and say in their description why they are not that MAC's station.
    """
    stations: List[Tuple[bytes, HostRec, List[bytes], List[bytes]]] = []
    by_ip: Dict[bytes, Tuple[bytes, str]] = {}  # address -> (MAC its frames carried, why keyed by IP)
    for macb, h in sorted(an.hosts.items()):
        ips = [ip for ip in dict.fromkeys(list(h.ips) + list(h.arp_ips)) if not _is_unspecified(ip)]
        if shared_mac(macb):
            own: List[bytes] = []
            why = "shared"
        elif is_router(h):
            own = [ip for ip in ips if _claimed(an, macb, h, ip)]
            why = "remote"
        else:
            own, why = ips, ""
        stations.append((macb, h, own, ips))
        for ip in ips:
            if why and ip not in own:
                by_ip.setdefault(ip, (macb, why))
    if not an.hosts:  # link types without MAC addresses (raw IP, loopback): one host per source IP
        for f in an.flows.values():
            by_ip.setdefault(f.initiator[:-2], (b"", ""))
    refs = {macb: host_ref(_mac(macb)) for macb, _h, _own, _ips in stations}
    for macb, _h, own, _ips in stations:
        for ip in own:
            ip_owner.setdefault(ip, refs[macb])
    for ip in by_ip:
        ip_owner.setdefault(ip, make_ref(Category.OBSERVED_HOST.value, "ip", _ip(ip)))

    for macb, h, own, ips in stations:
        shared = shared_mac(macb)
        if shared and ips and not (h.names or h.ident):
            continue  # every address behind a shared MAC is a host of its own (below)
        mac = _mac(macb)
        ref = mac_ref[macb] = refs[macb]
        names: Dict[str, str] = dict(h.names)
        ident: Dict[str, str] = dict(h.ident)
        serves = _facts(an, [ip for ip in own if ip_owner.get(ip) == ref], names, ident)
        vendor = "" if shared else _oui.vendor(mac)  # a zeroed MAC's OUI (Xerox) names no one
        props: List[Tuple[str, str]] = [(V.MAC_ADDRESS, mac)]
        props += [(V.NET_IP, _ip(ip)) for ip in own]
        if vendor:
            props.append((V.NET_VENDOR, vendor))
        props += [(V.NET_HOSTNAME, n) for n in names]
        props += [(V.NET_HOSTNAME_SOURCE, "%s %s" % (n, how)) for n, how in names.items()]
        props += [(V.net_identity_property(k), v) for k, v in sorted(ident.items()) if v]
        props += [(V.NET_SERVES, s) for s in serves]
        props += [(V.NET_PACKETS, str(h.pkts)), (V.NET_BYTES, str(h.bytes)),
                  (V.NET_FIRST_SEEN, _ts(h.first)), (V.NET_LAST_SEEN, _ts(h.last))]
        if len(h.ips) >= MAX_IPS_PER_HOST:
            props.append((V.NET_IP_LIST_TRUNCATED, "true"))
        label = next(iter(names), "") or (vendor.split()[0].rstrip(",.") + "_" + mac[9:] if vendor else mac)
        desc = ident.get("lldp-system-description") or ident.get("enip-product-name") or ident.get("cdp-platform") or ""
        n_remote = len(ips) - len(own)
        if n_remote and not desc and not shared:
            desc = "Router: relays %d remote addresses (each listed as a host of its own)" % n_remote
        yield Component(category=Category.OBSERVED_HOST, kind=Kind.DEVICE, name=label, ref=ref,
                        manufacturer="", description=desc, properties=tuple(props))

    stats = _ip_stats(an, set(by_ip))
    for ip, (macb, why) in sorted(by_ip.items()):
        ref = make_ref(Category.OBSERVED_HOST.value, "ip", _ip(ip))
        if ip_owner.get(ip) != ref:
            continue  # also a station's own address under a MAC of its own: that host has it
        names = {}
        ident = {}
        serves = _facts(an, [ip], names, ident)
        props = [(V.MAC_ADDRESS, _mac(macb))] if macb else []
        props.append((V.NET_IP, _ip(ip)))
        props += [(V.NET_HOSTNAME, n) for n in names]
        props += [(V.NET_HOSTNAME_SOURCE, "%s %s" % (n, how)) for n, how in names.items()]
        props += [(V.net_identity_property(k), v) for k, v in sorted(ident.items()) if v]
        props += [(V.NET_SERVES, s) for s in serves]
        st = stats.get(ip)
        if st is not None:
            props += [(V.NET_PACKETS, str(int(st[0]))), (V.NET_BYTES, str(int(st[1]))),
                      (V.NET_FIRST_SEEN, _ts(st[2])), (V.NET_LAST_SEEN, _ts(st[3]))]
        if why == "shared":
            desc = ("Keyed by IP address: its frames carry the MAC %s, which is not one station's "
                    "(zeroed or rewritten)" % _mac(macb))
        elif why == "remote":
            desc = "Remote address: its frames come through the router with MAC %s" % _mac(macb)
        else:
            desc = ""
        yield Component(category=Category.OBSERVED_HOST, kind=Kind.DEVICE, name=next(iter(names), "") or _ip(ip),
                        ref=ref, description=desc, properties=tuple(props))


def _refs_for(hexkey: str, ip_owner: Dict[bytes, str]) -> Tuple[str, ...]:
    """Host refs for the IPv4/IPv6 addresses hex-encoded at the start of an event key."""
    out = []
    raw = bytes.fromhex(hexkey[: (len(hexkey) // 2) * 2])
    step = 4 if len(raw) in (4, 8, 9) else 16 if len(raw) in (16, 32, 33) else 4
    for i in range(0, min(len(raw), 2 * step), step):
        r = ip_owner.get(raw[i:i + step])
        if r and r not in out:
            out.append(r)
    return tuple(out)


def _findings(an: Analyzer, ip_owner: Dict[bytes, str], mac_ref: Dict[bytes, str]) -> Iterable[Finding]:
    for (kind, key), event in sorted(an.events.items(), key=lambda kv: (kv[0][0].name, kv[1].first)):
        if kind.subject is Subject.MAC:
            r = mac_ref.get(bytes.fromhex(key))  # none for a shared MAC: no one station to point at
            refs: Tuple[str, ...] = (r,) if r else ()
        else:
            refs = _refs_for(key, ip_owner)
        yield Finding(id=kind.finding_id, title=kind.title, severity=kind.severity,
                      detail=("%s %s" % (kind.explanation, event.detail)).strip(),
                      evidence=(event.detail, "first packet %s" % _ts(event.first), "packets %d" % event.packets),
                      refs=refs)
    # ARP: one IP claimed by several MACs (spoofing, duplicate address, or a failover pair).
    for ip, macs in sorted(an.arp.items()):
        if len(macs) > 1:
            ms = sorted(macs.items(), key=lambda kv: kv[1])
            yield Finding(id="CBOM-NET-ARP-CONFLICT",
                          title="IP address %s claimed by %d MAC addresses" % (_ip(ip), len(ms)),
                          severity=Severity.HIGH,
                          detail="ARP replies/announcements for one address from several stations: address conflict, "
                                 "ARP spoofing (man in the middle) or a redundancy pair; check which is legitimate.",
                          evidence=tuple("%s first claimed %s" % (_mac(m), _ts(t)) for m, t in ms),
                          refs=tuple(dict.fromkeys(r for m, _ in ms for r in [mac_ref.get(m, ip_owner.get(ip))] if r)))
    # Traffic with non-private addresses on a supposedly isolated network.
    public: Dict[bytes, List[int]] = {}
    for (_p, a, b), f in an.flows.items():
        for ep in (a, b):
            ip = ep[:-2]
            if ip not in public and _is_public(ip):
                public[ip] = [0, 0]
            if ip in public:
                public[ip][0] += f.pkts
                public[ip][1] = public[ip][1] or int(f.first)
    # A plant LAN numbered in a public range is not internet traffic. An address is on this segment
    # when it is in ARP, or when it sends with a MAC of its own and another station of its /16 does
    # too: a router relays remote addresses with one MAC, and a single remote server behind it (one
    # address, one MAC) cannot be told from a station, so that stays "internet".
    on_link = _on_link(an, public)
    local = {ip: v for ip, v in public.items() if ip in on_link}
    remote = {ip: v for ip, v in public.items() if ip not in on_link}
    if remote:
        ev = _public_evidence(remote)
        yield Finding(id="CBOM-NET-INTERNET-TRAFFIC",
                      title="Traffic with %d non-private (internet) addresses" % len(remote),
                      severity=Severity.MEDIUM,
                      detail="An air-gapped plant network should only carry private, link-local and multicast "
                             "addresses; these flows reach globally routable addresses behind a router.",
                      evidence=ev, refs=tuple(sorted({r for ip in remote for r in [ip_owner.get(ip)] if r}))[:20])
    if local:
        yield Finding(id="CBOM-NET-PUBLIC-RANGE-LAN",
                      title="%d stations of this segment use globally routable addresses" % len(local),
                      severity=Severity.LOW,
                      detail="These addresses belong to stations on the captured segment (they answer ARP or send "
                             "with a MAC of their own), not to the internet: the plant LAN is numbered in a public "
                             "range, which is routed to someone else's network if the plant is ever connected.",
                      evidence=_public_evidence(local),
                      refs=tuple(sorted({r for ip in local for r in [ip_owner.get(ip)] if r}))[:20])


# A MAC sending from more IP addresses than this is a router relaying remote ones.
ROUTER_IPS = 3


def _on_link(an: Analyzer, public: Dict[bytes, List[int]]) -> Set[bytes]:
    """The addresses of `public` that belong to stations of the captured segment (see _findings)."""
    out: Set[bytes] = {ip for ip in public if ip in an.arp}
    own: Dict[bytes, Set[bytes]] = {}  # /16 prefix -> MACs sending from a public address of it as their own
    owner: Dict[bytes, bytes] = {}
    for mac, h in an.hosts.items():
        out.update(ip for ip in h.arp_ips if ip in public)
        shared = shared_mac(mac)  # behind a zeroed MAC each address is a station of its own
        if shared or len(h.ips) <= ROUTER_IPS:
            for ip in h.ips:
                if ip in public:
                    station = mac + ip if shared else mac
                    own.setdefault(ip[:2], set()).add(station)
                    owner[ip] = station
    out.update(ip for ip, mac in owner.items() if len(own[ip[:2]] - {mac}) >= 1)
    return out


def _public_evidence(public: Dict[bytes, List[int]]) -> Tuple[str, ...]:
    top = sorted(public.items(), key=lambda kv: -kv[1][0])
    ev = tuple("%s packets %d" % (_ip(ip), n) for ip, (n, _t) in top[:20])
    if len(top) > 20:
        ev += ("… and %d more addresses" % (len(top) - 20),)
    return ev


def _is_public(ip: bytes) -> bool:
    try:
        a = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return a.is_global and not a.is_multicast


def _stats(an: Analyzer, source: str, n_conv: int) -> Iterable[Item]:
    yield HostFact(V.CAPTURE_SOURCE, source)
    if an.first_ts is not None and an.last_ts is not None:
        yield HostFact(V.CAPTURE_FIRST_PACKET, _ts(an.first_ts))
        yield HostFact(V.CAPTURE_DURATION, "%.3f" % (an.last_ts - an.first_ts))
    yield HostFact(V.CAPTURE_PACKETS, str(an.frames))
    yield HostFact(V.CAPTURE_BYTES, str(an.bytes))
    yield HostFact(V.CAPTURE_UNDECODABLE, str(an.undecodable))
    yield HostFact(V.CAPTURE_HOSTS, str(len(an.hosts)))
    yield HostFact(V.CAPTURE_CONVERSATIONS, str(len(an.flows)))
    ver = _oui.database_version()
    if ver:
        yield HostFact(V.CAPTURE_OUI_DATABASE, ver)
    for table, n in sorted(an.caps_hit.items()):
        yield HostFact(V.capture_cap_hit_property(table), str(n))
        yield Gap("capture: " + (_CAP_GAPS.get(table, "") or "%s table full (cap reached), %d packets not tracked in it")
                  % (table, n))
    if n_conv >= MAX_CONVERSATIONS and len(an.flows) + len(an.l2flows) > n_conv:
        yield Gap("capture: %d conversations, only the first %d written to the document"
                  % (len(an.flows) + len(an.l2flows), MAX_CONVERSATIONS))
    for lt, n in sorted(an.unsupported_linktype.items()):
        yield Gap("capture: %d frames of unsupported link type %d not analysed" % (n, lt))
    for proto, n in sorted(an.malformed.items()):
        # PDUs in well-formed frames that were cut or garbled: their identities/events may be missing
        yield HostFact(V.capture_malformed_property(proto), str(n))
    for proto, failure in sorted(an.dissector_errors.items()):
        yield Gap("capture: %s dissector failed on %d packet%s: %s"
                  % (proto, failure.packets, "" if failure.packets == 1 else "s", failure.error))
