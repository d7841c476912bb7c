"""`telemetry-csv report [FILES...]`: Markdown, JSON, CSV or HTML summaries of the log."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from telemetry_csv.cli.arguments import ArgumentParser, add_row_selection, command_parser
from telemetry_csv.cli.output import shown_path
from telemetry_csv.cli.selection import refuse_files_with_log_option, require_existing
from telemetry_csv.errors import TelemetryError

if TYPE_CHECKING:
    from telemetry_csv.config import Settings
    from telemetry_csv.limits import Budget

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

--format html writes one self-contained page (charts, then the tables; no script, nothing
fetched when opened). --group-by COLUMNS gives one table of those columns' groups instead of
the usual tables. --recommend adds "which model for which task" (the HTML always has it).

Budgets: --max-tokens, --max-cost (US dollars), --min-success-rate (80% or 0.8) and --max-p95
(a duration: 90s, 2m) take LIMIT, or model=NAME:LIMIT or task_type=TYPE:LIMIT; each is
repeatable. --budgets adds the `budgets` table of the configuration. A broken budget adds a
Budget section, one line on stderr, and exit status 6; the report is written all the same.
docs/report.md has the details.

examples:
  telemetry-csv report --since 2026-11-01 --tz Europe/Berlin
  telemetry-csv report --format html -o usage.html
  telemetry-csv report --group-by provider,month --format csv
  telemetry-csv report --range origin/main..HEAD --max-cost 5 --min-success-rate 80%
  telemetry-csv report --charts --github-summary"""

FORMATS = ("markdown", "json", "csv", "html", "legacy-json")
BUDGET_OPTIONS = ("max_tokens", "max_cost", "min_success_rate", "max_p95")


