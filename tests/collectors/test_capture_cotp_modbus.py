"""Capture: what rides on ISO-on-TCP (MMS with its session/presentation/ACSE layers, S7comm,
S7comm-plus), Modbus/UMAS, MELSOFT and TLS picked up mid-stream (issue 14).

Real captures from tests/fixtures/capture/ (see SOURCES.md), each with its tshark 4.0.17 oracle
(`.truth.json`, shared/tools/pcap_truth.py). Expected identities and writes are the values tshark
shows (`tshark -T fields -e mms.vendorName -e mms.modelName -e mms.revision`,
`-Y mms.confirmedServiceRequest==5`, `-Y s7comm.param.func==0x29`) or the bytes of the capture
read by eye where tshark 4.0 has no dissector (S7comm-plus, MELSOFT).
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cbom.collector import ScanContext
from cbom.model import Category, Component, Finding, Status
from cbom.runner import run_one
from collectors.capture import CaptureCollector
from collectors.capture._engine import Analyzer
from collectors.capture._pcap import CaptureFile
from collectors.capture._records import MALFORMED, TcpStream
from collectors.capture.protocols import mms, modbus, s7comm, tls

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "capture"

_cache: dict = {}


def _items(name: str):
    if name not in _cache:
        run, items = run_one(CaptureCollector, ScanContext(options={"pcap": [str(FIX / name)]}))
        assert run.status == Status.OK, run.reason
        _cache[name] = items
    return _cache[name]


def _truth(name: str) -> dict:
    return json.loads((FIX / (name.rsplit(".", 1)[0] + ".truth.json")).read_text())["protocols"]


def _protocols(name: str) -> dict:
    return {c.name: int(c.prop("cbom:net:packets")) for c in _items(name)
            if isinstance(c, Component) and c.category == Category.OBSERVED_PROTOCOL}


def _identity(name: str, ip: str) -> dict:
    hosts = [c for c in _items(name) if isinstance(c, Component) and c.category == Category.OBSERVED_HOST
             and ip in c.props("cbom:net:ip")]
    assert len(hosts) == 1, ip
    return {k.rsplit(":", 1)[1]: v for k, v in hosts[0].properties if k.startswith("cbom:net:identity:")}


def _evidence(name: str, title_part: str) -> list:
    """The first evidence line (what was seen, who to whom) of each finding whose title has `title_part`."""
    return sorted(f.evidence[0] for f in _items(name) if isinstance(f, Finding) and title_part in f.title)


# capture -> the display-filter names compared with tshark's frame counts, exactly
COUNTED = {
    "iec61850_mms_goose_nbns_snmp_stp.pcap": ("cotp", "ses", "pres", "acse", "mms"),
    "mms_iec61850_identify_piccolo.pcap": ("tpkt", "cotp", "ses", "pres", "acse", "mms"),
    # the TPKT header of every unit travels in a segment of its own
    "mms_iccp_identify_write_split_tpkt.pcap": ("tpkt", "cotp", "ses", "pres", "acse", "mms"),
    # the server's Accept SPDU holds its presentation data after an empty User Data PGI
    "mms_iec61850_write_empty_user_data_pgi.pcap": ("tpkt", "cotp", "ses", "pres", "acse", "mms"),
    "s7comm_plus_s7_1511_hmi_fragments.pcap": ("tpkt", "cotp", "s7comm"),
    "s7comm_plus_s7_1200_hmi_tp1200.pcapng": ("tpkt", "cotp", "s7comm"),
    "s7comm_step7_s300_plc_stop.pcapng": ("tpkt", "cotp", "s7comm"),
    "s7comm_step7_s300_download.pcapng": ("tpkt", "cotp", "s7comm"),
    "s7comm_reading_plc_status.pcap": ("tpkt", "cotp", "s7comm"),
    # (its Modbus count is 2 over tshark's: two retransmitted segments the engine takes for new data)
    "plant_mixed_modbus_s7comm_enip_profinet_lldp.pcap": ("cotp", "s7comm"),
    "tls_sslv2_hello_lost_segment_resync.pcap": ("tls",),
    "tls12_handshake.pcap": ("tls",),
}


@pytest.mark.parametrize("name", sorted(COUNTED))
def test_counts_equal_tshark(name):
    truth, got = _truth(name), _protocols(name)
    assert {p: got.get(p, 0) for p in COUNTED[name]} == {p: truth.get(p, 0) for p in COUNTED[name]}


@pytest.mark.parametrize("name", ["s7comm_plus_s7_1511_hmi_fragments.pcap", "s7comm_plus_s7_1200_hmi_tp1200.pcapng",
                                  "s7comm_plus_s7_1200_hmi_ndpi.pcap", "melsoft_udp_gxworks3_fx5u.pcap",
                                  "melsoft_iqr_user_registration_plc_stop.pcapng"])
def test_protocols_without_a_wireshark_4_dissector_are_named(name):
    """tshark 4.0 shows S7comm-plus (a plugin protocol) and MELSOFT as "data": every one of those
    frames is named here, and nothing else is."""
    truth, got = _truth(name), _protocols(name)
    own = "melsoft" if name.startswith("melsoft") else "s7comm-plus"
    assert truth["data"] > 0 and got[own] == truth["data"]
    assert got.get("data", 0) == 0 and got.get("s7comm", 0) == 0


def test_mms_identify_responses_are_identity():
    assert _identity("mms_iec61850_identify_piccolo.pcap", "10.10.0.30") == {
        "mms-vendor": "INFO TECH", "mms-model": "S61850 for PC", "mms-revision": "0.0.1"}
    for ip in ("10.101.1.2", "10.101.1.3"):  # ICCP peers identify each other
        assert _identity("mms_iccp_identify_write_split_tpkt.pcap", ip) == {
            "mms-vendor": "AREVA T&D Corporation", "mms-model": "e-terracomm", "mms-revision": "2.3.1"}


def test_mms_writes_are_findings():
    # tshark: 4 Write requests, 2 per direction (ICCP transfer sets); the first of each pair is the evidence
    assert _evidence("mms_iccp_identify_write_split_tpkt.pcap", "MMS write") == [
        "MMS write of BELLEVUE/EMSICCP_TS0 from 10.101.1.2 to 10.101.1.3",
        "MMS write of KIRKLAND/CITEC_TS0 from 10.101.1.3 to 10.101.1.2"]
    found = [f for f in _items("mms_iccp_identify_write_split_tpkt.pcap") if isinstance(f, Finding)
             and f.title == mms.MMS_WRITE.title]
    assert len(found) == 2 and all(f.id == "CBOM-NET-ICS-WRITE" and f.severity == mms.MMS_WRITE.severity
                                   for f in found)
    assert _evidence("mms_iec61850_write_empty_user_data_pgi.pcap", "MMS write") == [
        "MMS write of mu from 127.0.0.1 to 127.0.0.1"]
    # reads, reports and identify requests are not writes
    assert _evidence("mms_iec61850_identify_piccolo.pcap", "MMS") == []
    assert _evidence("iec61850_mms_goose_nbns_snmp_stp.pcap", "MMS") == []


def test_s7comm_plus_session_names_the_plc():
    """The CreateObject response opening an S7comm-plus session carries the CPU's order number
    and firmware ("1;6ES7 511-1AK00-0AB0;V1.0", "1;6ES7 214-1HE30-0XB0 ;V2.2" in clear)."""
    assert _identity("s7comm_plus_s7_1511_hmi_fragments.pcap", "192.168.25.139") == {
        "s7-order-number": "6ES7 511-1AK00-0AB0", "s7-firmware-version": "V1.0"}
    assert _identity("s7comm_plus_s7_1200_hmi_tp1200.pcapng", "192.168.1.191") == {
        "s7-order-number": "6ES7 214-1HE30-0XB0", "s7-firmware-version": "V2.2"}
    assert _identity("s7comm_plus_s7_1200_hmi_ndpi.pcap", "192.168.25.131") == {
        "s7-order-number": "6ES7 211-1BE31-0XB0", "s7-firmware-version": "V3.0"}


def test_s7_plc_stop_and_download_are_graded_control_findings():
    # tshark: s7comm.param.func == 0x29 in the Job from 134.249.62.199 (and in its Ack_Data),
    # s7comm.param.pistart.servicename "P_PROGRAM"
    assert _evidence("s7comm_step7_s300_plc_stop.pcapng", "S7comm") == [
        "S7comm PLC Stop (P_PROGRAM) from 134.249.62.199 to 134.249.61.163"]
    # tshark: functions 0x1a (from the PG), 0x1b and 0x1c (jobs of the PLC pulling the block), then
    # 0x28 with servicename "_INSE" and parameter block 01 00 "0A00001P" (DB 1, passive file system)
    assert _evidence("s7comm_step7_s300_download.pcapng", "S7comm") == [
        "S7comm Download block from 134.249.61.182 to 134.249.53.130",
        "S7comm Download ended from 134.249.61.182 to 134.249.53.130",
        "S7comm PI-Service _INSE (activate blocks: DB 1) from 134.249.53.130 to 134.249.61.182",
        "S7comm Request download from 134.249.53.130 to 134.249.61.182"]
    found = [f for f in _items("s7comm_step7_s300_download.pcapng") if isinstance(f, Finding)
             and f.id == "CBOM-NET-ICS-WRITE"]
    assert {f.severity for f in found} == {s7comm.S7_CONTROL.severity}
    # variable writes are graded as the other protocols' writes
    writes = [f for f in _items("plant_mixed_modbus_s7comm_enip_profinet_lldp.pcap") if isinstance(f, Finding)
              and f.evidence[0].startswith("S7comm Write Var")]
    assert writes and all(f.severity == s7comm.S7_WRITE.severity == modbus.MODBUS_WRITE.severity for f in writes)


def _s7plus_set_state(version: int, state: int) -> bytes:
    """An S7comm-plus SetVariable request of the CPU's operating state, laid out field by field as
    thomas-v2/S7CommPlusDriver writes it (SetPlcOperatingState): no public capture of one may be
    copied here (those found carry no licence); cbom's rule was checked on four of them by hand."""
    body = (bytes([0x31]) + b"\0\0" + (0x04F2).to_bytes(2, "big") + b"\0\0" + (0x59).to_bytes(2, "big")
            + (0x392).to_bytes(4, "big") + b"\x34" + (52).to_bytes(4, "big") + b"\x01\x90\x77"
            + b"\x00\x08" + bytes([state]) + b"\0\0\x04\xe8\x89\x69\x00\x12\0\0\0\0")
    integrity = bytes([32]) + bytes(range(32)) if version == 3 else b""
    plus = b"\x72" + bytes([version]) + len(integrity + body).to_bytes(2, "big") + integrity + body
    plus += b"\x72" + bytes([version]) + b"\0\0"  # the trailer
    cotp = b"\x02\xf0\x80" + plus
    return b"\x03\x00" + (4 + len(cotp)).to_bytes(2, "big") + cotp


