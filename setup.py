"""Optional native build of the capture engine (everything else is in pyproject.toml).

`CBOM_COMPILE=1 python setup.py build_ext --inplace` (run by .ci/setup) compiles the
passive-capture hot path with mypyc, the compiler that ships with mypy: the same typed
sources, turned into a C extension next to each module, which Python then imports instead
of the .py. Measured on the million-packet mix of benchmarks/bench_capture.py: the whole
capture run takes 2.5 s instead of 5.6 s (identical tables). Without the variable (a plain
`pip install`, the USB bundle's wheel, Windows) cbom is pure Python and gives the same results,
only slower (tests/collectors/test_capture_compiled.py compares both).
"""
import os
from glob import glob

from setuptools import setup

# The per-packet path: frame reader, engine, its records and every protocol dissector.
COMPILED = sorted(
    ["collectors/capture/_engine.py", "collectors/capture/_records.py", "collectors/capture/_wire.py",
     "collectors/capture/_pcap.py"] + [p for p in glob("collectors/capture/protocols/*.py") if not p.endswith("__init__.py")])

ext_modules = []
if os.environ.get("CBOM_COMPILE") == "1":
    from mypyc.build import mypycify

    # One shared library inside the package (a default name would land at the top of site-packages).
    ext_modules = mypycify(COMPILED, opt_level="3", target_dir="build/mypyc", group_name="collectors.capture._native")

setup(ext_modules=ext_modules)
