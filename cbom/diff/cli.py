"""`cbom diff OLD NEW`: the command: reads both files, diffs, writes one format, returns diff(1)'s code."""
from __future__ import annotations

import gc
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

from ..document import clean
from ..i18n import translate_message
from ..output import atomic_write
from .compare import diff_scans, machine_mismatch
from .model import DiffError
from .read import read_pair
from .writers import FORMATS, translator

__all__ = ["EXIT_SAME", "EXIT_DIFFERENT", "EXIT_ERROR", "command"]

# Exit codes follow diff(1): 0 no differences, 1 differences, 2 error.
EXIT_SAME, EXIT_DIFFERENT, EXIT_ERROR = 0, 1, 2


def _out(data: bytes, output: Optional[str]) -> None:
    if output is None:
        sys.stdout.buffer.write(data) if hasattr(sys.stdout, "buffer") else sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()
        return
    atomic_write(Path(output), data)


def command(args: Any) -> int:
    """`cbom diff`: exit 0 no differences, 1 differences, 2 error (one line on stderr)."""
    # The two CBOMs become ~1 million objects, none of them in a reference cycle: without the
    # cyclic collector, which walks them all again and again as they are made, reading and
    # comparing two 20,000-component scans takes ~40 % less time (issue 17).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _command(args)
    finally:
        if collecting:
            gc.enable()


def _command(args: Any) -> int:
    fmt = getattr(args, "format", "text") or "text"
    output = getattr(args, "output", None)
    lang = getattr(args, "lang", "en") or "en"
    try:  # --lang: text, HTML and PDF in that language (JSON stays English); a usage error without catalogue
        t = translator(lang)
    except (ValueError, OSError) as exc:
        print(f"cbom diff: --lang {clean(lang, one_line=True)}: {clean(exc, one_line=True)}", file=sys.stderr)
        return EXIT_ERROR
    try:
        if fmt == "pdf" and not output:
            raise DiffError("--format pdf needs -o FILE (PDF is not written to a terminal)")
        old, new = read_pair(args.old, args.new)
        why = machine_mismatch(old, new)
        if why and not getattr(args, "force", False):
            raise DiffError(f"{args.old} and {args.new} are scans of different machines: {why} "
                            "(use --force to diff anyway)")
        d = diff_scans(old.scan, new.scan, include_volatile=bool(getattr(args, "all", False)),
                       old_side=old, new_side=new)
        if why:
            d = replace(d, notes=(f"different machines ({why}); compared because of --force",) + d.notes)
        if old.notes or new.notes:
            d = replace(d, notes=old.notes + new.notes + d.notes)
        _out(FORMATS.get(fmt, FORMATS["text"])(d, t), output)
    except DiffError as exc:  # may quote the documents (host names): shown cleaned
        print(translate_message(f"cbom diff: {clean(exc, one_line=True)}", lang), file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # writing -o FILE
        print(translate_message(f"cbom diff: cannot write {output or 'output'}: {exc.strerror or exc}", lang),
              file=sys.stderr)
        return EXIT_ERROR
    return EXIT_SAME if d.identical else EXIT_DIFFERENT
