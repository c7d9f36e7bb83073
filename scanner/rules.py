"""Rules are data: load, validate and compile the rule files in `rules/`.

A rule file is TOML (see rules/google-ads-developer-token.toml): a stable id,
severity, prefilter keywords, regex-module patterns with a named `secret`
group, false-positive filter settings, and examples that the test suite runs
through the whole engine. `role` says which credential of a Google Ads set the
secret is (bundles group by it, the verifier and responders act on it) and
`verify` which check it takes, so a new rule needs no code edit. `<<name>>` in
a pattern is replaced by the fragment of that name from `_fragments.toml`.
"""

from __future__ import annotations

import dataclasses
import os
import re as _stdlib_re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from scanner.digests import sha256
from scanner.errors import RuleError as RuleError  # its old home
from scanner.secret import LABEL_FIELD

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import Any

    import regex

SEVERITIES = ("low", "medium", "high", "critical")
# Part of every ruleset_key: bump it when the engine's matching changes (decoding, filters,
# prefilter, batching), so results recorded under the old engine are not reused.
ENGINE_VERSION = "1"
# Where a rule was read from, not what it is: a moved or reinstalled copy is the same rule.
_NOT_DEFINITION = frozenset({"source_file"})
FRAGMENTS_FILE = "_fragments.toml"
_FRAGMENT_REF = _stdlib_re.compile(r"<<([a-z_]+)>>")
_ID = _stdlib_re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# role -> the checks a rule of that role may ask for; its first entry is the default.
# jwt-bearer: sign as the service account; oauth-refresh: mint an access token with the
# refresh token and its client; oauth-client: the client id and secret against the token
# endpoint; ads-reach: ListAccessibleCustomers with the token; none: not checked (a
# developer token is ignored by the API, yet still sent along with an access token).
CHECKS_BY_ROLE: dict[str, tuple[str, ...]] = {
    "developer_token": ("none",),
    "client_id": ("oauth-client", "none"),
    "client_secret": ("oauth-client", "none"),
    "refresh_token": ("oauth-refresh", "none"),
    "access_token": ("ads-reach", "none"),
    "service_account_key": ("jwt-bearer", "none"),
}
ROLES = tuple(CHECKS_BY_ROLE)
# what Google's revoke endpoint takes (https://oauth2.googleapis.com/revoke)
REVOCABLE_ROLES = ("refresh_token", "access_token")


@dataclass(frozen=True)
class Rule:
    """One validated rule file: what it matches, how it is filtered, what it is."""

    id: str
    name: str
    severity: str
    role: str | None  # one of ROLES; None: a secret outside a Google Ads credential set
    verify: str  # one of CHECKS_BY_ROLE[role]; "none" without a role
    description: str
    why: str
    keywords: tuple[str, ...]
    patterns: tuple[str, ...]
    prefilters: tuple[str, ...]  # what Hyperscan compiles: the patterns, or lighter supersets
    max_length: int
    entropy: float | None
    mixed_case: bool
    redact_keep: int
    placeholders: frozenset[str]
    placeholder_words: tuple[str, ...]
    documented_examples: frozenset[str]
    # Non-secret values read near a match (service-account email, login customer
    # id) that verification needs: name -> pattern with a `value` group.
    attributes: tuple[tuple[str, str], ...]
    attribute_window: int
    examples: tuple[str, ...]
    negative_examples: tuple[str, ...]
    source_file: str
    # The redacted form: `redact_keep` leading and `redact_tail` trailing characters, and
    # `redact_label` filled with attributes (a private key named by its key id), see secret.py.
    redact_tail: int = 2
    redact_label: str = ""

    @cached_property
    def compiled(self) -> tuple[regex.Pattern[bytes], ...]:
        """The exact patterns, compiled on first use: a clean pre-commit run never needs them."""
        return tuple(
            _compile(p, f"{self.source_file} pattern {i + 1}") for i, p in enumerate(self.patterns)
        )

    def __getstate__(self) -> dict[str, Any]:
        """A rule travels to worker processes as data: the patterns it compiled here stay
        here (one built from the rule cache's compiled form, without `regex` imported, has
        no pickle support; and the worker compiles its own, from its own cache)."""
        state = dict(self.__dict__)
        state.pop("compiled", None)
        return state


def ruleset_key(rules: Sequence[Rule]) -> str:
    """A hex sha256 naming what these rules (under this engine) can match.

    Every field of every rule counts except its file's location, so any edit re-keys and
    nothing stale is reused; the order the rules come in does not.
    """
    import json  # not on the pre-commit path

    definitions = sorted(_definition(rule) for rule in rules)
    text = json.dumps([ENGINE_VERSION, definitions], separators=(",", ":"))
    return sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _definition(rule: Rule) -> str:
    """One rule as canonical JSON: fields by name, sets sorted."""
    import json

    fields: dict[str, Any] = {}
    for item in dataclasses.fields(rule):
        if item.name in _NOT_DEFINITION:
            continue
        value = getattr(rule, item.name)
        if isinstance(value, frozenset):
            value = sorted(value)
        fields[item.name] = value
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


