"""What a report says, as data: the renderers only format it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, NamedTuple, TypeVar

from telemetry_csv.report.filters import Filters
from telemetry_csv.report.zones import UTC_ZONE, ReportZone

if TYPE_CHECKING:
    from decimal import Decimal

    from telemetry_csv.report.budgets import BudgetResult
    from telemetry_csv.report.grouping import ChartData, Grouped
    from telemetry_csv.report.recommendations import Recommendation

FEMTO_PER_USD = 10**15  # costs are summed as whole femto-dollars, so sums are exact


class Durations(NamedTuple):
    """Task wall time, in milliseconds; None where there are no runs."""

    total: int = 0
    mean: float | None = None
    p50: float | None = None
    p95: float | None = None
    max: int | None = None


class Cost(NamedTuple):
    """The estimated cost of a group's priced runs; unpriced runs are counted, never priced at $0."""

    femto_usd: int = 0
    priced_runs: int = 0
    unpriced_runs: int = 0

    @property
    def usd(self) -> Decimal | None:
        """Dollars for the priced runs, or None when no run of the group could be priced."""
        if not self.priced_runs:
            return None
        from decimal import Decimal

        return Decimal(self.femto_usd) / FEMTO_PER_USD


class Stats(NamedTuple):
    runs: int = 0
    successes: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    durations: Durations = Durations()
    cost: Cost | None = None  # None when costs are not estimated
    # The parts of prompt_tokens read from and written to a prompt cache, summed over the rows
    # that know them (rows of the extended header's shape with those columns filled).
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def failures(self) -> int:
        return self.runs - self.successes

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.runs if self.runs else None


GroupKey = TypeVar("GroupKey", bound=str | tuple[str, ...])


class Group(NamedTuple, Generic[GroupKey]):
    """One group's statistics. `key` is a model, a task type, a (model, task type) pair, a day
    (`YYYY-MM-DD`) or an ISO week (`YYYY-Www`); or, for `--group-by`, the labels of its
    columns (`grouping`)."""

    key: GroupKey
    stats: Stats


class CostInfo(NamedTuple):
    """Whether costs were estimated, with what price data, and what each model was priced as."""

    status: str  # "estimated", "unavailable" (the `cost` extra is not installed) or "off"
    price_data: str | None = None  # e.g. "genai-prices 0.2.3"
    priced_as: tuple[tuple[str, str | None], ...] = ()  # (model, provider/model id or None)

    @property
    def estimated(self) -> bool:
        return self.status == "estimated"


class Skipped(NamedTuple):
    """What `--skip-invalid` left out: rows (lines) with problems, and file-wide problems."""

    rows: int = 0
    file_problems: int = 0

    def __bool__(self) -> bool:
        return bool(self.rows or self.file_problems)


class Report(NamedTuple):
    rows_read: int  # valid rows read, before filters
    first: str | None  # the earliest matching row's timestamp, as stored
    last: str | None
    totals: Stats
    by_model: tuple[Group[str], ...]
    by_task_type: tuple[Group[str], ...]
    by_model_task_type: tuple[Group[tuple[str, str]], ...]
    by_day: tuple[Group[str], ...]
    by_week: tuple[Group[str], ...]
    costs: CostInfo
    filters: Filters = Filters()
    zone: ReportZone = UTC_ZONE
    source: str = ""  # what was read, for people: ".telemetry/usage.csv and 2 backups"
    skipped: Skipped = Skipped()
    # Only when asked for (None otherwise), so the default report stays as it was:
    grouped: Grouped | None = None  # --group-by
    charts: ChartData | None = None  # the HTML charts' series
    budgets: tuple[BudgetResult, ...] | None = None  # budgets checked
    recommendations: tuple[Recommendation, ...] | None = None  # which model for which task

    @property
    def rows(self) -> int:
        """Rows the report covers (after filters)."""
        return self.totals.runs
