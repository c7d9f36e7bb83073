#!/usr/bin/env python3
"""The pre-commit hook's cost: `devtoken scan --staged` on 10 staged files.

    python benchmarks/bench_hook.py                          # the installed devtoken
    python benchmarks/bench_hook.py --checkout main=/work/main --checkout this=.
    python benchmarks/bench_hook.py --install main=/work/main --install this=.

--checkout runs a source checkout's package (PYTHONPATH, this interpreter);
--install pip-installs the checkout into a fresh venv from the offline wheelhouse
(DEVTOKEN_WHEELHOUSE, else .venv/wheelhouse), as pre-commit installs the hook,
and runs that venv's `devtoken`: the figure a user's commit pays.

Builds two temporary repositories with 10 staged corpus-like files each (from
../shared/corpus): "clean" (nothing to report: the everyday commit) and "leak"
(secrets on added lines: the blocked commit). Every command runs `--runs` times,
the commands taking turns so a busy machine slows them all alike; each gets a
warm-up run first (it fills the engine cache, as a developer's first commit does).
Prints the median and max wall time and the median CPU time (user + system of the
process and its git children, from getrusage), beside the floor of the
interpreter (`python -c pass`, and the stdlib modules every Python CLI of this
kind imports) and a peer (gitleaks protect --staged) when one is installed.
Not a test: numbers vary by machine; quote them, don't assert them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import peer_binaries

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
PEERS_VENV = REPO / "benchmarks" / "out" / "peers-venv"
# What the devtoken console script runs, with the checkout put first on the path.
ENTRY = "import sys; from scanner.cli import console; sys.exit(console())"
STDLIB = "import pathlib, dataclasses, re, typing, subprocess"
FILLER = "def handler(event):\n    return {'status': 200, 'body': event.get('name', '')}\n" * 12


def corpus_files(clean: bool) -> list[tuple[str, bytes]]:
    """10 (name, content) pairs: labelled corpus files without findings (padded), or with."""
    labels = json.loads((CORPUS / "labels.json").read_text())["files"]
    picked = sorted(p for p, v in labels.items() if bool(v["findings"]) != clean)[:10]
    files = [(Path(p).name, (CORPUS / "files" / p).read_bytes()) for p in picked]
    while len(files) < 10:
        files.append((f"handler_{len(files)}.py", FILLER.encode()))
    return files


def staged_repo(root: Path, files: list[tuple[str, bytes]]) -> Path:
    """A repository with one commit and then `files` staged as new files."""
    root.mkdir()
    env = clean_env()
    git = ["git", "-C", str(root), "-c", "user.name=b", "-c", "user.email=b@b"]
    subprocess.run([*git, "init", "-q"], check=True, env=env)
    (root / "README.md").write_text("bench\n")
    subprocess.run([*git, "add", "README.md"], check=True, env=env)
    subprocess.run([*git, "commit", "-q", "-m", "base"], check=True, env=env)
    for name, data in files:
        (root / name).write_bytes(data)
    subprocess.run([*git, "add", "-A"], check=True, env=env)
    return root


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PYTHON"))}


def run_once(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """Wall and CPU seconds (user + system, children included) and the exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{cmd} exited {done.returncode}: {done.stderr.decode()[-400:]}")
    return wall, cpu, done.returncode


def install(checkout: Path, venv: Path, wheelhouse: Path) -> Path:
    """`checkout` pip-installed (not editable) into a new venv, offline; its devtoken."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "pip"), "install", "-q", "--no-index", "--find-links"]
    subprocess.run([*pip, str(wheelhouse), str(checkout)], check=True, env=clean_env())
    return venv / "bin" / "devtoken"


def commands(args: argparse.Namespace, tmp: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    """label -> (argv, environment) of every command timed."""
    python = args.python
    out: dict[str, tuple[list[str], dict[str, str]]] = {}
    base = clean_env()
    for spec in args.checkout or []:
        label, _, path = spec.rpartition("=")
        env = base | {"PYTHONPATH": str(Path(path).resolve())}
        out[f"devtoken ({label or path})"] = ([python, "-c", ENTRY, "scan", "--staged"], env)
    venv_python = None
    for spec in args.install or []:
        label, _, path = spec.rpartition("=")
        devtoken = install(Path(path).resolve(), tmp / f"venv-{len(out)}", args.wheelhouse)
        out[f"devtoken installed ({label or path})"] = ([str(devtoken), "scan", "--staged"], base)
        venv_python = str(devtoken.with_name("python"))
    if not args.checkout and not args.install:
        command = (
            args.devtoken or shutil.which("devtoken") or str(Path(python).with_name("devtoken"))
        )
        out["devtoken"] = ([command, "scan", "--staged"], base)
    gitleaks = shutil.which("gitleaks") or peer_binaries(str(PEERS_VENV), install=False).get(
        "gitleaks"
    )
    if gitleaks:
        out["gitleaks protect --staged"] = ([gitleaks, "protect", "--staged", "--no-banner"], base)
    out["floor: python -c pass"] = ([python, "-c", "pass"], base)
    out["floor: python + stdlib imports"] = ([python, "-c", STDLIB], base)
    if venv_python:  # an installed hook's interpreter: no editable-install import hooks
        out["floor: venv python -c pass"] = ([venv_python, "-c", "pass"], base)
        out["floor: venv python + stdlib"] = ([venv_python, "-c", STDLIB], base)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--devtoken", help="the devtoken command (default: the one on PATH)")
    parser.add_argument(
        "--checkout",
        action="append",
        metavar="LABEL=DIR",
        help="time the scanner package of this source checkout instead (repeatable)",
    )
    parser.add_argument(
        "--install",
        action="append",
        metavar="LABEL=DIR",
        help="time this checkout pip-installed into a fresh venv (repeatable)",
    )
    default_wheelhouse = os.environ.get("DEVTOKEN_WHEELHOUSE") or REPO / ".venv" / "wheelhouse"
    parser.add_argument("--wheelhouse", type=Path, default=Path(default_wheelhouse))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-hook-") as tmp:
        timed = commands(args, Path(tmp))
        if not any(k.startswith("gitleaks") for k in timed):
            print("peer: gitleaks protect --staged: not installed")
        repos = {
            kind: staged_repo(Path(tmp) / kind, corpus_files(kind == "clean"))
            for kind in ("clean", "leak")
        }
        results: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
        for kind, repo in repos.items():
            for cmd, env in timed.values():
                run_once(cmd, repo, env)  # warm-up: caches filled, pages in memory
            for _ in range(args.runs):
                for label, (cmd, env) in timed.items():
                    results.setdefault((kind, label), []).append(run_once(cmd, repo, env))
    print(f"{args.runs} runs each, 10 staged files; milliseconds")
    header = ("repository", "command", "wall median", "wall max", "CPU median", "CPU min")
    print(
        f"{header[0]:10} {header[1]:34} {header[2]:>11} {header[3]:>9} {header[4]:>10} "
        f"{header[5]:>7}  rc"
    )
    for (kind, label), runs in results.items():
        walls, cpus, codes = zip(*runs, strict=True)
        print(
            f"{kind:10} {label:34} {statistics.median(walls) * 1000:11.0f} "
            f"{max(walls) * 1000:9.0f} {statistics.median(cpus) * 1000:10.0f} "
            f"{min(cpus) * 1000:7.0f}  {','.join(sorted({str(c) for c in codes}))}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
