"""Every error devtoken means to raise, in one tree; the CLI turns it into exit codes.

    DevtokenError            anything devtoken expects and can say in one line: exit 2
    ├── UsageError           bad arguments or command use (scanner.exits re-exports it)
    ├── ConfigError          a config file, [table] or DEVTOKEN_* variable is wrong (ValueError)
    ├── RuleError            a rule file is malformed (ValueError)
    ├── BaselineError        a baseline or ignore file is unreadable or malformed (ValueError)
    ├── SourceError          an input cannot be listed or read (an org source, a repository)
    │   └── GitError         git failed or the repository is unusable (scanner.git.runner)
    │       └── GitTimeout   a git call ran past its deadline (scanner.git.mirror)
    ├── StoreError           the store is missing, locked, damaged or newer
    │   └── SchemaError      SQLite, but not (or no longer) a devtoken store (scanner.store.schema;
    │                        also a sqlite3.DatabaseError)
    ├── VerifyError          a verification call failed
    │   └── NetworkFailure   no HTTP answer: refused, reset, timed out (scanner.verify.http)
    └── DeliveryError        a responder's channel did not accept a message

Anything else that reaches the CLI is a bug: "internal error", exit 3. The messages are
one line and never hold a secret, so the boundary prints them as they are. The old names
stay importable from their old modules (scanner.config_schema.ConfigError, ...).
"""

from __future__ import annotations

EXIT_ERROR = 2  # the exit code of every DevtokenError (scanner.exits.EXIT_USAGE)


class DevtokenError(Exception):
    """An error devtoken expects, said in one line; `exit_code` is what the CLI returns."""

    exit_code = EXIT_ERROR


class UsageError(DevtokenError):
    """Bad arguments, configuration or input repository: one line, exit code 2."""


class ConfigError(DevtokenError, ValueError):
    """Bad configuration (a file, a [table] or a DEVTOKEN_* variable); exit code 2."""


class RuleError(DevtokenError, ValueError):
    """A rule file is malformed; the message names the file and the field."""


class BaselineError(DevtokenError, ValueError):
    """A baseline or ignore file is unreadable or malformed (exit code 2)."""


class SourceError(DevtokenError):
    """A source could not be listed or read (fully); the message is one line, never a token."""


class StoreError(DevtokenError):
    """The store cannot be used (missing, locked, damaged, newer): one line, exit code 2."""


class VerifyError(DevtokenError):
    """A verification call failed; the verifier turns it into an `unknown` outcome."""


class DeliveryError(DevtokenError):
    """A channel did not accept the message; the text is safe to print."""
