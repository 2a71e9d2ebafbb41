"""Passive network audit: who is on the wire, what they speak, what looks wrong.

Two sources, one code path (`_engine.Analyzer`, one dissector per protocol in `protocols/`):
- files: `--pcap FILE` (pcap or pcapng, repeatable) needs no privilege;
- live: `--capture-seconds N` (default 30, 0 = off) on `--interface IF`
  (repeatable; default every interface that is up and not loopback), with an
  optional BPF `--capture-filter`, bounded by `--capture-max-packets` and a
  queue memory cap; `--pcap-out FILE` keeps the raw frames. Live capture needs
  root or CAP_NET_RAW; without it the collector is skipped with the remedy.

Nothing is ever sent: sockets are receive-only and promiscuous mode is a
per-socket membership the kernel drops when the socket closes.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Any, Iterator, List, Mapping, Optional, Tuple

from cbom import vocabulary as V
from cbom.collector import Collector, ScanContext
from cbom.model import Gap, HostFact, Item, Platform

from ._live import (
    ARPHRD_LINKTYPE,
    REMEDY,
    LiveCapture,
    has_cap_net_raw,
    parse_iface_flags,
)
from ._pcap import CaptureFile, PcapError, PcapWriter

__all__ = ["CaptureCollector"]

DEFAULT_SECONDS = 30
DEFAULT_MAX_PACKETS = 2_000_000


class CaptureCollector(Collector):
    """Observed hosts, protocols, conversations and findings from a passive capture or pcap files."""

    name = "capture"
    description = "passive network capture (live or --pcap files): observed hosts, protocols, findings"
    platforms = frozenset(Platform)
    default = True
    reads_recordings = False  # a recorded folder has no network to listen to
    timeout = 1800.0  # file mode: analysing a large capture; raise with --collector-timeout
    cli_options = (
        (("--capture-seconds",), dict(dest="capture_seconds", type=float, default=DEFAULT_SECONDS, metavar="N",
                                      help="listen N seconds on the network (default 30; 0 turns live capture off)")),
        (("--interface",), dict(dest="interface", action="append", default=None, metavar="IF",
                                help="interface to listen on (repeatable; default every up, non-loopback one)")),
        (("--capture-filter",), dict(dest="capture_filter", default="", metavar="BPF",
                                     help="BPF filter for live capture, e.g. 'not port 22'")),
        (("--pcap",), dict(dest="pcap", action="append", default=None, metavar="FILE",
                           help="analyse a pcap/pcapng file instead of listening (repeatable; no privilege needed)")),
        (("--pcap-out",), dict(dest="pcap_out", default="", metavar="FILE",
                               help="also write the live capture to FILE (pcap)")),
        (("--capture-max-packets",), dict(dest="capture_max_packets", type=int, default=DEFAULT_MAX_PACKETS,
                                          metavar="N", help="stop live capture after N packets (default 2000000)")),
    )

    order = 90  # listen after the inventory: a Ctrl-C during capture keeps everything else

    @classmethod
    def announce(cls, ctx: ScanContext) -> str:
        if _opts(ctx).get("pcap"):
            return "analysing " + ", ".join(_opts(ctx)["pcap"])
        where = ", ".join(_opts(ctx).get("interface") or []) or "every interface that is up"
        seconds = float(_opts(ctx).get("capture_seconds", DEFAULT_SECONDS) or 0)
        return f"listening passively for {seconds:g} s on {where} (Ctrl-C stops early and keeps the rest)"

    @classmethod
    def time_limit(cls, ctx: ScanContext) -> float:
        if _opts(ctx).get("pcap"):
            return cls.timeout
        # Live: the listening time plus analysis of what was queued.
        return float(_opts(ctx).get("capture_seconds", DEFAULT_SECONDS) or 0) + 300.0

    @classmethod
    def unavailable(cls, ctx: ScanContext) -> str:
        if _opts(ctx).get("pcap"):
            return ""  # file mode: any platform, no privilege
        seconds = float(_opts(ctx).get("capture_seconds", DEFAULT_SECONDS) or 0)
        if seconds <= 0:
            return "live capture off (--capture-seconds 0) and no --pcap file given"
        if not ctx.live:
            return "live capture only on the running system (not with --root); use --pcap FILE"
        if ctx.platform != Platform.LINUX:
            return "live capture is implemented for Linux (AF_PACKET) only; analyse a capture with --pcap FILE"
        if not ctx.admin and not _cap_net_raw(ctx):
            return REMEDY
        return ""

    def collect(self, ctx: ScanContext) -> Iterator[Item]:
        files = list(_opts(ctx).get("pcap") or [])
        if files:
            yield from self._files(ctx, files)
        else:
            yield from self._live(ctx)

    # ------------------------------------------------------------------ files

    def _files(self, ctx: ScanContext, files: List[str]) -> Iterator[Item]:
        # The engine and its ~30 protocol modules load when a capture runs, not at every start of
        # cbom (registering the collectors imports this module): ~8 ms of each command.
        from ._engine import Analyzer
        from ._model import items_from

        an = Analyzer()
        feed = an.feed
        done = []
        for name in files:
            # --pcap names a file the auditor brought (not a path on the scanned system):
            # it is opened as given, never under --root.
            try:
                with open(name, "rb") as f, CaptureFile(f) as cf:
                    before = an.frames
                    for ts, lt, frame, wl in cf:
                        feed(ts, frame, wl, lt)
                    if cf.problem:
                        yield Gap("capture: %s: %s (%d packets read before it)"
                                  % (name, cf.problem, an.frames - before))
                    done.append(os.path.basename(name))
            except PcapError as exc:
                yield Gap("capture: %s: %s" % (name, exc))
            except OSError as exc:
                yield Gap("capture: cannot read %s: %s" % (name, exc.strerror or exc))
        if not done:
            return
        yield HostFact(V.CAPTURE_MODE, "file")
        yield from items_from(an, ", ".join(done))

    # ------------------------------------------------------------------ live

    def _live(self, ctx: ScanContext) -> Iterator[Item]:
        from ._engine import Analyzer  # see _files
        from ._model import items_from

        seconds = float(_opts(ctx).get("capture_seconds", DEFAULT_SECONDS) or 0)
        max_packets = int(_opts(ctx).get("capture_max_packets") or DEFAULT_MAX_PACKETS)
        bpf = str(_opts(ctx).get("capture_filter") or "")
        wanted = list(_opts(ctx).get("interface") or [])
        ifaces, problems = _interfaces(ctx, wanted)
        for p in problems:
            yield Gap("capture: " + p)
        if not ifaces:
            yield Gap("capture: no interface to listen on (none up besides loopback)")
            return
        drops_before = {n: _rx_dropped(ctx, n) for n, _ in ifaces}
        cap = LiveCapture(ifaces, seconds, max_packets, bpf)
        try:
            cap.open()
        except PermissionError:
            yield Gap("capture: " + REMEDY)
            cap.close()
            return
        except OSError as exc:
            yield Gap("capture: cannot open a capture socket: %s" % (exc.strerror or exc))
            cap.close()
            return
        except Exception as exc:  # BPF compile failure (bad expression, libpcap missing)
            yield Gap("capture: --capture-filter %r not usable: %s" % (bpf, exc))
            cap.close()
            return
        an = Analyzer()
        writer: Optional[PcapWriter] = None
        out = None
        pcap_out = str(_opts(ctx).get("pcap_out") or "")
        if pcap_out:
            try:
                out = open(pcap_out, "wb")  # the auditor's output file, not a host path
                writer = PcapWriter(out, linktype=ifaces[0][1])
            except OSError as exc:
                yield Gap("capture: cannot write --pcap-out %s: %s" % (pcap_out, exc.strerror or exc))

        def sink(ts: float, frame: bytes, wl: int, lt: int) -> None:
            an.feed(ts, frame, wl, lt)
            if writer is not None and lt == ifaces[0][1]:  # one pcap file holds one link type
                writer.write(ts, frame, wl)

        started = time.time()
        thread = threading.Thread(target=cap.run, name="cbom-capture-rx", daemon=True)
        thread.start()
        try:
            while not cap.done.is_set():
                if not cap.drain(sink):
                    cap.done.wait(0.05)
            thread.join()
            cap.drain(sink)
        finally:
            cap.close()
            if out is not None:
                out.close()
        st = cap.stats
        if_drops = 0
        for n, _ in ifaces:
            after = _rx_dropped(ctx, n)
            if after is not None and drops_before.get(n) is not None:
                if_drops += max(0, after - drops_before[n])  # type: ignore[operator]
        yield HostFact(V.CAPTURE_MODE, "live")
        yield HostFact(V.CAPTURE_INTERFACES, ", ".join(n for n, _ in ifaces))
        yield HostFact(V.CAPTURE_SECONDS, "%.1f" % (time.time() - started))
        if bpf:
            yield HostFact(V.CAPTURE_FILTER, bpf)
        yield HostFact(V.CAPTURE_RECEIVED, str(st.received))
        yield HostFact(V.CAPTURE_KERNEL_DROPS, str(st.kernel_drops))
        yield HostFact(V.CAPTURE_INTERFACE_DROPS, str(if_drops))
        yield HostFact(V.CAPTURE_QUEUE_DROPS, str(st.queue_drops))
        if st.kernel_drops:
            yield Gap("capture: kernel dropped %d packets (picture incomplete)" % st.kernel_drops)
        if if_drops:
            yield Gap("capture: interfaces dropped %d packets during the capture" % if_drops)
        if st.queue_drops:
            yield Gap("capture: %d packets dropped: analysis queue full (memory bound)" % st.queue_drops)
        if st.limit_hit:
            yield Gap("capture: stopped early at --capture-max-packets %d" % max_packets)
        for e in st.errors:
            yield Gap("capture: " + e)
        yield from items_from(an, "live: " + ", ".join(n for n, _ in ifaces))


def _opts(ctx: ScanContext) -> Mapping[str, Any]:
    """The scan options, typed as what they are: argparse values of this collector's `cli_options`."""
    return ctx.options


