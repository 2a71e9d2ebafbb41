"""Every real Windows recording of ../shared/fixtures/windows through cbom's LIVE Windows collectors,
under wine, gives the same CBOM as `cbom ingest` of the same folder on Linux.

How: usb_bundle/wine_shims/replay.c, copied as powershell.exe, wmic.exe, systeminfo.exe,
ipconfig.exe, netstat.exe... into D:\\replay\\bin (first on the Windows PATH), answers each command
line with the recorded file cbom.host.COMMANDS names for it (the same table and `wmic path CLASS`
rule `cbom ingest` uses), byte for byte; a command the recording does not hold exits 1, as a
refused one. The recording's Uninstall exports are `reg import`ed, so the software collector reads
them live through winreg, and removed after its scan. Then `cbom scan` runs, live, under the Windows
CPython 3.13: process start, PATH search, decoding, fallbacks and gaps are cbom's real Windows code.
All recordings are scanned in one Windows Python process (tests/windows/replay_scans.py).

What cannot come from a recording through the live path, and is therefore not compared:
- network interfaces and listening services: live, psutil reads them from the running machine
  (here wine's view of this Linux host); a recording's come from its ipconfig/netstat text.
  Compared instead: the DNS servers, gateways and search domains the live collector takes from
  the recorded `ipconfig /all` (a subset when a recording holds several ipconfig samples: live
  asks the command once, ingest reads every sample).
- hardware from sources only a recording has: the live collector asks WMI (PowerShell CIM, then
  `wmic path CLASS`), then systeminfo for what WMI did not say, never the Windows port of dmidecode
  or a CentralProcessor registry export, which `cbom ingest` also uses to fill what a partial
  recording lacks. The live hardware is compared with `cbom ingest` of the recording without those
  two (the components they add are printed, not compared).
- the host's name: live, that of the machine cbom runs on.
- CPU features: live, CPUID is read from the running processor (this Linux host's, under wine),
  never from a recording. The flags it adds, and the processor component it makes where the
  recording's WMI described none, are left out of the comparison (`running_cpu_removed`).
"""
from __future__ import annotations

import json
import shutil
from fnmatch import fnmatch
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import pytest

from wine_fixtures import (bundle, DRIVE_D, HERE, RECORDINGS, SHIM_CACHE, prefix, text, win_pythons,  # noqa: F401 (fixtures)
                           win_wheelhouse, wine)

pytestmark = pytest.mark.slow
COLLECTORS = "os.windows,hardware.windows,network.windows,software.windows"
# The commands the Windows collectors run, each shadowed by the double (none reaches wine's stubs).
DOUBLES = ("powershell", "wmic", "systeminfo", "ipconfig", "netstat", "tasklist", "driverquery")
# Recorded files the live hardware collector never reads (see the module docstring).
RECORDED_ONLY_HARDWARE = ("dmidecode*", "centralprocessor*.reg")
NETWORK_FACTS = ("cbom:dns-server", "cbom:default-gateway", "cbom:dns-search")
AREAS = {"operating-system": "os", "software": "software", "hardware": "hardware", "firmware": "hardware",
         "network-interface": "network", "listening-service": "network"}


def recordings() -> List[str]:
    return sorted(p.name for p in RECORDINGS.iterdir() if p.is_dir()) if RECORDINGS.is_dir() else []


@dataclass
class Replayed:
    name: str
    driver: dict  # what replay_scans.py reported for it
    live: dict  # the live scan's CBOM
    ingest: dict  # `cbom ingest` of the recording
    ingest_wmi: Optional[dict]  # `cbom ingest` without the recorded-only hardware sources
    table: List[Tuple[str, str]] = field(default_factory=list)


