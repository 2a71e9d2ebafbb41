"""The `cbom` command: scan, ingest, collectors, validate, report, diff, verify-bundle.

Exit codes: 0 success; 2 usage error or unreadable input; 3 scan finished but
some collectors were partial/failed or a file could not be written;
`validate` returns 1 for an invalid document; `diff` follows diff(1).
"""
from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Sequence, Type

from cbom import vocabulary as V

from . import __version__

if TYPE_CHECKING:  # the collector module is imported only by the commands that run collectors
    from .collector import Collector

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command ended by Ctrl-C
log = logging.getLogger("cbom")


class _CleanArgs(logging.Filter):
    """Every value logged (host, package, file names from an image, a recording, a network) is shown
    with its control characters as `<U+XXXX>`: ESC sequences could clear the screen or set the title."""

    def filter(self, record: logging.LogRecord) -> bool:
        from .document import clean

        if isinstance(record.args, tuple):
            record.args = tuple(clean(a, one_line=True) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str) and not record.args:  # a message formatted by its caller
            record.msg = clean(record.msg)
        return True


def _csv(value: str) -> List[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


# Seconds and counts of the command line: float("nan"), "inf" and "1e999" parse, but no time limit
# or count means them (thread.join(nan) raises, join(inf) overflows); a week bounds every duration.
MAX_SECONDS = 7 * 24 * 3600


def _seconds(value: str) -> float:
    """A time limit: a finite number of seconds above 0 and at most a week (argparse type)."""
    return _number(value, low=0.0, strict=True)


def _number(value: str, low: float = 0.0, strict: bool = False) -> float:
    try:
        n = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if n != n or n in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{value!r} is not a finite number")
    if n < low or (strict and n == low):
        raise argparse.ArgumentTypeError(f"{value} must be {'above' if strict else 'at least'} {low:g}")
    if n > MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"{value} is more than {MAX_SECONDS:,} (a week)")
    return n


def _checked_type(kind: object) -> object:
    """A plug-in's numeric option type, refusing what no duration or count means: nan, inf, negatives."""
    if kind is float:
        return _number
    if kind is int:
        def count(value: str) -> int:
            try:
                n = int(value)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
            if n < 0:
                raise argparse.ArgumentTypeError(f"{value} must be at least 0")
            return n
        return count
    return kind


