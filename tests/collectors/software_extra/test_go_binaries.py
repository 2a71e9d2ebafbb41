"""software.go: Go executables and their embedded module list.

Truth: Debian's shfmt package (tests/fixtures/software_extra/SOURCES.md: Built-Using golang-1.19
(= 1.19.8-2); a dh-golang GOPATH build, so it names its package path and no module), and on this
machine `go version -m` (the Go toolchain's own reader) where a `go` command is on PATH.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from cbom import vocabulary as V
from cbom.collector import ScanContext
from cbom.model import Component, Gap, Kind
from collectors.software._go import (MAGIC, collect_go_binaries, elf_go_data_segments, parse_build_info,
                                     parse_modinfo)

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "software_extra" / "go-shfmt"


def _apps(items: List[object]) -> Dict[str, Component]:
    return {c.prop(V.PACKAGE_PATH): c for c in items if isinstance(c, Component) and c.kind == Kind.APPLICATION}


def _go_version_m(path: str) -> Tuple[str, str, List[Tuple[str, str]]]:
    """(go version, main package path, [(module, version)]) as `go version -m` prints them."""
    out = subprocess.run(["go", "version", "-m", path], capture_output=True, text=True, timeout=60).stdout
    lines = out.splitlines()
    version = lines[0].split(": ", 1)[1]
    path_line = ""
    mods: List[Tuple[str, str]] = []
    for ln in lines[1:]:
        f = ln.strip().split("\t")
        if f[0] == "path":
            path_line = f[1]
        elif f[0] == "dep":
            mods.append((f[1], f[2] if len(f) > 2 else ""))
        elif f[0] == "=>":  # a local folder replacing a module: the module at no published version
            mods[-1] = (mods[-1][0], "") if f[1].startswith((".", "/")) else (f[1], f[2] if len(f) > 2 else "")
    return version, path_line, [(m, "" if v == "(devel)" else v) for m, v in mods]  # a work tree: no version


def test_debian_shfmt_under_root():
    items = list(collect_go_binaries(ScanContext(root=FIXTURE)))
    assert not [i for i in items if isinstance(i, Gap)]
    app = _apps(items)["/usr/bin/shfmt"]
    # Upstream's import path (mvdan.cc/sh/v3, the cmd/shfmt package); no module line: GOPATH build.
    assert app.name == "mvdan.cc/sh/v3/cmd/shfmt" and app.version == "" and app.purl == ""
    assert "go1.19.8" in app.description
    stdlib = [c for c in items if isinstance(c, Component) and c.name == "stdlib"]
    assert [(c.version, c.purl) for c in stdlib] == [("1.19.8", "pkg:golang/stdlib@1.19.8")]
    assert app.depends_on == (stdlib[0].ref,)


def test_only_the_data_segment_is_searched():
    """The header lies where debug/buildinfo looks: the start of the first writable segment."""
    data = (FIXTURE / "usr/bin/shfmt").read_bytes()
    segments = elf_go_data_segments(data[:8192])
    assert segments and data.find(MAGIC) == segments[0][0]
    info = parse_build_info(data, segments[0][0], segments[0][0] + 64 * 1024)
    assert info is not None and info.go_version == "go1.19.8" and info.path == "mvdan.cc/sh/v3/cmd/shfmt"
    assert ("GOARCH", "amd64") in info.settings and info.main is None and info.deps == ()
    # Not an ELF, or an ELF without the Go note: never read further.
    assert elf_go_data_segments(b"#!/bin/sh\n") is None
    assert elf_go_data_segments(Path("/bin/sh").read_bytes()[:8192]) is None


def test_module_text_with_replacements():
    # The module lines of `go version -m` of a module-mode build (terraform here), one replaced.
    path, main, deps, settings = parse_modinfo(
        "path\tgithub.com/hashicorp/terraform\nmod\tgithub.com/hashicorp/terraform\t(devel)\t\n"
        "dep\tcloud.google.com/go\tv0.110.0\th1:abc=\ndep\tgithub.com/x/y\tv1.0.0\th1:x=\n"
        "=>\tgithub.com/fork/y\tv1.0.1\th1:y=\ndep\tgithub.com/a/b\tv0.0.1\t\n=>\t./internal/b\t(devel)\t\nbuild\t-compiler=gc\nbuild\tvcs.revision=0123456789abcdef\n")
    assert path == "github.com/hashicorp/terraform" and main is not None and main.version == "(devel)"
    assert [(d.path, d.version) for d in deps] == [("cloud.google.com/go", "v0.110.0"), ("github.com/fork/y", "v1.0.1"),
                                                   ("github.com/a/b", "")]
    assert settings[-1] == ("vcs.revision", "0123456789abcdef")


def test_damaged_binaries_become_gaps(tmp_path):
    data = (FIXTURE / "usr/bin/shfmt").read_bytes()
    at = data.find(MAGIC)
    (tmp_path / "usr/bin").mkdir(parents=True)
    (tmp_path / "usr/bin/cut").write_bytes(data[:at + 40])  # strings cut off after the header
    old = bytearray(data[:at + 64 * 1024])
    old[at + 15] = 0  # flags without flagsVersionInl: the pre-1.18 pointer form
    (tmp_path / "usr/bin/old").write_bytes(bytes(old))
    with pytest.raises(ValueError):
        parse_build_info(data[:at + 40])
    items = list(collect_go_binaries(ScanContext(root=tmp_path)))
    gaps = [g.reason for g in items if isinstance(g, Gap)]
    assert not _apps(items) and len(gaps) == 1
    assert "/usr/bin/cut: truncated" in gaps[0] and "/usr/bin/old: Go build information in the pre-1.18" in gaps[0]


@pytest.mark.live
def test_live_go_binaries_equal_go_version_m():
    """Every Go binary found on this machine, against the Go toolchain's own `go version -m`."""
    items = list(collect_go_binaries(ScanContext()))
    apps = _apps(items)
    by_ref = {c.ref: c for c in items if isinstance(c, Component)}
    if not shutil.which("go"):
        # No toolchain: each binary found at least holds the header and the version string it reports.
        for path, app in apps.items():
            raw = Path(path).read_bytes()
            assert MAGIC in raw and app.description.split(" built with ")[1].split()[0].encode() in raw
        return
    for path, app in apps.items():
        version, pkg, mods = _go_version_m(os.path.realpath(path))
        deps = [by_ref[r] for r in app.depends_on]
        assert f"built with {version}" in app.description and pkg in app.description, path
        assert [(d.name, d.version) for d in deps if d.name != "stdlib"] == mods, path
        assert [d.version for d in deps if d.name == "stdlib"] == [version.split()[0][2:]]
        for d in deps:
            if d.name != "stdlib" and d.version:
                assert d.purl.startswith("pkg:golang/") and d.purl.endswith("@" + d.version.replace("+", "%2B"))


def test_the_debootstrap_image_has_no_go_binary(debootstrap_root):
    assert list(collect_go_binaries(ScanContext(root=debootstrap_root))) == []
