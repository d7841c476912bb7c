"""The report as CSV: one row per group, for spreadsheets and `pandas.read_csv`.

Columns: `group` (`total`, `model`, `task_type`, `model_task_type`, `day`, `week`), the key
columns `model`, `task_type`, `period` (empty where they do not apply), then the statistics; the
cache parts of the prompt tokens (summed over the rows that know them) come last, so that
readers of the earlier columns by position are not disturbed.
Rows follow the JSON's order: the total first, then each grouping in its sort order.

With `--group-by`, the columns are instead the grouping's (`model`, `week`, ...), then the same
statistics: one row per group, in the JSON's order, no total.

A text cell a spreadsheet would run as a formula (a model named `@cf/…` or `=cmd`) is written
behind one apostrophe, exactly as the log stores it (`schema.neutralise`): opening the export
must not run what a model name says, any more than opening the log does.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from telemetry_csv.logfile.schema import neutralise
from telemetry_csv.report.data import Report, Stats
from telemetry_csv.report.json_format import stats_document

COLUMNS = (
    "group",
    "model",
    "task_type",
    "period",
    "runs",
    "successes",
    "failures",
    "success_rate",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "duration_ms_total",
    "duration_ms_mean",
    "duration_ms_p50",
    "duration_ms_p95",
    "duration_ms_max",
    "cost_usd",
    "unpriced_runs",
    "cache_read_tokens",
    "cache_write_tokens",
)


def render_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if report.grouped is not None:
        _grouped(writer, report)
        return out.getvalue()
    writer.writerow(COLUMNS)
    writer.writerow(_row("total", "", "", "", report.totals))
    for group in report.by_model:
        writer.writerow(_row("model", str(group.key), "", "", group.stats))
    for group in report.by_task_type:
        writer.writerow(_row("task_type", "", str(group.key), "", group.stats))
    for pair in report.by_model_task_type:
        model, kind = pair.key
        writer.writerow(_row("model_task_type", model, kind, "", pair.stats))
    for group in report.by_day:
        writer.writerow(_row("day", "", "", str(group.key), group.stats))
    for group in report.by_week:
        writer.writerow(_row("week", "", "", str(group.key), group.stats))
    return out.getvalue()


def _row(group: str, model: str, kind: str, period: str, stats: Stats) -> list[object]:
    document = stats_document(stats)
    durations = document["duration_ms"]
    cost = document["cost"]
    return [
        group,
        neutralise(model),
        neutralise(kind),
        neutralise(period),
        document["runs"],
        document["successes"],
        document["failures"],
        _blank(document["success_rate"]),
        document["prompt_tokens"],
        document["completion_tokens"],
        document["total_tokens"],
        durations["total"],
        _blank(durations["mean"]),
        _blank(durations["p50"]),
        _blank(durations["p95"]),
        _blank(durations["max"]),
        _blank(cost["usd"]) if cost else "",
        cost["unpriced_runs"] if cost else "",
        document["cache_read_tokens"],
        document["cache_write_tokens"],
    ]


def _blank(value: object) -> object:
    return "" if value is None else value


def _grouped(writer: Any, report: Report) -> None:
    assert report.grouped is not None
    columns = report.grouped.columns
    writer.writerow((*columns, *COLUMNS[4:]))
    for group in report.grouped.groups:
        keys = [neutralise(label) for label in group.key]
        writer.writerow((*keys, *_row("", "", "", "", group.stats)[4:]))
