"""telemetry-csv-check: every telemetry CSV file pre-commit passes must be a valid log."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from telemetry_csv.hooks import report_error

PROG = "telemetry-csv-check"


def main(argv: Sequence[str] | None = None) -> int:
    from telemetry_csv.checking import DEFAULT_MAX_PROBLEMS

    parser = argparse.ArgumentParser(
        prog=PROG, description="Check log files: one PATH:LINE: field: message per problem."
    )
    parser.add_argument("filenames", nargs="*", metavar="FILE")
    parser.add_argument(
        "--max-problems",
        type=int,
        default=DEFAULT_MAX_PROBLEMS,
        metavar="N",
        help=f"show at most N problems; all are counted (default: {DEFAULT_MAX_PROBLEMS})",
    )
    args = parser.parse_args(argv)
    if not args.filenames:
        return 0

    from telemetry_csv.checking import check_files
    from telemetry_csv.config import load_settings
    from telemetry_csv.errors import TelemetryError

    try:
        settings = load_settings()
    except TelemetryError as error:
        return report_error(PROG, error)
    result = check_files(
        args.filenames,
        settings.schema,
        max_bytes=settings.max_bytes,
        max_problems=max(args.max_problems, 0),
    )
    for problem in result.problems:
        print(problem)
    if result.ok:
        return 0
    print(result.summary())
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