def test_s7comm_plus_operating_state_requests_are_high_findings():
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether

    an = Analyzer()
    seq = 1000
    for version, state in ((3, 1), (3, 3), (2, 1)):
        payload = _s7plus_set_state(version, state)
        frame = (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src="192.0.2.5", dst="192.0.2.10")
                 / TCP(sport=50001, dport=102, seq=seq, flags="PA") / payload)
        an.feed(1.0, bytes(frame))
        seq += len(payload)
    got = sorted(e.detail for (k, _), e in an.events.items() if k is s7comm.S7P_CONTROL)
    assert got == ["S7comm-plus SetVariable of the CPU operating state to RUN from 192.0.2.5 to 192.0.2.10",
                   "S7comm-plus SetVariable of the CPU operating state to STOP from 192.0.2.5 to 192.0.2.10"]
    assert s7comm.S7P_CONTROL.severity.value == "high"
    assert not an.malformed and not an.dissector_errors


def test_no_s7comm_plus_state_change_in_real_hmi_sessions():
    # real S7-1200/1500 sessions with an HMI: SetVariable requests on other objects only
    for name in ("s7comm_plus_s7_1511_hmi_fragments.pcap", "s7comm_plus_s7_1200_hmi_tp1200.pcapng",
                 "s7comm_plus_s7_1200_hmi_ndpi.pcap"):
        assert _protocols(name)["s7comm-plus"] > 0
        assert not [f for f in _items(name) if isinstance(f, Finding) and "S7comm-plus" in f.title], name


