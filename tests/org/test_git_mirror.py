"""The git side of mirrors: the environment git gets, and one deadline per repository."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from scanner.git.mirror import Deadline, GitTimeout, HttpAuth, mirror_env, run_bounded


def test_tokens_reach_git_as_scoped_config_from_the_environment_only() -> None:
    auth = HttpAuth("https://github.com/", "x-access-token", "ghs_secret")
    inherited = {
        "PATH": "/usr/bin:/bin",
        "GIT_ASKPASS": "/usr/bin/askpass",
        "GIT_CONFIG_PARAMETERS": "'credential.helper'='store'",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "credential.helper",
        "GIT_CONFIG_VALUE_0": "store",
    }
    env = mirror_env([auth], protocols="https", base=inherited)
    header = "Authorization: Basic " + base64.b64encode(b"x-access-token:ghs_secret").decode()
    assert {k: v for k, v in env.items() if k != "PATH"} == {
        "GIT_CONFIG_COUNT": "3",
        "GIT_CONFIG_KEY_0": "credential.helper",
        "GIT_CONFIG_VALUE_0": "",
        "GIT_CONFIG_KEY_1": "core.askPass",
        "GIT_CONFIG_VALUE_1": "",
        "GIT_CONFIG_KEY_2": "http.https://github.com/.extraHeader",
        "GIT_CONFIG_VALUE_2": header,
        "GIT_SSH_COMMAND": "ssh -o BatchMode=yes",
        "GIT_ALLOW_PROTOCOL": "https",
    }

    # git itself reads it so, for that prefix only.
    def config(url: str) -> str:
        done = subprocess.run(
            ["git", "config", "--get-urlmatch", "http.extraHeader", url],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip()

    assert config("https://github.com/acme/x.git") == header
    assert config("https://evil.example/acme/x.git") == ""


def test_a_repository_whose_time_is_used_up_starts_no_more_git(tmp_path: Path) -> None:
    now = [100.0]
    deadline = Deadline(5.0, clock=lambda: now[0])
    done = run_bounded(tmp_path, ["--version"], mirror_env(), deadline)
    assert done.returncode == 0 and done.stdout.startswith(b"git version")
    now[0] = 105.0
    with pytest.raises(GitTimeout, match=r"^git --version not started: 5s were used up$"):
        run_bounded(tmp_path, ["--version"], mirror_env(), deadline)
