"""capture: a protocol is one module and one registration; a broken dissector becomes a gap.

The first test runs the example printed in `collectors/capture/protocols/__init__.py`
(the README's "a new protocol fits in one file") exactly as written, so the
example cannot drift from the code. Captures are built here with scapy, with
documentation addresses only (RFC 5737: 192.0.2.0/24, 198.51.100.0/24) and
locally administered MACs.
"""
from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Dict, List

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

from cbom.collector import ScanContext
from cbom.model import Category, Component, Finding, Gap, HostFact, Status
from cbom.runner import run_one
from collectors.capture import CaptureCollector, protocols
from collectors.capture._engine import Analyzer
from collectors.capture.protocols import Dissector

CLIENT, SERVER = "192.0.2.10", "198.51.100.20"
CLIENT_MAC, SERVER_MAC = "02:00:00:00:00:0a", "02:00:00:00:00:14"


@pytest.fixture(autouse=True)
def _own_registry(monkeypatch):
    """Each test registers into a copy of the registry: the built-in list is left as it was."""
    monkeypatch.setattr(protocols, "DISSECTORS", list(protocols.DISSECTORS))


def _udp(payload: bytes, dport: int, sport: int = 50000):
    return (Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IP(src=CLIENT, dst=SERVER)
            / UDP(sport=sport, dport=dport) / Raw(payload))


def _pcap(tmp_path: Path, packets) -> str:
    path = tmp_path / "t.pcap"
    for i, p in enumerate(packets):
        p.time = 1_700_000_000 + i
    wrpcap(str(path), packets)
    return str(path)


def _scan(path: str):
    return run_one(CaptureCollector, ScanContext(options={"pcap": [path]}))


def _facts(items) -> Dict[str, str]:
    return {i.name: i.value for i in items if isinstance(i, HostFact)}


def _protocols(items) -> Dict[str, Component]:
    return {c.name: c for c in items if isinstance(c, Component) and c.category == Category.OBSERVED_PROTOCOL}


def _gaps(items) -> List[str]:
    return [i.reason for i in items if isinstance(i, Gap)]


def _docstring_example() -> str:
    doc = protocols.__doc__ or ""  # protocols/__init__.py is never compiled (setup.py): its docstring stays
    block = re.search(r"\n\n((?:    .*\n|\n)+)", doc[doc.index("UDP port 40000:"):]).group(1)
    return textwrap.dedent(block)


def test_the_documented_example_is_a_working_protocol(tmp_path):
    code = _docstring_example()
    assert 8 <= len(code.strip().splitlines()) <= 20  # short enough for the README
    namespace: dict = {}
    exec(compile(code, "protocols/__init__.py example", "exec"), namespace)  # our own docstring
    assert namespace["PING"] in protocols.DISSECTORS

    path = _pcap(tmp_path, [_udp(b"V2.1", 40000), _udp(b"R", 40000), _udp(b"R", 40000), _udp(b"", 40000)])
    run, items = _scan(path)
    assert run.status == Status.OK, run.reason
    ping = _protocols(items)["ping"]
    assert ping.description == "Ping (example)"
    assert ping.prop("cbom:net:packets") == "3"  # the empty datagram has no payload to recognise
    (conversation,) = ping.conversations
    assert (conversation.transport, conversation.src, conversation.dst, conversation.packets) == (
        "udp", "192.0.2.10:50000", "198.51.100.20:40000", 4)
    client = next(c for c in items if isinstance(c, Component) and c.prop("cdx:device:macAddress") == CLIENT_MAC)
    assert client.prop("cbom:net:identity:ping-version") == "2.1"
    (finding,) = [f for f in items if isinstance(f, Finding)]
    assert (finding.id, finding.title) == ("CBOM-NET-ICS-WRITE", "Ping reset seen")
    assert finding.evidence[2] == "packets 2"
    assert finding.refs == (client.ref,)
    assert _facts(items)["cbom:capture:undecodable"] == "0"


def _raises(exc: Exception):
    def decode(an, ts, pl, sport, dport, src, dst, st, inner):
        st.append("flaky")
        raise exc
    return decode


