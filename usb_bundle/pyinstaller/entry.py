"""Entry point of the frozen `cbom` executable (PyInstaller one-folder build)."""
import sys

sys.dont_write_bytecode = True  # never leave __pycache__ next to the stick's files

if sys.argv[1:2] == ["--cbom-cpuid-child"]:  # collectors.hardware._cpuid.CHILD_ARG: CPUID in a process of its own
    from collectors.hardware._cpuid import child_main

    sys.exit(child_main())

from cbom.cli import run  # noqa: E402
from collectors import BUILTIN  # noqa: E402  (no entry points in a frozen build)

if __name__ == "__main__":
    run(builtin=BUILTIN)
