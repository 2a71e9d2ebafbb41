"""From the Analyzer's tables to model items: observed hosts, protocols, findings, statistics.

Mapping (documented in README "capture"):
- one `observed-host` device per source MAC, ref `make_ref("observed-host", mac)`
  (per source IP when the link type carries no MAC): `cdx:device:macAddress`,
  `cbom:net:ip` (one per address), `cbom:net:vendor`, `cbom:net:hostname`,
  `cbom:net:identity:<source>`, `cbom:net:serves` ("tcp/502"), packets, bytes,
  first/last seen;
- one `observed-protocol` per Wireshark display-filter name, type `data`:
  packets, bytes, `cbom:net:endpoint` ("modbus://192.0.2.10:502") for the
  server side, and the conversations compactly, one property each:
  `cbom:net:conversation` = "tcp 192.0.2.1:1234 192.0.2.2:502 PKTS BYTES FIRST LAST"
  on the application protocol of the flow (or on tcp/udp when unrecognised),
  `cbom:net:l2-conversation` = "MAC MAC PKTS BYTES FIRST LAST" on non-IP protocols;
- findings from the analyzer's events, addresses and ARP table;
- capture statistics as `cbom:capture:*` host facts, drops and caps also as gaps.
"""
from __future__ import annotations

import ipaddress
from datetime import datetime, timezone
from typing import Dict, Iterable, List, Optional, Set, Tuple

from cbom.model import (
    Category,
    Component,
    Finding,
    Gap,
    HostFact,
    Item,
    Kind,
    Severity,
    make_ref,
)

from . import _oui
from ._analyzer import Analyzer, _ip, _mac

MAX_CONVERSATIONS = 2000  # per document: keeps the CycloneDX file small
MAX_ENDPOINTS = 64

TITLES = {
    "arp": "ARP", "lldp": "LLDP", "cdp": "Cisco Discovery Protocol", "stp": "Spanning Tree", "dhcp": "DHCP",
    "dhcpv6": "DHCPv6", "dns": "DNS", "mdns": "Multicast DNS", "llmnr": "LLMNR", "nbns": "NetBIOS Name Service",
    "nbdgm": "NetBIOS Datagram Service", "browser": "Microsoft Windows Browser Protocol", "ssdp": "SSDP",
    "http": "HTTP", "tls": "TLS", "ssh": "SSH", "smb": "SMB (version 1)", "smb2": "SMB2/3",
    "nbss": "NetBIOS Session Service", "mbtcp": "Modbus/TCP", "modbus": "Modbus", "tpkt": "TPKT (RFC 1006)",
    "cotp": "ISO 8073 COTP", "s7comm": "Siemens S7 Communication", "enip": "EtherNet/IP",
    "cip": "Common Industrial Protocol", "dnp3": "DNP 3.0", "bvlc": "BACnet Virtual Link Control",
    "bacnet": "BACnet NPDU", "bacapp": "BACnet APDU", "iec60870_104": "IEC 60870-5-104",
    "iec60870_asdu": "IEC 60870-5-101/104 ASDU", "opcua": "OPC UA Binary", "pn_dcp": "PROFINET DCP",
    "pn_rt": "PROFINET Real-Time", "goose": "IEC 61850 GOOSE", "sv": "IEC 61850 Sampled Values",
    "synphasor": "IEEE C37.118 Synchrophasor", "ntp": "NTP", "snmp": "SNMP", "ftp": "FTP", "telnet": "Telnet",
    "eth": "Ethernet", "vlan": "802.1Q VLAN", "ip": "IPv4", "ipv6": "IPv6", "icmp": "ICMP", "icmpv6": "ICMPv6",
    "igmp": "IGMP", "tcp": "TCP", "udp": "UDP", "llc": "802.2 LLC", "data": "Unrecognised payload",
    "ethertype": "Ethernet II type field", "dtp": "Cisco Dynamic Trunking Protocol", "netbios": "NetBIOS over LLC",
    "sll": "Linux cooked capture", "ecat": "EtherCAT",
}
# Flow application protocol (analyzer's internal name) -> display-filter name used for endpoints.
APP_NAME = {"mbtcp": "mbtcp", "tpkt": "s7comm", "enip": "enip", "dnp3": "dnp3", "iec104": "iec60870_104",
            "opcua": "opcua", "synphasor": "synphasor", "nbss": "smb", "tls": "tls", "ssh": "ssh", "http": "http",
            "ftp": "ftp", "telnet": "telnet"}
