"""`telemetry-csv COMMAND ...`: find the command, parse its arguments, run it, map errors.

Only the chosen command's module is imported, so `telemetry-csv log` loads neither the report
nor the hooks. A `TelemetryError` becomes one line on stderr and its exit status; a traceback
means a bug in telemetry-csv, never a user mistake. Every error line, argument errors included,
is printed by `print_error`, which hides whatever looks like a credential: messages quote what the
user typed (a command name, a path, a commit range), and that may be a pasted key.

A reader that goes away (`telemetry-csv check | head -1`) is no error either. Standard output
closed under us ends the command quietly with 141, the status a shell shows for a program that
SIGPIPE killed, as C tools are (Python ignores SIGPIPE and raises BrokenPipeError instead).
Whatever the command did before (a row `log` appended) stays done. Standard output that fails
otherwise (a full disk) is one line on standard error and exit status 4, except after `log`
appended its row (see `output.show_done`). Standard error closed loses only messages: the exit
status stays the command's own.

Arguments must be UTF-8 text: one that is not (the shell passes bytes; Python keeps the bad
ones as lone surrogates) is refused before anything runs, with exit status 2. The command that
`run` runs, after `--`, is passed on untouched, bytes and all.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence

from telemetry_csv.errors import EXIT_CLOSED_PIPE, EXIT_FILE, EXIT_INTERRUPTED, EXIT_USAGE

# name: (module under telemetry_csv.cli, one-line summary for --help)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("init", "create .telemetry/ with its README and .gitignore; set git up"),
    "log": ("log", "append one validated row to the log"),
    "check": ("check", "validate every file of the log (PATH:LINE: field: message)"),
    "report": ("report", "summarise the log as Markdown, JSON, CSV or HTML"),
    "cat": ("cat", "print every row of the log as one CSV, in time order"),
    "fold": ("fold", "fold committed shards into a few files, on the default branch"),
    "export": ("export", "send the rows to an OpenTelemetry pipeline (export otlp)"),
    "run": ("run", "run a command, then log its duration and success"),
    "import": ("import_sessions", "add usage from Claude Code, Codex or Gemini session files"),
    "fmt": ("fmt", "rewrite logs canonically (LF, no BOM, quoting) without changing a value"),
    "merge-driver": ("merge_driver", "git merge driver: merge two logs without a conflict"),
    "repair": ("repair", "move a torn last line of the log aside (never deletes anything)"),
}

USAGE = "usage: telemetry-csv [-h] [--version] COMMAND [ARGS...]"


def _help() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        USAGE,
        "",
        "A committed, validated CSV log of LLM and coding-agent usage.",
        "",
        "commands:",
    ]
    lines += [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    lines += ["", "Run `telemetry-csv COMMAND --help` for a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from telemetry_csv.cli import output

    args = list(sys.argv[1:] if argv is None else argv)
    output.utf8_streams()
    _tolerate_any_encoding()
    try:
        try:
            status = _main(args)
        finally:  # argparse's --help ends in SystemExit: flush on that way out too
            if sys.stdout is not None:
                sys.stdout.flush()  # a closed pipe shows here, not in Python's flush at exit
    except BrokenPipeError:
        output.silence(sys.stdout)
        return EXIT_CLOSED_PIPE
    except OSError as error:  # standard output itself failed: a full disk, an I/O error
        output.silence(sys.stdout)
        name = f" {args[0]}" if args and args[0] in COMMANDS else ""
        output.say(
            f"telemetry-csv{name}: error: cannot write standard output: {error.strerror or error}"
        )
        return EXIT_FILE
    return status


def _tolerate_any_encoding() -> None:
    """Escape, rather than fail on, a character the terminal's encoding cannot show (with
    PYTHONIOENCODING=ascii, say): a message or a report is never lost to a traceback."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(OSError, ValueError):
                reconfigure(errors="backslashreplace")


def _main(args: list[str]) -> int:
    from telemetry_csv.cli.output import say

    if not args or args[0] in ("-h", "--help"):
        print(_help())
        return 0 if args else EXIT_USAGE
    if args[0] == "--version":
        from telemetry_csv import __version__

        print(f"telemetry-csv {__version__}")
        return 0
    name = args[0]
    from telemetry_csv.cli.argument_errors import ArgumentsError, require_text

    try:
        # `run`'s command, after `--`, is the command's own business.
        require_text(args[: args.index("--")] if name == "run" and "--" in args else args)
    except ArgumentsError as error:
        shown = f"telemetry-csv {name}" if name in COMMANDS else "telemetry-csv"
        print_error(f"{shown}: error: {error}")
        return EXIT_USAGE
    if name not in COMMANDS:
        from telemetry_csv.cli.arguments import closest

        near = closest(name, list(COMMANDS))
        hint = f"did you mean {near[0]}? " if near else ""
        print_error(
            f"telemetry-csv: error: unknown command {name!r}; {hint}"
            f"choose from {', '.join(COMMANDS)} (see --help)"
        )
        return EXIT_USAGE
    import importlib

    from telemetry_csv.errors import TelemetryError

    module = importlib.import_module(f"telemetry_csv.cli.{COMMANDS[name][0]}")
    try:
        status: int = module.run(args[1:])
        return status
    except TelemetryError as error:
        # Imported only here: `log` parses its usual arguments without argparse.
        from telemetry_csv.cli.argument_errors import ArgumentsError

        if isinstance(error, ArgumentsError):
            if error.usage:
                say(error.usage)
            print_error(str(error))
        else:
            print_error(f"telemetry-csv {name}: error: {error}")
        return error.exit_code
    except KeyboardInterrupt:
        say(f"telemetry-csv {name}: interrupted")
        return EXIT_INTERRUPTED


def print_error(line: str) -> None:
    """Print an error line: every credential shape redacted and every control character escaped,
    line breaks included, since an error is one line (the scanner compiles its patterns only
    when a line may hold a key)."""
    from telemetry_csv.cli.output import say
    from telemetry_csv.messages import safe_line

    say(safe_line(line))
