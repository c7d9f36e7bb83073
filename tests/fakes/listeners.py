"""Real listeners on 127.0.0.1 for responder tests: an HTTP receiver and an SMTP server."""

from __future__ import annotations

import json
import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from aiosmtpd.controller import Controller

from tests.fakes.loopback import LoopbackHttp


class HttpReceiver(LoopbackHttp):
    """Records every POST (path, headers, body); `hang_first` holds the first request open."""

    def __init__(self, hang_first: float = 0.0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.hang_first = hang_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                if receiver.hang_first and len(receiver.requests) == 1:
                    time.sleep(receiver.hang_first)
                status = 201 if self.path.endswith("/issues") else 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *_: object) -> None:
                pass

        super().__init__(Handler)

    def json_bodies(self, path_suffix: str = "") -> list[Any]:
        return [json.loads(r["body"]) for r in self.requests if r["path"].endswith(path_suffix)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpReceiver:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                receiver.messages.append(
                    {
                        "from": envelope.mail_from,
                        "to": list(envelope.rcpt_tos),
                        "data": envelope.content.decode("utf-8", "replace"),
                    }
                )
                return "250 OK"

        self.port = _free_port()  # aiosmtpd's readiness probe cannot use port 0
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()
