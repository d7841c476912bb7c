"""`telemetry-csv log`: append one row, from positional arguments, flags, or both."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from telemetry_csv.errors import TelemetryError
from telemetry_csv.logfile.schema import HEADER

if TYPE_CHECKING:
    import argparse

    from telemetry_csv.cli.arguments import ArgumentParser

    Arguments = argparse.Namespace | SimpleNamespace

# The positional form takes the columns after the timestamp in their order, as the old shell
# script did; all but the notes are required.
POSITIONAL = HEADER[1:]
REQUIRED = POSITIONAL[:-1]

USAGE = """\
telemetry-csv log MODEL PROMPT_TOKENS COMPLETION_TOKENS SUCCESS TASK_TYPE DURATION_MS [NOTES]
       telemetry-csv log --model M --prompt-tokens N --completion-tokens N --task-success B
                         --task-type T (--duration-ms N | --duration 1m30s) [--notes TEXT]
       telemetry-csv log --usage-json FILE|- --task-success B --task-type T --duration 1m30s
       (and --cache-read-tokens N --cache-write-tokens N, the cached parts of the prompt tokens)"""
USAGE_LINE = "usage: " + USAGE.splitlines()[0]

DESCRIPTION = """\
Append one row to the repository's log (.telemetry/usage.csv at the root, or as configured).
Every field is checked before anything is written; a refused value exits with status 2 and
leaves the file unchanged. Positional values and flags can be mixed, but not for one field.

With --usage-json, the model and token counts (with the cached parts of the prompt tokens,
where the response has them) come from an API response body (OpenAI, Anthropic or Gemini; JSON
or a stream); any of them given as options win over the body. Such a row records its source,
usage-json, in the extended header's columns (docs/format.md).