SCHEME = {"mbtcp": "modbus", "iec60870_104": "iec104"}
L2_NAMES = {0x0806: "arp", 0x88CC: "lldp", 0x8892: "pn_rt", 0x88B8: "goose", 0x88BA: "sv", 0: "llc", 0x88A4: "ecat"}

FINDINGS = {
    # kind: (id, severity, title, explanation)
    "telnet": ("CBOM-NET-CLEARTEXT-CREDENTIALS", Severity.HIGH, "Telnet: logins and commands in clear text",
               "Anyone on this network segment can read the password and every command typed."),
    "ftp_pass": ("CBOM-NET-CLEARTEXT-CREDENTIALS", Severity.HIGH, "FTP password sent in clear text",
                 "The FTP PASS command carries the password unencrypted."),
    "http_basic": ("CBOM-NET-CLEARTEXT-CREDENTIALS", Severity.HIGH, "HTTP Basic authentication in clear text",
                   "Basic authentication is base64, not encryption: the password is readable on the wire."),
    "snmp_community": ("CBOM-NET-CLEARTEXT-CREDENTIALS", Severity.MEDIUM, "SNMP v1/v2c community string in clear text",
                       "The community string is the SNMP password; v1/v2c send it unencrypted (use SNMPv3)."),
    "modbus_write": ("CBOM-NET-ICS-WRITE", Severity.MEDIUM, "Modbus write operations seen",
                     "A client changed coils or registers of a Modbus server; confirm it is an authorised master."),
    "s7_write": ("CBOM-NET-ICS-WRITE", Severity.HIGH, "S7comm write, download or PLC control seen",
                 "A station wrote PLC memory, downloaded blocks or stopped the PLC."),
    "dnp3_write": ("CBOM-NET-ICS-WRITE", Severity.MEDIUM, "DNP3 control operations seen",
                   "A master issued write/select/operate/restart functions to an outstation."),
    "cip_write": ("CBOM-NET-ICS-WRITE", Severity.MEDIUM, "CIP set-attribute or control services seen",
                  "A client changed attributes or the state of an EtherNet/IP device."),
    "iec104_command": ("CBOM-NET-ICS-WRITE", Severity.MEDIUM, "IEC 60870-5-104 commands seen",
                       "A controlling station sent commands (control direction ASDUs) to an outstation."),
    "pn_dcp_set": ("CBOM-NET-ICS-WRITE", Severity.MEDIUM, "PROFINET DCP Set (name/IP change) seen",
                   "A station changed a PROFINET device's name of station or IP settings."),
    "smb1": ("CBOM-NET-SMB1", Severity.MEDIUM, "SMB version 1 in use",
             "SMBv1 is deprecated and was the vector of WannaCry/NotPetya; disable it where possible."),
    "eol_os": ("CBOM-NET-EOL-OS", Severity.HIGH, "Host announces an end-of-life operating system",
               "The system no longer receives security updates."),
    "opcua_none": ("CBOM-NET-OPCUA-NO-SECURITY", Severity.MEDIUM, "OPC UA without message security",
                   "SecurityPolicy None: messages are neither signed nor encrypted."),
}


