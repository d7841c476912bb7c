"""`report --group-by COLUMNS`: one table of the groups of any columns; and the HTML charts'
series. Both are unions of cells (`cells.CellTable.partition`), so percentiles are exact.

Columns:
- `model`, `task_type`, `task_success` (`true`, `false`);
- `day` (`YYYY-MM-DD`), `week` (ISO, `YYYY-Www`), `month` (`YYYY-MM`), in the report's zone;
- `provider`: who serves the model, as the price data (`genai-prices`, if installed) knows it
  (`claude-3-opus` is `anthropic`); a model it does not know is the part of its name before the
  first `/` (`ollama/llama3:8b` is `ollama`), and a name without one is `unknown`.

Groups are ordered by the first column, then the second, and so on: models and providers by
total tokens (most first), then runs, then name; task types by runs (most first), then name;
days, weeks and months oldest first; `true` before `false`. Only groups with runs are listed.

The charts draw at most `series` models on their own (by total tokens, as By model orders them);
with more models than that, the `series - 1` with the most tokens keep their own series and the
rest are drawn together as one, `other`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from telemetry_csv.errors import InvalidValueError
from telemetry_csv.report.cells import CellKey, CellTable, Family
from telemetry_csv.report.data import Cost, Group, Stats
from telemetry_csv.report.dates import civil_from_days, day_label, week_label, week_of

if TYPE_CHECKING:
    from telemetry_csv.report.costs import Pricer

COLUMNS = ("model", "task_type", "day", "week", "month", "task_success", "provider")
TIME_COLUMNS = frozenset({"day", "week", "month"})
UNKNOWN_PROVIDER = "unknown"
OTHER = ""  # the key of the charts' series of folded models: no model name is empty
GROUP_BY_ALLOWED = f"expected column names separated by commas, from {', '.join(COLUMNS)}"


class Grouped(NamedTuple):
    """The groups of `columns`; each group's key is its columns' labels, in order."""

    columns: tuple[str, ...]
    groups: tuple[Group[tuple[str, ...]], ...]


class ChartData(NamedTuple):
    """What the HTML charts draw besides the report's own groups: per day and per ISO week,
    each series' counts and tokens (no durations)."""

    series: tuple[str, ...]  # models with a series of their own, then OTHER if any are folded
    other: tuple[str, ...]  # the models drawn together as OTHER
    by_day: tuple[tuple[int, dict[str, Stats]], ...]  # (day number, series -> stats), oldest first
    by_week: tuple[tuple[int, dict[str, Stats]], ...]  # (the week's Monday, series -> stats)


def parse_group_by(values: Sequence[str]) -> tuple[str, ...]:
    """The columns `--group-by` names (each value comma-separated; the option repeatable), in
    order, without repeats; InvalidValueError for anything else."""
    columns: list[str] = []
    for value in values:
        for part in value.split(","):
            name = part.strip().lower().replace("-", "_")
            if name not in COLUMNS:
                raise InvalidValueError("--group-by", value, GROUP_BY_ALLOWED)
            if name not in columns:
                columns.append(name)
    if not columns:
        raise InvalidValueError("--group-by", ",".join(values), GROUP_BY_ALLOWED)
    return tuple(columns)


FAMILY = "group_by"  # the name `family` gives the groups of --group-by (`cells.Family`)


def family(columns: Sequence[str], pricer: Pricer | None) -> Family:
    """The groups of `columns`, as a family of cells (to `prepare` with the report's own)."""
    raw = _getters(pricer if pricer is not None or "provider" not in columns else _names())
    getters = [raw[column] for column in columns]
    return Family(FAMILY, lambda key: tuple(get(key) for get in getters))


def group_cells(table: CellTable, columns: Sequence[str], pricer: Pricer | None) -> Grouped:
    """The groups of `columns` over every cell of `table`, ordered as the module says; the
    durations of `family`'s groups if the table was prepared with them."""
    if "provider" in columns and pricer is None:
        pricer = _names()  # names only: --no-costs still knows who serves a model
    raw = _getters(pricer)
    getters = [raw[column] for column in columns]
    found = table.partition(lambda key: tuple(get(key) for get in getters), family=FAMILY)
    ranks = [_rank(table, column, raw[column]) for column in columns]
    ordered = sorted(
        found.items(),
        key=lambda item: tuple(rank(v) for rank, v in zip(ranks, item[0], strict=True)),
    )
    labels = [_LABELS.get(column, str) for column in columns]
    return Grouped(
        tuple(columns),
        tuple(
            Group(tuple(label(value) for label, value in zip(labels, key, strict=True)), stats)
            for key, stats in ordered
        ),
    )


