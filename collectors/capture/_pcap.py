"""Streaming readers for classic pcap and pcapng files, and a classic-pcap writer.

Both readers yield `(timestamp, linktype, frame, wire_length)` tuples and
never load the whole file: it is read in chunks and walked record by record,
so memory stays flat for any file size. A truncated last record or a block
whose length is garbled ends the walk and is reported through
`PcapError`/`.problem` instead of an exception escaping to the caller; a
pcapng block whose length is sound but whose content is not is skipped and
counted, as are packets whose timestamp has no calendar date (`.anomalies()`).

Formats: libpcap `pcap-savefile(5)` (both byte orders, micro- and
nanosecond magics) and IETF draft-ietf-opsawg-pcapng (SHB, IDB with
`if_tsresol`, EPB, SPB, obsolete Packet Block; several sections and
interfaces; other block types are skipped).
"""
from __future__ import annotations

import struct
from typing import BinaryIO, Iterator, List, Tuple

Record = Tuple[float, int, bytes, int]

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
# A frame larger than this is not a frame (pcap's own limit is 256 KiB for most link types).
MAX_SNAP = 1 << 20
# Timestamps from 9999-12-31 on have no calendar date (Python's datetime ends there); a pcapng
# timestamp is 64 bits of ticks of any resolution, so one bad packet can claim year 586524.
MAX_TS = 253402300800.0
NAN = float("nan")
HOLD = 1024  # packets with impossible timestamps held while waiting for a good one


class PcapError(ValueError):
    """The file is not a capture this reader understands (one-line reason)."""


def sniff_format(head: bytes) -> str:
    """'pcap', 'pcapng' or '' from the first 4 bytes of a file."""
    if head[:4] in PCAP_MAGICS:
        return "pcap"
    if head[:4] == PCAPNG_SHB:
        return "pcapng"
    return ""


# Read size: 256 KiB stays in the CPU cache while its records are cut out (1 MiB and 4 MiB read a
# million-packet file 15 % and 20 % slower here).
CHUNK = 1 << 18


