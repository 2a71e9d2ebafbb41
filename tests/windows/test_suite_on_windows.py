"""The suite's Windows-relevant test modules, run by pytest under the Windows CPython 3.13 (wine).

cbom comes from the wheelhouse install (site-packages), the tests from a copy of tests/ on D:
(with ../shared/fixtures beside it, as in the clone). Selected: the parsers, ingest, the recorded
backend, the CycloneDX writer, diff, the HTML report, the CLI, the runner and the Windows
collectors, plus every module holding a test marked to run on Windows only. Deselected, each
with its reason: tests that assume POSIX (sh, chmod, signals, symlinks), need a PDF engine (no
Edge or Chrome in the wine prefix), rely on the layout of a source checkout, or on PYTHONPATH
(which the embeddable CPython's ._pth file ignores). A cbom bug stays selected and fails here.
"""
from __future__ import annotations

import ast
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest

from conftest import REPO, SHARED
from wine_fixtures import bundle, DRIVE_D, prefix, text, win_pythons, win_wheelhouse  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow
SUITE_TIMEOUT = 900
# One test hanging ends the run (pytest-timeout's only method on Windows: a stack dump, then exit).
TEST_TIMEOUT = 120
MODULES = (
    "tests/collectors/test_os_windows.py", "tests/collectors/test_hardware_windows.py",
    "tests/collectors/test_os_text.py", "tests/collectors/test_network_parsers.py",
    "tests/collectors/test_software.py", "tests/collectors/test_ingest.py",
    "tests/collectors/test_os_darwin.py", "tests/collectors/test_hardware_darwin.py",
    "tests/collectors/test_python_own_site.py",
    "tests/core/test_host.py", "tests/core/test_cyclonedx.py", "tests/core/test_diff.py",
    "tests/core/test_report.py", "tests/core/test_report_view.py", "tests/core/test_cli.py",
    "tests/core/test_runner.py", "tests/core/test_registry.py",
)
NO_PDF = "PDF: no Edge or Chrome in the wine prefix"
DESELECTED: Dict[str, str] = {
    "tests/collectors/test_ingest.py::test_collect_sh_here_then_ingest_equals_a_live_scan": "POSIX: runs collect.sh with sh",
    "tests/collectors/test_software.py::test_document_validates": "assumes Linux: the Linux software collector must run",
    "tests/core/test_host.py::test_a_command_run_twice_in_a_scan_runs_once": "POSIX: a #!/bin/sh script",
    "tests/core/test_host.py::test_recorded_command_is_the_file_the_script_wrote": "POSIX: runs collect.sh with sh",
    "tests/core/test_host.py::test_recorded_file_follows_the_manifest": "POSIX: runs collect.sh with sh",
    "tests/core/test_host.py::test_recorded_sysfs_links_resolve_as_on_the_machine": "POSIX: runs collect.sh with sh",
    "tests/core/test_cyclonedx.py::test_real_scan_output": NO_PDF,
    "tests/core/test_diff.py::test_pdf": NO_PDF,
    "tests/core/test_report.py::TestLargeHtml": NO_PDF + " (its fixture renders one)",
    "tests/core/test_report.py::test_report_unavailable_without_weasyprint": "asserts the Linux PDF engine's message",
    "tests/core/test_report.py::test_templates_found_and_overridable": "source-checkout layout (templates beside the package)",
    "tests/core/test_cli.py::test_default_output_folder": "wine: socket.gethostname() is the Linux name, `hostname` prints it upper-case",
    "tests/core/test_cli.py::test_spec_17_on_request": NO_PDF + " (default formats include pdf: exit 3)",
    "tests/core/test_cli.py::test_quiet_prints_nothing_on_success": NO_PDF + " (default formats include pdf: exit 3)",
    "tests/core/test_cli.py::test_unwritable_output_is_a_clear_error": "POSIX: chmod of a folder",
    "tests/core/test_runner.py::test_failures_are_recorded_and_report_still_valid": "PYTHONPATH plug-ins: ignored by ._pth",
    "tests/core/test_runner.py::test_collectors_command_lists_plugins": "PYTHONPATH plug-ins: ignored by ._pth",
    "tests/core/test_runner.py::test_ctrl_c_keeps_what_was_collected": "POSIX: SIGINT and preexec_fn",
}
# A skipif that runs a test on Windows only (os.name, sys.platform or platform.system()).
WINDOWS_ONLY = re.compile(r"""skipif\(\s*(?:os\.name\s*!=\s*['"]nt['"]|sys\.platform\s*!=\s*['"]win32['"]"""
                          r"""|not\s+sys\.platform\.startswith\(\s*['"]win['"]\s*\)"""
                          r"""|platform\.system\(\)\s*!=\s*['"]Windows['"])""")