def _cap_net_raw(ctx: ScanContext) -> bool:
    try:
        return has_cap_net_raw(ctx.read("/proc/self/status"))
    except OSError:
        return False


def _rx_dropped(ctx: ScanContext, name: str) -> Optional[int]:
    try:
        return int(ctx.read("/sys/class/net/%s/statistics/rx_dropped" % name).strip() or 0)
    except (OSError, ValueError):
        return None


def _interfaces(ctx: ScanContext, wanted: List[str]) -> Tuple[List[Tuple[str, int]], List[str]]:
    """(name, pcap linktype) to listen on, and one line per requested interface that cannot be used."""
    out: List[Tuple[str, int]] = []
    problems: List[str] = []
    try:
        names = sorted(os.listdir(ctx.path("/sys/class/net")))
    except OSError as exc:
        return [], ["cannot list interfaces: %s" % (exc.strerror or exc)]
    for n in wanted:
        if n not in names:
            problems.append("interface %s does not exist" % n)
    for n in wanted or names:
        if n not in names:
            continue
        try:
            flags = parse_iface_flags(ctx.read("/sys/class/net/%s/flags" % n))
            arphrd = int(ctx.read("/sys/class/net/%s/type" % n).strip() or 0)
        except (OSError, ValueError):
            problems.append("interface %s: flags unreadable" % n)
            continue
        if not wanted and (flags & 0x8 or not flags & 0x1):  # IFF_LOOPBACK, IFF_UP
            continue
        lt = ARPHRD_LINKTYPE.get(arphrd)
        if lt is None:
            problems.append("interface %s: link type %d not supported" % (n, arphrd))
            continue
        out.append((n, lt))
    return out, problems
