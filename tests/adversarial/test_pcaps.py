"""Hostile captures and hostile traffic: the capture analysis always ends, stays bounded, keeps its results.

Reproductions of issue 18 (D1, D4, D5, D10, D11, D13, D15; ../shared/notes/reliability/README.md).
Every capture is built here with the standard library, in tmp_path, with addresses of
TEST-NET-1 (192.0.2.0/24) only. A run that could hang before the fix goes through a child
process with a short collector time limit, so a regression fails the test instead of leaving
a spinning thread in the test process.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pytest

from cbom import cyclonedx, validate
from cbom.collector import ScanContext
from cbom.model import Category, CollectorRun, Component, Gap, HostFact, Status
from cbom.runner import run_one, scan
from collectors.capture import CaptureCollector
from collectors.capture._engine import Analyzer
from collectors.capture._model import items_from
from collectors.capture._pcap import CaptureFile
from capture_frames import arp as _arp, eth as _eth, ip as _ip, mac as _mac, pcap as _pcap, tcp as _tcp, udp as _udp

ROOT = Path(__file__).resolve().parent.parent.parent
FIX = ROOT / "tests" / "fixtures" / "capture"

# ---------------------------------------------------------------- frames (tests/capture_frames.py)

def _block(btype: int, body: bytes, blen: Optional[int] = None) -> bytes:
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n if blen is None else blen) + body + struct.pack("<I", n)


def _shb() -> bytes:
    return _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def _idb(tsresol: Optional[int] = None) -> bytes:
    opts = b"" if tsresol is None else struct.pack("<HHB3x", 9, 1, tsresol) + b"\0\0\0\0"
    return _block(1, struct.pack("<HHI", 1, 0, 262144) + opts)


def _epb(ticks: int, frame: bytes, ifid: int = 0) -> bytes:
    return _block(6, struct.pack("<IIIII", ifid, ticks >> 32, ticks & 0xFFFFFFFF, len(frame), len(frame)) + frame)


# ---------------------------------------------------------------- running the collector


def _run(files: Sequence[Path], **opts: object) -> Tuple[CollectorRun, list]:
    return run_one(CaptureCollector, ScanContext(options={"pcap": [str(f) for f in files], **opts}))


def _gaps(items: list) -> List[str]:
    return [i.reason for i in items if isinstance(i, Gap)]


def _facts(items: list) -> Dict[str, str]:
    return {i.name: i.value for i in items if isinstance(i, HostFact)}


def _protocols(items: list) -> Dict[str, int]:
    return {c.name: int(c.prop("cbom:net:packets")) for c in items
            if isinstance(c, Component) and c.category == Category.OBSERVED_PROTOCOL}


def _hosts(items: list) -> List[Component]:
    return [c for c in items if isinstance(c, Component) and c.category == Category.OBSERVED_HOST]


# Runs the collector in a child process (so that a hang is bounded by the time limit and dies with
# the child) and prints what it reported, as JSON. argv: options as JSON, then a module to import first.
PROBE = r"""
import json, sys, time
if len(sys.argv) > 2:
    exec(open(sys.argv[2]).read())
from cbom.collector import ScanContext
from cbom.model import Category, Component, Gap, HostFact
from cbom.runner import run_one
from collectors.capture import CaptureCollector
t = time.monotonic()
run, items = run_one(CaptureCollector, ScanContext(options=json.loads(sys.argv[1])))
print(json.dumps({
    "status": run.status.value, "reason": run.reason, "seconds": time.monotonic() - t,
    "hosts": sorted(c.prop("cdx:device:macAddress") for c in items
                    if isinstance(c, Component) and c.category == Category.OBSERVED_HOST),
    "protocols": {c.name: int(c.prop("cbom:net:packets")) for c in items
                  if isinstance(c, Component) and c.category == Category.OBSERVED_PROTOCOL},
    "facts": {i.name: i.value for i in items if isinstance(i, HostFact)},
    "gaps": [i.reason for i in items if isinstance(i, Gap)]}))
