"""Fixed-width typesetting of the report's long listings: columns of text lines for the PDF.

WeasyPrint 70 spends ~1.4 ms per table cell but ~0.9 ms per *line* of a `<pre>` block
(research notes, feasibility.md section 1), so a large listing of the PDF is typeset here as
text: column widths from the values, wrapping inside a column, and bidi isolation so
right-to-left text cannot reorder the other columns of its line.
`column_widths` gives the percent widths of the tables that stay tables.
"""
from __future__ import annotations

import unicodedata
from typing import Iterable, List, Optional, Sequence, Set, Tuple

__all__ = ["LINE_WIDTH", "TABLE_CHARS", "DETAIL_INDENT", "text_lines", "column_widths"]

# Characters per line of a PDF listing: DejaVu Sans Mono at 7 pt is 4.2 pt wide,
# so 118 characters fit A4 (180 mm) and Letter (190 mm) text widths.
LINE_WIDTH = 118


def _chunks(text: str, width: int) -> List[str]:
    """`text` hard-wrapped to `width` characters, preferring breaks after separators."""
    out = []
    while len(text) > width:
        cut = max(text.rfind(sep, 0, width) for sep in " /-_.:,;@+=&?")
        cut = cut + 1 if cut >= width // 2 else width
        out.append(text[:cut].rstrip(" "))
        text = text[cut:].lstrip(" ")
    out.append(text)
    return out


def _isolate(text: str, width: int, right: bool = False) -> str:
    """`text` padded to `width` (right-aligned for numbers); right-to-left text is wrapped in a
    bidi isolate (FSI…PDI) so it cannot reorder the other columns of its line."""
    padded = text.rjust(width) if right else text.ljust(width)
    if any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text):
        pad = padded[: len(padded) - len(text)] if right else padded[len(text):]
        return pad + "\u2068" + text + "\u2069" if right else "\u2068" + text + "\u2069" + pad
    return padded


def _typical(lengths: Sequence[int]) -> int:
    """Column width that fits 97% of the values: one odd long value wraps instead of widening the column."""
    return lengths[min(len(lengths) - 1, int(len(lengths) * 0.97))] if lengths else 0


DETAIL_INDENT = "    "


def text_lines(
    rows: Sequence[Sequence[str]], caps: Sequence[int], headers: Sequence[str], width: int = LINE_WIDTH,
    numeric: Iterable[int] = (), detail_line: bool = False, whole: Iterable[int] = (),
) -> Tuple[str, List[List[str]]]:
    """Fixed-width text layout of `rows`: (header spacing template, lines per row).

    Column i is as wide as its heading and 97% of its values (up to caps[i]); columns
    shrink when they do not fit `width` and grow towards their longest value with what
    is left. A value wider than its column is wrapped inside the column, except in the
    first column (the name), which then gets a line of its own so it is never split:
    every name stays searchable in the PDF text. Columns in `whole` are as wide as their
    longest value (up to their cap) and never squeezed. Numeric columns are right-aligned.

    With `detail_line`, the last value is not a column: it follows its row on indented
    lines of the full width (identities, free-form details), so the columns stay wide.
    """
    if detail_line and len(headers) > 1:
        spec, out = text_lines([r[:-1] for r in rows], caps[:-1], headers[:-1], width, numeric, whole=whole)
        for row, row_lines in zip(rows, out):
            if row[-1]:
                row_lines.extend(DETAIL_INDENT + _isolate(chunk, 0)
                             for chunk in _chunks(row[-1], width - len(DETAIL_INDENT)))
        return spec + "\n" + DETAIL_INDENT + "{}", out
    right = set(numeric)
    n = len(caps)
    floor = [max(len(h), 4) for h in headers]
    floor[-1] = max(floor[-1], min(24, _typical(sorted(len(r[-1]) for r in rows))))  # room for the details
    longest = [max(floor[i], min(cap, max(len(r[i]) for r in rows))) for i, cap in enumerate(caps)]
    widths = [max(floor[i], min(cap, _typical(sorted(len(r[i]) for r in rows)))) for i, cap in enumerate(caps)]
    floor[0] = widths[0]  # names are never squeezed: a narrow name column puts every name on its own line
    for i in set(whole) | right:  # a number is never wrapped: "172," over "331" reads as two
        floor[i] = widths[i] = longest[i]
    room = width - 2 * (n - 1)
    while sum(widths) > room:
        i = max(range(n), key=lambda j: widths[j] - floor[j])
        if widths[i] <= floor[i]:
            break
        widths[i] -= 1
    for i in range(n - 1):  # slack: let columns grow to their longest value, left to right
        widths[i] += max(0, min(longest[i] - widths[i], room - sum(widths)))
    if n - 1 not in right:  # a number stays next to its heading
        widths[-1] += max(0, room - sum(widths))
    starts = [sum(widths[:i]) + 2 * i for i in range(n)]
    out = []
    for row in rows:
        lines: List[str] = []
        first = row[0]
        if len(first) > widths[0]:
            one = _overflowing(row, widths, starts, right, width)
            if one is not None:
                out.append([one])
                continue
            lines.extend(_chunks(first, width))  # a name longer than a whole line still wraps
            first = ""
        cells = [_chunks(first, widths[0])] + [_chunks(v, widths[i]) for i, v in enumerate(row) if i]
        for k in range(max(len(c) for c in cells)):
            parts = [_isolate((c[k] if k < len(c) else ""), widths[i], i in right) for i, c in enumerate(cells)]
            lines.append("  ".join(parts).rstrip())
        out.append(lines)
    return "  ".join(("{:>%d}" if i in right else "{:<%d}") % w for i, w in enumerate(widths)), out


