"""`telemetry-csv run [options] -- COMMAND [ARGS...]`: run a command, then log how it went."""

from __future__ import annotations

import os
import sys
from argparse import Namespace
from collections.abc import Sequence
from typing import TYPE_CHECKING

from telemetry_csv.cli.arguments import ArgumentParser, command_parser
from telemetry_csv.errors import TelemetryError

if TYPE_CHECKING:
    from telemetry_csv.capture.appending import LoggedRow
    from telemetry_csv.capture.running import CommandResult
    from telemetry_csv.capture.usage_bodies import Usage
    from telemetry_csv.config import Settings

FileState = tuple[int, ...]  # what tells a file's version apart: inode, size, times

USAGE = """\
telemetry-csv run --task-type TYPE [--model M] [options] -- COMMAND [ARGS...]
       telemetry-csv run --from-output [SOURCE] --task-type TYPE [options] -- AGENT ..."""

DESCRIPTION = """\
Run COMMAND with its standard input, output and error untouched, measure its wall time, then
log one row: task_success is true if it exits 0, duration_ms is the time it took. Exits with
the command's own status (128+N if signal N killed it; Ctrl-C reaches the command). Everything
telemetry-csv says goes to standard error, so the command's output stays its own.

The model comes from --model, or from --usage-json FILE: a response body (OpenAI, Anthropic
or Gemini; JSON or a stream) that the command wrote, read after it ends. Token counts come
from --prompt-tokens / --completion-tokens, or from that body; without either they are 0.
Options win over the body.

Every option is checked before the command starts. If the row cannot be logged afterwards
(for example the body holds no usage), the command's status still stands: the error is
printed and nothing is written. A command that failed is logged as a failure even without a
usable body (with the counts given as options, else 0), provided --model names the model. A command that cannot start exits 127 (not found) or 126
(not executable), as in a shell, and is not logged: nothing ran.

With --from-output, COMMAND is a coding agent run headless: `claude -p --output-format json`
(or stream-json), `codex exec --json` or `gemini --output-format json`. Its standard output
still reaches yours, unchanged, while a copy is read afterwards: the model, the token counts
(with their cache parts), the duration and the success come from it, one row per model it
names. Codex names no model: give --model, or set codex_model in the configuration. SOURCE
(claude-code, codex, gemini) is recognised from the output when left out.

examples:
  telemetry-csv run --model claude-sonnet-4-5 --task-type verify -- pytest -q
  telemetry-csv run --task-type execute --usage-json out.json -- ./ask-model.sh out.json
  telemetry-csv run --from-output --task-type execute -- claude -p --output-format json 'fix it'
  telemetry-csv run --from-output codex --model gpt-5-codex --task-type plan -- \\
      codex exec --json 'plan it'"""

# A stand-in that passes the model rule, for checking the other options before the command
# runs when the model will come from the response body; and prompt tokens that any cache parts
# given fit in, when the count will come from the body.
_MODEL_FROM_BODY = "model-from-response"
_MOST = 10**14
RUN_SOURCE = "run"  # the `source` of every row `run` logs
AUTO = "auto"
OUTPUT_SOURCES = ("claude-code", "codex", "gemini")
_FROM_OUTPUT = ("prompt_tokens", "completion_tokens", "cache_read_tokens", "cache_write_tokens")


def build_parser() -> ArgumentParser:
    from telemetry_csv.cli.fields import add_field_options, add_where_options

    parser = command_parser("run", DESCRIPTION, USAGE)
    add_field_options(parser, measured=False)
    parser.add_argument(
        "--from-output",
        nargs="?",
        const=AUTO,
        choices=(AUTO, *OUTPUT_SOURCES),
        metavar="SOURCE",
        help="read usage from the agent's JSON output (claude-code, codex, gemini; default: "
        "recognise it)",
    )
    add_where_options(parser)
    return parser


def split_command(argv: Sequence[str]) -> tuple[list[str], list[str] | None]:
    """Options before the first `--`, and the command after it (None without `--`)."""
    args = list(argv)
    if "--" not in args:
        return args, None
    index = args.index("--")
    return args[:index], args[index + 1 :]


