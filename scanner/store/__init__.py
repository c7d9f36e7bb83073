"""The findings store: SQLite, keyed by fingerprint, never plaintext ("scan once, report many")."""
