"""`telemetry-csv report [FILES...]`: Markdown, JSON or CSV summaries of the log."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from telemetry_csv.cli.arguments import ArgumentParser, command_parser
from telemetry_csv.cli.output import shown_path
from telemetry_csv.cli.selection import refuse_files_with_log_option
from telemetry_csv.errors import TelemetryError

DESCRIPTION = """\
Summarise every file of the log (its backups, shards and folds; or FILES) for a pull request:
overview, by model, by task type, model x task type success rates, daily and weekly tables.
Rows are streamed, so memory does not grow with the log, and each shard's rows count once.
An invalid row stops the report with the same PATH:LINE: field: message as `check`, unless
--skip-invalid.

With --range BASE..HEAD, only the rows those commits added to the log and its backups, read
from git's objects (not the working tree): what one pull request cost. Rotations inside the
range neither add nor lose rows.

Dates in --since/--until are whole days in the --tz time zone; date-times are exact instants.
The default output has no clock in it: the same rows always give the same bytes.

examples:
  telemetry-csv report --since 2026-11-01 --tz Europe/Berlin
  telemetry-csv report --format json -o usage.json
  telemetry-csv report --charts --github-summary
  telemetry-csv report --range origin/main..HEAD --github-summary"""

FORMATS = ("markdown", "json", "csv")


def build_parser() -> ArgumentParser:
    from telemetry_csv.report.markdown import DEFAULT_DAYS, DEFAULT_WEEKS

    parser = command_parser("report", DESCRIPTION)
    parser.add_argument("files", nargs="*", metavar="FILE", help="log files to read, in order")
    parser.add_argument(
        "--file", metavar="PATH", help="the log whose backups to read too (default: configured)"
    )
    rows = parser.add_argument_group("which rows")
    rows.add_argument(
        "--range",
        metavar="BASE..HEAD",
        help="only the rows these commits added, read from git (e.g. origin/main..HEAD)",
    )
    rows.add_argument("--since", metavar="DATE|TIME", help="from this day (inclusive) or instant")
    rows.add_argument("--until", metavar="DATE|TIME", help="to this day (inclusive) or instant")
    rows.add_argument(
        "--model", action="append", default=[], metavar="NAME", help="only this model (repeatable)"
    )
    rows.add_argument(
        "--task-type",
        action="append",
        default=[],
        metavar="TYPE",
        help="only this type (repeatable)",
    )
    rows.add_argument(
        "--skip-invalid", action="store_true", help="leave out invalid rows and count them"
    )
    output = parser.add_argument_group("output")
    output.add_argument(
        "--tz",
        default="UTC",
        metavar="ZONE",
        help="for days and weeks: UTC (default), local, or an IANA name",
    )
    output.add_argument("--format", choices=FORMATS, default="markdown", help="default: markdown")
    output.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    output.add_argument(
        "--github-summary",
        action="store_true",
        help="also append the Markdown to $GITHUB_STEP_SUMMARY (in GitHub Actions)",
    )
    output.add_argument(
        "--days",
        type=_count,
        default=DEFAULT_DAYS,
        metavar="N",
        help=f"daily rows (default: {DEFAULT_DAYS}; 0 hides)",
    )
    output.add_argument(
        "--weeks",
        type=_count,
        default=DEFAULT_WEEKS,
        metavar="N",
        help=f"weekly rows (default: {DEFAULT_WEEKS}; 0 hides)",
    )
    output.add_argument("--charts", action="store_true", help="add Mermaid charts to the Markdown")
    output.add_argument(
        "--no-costs",
        action="store_true",
        help="leave out cost estimates even if genai-prices is installed",
    )
    return parser


def _count(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not allowed; expected a whole number, 0 or more"
        )
    return int(text)


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)

    from telemetry_csv.cli.report_output import append_markdown, refuse_log_files, write_file
    from telemetry_csv.config import load_settings
    from telemetry_csv.logfile.layout import log_files
    from telemetry_csv.logfile.snapshot import Snapshot, read_consistently
    from telemetry_csv.report.aggregate import ReportOptions, build_report
    from telemetry_csv.report.data import Report
    from telemetry_csv.report.filters import build_filters
    from telemetry_csv.report.markdown import MarkdownOptions, render_markdown
    from telemetry_csv.report.sources import ValidRows, open_source
    from telemetry_csv.report.zones import resolve_zone

    settings = load_settings()
    filters = build_filters(
        since=args.since, until=args.until, models=args.model, task_types=args.task_type
    )
    filters.check(settings.schema)
    zone = resolve_zone(args.tz)
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY", "") if args.github_summary else ""
    if args.github_summary and not summary_path:
        print(
            "telemetry-csv report: note: GITHUB_STEP_SUMMARY is not set (it is, inside a GitHub "
            "Actions job); --github-summary does nothing here",
            file=sys.stderr,
        )

    if args.range is not None and (args.files or args.file):
        raise TelemetryError("--range reads the log from git; give it without FILES or --file")
    refuse_files_with_log_option(args.files, args.file)
    log_path = Path(args.file) if args.file else settings.log_path
    output = args.output if args.output != "-" else None

    def make(snapshot: Snapshot | None) -> Report:
        source = open_source(
            settings.schema,
            files=args.files,
            log_path=log_path,
            display=shown_path,
            commit_range=args.range,
            settings=settings,
            snapshot=snapshot,
        )
        # Refused before anything is read: a report written over a log would replace its rows.
        logs = [*source.paths, *log_files(settings.log_path)]
        if output:
            refuse_log_files("--output", output, logs)
        if summary_path:
            refuse_log_files("GITHUB_STEP_SUMMARY", summary_path, logs)
        rows = ValidRows(source.items, skip_invalid=args.skip_invalid)
        options = ReportOptions(filters=filters, zone=zone, costs=not args.no_costs)
        report = build_report(rows, options)
        return report._replace(source=source.description, skipped=rows.skipped)

    if args.range is None and not args.files:
        report = read_consistently(make, log_path, display=shown_path)
    else:
        report = make(None)

    markdown_options = MarkdownOptions(days=args.days, weeks=args.weeks, charts=args.charts)
    if args.format == "json":
        from telemetry_csv.report.json_format import render_json

        text = render_json(report)
    elif args.format == "csv":
        from telemetry_csv.report.csv_format import render_csv

        text = render_csv(report)
    else:
        text = render_markdown(report, markdown_options)

    printed = True
    if output:
        write_file(output, text)
    else:
        printed = _print(text)
    if summary_path:
        markdown = text if args.format == "markdown" else render_markdown(report, markdown_options)
        append_markdown(summary_path, markdown, "GITHUB_STEP_SUMMARY")
    if not printed:
        from telemetry_csv.errors import EXIT_CLOSED_PIPE

        return EXIT_CLOSED_PIPE
    return 0


def _print(text: str) -> bool:
    """Write the report on standard output; False if the reader went away (`report | head`).
    The job summary is still owed then, so the closed pipe is not raised to main at once."""
    from telemetry_csv.cli.output import silence

    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        silence(sys.stdout)
        return False
    return True