def build_parser(collector_classes: Sequence[Type[Collector]] = ()) -> argparse.ArgumentParser:
    from .output import WRITERS

    p = argparse.ArgumentParser(prog="cbom", description="Offline CBOM scanner: inventories this machine into CycloneDX.")
    p.add_argument("--version", action="version", version=f"cbom {__version__}")
    p.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("scan", help="inventory this machine and write the CBOM")
    _add_output_options(s, WRITERS)
    _add_selection_options(s)
    s.add_argument("--root", default="/", metavar="DIR",
                   help="inventory a mounted disk image or chroot at DIR instead of the running system")
    seen = set()
    for cls in collector_classes:
        for flags, kwargs in getattr(cls, "cli_options", ()):
            if any(f in seen for f in flags):
                continue  # two plug-ins declaring one flag: the first wins
            seen.update(flags)
            checked = dict(kwargs, help=f"[{cls.name}] {kwargs.get('help', '')}")
            if "type" in kwargs:
                checked["type"] = _checked_type(kwargs["type"])
            s.add_argument(*flags, **checked)

    i = sub.add_parser("ingest", help="build the CBOM from a folder recorded by collect.sh / collect.bat / collect.ps1")
    i.add_argument("dir", metavar="DIR")
    _add_output_options(i, WRITERS)
    _add_selection_options(i)

    c = sub.add_parser("collectors", help="list collectors and whether they can run here")
    c.add_argument("--root", default="/", metavar="DIR", help=argparse.SUPPRESS)

    v = sub.add_parser("validate", help="schema-validate a CycloneDX JSON file (0 valid, 1 invalid, 2 unreadable)")
    v.add_argument("file")

    r = sub.add_parser("report", help="render the PDF/HTML report from a saved cbom.cdx.json")
    r.add_argument("file", metavar="SCAN.cdx.json")
    r.add_argument("-o", "--output", metavar="DIR", help="output folder (default: the file's folder)")
    r.add_argument("--format", type=_csv, default=["pdf", "html"], help="pdf,html (default both)")
    r.add_argument("--paper", choices=["A4", "Letter"], default="A4")
    r.add_argument("--lang", default="en", help="language of the report (a catalogue in templates/i18n/)")
    _add_db_option(r)

    d = sub.add_parser("diff", help="what changed between two scans (exit 0 same, 1 different, 2 error)")
    d.add_argument("old")
    d.add_argument("new")
    d.add_argument("--format", choices=["text", "json", "html", "pdf"], default="text")
    d.add_argument("-o", "--output", metavar="FILE")
    d.add_argument("--all", action="store_true", help="also compare volatile fields (times, counters)")
    d.add_argument("--force", action="store_true", help="diff even when the two scans are of different machines")
    d.add_argument("--lang", default="en", help="language of the diff (a catalogue in templates/i18n/)")

    db = sub.add_parser("db", help="build or describe the offline vulnerability / end-of-life database")
    dbsub = db.add_subparsers(dest="db_command", metavar="ACTION")
    dbb = dbsub.add_parser("build", help="build DBDIR from WES-NG definitions.zip, endoflife.date, OSV, CSAF sources")
    dbb.add_argument("sources", nargs="+", metavar="SOURCE", help="an upstream file or folder, as its publisher distributes it")
    dbb.add_argument("-o", "--output", required=True, metavar="DBDIR", help="folder of the database (created if needed)")
    dbi = dbsub.add_parser("info", help="what each source of DBDIR is, its date, licence and record count")
    dbi.add_argument("dbdir", metavar="DBDIR")

    b = sub.add_parser("verify-bundle", help="check a USB bundle against its SHA256SUMS (0 intact, 1 altered, 2 unreadable)")
    b.add_argument("dir", nargs="?", default=None, help="bundle folder (default: the one this cbom runs from)")
    return p


def _add_selection_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--only", type=_csv, default=[], metavar="A,B",
                   help="run only these collectors (a name such as software.dpkg, or an area such as software)")
    p.add_argument("--skip", type=_csv, default=[], metavar="A,B", help="do not run these collectors (names or areas)")


def _add_output_options(p: argparse.ArgumentParser, writers: dict) -> None:
    """Options shared by `scan` and `ingest`: where and how the CBOM and its reports are written."""
    p.add_argument("-o", "--output", metavar="DIR", help="output folder (default REPORTS/<host>-<UTC time>/)")
    p.add_argument("--reports-dir", metavar="REPORTS", default="cbom-reports",
                   help="where the default output folder is made (default ./cbom-reports; the USB launchers "
                        "give the stick's reports folder)")
    p.add_argument("--format", type=_csv, default=["json", "yaml", "html", "pdf"],
                   help=f"comma-separated formats among {','.join(writers)} (cbom.cdx.json is always written)")
    p.add_argument("--operator", default="", help="name of the person running the scan")
    p.add_argument("--site", default="", help="site or plant name, recorded in the CBOM")
    p.add_argument("--spec-version", choices=["1.6", "1.7"], default="1.6", help="CycloneDX version (default 1.6)")
    p.add_argument("--paper", choices=["A4", "Letter"], default="A4", help="paper size of the PDF report")
    p.add_argument("--lang", default="en", help="language of the HTML/PDF report (a catalogue in templates/i18n/)")
    p.add_argument("--collector-timeout", type=_seconds, default=None, metavar="S",
                   help="override every collector's time limit (seconds, above 0, at most a week)")
    _add_db_option(p)


def _add_db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="DBDIR", default=None,
                   help="match against this offline vulnerability database (`cbom db build`); "
                        "default: a db/ folder beside the cbom executable, when there is one")


