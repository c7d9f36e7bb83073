"""`devtoken org` text output: a short fingerprint per finding, and the refs that still
hold a secret said short ("refs/heads/main and 3 other refs"; JSON keeps the list)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

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
