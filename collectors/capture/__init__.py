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

import argparse
import hashlib
import math
import os
import stat
import threading
import time
from itertools import islice
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Set, Tuple

from cbom import vocabulary as V
from cbom.collector import Collector, ScanContext
from cbom.model import Gap, HostFact, Item, Platform

# The engine first: compiled (setup.py), its modules must initialise in dependency order. The
# classes of _records refer to the dissectors' (protocols/_dissector.py), and a compiled _records
# imported before them crashes the interpreter; every import of a capture module passes here first.
from ._engine import Analyzer
from ._live import (
    ARPHRD_LINKTYPE,
    REMEDY,
    LiveCapture,
    has_cap_net_raw,
    parse_iface_flags,
)
from ._pcap import CaptureFile, PcapError, PcapWriter

__all__ = ["CaptureCollector", "packets_option", "seconds_option"]

DEFAULT_SECONDS = 30
DEFAULT_MAX_PACKETS = 2_000_000
MAX_SECONDS = 7 * 86400  # a week of listening (as cbom.cli bounds every duration); more is a typing slip
BATCH = 4096  # frames analysed between two looks at the clock
# Packets remembered to recognise them in a later --pcap file: ~70 bytes each (a 64-bit hash as a
# Python int, 36 bytes, and its set slot; measured 69 MB for 1,000,000), so at most ~70 MB.
MAX_REMEMBERED = 1_000_000
STOP_GRACE = 5.0  # at most this long for the analysis to notice it must stop


def seconds_option(text: str) -> float:
    """argparse type of --capture-seconds: 0 (off) to MAX_SECONDS, finite (issue 18, D15)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number of seconds" % text) from None
    if not 0 <= value <= MAX_SECONDS:  # NaN fails both comparisons
        raise argparse.ArgumentTypeError("%r: give 0 (off) to %d seconds" % (text, MAX_SECONDS))
    return value


def packets_option(text: str) -> int:
    """argparse type of --capture-max-packets: a whole number of packets, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a whole number of packets" % text) from None
    if value < 1:
        raise argparse.ArgumentTypeError("%r: give 1 or more packets" % text)
    return value


