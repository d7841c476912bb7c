"""Which model for which task: per task type, the models ranked by how often they succeed, what a
success costs, how long they take, and a pick only when the data support one.

The method, for each task type and each model that ran it:
- success rate s/n with its 95% Wilson score interval (z = 1.96). Unlike rate ± 1.96·SE, it
  stays within 0..1 and is honest for few runs and for rates near 0% or 100%: 2 of 2 is
  34%..100%, 95 of 100 is 89%..98%;
- cost per success: the group's estimated cost divided by its successes; `unpriced` when some
  of its runs have no known price (the total is unknown), none without a success;
- median duration (p50).

Models are ranked by the lower end of their interval (what the data say they reach at least),
then success rate, cost per success (lower first), runs (more first), and name; so 2 of 2 does
not outrank 95 of 100.

The pick: only models with at least `MIN_RUNS` runs of the type are compared, and there must be
two of them. The pick is the one model M such that, for every other compared model O, either M's
interval lies wholly above O's (M wins on success), or the intervals overlap (a tie on success)
and M's cost per success is lower (both known; a model without a success costs infinitely much
per success). At most one model can be that. Otherwise the answer is "not enough data yet", with
the reason. Models with fewer runs are listed but not compared: a model tried twice neither
blocks a pick for ever nor wins one.

`recommend` is the same from Python, for an orchestrator that routes task types to models.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from telemetry_csv.report.data import FEMTO_PER_USD, Report, Stats
from telemetry_csv.report.numbers import round_half_up

if TYPE_CHECKING:
    from datetime import date
    from decimal import Decimal

MIN_RUNS = 20
Z_95 = 1.959963984540054  # the standard normal's 97.5th percentile: a two-sided 95% interval

PRICED = "priced"
UNPRICED = "unpriced"  # some run has no known price: the cost is unknown
NO_SUCCESS = "no successes"
OFF = "off"  # costs are not estimated


class Candidate(NamedTuple):
    """One model's record on one task type."""

    model: str
    runs: int
    successes: int
    success_rate: float
    interval: tuple[float, float]  # 95% Wilson score interval of the success rate
    cost_per_success_femto: int | None  # femto-dollars, rounded half up; None unless PRICED
    cost_status: str  # PRICED, UNPRICED, NO_SUCCESS or OFF
    median_duration_ms: float | None
    compared: bool  # has at least the minimum runs, so it takes part in the pick

    @property
    def cost_per_success(self) -> Decimal | None:
        """US dollars per successful task, when known."""
        if self.cost_per_success_femto is None:
            return None
        from decimal import Decimal

        return Decimal(self.cost_per_success_femto) / FEMTO_PER_USD


class Recommendation(NamedTuple):
    task_type: str
    candidates: tuple[Candidate, ...]  # ranked, best first
    pick: str | None  # the model to use, or None: not enough data yet
    reason: str  # why, in a sentence (model names as they are: renderers escape them)
    min_runs: int = MIN_RUNS


