"""`telemetry-csv import SOURCE`: add the usage coding agents recorded in their session files."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from telemetry_csv.cli.arguments import ArgumentParser, command_parser

USAGE = """\
telemetry-csv import {claude-code,codex,gemini,all} [--from PATH] [--since DATE] [--dry-run]
                     [--task-type T] [--all-projects] [--idle-limit DURATION]"""

DESCRIPTION = """\
Add one row per slice of the agents' own session files (one session's responses from one
model, on one branch, in one UTC hour) that closed since the last import: exact token counts
(each agent's duplicates counted once, cache reads and writes in their own columns), active
time, success, and a source_id that is the same whoever imports the slice, so importing twice,
or in two clones that are merged later, never counts anything twice. Only sessions run in this
repository's worktree (or a folder inside it) count, unless --all-projects.

Prints one line: the rows added, those already in the log, and what was skipped and why. With
nothing new it reads no session file. docs/importing.md says what each column holds; the
configuration keys import_task_type, import_success, import_idle_limit and codex_model set the
defaults.

examples:
  telemetry-csv import claude-code
  telemetry-csv import all --dry-run
  telemetry-csv import codex --since 2026-03-01 --task-type plan"""


def build_parser() -> ArgumentParser:
    from telemetry_csv.importing import SOURCES
    from telemetry_csv.importing.recording import ALL

    parser = command_parser("import", DESCRIPTION, USAGE)
    parser.add_argument("source", choices=(*SOURCES, ALL), metavar="SOURCE", help="the agent")
    parser.add_argument(
        "--from", dest="from_path", metavar="PATH", help="this file or folder instead"
    )
    parser.add_argument(
        "--since", metavar="DATE", help="leave out slices before this UTC date (or date-time)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the rows it would add; write nothing"
    )
    parser.add_argument(
        "--task-type", metavar="T", help="the rows' task type (default: import_task_type, execute)"
    )
    parser.add_argument(
        "--all-projects", action="store_true", help="sessions of every folder, not just this one"
    )
    parser.add_argument(
        "--idle-limit",
        metavar="DURATION",
        type=_duration,
        help="longer gaps are not active time (default: import_idle_limit, 15m)",
    )
    parser.add_argument("--file", metavar="PATH", help="the log to add to (default: configured)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing when nothing new")
    return parser


def _duration(text: str) -> int:
    from telemetry_csv.durations import parse_duration
    from telemetry_csv.errors import InvalidValueError

    try:
        milliseconds = parse_duration(text)
    except InvalidValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed; {error.allowed}") from None
    if milliseconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed; expected more than 0")
    return milliseconds


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    from pathlib import Path

    from telemetry_csv.config import load_settings
    from telemetry_csv.importing.recording import import_sessions, sources_of

    outcome = import_sessions(
        load_settings(),
        sources_of(args.source),
        log_path=Path(args.file) if args.file else None,
        from_path=args.from_path,
        since=args.since,
        dry_run=args.dry_run,
        task_type=args.task_type,
        all_projects=args.all_projects,
        idle_limit_ms=args.idle_limit,
    )
    report(outcome, quiet=args.quiet)
    return 0


def report(outcome: object, *, quiet: bool, prefix: str = "telemetry-csv import") -> None:
    """Print a dry run's rows, then the summary line (only when rows came, with `quiet`)."""
    from telemetry_csv.cli.output import show
    from telemetry_csv.importing.recording import ImportOutcome
    from telemetry_csv.logfile.schema import Schema

    assert isinstance(outcome, ImportOutcome)
    if outcome.dry_run:
        schema = Schema()
        for row in outcome.rows:
            show(schema.format_line(row, extended=True))
    if quiet and not outcome.rows:
        return
    line = f"{prefix}: {outcome.summary()}"
    if outcome.backups and not outcome.dry_run:
        names = ", ".join(path.name for path in outcome.backups)
        line += f" (the log was backed up to {names} first)"
    show(line)