class CaptureCollector(Collector):
    """Observed hosts, protocols, conversations and findings from a passive capture or pcap files."""

    name = "capture"
    description = "passive network capture (live or --pcap files): observed hosts, protocols, findings"
    platforms = frozenset(Platform)
    default = True
    reads_recordings = False  # a recorded folder has no network to listen to
    timeout = 1800.0  # file mode: analysing a large capture; raise with --collector-timeout
    cli_options = (
        (("--capture-seconds",), dict(dest="capture_seconds", type=seconds_option, default=DEFAULT_SECONDS, metavar="N",
                                      help="listen N seconds on the network (default 30; 0 turns live capture off)")),
        (("--interface",), dict(dest="interface", action="append", default=None, metavar="IF",
                                help="interface to listen on (repeatable; default every up, non-loopback one)")),
        (("--capture-filter",), dict(dest="capture_filter", default="", metavar="BPF",
                                     help="BPF filter for live capture, e.g. 'not port 22'")),
        (("--pcap",), dict(dest="pcap", action="append", default=None, metavar="FILE",
                           help="analyse a pcap/pcapng file instead of listening (repeatable; no privilege needed)")),
        (("--pcap-out",), dict(dest="pcap_out", default="", metavar="FILE",
                               help="also write the live capture to FILE (pcap)")),
        (("--capture-max-packets",), dict(dest="capture_max_packets", type=packets_option, default=DEFAULT_MAX_PACKETS,
                                          metavar="N", help="stop live capture after N packets (default 2000000)")),
    )

    order = 90  # listen after the inventory: a Ctrl-C during capture keeps everything else

    @classmethod
    def announce(cls, ctx: ScanContext) -> str:
        if _opts(ctx).get("pcap"):
            return "analysing " + ", ".join(_opts(ctx)["pcap"])
        where = ", ".join(_opts(ctx).get("interface") or []) or "every interface that is up"
        seconds = _seconds(ctx)
        return f"listening passively for {seconds:g} s on {where} (Ctrl-C stops early and keeps the rest)"

    @classmethod
    def time_limit(cls, ctx: ScanContext) -> float:
        if _opts(ctx).get("pcap"):
            return cls.timeout
        # Live: the listening time plus analysis of what was queued.
        return _seconds(ctx) + 300.0

    @classmethod
    def unavailable(cls, ctx: ScanContext) -> str:
        if _opts(ctx).get("pcap"):
            return ""  # file mode: any platform, no privilege
        seconds = _seconds(ctx)
        if seconds <= 0:
            return "live capture off (--capture-seconds %s) and no --pcap file given" % (
                _opts(ctx).get("capture_seconds", DEFAULT_SECONDS) or 0)
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
        an = Analyzer()
        gaps: List[str] = []
        done: List[str] = []
        seen: Dict[Tuple[int, str], str] = {}  # content fingerprint -> the name it was first given as
        where: Dict[str, Any] = {"file": "", "before": 0}  # for the message of a stuck analysis
        # A file holding some of another's packets (a cut of it, or it plus more) would count them
        # twice: a packet is the same when its timestamp, length and bytes are (issue 18, D13).
        earlier: Set[int] = set()  # hashes of the packets of the files before this one
        dups = [0, 0]  # packets dropped as already read; packets not remembered (MAX_REMEMBERED)

        def records_of(cf: CaptureFile, last: bool) -> Iterator[Tuple[float, int, bytes, int]]:
            """`cf`'s records, without those an earlier file held (when there are several files)."""
            mine: Set[int] = set()
            room = MAX_REMEMBERED - len(earlier)
            for rec in cf:
                h = hash((rec[0], rec[3], rec[2]))
                if h in earlier:
                    dups[0] += 1
                    continue
                if not last:
                    if len(mine) < room:
                        mine.add(h)
                    else:
                        dups[1] += 1
                yield rec
            earlier.update(mine)

        def work(stop: threading.Event) -> None:
            feed = an.feed
            for k, name in enumerate(files):
                if stop.is_set():
                    gaps.append("capture: %s not analysed (time limit)" % name)
                    continue
                # --pcap names a file the auditor brought (not a path on the scanned system):
                # it is opened as given, never under --root.
                try:
                    with _open_regular(name) as f:
                        key = _fingerprint(f)
                        if key in seen:
                            # the same packets twice would count some figures twice (issue 18, D13)
                            gaps.append("capture: %s is the same capture as %s: analysed once" % (name, seen[key]))
                            continue
                        seen[key] = name
                        with CaptureFile(f) as cf:
                            cf.fallback_ts = an.last_ts or 0.0
                            before = where["before"] = an.frames
                            where["file"] = name
                            records = iter(cf) if len(files) == 1 else records_of(cf, k == len(files) - 1)
                            while not stop.is_set():
                                n = 0
                                for ts, lt, frame, wl in islice(records, BATCH):
                                    feed(ts, frame, wl, lt)
                                    n += 1
                                if n < BATCH:
                                    break
                            else:
                                gaps.append("capture: %s: analysis stopped at the time limit after %d packets "
                                            "(raise --collector-timeout to read all of it)"
                                            % (name, an.frames - before))
                            for anomaly in cf.anomalies():
                                gaps.append("capture: %s: %s" % (name, anomaly))
                            if cf.problem:
                                gaps.append("capture: %s: %s (%d packets read before it)"
                                            % (name, cf.problem, an.frames - before))
                    done.append(os.path.basename(name))
                except PcapError as exc:
                    gaps.append("capture: %s: %s" % (name, exc))
                except OSError as exc:
                    gaps.append("capture: cannot read %s: %s" % (name, exc.strerror or exc))

        ended = _bounded(work, *_deadline(self, ctx))
        if ended:
            # the packet being analysed is counted in `an.frames` already
            gaps.append("capture: %s: %s at packet %d; the %d packets before it are kept"
                        % (where["file"], ended, an.frames - where["before"], an.frames - 1))
            done.append(os.path.basename(where["file"]))
        for g in gaps:
            yield Gap(g)
        if not done:
            return
        yield HostFact(V.CAPTURE_MODE, "file")
        if len(files) > 1:
            yield HostFact(V.CAPTURE_DUPLICATES, str(dups[0]))
            if dups[1]:
                yield Gap("capture: %d packets past the first %d not remembered: their copies in a later file "
                          "would be counted again" % (dups[1], MAX_REMEMBERED))
        yield from _items(an, ", ".join(done))

    # ------------------------------------------------------------------ live

    def _live(self, ctx: ScanContext) -> Iterator[Item]:
        seconds = _seconds(ctx)
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

        def work(stop: threading.Event) -> None:
            while not cap.done.is_set() and not stop.is_set():
                if not cap.drain(sink, BATCH):
                    cap.done.wait(0.05)
            thread.join()
            while not stop.is_set() and cap.drain(sink, BATCH):
                pass

        started = time.time()
        thread = threading.Thread(target=cap.run, name="cbom-capture-rx", daemon=True)
        thread.start()
        try:
            ended = _bounded(work, *_deadline(self, ctx))
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
            # rx_dropped also counts frames the system discarded after the capture had them (a replay
            # between test namespaces: every frame received and 44 counted there), so it is not a loss
            yield Gap("capture: the interfaces counted %d received packets as dropped during the capture "
                      "(rx_dropped: lost before the capture, or discarded by the system after it)" % if_drops)
        if st.queue_drops:
            yield Gap("capture: %d packets dropped: analysis queue full (memory bound)" % st.queue_drops)
        if st.limit_hit:
            yield Gap("capture: stopped early at --capture-max-packets %d" % max_packets)
        if ended:
            yield Gap("capture: %s; the %d packets before it are kept" % (ended, an.frames - 1))
        elif cap.queue:
            yield Gap("capture: %d received packets not analysed by the time limit" % len(cap.queue))
        for e in st.errors:
            yield Gap("capture: " + e)
        yield from _items(an, "live: " + ", ".join(n for n, _ in ifaces))


