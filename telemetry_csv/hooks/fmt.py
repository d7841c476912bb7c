"""telemetry-csv-fmt: rewrite logs in their canonical bytes (a fixer: returns 1 when it changed one).

CRLF becomes LF, a byte order mark goes, fields are quoted the canonical way. No value ever
changes; a line that cannot be read is left alone and reported, and so is a last line without a
newline (it may be torn: `telemetry-csv repair` moves it aside).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from telemetry_csv.hooks import report_error

PROG = "telemetry-csv-fmt"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Rewrite log files canonically (LF, no BOM, canonical quoting); a last line "
        "without a newline is left for `telemetry-csv repair`.",
    )
    parser.add_argument("filenames", nargs="*", metavar="FILE")
    args = parser.parse_args(argv)
    if not args.filenames:
        return 0

    from telemetry_csv.config import load_settings
    from telemetry_csv.errors import TelemetryError
    from telemetry_csv.formatting import format_file

    status = 0
    try:
        settings = load_settings()
        for name in args.filenames:
            result = format_file(
                Path(name), settings.schema, display=name, lock_timeout=settings.lock_timeout
            )
            if result.changed:
                print(f"Fixing {name}")
            for problem in result.problems:
                print(problem)
            if result.changed or result.problems:
                status = 1
    except TelemetryError as error:
        return report_error(PROG, error)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
