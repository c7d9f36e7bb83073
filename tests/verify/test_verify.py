"""Verification against fake Google servers on 127.0.0.1 (the real google-ads client, over TLS)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import loopback_env, run_subprocess
from tests.fakes.ads_server import FakeAds
from tests.fakes.oauth_server import FakeOAuth, TrapServer

REPO = Path(__file__).resolve().parents[2]
TOKEN = "Qm3xK9_pL2vN8rT4wY6zA1"
CLIENT_ID = "278534944592-6vbtcjbs73z4z61numlhm5zme0k1y5g3.apps.googleusercontent.com"
SECRET = "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"
BAD_SECRET = "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"


def refresh(marker: str) -> str:
    return f"1//0g{marker}R7K8XyZCB6IAUUJcTa_RXcrzEBZshBfTf39VMBlMJzjtPrcWC3f5fMqIY3Dwarw4xQTQzKEe7"


def ads_config(marker: str = "LIVE", secret: str = SECRET, with_token: bool = True) -> str:
    lines = [f"developer_token: {TOKEN}"] if with_token else []
    lines += [
        f"client_id: {CLIENT_ID}",
        f"client_secret: {secret}",
        f"refresh_token: {refresh(marker)}",
        "login_customer_id: 1234567890",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeOAuth, FakeAds]]:
    with FakeOAuth() as oauth, FakeAds(tmp_path_factory.mktemp("tls")) as ads:
        yield oauth, ads


def fakes_env(servers: tuple[FakeOAuth, FakeAds], **env: str) -> dict[str, str]:
    """A child's environment that points verification at the fakes, quickly timing out."""
    oauth, ads = servers
    return loopback_env(
        DEVTOKEN_OAUTH_TOKEN_URL=oauth.url,
        DEVTOKEN_GOOGLE_ADS_ENDPOINT=ads.endpoint,
        GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=str(ads.cert),
        DEVTOKEN_VERIFY_TIMEOUT="1",
        DEVTOKEN_VERIFY_RETRIES="1",
        DEVTOKEN_VERIFY_MAX_RETRY_DELAY="0.2",
        **env,
    )


def verify(
    servers: tuple[FakeOAuth, FakeAds], target: Path, *extra: str, **env: str
) -> dict[str, Any]:
    """Run `devtoken scan TARGET --verify` in a fresh process pointed at the fakes."""
    oauth, _ = servers
    done = run_subprocess(
        ["scan", str(target), "--verify", "--format", "json", *extra],
        env=fakes_env(servers, **env),
        text=True,
    )
    assert done.returncode in (0, 1), done.stderr
    for secret in (SECRET, refresh("LIVE"), oauth.access_token, TOKEN):
        assert secret not in done.stdout + done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def by_rule(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["rule_id"]: f["verification"] for f in doc["findings"]}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_live_bundle_reaches_customers_through_google_ads(servers: Any, tmp_path: Path) -> None:
    oauth, ads = servers
    calls_before = len(ads.calls)
    doc = verify(servers, write(tmp_path, "google-ads.yaml", ads_config("LIVE")))
    (bundle,) = doc["bundles"]
    assert bundle["verification"]["status"] == "live"
    assert bundle["verification"]["reach"] == ["1234567890", "9876543210"]
    assert bundle["login_customer_id"] == "1234567890"
    members = by_rule(doc)
    assert members["google-oauth-refresh-token"]["status"] == "live"
    assert members["google-oauth-client-secret"]["status"] == "live"
    assert members["google-ads-developer-token"]["status"] == "unverifiable"
    assert (
        "ignored by the Google Ads API since 2026-09-09"
        in members["google-ads-developer-token"]["reason"]
    )
    call = ads.calls[calls_before]
    assert (
        call["developer-token"] == TOKEN
    )  # the bundle's token rides along, as the client sends it
    assert call["authorization"] == f"Bearer {oauth.access_token}"