def _seconds(ctx: ScanContext) -> float:
    """--capture-seconds as a usable number (argparse checked it; options set in code may not be)."""
    try:
        return seconds_option(str(_opts(ctx).get("capture_seconds", DEFAULT_SECONDS) or 0))
    except argparse.ArgumentTypeError:
        return 0.0


def _deadline(cls: CaptureCollector, ctx: ScanContext) -> Tuple[float, float]:
    """When the analysis must stop so that its results are out before the runner's time limit,
    and how long it then gets to notice."""
    value: Any = ctx.options.get("timeout_" + cls.name) or cls.time_limit(ctx)
    try:
        limit = float(value)
    except (TypeError, ValueError):
        limit = cls.timeout
    if not math.isfinite(limit) or limit <= 0:
        limit = cls.timeout
    # Turning the tables into items takes seconds for tens of thousands of hosts.
    reserve = min(60.0, 0.2 * limit)
    return time.monotonic() + limit - reserve, min(STOP_GRACE, reserve / 3)


def _bounded(work: Callable[[threading.Event], None], deadline: float, grace: float) -> str:
    """Run `work(stop)` in its own thread until it returns or `deadline` passes, then ask it to stop
    and give it `grace` seconds.

    Returns "" when it ended, else why not. Either way what was analysed is kept (issue 18, D1: a
    looping dissector once cost every result of the capture, now it costs one packet). A thread
    stuck in one packet past the grace is stopped by an exception raised inside it (`_interrupt`),
    so a looping dissector does not spin until the process exits; this costs nothing while the
    analysis runs (a child process would cost a fork and sending every table back through a pipe,
    a trace function ~2x the analysis time). Code stuck inside one C call (a regex, say) sees the
    exception only when that call returns (so does a loop inside the engine or a built-in dissector
    where setup.py compiled them: compiled code does not run the interpreter's loop that delivers the
    exception); such a thread is left behind, as the runner leaves a
    collector that timed out.
    """
    stop = threading.Event()
    failure: List[BaseException] = []
    stuck: List[str] = []

    def run() -> None:
        try:
            work(stop)
        except _Interrupted as exc:
            stuck.append(_dissector_in(exc.__traceback__))
        except BaseException as exc:  # reported by the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="cbom-capture-analysis", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if thread.is_alive():
        stop.set()
        thread.join(grace)
        if thread.is_alive():
            # Raised again until it lands: a loop may swallow one (`except BaseException: continue`).
            end = time.monotonic() + max(grace, 1.0)
            while thread.is_alive() and time.monotonic() < end and _interrupt(thread):
                thread.join(0.05)
            if thread.is_alive():
                return ("the analysis of one packet did not finish by the time limit (a dissector looping?) "
                        "and could not be stopped")
            what = "the %s dissector" % stuck[0] if stuck and stuck[0] else "a dissector"
            return ("the analysis of one packet did not finish by the time limit (%s looping?) and was stopped"
                    % what)
    if failure:
        return "the analysis failed (%s: %s)" % (type(failure[0]).__name__, failure[0])
    return ""


