"""DNS (RFC 1035) and its link-local variants mDNS (RFC 6762) and LLMNR (RFC 4795).

One wire format, three ports; Wireshark's packet-dns.c dissects all three.
Answers teach names: A/AAAA records name an address, PTR records
(in-addr.arpa) name the address they reverse.
"""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING, List, Optional, Tuple, Union

from ._dissector import Dissector

if TYPE_CHECKING:
    from .._engine import Analyzer


def _decode(an: Analyzer, ts: float, pl: bytes, src: bytes, st: List[str], inner: bool, name: str) -> None:
    if len(pl) < 12:
        st.append("data" if name == "dns" else name)
        return
    st.append(name)
    if inner:
        return
    qr = pl[2] & 0x80
    if qr and (pl[6] or pl[7] or name != "dns"):  # a response with answers (mDNS/LLMNR: any response)
        try:
            for rname, rtype, rdata in answers(pl):
                if isinstance(rdata, bytes):  # A (4 bytes) and AAAA (16 bytes) records name an address
                    if (rtype == 1 and len(rdata) == 4) or (rtype == 28 and len(rdata) == 16):
                        an.name_ip(rdata, rname, name)
                elif rtype == 12:
                    ip = ptr_ip(rname)
                    if ip:
                        an.name_ip(ip, rdata, name)
        except (IndexError, struct.error, ValueError):  # the header counted; the records are cut or looping
            an.malformed_pdu(name)


def decode_dns(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
               st: List[str], inner: bool) -> None:
    _decode(an, ts, pl, src, st, inner, "dns")


def decode_mdns(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
                st: List[str], inner: bool) -> None:
    _decode(an, ts, pl, src, st, inner, "mdns")


def decode_llmnr(an: Analyzer, ts: float, pl: bytes, sport: int, dport: int, src: bytes, dst: bytes,
                 st: List[str], inner: bool) -> None:
    _decode(an, ts, pl, src, st, inner, "llmnr")


def name_at(p: bytes, i: int) -> Tuple[str, int]:
    """The (possibly compressed, RFC 1035 section 4.1.4) name at `i`, and the offset after it."""
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


def answers(p: bytes) -> List[Tuple[str, int, Union[bytes, str]]]:
    """(name, type, rdata) of the answer and additional records of a DNS message."""
    qd, an, ns, ar = struct.unpack_from(">HHHH", p, 4)
    i = 12
    for _ in range(qd):
        _, i = name_at(p, i)
        i += 4
    out: List[Tuple[str, int, Union[bytes, str]]] = []
    for n in range(min(an + ns + ar, 256)):
        name, i = name_at(p, i)
        rtype, _cls, _ttl, rdlen = struct.unpack_from(">HHIH", p, i)
        i += 10
        rdata: Union[bytes, str] = p[i:i + rdlen]
        if rtype in (12, 5):  # PTR, CNAME: a name
            rdata = name_at(p, i)[0]
        if an <= n < an + ns:  # authority records name servers, not hosts
            i += rdlen
            continue
        out.append((name, rtype, rdata))
        i += rdlen
    return out


def ptr_ip(name: str) -> Optional[bytes]:
    """The IPv4 address a reverse-lookup name (d.c.b.a.in-addr.arpa) stands for."""
    n = name.lower().rstrip(".")
    if n.endswith(".in-addr.arpa"):
        parts = n[:-13].split(".")
        if len(parts) == 4 and all(x.isdigit() and int(x) < 256 for x in parts):
            return bytes(int(x) for x in reversed(parts))
    return None


DNS = Dissector(name="dns", title="DNS", udp_ports=(53,), datagram=decode_dns)
MDNS = Dissector(name="mdns", title="Multicast DNS", udp_ports=(5353,), datagram=decode_mdns)
LLMNR = Dissector(name="llmnr", title="LLMNR", udp_ports=(5355,), datagram=decode_llmnr)