def build_parser() -> ArgumentParser:
    from telemetry_csv.report.markdown import DEFAULT_DAYS, DEFAULT_WEEKS

    parser = command_parser("report", DESCRIPTION)
    add_row_selection(parser, "which rows")
    output = parser.add_argument_group("output")
    output.add_argument(
        "--tz",
        default="UTC",
        metavar="ZONE",
        help="for days and weeks: UTC (default), local, or an IANA name",
    )
    output.add_argument(
        "--format",
        choices=FORMATS,
        default="markdown",
        help="default: markdown; legacy-json is the old telemetry-report.sh's JSON",
    )
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
        "--group-by",
        action="append",
        default=[],
        metavar="COLUMNS",
        help="one table by these columns, comma-separated: model, task_type, day, week, month, "
        "task_success, provider",
    )
    output.add_argument(
        "--recommend",
        action="store_true",
        help="add which model for which task (always in the HTML)",
    )
    output.add_argument(
        "--no-costs",
        action="store_true",
        help="leave out cost estimates even if genai-prices is installed",
    )
    budgets = parser.add_argument_group(
        "budgets (LIMIT, or model=NAME:LIMIT, or task_type=TYPE:LIMIT; repeatable)"
    )
    for name, metavar, what in (
        ("max_tokens", "[SCOPE:]TOKENS", "at most this many tokens (2000000, 2M, 500k)"),
        ("max_cost", "[SCOPE:]USD", "at most this estimated cost in US dollars"),
        ("min_success_rate", "[SCOPE:]RATE", "at least this success rate (80%% or 0.8)"),
        ("max_p95", "[SCOPE:]DURATION", "duration p95 at most this (90s, 2m, 1h30m)"),
    ):
        budgets.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            action="append",
            default=[],
            metavar=metavar,
            help=what,
        )
    budgets.add_argument(
        "--budgets", action="store_true", help="also check the configuration's budgets table"
    )
    budgets.add_argument(
        "--allow-unpriced",
        action="store_true",
        help="a cost budget checks the priced runs alone (else unpriced runs break it)",
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

    from telemetry_csv.cli.report_output import (
        append_markdown,
        refuse_log_files,
        refuse_log_folder_files,
        write_file,
    )
    from telemetry_csv.config import load_settings
    from telemetry_csv.errors import LogFileError
    from telemetry_csv.logfile.layout import log_files
    from telemetry_csv.logfile.snapshot import LogChanged, Snapshot, read_consistently
    from telemetry_csv.report.aggregate import ReportOptions, build_report
    from telemetry_csv.report.costs import import_prices_lean
    from telemetry_csv.report.data import Report
    from telemetry_csv.report.filters import build_filters
    from telemetry_csv.report.markdown import MarkdownOptions, render_markdown
    from telemetry_csv.report.sources import ValidRows, open_source
    from telemetry_csv.report.zones import resolve_zone

    import_prices_lean()  # this process is the command's own
    settings = load_settings()
    filters = build_filters(
        since=args.since, until=args.until, models=args.model, task_types=args.task_type
    )
    filters.check(settings.schema)
    zone = resolve_zone(args.tz)
    budgets = _budgets(args, settings)
    group_by: tuple[str, ...] = ()
    if args.group_by:
        from telemetry_csv.report.grouping import parse_group_by

        group_by = parse_group_by(args.group_by)
    if args.recommend and args.format == "csv":
        raise TelemetryError(
            "--recommend: the CSV output has no place for it; use --format markdown, json or html"
        )
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY", "") if args.github_summary else ""
    if args.github_summary and not summary_path:
        from telemetry_csv.cli.output import say

        say(
            "telemetry-csv report: note: GITHUB_STEP_SUMMARY is not set (it is, inside a GitHub "
            "Actions job); --github-summary does nothing here"
        )

    if args.range is not None and (args.files or args.file):
        raise TelemetryError("--range reads the log from git; give it without FILES or --file")
    refuse_files_with_log_option(args.files, args.file)
    require_existing(args.files)
    log_path = Path(args.file) if args.file else settings.log_path
    output = args.output if args.output != "-" else None
    html = args.format == "html"
    options = ReportOptions(
        filters=filters,
        zone=zone,
        costs=not args.no_costs,
        group_by=group_by,
        chart_series=_chart_series() if html else 0,
    )

    def make(snapshot: Snapshot | None, options: ReportOptions = options) -> Report:
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
        for option, target in (("--output", output), ("GITHUB_STEP_SUMMARY", summary_path)):
            if target:
                refuse_log_files(option, target, logs)
                refuse_log_folder_files(option, target, settings.log_path, settings.root)
        _require_regular(source.paths)
        # The report counts each source_id once itself (`build_report`), so the rows come as
        # stored; a log too large to hold every duration is read again for its percentiles.
        rows = ValidRows(source.items, skip_invalid=args.skip_invalid, dedupe=False)
        reread = source.again
        again = None
        if reread is not None:
            again = lambda: ValidRows(reread(), skip_invalid=args.skip_invalid, dedupe=False)  # noqa: E731
        report = build_report(rows, options, again=again)
        return report._replace(source=source.description, skipped=rows.skipped)

    if args.range is None and not args.files:
        report = read_consistently(make, log_path, display=shown_path)
    else:
        try:
            report = make(None)
        except LogChanged:
            raise LogFileError(
                "the files changed while the report read them again; run it again"
            ) from None
    if filters.models and report.rows_read and not report.rows:
        from functools import partial

        everything = ReportOptions(zone=zone, costs=False)
        if args.range is None and not args.files:
            whole = read_consistently(
                partial(make, options=everything), log_path, display=shown_path
            )
        else:
            whole = make(None, everything)
        _say_which_models(filters.models, [group.key for group in whole.by_model])
    if budgets:
        from telemetry_csv.report.budgets import check_budgets

        report = report._replace(
            budgets=check_budgets(report, budgets, allow_unpriced=args.allow_unpriced)
        )
    if args.recommend or html:
        from telemetry_csv.report.recommendations import recommendations_for

        report = report._replace(recommendations=recommendations_for(report))

    markdown_options = MarkdownOptions(days=args.days, weeks=args.weeks, charts=args.charts)
    if html:
        from telemetry_csv.report.html_format import HtmlOptions, render_html

        text = render_html(report, HtmlOptions(days=args.days, weeks=args.weeks))
    elif args.format == "json":
        from telemetry_csv.report.json_format import render_json

        text = render_json(report)
    elif args.format == "csv":
        from telemetry_csv.report.csv_format import render_csv

        text = render_csv(report)
    elif args.format == "legacy-json":
        from telemetry_csv.report.legacy_json import render_legacy_json

        text = render_legacy_json(report, settings.schema.task_types)
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
    broken = [result for result in report.budgets or () if result.broken]
    if broken:
        from telemetry_csv.cli.output import say
        from telemetry_csv.errors import EXIT_BUDGET
        from telemetry_csv.report.budgets import broken_line

        for result in broken:
            say(f"telemetry-csv report: {broken_line(result)}")
        return EXIT_BUDGET
    return 0


def _require_regular(paths: Sequence[Path]) -> None:
    """Refuse, before anything is read, a file to read that is a link, a FIFO or a device: a
    clone may hold a link at a backup's name, and its target is never read (even with
    --skip-invalid, which skips invalid rows, not files that are no logs)."""
    from telemetry_csv import fs
    from telemetry_csv.errors import LogFileError

    for path in paths:
        try:
            fs.lstat_regular(path)
        except (fs.LinkError, fs.NotRegularError) as error:
            raise LogFileError(
                f"{error}; a log, backup, shard or fold must be a regular file, and this one "
                "was not read"
            ) from None


def _budgets(args: argparse.Namespace, settings: Settings) -> tuple[Budget, ...]:
    """The budgets to check: the configured ones with --budgets, and the flags (which replace
    a configured budget of the same metric and scope). Cost budgets need the price data: that
    is refused here, before anything is read."""
    flags = [(metric, text) for metric in BUDGET_OPTIONS for text in getattr(args, metric)]
    if not flags and not args.budgets:
        return ()
    from telemetry_csv.limits import budget_from_option, combine_budgets
    from telemetry_csv.report.budgets import check_prices_available, check_scopes

    given = [budget_from_option(metric, text) for metric, text in flags]

    if args.budgets and not settings.budgets:
        raise TelemetryError(
            "--budgets: the configuration has no budgets table; add [tool.telemetry-csv.budgets] "
            "to pyproject.toml or [budgets] to .telemetry/config.toml (see docs/report.md)"
        )
    check_scopes(given, settings.schema)
    budgets = combine_budgets(settings.budgets if args.budgets else (), given)
    check_prices_available(budgets, costs=not args.no_costs)
    return budgets


def _say_which_models(asked: Sequence[str], present: Sequence[str]) -> None:
    """No row matched: for each --model that names no model of the log, the nearest name and
    the names there are (--model takes names exactly as logged)."""
    from telemetry_csv.cli.arguments import closest
    from telemetry_csv.cli.output import say

    for name in asked:
        if name in present:
            continue
        # `gpt4o` is nearer `gpt-4o` than `openai/gpt-4o`: compare the name after a provider too.
        tails = {model.rsplit("/", 1)[-1]: model for model in present}
        near = closest(name, list(present)) or [tails[m] for m in closest(name, list(tails))]
        hint = f"did you mean {near[0]}? " if near else ""
        listed = ", ".join(present[:20]) + (
            f" and {len(present) - 20:,} more" if len(present) > 20 else ""
        )
        say(
            f"telemetry-csv report: note: no row has the model {name!r}; {hint}"
            f"models logged: {listed} (--model takes a name exactly as logged)"
        )


def _chart_series() -> int:
    from telemetry_csv.report.html_format import SERIES

    return SERIES


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
