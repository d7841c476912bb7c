"""telemetry-csv-check: every telemetry CSV file pre-commit passes must be a valid log.

A file's start that is exactly what HEAD has was checked when it was committed, so only the
lines after it are read (`git.committed`), and compared by id with the rows before them that
hold the same ids; `telemetry-csv check` reads everything."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from telemetry_csv.hooks import plain_names, run_hook

if TYPE_CHECKING:
    import argparse

PROG = "telemetry-csv-check"


def main(argv: Sequence[str] | None = None) -> int:
    from telemetry_csv.logfile.checking import DEFAULT_MAX_PROBLEMS

    filenames, max_problems = plain_names(argv), DEFAULT_MAX_PROBLEMS
    if filenames is None:
        args = build_parser().parse_args(argv)
        filenames, max_problems = args.filenames, args.max_problems
    if not filenames:
        return 0
    return run_hook(PROG, lambda: _check(filenames, max_problems))


def build_parser() -> argparse.ArgumentParser:
    import argparse

    from telemetry_csv.cli.check import add_max_problems

    parser = argparse.ArgumentParser(
        prog=PROG, description="Check log files: one PATH:LINE: field: message per problem."
    )
    parser.add_argument("filenames", nargs="*", metavar="FILE")
    add_max_problems(parser)
    return parser


def _check(filenames: list[str], max_problems: int) -> int:
    from telemetry_csv.cli.check import print_check
    from telemetry_csv.config import load_settings
    from telemetry_csv.git.committed import committed_starts

    named = [(Path(name), name) for name in filenames]
    settings = load_settings()
    # What HEAD has of a file was checked when it was committed: only what follows is read.
    trusted = committed_starts([path for path, _ in named], settings.root)
    return print_check(
        named, settings, max_problems=max_problems, summary="on problems", trusted=trusted
    )


if __name__ == "__main__":
    raise SystemExit(main())
