"""A fake GitLab v4 API on 127.0.0.1: group projects (subgroups too) with GitLab's paging
headers, so python-gitlab runs for real against it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.org.http_fake import LoopbackJsonApi


def project(
    namespace: str,
    name: str,
    project_id: int,
    last_activity_at: str,
    archived: bool = False,
    forked: bool = False,
    visibility: str = "private",
    clone_url: str = "",
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": project_id,
        "name": name,
        "path": name,
        "path_with_namespace": f"{namespace}/{name}",
        "namespace": {"full_path": namespace},
        "http_url_to_repo": clone_url or f"https://gitlab.example/{namespace}/{name}.git",
        "default_branch": "main",
        "last_activity_at": last_activity_at,
        "archived": archived,
        "visibility": visibility,
    }
    if forked:
        data["forked_from_project"] = {"id": 1, "path_with_namespace": "up/stream"}
    return data


class FakeGitLab(LoopbackJsonApi):
    def __init__(self) -> None:
        super().__init__()
        self.projects: list[dict[str, Any]] = []
        # (page, status, headers): answered once, in order, instead of that page.
        self.faults: list[tuple[int, int, dict[str, str]]] = []
        self.requests: list[str] = []
        self.tokens: list[str | None] = []

    def record(self, path: str, headers: Any) -> None:
        self.requests.append(path)
        self.tokens.append(headers.get("PRIVATE-TOKEN"))

    def answer(self, raw: str) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(raw)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        prefix, suffix = "/api/v4/groups/", "/projects"
        if not (parts.path.startswith(prefix) and parts.path.endswith(suffix)):
            return 404, {}, {"message": "404 Not Found"}
        group = unquote(parts.path[len(prefix) : -len(suffix)])
        deep = query.get("include_subgroups") == "true"
        chosen = [
            p
            for p in self.projects
            if p["namespace"]["full_path"] == group
            or (deep and p["namespace"]["full_path"].startswith(group + "/"))
        ]
        if not chosen and not any(
            p["namespace"]["full_path"].startswith(group) for p in self.projects
        ):
            return 404, {}, {"message": "404 Group Not Found"}
        if query.get("order_by") == "last_activity_at":
            chosen.sort(key=lambda p: p["last_activity_at"], reverse=query.get("sort") != "asc")
        page, per_page = int(query.get("page", "1")), int(query.get("per_page", "20"))
        if self.faults and self.faults[0][0] == page:
            _, status, fault_headers = self.faults.pop(0)
            return status, fault_headers, {"message": "429 Too Many Requests"}
        pages = max(1, -(-len(chosen) // per_page))
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(len(chosen)),
            "X-Total-Pages": str(pages),
            "X-Next-Page": str(page + 1) if page < pages else "",
        }
        if page < pages:
            query["page"] = str(page + 1)
            following = "&".join(f"{k}={v}" for k, v in query.items())
            headers["Link"] = f'<{self.base}{parts.path}?{following}>; rel="next"'
        return 200, headers, chosen[(page - 1) * per_page : page * per_page]

    def pages_asked(self) -> list[int]:
        return [int(parse_qs(urlsplit(p).query).get("page", ["1"])[0]) for p in self.requests]
