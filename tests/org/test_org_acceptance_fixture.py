"""The acceptance organisation itself, through the parts that exist without `devtoken org`:
the fake APIs page PyGithub / python-gitlab for real (the rate limits are the CLI test's), every listed repository
mirrors from the git daemon (but the missing one), and make_repo's labels are exactly what
`devtoken git` finds in each mirror, so the acceptance tests may take the labels as truth."""

from __future__ import annotations

from pathlib import Path

from scanner.engine import Engine
from scanner.git.scan_history import GitOptions, scan_git
from scanner.models import GitProvenance
from scanner.org.config import load_org_config
from scanner.org.mirror import MirrorCache
from scanner.org.ratelimit import RateBudget
from scanner.org.sources import enumerate_source
from tests.org.orgfixture import (
    GITHUB_TOKEN,
    GITLAB_TOKEN,
    MISSING,
    OWNER,
    Template,
    open_org,
    template,
)

__all__ = ["template"]


def test_the_organisation_lists_pages_waits_out_limits_and_mirrors_its_labels(
    template: Template, tmp_path: Path, rules: object
) -> None:
    with open_org(template, tmp_path / "org", per_page=4) as org:
        config = load_org_config(org.config)
        budget = RateBudget(max_wait=30)
        env = {"ACCEPT_GITHUB_TOKEN": GITHUB_TOKEN, "ACCEPT_GITLAB_TOKEN": GITLAB_TOKEN}
        listings = [
            enumerate_source(s, config.filters, env, budget, pace=None) for s in config.sources
        ]
        assert [listing.error for listing in listings] == [None, None]
        assert org.github.pages_asked() == [1, 2, 3, 4, 5]
        assert org.gitlab.pages_asked() == [1, 2]
        assert listings[0].skipped == {"archived": 1, "fork": 1}
        refs = [r for listing in listings for r in listing.refs]
        names = sorted(r.full_name for r in refs)
        assert names == sorted([*org.scanned_names(), f"{OWNER}/{MISSING}"])
        assert len(org.scanned_names()) == 22

        cache = MirrorCache(tmp_path / "mirrors", timeout=60)
        results = {r.full_name: r for r in cache.sync(refs, jobs=2)}
        failed = {n for n, r in results.items() if r.status == "failed"}
        assert failed == {f"{OWNER}/{MISSING}"}
        engine = Engine(rules)  # type: ignore[arg-type]
        for name in org.scanned_names():
            found = scan_git(GitOptions(repo=results[name].path, jobs=1), engine)
            got = set()
            for finding in found.findings:
                provenance = finding.provenance
                assert isinstance(provenance, GitProvenance) and provenance.commit
                got.add(
                    (
                        name,
                        provenance.path,
                        finding.match.line,
                        finding.rule.id,
                        provenance.commit.sha,
                    )
                )
            assert got == org.expected([name]), name
