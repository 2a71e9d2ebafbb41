"""Runs under the *Windows* Python (wine): live `cbom scan`s fed by the replay doubles.

Not a test module. tests/windows/test_replay.py copies it to D: with a jobs file; for each
recording it points the doubles at the recording's files (replay.tsv beside them), puts the
recording's Uninstall exports into the registry (`reg import`) of a registry whose Uninstall keys
it emptied first (this wine prefix is the tier's own: no program of its own is listed there), and
runs cbom's own `scan` command in this one process: a Python starts in 0.5-1.6 s under wine,
so 33 scans in one process save a minute or more. Writes results.json beside the jobs file.

Usage: python.exe replay_scans.py JOBS.json
"""
import json
import subprocess
import sys
import time

if sys.platform != "win32":  # what `import winreg` says elsewhere; tells mypy the rest is Windows
    raise SystemExit("replay_scans.py runs under a Windows Python only")
import winreg  # noqa: E402

UNINSTALL = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
VIEWS = (("HKLM", winreg.HKEY_LOCAL_MACHINE, UNINSTALL, winreg.KEY_WOW64_64KEY),
         ("HKLM", winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall", 0),
         ("HKCU", winreg.HKEY_CURRENT_USER, UNINSTALL, 0))


def uninstall_keys():
    """Every subkey of the Uninstall keys the software collector reads, as `reg` names them."""
    found = set()
    for hive_name, hive, path, flag in VIEWS:
        try:
            key = winreg.OpenKey(hive, path, 0, winreg.KEY_READ | flag)
        except OSError:
            continue
        with key:
            for i in range(winreg.QueryInfoKey(key)[0]):
                found.add(f"{hive_name}\\{path}\\{winreg.EnumKey(key, i)}")
    return found


def clear():
    """Delete every Uninstall subkey: [(key, exit code, what reg said)]."""
    return [(key,) + reg("delete", key, "/f") for key in sorted(uninstall_keys())]


def reg(*args):
    # Wine 8.0 under load sometimes fails to start a process ("[WinError 1359] Internal error",
    # seen once in a full-suite run): a harness step, so it is tried again rather than lost.
    for attempt in range(5):
        try:
            proc = subprocess.run(["reg", *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
            break
        except OSError:
            if attempt == 4:
                raise
            time.sleep(1 + attempt)
    return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()


def main(jobs_path):
    from cbom.cli import main as cbom

    with open(jobs_path, encoding="utf-8") as f:
        jobs = json.load(f)
    cleared = clear()
    results = []
    for job in jobs["jobs"]:
        t0 = time.monotonic()
        with open(jobs["table"], "w", encoding="utf-8", newline="\n") as f:
            f.writelines(f"{prefix}\t{path}\n" for prefix, path in job["table"])
        imported = [(path,) + reg("import", path) for path in job["reg"]]
        print(f"replay: {job['name']}", file=sys.stderr, flush=True)
        rc = cbom(["scan", "--skip", "capture", "--only", job["only"], "-o", job["out"], "--format", "json",
                   "--operator", "wine replay"])
        results.append({"name": job["name"], "rc": rc, "imported": imported, "removed": clear(),
                        "seconds": round(time.monotonic() - t0, 2)})
    with open(jobs["results"], "w", encoding="utf-8") as f:
        json.dump({"cleared_first": cleared, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
