"""telemetry-csv-fmt: rewrite logs in their canonical bytes (a fixer: returns 1 when it changed one).

CRLF becomes LF, a byte order mark goes, fields are quoted the canonical way. No value ever
changes; a line that cannot be read is left alone and reported, and so is a last line without a
newline (it may be torn: `telemetry-csv repair` moves it aside).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from telemetry_csv.cli.arguments import ArgumentParser
from telemetry_csv.hooks import run_hook

PROG = "telemetry-csv-fmt"


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(
        prog=PROG,
        description="Rewrite log files canonically (LF, no BOM, canonical quoting); a last line "
        "without a newline is left for `telemetry-csv repair`.",
    )
    parser.add_argument("filenames", nargs="*", metavar="FILE")
    return run_hook(PROG, argv, lambda: _fmt(parser.parse_args(argv).filenames))


def _fmt(filenames: list[str]) -> int:
    from telemetry_csv.cli.fmt import print_fmt
    from telemetry_csv.config import load_settings

    if not filenames:
        return 0

    named = [(Path(name), name) for name in filenames]
    tally = print_fmt(named, load_settings(), changed_word="Fixing")
    return 1 if tally.changed or tally.left else 0


if __name__ == "__main__":
    raise SystemExit(main())