class CaptureFile:
    """An open capture file; iterate it for records. `.problem` says why a walk stopped early.

    The file is read in 256 KiB chunks (not memory-mapped: mapped pages count as
    resident memory and would grow with the file).
    """

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self._head = f.read(CHUNK)
        self.format = sniff_format(self._head[:4])
        if not self.format:
            raise PcapError("not a pcap or pcapng file (unknown magic %r)" % self._head[:4])
        self.problem = ""
        self.linktypes: List[int] = []
        self.skipped = 0  # well-delimited pcapng blocks with garbled content
        self.first_skipped = ""
        self.bad_timestamps = 0
        self.first_bad_timestamp = ""
        self.fallback_ts = 0.0  # the time of packets with impossible timestamps when no neighbour has one

    def close(self) -> None:
        self._head = b""

    def __enter__(self) -> "CaptureFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Record]:
        if self.format == "pcap":
            return self._pcap()  # 32-bit seconds: every classic pcap timestamp has a date
        return self._dated(self._pcapng())

    def _dated(self, records: Iterator[Record]) -> Iterator[Record]:
        """`records` with each impossible (NaN) timestamp replaced by the previous packet's, or by
        the next good one for the first packets of a file (up to HOLD of them, then `fallback_ts`)."""
        last = None
        held: List[Record] = []
        for rec in records:
            ts = rec[0]
            if ts == ts:
                if held:
                    for r in held:
                        yield (ts,) + r[1:]
                    held = []
                last = ts
                yield rec
            elif last is not None:
                yield (last,) + rec[1:]
            elif len(held) < HOLD:
                held.append(rec)
            else:
                yield (self.fallback_ts,) + rec[1:]
        for r in held:
            yield (self.fallback_ts,) + r[1:]

    def _pcap(self) -> Iterator[Record]:
        buf, read = self._head, self._f.read
        self._head = b""
        if len(buf) < 24:
            buf += read(24 - len(buf))
        if len(buf) < 24:
            self.problem = "pcap header truncated"
            return
        order, unit = PCAP_MAGICS[bytes(buf[:4])]
        snaplen, linktype = struct.unpack_from(order + "II", buf, 16)
        linktype &= 0xFFFF  # upper bits carry FCS info (pcap-linktype(7))
        self.linktypes.append(linktype)
        rec = struct.Struct(order + "IIII").unpack_from
        off = 24
        base = 0  # file offset of buf[0]
        size = len(buf)
        while True:
            start = off + 16
            if start > size:
                more = read(CHUNK)
                if not more:
                    break
                base += off
                buf, off = buf[off:] + more, 0
                size = len(buf)
                continue
            sec, frac, incl, orig = rec(buf, off)
            end = start + incl
            if end > size or incl > MAX_SNAP:
                if incl > MAX_SNAP:
                    self.problem = "garbled record header at byte %d (length %d)" % (base + off, incl)
                    return
                more = read(max(CHUNK, incl + 16))
                if not more:
                    break
                base += off
                buf, off = buf[off:] + more, 0
                size = len(buf)
                continue
            yield sec + frac * unit, linktype, buf[start:end], orig
            off = end
        if off != len(buf):
            self.problem = "last record truncated at byte %d (%d bytes left)" % (base + off, len(buf) - off)

    def _pcapng(self) -> Iterator[Record]:
        buf, read = self._head, self._f.read
        self._head = b""
        off = 0
        base = 0
        size = len(buf)
        order = "<"
        head, word, epb, opb = _STRUCTS[order]
        ifaces: List[Tuple[int, float]] = []  # (linktype, seconds per tick) per interface of this section
        while True:
            if size - off < 12:
                more = read(CHUNK)
                if not more:
                    break
                base += off
                buf, off = buf[off:] + more, 0
                size = len(buf)
                continue
            if buf[off] == 0x0A and buf[off:off + 4] == PCAPNG_SHB:
                bom = bytes(buf[off + 8:off + 12])
                order = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">" if bom == b"\x1a\x2b\x3c\x4d" else ""
                if not order:
                    self.problem = "bad byte-order magic in section header at byte %d" % (base + off)
                    return
                head, word, epb, opb = _STRUCTS[order]
                ifaces = []
            btype, blen = head(buf, off)
            if blen < 12 or blen % 4 or blen > MAX_SNAP + 4096:
                self.problem = "garbled block at byte %d (length %d)" % (base + off, blen)
                return
            end = off + blen
            if end > size:
                more = read(max(CHUNK, blen))
                if not more:
                    self.problem = "last block truncated or its length garbled at byte %d (%d bytes claimed, %d left)" \
                        % (base + off, blen, size - off)
                    return
                base += off
                buf, off = buf[off:] + more, 0
                size = len(buf)
                continue
            end -= 4
            if word(buf, end)[0] != blen:
                # Every block repeats its length at its end (pcapng section 3.1): when the two
                # differ the block cannot be delimited, and nothing after it can be trusted.
                self.problem = "garbled block at byte %d (its two lengths differ)" % (base + off)
                return
            # From here the block is delimited: bad content skips this block only (issue 18, D13).
            body = off + 8
            bad = ""
            if btype == 6 or btype == 2:  # Enhanced Packet Block / obsolete Packet Block
                if blen < 32:
                    bad = "packet block too short"
                else:
                    if btype == 6:
                        ifid, hi, lo, incl, orig = epb(buf, body)
                    else:
                        ifid, _drops, hi, lo, incl, orig = opb(buf, body)
                    start = body + 20
                    if ifid >= len(ifaces):
                        bad = "packet block for undeclared interface %d" % ifid
                    elif start + incl > end:
                        bad = "packet block longer than its block"
                    else:
                        linktype, unit = ifaces[ifid]
                        ts = ((hi << 32) | lo) * unit
                        if not 0.0 <= ts < MAX_TS:
                            self._bad_ts(base + off, ts)
                            ts = NAN  # `_dated` gives it the time of a neighbour
                        yield ts, linktype, buf[start:start + incl], orig
            elif btype == 1:  # Interface Description Block: linktype, reserved, snaplen, options
                if blen < 20:
                    bad = "interface description block too short"
                else:
                    linktype = struct.unpack_from(order + "H", buf, body)[0]
                    ifaces.append((linktype, _tsresol(buf, body + 8, end, order)))
                    self.linktypes.append(linktype)
            elif btype == 3:  # Simple Packet Block: interface 0, no timestamp
                if not ifaces:
                    bad = "simple packet block before any interface"
                elif blen < 16:
                    bad = "simple packet block too short"
                else:
                    orig = word(buf, body)[0]
                    incl = min(orig, blen - 16)
                    yield 0.0, ifaces[0][0], buf[body + 4:body + 4 + incl], orig
            if bad:
                if not self.skipped:
                    self.first_skipped = "at byte %d: %s" % (base + off, bad)
                self.skipped += 1
            off += blen
        if off != size:
            self.problem = "last record truncated at byte %d (%d bytes left)" % (base + off, size - off)

    def _bad_ts(self, where: int, ts: float) -> None:
        if not self.bad_timestamps:
            self.first_bad_timestamp = "at byte %d: %s" % (where, _calendar(ts))
        self.bad_timestamps += 1

    def anomalies(self) -> List[str]:
        """One line per kind of damage the walk skipped over (the reason it stopped is `.problem`)."""
        out = []
        if self.skipped:
            out.append("%d garbled block%s skipped (first %s)"
                       % (self.skipped, "" if self.skipped == 1 else "s", self.first_skipped))
        if self.bad_timestamps:
            out.append("%d packet%s with an impossible timestamp (first %s), analysed with the time of a "
                       "neighbour" % (self.bad_timestamps, "" if self.bad_timestamps == 1 else "s",
                                          self.first_bad_timestamp))
        return out