def _robust_streams() -> None:
    """Text that the terminal's encoding cannot hold is written escaped (`\\u041a`), never raised.

    On Windows, stdout/stderr redirected to a pipe or file are encoded in the ANSI code page
    (cp1252 in Western Europe) with errors="strict" for stdout: a host, file or package name in
    Cyrillic or Chinese ended `cbom validate`/`diff` with UnicodeEncodeError (stderr already
    escapes). PYTHONIOENCODING=cp1252 does the same on Linux.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):  # not a TextIOWrapper (replaced by a caller), or closed
            pass


def _utf(stream: object) -> bool:
    import codecs

    try:
        return codecs.lookup(getattr(stream, "encoding", None) or "ascii").name.startswith("utf")
    except LookupError:
        return False


class _TerminalFormatter(logging.Formatter):
    """Progress lines as plain text: "…" becomes "..." unless stderr is UTF-8. A Windows pipe is
    cp1252 (byte 0x85) and the console reading it usually an OEM page, where 0x85 is "à"."""

    def __init__(self, fmt: str, lang: str = "en") -> None:
        super().__init__(fmt)
        self.lang = lang  # --lang: the command's own lines in the report's language (cbom.i18n)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if self.lang != "en":
            from .i18n import translate_message

            text = "\n".join(translate_message(line, self.lang) for line in text.split("\n"))
        return text if _utf(sys.stderr) else text.replace("\u2026", "...")


def main(argv: Optional[Sequence[str]] = None, builtin: Sequence[type] = ()) -> int:
    """The `cbom` command. `builtin`: collector classes of a frozen build without entry points."""
    _robust_streams()
    # SIGTERM (a service manager, `timeout`, `kill`) ends a scan as Ctrl-C does: what was collected
    # is written. Only the main thread may set handlers (tests call main() from others too).
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _main(argv, builtin)
    except KeyboardInterrupt:
        print("cbom: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def run(builtin: Sequence[type] = ()) -> None:
    """The `cbom` program (console script, `python -m cbom`, the frozen build): `main`, then exit
    with its code. Once main has returned every file is written: a Ctrl-C or SIGTERM landing in
    the last instants (interpreter shutdown, atexit clean-ups) has nothing left to stop, and would
    otherwise end the process "killed by SIGINT" instead of with cbom's exit code."""
    try:
        code = main(builtin=builtin)
    except KeyboardInterrupt:  # between main's return and here: the files are written
        code = EXIT_INTERRUPTED
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    sys.exit(code)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class _Deferred:
    """Ctrl-C and SIGTERM held back while the CBOM is built and its JSON written (a second or so):
    an interrupt inside the schema validator's import broke it (pyo3 PanicException) and lost the
    scan. An interrupt received meanwhile is raised on leaving, once the JSON is safe."""

    def __enter__(self) -> "_Deferred":
        self.received = False
        self.saved: list = []
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.saved.append((sig, signal.signal(sig, self._note)))
        return self

    def _note(self, signum: int, frame: object) -> None:
        self.received = True

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.saved:
            signal.signal(sig, handler)
        if self.received and exc[0] is None:
            raise KeyboardInterrupt

def _pdf_asked(command: str, argv: Sequence[str]) -> bool:
    """Whether this command line will write a PDF (its default formats, or a --format naming pdf), read
    before argparse so that the PDF's layout process starts first; argparse still checks everything
    (a wrong guess only starts a process that is stopped at exit)."""
    if command not in ("scan", "ingest", "report"):
        return False
    formats = ""
    for i, a in enumerate(argv):
        if a == "--format" and i + 1 < len(argv):
            formats = argv[i + 1]
        elif a.startswith("--format="):
            formats = a.split("=", 1)[1]
    return "pdf" in formats.split(",") if formats else True