def test_a_dissector_bug_is_a_gap_naming_the_protocol(tmp_path):
    protocols.register(Dissector(name="flaky", title="Flaky", udp_ports=(40001,),
                                 datagram=_raises(TypeError("unsupported operand"))))
    path = _pcap(tmp_path, [_udp(b"x", 40001), _udp(b"y", 40001), _udp(b"\0" * 12, 53)])
    run, items = _scan(path)
    assert run.status == Status.PARTIAL
    assert _gaps(items) == ["capture: flaky dissector failed on 2 packets: TypeError: unsupported operand"]
    assert run.reason == _gaps(items)[0]
    facts = _facts(items)
    assert facts["cbom:capture:undecodable"] == "0"  # a bug is not bad data
    assert facts["cbom:capture:packets"] == "3"
    protos = _protocols(items)
    assert protos["flaky"].prop("cbom:net:packets") == "2"  # what it named before failing is kept
    assert protos["dns"].prop("cbom:net:packets") == "1"  # the other protocols go on


def test_malformed_data_is_counted_not_reported_as_a_bug(tmp_path):
    protocols.register(Dissector(name="flaky", title="Flaky", udp_ports=(40001,),
                                 datagram=_raises(IndexError("index out of range"))))
    run, items = _scan(_pcap(tmp_path, [_udp(b"x", 40001)]))
    assert run.status == Status.OK
    assert _facts(items)["cbom:capture:undecodable"] == "1"


def _tcp(payload: bytes, seq: int, flags: str = "PA"):
    return (Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IP(src=CLIENT, dst=SERVER)
            / TCP(sport=50001, dport=40002, seq=seq, flags=flags) / Raw(payload))


def test_tcp_pdu_decoder_bug_and_malformed_pdu(tmp_path):
    """A framed TCP protocol: a bug in its PDU decoder is a gap, a cut PDU a malformed count."""
    def frame(p, i, stream):
        if len(p) < i + 2:
            return None
        return 2 + p[i + 1], ("blob",)

    def decode(an, ts, pdu, src, dst, sport, dport):
        if pdu[0] == 0x01:
            an.ident_ip(src, "blob-kind", "one")
        elif pdu[0] == 0x02:
            return pdu[10]  # a 4-byte PDU: IndexError, the PDU is malformed
        else:
            return len(None)  # a bug

    protocols.register(Dissector(name="blob", title="Blob", tcp_ports=(40002,), check=lambda p: p[:1] == b"\x01",
                                 frame=frame, pdu=decode))
    pdus = [b"\x01\x00", b"\x02\x02ab", b"\x03\x00"]
    seq, packets = 1000, []
    for p in pdus:
        packets.append(_tcp(p, seq))
        seq += len(p)
    run, items = _scan(_pcap(tmp_path, packets))
    assert _gaps(items) == [
        "capture: blob dissector failed on 1 packet: TypeError: object of type 'NoneType' has no len()"]
    facts = _facts(items)
    assert facts["cbom:capture:malformed:blob"] == "1"
    assert facts["cbom:capture:undecodable"] == "0"
    assert _protocols(items)["blob"].prop("cbom:net:packets") == "3"


def test_registration_rejects_a_port_claimed_twice():
    protocols.register(Dissector(name="other-dns", title="Another DNS", udp_ports=(53,)))
    with pytest.raises(ValueError, match="UDP port 53 claimed by dns and other-dns"):
        Analyzer()


def test_every_builtin_dissector_is_consistent():
    table = Analyzer().table  # builds: unique names, ports, types, event kinds
    for d in protocols.DISSECTORS:
        assert d.title and re.fullmatch(r"[a-z0-9_]+", d.name), d.name
        assert bool(d.tcp_ports or d.tcp_heuristic) == (d.check is not None or d.stream is not None
                                                        or d.frame is not None), d.name
        assert d.frame is None or d.stream is None, d.name
        assert d.pdu is None or d.frame is not None, d.name
        for k in d.events:
            assert table.event_kinds[k.name] is k
            assert k.finding_id.startswith("CBOM-NET-") and k.title and k.explanation
