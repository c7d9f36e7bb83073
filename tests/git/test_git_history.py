"""`devtoken git` on real repositories built in temp dirs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import SHARED_CORPUS, require
from tests.gitrepo import Repo, git_json

TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"
OTHER = "Zk4mQ9_rT2xW7vB1nL5pH8"
THIRD = "Hb7nV2_cX5zL8qW3eR6tY9"


def test_added_in_commit_3_removed_in_commit_7_is_one_finding(repo: Repo, cli: Any) -> None:
    shas = [repo.commit("c1", {"README.md": "hello\n"}), repo.commit("c2", {"app.py": "x = 1\n"})]
    shas.append(
        repo.commit("c3 add config", {"config/google-ads.yaml": f"developer_token: {TOKEN}\n"})
    )
    for n in range(4, 7):  # the secret sits in these commits' trees: still one finding
        shas.append(repo.commit(f"c{n}", {"app.py": f"x = {n}\n"}))
    shas.append(
        repo.commit(
            "c7 remove token", {"config/google-ads.yaml": "developer_token: ${DEV_TOKEN}\n"}
        )
    )
    shas += [repo.commit(f"c{n}", {"app.py": f"y = {n}\n"}) for n in range(8, 11)]
    doc = git_json(cli, str(repo.path))
    (finding,) = doc["findings"]
    assert finding["rule_id"] == "google-ads-developer-token"
    assert (finding["path"], finding["line"], finding["column"]) == (
        "config/google-ads.yaml",
        1,
        18,
    )
    assert finding["commit"] == shas[2] and finding["message"] == "c3 add config"
    assert (finding["author"], finding["email"]) == ("Test Author", "author@example.com")
    assert finding["source"] == "git-history"
    exposure = finding["exposure"]
    assert exposure["first_commit"] == shas[2] and exposure["removed_commit"] == shas[6]
    assert exposure["still_present_in"] == []
    assert doc["stats"]["commits"] == 10


def test_secret_still_at_the_tip_is_present_not_removed(repo: Repo, cli: Any) -> None:
    repo.commit("c1", {".env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"})
    repo.commit("c2", {"other.txt": "x\n"})
    (finding,) = git_json(cli, str(repo.path))["findings"]
    assert finding["exposure"]["still_present_in"] == ["refs/heads/main"]
    assert finding["exposure"]["removed_commit"] is None


def test_unmerged_branch_stash_and_tag_only_secrets(repo: Repo, cli: Any) -> None:
    repo.commit("base", {"README.md": "hi\n"})
    repo.git("checkout", "-q", "-b", "feature")
    branch_commit = repo.commit(
        "feature work", {"feature.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"}
    )
    repo.git("checkout", "-q", "main")
    repo.git("checkout", "-q", "--detach")
    tag_commit = repo.commit(
        "tagged only", {"tagged.properties": f"api.googleads.developerToken={OTHER}\n"}
    )
    repo.git("tag", "v1-secret")
    repo.git("checkout", "-q", "main")
    repo.write("README.md", f"hi\ndeveloper-token: {THIRD}\n")
    repo.git("stash", "push", "-q")
    assert "developer-token" not in (repo.path / "README.md").read_text()
    doc = git_json(cli, str(repo.path))
    by_path = {f["path"]: f for f in doc["findings"]}
    assert set(by_path) == {"feature.env", "tagged.properties", "README.md"}
    assert by_path["feature.env"]["commit"] == branch_commit
    assert by_path["feature.env"]["exposure"]["still_present_in"] == ["refs/heads/feature"]
    assert by_path["tagged.properties"]["commit"] == tag_commit
    assert by_path["README.md"]["line"] == 2
    no_stash = git_json(cli, str(repo.path), "--no-stashes", "--branch", "main")
    assert no_stash["findings"] == []


def test_same_secret_in_two_files_is_two_findings_and_edits_keep_one(repo: Repo, cli: Any) -> None:
    repo.commit("a", {"a.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"})
    repo.commit("b", {"a.env": f"# moved down\nGOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"})
    repo.commit("c", {"b.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\nX=1\n"})
    doc = git_json(cli, str(repo.path))
    assert sorted((f["path"], f["line"], f["message"]) for f in doc["findings"]) == [
        ("a.env", 1, "a"),
        ("b.env", 1, "c"),
    ]


def test_revision_options(repo: Repo, cli: Any) -> None:
    first = repo.commit("one", {"a.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"})
    second = repo.commit("two", {"b.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={OTHER}\n"})
    repo.commit("three", {"c.txt": "x\n"})

    def paths(doc: dict[str, Any]) -> list[str]:
        return sorted(f["path"] for f in doc["findings"])

    assert paths(git_json(cli, str(repo.path), "--since-commit", first)) == ["b.env"]
    assert paths(git_json(cli, str(repo.path), "--range", f"{first}..{second}")) == ["b.env"]
    assert paths(git_json(cli, str(repo.path), "--max-commits", "1")) == []
    assert paths(git_json(cli, str(repo.path), "--branch", "main")) == ["a.env", "b.env"]
    bad = cli("git", str(repo.path), "--branch", "no-such-branch")
    assert bad.code == 2 and "bad revision 'no-such-branch'" in bad.err


def test_one_and_two_workers_agree(repo: Repo, cli: Any) -> None:
    for n in range(30):
        files = {f"src/m{n % 7}.py": f"value = {n}\n" * (n + 1)}
        if n % 5 == 0:
            files[f"conf/{n}.env"] = f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN[:-2]}{n:02d}\n"
        repo.commit(f"c{n}", files)
    one = git_json(cli, str(repo.path), "--jobs", "1")
    two = git_json(cli, str(repo.path), "--jobs", "2")
    assert len(one["findings"]) == 6
    assert one["findings"] == two["findings"]


def test_allow_comment_and_placeholders_in_history(repo: Repo, cli: Any) -> None:
    repo.commit(
        "c",
        {
            "a.yaml": f"developer_token: {TOKEN}  # devtoken:allow\n",
            "b.yaml": "developer_token: INSERT_DEVELOPER_TOKEN_HERE\n",
        },
    )
    doc = git_json(cli, str(repo.path), "--explain")
    assert doc["findings"] == []
    assert [s["reason"] for s in doc["suppressed"]] == [
        "allow comment (devtoken:allow) on the line"
    ]


def test_shallow_clone_scans_what_is_there_and_says_so(
    repo: Repo, cli: Any, tmp_path: Path
) -> None:
    repo.commit("old", {"old.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"})
    repo.commit("rm", remove=("old.env",))
    for n in range(3):
        repo.commit(
            f"n{n}", {"new.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={OTHER}\n" if n == 2 else "x\n"}
        )
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "2", f"file://{repo.path}", str(shallow)], check=True
    )
    run = cli("git", str(shallow), "--format", "json")
    assert run.code == 1
    doc = run.json()
    assert [f["path"] for f in doc["findings"]] == ["new.env"]
    assert doc["stats"]["shallow"] is True
    assert "shallow" in doc["stats"]["skipped_by_reason"]
    assert "shallow clone" in run.err


def _loose_object(repo: Repo, sha: str) -> Path:
    return repo.path / ".git" / "objects" / sha[:2] / sha[2:]


def test_missing_objects_are_skipped_and_counted(repo: Repo, cli: Any) -> None:
    repo.commit(
        "a",
        {
            "lost.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={OTHER}\n",
            "kept.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n",
        },
    )
    lost = repo.git("rev-parse", "HEAD:lost.env")
    _loose_object(repo, lost).unlink()
    run = cli("git", str(repo.path), "--format", "json")
    assert run.code == 1, run.err
    doc = run.json()
    assert [f["path"] for f in doc["findings"]] == ["kept.env"]
    (skip,) = doc["stats"]["skipped"]
    assert (
        skip["reason"] == "missing-object"
        and skip["path"] == "lost.env"
        and lost[:12] in skip["detail"]
    )
    assert "lost.env: missing-object" in run.err


def test_a_corrupt_pack_is_a_clear_error(repo: Repo, cli: Any) -> None:
    repo.commit("a", {"a.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n" + "filler line\n" * 2000})
    repo.git("gc", "-q", "--aggressive")
    (pack,) = (repo.path / ".git" / "objects" / "pack").glob("*.pack")
    data = bytearray(pack.read_bytes())
    for i in range(200, len(data) - 40, 7):
        data[i] ^= 0xFF
    pack.chmod(0o644)
    pack.write_bytes(bytes(data))
    run = cli("git", str(repo.path))
    assert run.code == 2
    assert run.err.startswith("devtoken: error: git") and "Traceback" not in run.err


def test_submodules_lfs_binary_and_large_blobs_are_counted(repo: Repo, cli: Any) -> None:
    nested = Repo(repo.path / "vendor" / "sub")  # `git add -A` records it as a gitlink
    nested.commit("inside", {"secret.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={THIRD}\n"})
    repo.commit("base", {"a.txt": "a\n"})
    lfs = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "a" * 64 + "\nsize 12345\n"
    repo.commit(
        "more",
        {
            "model.bin": "x",  # replaced below with real binary content
            "big.log": "noise\n" * 5000 + f"developer-token: {OTHER}\n",
            "weights.onnx": lfs,
            "ok.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n",
        },
    )
    repo.write("model.bin", bytes(range(256)) * 64)
    repo.commit("binary")
    doc = git_json(cli, str(repo.path), "--max-blob-size", "16k")
    assert [f["path"] for f in doc["findings"]] == ["ok.env"]
    reasons = doc["stats"]["skipped_by_reason"]
    assert reasons == {"binary": 1, "lfs-pointer": 1, "submodule": 1, "too-large": 1}
    assert [f["path"] for f in git_json(cli, str(repo.path))["findings"]] == ["big.log", "ok.env"]


def test_non_utf8_paths(repo: Repo, cli: Any) -> None:
    repo.write(b"caf\xe9.env", f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n")
    repo.commit("latin-1 name")
    (finding,) = git_json(cli, str(repo.path))["findings"]
    assert finding["path"] == "caf\ufffd.env"
    assert finding["exposure"]["still_present_in"] == ["refs/heads/main"]


def test_bare_mirror(repo: Repo, cli: Any, tmp_path: Path) -> None:
    repo.commit("a", {"a.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"})
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(repo.path), str(mirror)], check=True)
    (finding,) = git_json(cli, str(mirror))["findings"]
    assert finding["path"] == "a.env"


def test_not_a_repository(cli: Any, tmp_path: Path) -> None:
    run = cli("git", str(tmp_path))
    assert run.code == 2 and "not a git repository" in run.err


def test_the_generated_benchmark_history(tmp_path: Path, cli: Any) -> None:
    """make_repo.py's planted secrets, each with its commit (a small history)."""
    maker = SHARED_CORPUS.parent / "bench" / "make_repo.py"
    require(maker.exists(), "../shared/bench/make_repo.py")
    out = tmp_path / "bench"
    subprocess.run(
        [
            "python3",
            str(maker),
            "--out",
            str(out),
            "--commits",
            "300",
            "--files",
            "60",
            "--plants",
            "12",
        ],
        check=True,
        capture_output=True,
    )
    import json

    labels = json.loads(Path(f"{out}.labels.json").read_text())["planted"]
    doc = git_json(cli, str(out))
    got = {(f["path"], f["line"], f["rule_id"], f["commit"]) for f in doc["findings"]}
    assert {(p["path"], p["line"], p["rule"], p["commit"]) for p in labels} == got
    shutil.rmtree(out)