def _main(argv: Optional[Sequence[str]], builtin: Sequence[type]) -> int:
    from .registry import load_collectors

    # Only scan, ingest and collectors use the collectors (and their options): the other commands
    # start without importing them (~40 ms of a `cbom report`).
    args_in = list(sys.argv[1:] if argv is None else argv)
    words = [a for a in args_in if not a.startswith("-")]
    lean = bool(words) and words[0] in ("report", "diff", "validate", "verify-bundle")
    if words and _pdf_asked(words[0], args_in):  # WeasyPrint loads while the rest of cbom starts
        from .writers.pdf import prepare

        prepare()
    classes, load_errors = ([], []) if lean else load_collectors(builtin)
    parser = build_parser(classes)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.INFO,
        format="%(message)s", stream=sys.stderr,
    )
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _CleanArgs) for f in handler.filters):
            handler.addFilter(_CleanArgs())
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr:
            handler.setFormatter(_TerminalFormatter("%(message)s", lang=getattr(args, "lang", "en")))
    # WeasyPrint and fontTools log CSS/font notes of their own: noise for an auditor.
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.DEBUG if args.verbose else logging.ERROR)
    for err in load_errors:
        log.warning("warning: %s", err)
    if args.command == "scan":
        return cmd_scan(args, classes)
    if args.command == "ingest":
        return cmd_ingest(args, classes)
    if args.command == "collectors":
        return cmd_collectors(args, classes)
    if args.command == "validate":
        return cmd_validate(args)
    if args.command == "report":
        return cmd_report(args)
    if args.command == "diff":
        from .diff import command

        return command(args)
    if args.command == "db":
        return cmd_db(args)
    if args.command == "verify-bundle":
        from .bundle import command as verify

        return verify(args)
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _host_name(root: Path) -> str:
    from .host import LocalHost, means_running_system

    if not means_running_system(root):
        try:
            # Through the image's backend: its /etc/hostname may be a link out of the image.
            name = LocalHost(root).read("/etc/hostname").strip()
            if name:
                return name.split()[0]
        except OSError:
            pass
        return root.resolve().name or "image"
    return socket.gethostname() or "unknown"  # local name only: no DNS lookup


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name) or "host"


# Options of `scan`/`ingest` themselves; every other parsed value is a collector option.
OWN_OPTIONS = {"command", "quiet", "verbose", "output", "format", "only", "skip", "operator", "site", "root",
               "spec_version", "collector_timeout", "paper", "lang", "dir", "reports_dir", "db"}


def _check_formats(command: str, formats: Sequence[str]) -> bool:
    from . import output

    unknown = [f for f in formats if f not in output.WRITERS]
    if unknown:
        log.error("cbom %s: unknown format(s) %s (choose from %s)", command, ",".join(unknown), ",".join(output.WRITERS))
    return not unknown


def cmd_scan(args: argparse.Namespace, classes: Sequence[Type[Collector]]) -> int:
    from . import runner
    from .collector import ScanContext

    if not _check_formats("scan", args.format):
        return EXIT_USAGE
    root = Path(args.root)
    if not root.is_dir():
        log.error("cbom scan: --root %s is not a folder", root)
        return EXIT_USAGE
    ctx = ScanContext(root=root, options={k: v for k, v in vars(args).items() if k not in OWN_OPTIONS})
    try:
        chosen = runner.select(classes, args.only, args.skip, ctx.platform)
    except runner.SelectionError as exc:
        log.error("cbom scan: %s", exc)
        return EXIT_USAGE
    props = [(V.SCAN_ROOT, str(root))] if not ctx.local else []
    if not ctx.admin:
        props.append((V.SCAN_PRIVILEGE, "unprivileged"))
    return _scan_and_write(args, chosen, ctx, _host_name(root), props)


def cmd_ingest(args: argparse.Namespace, classes: Sequence[Type[Collector]]) -> int:
    """The normal collectors, reading a recorded folder instead of this machine."""
    from . import recording, runner
    from .collector import ScanContext
    from .host import RecordedHost

    if not _check_formats("ingest", args.format):
        return EXIT_USAGE
    if not Path(args.dir).is_dir():
        log.error("cbom ingest: %s is not a folder", args.dir)
        return EXIT_USAGE
    try:
        rec = recording.Recording(args.dir)
    except OSError as exc:
        log.error("cbom ingest: %s: %s", args.dir, exc)
        return EXIT_USAGE
    if rec.platform is None:
        log.error("cbom ingest: %s: no file recognised as a recorded command output "
                  "(expected systeminfo.txt, *.wmi, dmidecode.txt, os-release, sw_vers.txt…)", args.dir)
        return EXIT_USAGE
    options = {k: v for k, v in vars(args).items() if k not in OWN_OPTIONS}
    # The recording is read, not the machine running cbom: no privilege is needed or used.
    ctx = ScanContext(platform=rec.platform, host=RecordedHost(rec), admin=True, options=options)
    try:
        chosen = runner.select_for_recording(classes, rec.platform, args.only, args.skip)
    except runner.SelectionError as exc:
        log.error("cbom ingest: %s", exc)
        return EXIT_USAGE
    return _scan_and_write(args, chosen, ctx, _recorded_host_name(rec), recording.describe(rec, rec.platform))