def test_melsoft_cpu_model():
    assert _identity("melsoft_udp_gxworks3_fx5u.pcap", "192.168.3.250") == {"melsoft-cpu-model": "FX5U-32MT/ES"}
    # an iQ-R Safety CPU on TCP 5007 (the capture's README: GX Works 3 and an R08SFCPU)
    assert _identity("melsoft_iqr_user_registration_plc_stop.pcapng", "172.17.0.134") == {
        "melsoft-cpu-model": "R08SFCPU"}


def _melsoft_requests(name: str, command: str) -> list:
    """(source, destination) of the MELSOFT requests (0x5701) with this command code (2 bytes at offset 45,
    after the 21-byte Ethernet and 24-byte command headers of Nozomi Networks' dissector), read by tshark."""
    out = subprocess.run(["tshark", "-n", "-r", str(FIX / name), "-Y", "tcp.payload[0:2] == 57:01 && "
                          "tcp.payload[45:2] == %s" % command, "-T", "fields", "-e", "ip.src", "-e", "ip.dst"],
                         capture_output=True, text=True, check=True).stdout
    return [tuple(line.split("\t")) for line in out.splitlines()]


def test_melsoft_stop_safety_mode_and_user_registration_are_findings():
    # the README of the capture's repository: "user registration, remote control stop, and safety run
    # mode change to test mode"; tshark (no MELSOFT dissector) finds the requests by their command code
    name = "melsoft_iqr_user_registration_plc_stop.pcapng"
    found = {f.evidence[0]: f for f in _items(name) if isinstance(f, Finding) and "MELSOFT" in f.evidence[0]}
    for command, what, severity in (("10:02", "Remote Control Stop (command 0x1002)", "high"),
                                    ("11:20", "Safety Run Mode Change (command 0x1120)", "high"),
                                    ("11:33", "User Information Registration (command 0x1133)", "medium")):
        requests = _melsoft_requests(name, command)
        assert requests, command
        line = "MELSOFT %s from %s to %s" % (what, *requests[0])
        assert line in found, sorted(found)
        assert found[line].severity.value == severity
        assert found[line].evidence[2] == "packets %d" % len(requests)
    assert len(found) == 3