def test_bare_developer_token_is_unverifiable_even_if_the_api_accepts_everything(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with FakeOAuth() as oauth, FakeAds(tmp_path_factory.mktemp("tls"), accept_all=True) as ads:
        doc = verify((oauth, ads), write(tmp_path, ".env", f"GOOGLE_ADS_DEVELOPER_TOKEN={TOKEN}\n"))
        assert ads.calls == [] and oauth.requests == []
    (finding,) = doc["findings"]
    assert finding["verification"]["status"] == "unverifiable"
    assert "no OAuth material found with it" in finding["verification"]["reason"]
    assert doc["bundles"][0]["verification"]["status"] == "unverifiable"


@pytest.mark.parametrize(
    ("config", "bundle_status", "member", "member_status", "words"),
    [
        (
            ads_config("REVOKED"),
            "invalid",
            "google-oauth-refresh-token",
            "invalid",
            "invalid_grant",
        ),
        (ads_config("REVOKED"), "invalid", "google-oauth-client-secret", "live", "invalid_grant"),
        (
            ads_config("LIVE", BAD_SECRET),
            "invalid",
            "google-oauth-client-secret",
            "invalid",
            "invalid_client",
        ),
        (
            ads_config("LIVE", BAD_SECRET),
            "invalid",
            "google-oauth-refresh-token",
            "unverifiable",
            "cannot be judged",
        ),
        (ads_config("RATE"), "unknown", "google-oauth-refresh-token", "unknown", "rate limited"),
        (
            ads_config("BOOM"),
            "unknown",
            "google-oauth-refresh-token",
            "unknown",
            "server error 500",
        ),
        (
            ads_config("HANG"),
            "unknown",
            "google-oauth-refresh-token",
            "unknown",
            "no answer within 1s",
        ),
        (ads_config("NOTADS"), "live", "google-oauth-refresh-token", "live", "NOT_ADS_USER"),
        (
            ads_config("PROJECT"),
            "live",
            "google-oauth-refresh-token",
            "live",
            "CLOUD_PROJECT_NOT_APPROVED_FOR_PRODUCTION",
        ),
        (
            ads_config("QUOTA"),
            "live",
            "google-oauth-refresh-token",
            "live",
            "rate limited by the Google Ads",
        ),
        (
            ads_config("ADSSLOW"),
            "live",
            "google-oauth-refresh-token",
            "live",
            "no answer within 1s",
        ),
        (
            ads_config("WEIRD"),
            "live",
            "google-oauth-refresh-token",
            "live",
            "unexpected Google Ads API",
        ),
    ],
    ids=[
        "revoked",
        "revoked-client-ok",
        "bad-client",
        "bad-client-token",
        "oauth-rate-limit",
        "oauth-500",
        "oauth-hangs",
        "not-ads-user",
        "project-not-approved",
        "ads-quota",
        "ads-hangs",
        "ads-unexpected",
    ],
)
def test_outcomes(
    servers: Any,
    tmp_path: Path,
    config: str,
    bundle_status: str,
    member: str,
    member_status: str,
    words: str,
) -> None:
    doc = verify(servers, write(tmp_path, "google-ads.yaml", config))
    (bundle,) = doc["bundles"]
    assert bundle["verification"]["status"] == bundle_status, bundle
    assert by_rule(doc)[member]["status"] == member_status, by_rule(doc)[member]
    assert words in bundle["verification"]["reason"] + by_rule(doc)[member]["reason"]


@pytest.mark.parametrize(
    ("secret", "status"), [(SECRET, "live"), (BAD_SECRET, "invalid")], ids=["live", "invalid"]
)
def test_client_pair_without_refresh_token(
    servers: Any, tmp_path: Path, secret: str, status: str
) -> None:
    doc = verify(
        servers,
        write(
            tmp_path,
            "client.json",
            f'{{"client_id": "{CLIENT_ID}", "client_secret": "{secret}"}}\n',
        ),
    )
    assert doc["bundles"][0]["verification"]["status"] == status
    assert by_rule(doc)["google-oauth-client-secret"]["status"] == status


@pytest.mark.parametrize(
    ("token", "status", "words"),
    [
        ("ya29.a0LIVEleakedAccessToken0123456789abcdefghijkLMNOP", "live", "2 Google Ads account"),
        (
            "ya29.a0EXPIREDleakedAccessToken0123456789abcdefghijkLM",
            "invalid",
            "OAUTH_TOKEN_EXPIRED",
        ),
    ],
)
def test_access_token_alone(
    servers: Any, tmp_path: Path, token: str, status: str, words: str
) -> None:
    doc = verify(servers, write(tmp_path, "curl.sh", f"curl -H 'Authorization: Bearer {token}'\n"))
    (finding,) = doc["findings"]
    assert (
        finding["verification"]["status"] == status and words in finding["verification"]["reason"]
    )


def _service_account(email: str, token_uri: str) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "p",
            "private_key_id": "k" * 40,
            "private_key": pem,
            "client_email": email,
            "token_uri": token_uri,
        },
        indent=1,
    )