def _recorded_host_name(rec) -> str:
    """The recorded machine's name before its collectors ran (they may find a better one)."""
    first = rec.text("hostname.txt").strip().split("\n")[0].strip() if rec.has("hostname.txt") else ""
    return first or rec.manifest.host or rec.path.resolve().name or "recorded-host"


def _scan_and_write(args: argparse.Namespace, chosen: Sequence[Type[Collector]], ctx, host: str, props: list) -> int:
    from . import output

    if args.collector_timeout:
        ctx.options.update({"timeout_" + c.name: args.collector_timeout for c in chosen})
    started = datetime.now(timezone.utc)
    out_dir = Path(args.output) if args.output else Path(args.reports_dir) / f"{_safe(host)}-{started:%Y%m%dT%H%M%SZ}"
    # Everything that could stop the files being written is checked before any collector runs:
    # a 30 s capture and a whole inventory are not to be thrown away at the end.
    if not _check_report_options(args.command, args.format, args.lang):
        return EXIT_USAGE
    if not _check_db(args):
        return EXIT_USAGE
    renamed = ctx.recorded and not args.output  # the folder is named after the recorded machine's OS
    held: list = []  # the folder locks taken, released when done
    try:
        if renamed:
            output.check_writable(out_dir.parent)
        else:
            held.append(output.lock(out_dir))
    except OSError as exc:
        log.error("cbom %s: cannot write to %s: %s (nothing scanned; choose another folder with -o)",
                  args.command, out_dir.parent if renamed else out_dir, exc.strerror or exc)
        return EXIT_USAGE
    try:
        return _run_and_write(args, chosen, ctx, host, props, out_dir, held, started)
    finally:
        for lock in held:
            lock.release()


def _run_and_write(args: argparse.Namespace, chosen: Sequence[Type[Collector]], ctx, host: str, props: list,
                   out_dir: Path, held: list, started: datetime) -> int:
    from . import output, runner

    if args.site:
        props.append((V.SITE, args.site))
    log.info("cbom %s: scanning %s with %s", __version__, host, ", ".join(c.name for c in chosen) or "no collector")
    if not ctx.admin:
        log.info("running without root/Administrator: some collectors will be limited")

    def progress(run) -> None:
        extra = f"  {run.reason}" if run.reason else ""
        log.info("  %-17s %-8s %7.2f s %6d components%s", run.name, run.status.value, run.duration, run.components, extra)

    def starting(cls) -> None:
        line = "" if cls.unavailable(ctx) else cls.announce(ctx)
        if line:
            log.info("  %-17s %s", cls.name, line)

    t0 = time.monotonic()
    scan = runner.scan(chosen, ctx, host_name=host, operator=args.operator, properties=tuple(props),
                       progress=progress, starting=starting)
    # Ctrl-C during the collectors ends the collection and the scan is written whole (its runs say
    # "interrupted", exit 3); a Ctrl-C once writing has begun stops after the CBOM (exit 130).
    interrupted = False
    problems: List[str] = []
    paths: List[Path] = []
    with _Deferred() as deferred:  # the CBOM is written whole, whenever Ctrl-C comes
        if ctx.recorded:
            scan = runner.named_by_os(scan)
            if not args.output:
                out_dir = Path(args.reports_dir) / f"{_safe(scan.host.name)}-{started:%Y%m%dT%H%M%SZ}"
        scan = _with_knowledge(args, scan)
        document, schema_errors = output.build(scan, args.spec_version)
        unchecked = output.not_validated(args.spec_version)
        if unchecked:  # no validator loads here (Windows 8.1): the CBOM is written and says so
            log.error("cbom: %s", unchecked)
        for err in schema_errors:  # quotes the value: a 10 MB version would fill the terminal
            log.error("schema error (please report this bug): %s", err if len(err) <= 300 else err[:300] + "…")
        document.options.update(paper=args.paper, lang=args.lang)
        try:
            if not held:
                held.append(output.lock(out_dir))
            paths, problems = output.write(document, out_dir, ["json"])
        except OSError as exc:
            problems = [f"cannot write to {out_dir}: {exc.strerror or exc}"]
        if not paths:  # the CBOM could not be written where asked: never lose a finished scan
            for problem in problems:
                log.error("cbom: %s", problem)
            return _rescue(document, host, started, out_dir)
    interrupted = deferred.received
    rest = [f for f in args.format if f != "json"]
    try:
        if rest and not interrupted:
            more, more_problems = output.write(document, out_dir, rest)
            paths += [p for p in more if p not in paths]
            problems += more_problems
    except KeyboardInterrupt:  # the folder stays consistent: what was written is listed
        interrupted = True
        problems.append("interrupted while writing the reports: not every format was written")
    except OSError as exc:
        problems.append(f"cannot write to {out_dir}: {exc.strerror or exc}")
    for problem in problems:
        log.error("%s", problem)
    _summary(scan, time.monotonic() - t0)
    log.info("wrote %s", out_dir)
    for p in sorted(paths, key=lambda p: p.name == output.SUMS_NAME):  # SHA256SUMS last
        log.info("  %s", p.name)
    if interrupted:
        log.error("cbom: interrupted: the CBOM is written in %s, the other formats may not be", out_dir)
        return EXIT_INTERRUPTED
    incomplete = scan.status.value in ("partial", "failed") or schema_errors or problems
    return EXIT_INCOMPLETE if incomplete else EXIT_OK