def wilson_interval(successes: int, runs: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a success rate; (0, 1) without runs."""
    if runs <= 0:
        return 0.0, 1.0
    rate = successes / runs
    z2 = z * z
    denominator = 1 + z2 / runs
    centre = (rate + z2 / (2 * runs)) / denominator
    half = z / denominator * math.sqrt(rate * (1 - rate) / runs + z2 / (4 * runs * runs))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == runs else min(1.0, centre + half)
    return low, high


def recommendations_for(report: Report, min_runs: int = MIN_RUNS) -> tuple[Recommendation, ...]:
    """A recommendation for each task type in the report, in the report's task-type order."""
    by_kind: dict[str, list[tuple[str, Stats]]] = {}
    for group in report.by_model_task_type:
        model, kind = group.key[0], group.key[1]  # (model, task type)
        by_kind.setdefault(kind, []).append((model, group.stats))
    return tuple(
        _recommend(str(group.key), by_kind.get(str(group.key), []), report, min_runs)
        for group in report.by_task_type
    )


def recommend(
    task_type: str,
    *,
    since: str | date | None = None,
    until: str | date | None = None,
    files: Sequence[str | Path] = (),
    tz: str = "UTC",
    costs: bool = True,
    min_runs: int = MIN_RUNS,
    skip_invalid: bool = False,
    start: Path | None = None,
) -> Recommendation:
    """Which model to use for `task_type`, from the log of the repository at `start` (default:
    the working directory) and its backups, or from `files`; optionally only rows `since` and
    `until` (dates are whole days in `tz`, date-times exact instants, both inclusive, as
    `report --since/--until` take them). `pick` is None while the data do not support one.

    Raises TelemetryError for a task type that is not configured, a bad bound, no log, or an
    invalid row (unless `skip_invalid`)."""
    from telemetry_csv.config import load_settings
    from telemetry_csv.report.aggregate import ReportOptions, build_report
    from telemetry_csv.report.filters import build_filters
    from telemetry_csv.report.sources import ValidRows, open_source
    from telemetry_csv.report.zones import resolve_zone

    settings = load_settings(start)
    filters = build_filters(since=_bound(since), until=_bound(until), task_types=(task_type,))
    filters.check(settings.schema)
    source = open_source(
        settings.schema, files=[str(name) for name in files], log_path=settings.log_path
    )
    rows = ValidRows(source.items, skip_invalid=skip_invalid)
    report = build_report(rows, ReportOptions(filters=filters, zone=resolve_zone(tz), costs=costs))
    found = recommendations_for(report, min_runs)
    if found:
        return found[0]
    kind = filters.task_types[0]
    return Recommendation(kind, (), None, f"not enough data yet: no runs of {kind}", min_runs)


def _bound(value: str | date | None) -> str | None:
    """A `since`/`until` as the report's options take it: a date, or an aware date-time."""
    if value is None or isinstance(value, str):
        return value
    from datetime import datetime

    if isinstance(value, datetime) and value.utcoffset() is None:
        raise ValueError(f"a date-time bound needs a time zone: {value!r}")
    return value.isoformat()


def _recommend(
    kind: str, groups: list[tuple[str, Stats]], report: Report, min_runs: int
) -> Recommendation:
    costed = report.costs.estimated
    candidates = sorted(
        (_candidate(model, stats, costed, min_runs) for model, stats in groups), key=_rank
    )
    compared = [candidate for candidate in candidates if candidate.compared]
    if len(compared) < 2:
        if not compared:
            reason = f"not enough data yet: no model has {min_runs} runs of {kind}"
        else:
            reason = (
                f"not enough data yet: only {compared[0].model} has {min_runs} or more runs "
                f"of {kind}; another model needs {min_runs} to compare with"
            )
        return Recommendation(kind, tuple(candidates), None, reason, min_runs)
    for model in compared:
        others = [other for other in compared if other is not model]
        if all(_beats(model, other) for other in others):
            return Recommendation(
                kind, tuple(candidates), model.model, _why_pick(model, others), min_runs
            )
    leader = compared[0]
    rival = next(other for other in compared[1:] if not _beats(leader, other))
    return Recommendation(kind, tuple(candidates), None, _why_not(leader, rival, costed), min_runs)


def _candidate(model: str, stats: Stats, costed: bool, min_runs: int) -> Candidate:
    cost = stats.cost
    per_success = None
    if not costed or cost is None:
        status = OFF
    elif cost.unpriced_runs:
        status = UNPRICED
    elif not stats.successes:
        status = NO_SUCCESS
    else:
        status = PRICED
        per_success = round_half_up(cost.femto_usd, stats.successes)
    return Candidate(
        model=model,
        runs=stats.runs,
        successes=stats.successes,
        success_rate=stats.successes / stats.runs,
        interval=wilson_interval(stats.successes, stats.runs),
        cost_per_success_femto=per_success,
        cost_status=status,
        median_duration_ms=stats.durations.p50,
        compared=stats.runs >= min_runs,
    )


def _cost_key(candidate: Candidate) -> Fraction | float:
    """Exact cost per success for comparing; infinite without a success (but priced runs)."""
    if candidate.cost_status == NO_SUCCESS:
        return math.inf
    if candidate.cost_status != PRICED:
        return math.nan
    assert candidate.cost_per_success_femto is not None
    return Fraction(candidate.cost_per_success_femto)


def _rank(candidate: Candidate) -> tuple[float, float, float, int, str]:
    cost = _cost_key(candidate)
    return (
        -candidate.interval[0],
        -candidate.success_rate,
        math.inf if isinstance(cost, float) and math.isnan(cost) else float(cost),
        -candidate.runs,
        candidate.model,
    )


def _beats(model: Candidate, other: Candidate) -> bool:
    if model.interval[0] > other.interval[1]:
        return True
    if other.interval[0] > model.interval[1]:
        return False
    mine, theirs = _cost_key(model), _cost_key(other)
    # nan (unknown) compares false both ways: an unknown cost settles no tie.
    return mine < theirs


def _why_pick(model: Candidate, others: list[Candidate]) -> str:
    above = [other.model for other in others if model.interval[0] > other.interval[1]]
    cheaper = [other.model for other in others if other.model not in above]
    if not cheaper:
        return "its success interval is above every other compared model's"
    parts = []
    if above:
        parts.append(f"its success interval is above those of {_names(above)}")
    parts.append(f"it ties with {_names(cheaper)} on success and costs less per success")
    return "; ".join(parts)


def _why_not(leader: Candidate, rival: Candidate, costed: bool) -> str:
    why = f"{leader.model} and {rival.model} tie on success (their intervals overlap)"
    if not costed:
        return f"not enough data yet: {why}, and costs are not estimated to settle it"
    unknown = [c.model for c in (leader, rival) if c.cost_status == UNPRICED]
    if unknown:
        return (
            f"not enough data yet: {why}, and the cost per success of {_names(unknown)} is unknown"
        )
    return f"not enough data yet: {why}, and {rival.model} costs no more per success"


def _names(names: list[str]) -> str:
    if len(names) > 4:
        return f"{len(names)} other models"
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + f" and {names[-1]}"
