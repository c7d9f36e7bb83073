"""The README's first command, exactly as written, on a fresh copy of this checkout.

`python3 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/devtoken scan .` is the
first thing a new user runs. `pip install .` leaves `build/` behind (it once held the rules'
examples, and the scan flagged the project itself), so the command must exit 0 and report
nothing. Offline: pip takes every wheel from the wheelhouse scripts/test.sh builds.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import require

REPO = Path(__file__).resolve().parents[1]
WHEELHOUSE = Path(os.environ.get("DEVTOKEN_WHEELHOUSE", REPO / ".venv" / "wheelhouse"))


def readme_first_command() -> str:
    """The first ```sh block under "## The two commands"."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The two commands", 1)[1]
    block = re.search(r"```sh\n(.*?)\n```", section, re.S)
    assert block is not None, "README has no sh block under 'The two commands'"
    return block.group(1).strip()


def fresh_copy(target: Path) -> None:
    """The tracked files as a fresh clone has them (a clone of HEAD would miss work in
    progress; the tracked set is what a clone would hold)."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = REPO / os.fsdecode(name)
        if source.is_file():
            (target / os.fsdecode(name)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / os.fsdecode(name))


def test_the_readme_first_command_installs_and_reports_nothing(tmp_path: Path) -> None:
    require(any(WHEELHOUSE.glob("*.whl")), f"a wheelhouse at {WHEELHOUSE} (scripts/test.sh)")
    command = readme_first_command()
    assert command == (
        "python3 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/devtoken scan ."
    ), "the README's first command changed: check this test still runs what it says"
    checkout = tmp_path / "devtoken"
    fresh_copy(checkout)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "DEVTOKEN_"))}
    env.pop("PYTHONPATH", None)
    env.update(
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(WHEELHOUSE),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        # `python3` of the README is the interpreter running the suite
        PATH=f"{Path(sys.executable).resolve().parent}{os.pathsep}{env.get('PATH', '')}",
    )
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert (checkout / "build").is_dir(), "pip install . no longer leaves build/: keep the test"
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("devtoken: 0 finding(s) in 0 file(s); scanned "), done.stdout
    assert done.stdout.count("\n") == 1, done.stdout
