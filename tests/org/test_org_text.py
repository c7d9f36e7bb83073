"""`devtoken org` text output: a short fingerprint per finding, and the refs that still
hold a secret said short ("refs/heads/main and 3 other refs"; JSON keeps the list)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliRun
from tests.org.test_org_run import TOKENS, Org, org

__all__ = ["org"]  # the fixture


def test_org_text_counts_the_refs_still_holding_a_secret(
    cli: Callable[..., CliRun], org: Org
) -> None:
    for n in range(3):
        org.repos["alpha"].git("branch", f"release/{n}")
    said = cli(*org.args()).out
    short = hashlib.sha256(f"google-ads-developer-token:{TOKENS[0]}".encode()).hexdigest()[:12]
    lines = said.split("\n")
    first = lines.index(
        f"{org.urls['alpha']}: config/google-ads.yaml:2:18: HIGH google-ads-developer-token "
        f"Zk3m…_g (fingerprint {short}) NEW"
    )
    assert lines[first + 2] == "    still present in refs/heads/main and 3 other refs"
    doc = json.loads(cli(*org.args("--format", "json")).out)
    (leak,) = [f for f in doc["findings"] if f["repository"] == org.urls["alpha"]]
    assert leak["exposure"]["still_present_in"] == [
        "refs/heads/main",
        *(f"refs/heads/release/{n}" for n in range(3)),
    ]


def test_a_repositorys_own_sarif_names_it_and_each_result_its_commit(
    cli: Callable[..., CliRun], org: Org, tmp_path: Path
) -> None:
    import jsonschema

    from tests.render.test_sarif import _sarif_schema

    out = tmp_path / "per-repo"
    assert cli(*org.args("--per-repository", str(out))).code == 1
    alpha = org.repos["alpha"]
    (sarif_file,) = [p for p in out.glob("*.sarif") if "alpha" in p.name]
    document = json.loads(sarif_file.read_text())
    jsonschema.validate(document, _sarif_schema())
    (run,) = document["runs"]
    assert run["versionControlProvenance"] == [{"repositoryUri": org.urls["alpha"]}]
    (result,) = run["results"]
    configured = alpha.git("rev-parse", "HEAD")
    props = result["properties"]
    assert (props["commit"], props["first_commit"], props["message"]) == (
        configured,
        configured,
        "configure",
    )
    assert props["still_present_in"] == ["refs/heads/main"]


def test_what_a_repositorys_scan_could_not_read_is_said_per_reason_and_listed_in_json(
    cli: Callable[..., CliRun], org: Org, tmp_path: Path
) -> None:
    """Blobs a repository's scan could not read whole are not in the ledger, and the run
    says so as `scan` and `git` do: a warned reason one line per reason (each skip with
    --verbose), a counted one (too large) in the totals; JSON lists each under its
    repository; --quiet keeps stderr for errors."""
    from tests.engine.test_engine_bounds import SLOW_RULE, STUCK
    from tests.rulefiles import bundled_rules_plus

    rules = bundled_rules_plus(tmp_path / "rules", slow=SLOW_RULE)
    config = tmp_path / "org.toml"
    config.write_text(f"rules_dir = {str(rules)!r}\nrule_timeout = 0.05\n")
    alpha = org.repos["alpha"]
    alpha.commit("logs", {"a.log": STUCK + "a\n", "b.log": STUCK + "b\n", "big.bin": "0" * 4096})
    loud = [
        a for a in org.args("--config", str(config), "--max-blob-size", "2KiB") if a != "--quiet"
    ]
    run = cli(*loud, "--format", "json")
    (report,) = [r for r in run.json()["repositories"] if r["repository"] == org.urls["alpha"]]
    assert report["skipped_by_reason"] == {"rule-timeout": 2, "too-large": 1}
    assert sorted(s["path"] for s in report["skipped"]) == ["a.log", "b.log", "big.bin"]
    assert run.json()["stats"]["skipped_by_reason"] == {"rule-timeout": 2, "too-large": 1}
    assert [line for line in run.err.splitlines() if "warning" in line] == [
        f"devtoken: warning: 2 rule-timeout (a rule stopped at its time limit), first "
        f"{org.urls['alpha']}: a.log; --verbose or --format json lists them"
    ]
    alpha.commit("more", {"c.log": STUCK})
    verbose = cli(*loud, "--verbose").err.splitlines()
    assert [line.split(": rule-timeout:")[0] for line in verbose if "warning" in line] == [
        f"devtoken: warning: {org.urls['alpha']}: c.log"  # only what this run scanned
    ]
    alpha.commit("again", {"d.log": STUCK})
    quiet = cli(*org.args("--config", str(config)))
    assert (quiet.code, quiet.err) == (1, "")