def default_rules_dir() -> Path:
    """The copy installed inside the package, else `rules/` of a source checkout.

    The package's own copy comes first: next to an installed package,
    `../rules` is site-packages/rules, which any other distribution could own.
    Rules never come from the scanned tree; only --rules or a trusted config's
    `rules_dir` replace these.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "_rules", here.parent / "rules"):
        if (candidate / FRAGMENTS_FILE).is_file():
            return candidate
    raise RuleError(f"no rules directory found next to {here}")


def load_rules(
    directory: Path | None = None, only: Iterable[str] | None = None, validate: bool | None = None
) -> tuple[Rule, ...]:
    """Load every `*.toml` rule in `directory` (sorted by id); `only` selects ids.

    `validate` compiles every pattern now (default: for user rule directories;
    the bundled rules are compiled by the test suite, and when they are cached).
    The parsed and compiled rules are cached (scanner.engine.rulecache) until a
    rule file changes: the pre-commit hook neither parses TOML nor compiles.
    """
    if validate is None:
        validate = directory is not None
    directory = directory or default_rules_dir()
    rules = _directory_rules(directory)
    if only is not None:
        wanted = set(only)
        unknown = wanted - {r.id for r in rules}
        if unknown:
            raise RuleError(f"unknown rule id(s): {', '.join(sorted(unknown))}")
        rules = [r for r in rules if r.id in wanted]
    if not rules:
        raise RuleError(f"no rules found in {directory}")
    if validate:
        for rule in rules:
            _ = rule.compiled
    return tuple(sorted(rules, key=lambda r: r.id))


def _directory_rules(directory: Path) -> list[Rule]:
    """Every rule of `directory`: from the signed cache when its files are unchanged."""
    from scanner.engine import rulecache  # here: scanner.engine imports this module

    sources = _rule_files(directory)
    cached = rulecache.load(directory, sources)
    if cached is not None:
        return cached
    data = dict(sources)
    fragments = _load_fragments(directory / FRAGMENTS_FILE, data.get(FRAGMENTS_FILE))
    rules = [
        _parse_rule(directory / name, text, fragments)
        for name, text in sources
        if name != FRAGMENTS_FILE
    ]
    _check_unique([r.id for r in rules])
    if rules:
        rulecache.save(directory, sources, rules)
    return rules


def _rule_files(directory: Path) -> list[tuple[str, bytes]]:
    """(name, bytes) of every `*.toml` in `directory`, sorted by name (none if it is missing)."""
    try:
        names = sorted(name for name in os.listdir(directory) if name.endswith(".toml"))
    except OSError:
        return []
    out = []
    for name in names:
        try:
            with open(directory / name, "rb") as handle:
                out.append((name, handle.read()))
        except OSError as exc:
            raise RuleError(f"{directory / name}: cannot read: {exc.strerror}") from None
    return out


def _read_toml(path: Path, data: bytes) -> dict[str, Any]:
    import tomllib  # only when the rules are not cached

    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise RuleError(f"{path}: not valid TOML: not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{path}: not valid TOML: {exc}") from None


def _load_fragments(path: Path, data: bytes | None) -> dict[str, str]:
    if data is None:
        return {}
    fragments = _read_toml(path, data).get("fragments", {})
    if not isinstance(fragments, dict) or not all(isinstance(v, str) for v in fragments.values()):
        raise RuleError(f"{path}: [fragments] must map names to strings")
    return dict(fragments)


def _expand(pattern: str, fragments: dict[str, str], where: str) -> str:
    def substitute(match: _stdlib_re.Match[str]) -> str:
        name = match.group(1)
        if name not in fragments:
            raise RuleError(f"{where}: unknown fragment <<{name}>>")
        return fragments[name]

    return _FRAGMENT_REF.sub(substitute, pattern)


def _compile(pattern: str, where: str) -> regex.Pattern[bytes]:
    from scanner.engine.rulecache import cached_pattern

    compiled = cached_pattern(pattern)  # a verified cache entry had it
    if compiled is not None:
        return compiled
    import regex

    try:
        compiled = regex.compile(pattern.encode("utf-8"))
    except regex.error as exc:
        raise RuleError(f"{where}: invalid pattern: {exc}") from None
    if "secret" not in compiled.groupindex:
        raise RuleError(f"{where}: pattern has no named group 'secret'")
    return compiled


def _parse_rule(path: Path, text: bytes, fragments: dict[str, str]) -> Rule:
    data = _read_toml(path, text)
    where = str(path)
    field = _FieldReader(data, where)
    rule_id = field.text("id")
    if not _ID.match(rule_id):
        raise RuleError(f"{where}: id {rule_id!r} must be lowercase words joined by '-'")
    severity = field.text("severity")
    if severity not in SEVERITIES:
        raise RuleError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    role, verify = _role_and_check(data, where)
    patterns = tuple(_expand(p, fragments, where) for p in field.texts("patterns", required=True))
    for number, pattern in enumerate(patterns, 1):
        if "(?P<secret>" not in pattern:
            raise RuleError(f"{where} pattern {number}: pattern has no named group 'secret'")
    prefilters = tuple(_expand(p, fragments, where) for p in field.texts("prefilters"))
    if prefilters and len(prefilters) != len(patterns):
        raise RuleError(f"{where}: 'prefilters' must have one entry per pattern")
    examples = field.texts("examples", required=True)
    negatives = field.texts("negative_examples", required=True)
    entropy = data.get("entropy")
    if entropy is not None and not isinstance(entropy, (int, float)):
        raise RuleError(f"{where}: entropy must be a number")
    attributes = _attributes(data.get("attributes", {}), where)
    return Rule(
        id=rule_id,
        name=field.text("name"),
        severity=severity,
        role=role,
        verify=verify,
        description=" ".join(field.text("description").split()),
        why=field.text("why", default=""),
        keywords=tuple(k.lower() for k in field.texts("keywords", required=True)),
        patterns=patterns,
        prefilters=prefilters or patterns,
        max_length=field.integer("max_length", default=256),
        entropy=float(entropy) if entropy is not None else None,
        mixed_case=bool(data.get("mixed_case", False)),
        redact_keep=field.integer("redact_keep", default=4),
        placeholders=frozenset(p.lower() for p in field.texts("placeholders")),
        placeholder_words=tuple(w.lower() for w in field.texts("placeholder_words")),
        documented_examples=frozenset(field.texts("documented_examples")),
        attributes=attributes,
        attribute_window=field.integer("attribute_window", default=2048),
        examples=examples,
        negative_examples=negatives,
        source_file=where,
        redact_tail=field.integer("redact_tail", default=2),
        redact_label=_redact_label(field.text("redact_label", default=""), attributes, where),
    )


def _role_and_check(data: dict[str, Any], where: str) -> tuple[str | None, str]:
    """The rule's role and check, refusing a check its role cannot take."""
    role = data.get("role")
    if role is not None and role not in CHECKS_BY_ROLE:
        raise RuleError(f"{where}: role must be one of {', '.join(ROLES)}, not {role!r}")
    allowed = CHECKS_BY_ROLE[role] if role is not None else ("none",)
    check = data.get("verify", allowed[0])
    if check not in allowed:
        whose = f"a {role} rule" if role else "a rule without a role"
        raise RuleError(
            f"{where}: verify must be one of {', '.join(allowed)} for {whose}, not {check!r}"
        )
    return role, check


