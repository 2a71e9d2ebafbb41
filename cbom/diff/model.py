"""The model of a diff: frozen dataclasses, built by `cbom.diff.compare` and read by the writers."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Tuple

from ..model import Category, Component, Finding, Scan, Severity

__all__ = ["DiffError", "FieldChange", "Change", "CategoryDiff", "Notable", "Side", "Diff"]


class DiffError(ValueError):
    """The two files cannot be compared; the message says why in one line."""


@dataclass(frozen=True)
class FieldChange:
    """One compared field whose value differs: a component field or `property:<name>`."""

    field: str
    old: str
    new: str


@dataclass(frozen=True)
class Change:
    """One component present in both scans whose compared fields differ."""

    identity: str
    old: Component
    new: Component
    fields: Tuple[FieldChange, ...]
    version_change: str = ""  # upgrade | downgrade | rebuild | same | changed | "" (version unchanged)
    ecosystem: str = ""


@dataclass(frozen=True)
class CategoryDiff:
    """The components of one category added, removed and changed (or why they were not compared)."""

    category: Category
    added: Tuple[Tuple[str, Component], ...] = ()  # (identity, component)
    removed: Tuple[Tuple[str, Component], ...] = ()
    changed: Tuple[Change, ...] = ()
    compared: bool = True
    note: str = ""

    @property
    def empty(self) -> bool:
        """Nothing added, removed or changed."""
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True)
class Notable:
    """A change worth a reviewer's attention, with a stable id (`CBOM-DIFF-…`)."""

    severity: Severity
    id: str
    category: str
    identity: str
    title: str


@dataclass(frozen=True)
class Side:
    """One of the two documents: the scan and what the file says about itself."""

    scan: Scan
    file: str = ""
    spec: str = ""
    tool: str = ""  # "cbom 0.1.0", "syft 1.4.1", "cyclonedx-py 4.1.0"
    notes: Tuple[str, ...] = ()  # values of the file left out for their type (cbom.cyclonedx.read_dict)

    @property
    def is_cbom(self) -> bool:
        """Whether cbom wrote the document (then every category was inventoried)."""
        return bool(self.scan.tool_version) or self.tool.startswith("cbom ")


@dataclass(frozen=True)
class Diff:
    """Everything that differs between two scans, and what could not be compared."""

    old: Side
    new: Side
    categories: Tuple[CategoryDiff, ...]
    notable: Tuple[Notable, ...] = ()
    host: Tuple[FieldChange, ...] = ()
    findings_added: Tuple[Finding, ...] = ()
    findings_removed: Tuple[Finding, ...] = ()
    duplicates: Tuple[Tuple[str, str, str, str, int], ...] = ()  # side, category, identity, version, count
    notes: Tuple[str, ...] = ()
    include_volatile: bool = False
    # known vulnerabilities fixed and introduced (cbom.vulndb.VulnChange), when both scans were matched
    vulnerabilities: Tuple[Any, ...] = ()

    @property
    def identical(self) -> bool:
        """No difference at all (exit code 0)."""
        return not (
            self.notable or self.host or self.findings_added or self.findings_removed or self.vulnerabilities
            or any(not c.empty for c in self.categories)
        )

    def count(self, what: str) -> int:
        """Components `added`, `removed` or `changed` over all categories."""
        return sum(len(getattr(c, what)) for c in self.categories)
