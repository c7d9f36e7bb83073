"""The hook matrix at the `scan --staged` level: every staged secret is found, nothing old is.

Each case builds a real repository state (names git quotes or pads, encodings git
will not diff as text, attributes, renames, copies, partial staging, a merge) and
names exactly the findings a commit of that state must report. The same cases run
through the real pre-commit framework in tests/git/test_precommit_hook.py.
"""

from __future__ import annotations

import codecs
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import findings_of
from tests.gitrepo import Repo

NEW = "Qm3xK9_pL2vN8rT4wY6zA1"  # what the commit adds
OLD = "Zk4mQ9_rT2xW7vB1nL5pH8"  # already in HEAD: never re-reported
DEV = "google-ads-developer-token"
PEM = "gcp-service-account-key"
LEAK = f"developer_token: {NEW}\n"
OLD_LEAK = f"developer_token: {OLD}\n"
FILLER = "".join(f"setting_{i}: {i}\n" for i in range(1, 9))
BINARY = (
    bytes(b for b in range(32) if b != 10) * 40
)  # NULs and control bytes: binary to git and to the scanner


def _key(body: str) -> str:
    return f"private_key: |\n  -----BEGIN PRIVATE KEY-----\n  {body}\n  -----END PRIVATE KEY-----\n"


@dataclass(frozen=True)
class Case:
    id: str
    setup: Callable[[Repo], None]
    expected: tuple[tuple[str, int, str], ...]  # (path, line, rule) of every finding
    commit: tuple[str, ...] = ("commit", "-q", "-m", "change")  # how the hook sees it
    scan_args: tuple[str, ...] = ()
    framework_refuses: str = ""  # pre-commit itself stops such a commit before any hook runs

    @property
    def printable(self) -> bool:
        return all(name.isprintable() for name, _line, _rule in self.expected)


def _base(repo: Repo, files: dict[str, str | bytes] | None = None) -> None:
    """A first commit that already holds an old leak."""
    repo.write("config.yaml", f"# the old leak\n{OLD_LEAK}{FILLER}")
    for name, text in (files or {}).items():
        repo.write(name, text)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "base")


def _add(repo: Repo, name: str | bytes, text: str | bytes) -> None:
    repo.write(name, text)
    repo.git("add", "-A")


def _named(name: str | bytes) -> Callable[[Repo], None]:
    def setup(repo: Repo) -> None:
        _base(repo)
        _add(repo, name, f"# staged\n{LEAK}")

    return setup


def _plus_plus_line(repo: Repo) -> None:
    _base(repo)
    # An added line reading "++ b/x" becomes "+++ b/x" in a patch, which read as a new header.
    lines = f"# the old leak\n{OLD_LEAK}++ b/x\n{FILLER}{LEAK}"
    _add(repo, "config.yaml", lines)


def _utf(encoding: str, bom: bytes) -> Callable[[Repo], None]:
    def setup(repo: Repo) -> None:
        _base(repo, {"notes.txt": bom + f"# old\n{OLD_LEAK}".encode(encoding)})
        _add(repo, "notes.txt", bom + f"# old\n{OLD_LEAK}x: 1\n{LEAK}".encode(encoding))

    return setup


def _attribute(line: str, name: str) -> Callable[[Repo], None]:
    def setup(repo: Repo) -> None:
        _base(repo, {".gitattributes": f"{line}\n", name: f"# old\n{OLD_LEAK}"})
        _add(repo, name, f"# old\n{OLD_LEAK}{FILLER}{LEAK}")

    return setup


def _binary(repo: Repo) -> None:
    _base(repo)
    _add(repo, "blob.bin", BINARY + f"\n{LEAK}".encode())


def _textconv(repo: Repo) -> None:
    # As nbstripout sets up: a driver that shows git a shorter text than the file holds.
    _base(repo, {".gitattributes": "*.ipynb diff=ipynb\n"})
    repo.git("config", "diff.ipynb.textconv", "tail -n 3")
    _add(repo, "nb.ipynb", f"{FILLER}{LEAK}")