class _Interrupted(BaseException):
    """Raised inside an analysis thread stuck past its time limit (a BaseException, so that the
    engine's `except Exception` guards around each dissector do not take it for a decoding error)."""


def _interrupt(thread: threading.Thread) -> bool:
    """Raise `_Interrupted` in `thread` at its next bytecode boundary; False where CPython's
    `PyThreadState_SetAsyncExc` is not available (then the thread cannot be stopped)."""
    try:
        import ctypes

        set_async = ctypes.pythonapi.PyThreadState_SetAsyncExc
    except (ImportError, AttributeError):  # not CPython
        return False
    if thread.ident is None:
        return False
    # The thread id is an unsigned long since CPython 3.7 (bpo-30256).
    set_async.argtypes = (ctypes.c_ulong, ctypes.py_object)
    set_async.restype = ctypes.c_int
    return set_async(thread.ident, _Interrupted) == 1


def _dissector_in(tb: Any) -> str:
    """Name of the innermost dissector the engine was calling where `tb` was raised ("" if none).

    A frame running one of a dissector's functions names it; so does, when the engine is not
    compiled (setup.py: compiled code has no Python frames), the engine's frame handing data to it.
    A compiled built-in dissector stuck in a loop is not named.
    """
    from .protocols import DISSECTORS, Dissector

    codes = {}
    for d in DISSECTORS:
        for fn in (d.check, d.frame, d.pdu, d.stream, d.datagram, d.link, d.udp_heuristic):
            code = getattr(fn, "__code__", None)
            if code is not None:
                codes[code] = d.name
    name = ""
    while tb is not None:
        frame = tb.tb_frame
        name = codes.get(frame.f_code, name)
        for var in ("dis", "cand"):  # the engine's names for the dissector it hands data to
            value = frame.f_locals.get(var)
            if isinstance(value, Dissector):
                name = value.name
        tb = tb.tb_next
    return name


def _items(an: Analyzer, source: str) -> List[Item]:
    """`items_from`, also while a stuck analysis thread may still change a table."""
    from ._model import items_from

    for _ in range(3):
        try:
            return items_from(an, source)
        except RuntimeError:  # "dictionary changed size during iteration"
            time.sleep(0.1)
    return [Gap("capture: results lost: the analysis kept changing them after the time limit")]


def _open_regular(name: str) -> Any:
    """`name` opened for reading if it is a regular file; OSError (with the reason) if not.

    A FIFO or a device given as --pcap would block the open or never end (issue 18, D5):
    O_NONBLOCK makes the open return at once, fstat then tells what was opened.
    """
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
                 | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a directory" if stat.S_ISDIR(mode)
                    else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket")
            raise OSError(0, "%s, not a capture file (only regular files are read)" % kind)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _fingerprint(f: Any) -> Tuple[int, str]:
    """(size, digest of the first and last MiB): equal for the same capture under two names."""
    size = os.fstat(f.fileno()).st_size
    h = hashlib.sha256(f.read(1 << 20))
    if size > 2 << 20:
        f.seek(-(1 << 20), os.SEEK_END)
        h.update(f.read(1 << 20))
    f.seek(0)
    return size, h.hexdigest()


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
