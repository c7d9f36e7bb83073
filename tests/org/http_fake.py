"""One loopback HTTP server for the org tests' fake APIs: each fake answers GET requests with
(status, headers, JSON body) and sees every request's path and headers first."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.loopback import LoopbackHttp


class LoopbackJsonApi(LoopbackHttp):
    content_type = "application/json"

    def __init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.record(self.path, self.headers)
                status, headers, body = fake.answer(self.path)
                payload = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                if payload:
                    self.send_header("Content-Type", fake.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_: object) -> None:
                pass

        super().__init__(Handler, poll_interval=0.05)

    def record(self, path: str, headers: Any) -> None:
        """See a request before it is answered."""

    def answer(self, path: str) -> tuple[int, dict[str, str], Any]:
        """(status, extra headers, JSON body or None for an empty one)."""
        raise NotImplementedError
