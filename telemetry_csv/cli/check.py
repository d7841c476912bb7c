"""`telemetry-csv check [FILES...]`: validate logs; one `PATH:LINE: field: message` per problem.
The check hook (hooks/check_hook.py) prints through `print_check` too."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from telemetry_csv.cli.arguments import command_parser
from telemetry_csv.cli.selection import files_to_read

if TYPE_CHECKING:
    from collections.abc import Callable

    from telemetry_csv.config import Settings
    from telemetry_csv.logfile.reading import Problem

DESCRIPTION = """\
Validate log files line by line, in constant memory. Without FILES, checks the repository's
log and all its backups (usage.csv and usage-*.csv in its folder)."""


def add_max_problems(parser: argparse.ArgumentParser) -> None:
    from telemetry_csv.logfile.checking import DEFAULT_MAX_PROBLEMS

    parser.add_argument(
        "--max-problems",
        type=int,
        default=DEFAULT_MAX_PROBLEMS,
        metavar="N",
        help=f"show at most N problems; all are counted (default: {DEFAULT_MAX_PROBLEMS})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = command_parser("check", DESCRIPTION)
    parser.add_argument("files", nargs="*", metavar="FILE", help="log files to check")
    parser.add_argument(
        "--file", metavar="PATH", help="the log whose backups to find (default: configured)"
    )
    add_max_problems(parser)
    parser.add_argument("--max-bytes", type=int, metavar="N", help="flag files larger than N bytes")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print problems only, no summary"
    )
    return parser


def print_check(
    named: Sequence[tuple[Path, str]],
    settings: Settings,
    *,
    max_problems: int,
    max_bytes: int | None = None,
    summary: Literal["always", "on problems", "never"] = "always",
    promote: Callable[[Problem], bool] | None = None,
) -> int:
    """Check the files, print each problem and warning shown, then the summary line (always,
    only when something is wrong, as a hook does, or never); 0 if there is no problem (there
    may be warnings), else 1. `promote`: see `check_files`."""
    from telemetry_csv.logfile.checking import check_files

    display: dict[Path | str, str] = dict(named)
    result = check_files(
        [path for path, _ in named],
        settings.schema,
        max_bytes=max_bytes or settings.max_bytes,
        max_problems=max(max_problems, 0),
        display=display,
        promote=promote,
    )
    from telemetry_csv.cli.output import show

    for problem in result.problems:
        show(str(problem))
    if (
        summary == "always"
        or (summary == "on problems" and not result.ok)
        or (summary == "on problems" and result.warning_count)
    ):
        show(result.summary())
    return 0 if result.ok else 1


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)

    from telemetry_csv.config import load_settings

    settings = load_settings()
    named = files_to_read(args.files, args.file, settings)
    return print_check(
        named,
        settings,
        max_problems=args.max_problems,
        max_bytes=args.max_bytes,
        summary="never" if args.quiet else "always",
    )
