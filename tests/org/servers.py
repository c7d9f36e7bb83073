"""Loopback git servers for mirror tests: `git daemon`, a silent TCP listener, and an HTTP
server that records what git sends it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from tests.org.http_fake import LoopbackJsonApi


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class GitDaemon:
    """`git daemon` exporting every repository under `base` (git daemon has no --port=0)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}"

    def __enter__(self) -> GitDaemon:
        self.proc = subprocess.Popen(
            [
                "git",
                "daemon",
                f"--base-path={self.base}",
                "--export-all",
                "--reuseaddr",
                "--informative-errors",
                "--listen=127.0.0.1",
                f"--port={self.port}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.025)
        self.__exit__()
        raise RuntimeError("git daemon did not start")

    def __exit__(self, *_: object) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)


class SilentListener:
    """Accepts connections and never answers: a git fetch against it hangs until killed.
    `closed` is set when the peer went away (git's process was killed)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(30)
            try:
                while conn.recv(4096):
                    pass
            except OSError:
                pass
            self.closed.set()

    def __enter__(self) -> SilentListener:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.sock.close()


class RecordingHttp(LoopbackJsonApi):
    """Answers every request 404 and records its path and Authorization header."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str | None]] = []

    def record(self, path: str, headers: Any) -> None:
        self.seen.append((path, headers.get("Authorization")))

    def answer(self, path: str) -> tuple[int, dict[str, str], Any]:
        return 404, {}, None


class SlowProxy:
    """A TCP proxy to `port` that holds each connection `delay` seconds before passing bytes
    on: a fetch through it is in flight for that long, a window to kill a run in.
    `connected` is set when the first connection arrives."""

    def __init__(self, port: int, delay: float) -> None:
        self.target = port
        self.delay = delay
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.connected = threading.Event()
        self.connections = 0
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self.connected.set()
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        time.sleep(self.delay)
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target))
        except OSError:
            client.close()
            return
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pump, args=(source, sink), daemon=True).start()

    def __enter__(self) -> SlowProxy:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.sock.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)  # pass the end of one direction on, keep the other