"""


def _probe(opts: dict, prelude: Optional[Path] = None, timeout: float = 120) -> dict:
    argv = [sys.executable, "-c", PROBE, json.dumps(opts)] + ([str(prelude)] if prelude else [])
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=str(ROOT))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


# ---------------------------------------------------------------- D1: chunk sizes, looping analysis

HTTP_CHUNKED = b"HTTP/1.1 200 OK\r\nServer: hostile/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
# Each is what int(x, 16) accepts or survives but RFC 9112 section 7.1 (chunk-size = 1*HEXDIG) does not.
BAD_SIZES = [b"-6", b"+6", b" 6", b"0x6", b"6 ", b"-0", b"1" * 17, b"6\x00", b"\xd9\xa6"]


def test_chunk_sizes_outside_the_grammar_are_malformed_not_a_loop(tmp_path):
    frames = [_arp(3)]
    for k, size in enumerate(BAD_SIZES):
        frames.append(_tcp(HTTP_CHUNKED + size + b"\r\nAAAAAA\r\n0\r\n\r\n", 80, 40000 + k))
    frames.append(_arp(4))
    out = _probe({"pcap": [str(_pcap(tmp_path / "chunks.pcap", frames))], "timeout_capture": 10})
    assert out["status"] == "ok", out["reason"]
    assert out["seconds"] < 8
    assert out["facts"]["cbom:capture:malformed:http"] == str(len(BAD_SIZES))
    assert out["protocols"]["http"] == len(BAD_SIZES)
    assert len(out["hosts"]) == 3  # the ARP stations and the HTTP server: nothing lost


def test_chunked_messages_are_cut_where_they_end():
    """Legitimate chunked bodies (extensions, trailers, split lines, pipelining) keep Wireshark's count."""
    an = Analyzer()
    head = b"HTTP/1.1 200 OK\r\nServer: plc-web/2.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"5;name=value\r\nhello\r\n6 ; q=\"x\"\r\n world\r\n0\r\nExpires: never\r\n\r\n"
    second = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    stream = head + body + second
    cuts = [0, 30, len(head) + 3, len(head) + 14, len(head) + len(body) - 4, len(head) + len(body), len(stream)]
    seq = 1000
    for a, b in zip(cuts, cuts[1:]):
        an.feed(float(a), _tcp(stream[a:b], 80, 40000, seq))
        seq += b - a
    assert an.protocols()["http"] == (2, an.protocols()["http"][1])  # the frames where each message ends
    assert an.malformed == {} and an.dissector_errors == {}
    assert an.ip_ident[_ip(7)]["http-server"] == "plc-web/2.1"
    # a large chunked download is skipped, not held: nothing stays buffered
    an = Analyzer()
    seq = 1000
    an.feed(0.0, _tcp(head, 80, 40001, seq))
    seq += len(head)
    for k in range(200):
        piece = b"1000\r\n" + b"x" * 4096 + b"\r\n"
        an.feed(1.0 + k, _tcp(piece, 80, 40001, seq))
        seq += len(piece)
        assert an.buffered < 64
    an.feed(300.0, _tcp(b"0\r\n\r\n", 80, 40001, seq))
    assert an.protocols()["http"][0] == 1 and an.malformed == {}


LOOPING_DISSECTOR = (Path(__file__).resolve().parents[1] / "fixtures" / "capture" / "looping_plugin.py").read_text()


def test_a_looping_dissector_costs_one_packet_not_the_capture(tmp_path):
    prelude = tmp_path / "plugin.py"
    prelude.write_text(LOOPING_DISSECTOR)
    frames = [_arp(3), _arp(4), _udp(b"ok", 40009, 40009), _arp(5), _udp(b"L", 40009, 40009), _arp(8)]
    out = _probe({"pcap": [str(_pcap(tmp_path / "loop.pcap", frames))], "timeout_capture": 8}, prelude)
    assert out["status"] == "partial", out["reason"]
    assert len(out["hosts"]) == 4, out  # 3, 4, 5 and the UDP sender
    assert out["protocols"]["loop"] == 1
    assert any("did not finish by the time limit" in g and "4 packets before it are kept" in g for g in out["gaps"])
    assert out["seconds"] < 8


# ---------------------------------------------------------------- D10: bounded time and memory


def _never_ending_chunks(streams: int, segments: int, chunked: bool) -> List[bytes]:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" if chunked else b"X" * 46
    frames = []
    for s in range(streams):
        seq = 1000
        for k in range(segments):
            pl = (head if k == 0 else b"") + b"1\r\nA\r\n" * 233
            frames.append(_tcp(pl, 80, 20000 + s, seq))
            seq += len(pl)
    return frames


def _feed_time(frames: List[bytes]) -> float:
    an = Analyzer()
    t = time.perf_counter()
    for i, fr in enumerate(frames):
        an.feed(float(i), fr)
    return time.perf_counter() - t


