"""Annotated tags: which tag objects a history scan reads for their messages.

A tag object (`git tag -a`) carries a message as a commit does, and release notes are
where credentials get pasted. A scan reads every tag object its revisions name (for
`--all`, each ref that points at one) and every tag object such a tag tags in turn (a tag
of a tag). Their ids join the commits at the tail of the `cat-file --batch` pipe, so their
messages are batched and scanned exactly as commit messages are (see messages.py); this
module only finds them and what names each (its refs, its tagger).

Windows: `--since/--until` keep a tag by its tagger date, as a commit is kept by its
committer date (a tag without a tagger date cannot be placed and is always read);
`--since-commit X` keeps a tag whose tagged commit X does not reach, as a commit is kept
(a tag of a tree or blob is always read); `--max-commits` does not limit tags.

With `--all-objects` every other tag object in the store is read too (`unreached_tags`):
a deleted tag (`git tag -d`) stays until gc, and one written with `git mktag` may never
have had a ref. Such a tag is marked unreachable: no ref reaches it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from scanner.git.messages import message_text
from scanner.git.objects import object_infos, read_blobs, store_objects
from scanner.git.runner import run_git
from scanner.models import CommitInfo, TagInfo

MAX_DEPTH = 32  # tags of tags followed at most


@dataclass(frozen=True)
class Tag:
    """One annotated tag object: who made it, what it tags, the refs that reach it."""

    sha: str
    name: str  # its `tag` header: the name it was created with ("" when unreadable)
    refs: tuple[str, ...]  # refs that reach it: naming it, or a tag of it
    direct: tuple[str, ...]  # the refs among those that name it itself
    tagger: str = ""
    email: str = ""
    date: str = ""  # ISO 8601, "" without a tagger
    time: int | None = None  # tagger epoch seconds, None without a tagger
    target: str = ""  # the commit it tags in the end; "" when it tags a tree or blob
    subject: str = ""  # first line of its message: shown only through redact_messages
    unreachable: bool = False  # no scanned ref reaches it (`--all-objects`)

    def info(self) -> TagInfo:
        shown = self.direct[0] if self.direct else self.name
        return TagInfo(shown, self.sha, self.tagger, self.email, self.date, self.target)

    def commit_info(self) -> CommitInfo:
        """The tag as the place a finding was seen: its id, tagger, date and subject."""
        return CommitInfo(self.sha, self.tagger, self.email, self.date, self.subject)


@dataclass(frozen=True)
class _Header:
    object: str
    kind: str
    name: str
    tagger: str
    email: str
    date: str
    time: int | None
    subject: str


def ref_objects(repo: str) -> dict[str, list[str]]:
    """Object id -> the refs naming it (unpeeled: a tag ref names its tag object)."""
    out = run_git(repo, ["for-each-ref", "--format=%(objectname) %(refname)"])
    named: dict[str, list[str]] = defaultdict(list)
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        sha, _, ref = line.partition(" ")
        named[sha].append(ref)
    return named


def positive_tips(repo: str, revisions: Sequence[str]) -> list[str]:
    """The object ids `revisions` start from (`--all`, ranges, names), tags unpeeled."""
    args = [r for r in revisions if not r.startswith("^")]
    if not args:
        return []
    out = run_git(repo, ["rev-parse", "--revs-only", *args])
    return sorted({line for line in out.decode().split() if not line.startswith("^")})


def reached_tags(repo: str, tips: Iterable[str], named: Mapping[str, Sequence[str]]) -> list[Tag]:
    """Every tag object among `tips` and every tag object those tag, in id order.

    `named`: object id -> the refs naming it (ref_objects). A tag object that cannot be
    read is still listed (without a name): its read in the scan then reports the skip.
    """
    wanted = [tip.encode() for tip in sorted(set(tips))]
    frontier = {
        info.sha.decode(): set(named.get(info.sha.decode(), ()))
        for info in object_infos(repo, wanted)
        if info.kind == b"tag"
    }
    headers: dict[str, _Header | None] = {}
    reach: dict[str, set[str]] = defaultdict(set)
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        unread = sorted(sha for sha in frontier if sha not in headers)
        headers.update(dict.fromkeys(unread))
        for name, data, _note in read_blobs(repo, [s.encode() for s in unread]):
            if data is not None:
                headers[name.decode()] = _parse(data)
        after: dict[str, set[str]] = defaultdict(set)
        for sha, refs in frontier.items():
            reach[sha] |= refs
            header = headers.get(sha)
            if header is not None and header.kind == "tag":
                after[header.object] |= refs
        frontier = after
    return [_tag(sha, headers, reach[sha], named.get(sha, ())) for sha in sorted(headers)]


def in_window(tags: Sequence[Tag], since: int | None, until: int | None) -> list[Tag]:
    """The tags whose tagger date is within since..until (both included; None: open)."""
    return [
        t
        for t in tags
        if t.time is None
        or ((since is None or t.time >= since) and (until is None or t.time <= until))
    ]


def not_reached_by(repo: str, tags: Sequence[Tag], commit: str) -> list[Tag]:
    """The tags whose tagged commit `commit` does not reach (`--since-commit`)."""
    targets = sorted({t.target for t in tags if t.target})
    if not targets:
        return list(tags)
    text = "".join(f"{sha}\n" for sha in targets).encode()
    out = run_git(repo, ["rev-list", f"^{commit}", "--stdin"], input=text)
    new = set(out.decode().split())
    return [t for t in tags if not t.target or t.target in new]


def tags_for(
    repo: str,
    revisions: Sequence[str],
    since: int | None = None,
    until: int | None = None,
    since_commit: str | None = None,
) -> tuple[Tag, ...]:
    """The annotated tags `devtoken git` reads the messages of: those `revisions` reach,
    within the scan's window (see the module docstring)."""
    tags = reached_tags(repo, positive_tips(repo, revisions), ref_objects(repo))
    if since is not None or until is not None:
        tags = in_window(tags, since, until)
    if since_commit and tags:
        tags = not_reached_by(repo, tags, since_commit)
    return tuple(tags)


