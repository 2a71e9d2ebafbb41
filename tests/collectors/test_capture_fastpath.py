"""capture engine: the shortcuts of the hot path give the tables the general path gives.

`Analyzer.feed` takes Ethernet II / IPv4 frames through `_eth_ip4` (the Ethernet,
IPv4 and TCP/UDP layers written out once, with per-direction caches of hosts'
flows); every other frame goes through `_dissect`, `_ip4` and `_l4`. Here every
real capture of tests/fixtures/capture is analysed three ways: as `feed` does,
with every frame sent through the general path, and with caches of one entry
(emptied at every new direction). All three must agree on every table the
report is made from. A malformed-input pass does the same on the same frames cut
short and with bytes flipped (hand-made damage, seeded).
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import collectors.capture._engine as engine
from collectors.capture._engine import Analyzer
from collectors.capture._pcap import CaptureFile

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "capture"
CAPTURES = sorted(p.name for p in FIX.iterdir() if p.suffix in (".pcap", ".pcapng"))
Frame = Tuple[float, int, bytes, int]


def _frames(name: str) -> List[Frame]:
    with open(FIX / name, "rb") as f, CaptureFile(f) as cf:
        return list(cf)


def _tables(an: Analyzer, frames: List[Frame]) -> Dict[str, Any]:
    for ts, lt, frame, wl in frames:
        an.feed(ts, frame, wl, lt)

    def slots(v: Any) -> Any:
        # A record's attributes: `__slots__` in Python, `__mypyc_attrs__` once compiled (setup.py)
        names = getattr(type(v), "__slots__", None) or getattr(type(v), "__mypyc_attrs__", None)
        return {s: getattr(v, s) for s in names} if names else v

    return {
        "counts": (an.frames, an.bytes, an.undecodable, an.first_ts, an.last_ts),
        "protocols": an.protocols(),
        "hosts": {k: slots(v) for k, v in an.hosts.items()},
        "flows": {k: slots(v) for k, v in an.flows.items()},
        "l2flows": {k: slots(v) for k, v in an.l2flows.items()},
        "events": dict(an.events), "endpoints": an.endpoints, "ip_serves": an.ip_serves,
        "ip_names": an.ip_names, "ip_ident": an.ip_ident, "arp": an.arp, "malformed": an.malformed,
        "failures": an.dissector_errors, "caps": an.caps_hit,
    }


def _three_ways(frames: List[Frame], monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _tables(Analyzer(), frames)
    assert _tables(Analyzer(fast_path=False), frames) == fast  # every frame through `_dissect`
    with monkeypatch.context() as m:
        m.setattr(engine, "MAX_DIRECTIONS", 1)
        assert _tables(Analyzer(), frames) == fast


@pytest.mark.parametrize("name", CAPTURES)
def test_fast_path_and_caches_change_nothing(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _three_ways(_frames(name), monkeypatch)


def test_fast_path_on_damaged_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    rnd = random.Random(14)
    frames = [f for name in CAPTURES for f in _frames(name) if f[1] == 1]
    damaged: List[Frame] = []
    for ts, lt, frame, wl in rnd.sample(frames, min(len(frames), 6000)):
        b = bytearray(frame)
        if rnd.random() < 0.4:
            b = b[:rnd.randrange(len(b) + 1)]  # cut anywhere, headers included
        for _ in range(rnd.randrange(3)):
            if b:
                b[rnd.randrange(min(len(b), 64))] = rnd.randrange(256)  # a header byte
        damaged.append((ts, lt, bytes(b), wl))
    _three_ways(damaged, monkeypatch)
