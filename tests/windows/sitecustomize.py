"""Test-only: wine 8.0 workarounds for CPython >= 3.12, imported by `site` at start-up.

Copied next to python.exe of the Windows tier's embeddable 3.13 (never onto a stick):
- W2: `platform.*` asks WMI through `_wmi`, which calls propsys.dll!VariantToString, absent from
  wine 8.0: the process aborts. Without `_wmi`, platform falls back to sys.getwindowsversion(),
  as it does on 3.8-3.11.
- W3: `shutil.copy2` calls kernel32!CopyFile2, absent from wine 8.0: the process aborts. Without
  `_winapi.CopyFile2`, shutil takes its portable copy.
(See ../shared/notes/windows-under-wine.md.)
"""
import sys

import _winapi

sys.modules["_wmi"] = None  # type: ignore[assignment]
if hasattr(_winapi, "CopyFile2"):
    del _winapi.CopyFile2
