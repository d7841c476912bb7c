"""A report held to budgets (`limits.Budget`): which hold, which are broken, and by how much.

A budget is checked on the report's selection (after `--range`, `--since`, `--model`, ...): on
all its rows, or on one model's or one task type's. A scope without runs in the selection holds
(there is nothing to judge; the result says `no runs`), so a pull request that logged no row of
a model never fails because of that model's budget.

Cost budgets compare the estimated cost in whole femto-dollars, exactly. A scope with runs that
no price is known for breaks a cost budget, since its cost is unknown, unless `allow_unpriced`:
then the priced runs alone are compared and the result says how many were left out. Without the
price data (`genai-prices`, the `cost` extra) or with `--no-costs`, a cost budget is an error,
never a check against $0.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import NamedTuple

from telemetry_csv.durations import format_duration
from telemetry_csv.errors import InvalidValueError, TelemetryError
from telemetry_csv.limits import Budget, Scope
from telemetry_csv.logfile.schema import Schema
from telemetry_csv.report import numbers
from telemetry_csv.report.costs import install_hint
from telemetry_csv.report.data import FEMTO_PER_USD, Report, Stats

HOLDS = "holds"
BROKEN = "broken"
NO_RUNS = "no runs"
_NAMES = {
    "max_tokens": "Tokens",
    "max_cost": "Cost",
    "min_success_rate": "Success rate",
    "max_p95": "Duration p95",
}


class BudgetResult(NamedTuple):
    budget: Budget
    status: str  # HOLDS, BROKEN or NO_RUNS (which holds)
    runs: int  # runs in the budget's scope
    actual: str  # the figure for people: `$6.12`, `75.0% (15 of 20)`, `2m 05s`, `1,234 tokens`
    value: int | float | None  # the figure for scripts: tokens, dollars, a rate 0..1, ms
    note: str = ""  # what the figure alone does not say (unpriced runs)
    known: bool = True  # False when the figure cannot be compared (a cost with unpriced runs)

    @property
    def broken(self) -> bool:
        return self.status == BROKEN


def needs_prices(budgets: Sequence[Budget]) -> bool:
    return any(budget.metric == "max_cost" for budget in budgets)


def check_prices_available(budgets: Sequence[Budget], *, costs: bool) -> None:
    """Refuse cost budgets when costs will not be estimated; before any row is read."""
    if not needs_prices(budgets):
        return
    source = next(budget.source for budget in budgets if budget.metric == "max_cost")
    if not costs:
        raise TelemetryError(
            f"{source}: a cost budget needs cost estimates, and --no-costs turns them off"
        )
    import importlib.util

    if importlib.util.find_spec("genai_prices") is None:
        raise _no_price_data(source)


def check_scopes(budgets: Sequence[Budget], schema: Schema) -> None:
    """Refuse a budget scoped to a task type the schema does not know (a typo would make it
    hold for ever, with no runs)."""
    for budget in budgets:
        if budget.scope and budget.scope.kind == "task_type":
            problem = schema.task_type_problem(budget.scope.name)
            if problem:
                raise InvalidValueError(budget.source.split(" ", 1)[0], budget.scope.name, problem)


def check_budgets(
    report: Report, budgets: Sequence[Budget], *, allow_unpriced: bool = False
) -> tuple[BudgetResult, ...]:
    """Each budget's result on `report`, in the order given."""
    if needs_prices(budgets) and not report.costs.estimated:
        source = next(budget.source for budget in budgets if budget.metric == "max_cost")
        raise _no_price_data(source)
    return tuple(_check(report, budget, allow_unpriced) for budget in budgets)


def metric_name(budget: Budget) -> str:
    return _NAMES[budget.metric]


def scope_text(scope: Scope | None) -> str:
    """`all rows`, `model gpt-4o`, `task type verify`: plain text; renderers mark names up."""
    if scope is None:
        return "all rows"
    return f"{scope.kind.replace('_', ' ')} {scope.name}"


def limit_text(budget: Budget) -> str:
    """`at most $5.00`, `at least 80%`."""
    return ("at least " if budget.metric.startswith("min_") else "at most ") + budget.shown_limit