def test_a_corrupt_blob_is_skipped_and_the_rest_still_scanned(repo: Repo, cli: Any) -> None:
    import random

    rng = random.Random(7)  # unrelated contents: no blob is stored as a delta of another
    files = {
        f"f{n}.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN[:-2]}{n:02d}\n"
        + "%x\n" * 400 % tuple(rng.getrandbits(64) for _ in range(400))
        for n in range(6)
    }
    repo.commit("six", files)
    bad = repo.git("rev-parse", "HEAD:f2.env")
    repo.git("gc", "-q")
    (index,) = (repo.path / ".git" / "objects" / "pack").glob("*.idx")
    listing = repo.git("verify-pack", "-v", str(index))
    offset = next(int(line.split()[4]) for line in listing.splitlines() if line.startswith(bad))
    pack = index.with_suffix(".pack")
    data = bytearray(pack.read_bytes())
    for i in range(offset + 8, offset + 40):
        data[i] ^= 0x5A
    pack.chmod(0o644)
    pack.write_bytes(bytes(data))
    run = cli("git", str(repo.path), "--format", "json", "--jobs", "1")
    assert run.code == 1, run.err
    doc = run.json()
    assert sorted(f["path"] for f in doc["findings"]) == [
        "f0.env",
        "f1.env",
        "f3.env",
        "f4.env",
        "f5.env",
    ]
    (skip,) = doc["stats"]["skipped"]
    assert (skip["path"], skip["reason"]) == ("f2.env", "corrupt-object")