def replay_table(rec_dir: Path, win_path) -> List[Tuple[str, str]]:
    """(command line prefix, Windows path of its recorded answer) from cbom's own recorded-backend tables."""
    from cbom.host import COMMANDS
    from cbom.recording import Recording

    rec = Recording(str(rec_dir))
    table = []
    for words, patterns in COMMANDS.items():
        found = rec.first(*patterns) if words[0] in DOUBLES else None
        if found:
            table.append((" ".join(words), win_path(rec.path / found)))
    for name in rec.names():
        if name.lower().endswith(".wmi"):  # `wmic path CLASS get ...` -> CLASS.wmi
            table.append((f"wmic path {name[:-4].lower()}", win_path(rec.path / name)))
    return table


def _ingest_all(pairs: Iterable[Tuple[Path, Path]]) -> None:
    """`cbom ingest` of each (recording, output) pair on Linux, in one process."""
    args = [str(p) for pair in pairs for p in pair]
    code = ("import sys\nfrom cbom.cli import main\nit = iter(sys.argv[1:])\nfor rec, out in zip(it, it):\n"
            f"    main(['-q', 'ingest', rec, '-o', out, '--format', 'json', '--only', '{COLLECTORS}'])\n")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]


@pytest.fixture(scope="module")
def replayed(prefix, win_pythons, tmp_path_factory) -> Dict[str, Replayed]:  # noqa: F811
    names = recordings()
    if not names:
        pytest.skip(f"{RECORDINGS} not present")
    bin_dir = DRIVE_D / "replay" / "bin"
    for folder in ("replay", "rec", "live"):
        shutil.rmtree(DRIVE_D / folder, ignore_errors=True)
    bin_dir.mkdir(parents=True)
    double = wine.compile_shim("replay.exe", SHIM_CACHE)
    for command in DOUBLES:
        shutil.copyfile(double, bin_dir / f"{command}.exe")
    jobs, tables = [], {}
    for name in names:
        rec = DRIVE_D / "rec" / name
        shutil.copytree(RECORDINGS / name, rec)
        tables[name] = replay_table(rec, prefix.windows_path)
        regs = [prefix.windows_path(p) for p in sorted(rec.iterdir()) if p.name.lower().startswith("uninstall")
                and p.suffix.lower() == ".reg"]
        jobs.append({"name": name, "table": tables[name], "reg": regs, "only": COLLECTORS,
                     "out": prefix.windows_path(DRIVE_D / "live" / name)})
    (DRIVE_D / "replay" / "jobs.json").write_text(json.dumps({
        "table": prefix.windows_path(bin_dir / "replay.tsv"), "results": prefix.windows_path(DRIVE_D / "replay" / "results.json"),
        "jobs": jobs}), encoding="utf-8")
    shutil.copyfile(HERE / "replay_scans.py", DRIVE_D / "replay" / "replay_scans.py")
    proc = prefix.run([win_pythons["3.13"], DRIVE_D / "replay" / "replay_scans.py", DRIVE_D / "replay" / "jobs.json"],
                      env={"PATH": prefix.windows_path(bin_dir)}, cwd="D:\\replay", timeout=1200)
    assert proc.returncode == 0, text(proc.stderr)[-4000:]
    assert "Traceback" not in text(proc.stderr), text(proc.stderr)[-4000:]
    driver = {r["name"]: r for r in json.loads((DRIVE_D / "replay" / "results.json").read_text("utf-8"))["results"]}

    base = tmp_path_factory.mktemp("ingest")
    pairs = []
    for name in names:
        pairs.append((RECORDINGS / name, base / "full" / name))
        reduced = base / "recordings-wmi" / name
        reduced.mkdir(parents=True)
        for f in (RECORDINGS / name).iterdir():
            if not any(fnmatch(f.name.lower(), pat) for pat in RECORDED_ONLY_HARDWARE):
                shutil.copyfile(f, reduced / f.name)
        if any(reduced.iterdir()):
            pairs.append((reduced, base / "wmi" / name))
    _ingest_all(pairs)

    def load(path: Path) -> Optional[dict]:
        return json.loads(path.read_text("utf-8")) if path.is_file() else None

    out = {}
    for name in names:
        live = load(DRIVE_D / "live" / name / "cbom.cdx.json")
        ingest = load(base / "full" / name / "cbom.cdx.json")
        assert live is not None, f"{name}: the live scan wrote no CBOM"
        assert ingest is not None, f"{name}: cbom ingest wrote no CBOM"
        out[name] = Replayed(name, driver.get(name, {}), live, ingest, load(base / "wmi" / name / "cbom.cdx.json"),
                             tables[name])
    return out


