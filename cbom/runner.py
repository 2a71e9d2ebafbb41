"""Selects, orders and runs collectors, containing every failure.

Each collector runs in its own daemon thread under its time limit. Whatever
it yielded before raising or timing out is kept; the run is recorded with a
status and a one-line reason, and the scan always goes on.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Callable, Iterable, List, Optional, Sequence, SupportsFloat, Tuple, Type

from cbom import vocabulary as V

from . import __version__
from .collector import Collector, Note, ScanContext
from .decode import control_free
from .model import (
    Category, CollectorRun, Component, Finding, Gap, Host, HostFact, Platform, Props, Scan, Status, sort_components,
)

log = logging.getLogger(__name__)
MAX_LIMIT = 8 * 24 * 3600.0  # seconds: a week of --capture-seconds plus its margin; beyond, join() overflows
INTERRUPTED = "not run: scan interrupted by the user"


class SelectionError(ValueError):
    """--only/--skip named a collector that does not exist."""


def _selects(word: str, cls: Type[Collector], served: bool = True) -> bool:
    """`word` names the collector ("software.dpkg") or its area ("software"), or, with `served`,
    an area it also serves ("firmware" for hardware.dmi, which reads the BIOS)."""
    return cls.name == word or cls.name.startswith(word + ".") or (served and word in cls.areas)


def select(
    available: Sequence[Type[Collector]], only: Sequence[str] = (), skip: Sequence[str] = (),
    platform: Optional[Platform] = None,
) -> List[Type[Collector]]:
    """Collectors to run: `only` (or every default one), minus `skip`, in run order.

    Names or areas select; with `platform`, collectors of other platforms are left out
    unless named exactly (then the run records why they were skipped).
    """
    unknown = sorted(w for w in set(only) | set(skip) if not any(_selects(w, c) for c in available))
    if unknown:
        areas = sorted({c.name.split(".")[0] for c in available})
        raise SelectionError(
            f"unknown collector(s): {', '.join(unknown)} (areas: {', '.join(areas)}; "
            f"`cbom collectors` lists every name)"
        )
    chosen = [c for c in available if (any(_selects(w, c) for w in only) if only else c.default)]
    if platform is not None:
        chosen = [c for c in chosen if platform in c.platforms or c.name in only]
    # --skip firmware leaves hardware.dmi in: skipping one area never loses another's components.
    return sorted((c for c in chosen if not any(_selects(w, c, served=False) for w in skip)),
                  key=lambda c: (c.order, c.name))


def select_for_recording(
    available: Sequence[Type[Collector]], platform: Platform, only: Sequence[str] = (), skip: Sequence[str] = ()
) -> List[Type[Collector]]:
    """What `cbom ingest` runs: the recording check, then the collectors of the recorded platform
    that read recordings (the network listener needs the running machine), unless named."""
    chosen = [c for c in select(available, only, skip, platform) if c.reads_recordings or c.name in only]
    check = [c for c in available if c.name == "recording" and c not in chosen]
    return check + chosen


def named_by_os(scan: Scan) -> Scan:
    """The scan with its machine named as its operating-system component says (recorded machines)."""
    for c in scan.components:
        if c.category == Category.OPERATING_SYSTEM and c.prop(V.OS_HOSTNAME):
            return replace(scan, host=replace(scan.host, name=c.prop(V.OS_HOSTNAME)))
    return scan


@dataclass
class _Outcome:
    items: list = field(default_factory=list)
    error: Optional[BaseException] = None
    done: bool = False


def run_one(cls: Type[Collector], ctx: ScanContext) -> Tuple[CollectorRun, list]:
    """Run one collector under its time limit; never raises."""
    start = time.monotonic()
    try:
        why_not = cls.unavailable(ctx)
        limit_value = ctx.options.get("timeout_" + cls.name) or cls.time_limit(ctx)
        if not isinstance(limit_value, (str, SupportsFloat)):  # float() would raise TypeError too
            raise TypeError(f"timeout_{cls.name} is not a number of seconds: {limit_value!r}")
        limit = float(limit_value)
        # thread.join(nan) raises ValueError and join(inf) OverflowError: no limit that means anything.
        if not 0 < limit <= MAX_LIMIT:
            raise ValueError(f"time limit {limit_value!r} of {cls.name} is not a number of seconds "
                             f"above 0 and at most {MAX_LIMIT:g}")
    except Exception as exc:  # a plug-in's own checks are contained like its collect()
        return CollectorRun(cls.name, Status.FAILED, 0.0, control_free(_one_line(exc))), []
    if why_not:
        return CollectorRun(cls.name, Status.SKIPPED, 0.0, control_free(why_not)), []
    outcome = _Outcome()

    def work() -> None:
        try:
            for item in cls().collect(ctx):
                outcome.items.append(item)
        except BaseException as exc:  # one broken collector never kills the scan
            outcome.error = exc
        finally:
            outcome.done = True

    thread = threading.Thread(target=work, name=f"cbom-{cls.name}", daemon=True)
    thread.start()
    interrupted = False
    try:
        thread.join(limit)
    except KeyboardInterrupt:  # Ctrl-C: keep what was collected, the caller writes it
        interrupted = True
    duration = time.monotonic() - start
    items = list(outcome.items)  # a snapshot: a hung thread may still append
    # A gap or reason may quote a tool's stderr: one line, no NUL or control character in the CBOM.
    gaps = tuple(dict.fromkeys(control_free(i.reason) for i in items if isinstance(i, Gap) and not isinstance(i, Note)))
    notes = list(dict.fromkeys(control_free(i.reason) for i in items if isinstance(i, Note)))
    count = sum(isinstance(i, Component) for i in items)
    if interrupted:
        status, reason = Status.FAILED, f"interrupted by the user after {duration:.1f} s ({count} components kept)"
    elif not outcome.done:
        status, reason = Status.FAILED, f"timed out after {limit:g} s ({count} components kept)"
    elif outcome.error is not None:
        status = Status.FAILED
        reason = _one_line(outcome.error)
        if count:
            reason += f" ({count} components kept)"
        log.debug("collector %s raised", cls.name, exc_info=outcome.error)
    elif gaps:
        status, reason = Status.PARTIAL, gaps[0] if len(gaps) == 1 else f"{len(gaps)} gaps: {gaps[0]}; …"
    else:
        status, reason = Status.OK, ""
    if notes and status in (Status.OK, Status.PARTIAL):  # what was left out on purpose, said in the reason
        reason = "; ".join(([reason] if reason else []) + notes)
    return CollectorRun(cls.name, status, round(duration, 3), control_free(reason), count, gaps), items


def scan(
    collectors: Iterable[Type[Collector]],
    ctx: ScanContext,
    host_name: str,
    operator: str = "",
    properties: Props = (),
    progress: Optional[Callable[[CollectorRun], None]] = None,
    starting: Optional[Callable[[Type[Collector]], None]] = None,
) -> Scan:
    """Run every collector in turn and assemble the Scan."""
    started = datetime.now(timezone.utc).replace(microsecond=0)
    components: dict = {}
    findings: dict = {}
    facts: List[HostFact] = []
    runs: List[CollectorRun] = []
    interrupted = False
    for cls in collectors:
        if interrupted:
            runs.append(CollectorRun(cls.name, Status.SKIPPED, 0.0, INTERRUPTED))
            continue
        # Ctrl-C (or SIGTERM, which the CLI turns into it) can land anywhere in this loop, not only
        # in run_one's join: before the run it skips the collector, after it the run is kept.
        run = None
        try:
            if starting:
                try:
                    starting(cls)
                except Exception as exc:  # a plug-in's announce() must not stop the scan
                    log.debug("announce of %s failed: %s", cls.name, exc)
            run, items = run_one(cls, ctx)
            interrupted = run.reason.startswith("interrupted by the user")
            added = 0
            for item in items:
                if isinstance(item, Component):
                    added += _add(components, item)
                elif isinstance(item, Finding):
                    findings.setdefault(item.ref, item if item.collector else _with_collector(item, cls.name))
                elif isinstance(item, HostFact):
                    facts.append(item)
            # Count what the CBOM holds: a component yielded twice (e.g. a Python dist with both
            # .dist-info and .egg-info metadata) is one component.
            run = replace(run, components=added)
            runs.append(run)
            if progress:
                progress(run)
        except KeyboardInterrupt:
            interrupted = True
            if not runs or runs[-1].name != cls.name:  # not yet recorded: record what is known
                runs.append(run or CollectorRun(cls.name, Status.SKIPPED, 0.0, INTERRUPTED))
    return Scan(
        id=f"urn:uuid:{uuid.uuid4()}",
        started=started,
        finished=datetime.now(timezone.utc).replace(microsecond=0),
        tool_version=__version__,
        operator=operator,
        host=Host(name=host_name).with_facts(facts),
        components=sort_components(components.values()),
        findings=tuple(sorted(findings.values(), key=lambda f: (f.severity_rank, f.id, f.ref))),
        runs=tuple(runs),
        properties=properties,
    )


def _one_line(exc: BaseException) -> str:
    return (f"{type(exc).__name__}: {exc}".strip().splitlines() or [type(exc).__name__])[0][:300]


def _add(components: dict, item: Component) -> bool:
    """Add a component; an exact duplicate is dropped (False), a different one with the same ref is kept."""
    n = 1
    ref = item.ref
    while ref in components:
        if components[ref] == item or replace(components[ref], ref=item.ref) == item:
            return False
        n += 1
        ref = f"{item.ref}~{n}"
    components[ref] = item if ref == item.ref else replace(item, ref=ref)
    return True


def _with_collector(finding: Finding, name: str) -> Finding:
    return replace(finding, collector=name)
