"""A fake GitHub REST API on 127.0.0.1: repository listings with Link paging, and scripted
rate-limit answers, so PyGithub runs for real against it."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.org.http_fake import LoopbackJsonApi


@dataclass
class Fault:
    """One scripted answer for the request of page `page` (consumed once). `reset_in` sets
    `x-ratelimit-reset` that many seconds after the moment it is answered, so a real wait is
    short and known."""

    page: int
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    reset_in: float | None = None

    def answer_headers(self) -> dict[str, str]:
        if self.reset_in is None:
            return self.headers
        return {**self.headers, "x-ratelimit-reset": str(int(time.time() + self.reset_in))}


def repo(
    owner: str,
    name: str,
    repo_id: int,
    pushed_at: str,
    clone_url: str = "",
    archived: bool = False,
    fork: bool = False,
    visibility: str = "public",
) -> dict[str, Any]:
    return {
        "id": repo_id,
        "node_id": f"R_{repo_id}",
        "name": name,
        "full_name": f"{owner}/{name}",
        "owner": {"login": owner, "id": 1, "type": "Organization"},
        "private": visibility != "public",
        "visibility": visibility,
        "fork": fork,
        "archived": archived,
        "default_branch": "main",
        "pushed_at": pushed_at,
        "clone_url": clone_url or f"https://github.example/{owner}/{name}.git",
        "html_url": f"https://github.example/{owner}/{name}",
        "url": f"https://github.example/api/repos/{owner}/{name}",
    }


class FakeGitHub(LoopbackJsonApi):
    content_type = "application/json; charset=utf-8"

    def __init__(self) -> None:
        super().__init__()
        self.repos: dict[str, list[dict[str, Any]]] = {}
        self.faults: deque[Fault] = deque()
        self.requests: list[str] = []
        self.auth_headers: list[str | None] = []

    def record(self, path: str, headers: Any) -> None:
        self.requests.append(path)
        self.auth_headers.append(headers.get("Authorization"))

    def answer(self, path: str) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        segments = parts.path.strip("/").split("/")
        if len(segments) != 3 or segments[0] not in ("orgs", "users") or segments[2] != "repos":
            return 404, {}, {"message": "Not Found"}
        page = int(query.get("page", "1"))
        if self.faults and self.faults[0].page == page:
            fault = self.faults.popleft()
            return fault.status, fault.answer_headers(), fault.body
        if segments[1] not in self.repos:
            return 404, {}, {"message": "Not Found"}
        listed = list(self.repos[segments[1]])
        if query.get("sort") == "pushed":
            listed.sort(key=lambda r: r["pushed_at"], reverse=query.get("direction") != "asc")
        per_page = int(query.get("per_page", "30"))
        chunk = listed[(page - 1) * per_page : page * per_page]
        headers = {"x-ratelimit-remaining": "4999"}
        if page * per_page < len(listed):
            query["page"] = str(page + 1)
            following = "&".join(f"{k}={v}" for k, v in query.items())
            headers["Link"] = f'<{self.base}{parts.path}?{following}>; rel="next"'
        return 200, headers, chunk

    def pages_asked(self) -> list[int]:
        return [int(parse_qs(urlsplit(p).query).get("page", ["1"])[0]) for p in self.requests]