@cache
def _names() -> Pricer | None:
    """The price data's names, for who serves a model, when costs are not estimated."""
    from telemetry_csv.report.costs import load_pricer

    return load_pricer()


def _getters(pricer: Pricer | None) -> dict[str, Callable[[CellKey], Hashable]]:
    """How to read each column of a cell's key."""
    providers: dict[str, str] = {}

    def provider(model: str) -> str:
        known = providers.get(model)
        if known is None:
            known = providers[model] = provider_of(model, pricer)
        return known

    return {
        "model": lambda key: key.model,
        "task_type": lambda key: key.task_type,
        "day": lambda key: key.day,
        "week": lambda key: week_of(key.day),
        "month": lambda key: _month_of(key.day),
        "task_success": lambda key: key.success,
        "provider": lambda key: provider(key.model),
    }


def provider_of(model: str, pricer: Pricer | None) -> str:
    """Who serves `model`: the price data's provider, else the name's prefix (see above)."""
    if pricer is not None:
        label = pricer.priced_as(model)
        if label:
            return label.split("/", 1)[0]
    if "/" in model:
        prefix = model.split("/", 1)[0]
        if prefix:
            return prefix
    return UNKNOWN_PROVIDER


def chart_data(table: CellTable, series: int) -> ChartData:
    """Per day and per week, the statistics (without durations) of each model's series: one
    pass over the cells, for (day, model); the rest is added up from those."""
    pairs = table.partition(_day_and_model, durations=False)
    tokens: dict[str, list[int]] = {}
    for (_, model), stats in pairs.items():
        counts = tokens.setdefault(model, [0, 0])
        counts[0] += stats.total_tokens
        counts[1] += stats.runs
    models = sorted(tokens, key=lambda model: (-tokens[model][0], -tokens[model][1], model))
    own = models if len(models) <= series else models[: max(series - 1, 0)]
    other = tuple(models[len(own) :])
    kept = frozenset(own)
    days: dict[tuple[int, str], list[int]] = {}
    weeks: dict[tuple[int, str], list[int]] = {}
    for (day, model), stats in pairs.items():
        name = model if model in kept else OTHER
        cost = stats.cost or Cost()
        values = (
            *(stats.runs, stats.successes, stats.prompt_tokens, stats.completion_tokens),
            *(cost.femto_usd, cost.priced_runs, cost.unpriced_runs),
        )
        for sums, key in ((days, (day, name)), (weeks, (week_of(day), name))):
            found = sums.get(key)
            if found is None:
                sums[key] = list(values)
            else:
                for index, value in enumerate(values):
                    found[index] += value
    costed = table.costed
    return ChartData(
        series=(*own, OTHER) if other else tuple(own),
        other=other,
        by_day=_periods(days, costed),
        by_week=_periods(weeks, costed),
    )


def _day_and_model(key: CellKey) -> tuple[int, str]:
    assert key.day is not None and key.model is not None  # cells of --group-by's pass
    return key.day, key.model


def _periods(
    sums: dict[tuple[int, str], list[int]], costed: bool
) -> tuple[tuple[int, dict[str, Stats]], ...]:
    periods: dict[int, dict[str, Stats]] = {}
    for (period, name), (
        runs,
        successes,
        prompt,
        completion,
        femto,
        priced,
        unpriced,
    ) in sums.items():
        periods.setdefault(period, {})[name] = Stats(
            runs=runs,
            successes=successes,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost=Cost(femto, priced, unpriced) if costed else None,
        )
    return tuple(sorted(periods.items()))


def _rank(
    table: CellTable, column: str, get: Callable[[CellKey], Hashable]
) -> Callable[[Hashable], tuple[object, ...]]:
    """How to order the values of `column` (see the module docstring)."""
    if column in TIME_COLUMNS:
        return lambda value: (value,)
    if column == "task_success":
        return lambda value: (not value,)
    totals = table.partition(get, durations=False)
    if column == "task_type":
        order = sorted(totals, key=lambda value: (-totals[value].runs, str(value)))
    else:
        order = sorted(totals, key=lambda value: _by_tokens(str(value), totals[value]))
    position = {value: index for index, value in enumerate(order)}
    return lambda value: (position[value],)


def _by_tokens(name: str, stats: Stats) -> tuple[int, int, str]:
    return (-stats.total_tokens, -stats.runs, name)


def _month_of(day: int) -> int:
    year, month, _ = civil_from_days(day)
    return year * 12 + month - 1


def _month_label(index: int) -> str:
    year, month = divmod(index, 12)
    return f"{year:04d}-{month + 1:02d}"


_LABELS: dict[str, Callable[[Any], str]] = {
    "day": day_label,
    "week": week_label,
    "month": _month_label,
    "task_success": lambda value: "true" if value else "false",
}
