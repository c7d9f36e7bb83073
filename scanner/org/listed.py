"""An explicit list of clone URLs and local paths: any host, and offline."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from scanner.digests import sha256
from scanner.org.repositories import Filters, Listing, RepositoryRef, collect
from scanner.urls import without_credentials


@dataclass(frozen=True)
class ListedSource:
    """URLs (https://, ssh://, git://, file://, user@host:path) or local repository paths."""

    entries: tuple[str, ...]
    label: str = "listed"


def list_listed(source: ListedSource, filters: Filters) -> Listing:
    return collect(source.label, _refs(source), filters, sorted_by_push=False)


def _refs(source: ListedSource) -> Iterator[RepositoryRef]:
    seen: set[str] = set()
    for entry in source.entries:
        url, host = normalize(entry)
        if url in seen:
            continue
        seen.add(url)
        yield RepositoryRef(
            host_kind="listed",
            host=host,
            stable_id=sha256(url.encode()).hexdigest()[:20],
            full_name=_full_name(url),
            clone_url=url,
            source=source.label,
        )


def normalize(entry: str) -> tuple[str, str]:
    """(the URL git is given, its host); a local path becomes an absolute file:// URL, and
    credentials written into a URL are dropped so they never reach the mirror's config."""
    entry = entry.strip()
    if "://" not in entry:
        if _is_scp_like(entry):
            return entry, entry.split(":", 1)[0].rsplit("@", 1)[-1].lower()
        path = os.path.abspath(os.path.expanduser(entry))
        return urlunsplit(("file", "", path, "", "")), ""
    parts = urlsplit(entry)
    host = (parts.hostname or "").lower()
    netloc = host + (f":{parts.port}" if parts.port else "")
    user = f"{parts.username}@" if parts.username else ""
    lowered = urlunsplit((parts.scheme.lower(), user + netloc, parts.path, parts.query, ""))
    return without_credentials(lowered), netloc


def _is_scp_like(entry: str) -> bool:
    head, colon, _ = entry.partition(":")
    return bool(colon) and "/" not in head and len(head) > 1


def _full_name(url: str) -> str:
    path = urlsplit(url).path if "://" in url else url.split(":", 1)[-1]
    parts = [part for part in path.rstrip("/").split("/") if part]
    if parts and parts[-1].endswith(".git"):
        parts[-1] = parts[-1][:-4]
    return "/".join(parts[-2:]) or url
