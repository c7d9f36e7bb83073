#!/usr/bin/env python3
"""History throughput and memory of `devtoken git` beside its peers, in one run.

    python benchmarks/bench_history.py                       # generated 3,000-commit repo
    python benchmarks/bench_history.py --repo /tmp/rails     # plus a large real repository

Builds the deterministic history with ../shared/bench/make_repo.py (cached in
benchmarks/out/), installs the peers in their own venv, and runs devtoken
(default workers and --jobs 1) and the peers on the same repositories back to
back. Throughput is MB of unique blob content per second (the same denominator
for every tool: what devtoken reports as scanned). Also checks that every
planted secret was found with its commit. Not a test; quote its numbers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from measure import kingfisher_command, measure, peer_binaries

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "benchmarks" / "out"
SHARED = REPO.parent / "shared"


def ensure_bench_repo(commits: int) -> Path:
    target = OUT / f"bench-repo-{commits}"
    if not target.exists():
        maker = SHARED / "bench" / "make_repo.py"
        subprocess.run(
            [sys.executable, str(maker), "--out", str(target), "--commits", str(commits)],
            check=True,
        )
    return target


def tool_command(tool: str, binary: str, repo: Path, report: Path) -> list[str]:
    if tool.startswith("devtoken"):
        jobs = ["--jobs", "1"] if tool.endswith("-1job") else []
        return [binary, "git", str(repo), "--format", "json", "-o", str(report), "--quiet", *jobs]
    if tool == "kingfisher":
        return kingfisher_command(binary, [str(repo)], str(report))
    if tool == "gitleaks":
        return [
            binary,
            "git",
            str(repo),
            "--log-opts=--all",
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
        binary,
        "git",
        str(repo),
        "-s",
        "-l",
        "error",
        "--log-opts=--all",
        "-o",
        str(report),
        "--exit-code",
        "0",
    ]


def planted_found(report: Path, labels: Path) -> tuple[int, int]:
    planted = json.loads(labels.read_text())["planted"]
    got = {
        (f["path"], f["line"], f["rule_id"], f["commit"])
        for f in json.loads(report.read_text())["findings"]
    }
    hits = sum((p["path"], p["line"], p["rule"], p["commit"]) in got for p in planted)
    return hits, len(planted)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commits", type=int, default=3000)
    parser.add_argument(
        "--repo",
        action="append",
        type=Path,
        default=[],
        help="also a large real repository (e.g. a clone of ruby/rails)",
    )
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--devtoken", default=str(Path(sys.executable).with_name("devtoken")))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    bench = ensure_bench_repo(args.commits)
    tools = {"devtoken": args.devtoken, "devtoken-1job": args.devtoken}
    if not args.no_peers:
        tools.update(peer_binaries(str(OUT / "peers-venv")))
    rows = []
    for repo in [bench, *args.repo]:
        size_mb = None
        for tool, binary in tools.items():
            report = OUT / f"history-{tool}-{repo.name}.json"
            cmd = tool_command(tool, binary, repo, report)
            if repo == bench:
                measure(cmd)  # warm-up: page cache and the peers' rule caches
            runs = [measure(cmd) for _ in range(args.runs)]
            best = min(runs, key=lambda r: r["wall"])
            if tool == "devtoken":
                stats = json.loads(report.read_text())["stats"]
                size_mb = stats["bytes_scanned"] / 1e6
                print(
                    f"{repo.name}: {stats['commits']} commits, {stats['blobs_scanned']} unique "
                    f"blobs, {size_mb:.0f} MB",
                    flush=True,
                )
            rate = (size_mb or 0) / best["wall"]
            rows.append({"repo": repo.name, "tool": tool, **best, "mb_per_s": rate})
            print(
                f"  {tool:14s} {best['wall']:7.2f} s  {rate:7.1f} MB/s  RSS {best['rss_mib']:6.0f} "
                f"MiB  PSS(tree) {best['pss_mib']:6.0f} MiB  rc {best['rc']}",
                flush=True,
            )
        ours = next(r for r in rows if r["repo"] == repo.name and r["tool"] == "devtoken")
        peers = [r for r in rows if r["repo"] == repo.name and not r["tool"].startswith("devtoken")]
        if peers:
            fastest = min(peers, key=lambda r: r["wall"])
            print(
                f"  ratio devtoken / fastest peer ({fastest['tool']}): "
                f"{ours['wall'] / fastest['wall']:.2f}"
            )
    hits, planted = planted_found(
        OUT / f"history-devtoken-{bench.name}.json", Path(f"{bench}.labels.json")
    )
    print(f"planted secrets found with their commit: {hits}/{planted}")
    (OUT / "history-results.json").write_text(
        json.dumps({"rows": rows, "planted": [hits, planted]}, indent=1)
    )
    return 0 if hits == planted else 1


if __name__ == "__main__":
    sys.exit(main())