def windows_only_tests(path: Path) -> List[Tuple[str, str]]:
    """(junit class name, test name) of the tests of module `path` marked to run on Windows only:
    by a decorator, a module- or class-level `pytestmark`, or a marker kept in a module variable."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    module = ".".join(path.relative_to(REPO).with_suffix("").parts)

    def marks(node: ast.AST) -> bool:
        segment = ast.get_source_segment(source, node) or ""
        return bool(WINDOWS_ONLY.search(segment)) or any(
            isinstance(n, ast.Name) and n.id in named for n in ast.walk(node))

    named: Set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and WINDOWS_ONLY.search(ast.get_source_segment(source, node.value) or ""):
            named.update(t.id for t in node.targets if isinstance(t, ast.Name))

    def pytestmark(body: List[ast.stmt]) -> bool:
        return any(isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in n.targets)
                   and marks(n.value) for n in body)

    everything = pytestmark(tree.body)
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            if everything or any(marks(d) for d in node.decorator_list):
                found.append((module, node.name))
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            whole = everything or pytestmark(node.body) or any(marks(d) for d in node.decorator_list)
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test"):
                    if whole or any(marks(d) for d in item.decorator_list):
                        found.append((f"{module}.{node.name}", item.name))
    return found


def windows_marked() -> Dict[str, List[Tuple[str, str]]]:
    """{module path: its Windows-only tests} over tests/core and tests/collectors."""
    out = {}
    for path in sorted((REPO / "tests").glob("co*/test_*.py")):
        found = windows_only_tests(path)
        if found:
            out[path.relative_to(REPO).as_posix()] = found
    return out


@pytest.fixture(scope="module")
def junit(prefix, win_pythons) -> ET.Element:  # noqa: F811
    suite = DRIVE_D / "suite"
    shutil.rmtree(suite, ignore_errors=True)
    shutil.copytree(REPO / "tests", suite / "tests", ignore=shutil.ignore_patterns(".cache", "__pycache__", "*.pyc"))
    shutil.rmtree(suite / "tests" / "windows")
    shutil.copytree(REPO / "usb_bundle" / "collect", suite / "usb_bundle" / "collect")  # test_ingest reads collect.bat
    shutil.copyfile(REPO / "pyproject.toml", suite / "pyproject.toml")  # pytest's configuration and markers
    shutil.rmtree(DRIVE_D / "shared", ignore_errors=True)
    if (SHARED / "fixtures").is_dir():
        shutil.copytree(SHARED / "fixtures", DRIVE_D / "shared" / "fixtures")  # SHARED = REPO.parent / "shared"
    modules = sorted(set(MODULES) | set(windows_marked()))
    argv: List[object] = [win_pythons["3.13"], "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", "--timeout", str(TEST_TIMEOUT),
                          "--basetemp", suite / "tmp", "--junitxml", suite / "junit.xml"]
    for nodeid in DESELECTED:
        argv += ["--deselect", nodeid]
    proc = prefix.run([*argv, *modules], cwd="D:\\suite", timeout=SUITE_TIMEOUT, env={"PYTHONDONTWRITEBYTECODE": "1"})
    report = suite / "junit.xml"
    assert report.is_file(), f"pytest under Windows wrote no report (exit {proc.returncode}):\n" \
                             f"{text(proc.stdout)[-3000:]}\n{text(proc.stderr)[-3000:]}"
    print(f"\npytest under the Windows CPython 3.13: {text(proc.stdout).strip().splitlines()[-1]}")
    return ET.parse(report).getroot()


def _outcome(case: ET.Element) -> str:
    for kind in ("failure", "error", "skipped"):
        if case.find(kind) is not None:
            return kind
    return "passed"


def test_selected_modules_pass_under_windows(junit):
    bad = []
    for case in junit.iter("testcase"):
        kind = _outcome(case)
        if kind in ("failure", "error"):
            element = case.find(kind)
            assert element is not None
            message = (element.get("message") or "").strip().splitlines()[:1]
            bad.append(f"{case.get('classname')}::{case.get('name')} ({kind}): {message[0][:200] if message else ''}")
    ran = sum(1 for _ in junit.iter("testcase"))
    assert ran > 300, f"only {ran} tests ran: modules missing from the copy?"
    assert bad == [], f"{len(bad)} tests fail under Windows:\n" + "\n".join(bad)


def test_windows_only_tests_ran_and_passed_there(junit):
    marked = [t for tests in windows_marked().values() for t in tests]
    assert marked, "no test in tests/core or tests/collectors is marked to run on Windows only " \
                   "(skipif(os.name != \"nt\")): nothing Windows-specific was checked"
    outcomes: Dict[Tuple[str, str], List[str]] = {}
    for case in junit.iter("testcase"):
        key = (case.get("classname") or "", (case.get("name") or "").split("[")[0])
        outcomes.setdefault(key, []).append(_outcome(case))
    problems = []
    for cls, name in marked:
        got = outcomes.get((cls, name), [])
        if not got or any(o != "passed" for o in got):
            problems.append(f"{cls}::{name}: {got or 'not run'}")
    assert problems == [], "Windows-only tests that did not pass under Windows:\n" + "\n".join(problems)
