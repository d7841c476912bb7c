"""`telemetry-csv export otlp [FILES...]`: send the log's rows to an OpenTelemetry pipeline."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from telemetry_csv.cli.arguments import ArgumentParser, add_row_selection, command_parser

DESCRIPTION = """\
Send each row of the log and all its backups (or FILES, or the rows --range added) to an
OpenTelemetry collector or backend over OTLP/HTTP (protobuf), as one span per row following the
GenAI semantic conventions (v1.41.0); with --metrics also the gen_ai.client.* metrics of rows
sent for the first time. Needs the `otlp` extra.

Span and trace ids are derived from each row, so a row sent twice carries the same ids. Only
rows not yet acknowledged by this endpoint are sent (the state is kept, uncommitted, in the git
directory); --all sends every selected row again. In CI, where the state starts empty, export
what a push added: --range BEFORE..AFTER (docs/examples/export-otlp.yml).

The endpoint and its headers, timeout and compression come from --endpoint/--header or the
standard OTEL_EXPORTER_OTLP_* variables (docs/export-otlp.md). Header values are never printed.
Notes are sent only with --include-notes.

examples:
  telemetry-csv export otlp --endpoint http://localhost:4318
  OTEL_EXPORTER_OTLP_HEADERS='authorization=Bearer%20...' telemetry-csv export otlp --metrics
  telemetry-csv export otlp --range "$BEFORE..$AFTER" --endpoint https://otlp.example.com
  telemetry-csv export otlp --dry-run --since 2026-11-01"""

TARGETS = ("otlp",)


def build_parser() -> ArgumentParser:
    parser = command_parser(
        "export", DESCRIPTION, usage="telemetry-csv export otlp [FILE ...] [options]"
    )
    parser.add_argument("target", choices=TARGETS, help="where to export: otlp")
    rows = add_row_selection(parser, "which rows (as in `report`)")
    rows.add_argument(
        "--tz", default="UTC", metavar="ZONE", help="zone of --since/--until dates (default: UTC)"
    )
    rows.add_argument(
        "--all", action="store_true", help="send rows already exported again (same ids)"
    )
    send = parser.add_argument_group("where and what to send")
    send.add_argument(
        "--endpoint",
        metavar="URL",
        help="base URL of the OTLP/HTTP receiver; /v1/traces and /v1/metrics are appended "
        "(default: OTEL_EXPORTER_OTLP_*_ENDPOINT, else http://localhost:4318)",
    )
    send.add_argument(
        "--header", action="append", default=[], metavar="K=V", help="an HTTP header (repeatable)"
    )
    send.add_argument(
        "--metrics", action="store_true", help="also send gen_ai.client.* metrics of new rows"
    )
    send.add_argument("--include-notes", action="store_true", help="send the notes column too")
    send.add_argument(
        "--batch-size",
        type=_batch_size,
        default=None,
        metavar="N",
        help="spans per request (default: 512)",
    )
    send.add_argument(
        "--dry-run", action="store_true", help="read and count, send nothing, change nothing"
    )
    return parser


def _batch_size(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 100_000:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not allowed; expected a whole number from 1 to 100000"
        )
    return int(text)


def run(argv: Sequence[str]) -> int:
    # Intermixed: FILES may come after options (`export otlp --endpoint URL a.csv`).
    args = build_parser().parse_intermixed_args(argv)

    from telemetry_csv.export.extra import require_otlp

    require_otlp()

    from telemetry_csv.cli.output import say, show, shown_path
    from telemetry_csv.cli.selection import refuse_files_with_log_option, require_existing
    from telemetry_csv.config import load_settings
    from telemetry_csv.errors import TelemetryError
    from telemetry_csv.export import endpoint, pipeline, repository, spans, state
    from telemetry_csv.export.otlp_http import Sender
    from telemetry_csv.export.selection import RowFilter, select
    from telemetry_csv.report.filters import build_filters
    from telemetry_csv.report.zones import resolve_zone

    name = "telemetry-csv export"

    def note(message: str) -> None:
        say(f"{name}: note: {message}")

    settings = load_settings()
    filters = build_filters(
        since=args.since, until=args.until, models=args.model, task_types=args.task_type
    )
    filters.check(settings.schema)
    zone = resolve_zone(args.tz)
    if args.range is not None and (args.files or args.file):
        raise TelemetryError("--range reads the log from git; give it without FILES or --file")
    refuse_files_with_log_option(args.files, args.file)
    require_existing(args.files)
    environ = os.environ
    traces = endpoint.resolve(
        "traces", endpoint=args.endpoint, headers=args.header, environ=environ, warn=note
    )
    metrics = (
        endpoint.resolve(
            "metrics", endpoint=args.endpoint, headers=args.header, environ=environ, warn=note
        )
        if args.metrics
        else None
    )
    selection = select(
        settings,
        files=args.files,
        log_path=Path(args.file) if args.file else settings.log_path,
        display=shown_path,
        commit_range=args.range,
    )
    export_state = None
    if args.range is None:
        path = state.state_path(settings.root)
        if path is None and not args.all and not args.dry_run:
            raise TelemetryError(
                "not in a git repository, so there is nowhere to remember what was exported; "
                "give --all to send every row (the ids let the receiver drop repeats)"
            )
        if path is not None:
            label = {"endpoint": traces.shown, "selection": _selection_label(args, zone.name)}
            export_state = state.ExportState(
                path, state.entry_key(traces.shown, label["selection"]), label
            )
    resource = spans.resource(
        spans.resource_attributes(repository.describe(settings.root, selection.head), environ, note)
    )
    options = pipeline.Options(
        include_notes=args.include_notes,
        metrics=args.metrics,
        resend_all=args.all,
        dry_run=args.dry_run,
        skip_invalid=args.skip_invalid,
        batch_size=args.batch_size or pipeline.DEFAULT_BATCH_SIZE,
    )
    senders = []
    if not args.dry_run:
        senders.append(Sender(traces, notice=note))
        if metrics is not None:
            senders.append(Sender(metrics, notice=note))
    exporter = pipeline.Exporter(
        settings.schema,
        selection,
        RowFilter(filters, zone),
        options,
        resource=resource,
        traces=senders[0] if senders else None,
        metrics=senders[1] if len(senders) > 1 else None,
        state=export_state,
        notice=note,
    )
    try:
        if export_state is not None:
            export_state.lock(settings.lock_timeout)
            export_state.load()
        summary = exporter.run()
    finally:
        for sender in senders:
            sender.close()
        if export_state is not None:
            export_state.unlock()
    show(_summary_line(summary, selection.description, traces, args.dry_run))
    if summary.out_of_range:
        note(
            f"{summary.out_of_range:,} rows ended before 1970 or start before it: OTLP cannot date them, not sent"
        )
    if summary.skipped:
        note(
            f"left out {summary.skipped.rows:,} invalid rows and {summary.skipped.file_problems:,} file problems (--skip-invalid)"
        )
    return 0


def _selection_label(args: argparse.Namespace, zone: str) -> str:
    parts = [
        f"since={args.since or ''}",
        f"until={args.until or ''}",
        "models=" + ",".join(sorted(set(args.model))),
        "task_types=" + ",".join(sorted({kind.strip().lower() for kind in args.task_type})),
    ]
    if args.since or args.until:
        parts.append(f"tz={zone}")
    return " ".join(parts)


def _summary_line(summary: object, description: str, traces: object, dry_run: bool) -> str:
    from telemetry_csv.export.endpoint import Destination
    from telemetry_csv.export.pipeline import Summary

    assert isinstance(summary, Summary) and isinstance(traces, Destination)
    rows = f"{summary.sent:,} row{'s' if summary.sent != 1 else ''}"
    where = traces.shown
    if dry_run:
        line = f"would export {rows} of {description} to {where} (dry run: nothing sent)"
        if traces.headers:
            line += f"; headers: {', '.join(traces.header_names)}"
    else:
        requests = f"{summary.requests:,} request{'s' if summary.requests != 1 else ''}"
        line = f"exported {rows} of {description} to {where} in {requests}"
    extras = []
    if summary.already:
        extras.append(f"{summary.already:,} exported before")
    if summary.filtered:
        extras.append(f"{summary.filtered:,} not selected")
    if summary.repeats:
        extras.append(f"{summary.repeats:,} repeating a source_id, counted once")
    if summary.metric_points:
        extras.append(f"{summary.metric_points:,} metric points")
    return line + (f" ({'; '.join(extras)})" if extras else "")
