"""The report's tables, once, for every format that draws tables (Markdown, HTML).

A `Table` is columns and rows of `Cell`s. A cell has the text people read (`12,345`, `83.3%`,
`1m 05s`) and, where it shows a number or a name of the JSON output, that value and its place in
the JSON document (`by_model[2].duration_ms.p50`): the HTML keeps both, so a test (or a reader's
script) can check that every number on the page is the JSON's. Names (models, task types) are
marked, so that each format quotes them its own way (a code span, a <code> element).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from telemetry_csv.report import numbers
from telemetry_csv.report.data import FEMTO_PER_USD, Group, Report, Stats
from telemetry_csv.report.json_format import stats_document

NO_VALUE: Any = object()  # a cell with nothing of the JSON behind it


class Cell(NamedTuple):
    text: str
    value: Any = NO_VALUE  # the JSON value this cell shows
    path: str = ""  # where that value is in the JSON document
    name: bool = False  # `text` is a model name, task type or provider: quoted as code
    prefix: str = ""  # plain text before a name ("model ")


class Column(NamedTuple):
    header: str
    align: str = "right"  # "left" or "right"
    name: bool = False  # the header is a name (a task type heading a matrix column)


class Table(NamedTuple):
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: str = ""  # for HTML (a table's <caption>); Markdown has its heading
    marks: tuple[str, ...] = ()  # per row: "" or a word for HTML to style it by ("broken")


GROUP_HEADERS = {
    "model": "Model",
    "task_type": "Task type",
    "day": "Day",
    "week": "Week",
    "month": "Month",
    "task_success": "Success",
    "provider": "Provider",
}
NAME_COLUMNS = frozenset({"model", "task_type", "provider"})


def overview(report: Report) -> Table:
    totals = report.totals
    durations = totals.durations
    document = stats_document(totals)

    def metric(label: str, text: str, field: str, path: str | None = None) -> tuple[Cell, Cell]:
        value = _get(document, field) if path is None else _get_report(report, path)
        return Cell(label), Cell(text, value, path or f"totals.{field}")

    rows = [
        metric("Runs", numbers.count(totals.runs), "runs"),
        metric("First run", _local(report, report.first), "", "first"),
        metric("Last run", _local(report, report.last), "", "last"),
        metric("Prompt tokens", numbers.count(totals.prompt_tokens), "prompt_tokens"),
        metric("Completion tokens", numbers.count(totals.completion_tokens), "completion_tokens"),
        metric("Total tokens", numbers.count(totals.total_tokens), "total_tokens"),
        metric(
            "Success rate",
            f"{numbers.percent(totals.successes, totals.runs)} "
            f"({totals.successes:,} of {totals.runs:,})",
            "success_rate",
        ),
        metric("Total duration", numbers.duration(durations.total), "duration_ms.total"),
        metric("Median duration", numbers.duration(durations.p50), "duration_ms.p50"),
    ]
    if report.costs.estimated:
        rows.append(metric("Estimated cost", numbers.cost(totals.cost), "cost.usd"))
    return Table((Column("Metric", "left"), Column("Value")), tuple(rows), "Overview")


def by_model(report: Report) -> Table:
    costs = report.costs.estimated
    headers = ["Model", "Runs", "Prompt", "Completion", "Total tokens", "Share", "Success"]
    headers += ["Mean duration", "p50", "p95"]
    if costs:
        headers.append("Estimated cost")
    all_tokens = report.totals.total_tokens
    rows = []
    for index, group in enumerate(report.by_model):
        stats = group.stats
        row = _cells(
            f"by_model[{index}]",
            stats,
            ("model", group.key, True),
            ("runs", numbers.count(stats.runs)),
            ("prompt_tokens", numbers.count(stats.prompt_tokens)),
            ("completion_tokens", numbers.count(stats.completion_tokens)),
            ("total_tokens", numbers.count(stats.total_tokens)),
            (None, numbers.percent(stats.total_tokens, all_tokens)),
            ("success_rate", numbers.percent(stats.successes, stats.runs)),
            *_duration_cells(stats),
        )
        if costs:
            row += _cells(f"by_model[{index}]", stats, ("cost.usd", numbers.cost(stats.cost)))
        rows.append(row)
    return _table(headers, rows, "By model")


def by_task_type(report: Report) -> Table:
    headers = ["Task type", "Runs", "Successes", "Failures", "Success rate"]
    headers += ["Mean duration", "p50", "p95", "Tokens"]
    rows = [
        _cells(
            f"by_task_type[{index}]",
            group.stats,
            ("task_type", group.key, True),
            ("runs", numbers.count(group.stats.runs)),
            ("successes", numbers.count(group.stats.successes)),
            ("failures", numbers.count(group.stats.failures)),
            ("success_rate", numbers.percent(group.stats.successes, group.stats.runs)),
            *_duration_cells(group.stats),
            ("total_tokens", numbers.count(group.stats.total_tokens)),
        )
        for index, group in enumerate(report.by_task_type)
    ]
    return _table(headers, rows, "By task type")


def matrix(report: Report) -> Table:
    """Success rate by model and task type."""
    kinds = [str(group.key) for group in report.by_task_type]
    cells: dict[object, tuple[int, Stats]] = {
        group.key: (index, group.stats) for index, group in enumerate(report.by_model_task_type)
    }
    rows = []
    for model_index, model_group in enumerate(report.by_model):
        row = [Cell(str(model_group.key), model_group.key, f"by_model[{model_index}].model", True)]
        for kind in kinds:
            found = cells.get((model_group.key, kind))
            if found is None:
                row.append(Cell(numbers.NOTHING))
                continue
            index, stats = found
            rate = numbers.percent(stats.successes, stats.runs)
            row.append(
                Cell(
                    f"{rate} ({stats.successes:,}/{stats.runs:,})",
                    stats_document(stats)["success_rate"],
                    f"by_model_task_type[{index}].success_rate",
                )
            )
        rows.append(tuple(row))
    columns = (Column("Model", "left"), *(Column(kind, "right", True) for kind in kinds))
    return Table(columns, tuple(rows), "Success rate by model and task type")


def periods(report: Report, label: str, shown: int) -> Table:
    """The most recent `shown` days (`label` "Day") or ISO weeks ("Week")."""
    key = "by_day" if label == "Day" else "by_week"
    groups: Sequence[Group[str]] = report.by_day if label == "Day" else report.by_week
    first = max(len(groups) - shown, 0)
    costs = report.costs.estimated
    headers = [label, "Runs", "Tokens", "Success rate", "Median duration"]
    if costs:
        headers.append("Estimated cost")
    rows = []
    for index in range(first, len(groups)):
        stats = groups[index].stats
        cells = [
            (key[3:], groups[index].key, False),
            ("runs", numbers.count(stats.runs)),
            ("total_tokens", numbers.count(stats.total_tokens)),
            ("success_rate", numbers.percent(stats.successes, stats.runs)),
            ("duration_ms.p50", numbers.duration(stats.durations.p50)),
        ]
        if costs:
            cells.append(("cost.usd", numbers.cost(stats.cost)))
        rows.append(_cells(f"{key}[{index}]", stats, *cells))
    return _table(headers, rows, "Daily" if label == "Day" else "Weekly")


def _local(report: Report, stamp: str | None) -> str:
    return numbers.local_time(stamp, report.zone) if stamp else numbers.NOTHING


def _duration_cells(stats: Stats) -> list[tuple[str, str]]:
    durations = stats.durations
    return [
        ("duration_ms.mean", numbers.duration(durations.mean)),
        ("duration_ms.p50", numbers.duration(durations.p50)),
        ("duration_ms.p95", numbers.duration(durations.p95)),
    ]


def _cells(path: str, stats: Stats, *specs: tuple[Any, ...]) -> tuple[Cell, ...]:
    """Cells of one row whose JSON object is at `path`: each spec is (field or None, text) for
    a statistic, or (field, name, True) for the row's key."""
    document = stats_document(stats)
    cells = []
    for spec in specs:
        field, text = spec[0], spec[1]
        if len(spec) == 3:
            cells.append(Cell(str(text), text, f"{path}.{field}", bool(spec[2])))
        elif field is None:
            cells.append(Cell(text))
        else:
            cells.append(Cell(text, _get(document, field), f"{path}.{field}"))
    return tuple(cells)


