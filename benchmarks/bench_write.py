"""Time writing a CBOM of N software components (build + serialize + validate + YAML).

Usage: python benchmarks/bench_write.py [N]   (default 3000; target: JSON incl. validation < 1 s)
Components are built from this machine's real dpkg list when there is one, padded with
synthetic ones to N.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from cbom import output
from cbom import vocabulary as V
from cbom.model import Category, CollectorRun, Component, Host, Kind, Scan, Status


def packages(n: int):
    rows = []
    if shutil.which("dpkg-query"):
        out = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Version} ${Architecture}\\n"],
                             capture_output=True, text=True).stdout
        rows = [line.split() for line in out.splitlines() if len(line.split()) == 3]
    i = 0
    while len(rows) < n:
        rows.append([f"synthetic-{i}", f"1.{i}-1", "amd64"])
        i += 1
    return rows[:n]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    comps = tuple(
        Component(category=Category.SOFTWARE, kind=Kind.LIBRARY, name=name, version=ver,
                  purl=f"pkg:deb/debian/{name}@{ver}?arch={arch}&distro=debian-12",
                  licenses=("MIT",),
                  properties=((V.PACKAGE_MANAGER, "dpkg"), (V.OS_ARCH, arch), (V.SOURCE, name)))
        for name, ver, arch in packages(n)
    )
    scan = Scan(id="urn:uuid:00000000-0000-4000-8000-000000000000", started=datetime.now(timezone.utc),
                tool_version="bench", host=Host(name="bench"), components=comps,
                runs=(CollectorRun("software", Status.OK, 0.1, components=n),))
    t0 = time.perf_counter()
    document, errors = output.build(scan)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        output.write(document, Path(tmp), ["json"])
        t2 = time.perf_counter()
        output.write(document, Path(tmp), ["yaml"])
        t3 = time.perf_counter()
    assert not errors, errors[:3]
    print(f"{n} components: build+validate {t1 - t0:.3f} s, write JSON {t2 - t1:.3f} s "
          f"(JSON total {t2 - t0:.3f} s, target < 1 s), YAML {t3 - t2:.3f} s, {len(document.json_text) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