def _check_report_options(command: str, formats: Sequence[str], lang: str) -> bool:
    """Whether the report's language exists (when a report is asked for); says why not."""
    if not any(f in ("html", "pdf") for f in formats):
        return True
    from .report import check_lang

    try:
        check_lang(lang)
    except (ValueError, OSError) as exc:
        log.error("cbom %s: --lang %s: %s", command, lang, exc)
        return False
    return True


def _rescue(document, host: str, started: datetime, out_dir: Path) -> int:
    """Write the CBOM of a finished scan where it can be written (a new folder in the temporary
    folder, then in the home folder) and say where, naming the folder that failed (a writer's
    "cbom.cdx.json not written: Read-only file system" does not); exit 3 either way."""
    import tempfile

    from . import output

    for base in (tempfile.gettempdir(), str(Path.home())):
        try:
            folder = Path(tempfile.mkdtemp(prefix=f"cbom-{_safe(host)}-{started:%Y%m%dT%H%M%SZ}-", dir=base))
            folder.chmod(0o755)  # mkdtemp makes it 0700: the auditor's account must read a `sudo` scan
            paths, _ = output.write(document, folder, ["json"])
        except OSError:
            continue
        if paths:
            log.error("cbom: the scan could not be written in %s: it is saved in %s instead (%s)",
                      out_dir, folder, output.JSON_NAME)
            return EXIT_INCOMPLETE
    log.error("cbom: the scan could not be written in %s, nor saved anywhere else (tried the temporary and home folders)",
              out_dir)
    return EXIT_INCOMPLETE


def _summary(scan, seconds: float) -> None:
    from collections import Counter

    counts = Counter(c.category.value for c in scan.components)
    log.info("%d components (%s), %d findings in %.1f s",
             len(scan.components), ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none",
             len(scan.findings), seconds)
    if scan.vulnerabilities:
        eol = sum(1 for v in scan.vulnerabilities if v.kind.value == "end-of-life")
        sev = Counter(v.severity.value for v in scan.vulnerabilities if v.kind.value != "end-of-life")
        log.info("%d known vulnerabilities (%s), %d past end of life", len(scan.vulnerabilities) - eol,
                 ", ".join(f"{n} {k}" for k, n in sev.most_common()) or "none", eol)
    not_ok = [r for r in scan.runs if r.status.value != "ok"]
    if not_ok:
        log.info("not fully collected:")
        for r in not_ok:
            for i, line in enumerate(r.gaps or (r.reason,)):
                log.info("  %-17s %-8s %s", r.name if i == 0 else "", r.status.value if i == 0 else "", line)


