"""The errors users can fix, and the one table of exit statuses.

The CLI catches `TelemetryError` in one place and prints its message as a single line;
anything else escaping is a bug in this package, not a user mistake. `EXIT_STATUSES` is the
only place an exit status is described: each command's `--help` is generated from it
(`exit_status_help`), and so is the documentation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_FILE = 4
EXIT_SEND = 5
EXIT_BUDGET = 6
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE: standard output was closed under us

# status: what it means for every command; a command may say it more precisely (below).
EXIT_STATUSES: dict[int, str] = {
    EXIT_OK: "done; no problems",
    EXIT_PROBLEMS: "problems found: invalid rows, a line `fmt` had to leave, a merge left as a "
    "conflict, a hook that failed",
    EXIT_USAGE: "a value, argument or setting was refused; nothing was written",
    EXIT_LOCKED: "the log's lock could not be taken within `lock_timeout`",
    EXIT_FILE: "a log, its folder or another file is missing, damaged (bad header, torn last "
    "line), unreadable or read-only; or git failed (not a repository, an unknown revision)",
    EXIT_SEND: "`export`: the receiver could not be reached, or refused or partly rejected a "
    "batch; what it acknowledged before stays recorded",
    EXIT_BUDGET: "`report`: a budget was broken (one line each on standard error); the report "
    "was still written",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C); what was done before stays done",
    EXIT_CLOSED_PIPE: "standard output was closed before everything was printed (`| head`): "
    "the command stopped quietly, as one killed by SIGPIPE would; what it did before stays done",
}

# Which statuses each command can end with, and its own words for them where they say more.
COMMAND_EXITS: dict[str, dict[int, str]] = {
    "init": {EXIT_OK: "set up (files that existed are kept)", EXIT_USAGE: "", EXIT_LOCKED: "",
             EXIT_FILE: ""},
    "log": {EXIT_OK: "logged", EXIT_USAGE: "", EXIT_LOCKED: "",
            EXIT_FILE: "the log cannot be written (damaged, unreadable or read-only)"},
    "check": {EXIT_OK: "no problems", EXIT_PROBLEMS: "problems found", EXIT_USAGE: "",
              EXIT_FILE: "no log, or a file named is not there"},
    "report": {EXIT_OK: "report written (also when no row matches)",
               EXIT_PROBLEMS: "invalid rows", EXIT_USAGE: "",
               EXIT_FILE: "no log, a file named is not there, or the output cannot be "
               "written",
               EXIT_BUDGET: "a budget was broken; the report was still written"},
    "fmt": {EXIT_OK: "every file is canonical now",
            EXIT_PROBLEMS: "some lines were left as they were", EXIT_USAGE: "", EXIT_LOCKED: "",
            EXIT_FILE: ""},
    "repair": {EXIT_OK: "repaired, or nothing to repair", EXIT_USAGE: "", EXIT_LOCKED: "",
               EXIT_FILE: "the log cannot be read or written"},
    "merge-driver": {EXIT_OK: "merged", EXIT_PROBLEMS: "left as a conflict", EXIT_USAGE: ""},
    "export": {EXIT_OK: "sent (also when nothing was new)", EXIT_PROBLEMS: "invalid rows",
               EXIT_USAGE: "bad arguments, or the `otlp` extra is missing",
               EXIT_LOCKED: "another export holds the state's lock",
               EXIT_FILE: "no log, a file named is not there, or the state cannot be "
               "written",
               EXIT_SEND: "the receiver could not be reached or did not accept the data (what "
               "it acknowledged before stays recorded)"},
    "cat": {EXIT_OK: "every row printed", EXIT_PROBLEMS: "invalid rows", EXIT_USAGE: "",
            EXIT_FILE: "no log"},
    "fold": {EXIT_OK: "folded and committed, or nothing to fold",
             EXIT_USAGE: "refused: not the default branch, or something staged already",
             EXIT_LOCKED: "", EXIT_FILE: "git failed, or the commit's hooks did"},
    "import": {EXIT_OK: "imported (also when nothing was new; --dry-run wrote nothing)",
               EXIT_USAGE: "", EXIT_LOCKED: "",
               EXIT_FILE: "the log or the import state cannot be read or written"},
    "run": {},  # the command's own status; see `telemetry-csv run --help`
}  # fmt: skip


def exit_status_help(
    statuses: Mapping[int, str], extra: Sequence[int] = (EXIT_CLOSED_PIPE,)
) -> str:
    """The `exit status:` paragraph of a command's help, from the table."""
    import textwrap

    lines = ["exit status:"]
    for status in sorted({*statuses, *extra}):
        meaning = statuses.get(status) or EXIT_STATUSES[status]
        lines += textwrap.wrap(
            meaning, 88, initial_indent=f"  {status:>3}  ", subsequent_indent=" " * 7
        )
    return "\n".join(lines)


def exit_status_markdown() -> str:
    """The table of every exit status, for the documentation."""
    lines = ["| status | meaning |", "| --- | --- |"]
    lines += [
        f"| {status} | {meaning.replace('|', chr(92) + '|')} |"
        for status, meaning in EXIT_STATUSES.items()
    ]
    return "\n".join(lines)


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
    """A log, a backup, their folder or another file the tool reads or writes is missing, of
    the wrong kind, or cannot be read or written."""

    exit_code = EXIT_FILE


class InvalidLogError(TelemetryError):
    """A log file that breaks the schema, met while reading rows for a report."""

    exit_code = EXIT_PROBLEMS


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
