"""One immutable scan configuration, and the config files it is built from.

Trust model (README, "Security model"): settings are layered, later wins:
built-in defaults < the user's config ($XDG_CONFIG_HOME/devtoken/config.toml)
< ./.devtoken.toml (a *repository* config: scanned content) or, instead of
it, the file named by --config < DEVTOKEN_* environment variables < flags.
`Settings.origin(key)` says which layer an effective value came from.
A repository config may only narrow the scan (keys marked `repository` in
the schema); any other key it sets is ignored and reported, so a pull
request cannot pick where credentials are sent or which rules run.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scanner.config_schema import (
    SCHEMA,
    ConfigError,
    check_value,
    flatten,
    parse_size,
    safe_text,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the hook path
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ConfigError", "Origin", "ScanConfig", "Settings", "load_settings", "parse_size"]

CONFIG_FILE = ".devtoken.toml"
IGNORE_FILE = ".devtokenignore"  # at the scanned repository's root: see repository_root
DEFAULT_MAX_FILE_SIZE = 256 << 20
USER, REPOSITORY, EXPLICIT = "user", "repository", "explicit"  # config files
DEFAULT, ENVIRONMENT, FLAG = "default", "environment", "flag"
NARROWING = frozenset(name for name, key in SCHEMA.items() if key.narrows)


@dataclass(frozen=True)
class ScanConfig:
    """What one scan reads and how: paths, rules, engine and the input limits."""

    paths: tuple[str, ...] = (".",)
    rules_dir: Path | None = None
    rule_ids: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # 0: no limit; applies to walked files
    scan_binary: bool = False
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    engine: str = "auto"
    chunk_size: int = 4 << 20
    # Per input, over every compression layer and archive member (0: no limit).
    max_decompressed_size: int = 8 << 30
    max_decompression_ratio: int = 1000  # of the input's own size, past its first MiB
    max_archive_depth: int = 6  # nested compression/archive layers opened
    # Suppressed matches kept with their context for --explain (0: only counted).
    keep_suppressed: int = 0
    # Seconds one rule pattern may run in one search window before it is
    # reported (skipped: rule-timeout) and the scan moves on; None: no limit.
    rule_timeout: float | None = 1.0


@dataclass(frozen=True)
class ConfigFile:
    """One config file's validated settings (dotted keys) and where it came from."""

    path: Path
    origin: str  # USER, REPOSITORY or EXPLICIT
    values: Mapping[str, Any]
    ignored: tuple[str, ...] = ()  # trusted-only keys a repository config set: not applied

    @property
    def label(self) -> str:
        return f"{self.path} ({self.origin} config)"

    def narrowing(self, applies: Collection[str] = NARROWING) -> dict[str, Any]:
        """What a repository config takes out of this scan or its report.

        `applies`: the narrowing keys this kind of scan honours (history scans
        have no excludes), so nothing is reported that did not happen.
        """
        if self.origin != REPOSITORY:
            return {}
        return {k: _plain(v) for k, v in self.values.items() if k in applies}

    def record(self, applies: Collection[str] = NARROWING) -> dict[str, Any]:
        """The JSON form (stats.config.files[]): no values of trusted keys, only names."""
        return {
            "path": str(self.path),
            "origin": self.origin,
            "keys": sorted(self.values),
            "ignored": list(self.ignored),
            "narrows": self.narrowing(applies),
        }


@dataclass(frozen=True)
class Origin:
    """Where one setting's value came from: a layer and, within it, what set it."""

    origin: str  # DEFAULT, USER, REPOSITORY, EXPLICIT, ENVIRONMENT or FLAG
    source: str | None = None  # the file, the variable's name or the flag; None for a default

    def record(self) -> dict[str, Any]:
        return {"origin": self.origin, "from": self.source}


# Settings whose sources add up rather than the last one winning: every exclusion applies,
# and scan_binary is on when any source turns it on.
ADDITIVE = frozenset({"exclude", "scan_binary"})