def test_never_ending_chunked_bodies_cost_linear_time():
    hostile = _never_ending_chunks(40, 47, chunked=True)
    control = _never_ending_chunks(40, 47, chunked=False)  # same sizes, not HTTP: "data"
    t_control = _feed_time(control)
    t_hostile = _feed_time(hostile)
    # Before the fix each segment re-parsed the whole buffered body: ~450 times the control.
    assert t_hostile < max(25 * t_control, 2.0), (t_hostile, t_control)


HEADERS_PROBE = r"""
import struct, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[1] + "/tests")
from capture_frames import tcp as _tcp
from collectors.capture._engine import Analyzer
from collectors.capture._model import items_from
from cbom.model import Gap
an = Analyzer()
tail = b"GET /" + b"A" * 65000  # a request header that never ends, in one 65 kB segment
for i in range(4000):
    an.feed(float(i), _tcp(tail, 10000 + i % 50000, 80, s=1 + i % 200, d=250))
gaps = [i.reason for i in items_from(an, "t") if isinstance(i, Gap)]
# VmHWM, not getrusage: Linux carries ru_maxrss over exec, from the (large) pytest process
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(peak // 1024, an.buffered >> 20, len(gaps), gaps[:1])
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="peak memory read from /proc (Linux)")
def test_reassembly_memory_is_bounded():
    """4,000 streams holding an unfinished 65 kB HTTP header each (260 MB before the fix)."""
    proc = subprocess.run([sys.executable, "-c", HEADERS_PROBE, str(ROOT)], capture_output=True, text=True,
                          timeout=300, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr
    rss_mb, buffered_mb, ngaps, gaps = proc.stdout.split(" ", 3)
    assert int(buffered_mb) <= 32
    assert int(rss_mb) < 150, proc.stdout
    assert "incomplete PDU headers dropped to bound reassembly memory" in gaps


def test_tracked_tcp_directions_are_bounded_least_recently_used_first():
    an = Analyzer(max_streams=1000)
    for i in range(1500):
        an.feed(float(i), _tcp(b"GET /unfinished", 30000 + i, 80))  # each holds an incomplete header
        if i % 10 == 0:
            an.feed(float(i), _tcp(b"GET / HTTP/1.1\r\n", 29999, 8080, seq=1000 + i // 10 * 16))  # kept busy
    assert len(an.tcp) == 1000
    assert an.caps_hit["tcp-streams"] == 501  # the busy one survives, the 500 oldest idle ones do not
    assert (_ip(7) + struct.pack(">H", 29999) + _ip(6) + struct.pack(">H", 8080)) in an.tcp
    gaps = [i.reason for i in items_from(an, "t") if isinstance(i, Gap)]
    assert any("501 TCP directions forgotten in the middle of a PDU" in g for g in gaps)


# ---------------------------------------------------------------- D4: timestamps


def test_impossible_timestamps_are_counted_not_fatal(tmp_path):
    far = tmp_path / "far.pcapng"  # a good packet, then one 2^64-1 microseconds after 1970
    far.write_bytes(_shb() + _idb() + _epb(1_700_000_000 * 10**6, _arp(3)) + _epb(2**64 - 1, _arp(4))
                    + _epb(1_700_000_001 * 10**6, _arp(5)))
    coarse = tmp_path / "tsresol0.pcapng"  # if_tsresol 0 (seconds) over millisecond values: year 33658
    coarse.write_bytes(_shb() + _idb(tsresol=0) + _epb(10**12, _arp(8)))
    run, items = _run([far, coarse])
    assert run.status == Status.PARTIAL
    assert {h.prop("cdx:device:macAddress")[-2:] for h in _hosts(items)} == {"03", "04", "05", "08"}
    gaps = _gaps(items)
    assert any(g.startswith("capture: %s: 1 packet with an impossible timestamp (first at byte" % far)
               and "year 586524" in g for g in gaps), gaps
    assert any(str(coarse) in g and "year 33658" in g for g in gaps), gaps
    assert _facts(items)["cbom:capture:first-packet"].startswith("2023-11-14")
    s = scan([CaptureCollector], ScanContext(options={"pcap": [str(far), str(coarse)]}), host_name="auditor")
    assert validate.errors(cyclonedx.to_dict(s)) == []


# ---------------------------------------------------------------- D13: several files


def test_files_out_of_time_order_give_a_true_span(tmp_path):
    late = _pcap(tmp_path / "2012.pcap", [_arp(3), _arp(4)], t0=1_330_000_000)
    early = _pcap(tmp_path / "2006.pcap", [_arp(3), _arp(5)], t0=1_140_000_000)
    _, items = _run([late, early])
    facts = _facts(items)
    assert facts["cbom:capture:first-packet"].startswith("2006-02-15")
    assert float(facts["cbom:capture:duration"]) == 1_330_000_001 - 1_140_000_000
    h3 = next(h for h in _hosts(items) if h.prop("cdx:device:macAddress").endswith(":03"))
    assert h3.prop("cbom:net:first-seen").startswith("2006") and h3.prop("cbom:net:last-seen").startswith("2012")


def test_the_same_capture_twice_is_analysed_once(tmp_path):
    f = FIX / "modbus_tcp_test_data_part2.pcap"
    copy = tmp_path / "copy.pcap"
    shutil.copyfile(f, copy)
    _, once = _run([f])
    run, twice = _run([f, f, copy])
    assert _protocols(twice) == _protocols(once)
    assert _facts(twice)["cbom:capture:packets"] == _facts(once)["cbom:capture:packets"]
    assert _gaps(twice) == ["capture: %s is the same capture as %s: analysed once" % (f, f),
                            "capture: %s is the same capture as %s: analysed once" % (copy, f)]


def test_a_garbled_pcapng_block_is_skipped_and_counted(tmp_path):
    t = 1_700_000_000 * 10**6
    good = [_epb(t + k, _arp(10 + k)) for k in range(3)]
    f = tmp_path / "undeclared.pcapng"
    f.write_bytes(_shb() + _idb() + good[0] + _epb(t, _arp(20), ifid=5) + good[1] + good[2])
    run, items = _run([f])
    assert len(_hosts(items)) == 3  # the packets after the bad block are read
    offset = len(_shb() + _idb() + good[0])
    assert _gaps(items) == ["capture: %s: 1 garbled block skipped (first at byte %d: packet block for undeclared "
                            "interface 5)" % (f, offset)]
    # A block whose length is garbled cannot be skipped: the walk stops there, and says why.
    g = tmp_path / "idb_length.pcapng"
    g.write_bytes(_shb() + _block(1, struct.pack("<HHI", 1, 0, 262144), blen=0x7FF0) + good[0])
    run, items = _run([g])
    (gap,) = _gaps(items)
    assert "byte %d" % len(_shb()) in gap and "garbled" in gap and "last record truncated" not in gap


# ---------------------------------------------------------------- D5: what is not a file


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifos_and_devices_given_as_pcap_are_refused(tmp_path):
    fifo = tmp_path / "capture.fifo"
    os.mkfifo(fifo)
    good = _pcap(tmp_path / "good.pcap", [_arp(3)])
    out = _probe({"pcap": [str(fifo), os.devnull, str(tmp_path), str(good)], "timeout_capture": 10})
    assert out["status"] == "partial" and out["seconds"] < 5, out["reason"]
    assert out["gaps"] == [
        "capture: cannot read %s: a FIFO, not a capture file (only regular files are read)" % fifo,
        "capture: cannot read %s: a device, not a capture file (only regular files are read)" % os.devnull,
        "capture: cannot read %s: a directory, not a capture file (only regular files are read)" % tmp_path]
    assert out["hosts"] == ["02:aa:00:00:00:03"]


# ---------------------------------------------------------------- D15: option values


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "1e400", "700000", "five"])
def test_capture_seconds_refuses_what_no_duration_means(value, capsys):
    from cbom.cli import build_parser
    from collectors.capture import seconds_option

    with pytest.raises(SystemExit) as e:
        build_parser([CaptureCollector]).parse_args(["scan", "--capture-seconds", value])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "argument --capture-seconds" in err and "Traceback" not in err
    with pytest.raises(Exception, match="seconds"):
        seconds_option(value)


@pytest.mark.parametrize("value", ["-1", "0", "1.5", "many"])
def test_capture_max_packets_refuses_what_no_count_means(value, capsys):
    from cbom.cli import build_parser
    from collectors.capture import packets_option

    with pytest.raises(SystemExit) as e:
        build_parser([CaptureCollector]).parse_args(["scan", "--capture-max-packets", value])
    assert e.value.code == 2
    assert "argument --capture-max-packets" in capsys.readouterr().err
    with pytest.raises(Exception, match="packets"):
        packets_option(value)


def test_option_values_set_in_code_cannot_break_the_run():
    for bad in (float("nan"), float("-inf"), -5, "soon"):
        run, _ = run_one(CaptureCollector, ScanContext(options={"capture_seconds": bad}))
        assert run.status == Status.SKIPPED and run.reason.startswith("live capture off"), run.reason
    assert CaptureCollector.time_limit(ScanContext(options={"capture_seconds": float("inf")})) == 300.0


# ---------------------------------------------------------------- D11: scapy writes nothing


def test_compiling_a_capture_filter_writes_no_file(tmp_path):
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(HOME=str(home), SHELL="/bin/bash", PYTHONPATH=str(ROOT))
    code = ("from collectors.capture._live import _compile_filter\n"
            "try:\n    print(len(_compile_filter('tcp port 502 or udp port 47808', 1)))\n"
            "except ImportError as exc:\n    print('no libpcap', exc)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=str(cwd),
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    if proc.stdout.startswith("no libpcap"):
        pytest.skip("libpcap is not installed: " + proc.stdout.strip())
    assert int(proc.stdout) > 0
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["cwd", "home"]


# ---------------------------------------------------------------- nothing escapes the per-frame guard


def _hostile_frames() -> List[bytes]:
    """Crafted frames aimed at each length field and loop of the dissectors."""
    out: List[bytes] = []
    for size in BAD_SIZES + [b"f" * 16, b"0" * 300, b"1;" + b"e" * 5000]:
        out.append(_tcp(HTTP_CHUNKED + size + b"\r\nAAAAAA\r\n", 80, 41000 + len(out)))
    ws = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x82\x7f" + b"\xff" * 8
    out.append(_tcp(ws, 80, 42000))
    out.append(_tcp(b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n", 80, 42001))
    for ln in (0, 3, 4, 7, 0xFFFF):  # TPKT lengths
        out.append(_tcp(struct.pack(">BBH", 3, 0, ln) + b"\x02\xf0\x80\x32\x01", 40002, 102))
    for ln in (0, 1, 0xFFFF):  # Modbus MBAP lengths
        out.append(_tcp(struct.pack(">HHHB", 1, 0, ln, 1) + b"\x03", 40003, 502))
    out.append(_tcp(struct.pack("<HHII", 0x65, 0xFFFF, 0, 0) + b"\0" * 16, 40004, 44818))  # ENIP length
    out.append(_tcp(b"\x16\x03\x01\xff\xff\x01\xff\xff\xff", 40005, 443))  # TLS lengths past the end
    loop = struct.pack(">HHHHHH", 1, 0x8180, 1, 1, 0, 0) + b"\xc0\x0c\0\1\0\1" + b"\xc0\x0c\0\1\0\1\0\0\0\1\0\4"
    out.append(_udp(loop, 53, 33333))  # a DNS name pointing at itself
    out.append(_udp(loop, 5353, 5353))
    out.append(_udp(b"\x63\x82\x53\x63".rjust(240, b"\0") + b"\x0c\xff", 67, 68))  # DHCP option past the end
    out.append(_eth(_mac(9), bytes.fromhex("0180c200000e"), 0x88CC, b"\xfe\x00" * 10))  # LLDP zero-length TLVs
    out.append(_eth(_mac(9), bytes.fromhex("01000ccccccc"), 0x2000, b"\x02\xb4\0\0" + b"\0\1\0\0" * 8))
    out.append(_eth(_mac(9), b"\xff" * 6, 0x8892, b"\xfe\xfe\x05\0\0\0\0\0\xff\xff" + b"\x02\x02\xff\xff"))
    return out


def test_hostile_and_mutated_frames_never_escape_nor_stall():
    rng = random.Random(18)
    frames = [(1, f) for f in _hostile_frames()]
    for name in sorted(p.name for p in FIX.iterdir() if p.suffix in (".pcap", ".pcapng")):
        with open(FIX / name, "rb") as fh, CaptureFile(fh) as cf:
            base = [(lt, fr) for _ts, lt, fr, _wl in cf][:300]
        for lt, fr in base:
            b = bytearray(fr)
            for _ in range(rng.randrange(1, 6)):
                if b:
                    b[rng.randrange(len(b))] = rng.randrange(256)
            frames.append((lt, bytes(b)))
            if len(b) > 54:  # and one cut inside its payload
                frames.append((lt, bytes(b[:rng.randrange(54, len(b))])))
    an = Analyzer()
    slowest = 0.0
    for i, (lt, fr) in enumerate(frames):
        t = time.perf_counter()
        an.feed(float(i), fr, 0, lt)
        slowest = max(slowest, time.perf_counter() - t)
    assert an.frames == len(frames) == sum(n for n, _ in an.stacks.values())
    assert an.dissector_errors == {}  # a hostile frame is malformed data, never a dissector bug
    assert slowest < 0.25
    assert an.malformed.get("http", 0) >= len(BAD_SIZES)
    items = items_from(an, "fuzz")
    assert all(not isinstance(i, Gap) or "dissector failed" not in i.reason for i in items)