def test_tls_sslv2_hello_and_resynchronisation():
    """An SSL 2.0-compatible ClientHello starts the stream; a lost server segment puts the next
    one inside a record ("Continuation Data" for tshark): both stay TLS, and framing resumes."""
    got = _protocols("tls_sslv2_hello_lost_segment_resync.pcap")
    assert got["tls"] == _truth("tls_sslv2_hello_lost_segment_resync.pcap")["tls"] and "data" not in got


def test_tls_framer_skips_to_the_next_plausible_record_header():
    # malformed input (hand-made): the tail of a record, then an alert record, then a cut header
    dr = TcpStream(tls.TLS)
    tail = bytes(range(0x30, 0x50))
    alert = b"\x15\x03\x03\x00\x02\x01\x00"
    p = tail + alert + b"\x17\x03"
    assert tls.frame(p, 0, dr) == (len(tail), ("tls",))
    assert tls.frame(p, len(tail), dr) == (len(alert), ("tls",))
    assert tls.frame(p, len(tail) + len(alert), dr) is None  # a header cut by the segment end
    # a "header" announcing more than 2^14 + 2048 bytes is not one
    assert tls.frame(b"\x17\x03\x03\x48\x01" + bytes(40), 0, dr) == (45, ("tls",))


def _units(name: str):
    """COTP data units (TPKT PDUs) of the client/server segments of a real capture."""
    out = []
    with open(FIX / name, "rb") as f:
        for _ts, _lt, frame, _wl in CaptureFile(f):
            p = frame[14 + (frame[14] & 0x0F) * 4:]
            p = p[(p[12] >> 4) * 4:]
            if len(p) > 7 and p[0] == 3:
                out.append(p)
    return out


