"""Core records passed between pipeline stages (plain, frozen data)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from scanner.rules import Rule
from scanner.secret import Secret, fingerprint

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import Any


@dataclass(frozen=True)
class Match:
    """A rule match located in one input, before false-positive filters."""

    rule: Rule
    secret: Secret
    offset: int  # absolute byte offset of the secret in the (decoded) input
    line: int  # 1-based
    column: int  # 1-based, in characters
    before: str  # same-line text before the secret (bounded)
    after: str  # same-line text after the secret (bounded)
    lines: str  # every line the whole match touches (bounded), for allow comments
    attributes: tuple[tuple[str, str], ...] = ()  # rule attributes found near the match


@dataclass(frozen=True)
class Provenance:
    """Where scanned text came from."""

    path: str  # as given, or relative to the scanned root
    source: str  # file | compressed-file | stdin | git-history | git-staged
    encoding: str = "utf-8"

    def extra(self) -> dict[str, Any]:
        """Source-specific fields added to the JSON record."""
        return {}


@dataclass(frozen=True)
class CommitInfo:
    """The commit a history finding was seen in (who, when, what it said)."""

    sha: str
    author: str
    email: str
    date: str  # author date, ISO 8601
    message: str  # first line

    def record(self) -> dict[str, str]:
        return {
            "commit": self.sha,
            "author": self.author,
            "email": self.email,
            "date": self.date,
            "message": self.message,
        }


@dataclass(frozen=True)
class TagInfo:
    """The annotated tag object a history finding was seen in the message of.

    The finding's `commit` is this tag as CommitInfo (its id, tagger, date, subject), so
    every report, the store and the bundles treat it as the place it was seen.
    """

    name: str  # the ref naming it (refs/tags/v1.0); an inner tag no ref names: its own name
    sha: str  # the tag object
    tagger: str
    email: str
    date: str  # tagger date, ISO 8601 ("" for a tag without a tagger)
    target: str  # the commit it tags (through any tag of a tag); "" when it tags no commit

    def record(self) -> dict[str, str]:
        return {
            "tag": self.name,
            "tag_object": self.sha,
            "tagger": self.tagger,
            "tagger_email": self.email,
            "tagger_date": self.date,
            "tagged_commit": self.target,
        }


@dataclass(frozen=True)
class Exposure:
    """How long a secret was in history, and where it still is."""

    introduced: CommitInfo
    removed: CommitInfo | None
    present_in: tuple[str, ...]  # branches whose tip still holds it at this path
    added_in_commits: int  # commits that (re)added it at this path
    # only commits a force-push dropped hold it: reachable from refs/devtoken/rewritten/* alone
    rewritten: bool = False
    # a tag message's: the tag (`introduced` is it as CommitInfo); kept in the record, so the
    # store's copy of the window still says a tag holds it
    tag: TagInfo | None = None

    def record(self) -> dict[str, Any]:
        return {
            "first_commit": self.introduced.sha,
            "first_date": self.introduced.date,
            "removed_commit": self.removed.sha if self.removed else None,
            "removed_date": self.removed.date if self.removed else None,
            "still_present_in": list(self.present_in),
            "added_in_commits": self.added_in_commits,
            "rewritten": self.rewritten,
            **({"tag": self.tag.record()} if self.tag else {}),
        }


@dataclass(frozen=True)
class GitProvenance(Provenance):
    """A blob in history: the commit that introduced it and its exposure window."""

    blob: str = ""
    commit: CommitInfo | None = None
    exposure: Exposure | None = None
    # or "commit-message" (then path is "" and commit holds it), or "tag-message" (path "",
    # `tag` names the annotated tag, `commit` is that tag object as CommitInfo)
    location: str = "blob"
    unreachable: bool = False  # no scanned ref reaches it (`--all-objects`)
    # the repository it is in, when one scan read several (`devtoken git A B`); else ""
    repo: str = ""
    remote_url: str = ""  # that repository's remote, without credentials
    tag: TagInfo | None = None  # the annotated tag whose message holds it (tag-message)

    def extra(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "blob": self.blob,
            "in": self.location,
            "unreachable": self.unreachable,
        }
        if self.repo:
            fields.update(repo=self.repo, remote_url=self.remote_url)
        if self.commit:
            fields.update(self.commit.record())
        if self.exposure:
            fields["exposure"] = self.exposure.record()
        if self.tag:
            fields.update(self.tag.record())
        return fields


@dataclass(frozen=True)
class Finding:
    """A match that survived every filter."""

    match: Match
    provenance: Provenance

    @property
    def rule(self) -> Rule:
        return self.match.rule

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule.id, self.match.secret.reveal())

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.provenance.path, self.match.line, self.match.column, self.rule.id)


@dataclass(frozen=True)
class Suppressed:
    """A match a filter dropped, with the reason `--explain` prints."""

    match: Match
    provenance: Provenance
    reason: str

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.provenance.path, self.match.line, self.match.column, self.match.rule.id)


@dataclass(frozen=True)
class Skipped:
    """An input (or the rest of one) that was not scanned, and why."""

    path: str
    reason: str  # short key: binary, too-large, unreadable, symlink, truncated, ...
    detail: str = ""


@dataclass
class InputResult:
    """What scanning one input produced; merged into the scan result."""

    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    bytes_scanned: int = 0
    scanned: bool = False
    # Suppressed matches only counted (rule id -> n), not kept in `suppressed`:
    # without --explain, or past its bound.
    suppressed_unlisted: Counter[str] = field(default_factory=Counter)