def unreached_tags(repo: str, known: Iterable[Tag]) -> tuple[Tag, ...]:
    """Every tag object in the store that is not among `known` (`--all-objects`), and the
    tags those tag, marked unreachable; each named by its own `tag` header (no ref does)."""
    have = {tag.sha for tag in known}
    listed = (sha.decode() for sha, kind in store_objects(repo) if kind == b"tag")
    ids = [sha for sha in listed if sha not in have]
    if not ids:
        return ()
    # following them may reach a known tag again (a lost tag of a live one): it stays known
    found = reached_tags(repo, ids, {})
    return tuple(replace(tag, unreachable=True) for tag in found if tag.sha not in have)


def _tag(
    sha: str, headers: Mapping[str, _Header | None], refs: set[str], direct: Sequence[str]
) -> Tag:
    header = headers.get(sha)
    if header is None:
        return Tag(sha, "", tuple(sorted(refs)), tuple(sorted(direct)))
    target, hop = header, 0
    while target.kind == "tag" and hop < MAX_DEPTH:
        inner = headers.get(target.object)
        if inner is None:
            break
        target, hop = inner, hop + 1
    return Tag(
        sha,
        header.name,
        tuple(sorted(refs)),
        tuple(sorted(direct)),
        header.tagger,
        header.email,
        header.date,
        header.time,
        target.object if target.kind == "commit" else "",
        header.subject,
    )


def _parse(data: bytes) -> _Header:
    """The headers of a raw tag object, and its message's first line."""
    head, _, _ = data.partition(b"\n\n")
    fields: dict[bytes, bytes] = {}
    for line in head.split(b"\n"):
        key, _, value = line.partition(b" ")
        fields.setdefault(key, value)
    who, email, date, when = _person(fields.get(b"tagger", b""))
    subject = message_text(data).decode("utf-8", "replace").split("\n", 1)[0]
    return _Header(
        fields.get(b"object", b"").decode("ascii", "replace"),
        fields.get(b"type", b"").decode("ascii", "replace"),
        fields.get(b"tag", b"").decode("utf-8", "replace"),
        who,
        email,
        date,
        when,
        subject,
    )


def _person(value: bytes) -> tuple[str, str, str, int | None]:
    """(name, email, ISO date, epoch) of a `tagger Name <email> 1700000000 +0100` value."""
    text = value.decode("utf-8", "replace")
    name, lt, rest = text.partition("<")
    email, gt, stamp = rest.partition(">")
    if not (lt and gt):
        return text.strip(), "", "", None
    parts = stamp.split()
    try:
        when = int(parts[0])
        zone = parts[1] if len(parts) > 1 else "+0000"
        sign = -1 if zone.startswith("-") else 1
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
        moment = datetime.fromtimestamp(when, timezone(sign * offset))
    except (IndexError, ValueError, OverflowError, OSError):
        return name.strip(), email.strip(), "", None
    return name.strip(), email.strip(), moment.isoformat(), when
