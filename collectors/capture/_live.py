"""Live capture on Linux with AF_PACKET sockets (no scapy on the hot path).

One receiver thread only copies raw frames into a bounded queue; the caller
drains the queue into the same `Analyzer` the file mode uses. Promiscuous mode
is requested per socket with PACKET_ADD_MEMBERSHIP, which the kernel undoes by
itself when the socket closes (no interface flag is left changed on the host).
Kernel drops come from PACKET_STATISTICS (packet(7)), interface drops from
/sys/class/net/IF/statistics/rx_dropped before and after.
"""
from __future__ import annotations

import collections
import ctypes
import os
import select
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, List, Tuple

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_STATISTICS = 6
SO_ATTACH_FILTER = 26
SO_RCVBUFFORCE = 33
RCVBUF = 8 << 20  # absorbs bursts while the analysis thread catches up (see README "capture")
SNAPLEN = 65535
# ARPHRD_* (linux/if_arp.h) -> pcap LINKTYPE_* (pcap-linktype(7))
ARPHRD_LINKTYPE = {1: 1, 772: 1, 65534: 101, 776: 101, 778: 101, 512: 101}
REMEDY = ("live capture needs root (Administrator on Windows) or CAP_NET_RAW: run cbom as root, or "
          "`setcap cap_net_raw,cap_net_admin=eip` on the bundle's binary; files can be analysed "
          "without privilege with --pcap FILE")


@dataclass
class LiveStats:
    """What the kernel and we saw and lost, per run."""

    received: int = 0
    kernel_drops: int = 0
    interface_drops: int = 0
    queue_drops: int = 0  # our own bounded queue was full (analysis too slow)
    limit_hit: str = ""  # "packets" or "memory" when a bound stopped the capture early
    errors: List[str] = field(default_factory=list)


def has_cap_net_raw(status_text: str) -> bool:
    """CAP_NET_RAW (bit 13) in the effective set of /proc/self/status text."""
    for line in status_text.splitlines():
        if line.startswith("CapEff:"):
            try:
                return bool(int(line.split()[1], 16) & (1 << 13))
            except (IndexError, ValueError):
                return False
    return False


def parse_iface_flags(text: str) -> int:
    """/sys/class/net/IF/flags ('0x1003') as an int (0 when garbled)."""
    try:
        return int(text.strip(), 16)
    except ValueError:
        return 0


def _compile_filter(expr: str, linktype: int) -> bytes:
    """BPF program for `expr` through libpcap (via scapy), as a packed sock_fprog."""
    compile_filter, free_filter = _scapy_bpf()

    bp = compile_filter(expr, linktype=linktype)
    insns = ctypes.string_at(ctypes.addressof(bp.bf_insns.contents), bp.bf_len * 8)
    free_filter(bp)
    buf = ctypes.create_string_buffer(insns)
    _keep.append(buf)  # the kernel copies the program at setsockopt; keep it alive until then
    return struct.pack("HL", len(insns) // 8, ctypes.addressof(buf))


_keep: list = []

# scapy's import creates $XDG_CONFIG_HOME (~/.config) and pickles four tables into
# $XDG_CACHE_HOME/scapy (~/.cache/scapy, 2.8 MB): writes outside the output folder on the
# auditor's machine (issue 18, D11). Those variables are scapy's only say over it (scapy.main
# _probe_xdg_folder, scapy >= 2.6, secdev/scapy#4351): it uses no cache when the folder cannot
# be created, which a path under /dev/null never can be.
_NO_FOLDER = os.path.join(os.devnull, "cbom-writes-nothing-here")
_XDG = ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME")


def _scapy_bpf() -> Tuple[Any, Any]:
    """scapy's (compile_filter, free_filter), imported so that scapy writes no file."""
    if "scapy.main" not in sys.modules:
        saved = {k: os.environ.get(k) for k in _XDG}
        os.environ.update(dict.fromkeys(_XDG, _NO_FOLDER))
        try:
            import scapy.main  # noqa: F401  (reads the variables once, at import)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    from scapy.arch.common import compile_filter, free_filter

    return compile_filter, free_filter


class LiveCapture:
    """Capture on `ifaces` for `seconds`, at most `max_packets`, queueing raw frames."""

    def __init__(self, ifaces: List[Tuple[str, int]], seconds: float, max_packets: int, bpf: str = "",
                 max_queue_bytes: int = 96 << 20) -> None:
        self.ifaces = ifaces  # (name, linktype)
        self.seconds = seconds
        self.max_packets = max_packets
        self.bpf = bpf
        self.max_queue_bytes = max_queue_bytes
        self.queue: Deque[Tuple[float, int, bytes, int]] = collections.deque()
        self.queued_bytes = 0
        self.stats = LiveStats()
        self.done = threading.Event()
        self._socks: List[Tuple[socket.socket, int, str]] = []

    def open(self) -> None:
        """Open and bind one socket per interface (raises OSError: permission, no such device)."""
        for name, linktype in self.ifaces:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            try:
                try:
                    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
                except OSError:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
                if self.bpf:
                    s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, _compile_filter(self.bpf, linktype))
                s.bind((name, 0))
                ifindex = socket.if_nametoindex(name)
                mreq = struct.pack("iHH8s", ifindex, PACKET_MR_PROMISC, 0, b"")
                s.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
                # frames queued before the filter/bind took effect are discarded
                s.setblocking(False)
                while True:
                    try:
                        s.recv(SNAPLEN)
                    except (BlockingIOError, InterruptedError):
                        break
                self._kernel_stats(s)  # reading resets the counters
            except BaseException:
                s.close()
                raise
            self._socks.append((s, linktype, name))

    def _kernel_stats(self, s: socket.socket) -> Tuple[int, int]:
        raw = s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        packets, drops = struct.unpack("II", raw)
        return packets, drops

    def run(self) -> None:
        """Receiver loop (own thread): only recv and enqueue."""
        st = self.stats
        poller = select.poll()
        by_fd: Dict[int, Tuple[socket.socket, int]] = {}
        for s, lt, _ in self._socks:
            poller.register(s.fileno(), select.POLLIN)
            by_fd[s.fileno()] = (s, lt)
        deadline = time.monotonic() + self.seconds
        q = self.queue
        now = time.time
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                for fd, _ev in poller.poll(min(left, 0.2) * 1000):
                    s, lt = by_fd[fd]
                    while True:
                        try:
                            data = s.recv(SNAPLEN)
                        except (BlockingIOError, InterruptedError):
                            break
                        st.received += 1
                        if self.queued_bytes > self.max_queue_bytes:
                            st.queue_drops += 1
                            continue
                        q.append((now(), lt, data, len(data)))
                        self.queued_bytes += len(data)
                        if st.received >= self.max_packets:
                            st.limit_hit = "packets"
                            return
        except OSError as exc:
            st.errors.append("capture stopped: %s" % (exc.strerror or exc))
        finally:
            for s, _lt, _name in self._socks:
                try:
                    _packets, drops = self._kernel_stats(s)
                    st.kernel_drops += drops
                except OSError:
                    pass
            self.done.set()

    def close(self) -> None:
        for s, _lt, _name in self._socks:
            s.close()
        self._socks = []

    def drain(self, sink: Callable[[float, bytes, int, int], None], most: int = 1 << 62) -> int:
        """Feed at most `most` queued frames to `sink(ts, frame, wirelen, linktype)`; returns how many."""
        n = 0
        q = self.queue
        while q and n < most:
            ts, lt, data, wl = q.popleft()
            self.queued_bytes -= len(data)
            sink(ts, data, wl, lt)
            n += 1
        return n