def broken_line(result: BudgetResult) -> str:
    """One line for standard error about a broken budget."""
    budget = result.budget
    if not result.known:
        return f"budget broken: {budget.source}: {result.note}"
    relation = "under" if budget.metric.startswith("min_") else "over"
    line = (
        f"budget broken: {budget.source}: {metric_name(budget).lower()} of "
        f"{scope_text(budget.scope)} is {result.actual}, {relation} {budget.shown_limit}"
    )
    return f"{line} ({result.note})" if result.note else line


def _check(report: Report, budget: Budget, allow_unpriced: bool) -> BudgetResult:
    stats = _scoped(report, budget.scope)
    if not stats.runs:
        return BudgetResult(budget, NO_RUNS, 0, "no runs", None)
    metric = budget.metric
    if metric == "max_tokens":
        tokens = stats.total_tokens
        holds = tokens <= budget.limit
        return _result(budget, holds, stats, f"{tokens:,} tokens", tokens)
    if metric == "max_cost":
        return _check_cost(budget, stats, allow_unpriced)
    if metric == "min_success_rate":
        rate = Fraction(budget.limit)
        holds = stats.successes * rate.denominator >= rate.numerator * stats.runs
        shown = numbers.percent(stats.successes, stats.runs)
        if not holds and shown == numbers.percent(rate.numerator, rate.denominator):
            shown = f"{100 * stats.successes / stats.runs:.4f}".rstrip("0").rstrip(".") + "%"
        actual = f"{shown} ({stats.successes:,} of {stats.runs:,})"
        return _result(budget, holds, stats, actual, round(stats.successes / stats.runs, 6))
    p95 = stats.durations.p95
    assert p95 is not None  # there are runs
    holds = p95 <= budget.limit
    shown = format_duration(p95)
    if not holds and shown == budget.shown_limit:
        shown = f"{p95:,.3f}".rstrip("0").rstrip(".") + "ms"
    return _result(budget, holds, stats, shown, round(p95, 3))


def _check_cost(budget: Budget, stats: Stats, allow_unpriced: bool) -> BudgetResult:
    cost = stats.cost
    assert cost is not None  # check_budgets refused a report without costs
    dollars = numbers.usd(cost.femto_usd, 6)
    if cost.unpriced_runs and not allow_unpriced:
        runs = numbers.plural(cost.unpriced_runs, "run")
        note = (
            f"{runs} of {scope_text(budget.scope)} {'has' if cost.unpriced_runs == 1 else 'have'} "
            "no known price, so the cost is unknown "
            "(--allow-unpriced checks the priced runs alone)"
        )
        return BudgetResult(budget, BROKEN, stats.runs, numbers.cost(cost), dollars, note, False)
    holds = cost.femto_usd <= budget.limit
    shown = numbers.money(cost.femto_usd)
    if not holds and shown == numbers.money(int(budget.limit)):
        shown = f"${dollars:,.6f}"
    note = ""
    if cost.unpriced_runs:
        note = f"{numbers.plural(cost.unpriced_runs, 'unpriced run')} left out, --allow-unpriced"
    return BudgetResult(budget, HOLDS if holds else BROKEN, stats.runs, shown, dollars, note)


def _result(budget: Budget, holds: bool, stats: Stats, actual: str, value: float) -> BudgetResult:
    return BudgetResult(budget, HOLDS if holds else BROKEN, stats.runs, actual, value)


def _scoped(report: Report, scope: Scope | None) -> Stats:
    if scope is None:
        return report.totals
    groups = report.by_model if scope.kind == "model" else report.by_task_type
    for group in groups:
        if group.key == scope.name:
            return group.stats
    return Stats()


def _no_price_data(source: str) -> TelemetryError:
    return TelemetryError(
        f"{source}: a cost budget needs the price data, which is not installed; "
        f"`{install_hint()}` adds it (a cost budget is never checked against $0)"
    )


def limit_value(budget: Budget) -> int | float:
    """The limit for scripts, in the units of `BudgetResult.value`: tokens, dollars, a rate
    0..1, milliseconds."""
    if budget.metric == "max_cost":
        return int(budget.limit) / FEMTO_PER_USD
    if budget.metric == "min_success_rate":
        return round(float(budget.limit), 6)
    return int(budget.limit)
