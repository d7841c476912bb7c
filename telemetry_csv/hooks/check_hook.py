"""telemetry-csv-check: every telemetry CSV file pre-commit passes must be a valid log."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from telemetry_csv.hooks import run_hook

PROG = "telemetry-csv-check"


def main(argv: Sequence[str] | None = None) -> int:
    from telemetry_csv.cli.check import add_max_problems

    parser = argparse.ArgumentParser(
        prog=PROG, description="Check log files: one PATH:LINE: field: message per problem."
    )
    parser.add_argument("filenames", nargs="*", metavar="FILE")
    add_max_problems(parser)
    args = parser.parse_args(argv)
    if not args.filenames:
        return 0
    return run_hook(PROG, lambda: _check(args.filenames, args.max_problems))


def _check(filenames: list[str], max_problems: int) -> int:
    from telemetry_csv.cli.check import print_check
    from telemetry_csv.config import load_settings

    named = [(Path(name), name) for name in filenames]
    return print_check(named, load_settings(), max_problems=max_problems, summary="on problems")


if __name__ == "__main__":
    raise SystemExit(main())