examples:
  telemetry-csv log claude-3-opus 1500 3200 true execute 45000 "Phase 6 tests"
  curl ... | tee out.json | telemetry-csv log --usage-json - --task-success true \\
      --task-type execute --duration 40s"""


def build_parser() -> ArgumentParser:
    from telemetry_csv.cli.arguments import command_parser
    from telemetry_csv.cli.fields import add_field_options, add_where_options

    parser = command_parser("log", DESCRIPTION, USAGE)
    parser.add_argument("values", nargs="*", metavar="FIELD", help="the fields, in column order")
    add_field_options(parser)
    add_where_options(parser)
    return parser


def gather_fields(args: Arguments, from_body: Sequence[str] = ()) -> dict[str, Any]:
    """One value per field from positionals and flags; a field given both ways is an error.
    Fields in `from_body` may be left out: a response body supplies them."""
    if len(args.values) > len(POSITIONAL):
        raise TelemetryError(
            f"too many arguments: expected at most {len(POSITIONAL)} "
            f"({' '.join(POSITIONAL)}), got {len(args.values)}; quote notes that contain spaces"
        )
    values: dict[str, Any] = {}
    for index, (field, value) in enumerate(zip(POSITIONAL, args.values, strict=False), start=1):
        flag = getattr(args, field)
        if flag is not None:
            raise TelemetryError(
                f"{field} given twice: as argument {index} and as --{_flag(field)}"
            )
        values[field] = value
    for field in POSITIONAL:
        flag = getattr(args, field)
        if flag is not None:
            values[field] = flag
    for field in ("cache_read_tokens", "cache_write_tokens"):
        if getattr(args, field) is not None:
            values[field] = getattr(args, field)
    if "duration_ms" in values:
        _refuse_units_in_milliseconds(values["duration_ms"])
    if args.duration is not None:
        if "duration_ms" in values:
            raise TelemetryError("duration given twice: use --duration or duration_ms, not both")
        values["duration_ms"] = _duration(args.duration)
    missing = [field for field in REQUIRED if field not in values and field not in from_body]
    if missing:
        from telemetry_csv.cli.arguments import ArgumentsError

        raise ArgumentsError(f"telemetry-csv log: error: {_missing(missing)}", usage=USAGE_LINE)
    if args.timestamp is not None:
        values["timestamp"] = args.timestamp
    return values


def _missing(fields: Sequence[str]) -> str:
    """Every missing field in one message, each with the two ways to give it."""
    flags = [f"--{_flag(field)}" for field in fields]
    if "duration_ms" in fields:
        flags[fields.index("duration_ms")] += " (or --duration 1m30s)"
    if len(fields) == 1:
        number = POSITIONAL.index(fields[0]) + 1
        return f"{fields[0]} is missing: give it as argument {number} or as {flags[0]}"
    numbers = [POSITIONAL.index(field) + 1 for field in fields]
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        where = f"arguments {numbers[0]} to {numbers[-1]}"
    else:
        where = "arguments " + ", ".join(map(str, numbers))
    return (
        f"{len(fields)} fields are missing: {', '.join(fields)}; give them as {where} "
        f"(in that order) or as {', '.join(flags)}"
    )


def _refuse_units_in_milliseconds(value: str) -> None:
    """The sixth argument and --duration-ms are plain milliseconds; `45s` there is a duration
    meant for --duration, so say that rather than only "digits only"."""
    if value.strip().isdigit():
        return
    from telemetry_csv.durations import parse_duration
    from telemetry_csv.errors import InvalidValueError

    try:
        milliseconds = parse_duration(value)
    except TelemetryError:
        return  # not a duration either: the schema's own message says what is allowed
    raise InvalidValueError(
        "duration_ms",
        value,
        f"duration_ms is whole milliseconds ({milliseconds}); for a duration with units use "
        f"--duration {value.strip()}",
    )


def _duration(text: str) -> int:
    """--duration takes units; a bare number would be a guess between seconds and
    milliseconds, so it is refused, pointing at the options that take milliseconds."""
    from telemetry_csv.durations import ALLOWED, parse_duration
    from telemetry_csv.errors import InvalidValueError

    if text.strip().isdigit():
        raise InvalidValueError(
            "duration",
            text,
            f"{ALLOWED}; for milliseconds use --duration-ms {text.strip()} (or the sixth argument)",
        )
    return parse_duration(text)


def _flag(field: str) -> str:
    return field.replace("_", "-")


# `log`'s options as `build_parser` declares them (tests/test_cli_log_arguments.py holds the
# two equal): those that take a value, by option string, with their destination; the one flag.
VALUE_OPTIONS = {
    "--model": "model",
    "--prompt-tokens": "prompt_tokens",
    "--completion-tokens": "completion_tokens",
    "--cache-read-tokens": "cache_read_tokens",
    "--cache-write-tokens": "cache_write_tokens",
    "--task-success": "task_success",
    "--task-type": "task_type",
    "--duration-ms": "duration_ms",
    "--duration": "duration",
    "--notes": "notes",
    "--timestamp": "timestamp",
    "--usage-json": "usage_json",
    "--file": "file",
    "--max-bytes": "max_bytes",
    "--lock-timeout": "lock_timeout",
}
FLAGS = {"-q": "quiet", "--quiet": "quiet"}


def parse(argv: Sequence[str]) -> tuple[Arguments, str | None]:
    """The arguments, and a notice when a seventh token that is no option of `log` was taken
    as the notes. Options may follow the six positional fields, as documented, so `-q` there
    is the option; an unknown `-x` there can only be a note the shell passed unquoted-looking,
    and the old script stored such notes."""
    plain = parse_plain(argv)
    if plain is not None:
        return plain, None
    return parse_with_argparse(argv)


def parse_with_argparse(argv: Sequence[str]) -> tuple[argparse.Namespace, str | None]:
    """`parse` by argparse, for every command line."""
    parser = build_parser()
    args, extras = parser.parse_known_intermixed_args(argv)
    for field in POSITIONAL:
        if getattr(args, field) == []:
            # `--notes=--`: argparse (3.11, 3.12) takes a value of `--` out as the end of
            # options and leaves an empty list; the old script stored such a note as given.
            setattr(args, field, "--")
    if not extras:
        return args, None
    if len(extras) == 1 and len(args.values) == len(REQUIRED) and args.notes is None:
        token = extras[0]
        before, _ = parser.parse_known_intermixed_args(argv[: list(argv).index(token)])
        if len(before.values) == len(REQUIRED):
            args.values.append(token)
            return args, (
                f"{token!r} is no option of `telemetry-csv log`, so it was stored as the notes "
                "(to say so, put -- before notes that start with -)"
            )
    parser.error(f"unrecognized arguments: {' '.join(extras)}")


def parse_plain(argv: Sequence[str]) -> SimpleNamespace | None:
    """What argparse makes of the usual command lines, without building its parser: importing
    argparse and declaring the options costs `log` more than all its other work. Positional
    values, the options above spelled in full (`--notes TEXT`, `--notes=TEXT`), `-q`. None for
    anything else (help, an abbreviation, a value that starts with `-` but `-` itself, `--`, a
    number argparse would refuse, an unknown option): `build_parser` then parses it, with its
    messages. The result equals argparse's for every command line it accepts (the test)."""
    from telemetry_csv.config import lock_timeout_problem

    values: list[str] = []
    parsed: dict[str, Any] = dict.fromkeys(VALUE_OPTIONS.values())
    parsed["quiet"] = False
    tokens = iter(argv)
    for token in tokens:
        if not token.startswith("-"):
            values.append(token)
            continue
        if token in FLAGS:
            parsed[FLAGS[token]] = True
            continue
        option, equals, value = token.partition("=")
        dest = VALUE_OPTIONS.get(option)
        if dest is None:
            return None
        if not equals:
            value = next(tokens, "")  # none: argparse says what is missing
        if not value or (value.startswith("-") and value != "-"):
            return None
        if dest == "max_bytes":
            try:
                parsed[dest] = int(value)
            except ValueError:
                return None
        elif dest == "lock_timeout":
            try:
                seconds = float(value)
            except ValueError:
                return None
            if lock_timeout_problem(seconds):
                return None
            parsed[dest] = seconds
        else:
            parsed[dest] = value
    return SimpleNamespace(values=values, **parsed)


def run(argv: Sequence[str]) -> int:
    args, seventh = parse(argv)
    notices: tuple[str, ...] = ()
    if args.usage_json is None:
        values = gather_fields(args)
    else:
        from telemetry_csv.capture import usage_bodies

        values = gather_fields(args, from_body=usage_bodies.TAKEN)
        values, notices = usage_bodies.fill_from_usage(
            values, usage_bodies.read_usage(args.usage_json)
        )
        values["source"] = "usage-json"

    from telemetry_csv.capture.appending import log_row

    logged = log_row(
        **values,
        path=args.file,
        max_bytes=args.max_bytes,
        lock_timeout=args.lock_timeout,
    )
    from telemetry_csv.cli import output

    if seventh:
        notices = (seventh, *notices)
    for note in output.notes(logged, notices):
        output.say(f"telemetry-csv log: note: {note}")
    if not args.quiet:
        output.show_done(output.confirmation(logged), "telemetry-csv log", "the row was logged")
    return 0
