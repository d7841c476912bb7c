"""Which rows a report covers: `--since`, `--until`, `--model`, `--task-type`.

A bound is a date or an RFC 3339 date-time. A date means the whole day, inclusive, in the
report's time zone: `--since 2026-11-01 --until 2026-11-30` is November there. A date-time is an
exact instant, also inclusive. Models match exactly (as logged); task types must be configured.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from telemetry_csv import rfc3339
from telemetry_csv.errors import InvalidValueError
from telemetry_csv.logfile.schema import Schema
from telemetry_csv.report.dates import instant, parse_day

BOUND_ALLOWED = (
    "expected a date (YYYY-MM-DD, the whole day in the report's time zone) "
    f"or an RFC 3339 date-time such as {rfc3339.EXAMPLE}"
)


class TimeBound(NamedTuple):
    text: str  # as the report shows it: the date, or the date-time as stored
    day: int | None = None  # a date's day number
    instant: tuple[int, int] | None = None  # a date-time's (Unix seconds, nanoseconds)


def parse_bound(option: str, text: str) -> TimeBound:
    """A `--since`/`--until` value; raises InvalidValueError naming the option."""
    value = text.strip()
    day = parse_day(value)
    if day is not None:
        return TimeBound(value, day=day)
    stamp = rfc3339.normalise(value)
    if rfc3339.problem(stamp) is not None:
        raise InvalidValueError(option, text, BOUND_ALLOWED)
    return TimeBound(stamp, instant=instant(stamp))


class Filters(NamedTuple):
    since: TimeBound | None = None
    until: TimeBound | None = None
    models: tuple[str, ...] = ()
    task_types: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.since or self.until or self.models or self.task_types)

    def describe(self, text: Callable[[str], str], name: Callable[[str], str]) -> str:
        """The active filters in words ("since 2026-11-01; models a, b"), for every output
        format: `text` escapes a plain value and `name` marks a model or task type."""
        parts = []
        if self.since:
            parts.append(f"since {text(self.since.text)}")
        if self.until:
            parts.append(f"until {text(self.until.text)}")
        for noun, names in (("model", self.models), ("task type", self.task_types)):
            if names:
                plural = noun if len(names) == 1 else noun + "s"
                parts.append(f"{plural} " + ", ".join(name(one) for one in names))
        return "; ".join(parts)

    def check(self, schema: Schema) -> None:
        """Refuse task types the schema does not know and bounds in the wrong order."""
        for kind in self.task_types:
            problem = schema.task_type_problem(kind)
            if problem:
                raise InvalidValueError("--task-type", kind, problem)
        since, until = self.since, self.until
        if since and until:
            if since.day is not None and until.day is not None and since.day > until.day:
                raise InvalidValueError("--until", until.text, f"it is before --since {since.text}")
            if since.instant and until.instant and since.instant > until.instant:
                raise InvalidValueError("--until", until.text, f"it is before --since {since.text}")


def build_filters(
    *,
    since: str | None = None,
    until: str | None = None,
    models: list[str] | tuple[str, ...] = (),
    task_types: list[str] | tuple[str, ...] = (),
) -> Filters:
    """Filters from option values; duplicates are dropped, the order given is kept."""
    return Filters(
        since=parse_bound("--since", since) if since is not None else None,
        until=parse_bound("--until", until) if until is not None else None,
        models=tuple(dict.fromkeys(models)),
        task_types=tuple(dict.fromkeys(kind.strip().lower() for kind in task_types)),
    )