@pytest.mark.parametrize(
    ("email", "status"),
    [
        ("reporter@p.iam.gserviceaccount.com", "live"),
        ("deleted@p.iam.gserviceaccount.com", "invalid"),
    ],
)
def test_service_account_key_and_no_redirect_by_content(
    servers: Any, tmp_path: Path, email: str, status: str
) -> None:
    oauth, _ = servers
    with TrapServer() as trap:
        path = write(tmp_path, "sa.json", _service_account(email, trap.url))
        before = len(oauth.requests)
        doc = verify(servers, path)
        assert trap.hits == 0  # the file's own token_uri is never used
    assert len(oauth.requests) == before + 1
    assert doc["bundles"][0]["verification"]["status"] == status
    assert doc["bundles"][0]["client_email"] == email


def test_one_verification_per_unique_bundle(servers: Any, tmp_path: Path) -> None:
    oauth, _ = servers
    for name in ("a.yaml", "b.yaml", "c.yaml"):
        write(tmp_path, name, ads_config("LIVE"))
    before = len(oauth.requests)
    doc = verify(servers, tmp_path)
    assert len(doc["bundles"]) == 3 and len(oauth.requests) == before + 1
    assert len({b["id"] for b in doc["bundles"]}) == 3  # one incident per file
    assert {b["verification"]["status"] for b in doc["bundles"]} == {"live"}


def custom_rules(tmp_path: Path, **changes: str) -> Path:
    """The bundled rules with the client-secret rule under a new id (and other field changes)."""
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    original = rules / "google-oauth-client-secret.toml"
    text = original.read_text().replace(
        'id = "google-oauth-client-secret"', 'id = "acme-oauth-client-secret"'
    )
    for field, value in changes.items():
        text = re.sub(rf"(?m)^{field} = .*$", f"{field} = {value}", text)
    original.unlink()
    (rules / "acme-oauth-client-secret.toml").write_text(text)
    return rules


