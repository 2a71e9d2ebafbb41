"""The only code that runs commands or reads host files for collectors.

Every command runs without a shell, under a timeout, in the C locale, with
stderr captured; a missing tool, a timeout or a refused permission comes back
as data (`CommandResult.error`), never as an exception.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

DEFAULT_TIMEOUT = 20.0


@dataclass(frozen=True)
class CommandResult:
    argv: tuple
    rc: int
    stdout: str
    stderr: str
    error: str = ""  # set when the command could not run or finish
    # stdout as bytes, for output that is not UTF-8 (wmic's UTF-16, OEM code pages)
    raw: bytes = field(default=b"", repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.error

    def why(self) -> str:
        """One line saying why the command did not succeed."""
        if self.error:
            return self.error
        tail = self.stderr.strip().splitlines()[-1:] or [""]
        return f"`{' '.join(self.argv)}` exited {self.rc}: {tail[0]}".rstrip(": ")


def c_env() -> dict:
    env = dict(os.environ)
    env.update(LC_ALL="C", LANG="C", LANGUAGE="C")
    # Python children of ours (e.g. a probed interpreter) must not write bytecode on the host.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run(argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT, input: Optional[str] = None) -> CommandResult:
    """Run `argv` (no shell) and return its output decoded as UTF-8 with replacement."""
    argv = tuple(argv)
    exe = shutil.which(argv[0])
    if exe is None:
        return CommandResult(argv, 127, "", "", error=f"`{argv[0]}` not found on PATH")
    try:
        proc = subprocess.run(
            (exe,) + argv[1:],
            input=input.encode() if input is not None else None,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            env=c_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return CommandResult(argv, -1, "", "", error=f"`{' '.join(argv)}` timed out after {timeout:g} s")
    except OSError as exc:
        return CommandResult(argv, 126, "", "", error=f"`{argv[0]}` could not run: {exc.strerror or exc}")
    return CommandResult(
        argv, proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"),
        raw=proc.stdout,
    )


def host_path(root: Path, path: str) -> Path:
    """`path` (absolute, as on the scanned system) under `root`."""
    return root / path.lstrip("/")


def read_text(root: Path, path: str, limit: int = 64 << 20) -> str:
    """Read a host file as text (UTF-8, undecodable bytes replaced). Raises OSError."""
    with open(host_path(root, path), "rb") as f:
        return f.read(limit).decode("utf-8", "replace")