def _attributes(table: object, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise RuleError(f"{where}: [attributes] must map names to patterns")
    for name, pattern in table.items():
        if "(?P<value>" not in pattern:
            raise RuleError(f"{where}: attribute {name!r} has no named group 'value'")
    return tuple(sorted(table.items()))


def _redact_label(label: str, attributes: tuple[tuple[str, str], ...], where: str) -> str:
    """A label may only name the rule's own attributes (what else could fill it?)."""
    names = {name for name, _ in attributes}
    for part in LABEL_FIELD.finditer(label):
        if part[1] not in names:
            raise RuleError(f"{where}: redact_label names {part[1]!r}, not one of its [attributes]")
    return label


class _FieldReader:
    """Typed access to one rule file's fields with errors that name the field."""

    def __init__(self, data: dict[str, Any], where: str) -> None:
        self.data, self.where = data, where

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise RuleError(f"{self.where}: '{key}' must be a non-empty string")
        return value

    def texts(self, key: str, required: bool = False) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise RuleError(f"{self.where}: '{key}' must be a list of strings")
        if required and not value:
            raise RuleError(f"{self.where}: '{key}' must not be empty")
        return tuple(value)

    def integer(self, key: str, default: int) -> int:
        value = self.data.get(key, default)
        if not isinstance(value, int) or value < 0:
            raise RuleError(f"{self.where}: '{key}' must be a non-negative integer")
        return value


def _check_unique(ids: Sequence[str]) -> None:
    seen: set[str] = set()
    for rule_id in ids:
        if rule_id in seen:
            raise RuleError(f"duplicate rule id {rule_id!r}")
        seen.add(rule_id)