def _table(headers: list[str], rows: list[tuple[Cell, ...]], caption: str) -> Table:
    columns = (Column(headers[0], "left"), *(Column(header) for header in headers[1:]))
    return Table(columns, tuple(rows), caption)


def _get(document: dict[str, Any], field: str) -> Any:
    value: Any = document
    for part in field.split("."):
        value = value[part] if value is not None else None
    return value


def _get_report(report: Report, path: str) -> Any:
    return getattr(report, path)


def grouped(report: Report) -> Table:
    """`--group-by`: a row per group, then the total of all."""
    assert report.grouped is not None
    columns = report.grouped.columns
    costs = report.costs.estimated
    headers = [GROUP_HEADERS[column] for column in columns]
    headers += ["Runs", "Tokens", "Success rate", "Mean duration", "p50", "p95"]
    if costs:
        headers.append("Estimated cost")

    def statistics(path: str, stats: Stats) -> tuple[Cell, ...]:
        specs = [
            ("runs", numbers.count(stats.runs)),
            ("total_tokens", numbers.count(stats.total_tokens)),
            ("success_rate", numbers.percent(stats.successes, stats.runs)),
            *_duration_cells(stats),
        ]
        if costs:
            specs.append(("cost.usd", numbers.cost(stats.cost)))
        return _cells(path, stats, *specs)

    rows = []
    for index, group in enumerate(report.grouped.groups):
        path = f"groups[{index}]"
        keys = []
        for column, label in zip(columns, group.key, strict=True):
            value: Any = (label == "true") if column == "task_success" else label
            keys.append(Cell(label, value, f"{path}.{column}", column in NAME_COLUMNS))
        rows.append((*keys, *statistics(path, group.stats)))
    blanks = [Cell("") for _ in columns[1:]]
    rows.append((Cell("All"), *blanks, *statistics("totals", report.totals)))
    marks = ("",) * (len(rows) - 1) + ("total",)
    by = " and ".join(GROUP_HEADERS[column].lower() for column in columns)
    return Table(_table(headers, rows, "").columns, tuple(rows), f"By {by}", marks)