def _rename(repo: Repo) -> None:
    _base(repo)
    repo.git("mv", "config.yaml", "moved.yaml")


def _rename_with_edit(repo: Repo) -> None:
    _base(repo)
    repo.git("mv", "config.yaml", "renamed.yaml")
    _add(repo, "renamed.yaml", f"# the old leak\n{OLD_LEAK}{FILLER}{LEAK}")


def _copy(repo: Repo) -> None:
    # A copy puts the old leak at a second path, and the first is still there: new at that path
    # (as baselines and history scans count it), so it blocks like any new file.
    _base(repo)
    _add(repo, "copy.yaml", f"# the old leak\n{OLD_LEAK}{FILLER}")


def _mode_change(repo: Repo) -> None:
    _base(repo)
    repo.git("update-index", "--chmod=+x", "config.yaml")


def _mode_change_with_edit(repo: Repo) -> None:
    _base(repo)
    _add(repo, "config.yaml", f"# the old leak\n{OLD_LEAK}{FILLER}{LEAK}")
    repo.git("update-index", "--chmod=+x", "config.yaml")


def _partial(repo: Repo) -> None:
    _base(repo)
    _add(repo, "config.yaml", f"# the old leak\n{OLD_LEAK}{LEAK}{FILLER}")
    # Only the index counts: a second leak left unstaged is not part of this commit.
    repo.write("config.yaml", f"# the old leak\n{OLD_LEAK}{LEAK}{FILLER}api_token: {OLD}\n")


def _first_commit(repo: Repo) -> None:
    _add(repo, "ads.yaml", f"# first\n{LEAK}")


def _merge(repo: Repo) -> None:
    _base(repo)
    repo.git("checkout", "-q", "-b", "feature")
    _add(repo, "config.yaml", f"# the old leak\n{OLD_LEAK}{FILLER}feature: on\n")
    repo.git("commit", "-q", "-m", "feature")
    repo.git("checkout", "-q", "main")
    _add(repo, "config.yaml", f"# the old leak\n{OLD_LEAK}{FILLER}feature: off\n")
    repo.git("commit", "-q", "-m", "main")
    merge = ["git", "-C", str(repo.path), "merge", "-q", "--no-ff", "--no-commit", "feature"]
    assert subprocess.run(merge, env=repo.env(), capture_output=True).returncode == 1  # conflict
    # The conflict's resolution adds a secret.
    _add(repo, "config.yaml", f"# the old leak\n{OLD_LEAK}{FILLER}feature: on\n{LEAK}")


def _pem_under_old_header(repo: Repo) -> None:
    old_body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
    new_body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"
    _base(repo, {"sa.yaml": _key(old_body)})
    _add(repo, "sa.yaml", _key(new_body))


def _submodule(repo: Repo) -> None:
    _base(repo)
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},vendor/lib")
    _add(repo, "vendor.yaml", f"# staged\n{LEAK}")


def _commit_path(repo: Repo) -> None:
    _base(repo, {"a.env": "SAFE=1\n"})
    repo.write("a.env", f"SAFE=1\nGOOGLE_ADS_DEVELOPER_TOKEN={NEW}\n")  # not in the index


def _utf16_from_utf8(repo: Repo) -> None:
    # The same text re-encoded: nothing is added, so the old leak stays quiet.
    _base(repo, {"notes.txt": f"# old\n{OLD_LEAK}"})
    _add(repo, "notes.txt", codecs.BOM_UTF16_LE + f"# old\n{OLD_LEAK}".encode("utf-16-le"))


