"""Exit codes and the usage error shared by every command."""

from __future__ import annotations

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_RESPOND_FAILED = 4  # --send: every responder delivery of the run failed


class UsageError(Exception):
    """Bad arguments, configuration or input repository: one line, exit code 2."""