def test_run_from_a_subdirectory_scans_the_whole_repository(repo: Repo, cli: Any) -> None:
    repo.commit(
        "a",
        {
            "deep/er/a.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n",
            "top.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={OTHER}\n",
        },
    )
    doc = git_json(cli, str(repo.path / "deep" / "er"))
    assert sorted(f["path"] for f in doc["findings"]) == ["deep/er/a.env", "top.env"]


def test_a_secret_pasted_into_a_commit_message_is_reported_redacted(repo: Repo, cli: Any) -> None:
    repo.commit(f"use token {TOKEN} for now", {"a.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"})
    run = cli("git", str(repo.path))
    assert "use token Qm3x…A1 for now" in run.out and TOKEN not in run.out
    (finding,) = git_json(cli, str(repo.path))["findings"]
    assert finding["message"] == "use token Qm3x…A1 for now"


def test_a_renamed_file_keeps_its_secret_present_at_the_new_path(repo: Repo, cli: Any) -> None:
    first = repo.commit("add", {"old/ads.env": f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"})
    (repo.path / "new").mkdir()
    repo.git("mv", "old/ads.env", "new/ads.env")
    moved = repo.commit("move config")
    by_path = {f["path"]: f for f in git_json(cli, str(repo.path))["findings"]}
    assert set(by_path) == {"old/ads.env", "new/ads.env"}
    assert by_path["old/ads.env"]["commit"] == first
    assert by_path["old/ads.env"]["exposure"]["removed_commit"] == moved
    assert by_path["new/ads.env"]["commit"] == moved
    assert by_path["new/ads.env"]["exposure"]["still_present_in"] == ["refs/heads/main"]