def test_a_new_rule_with_a_role_bundles_and_verifies_like_the_bundled_one(
    servers: Any, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    write(project, "google-ads.yaml", ads_config("LIVE"))
    write(
        project, "client.json", f'{{"client_id": "{CLIENT_ID}", "client_secret": "{BAD_SECRET}"}}\n'
    )
    bundled = verify(servers, project)
    custom = verify(servers, project, "--rules", str(custom_rules(tmp_path)))
    assert {f["rule_id"] for f in custom["findings"]} == {
        "acme-oauth-client-secret" if f["rule_id"] == "google-oauth-client-secret" else f["rule_id"]
        for f in bundled["findings"]
    }
    assert [sorted(b["roles"]) for b in custom["bundles"]] == [
        sorted(b["roles"]) for b in bundled["bundles"]
    ]
    assert [b["verification"] for b in custom["bundles"]] == [
        b["verification"] for b in bundled["bundles"]
    ]
    assert [b["verification"]["status"] for b in custom["bundles"]] == ["invalid", "live"]
    members = by_rule(custom)
    assert members["acme-oauth-client-secret"] == by_rule(bundled)["google-oauth-client-secret"]


def test_a_rule_that_asks_for_no_check_is_not_used_as_material(
    servers: Any, tmp_path: Path
) -> None:
    oauth, _ = servers
    before = len(oauth.requests)
    path = write(
        tmp_path, "client.json", f'{{"client_id": "{CLIENT_ID}", "client_secret": "{SECRET}"}}\n'
    )
    rules = custom_rules(tmp_path, verify='"none"')
    doc = verify(servers, path, "--rules", str(rules))
    assert len(oauth.requests) == before
    assert by_rule(doc)["acme-oauth-client-secret"] == {
        "status": "unverifiable",
        "reason": 'its rule asks for no check (verify = "none")',
    }
    assert doc["bundles"][0]["verification"]["status"] == "unverifiable"


def test_text_output_shows_outcome_and_reach(servers: Any, tmp_path: Path) -> None:
    oauth, ads = servers
    env = loopback_env(
        DEVTOKEN_OAUTH_TOKEN_URL=oauth.url,
        DEVTOKEN_GOOGLE_ADS_ENDPOINT=ads.endpoint,
        GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=str(ads.cert),
    )
    path = write(tmp_path, "google-ads.yaml", ads_config("LIVE"))
    done = subprocess.run(
        [sys.executable, "-m", "scanner", "scan", str(path), "--verify"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert "verification: LIVE:" in done.stdout
    assert "opens customer(s) 1234567890, 9876543210" in done.stdout


def test_without_verify_nothing_is_checked_and_google_ads_is_not_imported(tmp_path: Path) -> None:
    path = write(tmp_path, "google-ads.yaml", ads_config("LIVE"))
    probe = (
        "import sys, json, io, contextlib; from scanner.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    code = main(['scan', {str(path)!r}, '--format', 'json'])\n"
        "doc = json.loads(out.getvalue())\n"
        "print(code, sorted({f['verification']['status'] for f in doc['findings']}),"
        " any(m.startswith(('google', 'grpc')) for m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert done.stdout.strip() == "1 ['skipped'] False", done.stderr


def test_verify_is_refused_on_staged_changes(tmp_path: Path, cli: Any) -> None:
    run = cli("scan", "--staged", "--verify", cwd=tmp_path)
    assert run.code == 2 and "never run on staged changes" in run.err


@pytest.mark.parametrize(
    ("marker", "status", "code"),
    [("LIVE", "live", 1), ("REVOKED", "invalid", 0)],
    ids=["live-fails", "revoked-passes"],
)
def test_fail_on_live_exits_1_only_for_a_live_credential(
    servers: Any, tmp_path: Path, marker: str, status: str, code: int
) -> None:
    """--fail-on live against the fake OAuth/Ads servers: the exit code follows verification."""
    target = write(tmp_path, "google-ads.yaml", ads_config(marker))
    args = ["scan", str(target), "--verify", "--format", "json", "--fail-on", "live"]
    done = run_subprocess(args, env=fakes_env(servers), text=True)
    assert done.returncode == code, done.stderr
    doc = json.loads(done.stdout)
    assert [b["verification"]["status"] for b in doc["bundles"]] == [status]
    assert len(doc["findings"]) == 4


@pytest.mark.parametrize(
    ("marker", "status"), [("LIVE", "live"), ("REVOKED", "invalid")], ids=["live", "revoked"]
)
def test_sarif_results_carry_their_bundles_outcome(
    servers: Any, tmp_path: Path, marker: str, status: str
) -> None:
    """A revoked refresh token's client id and secret can each still be `live` (the pair
    works); `bundle_verification` is what `--fail-on live` decides on, so a CI step counting
    live results from SARIF counts bundles, not members."""
    target = write(tmp_path, "google-ads.yaml", ads_config(marker))
    args = ["scan", str(target), "--verify", "--format", "sarif"]
    done = run_subprocess(args, env=fakes_env(servers), text=True)
    results = json.loads(done.stdout)["runs"][0]["results"]
    assert len(results) == 4
    assert {r["properties"]["bundle_verification"] for r in results} == {status}
