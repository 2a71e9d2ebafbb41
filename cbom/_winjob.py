"""Windows Job Objects through ctypes: end a command together with every process it started.

Windows has no process groups to signal. A Job Object holds a process and, by default, every
process it creates afterwards; `TerminateJobObject` ends them all at once, and with
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE closing the job's last handle does the same, so nothing a
command started outlives cbom even if cbom itself is killed (Microsoft Learn, "Job Objects";
JOBOBJECT_EXTENDED_LIMIT_INFORMATION). Nested jobs need Windows 8 or later: on Windows 7, when
cbom itself runs inside a job (a launcher, the Program Compatibility Assistant),
AssignProcessToJobObject fails and `attach` returns None (the caller then uses
`taskkill /T /F`).

The command is assigned right after it starts: a process it created in the first instant escapes
the job (CREATE_SUSPENDED would close that window, but subprocess keeps no thread handle to
resume). Every function returns a failure as a value and never raises.
"""
from __future__ import annotations

import subprocess
import sys
from typing import Any, Optional

__all__ = ["attach", "close", "terminate"]

# winnt.h
_JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
_JOB_OBJECT_EXTENDED_LIMIT_INFORMATION = 9  # JOBOBJECTINFOCLASS JobObjectExtendedLimitInformation

_api: Any = None  # (kernel32, structure class) once loaded; False when ctypes cannot load it


def _load() -> Any:
    global _api
    if _api is not None:
        return _api
    if sys.platform != "win32":
        _api = False
        return _api
    try:
        import ctypes
        from ctypes import wintypes

        class Basic(ctypes.Structure):  # JOBOBJECT_BASIC_LIMIT_INFORMATION
            _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
                        ("LimitFlags", wintypes.DWORD), ("MinimumWorkingSetSize", ctypes.c_size_t),
                        ("MaximumWorkingSetSize", ctypes.c_size_t), ("ActiveProcessLimit", wintypes.DWORD),
                        ("Affinity", ctypes.c_size_t), ("PriorityClass", wintypes.DWORD),
                        ("SchedulingClass", wintypes.DWORD)]

        class Io(ctypes.Structure):  # IO_COUNTERS
            _fields_ = [(n, ctypes.c_uint64) for n in (
                "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
                "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]

        class Extended(ctypes.Structure):  # JOBOBJECT_EXTENDED_LIMIT_INFORMATION
            _fields_ = [("BasicLimitInformation", Basic), ("IoInfo", Io),
                        ("ProcessMemoryLimit", ctypes.c_size_t), ("JobMemoryLimit", ctypes.c_size_t),
                        ("PeakProcessMemoryUsed", ctypes.c_size_t), ("PeakJobMemoryUsed", ctypes.c_size_t)]

        k32 = ctypes.WinDLL("kernel32", use_last_error=True)
        k32.CreateJobObjectW.argtypes = (ctypes.c_void_p, wintypes.LPCWSTR)
        k32.CreateJobObjectW.restype = wintypes.HANDLE
        k32.SetInformationJobObject.argtypes = (wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD)
        k32.SetInformationJobObject.restype = wintypes.BOOL
        k32.AssignProcessToJobObject.argtypes = (wintypes.HANDLE, wintypes.HANDLE)
        k32.AssignProcessToJobObject.restype = wintypes.BOOL
        k32.TerminateJobObject.argtypes = (wintypes.HANDLE, wintypes.UINT)
        k32.TerminateJobObject.restype = wintypes.BOOL
        k32.CloseHandle.argtypes = (wintypes.HANDLE,)
        k32.CloseHandle.restype = wintypes.BOOL
        _api = (ctypes, k32, Extended)
    except Exception:  # no ctypes (a stripped embeddable Python) or no kernel32 entry point
        _api = False
    return _api


def attach(proc: subprocess.Popen) -> Optional[int]:
    """A job holding `proc` (and what it starts from now on), killed when closed; None when none
    can be made here."""
    api = _load()
    if not api:
        return None
    ctypes, k32, Extended = api
    job = k32.CreateJobObjectW(None, None)
    if not job:
        return None
    info = Extended()
    info.BasicLimitInformation.LimitFlags = _JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    handle = getattr(proc, "_handle", None)  # subprocess.Popen's process handle (Windows)
    if handle is None or not k32.SetInformationJobObject(job, _JOB_OBJECT_EXTENDED_LIMIT_INFORMATION,
                                                         ctypes.byref(info), ctypes.sizeof(info)) \
            or not k32.AssignProcessToJobObject(job, int(handle)):
        k32.CloseHandle(job)
        return None
    return int(job)


def terminate(job: int) -> bool:
    """End every process of `job` (exit code 1). False when Windows refused."""
    api = _load()
    return bool(api) and bool(api[1].TerminateJobObject(job, 1))


def close(job: int) -> None:
    """Release `job`; KILL_ON_JOB_CLOSE ends whatever still runs in it."""
    api = _load()
    if api:
        api[1].CloseHandle(job)