@dataclass(frozen=True)
class Settings:
    """Every config file that applies (lowest precedence first), and which schema keys the
    environment and the flags set: with them, the origin of every key is known here.

    Only the names of the variables that are set are kept, never their values (the values
    are read where they are used), so a Settings sent to a worker carries no secret.
    """

    files: tuple[ConfigFile, ...] = ()
    variables: tuple[tuple[str, str], ...] = ()  # (key, the DEVTOKEN_* variable that sets it)
    flags: tuple[tuple[str, str], ...] = ()  # (key, the flag that set it on this command)
    # repository configs not applied because the targets span several repositories
    skipped_repository_configs: tuple[str, ...] = ()

    def origin(self, key: str) -> Origin:
        """Where `key`'s effective value comes from (for ADDITIVE keys: the last source)."""
        sources = self.origins_of(key)
        return sources[-1] if sources else Origin(DEFAULT)

    def origins_of(self, key: str) -> tuple[Origin, ...]:
        """Every source whose value for `key` is in effect, lowest precedence first: one at
        most, except for the ADDITIVE keys, where each source that adds to it counts."""
        flag = dict(self.flags).get(key)
        variable = dict(self.variables).get(key)
        if key not in ADDITIVE:
            if flag:
                return (Origin(FLAG, flag),)
            if variable:
                return (Origin(ENVIRONMENT, variable),)
            setter = self.setter(key)
            return (Origin(setter.origin, str(setter.path)),) if setter else ()
        found = [
            Origin(config.origin, str(config.path))
            for config in self.files
            if config.values.get(key) not in (None, False, ())
        ]
        return (*found, Origin(FLAG, flag)) if flag else tuple(found)

    def origins(self) -> dict[str, list[dict[str, Any]]]:
        """The JSON form (stats.config.origins): every key set by anything but a default."""
        return {
            key: [origin.record() for origin in self.origins_of(key)]
            for key in SCHEMA
            if self.origins_of(key)
        }

    def get(self, key: str) -> Any:
        setter = self.setter(key)
        return setter.values[key] if setter else None

    def setter(self, key: str) -> ConfigFile | None:
        """The file whose value for `key` wins (its `label` for messages, `origin` for trust)."""
        for config in reversed(self.files):
            if key in config.values:
                return config
        return None

    def any_true(self, key: str) -> bool:
        """A switch that only adds coverage (scan_binary): any file may turn it on, none off."""
        return any(config.values.get(key) is True for config in self.files)

    def excludes(self) -> tuple[str, ...]:
        """Exclusions add up: the user's own plus the repository's (or --config's)."""
        return tuple(glob for config in self.files for glob in config.values.get("exclude", ()))

    def table(self, name: str) -> dict[str, Any]:
        """The merged `[name]` table, e.g. the [verify] settings for verify.settings."""
        prefix = name + "."
        merged: dict[str, Any] = {}
        for config in self.files:
            merged.update(
                {k[len(prefix) :]: v for k, v in config.values.items() if k.startswith(prefix)}
            )
        return merged

    def record(self, applies: Collection[str] = NARROWING) -> dict[str, Any]:
        return {
            "files": [config.record(applies) for config in self.files],
            "origins": self.origins(),
        }

    def warnings(self) -> list[str]:
        """One line per repository config that set keys it may not set, and one when the
        targets' repositories each have their own (none applies then)."""
        skipped = (
            [
                "devtoken: warning: the targets are in several repositories: their config files "
                f"({', '.join(safe_text(p) for p in self.skipped_repository_configs)}) are not "
                "applied; scan each repository on its own, or name one with --config FILE"
            ]
            if self.skipped_repository_configs
            else []
        )
        return skipped + [
            f"devtoken: warning: {config.label} cannot set {', '.join(config.ignored)}: "
            "ignored (rules and endpoints come only from --config FILE, the user config "
            f"{user_config_path(os.environ)} or the environment)"
            for config in self.files
            if config.ignored
        ]

    def notes(self, applies: Collection[str] = NARROWING) -> list[str]:
        """One line per repository config that narrows the scan, so nothing is hidden silently."""
        lines = []
        for config in self.files:
            narrowing = config.narrowing(applies)
            if narrowing:
                parts = [f"{k} {_shown_value(v)}" for k, v in narrowing.items()]
                lines.append(
                    f"devtoken: note: {config.label} narrows this scan: {'; '.join(parts)}"
                )
        return lines