# Per byte order: block type and length, one 32-bit word, Enhanced and obsolete Packet Block headers.
_STRUCTS = {o: (struct.Struct(o + "II").unpack_from, struct.Struct(o + "I").unpack_from,
                struct.Struct(o + "IIIII").unpack_from, struct.Struct(o + "HHIIII").unpack_from) for o in "<>"}


def _calendar(ts: float) -> str:
    """What an impossible timestamp would mean, for the message."""
    if ts < 0:
        return "before 1970"
    return "year %d" % (1970 + ts // 31556952) if ts < 1e18 else "%.3g seconds after 1970" % ts


def _tsresol(buf: object, off: int, end: int, order: str) -> float:
    """Seconds per timestamp tick from an IDB's options (default microseconds)."""
    while off + 4 <= end:
        code, length = struct.unpack_from(order + "HH", buf, off)  # type: ignore[arg-type]
        if code == 0:
            break
        if code == 9 and length >= 1:
            v = buf[off + 4]  # type: ignore[index]
            return 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
        off += 4 + ((length + 3) & ~3)
    return 1e-6


class PcapWriter:
    """Writes classic pcap (microseconds, little-endian): what `--pcap-out` keeps."""

    def __init__(self, f: BinaryIO, linktype: int = 1, snaplen: int = 262144) -> None:
        self._f = f
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        self._rec = struct.Struct("<IIII").pack

    def write(self, ts: float, frame: bytes, wirelen: int = 0) -> None:
        sec = int(ts)
        usec = int(round((ts - sec) * 1e6))
        if usec >= 1000000:
            sec, usec = sec + 1, usec - 1000000
        self._f.write(self._rec(sec, usec, len(frame), wirelen or len(frame)))
        self._f.write(frame)