def _overflowing(row: Sequence[str], widths: Sequence[int], starts: Sequence[int], right: Set[int],
                 width: int) -> Optional[str]:
    """A row whose name is wider than its column on one line when it fits the line: its other
    values follow the name, each at its column where the name left room. One line rather than the
    name alone and its values below, where a page break may fall between them; None when the row
    needs several lines anyway."""
    if any(len(v) > widths[i] for i, v in enumerate(row) if i):
        return None
    line = row[0]
    for i in range(1, len(row)):
        if not row[i]:
            continue
        line = line.ljust(starts[i]) if len(line) + 2 <= starts[i] else line + "  "
        line += _isolate(row[i], widths[i], i in right).rstrip() if i in right else _isolate(row[i], 0)
    return line if len(line) <= width else None


# Characters of a table row across the text width: DejaVu Sans at 7.5 pt averages ~0.62 em
# per character for this data (digits and hex are 0.64 em), so 180 mm hold ~110.
TABLE_CHARS = 110


def column_widths(columns: Sequence[str], rows: Sequence[Sequence[str]], caps: Sequence[int]) -> List[float]:
    """Percent widths: each column as wide as its bold heading and 97% of its values (up to its
    cap) plus the cell padding. The last column (the details, which wrap) takes what is left of
    the line but at least 30% of it. When the columns do not fit, only the long ones shrink
    (a MAC address, a state, a number, a heading keep their room), in proportion to their excess.
    """
    head = [len(h) * 1.35 + 3.5 for h in columns]  # bold headings are wider than the 7.5 pt body
    want = [max(head[i], min(caps[i], _typical(sorted(len(r[i]) for r in rows))) + 2.0) for i in range(len(columns))]
    if len(want) > 1 and sum(want) > TABLE_CHARS:
        want[-1] = max(min(want[-1], max(head[-1], TABLE_CHARS * 0.3)), TABLE_CHARS - sum(want[:-1]))
    excess = sum(want) - TABLE_CHARS
    if excess > 0:
        floor = [max(head[i], min(w, 19.0)) for i, w in enumerate(want)]
        floor[-1] = min(want[-1], max(head[-1], TABLE_CHARS * 0.3)) if len(want) > 1 else floor[-1]
        slack = [w - f for w, f in zip(want, floor)]
        if sum(slack) > 0:
            cut = min(1.0, excess / sum(slack))
            want = [w - s * cut for w, s in zip(want, slack)]
    total = sum(want)
    return [round(w * 100.0 / total, 1) for w in want]
