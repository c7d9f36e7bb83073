"""Core records passed between pipeline stages (plain, frozen data)."""

from __future__ import annotations

from dataclasses import dataclass, field

from scanner.rules import Rule
from scanner.secret import Secret, fingerprint


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


@dataclass(frozen=True)
class Provenance:
    """Where scanned text came from."""

    path: str  # as given, or relative to the scanned root
    source: str  # file | compressed-file | stdin
    encoding: str = "utf-8"


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
