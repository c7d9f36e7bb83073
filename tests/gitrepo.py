"""Build real git repositories in temp dirs for tests, with deterministic dates."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

BASE_TIME = 1_700_000_000


class Repo:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Test Author")
        self.git("config", "user.email", "author@example.com")
        self.git("config", "commit.gpgsign", "false")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        when = f"{BASE_TIME + self.count * 3600} +0000"
        env.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
        return env

    def git(self, *args: str | bytes, input: bytes | None = None) -> str:
        done = subprocess.run(
            ["git", "-C", str(self.path), *args],
            capture_output=True,
            input=input,
            env=self.env(),
            check=False,
        )
        if done.returncode:
            raise AssertionError(f"git {args}: {done.stderr.decode()}")
        return done.stdout.decode("utf-8", "replace").strip()

    def write(self, name: str | bytes, text: str | bytes) -> None:
        target = os.path.join(os.fsencode(self.path), os.fsencode(name))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(text.encode() if isinstance(text, str) else text)

    def commit(
        self, message: str, files: dict[str, str] | None = None, remove: tuple[str, ...] = ()
    ) -> str:
        self.count += 1
        for name, text in (files or {}).items():
            self.write(name, text)
        for name in remove:
            self.git("rm", "-q", name)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


def git_json(cli: Any, *args: str, codes: tuple[int, ...] = (0, 1)) -> dict[str, Any]:
    """`devtoken git ARGS --format json --quiet` through the in-process `cli` fixture: the JSON
    document, after checking the exit code is one of `codes`."""
    run = cli("git", *args, "--format", "json", "--quiet")
    assert run.code in codes, run.err
    return run.json()  # type: ignore[no-any-return]