def repository_root(target: str) -> Path:
    """The repository a scanned path belongs to: where its `.devtokenignore` is looked for.

    The top level of the git work tree holding `target` (the nearest directory upward with a
    `.git` entry: a directory, or the file of a linked worktree or submodule), else `target`
    itself when it is a directory, else its parent; `-` (stdin) belongs to the current
    directory's repository. Found by looking at the file system, not by running git, so the
    pre-commit hook pays nothing for it. Relative to the current directory when `target` is.
    """
    start = Path(".") if target == "-" else Path(target)
    if not start.is_dir():
        start = start.parent
    absolute = Path(os.path.abspath(start))
    for directory in (absolute, *absolute.parents):
        if os.path.lexists(directory / ".git"):
            return _relative_if_inside(directory)
    return _relative_if_inside(absolute)


def _relative_if_inside(directory: Path) -> Path:
    """`directory` relative to the current directory when it lies inside it (`.` for itself),
    so messages and stats name `./.devtokenignore` as they always did."""
    try:
        return directory.relative_to(os.getcwd())
    except ValueError:
        return directory


def user_config_path(env: Mapping[str, str]) -> Path:
    """$XDG_CONFIG_HOME/devtoken/config.toml (a relative XDG_CONFIG_HOME is ignored, per XDG)."""
    base = env.get("XDG_CONFIG_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "devtoken" / "config.toml"


def load_settings(
    explicit: Path | None,
    env: Mapping[str, str] | None = None,
    targets: Sequence[str] = (".",),
) -> Settings:
    """The user's config, then --config FILE or (only without it) the scanned repository's
    `.devtoken.toml`, and the names of the DEVTOKEN_* variables set in `env` (default: the
    process environment).

    The repository config belongs to the repository the `targets` are in (see
    `repository_root`), not to the current directory: `devtoken git ../other` never applies
    this checkout's file to another repository. Targets in several repositories apply none
    (one repository's file must not narrow a scan of another); `skipped_repository_configs`
    names them so the caller can say so.
    """
    env = os.environ if env is None else env
    files = []
    user = user_config_path(env)
    if os.path.isfile(user):  # False, not an error, when ~/.config cannot even be searched
        files.append(read_config(user, USER))
    skipped: tuple[str, ...] = ()
    if explicit is not None:
        files.append(read_config(explicit, EXPLICIT))
    else:
        roots = {repository_root(t) for t in targets}
        found = sorted(str(root / CONFIG_FILE) for root in roots if (root / CONFIG_FILE).is_file())
        if len(found) == 1 and len(roots) == 1:
            files.append(read_config(Path(found[0]), REPOSITORY))
        elif found:
            skipped = tuple(found)
    return Settings(tuple(files), variables_set(env), skipped_repository_configs=skipped)


def variables_set(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """(key, variable) for each schema key a variable sets: the first of its variables that is
    set and not empty, as scanner.config_schema.from_environment reads them. Not checked here:
    a bad value is said where the key is used, as before."""
    found = []
    for name, key in SCHEMA.items():
        variable = next((v for v in key.env if env.get(v, "")), None)
        if variable:
            found.append((name, variable))
    return tuple(found)


def read_config(path: Path, origin: str) -> ConfigFile:
    """Parse and validate one file; a repository config's trusted-only keys are set aside."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    import tomllib  # only where a config file exists: not on most pre-commit runs

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte {exc.start}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    where = str(path)
    values = {name: check_value(name, value, where) for name, value in flatten(data, where).items()}
    for name, key in SCHEMA.items():
        if key.is_path and name in values:
            values[name] = path.parent / Path(values[name]).expanduser()
    ignored: tuple[str, ...] = ()
    if origin == REPOSITORY:
        ignored = tuple(sorted(name for name in values if not SCHEMA[name].repository))
        values = {k: v for k, v in values.items() if k not in ignored}
    return ConfigFile(path, origin, values, ignored)


def _plain(value: Any) -> Any:
    """JSON-ready: tuples as lists, paths as strings."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return value


def _shown_value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(safe_text(str(v)) for v in value)
    return safe_text(str(value))
