"""Helpers for the tests (imported as `testing.util`, `testing.logfiles`, ...): real git, the
installed command, generated logs, the checks the reliability tests make."""
