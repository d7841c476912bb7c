"""The one error type users can fix, and the exit statuses the CLI maps it to.

The CLI catches `TelemetryError` in one place and prints its message as a single line;
anything else escaping is a bug in this package, not a user mistake.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_PROBLEMS = 1  # `check` found problems; a hook failed
EXIT_USAGE = 2  # a value or argument given by the user is not allowed
EXIT_LOCKED = 3  # the log's lock could not be taken in time
EXIT_FILE = 4  # the log file or its folder is damaged, missing or cannot be written
EXIT_BUDGET = 5  # `report`: a budget was broken; the report was still written


class TelemetryError(Exception):
    """A problem the user can fix; `str(error)` is the whole one-line message."""

    exit_code = EXIT_USAGE


class InvalidValueError(TelemetryError):
    """A field value that the schema refuses."""

    exit_code = EXIT_USAGE

    def __init__(self, field: str, value: object, allowed: str, *, show_value: bool = True):
        self.field = field
        self.value = value
        self.allowed = allowed
        shown = describe_value(value) if show_value else "(value not shown)"
        super().__init__(f"{field}: {shown} is not allowed; {allowed}")


class ConfigError(TelemetryError):
    exit_code = EXIT_USAGE


class LockTimeoutError(TelemetryError):
    exit_code = EXIT_LOCKED


class LogFileError(TelemetryError):
    exit_code = EXIT_FILE


def describe_value(value: object, limit: int = 60) -> str:
    """A short, printable quotation of a value for a one-line message, unless it looks like it
    holds a credential: then it is never repeated, wherever the message ends up."""
    from telemetry_csv.secrets_scan import find_secret

    text = value if isinstance(value, str) else str(value)
    if find_secret(text):
        return "(value not shown)"
    shown = repr(text[:limit])
    if len(text) > limit:
        shown += f"… ({len(text)} characters)"
    return shown


class InvalidLogError(TelemetryError):
    """A log file that breaks the schema, met while reading rows for a report."""

    exit_code = EXIT_PROBLEMS
