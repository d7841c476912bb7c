"""`telemetry-csv cat`: every row of every file of the log as one CSV, in time order."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from telemetry_csv.cli.arguments import ArgumentParser, command_parser
from telemetry_csv.cli.output import shown_path

if TYPE_CHECKING:
    from telemetry_csv.logfile.reading import Problem, Run

DESCRIPTION = """\
Print every row of the log as one CSV file with its header: the log and its backups, and the
shards and folds of the team layout, each row once, ordered by the instant of its timestamp
(rows of the same instant in the order they are read: backups, the log, folds, shards by name,
each file's lines in order). For grep, spreadsheets and scripts:

  telemetry-csv cat > all.csv
  telemetry-csv cat | grep ',false,' | wc -l

Rows are read consistently while others log, and sorted in bounded memory (temporary files
hold what does not fit). Rows with one source_id are printed once, as every reader counts them.
The header is the 8-column one unless a row has a source or cache value, then the extended one
(docs/format.md). An invalid row stops it with the same PATH:LINE: field: message as `check`,
before anything is printed, unless --skip-invalid."""


def build_parser() -> ArgumentParser:
    parser = command_parser("cat", DESCRIPTION)
    parser.add_argument(
        "--file", metavar="PATH", help="the log whose files to read (default: configured)"
    )
    parser.add_argument(
        "--skip-invalid", action="store_true", help="leave out invalid rows and count them"
    )
    return parser


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)

    from telemetry_csv.cli.output import say
    from telemetry_csv.config import load_settings
    from telemetry_csv.errors import LogFileError
    from telemetry_csv.logfile.ordering import TimeOrder
    from telemetry_csv.logfile.reading import ExtendedRun
    from telemetry_csv.logfile.schema import EXTENDED_HEADER_LINE, HEADER_LINE, Row
    from telemetry_csv.logfile.snapshot import Snapshot, read_consistently
    from telemetry_csv.logfile.source_ids import SeenIds
    from telemetry_csv.report.sources import ValidRows

    settings = load_settings()
    schema = settings.schema
    log_path = Path(args.file) if args.file else settings.log_path
    extras = [False]  # whether a row has a source or cache value: the output's shape

    def lines(rows: ValidRows) -> Iterator[str]:
        """Every row's line in the extended shape (the output's shape is known at the end)."""
        for item in rows:
            if isinstance(item, Row):
                extras[0] = extras[0] or item.has_extras
                yield schema.format_line(item, extended=True)
            elif type(item) is ExtendedRun:
                extras[0] = extras[0] or item.count(_NO_EXTRAS + "\n") != item.count("\n")
                yield from item[:-1].split("\n")
            else:
                yield from (line + _NO_EXTRAS for line in item[:-1].split("\n"))

    def gather(snapshot: Snapshot) -> tuple[TimeOrder, int]:
        if not snapshot.exists():
            raise LogFileError(
                f"no log at {shown_path(log_path)}; create it with `telemetry-csv init`"
            )
        snapshot.require_regular()  # a link is refused, never left out quietly
        order = TimeOrder()
        skipped = 0
        extras[0] = False
        seen = SeenIds()  # shared by every file: each source_id once, as `report` counts it
        try:
            for _, items in snapshot.files(schema):
                rows = ValidRows(
                    cast("Iterator[Run | Row | Problem]", items),
                    skip_invalid=args.skip_invalid,
                    seen=seen,
                )
                order.add(lines(rows))
                skipped += rows.skipped.rows
        except BaseException:
            order.close()
            raise
        return order, skipped

    order, skipped = read_consistently(gather, log_path, display=shown_path)
    cut = 0 if extras[0] else len(_NO_EXTRAS)  # no row has extra values: the 8-column shape
    with order:
        out = sys.stdout
        out.write((EXTENDED_HEADER_LINE if extras[0] else HEADER_LINE) + "\n")
        for line in order:
            out.write(line[: len(line) - cut])
            out.write("\n")
    if skipped:
        say(f"telemetry-csv cat: note: left out {skipped:,} invalid row(s)")
    return 0


_NO_EXTRAS = ",,,,"  # the end of an extended line whose four extra fields are empty
