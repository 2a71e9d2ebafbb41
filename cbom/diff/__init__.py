"""`cbom diff OLD NEW`: what changed on a machine between two scans — and should it have?

The package, one job per module:
- `model`: the diff's dataclasses;
- `purl`: package URLs parsed and compared without their version;
- `categories`: what each component category means (identity, naming, notable rules), one entry each;
- `match`: pairing the components of one category across the two scans;
- `compare`: field comparison, version ordering, the machine, `diff_scans`;
- `rules`: the notable changes of every category, the machine and the findings;
- `read`: reading the two CycloneDX files;
- `writers`: text, JSON (the `cbom-diff/1` schema is documented there), HTML and PDF;
- `cli`: the command, which prints to stderr and returns diff(1)'s exit codes.
"""
from __future__ import annotations

from .._versions import compare_versions
from .categories import display_name, identity
from .cli import EXIT_DIFFERENT, EXIT_ERROR, EXIT_SAME, command
from .compare import diff_scans, ecosystem_of, is_volatile, machine_mismatch
from .model import CategoryDiff, Change, Diff, DiffError, FieldChange, Notable, Side
from .purl import split_purl
from .read import read_scan
from .writers import SCHEMA, render_html, render_pdf, text_lines, to_json, write_text

__all__ = [
    "Diff", "CategoryDiff", "Change", "FieldChange", "Notable", "DiffError", "Side",
    "diff_scans", "compare_versions", "read_scan", "identity", "ecosystem_of",
    "to_json", "write_text", "render_html", "render_pdf", "command",
    "display_name", "is_volatile", "machine_mismatch", "split_purl", "text_lines", "SCHEMA",
    "EXIT_SAME", "EXIT_DIFFERENT", "EXIT_ERROR",
]
