"""telemetry-csv-fmt: rewrite logs in their canonical bytes (a fixer: returns 1 when it changed one).

CRLF becomes LF, a byte order mark goes, fields are quoted the canonical way. No value ever
changes; a line that cannot be read is left alone and reported, and so is a last line without a
newline (it may be torn: `telemetry-csv repair` moves it aside). A file's start that is exactly
what HEAD has was formatted when it was committed: when the lines after it are canonical, the
file is left as it is without reading the rest (`git.committed`). Any other file that is
canonical already (a new shard, most often) is recognised by one read-only pass; only a file
that may change is formatted under its log's lock, as `fmt` does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from telemetry_csv.hooks import committed_starts, plain_names, run_hook

if TYPE_CHECKING:
    import argparse

PROG = "telemetry-csv-fmt"
# A file not trusted is read whole to be recognised as canonical only up to this size (larger
# ones go to `fmt` proper, which reads in blocks); a header is never longer than this.
_WHOLE_LIMIT = 64 << 20
_HEADER_LIMIT = 4096


def main(argv: Sequence[str] | None = None) -> int:
    def fmt() -> int:
        filenames = plain_names(argv)
        if filenames is None:
            filenames = build_parser().parse_args(argv).filenames
        if not filenames:
            return 0
        return _fmt(filenames)

    return run_hook(PROG, argv, fmt)


def build_parser() -> argparse.ArgumentParser:
    from telemetry_csv.cli.arguments import ArgumentParser

    parser = ArgumentParser(
        prog=PROG,
        description="Rewrite log files canonically (LF, no BOM, canonical quoting); a last line "
        "without a newline is left for `telemetry-csv repair`.",
    )
    parser.add_argument("filenames", nargs="*", metavar="FILE")
    return parser


def _fmt(filenames: list[str]) -> int:
    from telemetry_csv.cli.fmt import print_fmt
    from telemetry_csv.config import load_settings
    from telemetry_csv.logfile.canonical import canonical_after

    settings = load_settings()
    named = [(Path(name), name) for name in filenames]
    # What HEAD has of a file was formatted when it was committed: a file whose lines after it
    # are canonical too is left as it is, unread but for those lines.
    trusted = committed_starts([path for path, _ in named], settings.root)
    named = [
        (path, name)
        for path, name in named
        if not canonical_after(*_header_and_rest(path, trusted.get(path)), settings.schema)
    ]
    if not named:
        return 0
    tally = print_fmt(named, settings, changed_word="Fixing")
    return 1 if tally.changed or tally.left else 0


def _header_and_rest(path: Path, start: int | None) -> tuple[bytes, int]:
    """The file's first line and its bytes after `start` (committed whole lines, so past the
    first line; None: after the first line), and where the latter begin: what
    `canonical_after` reads of a file, without reading the committed bytes again. Nothing (not
    canonical: `fmt` proper reads it, and reports what it is) for a link, a special file, a
    file too large to hold, or one that cannot be read."""
    from telemetry_csv import fs
    from telemetry_csv.errors import LogFileError

    try:
        with fs.open_regular(path) as file:
            if start is None and os.fstat(file.fileno()).st_size > _WHOLE_LIMIT:
                return b"", 0
            header = file.readline(_HEADER_LIMIT if start is None else start)
            if start is not None:
                file.seek(start)
            return header + file.read(), len(header)
    except (OSError, LogFileError):
        return b"", 0


if __name__ == "__main__":
    raise SystemExit(main())