def _ts(t: Optional[float]) -> str:
    if t is None:
        return ""
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


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
    ip_owner: Dict[bytes, str] = {}  # ip -> host ref (first MAC that sent from it)
    hosts_out: List[Tuple[str, dict]] = []
    for macb, h in sorted(an.hosts.items()):
        mac = _mac(macb)
        ref = host_ref(mac)
        for ip in list(h.ips) + list(h.arp_ips):
            ip_owner.setdefault(ip, ref)
        hosts_out.append((mac, {"h": h, "ref": ref}))
    # Hosts of link types without MAC addresses (raw IP, loopback): one per source IP.
    ip_only: Set[bytes] = set()
    if not an.hosts:
        for (_p, a, b), f in an.flows.items():
            ip_only.add(f[0][:-2])

    for mac, d in hosts_out:
        h = d["h"]
        ips = [ip for ip in dict.fromkeys(list(h.ips) + list(h.arp_ips)) if not _is_unspecified(ip)]
        names: Dict[str, str] = dict(h.names)
        ident: Dict[str, str] = dict(h.ident)
        serves: Dict[str, None] = {}
        for ip in ips:
            if ip_owner.get(ip) != d["ref"]:
                continue
            for n, how in an.ip_names.get(ip, {}).items():
                names.setdefault(n, how)
            for k, v in an.ip_ident.get(ip, {}).items():
                ident.setdefault(k, v)
            for (l4, port) in an.ip_serves.get(ip, {}):
                serves["%s/%d" % (l4, port)] = None
        vendor = _oui.vendor(mac)
        props: List[Tuple[str, str]] = [("cdx:device:macAddress", mac)]
        props += [("cbom:net:ip", _ip(ip)) for ip in ips]
        if vendor:
            props.append(("cbom:net:vendor", vendor))
        props += [("cbom:net:hostname", n) for n in names]
        props += [("cbom:net:hostname-source", "%s %s" % (n, how)) for n, how in names.items()]
        props += [("cbom:net:identity:" + k, v) for k, v in sorted(ident.items()) if v]
        props += [("cbom:net:serves", s) for s in sorted(serves, key=lambda x: (x.split("/")[0], int(x.split("/")[1])))]
        props += [("cbom:net:packets", str(h.pkts)), ("cbom:net:bytes", str(h.bytes)),
                  ("cbom:net:first-seen", _ts(h.first)), ("cbom:net:last-seen", _ts(h.last))]
        if len(h.ips) >= 64:
            props.append(("cbom:net:ip-list-truncated", "true"))
        label = next(iter(names), "") or (vendor.split()[0].rstrip(",.") + "_" + mac[9:] if vendor else mac)
        desc = ident.get("lldp-system-description") or ident.get("enip-product-name") or ident.get("cdp-platform") or ""
        items.append(Component(category=Category.OBSERVED_HOST, kind=Kind.DEVICE, name=label, ref=d["ref"],
                               manufacturer="", description=desc, properties=tuple(props)))
    for ip in sorted(ip_only):
        props = [("cbom:net:ip", _ip(ip))]
        props += [("cbom:net:hostname", n) for n in an.ip_names.get(ip, {})]
        props += [("cbom:net:identity:" + k, v) for k, v in sorted(an.ip_ident.get(ip, {}).items())]
        ref = make_ref(Category.OBSERVED_HOST.value, "ip", _ip(ip))
        ip_owner.setdefault(ip, ref)
        items.append(Component(category=Category.OBSERVED_HOST, kind=Kind.DEVICE, name=_ip(ip), ref=ref,
                               properties=tuple(props)))

    # ---- protocols and conversations
    protos = an.protocols()
    convs: Dict[str, List[str]] = {}
    hosts_of: Dict[str, Set[bytes]] = {}
    n_conv = 0
    for (p, a, b), f in sorted(an.flows.items(), key=lambda kv: kv[1][5]):
        l4 = "tcp" if p == 6 else "udp"
        app = APP_NAME.get(f[7], f[7]) if f[7] else l4
        if app not in protos:
            app = l4
        src, dst = (a, b) if f[0] == a else (b, a)
        hosts_of.setdefault(app, set()).update((src[:-2], dst[:-2]))
        if n_conv < MAX_CONVERSATIONS:
            pa, pb, ba, bb = (f[1], f[2], f[3], f[4]) if f[0] == a else (f[2], f[1], f[4], f[3])
            convs.setdefault(app, []).append("%s %s %s %d %d %s %s" % (
                l4, _ep(src), _ep(dst), f[1] + f[2], f[3] + f[4], _ts(f[5]), _ts(f[6])))
            n_conv += 1
    for (et, m1, m2), f in sorted(an.l2flows.items(), key=lambda kv: kv[1][2]):
        name = L2_NAMES.get(et)
        if name and name in protos and n_conv < MAX_CONVERSATIONS:
            src, dst = (m1, m2) if f[4] == m1 else (m2, m1)
            convs.setdefault(name, []).append("%s %s %d %d %s %s" % (_mac(src), _mac(dst), f[0], f[1], _ts(f[2]), _ts(f[3])))
            n_conv += 1
    for name, (pkts, byts) in protos.items():
        props = [("cbom:net:packets", str(pkts)), ("cbom:net:bytes", str(byts))]
        if name in hosts_of:
            props.append(("cbom:net:hosts", str(len(hosts_of[name]))))
        eps = sorted(an.endpoints.get(name, {}), key=lambda e: (e[0], e[1]))[:MAX_ENDPOINTS]
        scheme = SCHEME.get(name, name)
        props += [("cbom:net:endpoint", "%s://%s:%d" % (scheme, _ip(ip) if len(ip) == 4 else "[%s]" % _ip(ip), port))
                  for ip, port, _l4 in eps]
        key = "cbom:net:l2-conversation" if name in L2_NAMES.values() else "cbom:net:conversation"
        props += [(key, c) for c in convs.get(name, [])]
        items.append(Component(category=Category.OBSERVED_PROTOCOL, kind=Kind.DATA, name=name,
                               ref=make_ref(Category.OBSERVED_PROTOCOL.value, name),
                               description=TITLES.get(name, ""), properties=tuple(props)))

    items.extend(_findings(an, ip_owner))
    items.extend(_stats(an, source, n_conv))
    return items


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


