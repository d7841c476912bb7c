"""The report as JSON: a stable contract for scripts (documented in docs/report.md).

Top level: `format_version`, `source`, `time_zone`, `filters`, `rows_read`, `skipped`, `rows`,
`first`, `last`, `totals`, `by_model`, `by_task_type`, `by_model_task_type`, `by_day`,
`by_week`, `costs`. Each group carries its key (`model`, `task_type`, both, `day` as
`YYYY-MM-DD`, or `week` as `YYYY-Www`) and the same statistics as `totals`. Lists are in the
Markdown's sort orders; every day and week is listed. Keys are never dropped: a value that does
not exist is `null`.

What was asked for adds keys (docs/report.md has them all): `--group-by` replaces the five
`by_*` lists with `group_by` (the columns) and `groups` (each group's column values and
statistics); budgets add `budgets`; `--recommend` (and the HTML) `recommendations`.
"""

from __future__ import annotations

import json
from typing import Any

from telemetry_csv.report.data import Cost, Group, Report, Stats
from telemetry_csv.report.numbers import usd

FORMAT_VERSION = 1


def render_json(report: Report) -> str:
    return json.dumps(report_document(report), indent=2, ensure_ascii=False) + "\n"


def report_document(report: Report) -> dict[str, Any]:
    filters = report.filters
    document = {
        "format_version": FORMAT_VERSION,
        "source": report.source,
        "time_zone": report.zone.name,
        "filters": {
            "since": filters.since.text if filters.since else None,
            "until": filters.until.text if filters.until else None,
            "models": list(filters.models),
            "task_types": list(filters.task_types),
        },
        "rows_read": report.rows_read,
        "skipped": {"rows": report.skipped.rows, "file_problems": report.skipped.file_problems},
        "rows": report.rows,
        "first": report.first,
        "last": report.last,
        "totals": stats_document(report.totals),
        "by_model": [
            {"model": group.key, **stats_document(group.stats)} for group in report.by_model
        ],
        "by_task_type": [
            {"task_type": group.key, **stats_document(group.stats)} for group in report.by_task_type
        ],
        "by_model_task_type": [_pair(group) for group in report.by_model_task_type],
        "by_day": [{"day": group.key, **stats_document(group.stats)} for group in report.by_day],
        "by_week": [{"week": group.key, **stats_document(group.stats)} for group in report.by_week],
        "costs": _costs(report),
    }
    if report.grouped is not None:
        for key in ("by_model", "by_task_type", "by_model_task_type", "by_day", "by_week"):
            del document[key]
        document.update(_grouped(report))
    if report.budgets is not None:
        document["budgets"] = _budgets(report)
    if report.recommendations is not None:
        document["recommendations"] = _recommendations(report)
    return document


def _pair(group: Group[tuple[str, str]]) -> dict[str, Any]:
    model, kind = group.key
    return {"model": model, "task_type": kind, **stats_document(group.stats)}


def stats_document(stats: Stats) -> dict[str, Any]:
    durations = stats.durations
    return {
        "runs": stats.runs,
        "successes": stats.successes,
        "failures": stats.failures,
        "success_rate": _number(stats.success_rate, 6),
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "total_tokens": stats.total_tokens,
        "cache_read_tokens": stats.cache_read_tokens,
        "cache_write_tokens": stats.cache_write_tokens,
        "duration_ms": {
            "total": durations.total,
            "mean": _number(durations.mean, 3),
            "p50": _number(durations.p50, 3),
            "p95": _number(durations.p95, 3),
            "max": durations.max,
        },
        "cost": _cost(stats.cost),
    }


def _cost(cost: Cost | None) -> dict[str, Any] | None:
    if cost is None:
        return None
    return {
        "usd": usd(cost.femto_usd, 6) if cost.priced_runs else None,
        "priced_runs": cost.priced_runs,
        "unpriced_runs": cost.unpriced_runs,
    }


def _costs(report: Report) -> dict[str, Any]:
    costs = report.costs
    return {
        "status": costs.status,
        "price_data": costs.price_data,
        "currency": "USD" if costs.estimated else None,
        "models": [{"model": model, "priced_as": label} for model, label in costs.priced_as],
    }


def _number(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def _grouped(report: Report) -> dict[str, Any]:
    """`--group-by`: its columns, and each group's labels with its statistics."""
    assert report.grouped is not None
    columns = report.grouped.columns
    return {
        "group_by": list(columns),
        "groups": [
            {**_labels(columns, group.key), **stats_document(group.stats)}
            for group in report.grouped.groups
        ],
    }


def _labels(columns: tuple[str, ...], key: str | tuple[str, ...]) -> dict[str, Any]:
    return {
        column: (label == "true") if column == "task_success" else label
        for column, label in zip(columns, key, strict=True)
    }


def _budgets(report: Report) -> dict[str, Any]:
    from telemetry_csv.report.budgets import limit_value

    results = report.budgets or ()
    return {
        "broken": sum(result.broken for result in results),
        "results": [
            {
                "metric": result.budget.metric,
                "scope": (
                    {result.budget.scope.kind: result.budget.scope.name}
                    if result.budget.scope
                    else None
                ),
                "limit": limit_value(result.budget),
                "actual": result.value,
                "runs": result.runs,
                "status": result.status,
                "note": result.note or None,
                "source": result.budget.source,
            }
            for result in results
        ],
    }


def _recommendations(report: Report) -> list[dict[str, Any]]:
    return [
        {
            "task_type": found.task_type,
            "pick": found.pick,
            "reason": found.reason,
            "min_runs": found.min_runs,
            "models": [
                {
                    "model": candidate.model,
                    "runs": candidate.runs,
                    "successes": candidate.successes,
                    "success_rate": _number(candidate.success_rate, 6),
                    "interval": [round(bound, 6) for bound in candidate.interval],
                    "cost_per_success_usd": (
                        None
                        if candidate.cost_per_success_femto is None
                        else usd(candidate.cost_per_success_femto, 6)
                    ),
                    "cost_status": candidate.cost_status,
                    "median_duration_ms": _number(candidate.median_duration_ms, 3),
                    "compared": candidate.compared,
                }
                for candidate in found.candidates
            ],
        }
        for found in report.recommendations or ()
    ]
