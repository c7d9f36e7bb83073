"""A fake Google OAuth token endpoint on 127.0.0.1, answering by the credential it gets."""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.loopback import LoopbackHttp


class FakeOAuth(LoopbackHttp):
    """Behaviour is chosen by markers inside the submitted credentials (LIVE, REVOKED, ...)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.access_token = "ya29.a0LIVEfakeAccessTokenFromTheFakeOAuthServer0123456789"
        super().__init__(self._handler())

    @property
    def url(self) -> str:
        return f"{self.base}/token"

    def answer(self, form: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        grant = form.get("grant_type", "")
        material = " ".join(form.values())
        if "HANG" in material:
            time.sleep(5)
        if "RATE" in material:
            return 429, {"error": "rate_limit_exceeded"}, {"Retry-After": "0"}
        if "BOOM" in material:
            return 500, {"error": "internal_failure"}, {}
        if "BADCLIENT" in form.get("client_secret", ""):
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}, {}
        if grant == "refresh_token":
            if "REVOKED" in form.get("refresh_token", ""):
                return (
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    },
                    {},
                )
            return 200, {"access_token": self._token(form["refresh_token"]), "expires_in": 3599}, {}
        if grant == "authorization_code":
            return 400, {"error": "invalid_grant", "error_description": "Malformed auth code."}, {}
        if grant.endswith("jwt-bearer"):
            claims = _claims(form.get("assertion", ""))
            if "deleted" in str(claims.get("iss", "")):
                return (
                    400,
                    {"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
                    {},
                )
            return 200, {"access_token": self.access_token, "expires_in": 3599}, {}
        return 400, {"error": "unsupported_grant_type"}, {}

    def _token(self, refresh_token: str) -> str:
        for marker in ("NOTADS", "PROJECT", "QUOTA", "EXPIRED", "ADSSLOW", "WEIRD"):
            if marker in refresh_token:
                return f"ya29.a0{marker}fakeAccessTokenFromTheFakeOAuthServer0123456789"
        return self.access_token

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                fake.requests.append(form)
                status, body, headers = fake.answer(form)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *_: object) -> None:
                pass

        return Handler


def _claims(assertion: str) -> dict[str, Any]:
    try:
        body = assertion.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))  # type: ignore[no-any-return]
    except (IndexError, ValueError):
        return {}


class TrapServer(LoopbackHttp):
    """Counts every request: an endpoint that scanned content tries to redirect to."""

    def __init__(self) -> None:
        self.hits = 0
        trap = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                trap.hits += 1
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"access_token": "ya29.stolen"}')

            do_GET = do_POST

            def log_message(self, *_: object) -> None:
                pass

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return f"{self.base}/token"