CASES = [
    Case("space-in-name", _named("google ads.yaml"), (("google ads.yaml", 2, DEV),)),
    Case("trailing-space", _named("ads.yaml "), (("ads.yaml ", 2, DEV),)),
    Case("tab-in-name", _named("a\tb.yaml"), (("a\tb.yaml", 2, DEV),)),
    Case("quote-in-name", _named('say"hi".yaml'), (('say"hi".yaml', 2, DEV),)),
    Case("newline-in-name", _named("a\nb.yaml"), (("a\nb.yaml", 2, DEV),)),
    Case("non-ascii-name", _named("café-ünï.yaml"), (("café-ünï.yaml", 2, DEV),)),
    Case(
        "non-utf8-name",
        _named(b"caf\xe9.yaml"),
        ((os.fsdecode(b"caf\xe9.yaml"), 2, DEV),),
        framework_refuses="UnicodeDecodeError",  # pre-commit decodes staged names as UTF-8
    ),
    Case("plus-plus-line", _plus_plus_line, (("config.yaml", 12, DEV),)),
    Case("utf-16-le", _utf("utf-16-le", codecs.BOM_UTF16_LE), (("notes.txt", 4, DEV),)),
    Case("utf-16-be", _utf("utf-16-be", codecs.BOM_UTF16_BE), (("notes.txt", 4, DEV),)),
    Case("utf-32", _utf("utf-32", b""), (("notes.txt", 4, DEV),)),
    Case("utf-32-be-no-bom", _utf("utf-32-be", b""), (("notes.txt", 4, DEV),)),
    Case("attr-no-diff", _attribute("*.env -diff", "app.env"), (("app.env", 11, DEV),)),
    Case("attr-binary", _attribute("*.cfg binary", "app.cfg"), (("app.cfg", 11, DEV),)),
    Case("binary-scanned", _binary, (("blob.bin", 2, DEV),), scan_args=("--scan-binary",)),
    Case("textconv", _textconv, (("nb.ipynb", 9, DEV),)),
    Case("pure-rename", _rename, ()),
    Case("rename-with-edit", _rename_with_edit, (("renamed.yaml", 11, DEV),)),
    Case("copy", _copy, (("copy.yaml", 2, DEV),)),
    Case("mode-change", _mode_change, ()),
    Case("mode-change-with-edit", _mode_change_with_edit, (("config.yaml", 11, DEV),)),
    Case("partial-staging", _partial, (("config.yaml", 3, DEV),)),
    Case("first-commit", _first_commit, (("ads.yaml", 2, DEV),)),
    Case(
        "merge-in-progress",
        _merge,
        (("config.yaml", 12, DEV),),
        commit=("commit", "-q", "--no-edit"),
    ),
    Case("new-key-under-old-header", _pem_under_old_header, (("sa.yaml", 2, PEM),)),
    Case("submodule-beside-a-leak", _submodule, (("vendor.yaml", 2, DEV),)),
    Case(
        "commit-only-path",
        _commit_path,
        (("a.env", 2, DEV),),
        commit=("commit", "-q", "-m", "change", "--", "a.env"),
    ),
    Case("re-encoded-old-leak", _utf16_from_utf8, ()),
]


def params() -> list[Any]:
    return [pytest.param(case, id=case.id) for case in CASES]


def staged_index(repo: Repo, case: Case, tmp_path: Path) -> dict[str, str]:
    """The environment git gives the hook: `git commit -- path` stages into a temporary index."""
    if "--" not in case.commit:
        return {}
    index = tmp_path / "commit-index"
    env = {**repo.env(), "GIT_INDEX_FILE": str(index)}
    paths = case.commit[case.commit.index("--") + 1 :]
    for args in (("read-tree", "HEAD"), ("add", "--", *paths)):
        subprocess.run(["git", "-C", str(repo.path), *args], env=env, check=True)
    return {"GIT_INDEX_FILE": str(index)}


@pytest.mark.parametrize("case", params())
def test_staged_matrix(
    case: Case, tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = Repo(tmp_path / "repo")
    case.setup(repo)
    for name, value in staged_index(repo, case, tmp_path).items():
        monkeypatch.setenv(name, value)
    run = cli("scan", "--staged", "--format", "json", *case.scan_args, cwd=repo.path)
    assert sorted(findings_of(run.json())) == sorted(case.expected), run.err
    assert run.code == (1 if case.expected else 0), run.err
    assert NEW not in run.out + run.err and OLD not in run.out + run.err


def test_case_ids_are_distinct() -> None:
    assert len({case.id for case in CASES}) == len(CASES)
