"""HTTP targets on 127.0.0.1 that misbehave on purpose: hang, answer late, redirect, or answer
only once N requests are in flight at the same moment (which proves concurrency without timing).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.loopback import LoopbackHttp


class HttpTarget(LoopbackHttp):
    """Records every request (method, path, headers, body), then answers as configured.

    hold: keep every request open until the test ends (a target that never answers).
    delay: answer 200 after this many seconds.
    barrier: answer 200 only once this many requests are open at once (else 503 after 30 s).
    redirect: answer `redirect_status` to this location (which answers 200 to anything).
    """

    def __init__(
        self,
        hold: bool = False,
        delay: float = 0.0,
        barrier: int = 0,
        redirect: str = "",
        redirect_status: int = 302,
    ) -> None:
        self.requests: list[dict[str, Any]] = []
        self.hold, self.delay, self.barrier = hold, delay, barrier
        self.redirect, self.redirect_status = redirect, redirect_status
        self.released = threading.Event()
        self.changed = threading.Condition()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                request = {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": body,
                }
                with target.changed:
                    target.requests.append(request)
                    target.changed.notify_all()
                self._answer(*target.answer(self.command, self.path))

            do_GET = do_POST = _serve

            def _answer(self, status: int, headers: dict[str, str]) -> None:
                try:
                    self.send_response(status)
                    for name, value in {"Content-Type": "application/json", **headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:
                    pass  # the client gave up first

            def log_message(self, *_: object) -> None:
                pass

        super().__init__(Handler)

    def answer(self, method: str, path: str) -> tuple[int, dict[str, str]]:
        if self.redirect and path != self.redirect:
            return self.redirect_status, {"Location": self.redirect}
        if self.hold:
            self.released.wait()
        if self.delay:
            self.released.wait(self.delay)
        if self.barrier:
            with self.changed:
                met = self.changed.wait_for(lambda: len(self.requests) >= self.barrier, 30)
            return (200 if met else 503), {}
        return 200, {}

    def wait_for(self, count: int, timeout: float = 60) -> bool:
        """True once `count` requests have arrived."""
        with self.changed:
            return self.changed.wait_for(lambda: len(self.requests) >= count, timeout)

    def bodies(self) -> list[Any]:
        return [json.loads(r["body"]) for r in self.requests if r["method"] == "POST"]

    def __exit__(self, *_: object) -> None:
        self.released.set()  # let held requests go before the server stops
        super().__exit__()
