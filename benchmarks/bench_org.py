#!/usr/bin/env python3
"""The nightly org scan: a first run over 50 repositories, then one after 3 new commits.

    python benchmarks/bench_org.py                  # 50 generated repositories
    python benchmarks/bench_org.py --no-peers       # devtoken only

Builds 50 bare repositories with ../shared/bench/make_repo.py (one seed each, cached in
benchmarks/out/), copies them afresh, and runs `devtoken org --repo ... --store S --cache C`
twice with the same store and cache: first over everything (clone, scan every blob), then
after one new commit (one new file holding a token) in 3 repositories. Kingfisher scans the
same 50 repositories side by side each time (it keeps no state between runs, so it rescans
everything). Prints wall times, blobs scanned (devtoken's JSON stats), peak RSS and the
tree's PSS, and the ratios; checks that the second run takes at most 5% of the first and
scans exactly the new blobs. Not a test; quote its numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import string
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from measure import kingfisher_command, measure, peer_binaries

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "benchmarks" / "out"
SHARED = REPO.parent / "shared"
CHANGED = 3  # repositories that get one new commit before the second run
MAX_SECOND_SHARE = 0.05  # the second run's wall time over the first's
B64URL = string.ascii_letters + string.digits + "-_"


def ensure_org(count: int, commits: int, files: int) -> Path:
    """`count` bare repositories (seeds 1..count), built once and kept as the pristine copy."""
    target = OUT / f"org-{count}x{commits}x{files}"
    wanted = [target / f"repo-{seed:02d}.git" for seed in range(1, count + 1)]
    missing = [bare for bare in wanted if not (bare / "HEAD").exists()]
    if missing:
        target.mkdir(parents=True, exist_ok=True)
        print(f"building {len(missing)} repositories in {target} ...", flush=True)
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            list(pool.map(lambda bare: _build(bare, commits, files), missing))
    return target


def _build(bare: Path, commits: int, files: int) -> None:
    seed = int(bare.name.removeprefix("repo-").removesuffix(".git"))
    work = bare.with_suffix(".work")
    shutil.rmtree(work, ignore_errors=True)
    maker = SHARED / "bench" / "make_repo.py"
    plants = str(max(1, commits // 50))
    subprocess.run(
        [
            sys.executable,
            str(maker),
            "--out",
            str(work),
            "--commits",
            str(commits),
            "--files",
            str(files),
            "--plants",
            plants,
            "--seed",
            str(seed),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    shutil.rmtree(work)
    Path(f"{work}.labels.json").unlink(missing_ok=True)


def fresh_copy(pristine: Path, run_dir: Path) -> list[Path]:
    """The repositories the runs scan (the second run's commits must not touch the cache)."""
    shutil.rmtree(run_dir, ignore_errors=True)
    (run_dir / "org").mkdir(parents=True)
    copies = []
    for bare in sorted(pristine.glob("repo-*.git")):
        copy = run_dir / "org" / bare.name
        shutil.copytree(bare, copy, symlinks=True)
        copies.append(copy)
    return copies


def add_commit(bare: Path, path: str, text: str, message: str) -> str:
    """One commit on top of HEAD in a bare repository (plumbing: no work tree needed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_INDEX_FILE=str(bare / "bench-index"),
        GIT_AUTHOR_NAME="Bench",
        GIT_AUTHOR_EMAIL="bench@example.com",
        GIT_COMMITTER_NAME="Bench",
        GIT_COMMITTER_EMAIL="bench@example.com",
    )

    def git(*args: str, data: str | None = None) -> str:
        done = subprocess.run(
            ["git", "-C", str(bare), *args], input=data, capture_output=True, text=True, env=env
        )
        if done.returncode:
            raise RuntimeError(f"git {args[0]} in {bare}: {done.stderr.strip()}")
        return done.stdout.strip()

    head = git("rev-parse", "HEAD")
    blob = git("hash-object", "-w", "--stdin", data=text)
    git("read-tree", head)
    git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
    tree = git("write-tree")
    commit = git("commit-tree", tree, "-p", head, "-m", message)
    git("update-ref", "HEAD", commit, head)
    os.unlink(bare / "bench-index")
    return commit


def token(rng: random.Random) -> str:
    """A developer-token-shaped value with every character class (what the filters want)."""
    while True:
        value = "".join(rng.choice(B64URL) for _ in range(22))
        classes = (str.isupper, str.islower, str.isdigit)
        if all(any(test(c) for c in value) for test in classes):
            return value


def org_command(
    devtoken: list[str], repos: list[Path], run_dir: Path, report: Path, jobs: int | None
) -> list[str]:
    listed = [arg for repo in repos for arg in ("--repo", str(repo))]
    store, cache = run_dir / "store.sqlite", run_dir / "mirrors"
    return [
        *devtoken,
        "org",
        *listed,
        "--store",
        str(store),
        "--cache",
        str(cache),
        "--format",
        "json",
        "-o",
        str(report),
        *(["--jobs", str(jobs)] if jobs else []),
    ]


def run_devtoken(cmd: list[str], report: Path) -> dict[str, Any]:
    """One measured org run; exit 1 means findings, anything above is a failed run.

    Run from the checkout, so `python -m scanner` is this checkout's code.
    """
    measured = measure(cmd, cwd=str(REPO))
    if measured["rc"] not in (0, 1):
        raise SystemExit(f"devtoken org exited {measured['rc']}: {measured['err']}")
    doc = json.loads(report.read_text())
    statuses = [r["status"] for r in doc["repositories"]]
    return {
        **measured,
        "blobs_scanned": doc["stats"]["blobs_scanned"],
        "run_seconds": doc["stats"]["duration_seconds"],
        "statuses": {s: statuses.count(s) for s in sorted(set(statuses))},
        "findings": len(doc["findings"]),
        "new": sorted({f["repository"] for f in doc["findings"] if f.get("new")}),
    }


def run_kingfisher(cmd: list[str], report: Path) -> dict[str, Any]:
    """One measured Kingfisher run; blobs scanned from its JSON audit, when it gives them."""
    measured = measure(cmd)
    audit = json.loads(report.read_text()).get("audit", {}) if report.exists() else {}
    blobs = [r.get("stats", {}).get("blobs_scanned") for r in audit.get("repositories", [])]
    if blobs and all(isinstance(n, int) for n in blobs):
        measured["blobs_scanned"] = sum(blobs)
    return measured


def line(label: str, row: dict[str, Any]) -> str:
    extra = f"  blobs scanned {row['blobs_scanned']:6d}" if "blobs_scanned" in row else ""
    if "run_seconds" in row:  # the run itself, without interpreter start-up and rendering
        extra += f"  (stats.duration_seconds {row['run_seconds']:.2f})"
    return (
        f"  {label:24s} {row['wall']:8.2f} s  RSS {row['rss_mib']:6.0f} MiB  "
        f"PSS(tree) {row['pss_mib']:6.0f} MiB  rc {int(row['rc'])}{extra}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repos", type=int, default=50)
    parser.add_argument("--commits", type=int, default=800, help="commits per repository")
    parser.add_argument("--files", type=int, default=250, help="files in each first commit")
    parser.add_argument("--jobs", type=int, help="devtoken org --jobs (default: its own)")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument(
        "--devtoken", help="a devtoken binary (default: this checkout, python -m scanner)"
    )
    args = parser.parse_args()
    devtoken = [args.devtoken] if args.devtoken else [sys.executable, "-m", "scanner"]
    if not args.devtoken:
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
    OUT.mkdir(parents=True, exist_ok=True)
    pristine = ensure_org(args.repos, args.commits, args.files)
    run_dir = OUT / "org-run"
    repos = fresh_copy(pristine, run_dir)
    peers = {} if args.no_peers else peer_binaries(str(OUT / "peers-venv"))
    kingfisher = peers.get("kingfisher")
    if kingfisher:  # warm-up: its compiled rule cache, and the page cache for both tools
        measure(
            kingfisher_command(kingfisher, [str(repos[0])], str(run_dir / "kf-warm.json")), False
        )
    rows: dict[str, dict[str, Any]] = {}
    for run in ("first", "second"):
        if run == "second":
            rng = random.Random(CHANGED)
            for bare in repos[:CHANGED]:
                text = f"developer_token: {token(rng)}\n"
                add_commit(bare, "config/nightly-ads.yaml", text, "nightly: ads config")
        report = run_dir / f"{run}.json"
        rows[run] = run_devtoken(org_command(devtoken, repos, run_dir, report, args.jobs), report)
        print(line(f"devtoken org ({run})", rows[run]), flush=True)
        if kingfisher:
            report = run_dir / f"kf-{run}.json"
            rows[f"kingfisher-{run}"] = run_kingfisher(
                kingfisher_command(kingfisher, [str(r) for r in repos], str(report)), report
            )
            print(line(f"kingfisher ({run})", rows[f"kingfisher-{run}"]), flush=True)
    first, second = rows["first"], rows["second"]
    share = second["wall"] / first["wall"]
    print(f"{args.repos} repositories; first run {first['statuses']}, second {second['statuses']}")
    print(f"second run / first run: {share:.1%} (must be <= {MAX_SECOND_SHARE:.0%})")
    for run in ("first", "second"):
        if f"kingfisher-{run}" in rows:
            ratio = rows[run]["wall"] / rows[f"kingfisher-{run}"]["wall"]
            print(f"ratio devtoken / kingfisher, {run} run: {ratio:.2f}")
    changed = [bare.name.removesuffix(".git") for bare in repos[:CHANGED]]
    named = all(any(name in repo for repo in second["new"]) for name in changed)
    exact = second["blobs_scanned"] == CHANGED and len(second["new"]) == CHANGED and named
    print(
        f"second run scanned {second['blobs_scanned']} blobs (the {CHANGED} new ones: "
        f"{'yes' if exact else 'NO'}); new findings in {len(second['new'])} repositories"
    )
    (OUT / "org-results.json").write_text(json.dumps(rows, indent=1) + "\n")
    return 0 if share <= MAX_SECOND_SHARE and exact else 1


if __name__ == "__main__":
    sys.exit(main())
