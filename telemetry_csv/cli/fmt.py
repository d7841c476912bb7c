"""`telemetry-csv fmt [FILES...]`: rewrite logs in their canonical bytes, never changing a value."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from telemetry_csv.cli.selection import files_to_read

if TYPE_CHECKING:
    from telemetry_csv.cli.arguments import ArgumentParser
    from telemetry_csv.config import Settings

DESCRIPTION = """\
Rewrite log files the canonical way: CRLF line endings become LF, a byte order mark is
removed, fields are quoted only where needed (notes holding a comma or a quote). No value
changes. A line that cannot be read as the header or a valid row is left exactly as it is and
reported. So is a last line without a newline: it may be a row torn by an interrupted write,
so fmt does not pass it off as complete; `telemetry-csv repair` moves it aside. Without FILES,
formats the repository's log and all its backups."""


def build_parser() -> ArgumentParser:
    # Imported here: the fmt hook prints through `print_fmt` without parsing arguments.
    from telemetry_csv.cli.arguments import command_parser

    parser = command_parser("fmt", DESCRIPTION)
    parser.add_argument("files", nargs="*", metavar="FILE", help="log files to format")
    parser.add_argument(
        "--file", metavar="PATH", help="the log whose backups to find (default: configured)"
    )
    return parser


class Tally(NamedTuple):
    files: int
    changed: int  # files rewritten
    left: int  # lines left as they were


def print_fmt(named: Sequence[tuple[Path, str]], settings: Settings, *, changed_word: str) -> Tally:
    """Format the files; print `CHANGED_WORD NAME` for each one rewritten and every line left
    as it was (`reformatted NAME` for the command, pre-commit's `Fixing NAME` for the hook)."""
    from telemetry_csv.cli.output import show
    from telemetry_csv.logfile.rewriting import format_file

    changed = left = 0
    for path, name in named:
        result = format_file(
            path, settings.schema, display=name, lock_timeout=settings.lock_timeout
        )
        if result.changed:
            changed += 1
            show(f"{changed_word} {name}")
        for problem in result.problems:
            show(str(problem))
        if len({problem.line for problem in result.problems}) < result.left:
            show(f"{name}: {result.left:,} line(s) left as they were (the first shown)")
        left += result.left
    return Tally(len(named), changed, left)


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)

    from telemetry_csv.config import load_settings

    settings = load_settings()
    tally = print_fmt(
        files_to_read(args.files, args.file, settings), settings, changed_word="reformatted"
    )
    files = f"{tally.files} file{'s' if tally.files != 1 else ''}"
    from telemetry_csv.cli.output import show

    show(f"{tally.changed} of {files} reformatted, {tally.left} line(s) left as they were")
    return 1 if tally.left else 0