def cmd_collectors(args: argparse.Namespace, classes: Sequence[Type[Collector]]) -> int:
    from .collector import ScanContext

    ctx = ScanContext(root=Path(args.root))
    print(f"{'name':<18} {'default':<8} {'platforms':<22} status")
    for cls in classes:
        why = cls.unavailable(ctx)
        platforms = ",".join(sorted(p.value for p in cls.platforms))
        state = "can run" if not why else "cannot run: " + why
        print(f"{cls.name:<18} {'yes' if cls.default else 'no':<8} {platforms:<22} {state}")
        if cls.description:
            print(f"{'':<18} {cls.description}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from . import cyclonedx, validate
    from .document import clean

    try:
        doc = cyclonedx.read_json(args.file)
        cyclonedx.check_format(doc, args.file)
    except cyclonedx.NotJson as exc:  # NaN/Infinity: Python reads them, no JSON (RFC 8259) holds them
        print(clean(exc, one_line=True))
        return EXIT_INVALID
    except cyclonedx.ReadError as exc:  # unreadable, not a file, too big, not UTF-8, not JSON, truncated,
        print(f"cbom validate: {clean(exc, one_line=True)}", file=sys.stderr)  # not CycloneDX (SPDX...)
        return EXIT_USAGE
    try:
        errors = validate.errors(doc)
    except validate.SchemaUnavailable as exc:  # an unsupported version, or no validator loads here
        print(f"cbom validate: {clean(args.file, one_line=True)}: cannot tell: {exc}", file=sys.stderr)
        return EXIT_USAGE
    spec = clean(doc.get("specVersion"), one_line=True)
    if errors:  # a schema error quotes the document's values: shown cleaned
        print(f"{args.file}: invalid CycloneDX {spec} ({len(errors)} errors shown)")
        for e in errors:
            print(f"  {clean(e, one_line=True)}")
        return EXIT_INVALID
    print(f"{args.file}: valid CycloneDX {spec}")
    lone = cyclonedx.lone_surrogates(doc)
    if lone:  # valid JSON, as for `report` and `diff`, which read them as U+FFFD (said here too)
        print(f"note: {lone} lone UTF-16 surrogate(s) (\\ud800-\\udfff escapes) in strings: no UTF-8 text "
              "can hold them; cbom report and cbom diff read each as U+FFFD")
    return EXIT_OK


def _say(args: argparse.Namespace, line: str) -> None:
    """One line of `cbom report` on stderr, in the report's language (--lang)."""
    lang = getattr(args, "lang", "en")
    if lang != "en":
        from .i18n import translate_message

        line = translate_message(line, lang)
    print(line, file=sys.stderr)


def cmd_report(args: argparse.Namespace) -> int:
    import hashlib

    from . import cyclonedx, output
    from .document import clean

    unknown = [f for f in args.format if f not in ("pdf", "html") or f not in output.WRITERS]
    if unknown:
        _say(args, f"cbom report: format(s) not available: {','.join(unknown)}")
        return EXIT_USAGE
    if not _check_report_options("report", args.format, args.lang):
        return EXIT_USAGE
    try:
        raw = cyclonedx.read_bytes(args.file)
        doc = cyclonedx.parse_json(raw, args.file)
        scan, notes = cyclonedx.read_dict(doc, source=args.file)
    except cyclonedx.ReadError as exc:
        _say(args, f"cbom report: {clean(exc, one_line=True)}")
        return EXIT_USAGE
    for note in notes:
        _say(args, f"cbom report: note: {clean(note, one_line=True)}")
    out_dir = Path(args.output) if args.output else Path(args.file).resolve().parent
    if not _check_db(args):
        return EXIT_USAGE
    matched = _with_knowledge(args, scan)
    formats = list(args.format)
    if matched is not scan:
        # The matches are added to the CBOM, written beside the report: the SHA-256 on the report's
        # cover is the one of a file that holds every figure of the report (a CBOM of its own).
        document, _errors = output.build(matched, doc.get("specVersion") or cyclonedx.DEFAULT_SPEC)
        formats = ["json"] + formats
        _say(args, f"cbom report: the matches are added to {out_dir / output.JSON_NAME}")
    else:
        # The PDF and HTML need the scan, not the JSON: the file's objects are let go before the
        # layout process peaks (3,000 packages: the two processes together 176 -> 164 MB at most).
        document = output.Document(scan, {}, "", file_sha256=hashlib.sha256(raw).hexdigest())
    del raw, doc
    document.options.update(paper=args.paper, lang=args.lang)
    try:
        with output.lock(out_dir):
            paths, problems = output.write(document, out_dir, formats)
    except OSError as exc:
        _say(args, f"cbom report: cannot write to {out_dir}: {exc.strerror or exc}")
        return EXIT_INCOMPLETE
    for p in problems:
        _say(args, f"cbom report: {clean(p, one_line=True)}")
    for path in paths:
        print(path)
    return EXIT_INCOMPLETE if problems else EXIT_OK


# --- offline vulnerability database (cbom/vulndb) -------------------------------------------------


def _db_dir(args: argparse.Namespace) -> Optional[Path]:
    """--db, else the bundle's db/ folder when present, else None (no matching)."""
    from . import vulndb

    if getattr(args, "db", None):
        return Path(args.db)
    return vulndb.default_dbdir()


def _check_db(args: argparse.Namespace) -> bool:
    """The database is checked before any collector runs: a wrong --db is a usage error."""
    from . import vulndb

    where = _db_dir(args)
    if where is None:
        return True
    try:
        vulndb.info(where)
    except vulndb.DBError as exc:
        log.error("cbom %s: --db: %s", args.command, exc)
        return False
    return True


def _with_knowledge(args: argparse.Namespace, scan):
    from . import vulndb

    where = _db_dir(args)
    if where is None:
        return scan
    t0 = time.monotonic()
    try:
        matched = vulndb.apply(scan, where)
    except vulndb.DBError as exc:  # checked before the scan; a database removed meanwhile
        log.error("cbom: %s: not matched", exc)
        return scan
    line, stale = vulndb.knowledge_line(matched)
    log.info("matched against %s (%s): %d known vulnerabilities / end-of-life cycles in %.2f s",
             where, line, len(matched.vulnerabilities), time.monotonic() - t0)
    if stale:
        log.warning("warning: %s", stale)
    return matched


def cmd_db(args: argparse.Namespace) -> int:
    """`cbom db build SOURCE... -o DBDIR` and `cbom db info DBDIR`."""
    from . import vulndb

    if args.db_command == "build":
        t0 = time.monotonic()
        try:
            sources = vulndb.build([Path(s) for s in args.sources], Path(args.output))
        except (vulndb.SourceError, vulndb.DBError) as exc:
            print(f"cbom db build: {clean_line(exc)} (nothing written)", file=sys.stderr)
            return EXIT_USAGE
        except OSError as exc:
            print(f"cbom db build: {clean_line(exc.strerror or exc)} (nothing written)", file=sys.stderr)
            return EXIT_USAGE
        for s in sources:
            print(f"{s.kind:15s} {s.date or '-':10s} {s.records:8d} records  {clean_line(s.name)}  [{s.licence}]")
        print(f"wrote {Path(args.output) / vulndb.DB_NAME} in {time.monotonic() - t0:.1f} s")
        return EXIT_OK
    if args.db_command == "info":
        try:
            info = vulndb.info(Path(args.dbdir))
        except vulndb.DBError as exc:
            print(f"cbom db info: {clean_line(exc)}", file=sys.stderr)
            return EXIT_USAGE
        print(f"database   {info.path}")
        print(f"built      {info.built}")
        age = info.age_days()
        print(f"knowledge  as of {info.knowledge_date or 'unknown'}" + (f" ({age} days ago)" if age is not None else ""))
        warning = vulndb.stale_warning(info.knowledge_date, datetime.now(timezone.utc).date())
        if warning:
            print(f"warning    {warning}")
        for s in info.sources:
            print(f"source     {s.kind:15s} {s.date or '-':10s} {s.records:8d} records  {clean_line(s.name)}  "
                  f"licence {s.licence}  {s.url}  from {clean_line(s.path)}")
        return EXIT_OK
    print("cbom db: give an action: build or info", file=sys.stderr)
    return EXIT_USAGE


def clean_line(value: object) -> str:
    from .document import clean

    return clean(value, one_line=True)