def run(argv: Sequence[str]) -> int:
    options, command = split_command(argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(options)
    if extra and (command is not None or extra[0].startswith("-")):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if extra:
        raise TelemetryError(
            f"put -- before the command, as in `telemetry-csv run [options] -- {' '.join(extra)}`"
        )
    if not command:
        raise TelemetryError(
            "the command is missing: put it after --, as in "
            "`telemetry-csv run --task-type verify -- pytest -q`"
        )

    from telemetry_csv.capture.running import run_command
    from telemetry_csv.config import load_settings, validate_max_bytes

    settings = load_settings()
    given = _given_fields(args)
    _check_before_running(args, given, settings)
    if args.max_bytes is not None:
        validate_max_bytes(args.max_bytes)
    body_before = _file_state(args.usage_json) if args.usage_json else None

    result = run_command(command, capture_output=args.from_output is not None)

    # Only the append is tried here: a message that cannot be shown afterwards (stderr closed)
    # must not be taken for a row that was not logged.
    try:
        if args.from_output is not None:
            logged_rows, notices = _log_output(args, given, result, settings)
        else:
            logged, notices = _log(args, given, result, settings, body_before)
            logged_rows = [logged]
    except (TelemetryError, OSError) as error:
        _say_error(f"not logged: {error}")
    except KeyboardInterrupt:
        _say_error("not logged: interrupted")
    except Exception as error:  # the command's status must survive even a bug of ours
        _say_error(
            f"not logged: unexpected {type(error).__name__}: {error} "
            "(a bug in telemetry-csv; please report it)"
        )
    else:
        from telemetry_csv.cli import output

        for note in notices:
            _say(f"note: {note}")
        for logged in logged_rows:
            for note in output.notes(logged):
                _say(f"note: {note}")
            if not args.quiet:
                _say(output.confirmation(logged, result.describe()))
    _end_like_the_command(result)
    return result.exit_status


def _given_fields(args: Namespace) -> dict[str, object]:
    names = (
        "model",
        "prompt_tokens",
        "completion_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "task_type",
        "notes",
    )
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _check_before_running(args: Namespace, given: dict[str, object], settings: Settings) -> None:
    """Refuse now what would be refused after the command ran, when it is too late to fix."""
    if "task_type" not in given:
        raise TelemetryError(
            f"task_type is missing: give --task-type ({'|'.join(settings.task_types)})"
        )
    if args.usage_json == "-":
        raise TelemetryError(
            "--usage-json -: standard input belongs to the command; "
            "give a file that the command writes"
        )
    if args.from_output is not None:
        if args.usage_json is not None:
            raise TelemetryError("--from-output and --usage-json both name the usage; give one")
        taken = [name for name in _FROM_OUTPUT if name in given]
        if taken:
            raise TelemetryError(
                f"--{taken[0].replace('_', '-')}: with --from-output the counts come from the "
                "command's output; leave it out"
            )
        if args.from_output == "codex" and "model" not in given and settings.codex_model is None:
            raise TelemetryError(
                "model is missing: codex exec --json names no model; give --model, or set "
                "codex_model in the configuration"
            )
    elif "model" not in given and args.usage_json is None:
        raise TelemetryError(
            "model is missing: give --model, or --usage-json FILE with a response that names it"
        )
    from pathlib import Path

    from telemetry_csv.logfile.writing import require_log_path

    # A log that is a link, a FIFO or a folder, or has a name no log may have: refused now.
    require_log_path(Path(args.file) if args.file else settings.log_path)
    settings.schema.normalise(
        model=given.get("model", _MODEL_FROM_BODY),
        prompt_tokens=given.get("prompt_tokens", _MOST if args.usage_json else 0),
        completion_tokens=given.get("completion_tokens", 0),
        task_success=True,
        task_type=given["task_type"],
        duration_ms=0,
        notes=given.get("notes", ""),
        source=RUN_SOURCE,
        cache_read_tokens=given.get("cache_read_tokens"),
        cache_write_tokens=given.get("cache_write_tokens"),
    )


def _log(
    args: Namespace,
    given: dict[str, object],
    result: CommandResult,
    settings: Settings,
    body_before: FileState | None,
) -> tuple[LoggedRow, tuple[str, ...]]:
    from telemetry_csv.capture.appending import log_row

    values = dict(given)
    notices: tuple[str, ...] = ()
    if args.usage_json is not None:
        from telemetry_csv.capture import usage_bodies

        try:
            usage = _usage_written_by_the_command(args.usage_json, body_before)
        except usage_bodies.UsageJsonError as error:
            # A failed command often leaves no body, or an error or a cut-off stream. Its row
            # still counts (without it the log would show only successes), as long as --model
            # names the model; a success without its counts is refused as before.
            if result.succeeded:
                raise
            if "model" not in given:
                raise usage_bodies.UsageJsonError(
                    f"{error}; the command failed ({result.describe()}) and only the response "
                    "would have named the model: give --model too, so that such failures are "
                    "logged"
                ) from None
            notices = (
                f"{error}; the command failed, so the failure is logged without the response",
            )
        else:
            values, notices = usage_bodies.fill_from_usage(values, usage)
    values.setdefault("prompt_tokens", 0)
    values.setdefault("completion_tokens", 0)
    logged = log_row(
        **values,
        source=RUN_SOURCE,
        task_success=result.succeeded,
        duration_ms=result.duration_ms,
        path=args.file,
        settings=settings,
        max_bytes=args.max_bytes,
        lock_timeout=args.lock_timeout,
    )
    return logged, notices


def _log_output(
    args: Namespace, given: dict[str, object], result: CommandResult, settings: Settings
) -> tuple[list[LoggedRow], tuple[str, ...]]:
    """`run --from-output`: one row per model the agent's output names, in one locked append."""
    from telemetry_csv.capture.appending import LoggedRow, log_rows
    from telemetry_csv.importing import parse_output
    from telemetry_csv.importing.headless import OutputError, row_values

    source = None if args.from_output == AUTO else args.from_output
    model = given.get("model") or settings.codex_model
    notices: tuple[str, ...] = ()
    try:
        if result.output is None:
            raise OutputError("--from-output: the output is too large to be an agent's JSON")
        usages = parse_output(result.output, source=source, model=str(model) if model else None)
        values = row_values(usages, measured_ms=result.duration_ms, exited_ok=result.succeeded)
    except OutputError as error:
        # A failed run often prints an error instead of its JSON: it still counts as a failure,
        # as long as the model is known; a success without its counts is refused.
        if result.succeeded or not model:
            hint = "" if result.succeeded else "; give --model so that such failures are logged"
            raise OutputError(f"{error}{hint}") from None
        values = [
            {
                "model": model,
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "task_success": False,
                "duration_ms": result.duration_ms,
            }
        ]
        notices = (f"{error}; the command failed, so the failure is logged without counts",)
    schema = settings.schema
    rows = [
        schema.normalise(
            **row,
            task_type=given["task_type"],
            notes=given.get("notes", ""),
            source=RUN_SOURCE,
        ).row
        for row in values
    ]
    appended = log_rows(
        rows,
        path=args.file,
        settings=settings,
        max_bytes=args.max_bytes,
        lock_timeout=args.lock_timeout,
    )
    logged = [
        LoggedRow(
            row,
            appended.path,
            appended.created and index == 0,
            appended.backup if index == 0 else None,
            (),
            appended.header_changed and index == 0,
        )
        for index, row in enumerate(rows)
    ]
    return logged, notices


def _usage_written_by_the_command(name: str, before: FileState | None) -> Usage:
    """The usage in the body the command wrote to `name`; refused if it left the file as it was
    before it ran, since those counts belong to an earlier run."""
    from telemetry_csv.capture import usage_bodies

    if before is not None and _file_state(name) == before:
        raise usage_bodies.UsageJsonError(
            f"--usage-json {name}: the command did not write it (unchanged since before it ran), "
            "so its counts are not this run's"
        )
    return usage_bodies.read_usage(name)


def _file_state(name: str) -> FileState | None:
    try:
        info = os.stat(name)
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _end_like_the_command(result: CommandResult) -> None:
    """After Ctrl-C, die of SIGINT as the command did, so a calling shell loop or script stops
    too (a shell treats a child that exits normally after SIGINT as having handled it)."""
    import contextlib
    import signal

    if result.signal != signal.SIGINT or signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)


def _say(message: str) -> None:
    from telemetry_csv.cli.output import say

    say(f"telemetry-csv run: {message}")


def _say_error(message: str) -> None:
    """An error after the command ran, which `run` reports itself (the command's exit status
    must stay its own), redacted as cli/main.py redacts every other error."""
    from telemetry_csv.cli.main import print_error

    print_error(f"telemetry-csv run: error: {message}")