def components(doc: Optional[dict], area: str) -> Dict[str, dict]:
    """{bom-ref: component} of one area (by the cbom:category property)."""
    found = {}
    for c in (doc or {}).get("components", []):
        category = next((p["value"] for p in c.get("properties", []) if p["name"] == "cbom:category"), "")
        if AREAS.get(category) == area:
            found[c["bom-ref"]] = c
    return found


def differences(live: Dict[str, dict], ingest: Dict[str, dict], names: Tuple[str, str] = ("live", "ingest")) -> List[str]:
    """Every difference, one line each: components on one side only, fields that differ."""
    one, other = names
    out = []
    for ref in sorted(set(live) | set(ingest)):
        a, b = ingest.get(ref), live.get(ref)
        if a is None or b is None:
            c = a or b
            assert c is not None
            out.append(f"only {other if b is None else one}: {c['type']} {c['name']!r} {c.get('version', '')}")
            continue
        for key in sorted(set(a) | set(b)):
            if key == "properties":
                pa = sorted((p["name"], p["value"]) for p in a.get(key, []))
                pb = sorted((p["name"], p["value"]) for p in b.get(key, []))
                if pa != pb:
                    out.append(f"{a['name']!r} properties: {other} only {sorted(set(pa) - set(pb))}, "
                               f"{one} only {sorted(set(pb) - set(pa))}")
            elif a.get(key) != b.get(key):
                out.append(f"{a['name']!r} {key}: {other} {a.get(key)!r}, {one} {b.get(key)!r}")
    return out


def _report(found: Dict[str, List[str]]) -> str:
    return "\n".join(f"{name}:\n  " + "\n  ".join(lines) for name, lines in found.items() if lines)


def test_every_recording_was_replayed(replayed):
    assert sorted(replayed) == recordings()
    for name, r in replayed.items():
        assert r.driver.get("rc") in (0, 3), f"{name}: live scan exited {r.driver.get('rc')}"
        for path, rc, said in r.driver.get("imported", []):
            assert rc == 0, f"{name}: reg import {path} exited {rc}: {said}"
        for key, rc, said in r.driver.get("removed", []):
            assert rc == 0, f"{name}: reg delete {key} exited {rc}: {said}"
        statuses = {p["name"]: p["value"] for p in r.live["metadata"].get("properties", [])
                    if p["name"].startswith("cbom:collector:") and p["name"].endswith(":status")}
        assert sorted(statuses) == sorted(f"cbom:collector:{c}:status" for c in COLLECTORS.split(",")), name


def test_replay_double_answers_only_what_was_recorded(prefix):  # noqa: F811
    """The double itself: the longest recorded prefix wins, bytes are copied as they are (UTF-16 with
    its BOM), a command line the table lacks is refused with exit code 1 and a line on stderr."""
    bin_dir = DRIVE_D / "replay-selftest"
    shutil.rmtree(bin_dir, ignore_errors=True)
    bin_dir.mkdir()
    shutil.copyfile(wine.compile_shim("replay.exe", SHIM_CACHE), bin_dir / "wmic.exe")
    (bin_dir / "os.wmi").write_bytes("\ufeffCaption=Windows\r\n".encode("utf-16-le"))
    (bin_dir / "bios.wmi").write_bytes(b"\xff\xfeB\x00\r\x00\n\x00")
    (bin_dir / "replay.tsv").write_text(f"wmic os\t{prefix.windows_path(bin_dir / 'os.wmi')}\n"
                                        f"wmic path win32_bios\t{prefix.windows_path(bin_dir / 'bios.wmi')}\n")
    exe = bin_dir / "wmic.exe"
    got = prefix.run([exe, "OS", "get", "/format:list"])
    assert (got.returncode, got.stdout) == (0, (bin_dir / "os.wmi").read_bytes())
    got = prefix.run([exe, "path", "Win32_BIOS", "get", "Manufacturer", "/format:list"])
    assert (got.returncode, got.stdout) == (0, (bin_dir / "bios.wmi").read_bytes())
    refused = prefix.run([exe, "path", "Win32_Processor", "get", "/format:list"])
    assert refused.returncode == 1 and refused.stdout == b""
    assert b"was not recorded" in refused.stderr