def _findings(an: Analyzer, ip_owner: Dict[bytes, str]) -> Iterable[Finding]:
    for (kind, key), (count, first, detail) in sorted(an.events.items(), key=lambda kv: (kv[0][0], kv[1][1])):
        fid, sev, title, why = FINDINGS.get(kind, ("CBOM-NET-" + kind.upper(), Severity.INFO, kind, ""))
        refs = _refs_for(key, ip_owner) if kind != "pn_dcp_set" else (host_ref(_mac(bytes.fromhex(key))),)
        yield Finding(id=fid, title=title, severity=sev, detail=("%s %s" % (why, detail)).strip(),
                      evidence=(detail, "first packet %s" % _ts(first), "packets %d" % count), refs=refs)
    # ARP: one IP claimed by several MACs (spoofing, duplicate address, or a failover pair).
    for ip, macs in sorted(an.arp.items()):
        if len(macs) > 1:
            ms = sorted(macs.items(), key=lambda kv: kv[1])
            yield Finding(id="CBOM-NET-ARP-CONFLICT", title="IP address %s claimed by %d MAC addresses" % (_ip(ip), len(ms)),
                          severity=Severity.HIGH,
                          detail="ARP replies/announcements for one address from several stations: address conflict, "
                                 "ARP spoofing (man in the middle) or a redundancy pair; check which is legitimate.",
                          evidence=tuple("%s first claimed %s" % (_mac(m), _ts(t)) for m, t in ms),
                          refs=tuple(host_ref(_mac(m)) for m, _ in ms))
    # Traffic with non-private addresses on a supposedly isolated network.
    public: Dict[bytes, List[int]] = {}
    for (p, a, b), f in an.flows.items():
        for ep in (a, b):
            ip = ep[:-2]
            if ip not in public and _is_public(ip):
                public[ip] = [0, 0]
            if ip in public:
                public[ip][0] += f[1] + f[2]
                public[ip][1] = public[ip][1] or int(f[5])
    if public:
        top = sorted(public.items(), key=lambda kv: -kv[1][0])
        ev = tuple("%s packets %d" % (_ip(ip), n) for ip, (n, _t) in top[:20])
        if len(top) > 20:
            ev += ("… and %d more addresses" % (len(top) - 20),)
        yield Finding(id="CBOM-NET-INTERNET-TRAFFIC", title="Traffic with %d non-private (internet) addresses" % len(top),
                      severity=Severity.MEDIUM,
                      detail="An air-gapped plant network should only carry private, link-local and multicast "
                             "addresses; these flows reach globally routable addresses.",
                      evidence=ev, refs=tuple(sorted({r for ip in public for r in [ip_owner.get(ip)] if r}))[:20])


def _is_public(ip: bytes) -> bool:
    try:
        a = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return a.is_global and not a.is_multicast


def _stats(an: Analyzer, source: str, n_conv: int) -> Iterable[Item]:
    yield HostFact("cbom:capture:source", source)
    if an.first_ts is not None and an.last_ts is not None:
        yield HostFact("cbom:capture:first-packet", _ts(an.first_ts))
        yield HostFact("cbom:capture:duration", "%.3f" % (an.last_ts - an.first_ts))
    yield HostFact("cbom:capture:packets", str(an.frames))
    yield HostFact("cbom:capture:bytes", str(an.bytes))
    yield HostFact("cbom:capture:undecodable", str(an.undecodable))
    yield HostFact("cbom:capture:hosts", str(len(an.hosts)))
    yield HostFact("cbom:capture:conversations", str(len(an.flows)))
    ver = _oui.database_version()
    if ver:
        yield HostFact("cbom:capture:oui-database", ver)
    for table, n in sorted(an.caps_hit.items()):
        yield HostFact("cbom:capture:cap-hit:" + table, str(n))
        yield Gap("capture: %s table full (cap reached), %d packets not tracked in it" % (table, n))
    if n_conv >= MAX_CONVERSATIONS and len(an.flows) + len(an.l2flows) > n_conv:
        yield Gap("capture: %d conversations, only the first %d written to the document"
                  % (len(an.flows) + len(an.l2flows), MAX_CONVERSATIONS))
    for lt, n in sorted(an.unsupported_linktype.items()):
        yield Gap("capture: %d frames of unsupported link type %d not analysed" % (n, lt))
