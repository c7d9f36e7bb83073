"""A repository's remote URL as it may be shown: never with the credentials it was cloned with.

`git remote` URLs can carry `user:token@` or a `?private_token=` query; whatever prints,
stores or uploads a remote (JSON, the store, SARIF's versionControlProvenance) gets
`public_url` of it.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git"})
_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>(?!/).*)$")  # git@host:org/name


def without_credentials(url: str) -> str:
    """`url` as git may be given it and a mirror's config may keep it: no password, and no
    user of an http(s) URL (a token often is one); an ssh URL keeps its login user (`git@`
    names the account, and without it ssh logs in as the local user and the clone fails)."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username if parts.scheme.lower() in SSH_SCHEMES else None
    return urlunsplit(parts._replace(netloc=f"{user}@{host}" if user else host))


def public_url(url: str) -> str:
    """`url` without userinfo, query or fragment; a scp-style `git@host:path` keeps its
    form (its `git@` names no secret) and anything else is returned as it is."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def remote_uri(url: str) -> str | None:
    """An absolute URI for a remote (SARIF's repositoryUri): `git@host:org/name` becomes
    `ssh://host/org/name`, a local path `file://`; None for an empty one."""
    if not url:
        return None
    if "://" in url:
        return public_url(url)
    scp = _SCP.match(url)
    if scp:
        return f"ssh://{scp['host']}/{scp['path']}"
    if url.startswith("/"):
        return "file://" + quote(url)
    return None