@pytest.mark.parametrize("area", ["os", "software"])
def test_live_equals_ingest(replayed, area):
    """The operating system and software components (every field and property) are identical."""
    found = {name: differences(components(r.live, area), components(r.ingest, area)) for name, r in replayed.items()}
    compared = sum(len(components(r.ingest, area)) for r in replayed.values())
    assert compared > 0, f"no {area} component in any recording: nothing was compared"
    assert not any(found.values()), f"live {area} differs from ingest:\n{_report(found)}"


CPUID = "CPUID (py-cpuinfo)"  # collectors/hardware/_cpuid.py: the running processor's own reading


def running_cpu_removed(found: Dict[str, dict]) -> Dict[str, dict]:
    """`found` without what CPUID of the running processor added: a processor component made of it
    alone, and the flags it put on a recorded processor."""
    out = {}
    for ref, c in found.items():
        props = c.get("properties", [])
        if not any(p["name"] == "cbom:cpu:flags-source" and p["value"] == CPUID for p in props):
            out[ref] = c
        elif any(p["name"] == "cbom:cpu:id" or p["name"] == "cbom:cpu:signature" for p in props):
            out[ref] = dict(c, properties=[p for p in props
                                           if p["name"] not in ("cbom:cpu:flag", "cbom:cpu:flags-source")])
    return out


def test_live_hardware_equals_ingest_of_the_wmi_dumps(replayed, capsys):
    found, added = {}, {}
    for name, r in replayed.items():
        live, wmi = running_cpu_removed(components(r.live, "hardware")), components(r.ingest_wmi, "hardware")
        found[name] = differences(live, wmi)
        added[name] = differences(wmi, components(r.ingest, "hardware"), ("WMI dumps", "whole recording"))
    with capsys.disabled():
        print("\nhardware `cbom ingest` takes from dmidecode, CentralProcessor.reg (not compared):")
        print(_report(added) or "  none")
    assert sum(len(components(r.ingest_wmi, "hardware")) for r in replayed.values()) > 0, "nothing was compared"
    assert not any(found.values()), f"live hardware differs from ingest of the WMI dumps:\n{_report(found)}"


def test_live_network_facts_come_from_the_recorded_ipconfig(replayed):
    found = {}
    compared = 0
    for name, r in replayed.items():
        live, ingest = (_host_props(doc) for doc in (r.live, r.ingest))
        samples = [p for p in (RECORDINGS / name).iterdir() if p.name.lower().startswith("ipconfig")]
        compared += len(live)
        if len(samples) > 1:  # several samples: live asked ipconfig once (the first file), ingest read all
            extra = sorted(set(live) - set(ingest))
            found[name] = [f"live only: {extra}"] if extra else []
        else:
            found[name] = [] if live == ingest else [f"ingest {ingest}, live {live}"]
    assert compared > 0, "no DNS server or gateway in any live scan: nothing was compared"
    assert not any(found.values()), f"network facts differ:\n{_report(found)}"


def _host_props(doc: dict) -> List[Tuple[str, str]]:
    host = doc.get("metadata", {}).get("component", {})
    return sorted((p["name"], p["value"]) for p in host.get("properties", []) if p["name"] in NETWORK_FACTS)