def test_cut_and_garbled_units_never_raise_unexpected_errors():
    """Every prefix of every real MMS unit, and each with one byte flipped, decodes or is counted
    as malformed (IndexError/ValueError/struct.error), never anything else."""
    units = _units("mms_iec61850_identify_piccolo.pcap") + _units("mms_iec61850_write_empty_user_data_pgi.pcap")
    assert len(units) >= 10
    an = Analyzer()
    for u in units:
        variants = [u[:n] for n in range(8, len(u))]
        variants += [u[:k] + bytes([u[k] ^ 0xFF]) + u[k + 1:] for k in range(7, len(u))]
        for v in variants:
            s7comm.frame(v, 0, TcpStream(s7comm.S7COMM))
            try:  # anything but malformed-data errors propagates and fails the test
                s7comm.decode(an, 0.0, v, b"\x0a\0\0\1", b"\x0a\0\0\2", 49152, 102)
            except MALFORMED:
                pass


def test_umas_is_named_and_its_plc_identified():
    """A Unity session with a Modicon Quantum: every Modbus frame (tshark: modbus 180, function 90
    each) is UMAS; the READ_ID (0x02) reply names the CPU "140 CPU 311 10" (bytes 33-46 of frame 6,
    after its length byte 0x0e). The session reads the program (0x33-0x35, PLC to PC): not a write."""
    name = "umas_modicon_quantum_read_id_program_read.pcap"
    got = _protocols(name)
    assert got["umas"] == got["modbus"] == _truth(name)["modbus"]
    assert _identity(name, "192.168.63.253") == {"umas-plc-model": "140 CPU 311 10"}
    assert [f for f in _items(name) if isinstance(f, Finding) and f.id == "CBOM-NET-ICS-WRITE"] == []


def test_a_function_code_sweep_is_not_umas():
    """The Digital Bond capture probes every Modbus function code: its function 90 request (UMAS
    function 0x00) gets exception 1 (0xDA 01). That is Modbus, not UMAS (tshark: modbus 281)."""
    got = _protocols("modbus_tcp_test_data_part2.pcap")
    assert "umas" not in got and got["modbus"] == _truth("modbus_tcp_test_data_part2.pcap")["modbus"]


def test_pi_service_parameters_cut_short():
    # malformed input (hand-made) derived from the real _INSE job of the download capture
    real = bytes.fromhex("28000000000000fd000a01003041303030303150055f494e5345")
    assert s7comm.pi_service(real) == "_INSE (activate blocks: DB 1)"
    assert s7comm.pi_service(real[:-2]) == "_IN"  # name cut: shown as it is
    with pytest.raises(IndexError):
        s7comm.pi_service(real[:12])


def test_umas_cut_pdu_is_not_a_crash():
    # malformed input (hand-made): Modbus function 90 without its UMAS function byte
    an = Analyzer()
    pdu = b"\x00\x01\x00\x00\x00\x02\x00\x5a"
    assert modbus.frame(pdu, 0, TcpStream(modbus.MODBUS)) == (8, ("mbtcp", "modbus"))
    modbus.decode(an, 0.0, pdu, b"\x0a\0\0\1", b"\x0a\0\0\2", 49152, 502)
    assert an.events == {}
