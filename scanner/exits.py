"""Exit codes and the usage error shared by every command (the error tree: scanner.errors)."""

from __future__ import annotations

from scanner.errors import UsageError as UsageError  # its old home

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_RESPOND_FAILED = 4  # --send: every responder delivery of the run failed