def budgets(report: Report) -> Table:
    from telemetry_csv.report.budgets import limit_text, limit_value, metric_name

    rows = []
    marks = []
    for index, result in enumerate(report.budgets or ()):
        path = f"budgets.results[{index}]"
        budget = result.budget
        scope = (
            Cell("all rows")
            if budget.scope is None
            else Cell(
                budget.scope.name,
                budget.scope.name,
                f"{path}.scope.{budget.scope.kind}",
                True,
                budget.scope.kind.replace("_", " ") + " ",
            )
        )
        status = result.status + (f": {result.note}" if result.note else "")
        rows.append(
            (
                Cell(metric_name(budget), budget.metric, f"{path}.metric"),
                scope,
                Cell(limit_text(budget), limit_value(budget), f"{path}.limit"),
                Cell(result.actual, result.value, f"{path}.actual"),
                Cell(numbers.count(result.runs), result.runs, f"{path}.runs"),
                Cell(status, result.status, f"{path}.status"),
                Cell(budget.source, budget.source, f"{path}.source", True),
            )
        )
        marks.append("broken" if result.broken else "")
    columns = (
        Column("Budget", "left"),
        Column("Scope", "left"),
        Column("Limit"),
        Column("Actual"),
        Column("Runs"),
        Column("Status", "left"),
        Column("Set by", "left"),
    )
    return Table(columns, tuple(rows), "Budget", tuple(marks))


def recommendation(report: Report, index: int) -> Table:
    """The ranked models of one task type (`report.recommendations[index]`)."""
    from telemetry_csv.report import recommendations as method

    found = (report.recommendations or ())[index]
    rows = []
    marks = []
    for rank, candidate in enumerate(found.candidates):
        path = f"recommendations[{index}].models[{rank}]"
        low, high = (round(bound, 6) for bound in candidate.interval)
        if candidate.cost_status == method.PRICED:
            assert candidate.cost_per_success_femto is not None
            cost_text = _per_success(candidate.cost_per_success_femto)
            cost_value: Any = numbers.usd(candidate.cost_per_success_femto, 6)
        else:
            cost_text = (
                numbers.NOTHING if candidate.cost_status == method.OFF else candidate.cost_status
            )
            cost_value = None
        median = candidate.median_duration_ms
        rows.append(
            (
                Cell(str(rank + 1)),
                Cell(candidate.model, candidate.model, f"{path}.model", True),
                Cell(numbers.count(candidate.runs), candidate.runs, f"{path}.runs"),
                Cell(
                    numbers.percent(candidate.successes, candidate.runs),
                    round(candidate.success_rate, 6),
                    f"{path}.success_rate",
                ),
                Cell(f"{_percent(low)}\u2013{_percent(high)}", [low, high], f"{path}.interval"),
                Cell(cost_text, cost_value, f"{path}.cost_per_success_usd"),
                Cell(
                    numbers.duration(median),
                    None if median is None else round(median, 3),
                    f"{path}.median_duration_ms",
                ),
                Cell(
                    "yes" if candidate.compared else f"no: under {found.min_runs:,} runs",
                    candidate.compared,
                    f"{path}.compared",
                ),
            )
        )
        marks.append("pick" if candidate.model == found.pick else "")
    columns = (
        Column("Rank"),
        Column("Model", "left"),
        *(Column(header) for header in ("Runs", "Success rate", "95% interval")),
        *(Column(header) for header in ("Cost per success", "Median duration")),
        Column("Compared", "left"),
    )
    return Table(columns, tuple(rows), found.task_type, tuple(marks))


def _per_success(femto: int) -> str:
    """Dollars per successful task: cents from a dollar up, else four decimals (`$0.0123`),
    since a task often costs less than a cent."""
    ten_thousandths = numbers.round_half_up(femto * 10_000, FEMTO_PER_USD)
    if ten_thousandths >= 10_000:
        return numbers.money(femto)
    if ten_thousandths == 0:
        return "<$0.0001" if femto else "$0.0000"
    return f"$0.{ten_thousandths:04d}"


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.1f}%"
