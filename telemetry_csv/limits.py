"""Budgets as the user writes them: `report --max-cost model=gpt-4o:2`, or a `budgets` table.

A budget is a limit on one figure of the report's selection, for all its rows or for one
model's or one task type's:

| metric             | limit                                   | holds when             |
| ---                | ---                                     | ---                    |
| `max_tokens`       | whole tokens: `2000000`, `2_000_000`, `2M`, `500k` | total tokens <= limit |
| `max_cost`         | US dollars: `5`, `2.50`, `$5`           | estimated cost <= limit |
| `min_success_rate` | `80%` or `0.8` (0 to 1)                 | success rate >= limit  |
| `max_p95`          | a duration as `--duration` takes it: `90s`, `2m`, `1h30m` | duration p95 <= limit |

On the command line, a flag per metric, each repeatable: `--max-cost 5` (all rows),
`--max-cost model=gpt-4o:2`, `--min-success-rate task_type=verify:90%`. The scope comes first,
up to the last `:` (model names may hold `:` themselves, limits never do).

In the configuration (`[tool.telemetry-csv.budgets]` in pyproject.toml, or `[budgets]` in
.telemetry/config.toml), the same metrics as keys, for all rows, and sub-tables per model or
task type:

    [tool.telemetry-csv.budgets]
    max_cost = 5
    min_success_rate = "80%"
    model."gpt-4o".max_cost = 2
    task_type.verify.max_p95 = "10m"

This module only reads and checks what was written; `report.budgets` holds a report to them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple

from telemetry_csv.durations import ALLOWED as DURATION_ALLOWED
from telemetry_csv.durations import format_duration, parse_duration
from telemetry_csv.errors import ConfigError, InvalidValueError, TelemetryError

if TYPE_CHECKING:
    from fractions import Fraction

FEMTO_PER_USD = 10**15  # as report.model: costs are compared in whole femto-dollars
METRICS = ("max_tokens", "max_cost", "min_success_rate", "max_p95")
SCOPES = ("model", "task_type")
ALLOWED = {
    "max_tokens": "expected a whole number of tokens, 0 or more, e.g. 2000000, 2_000_000, 1.5M or 500k",
    "max_cost": "expected US dollars, 0 or more, e.g. 5, 2.50 or $5",
    "min_success_rate": "expected a rate from 0 to 1 or 0% to 100%, e.g. 0.8 or 80%",
    "max_p95": DURATION_ALLOWED,
}
SCOPE_ALLOWED = "scope it as model=NAME:LIMIT or task_type=TYPE:LIMIT, or give LIMIT alone"
_TOKENS = re.compile(r"([0-9][0-9_,]*(?:\.[0-9]+)?)(k|m|g)?", re.IGNORECASE)
_TOKEN_SUFFIX = {"k": 10**3, "m": 10**6, "g": 10**9}
_DOLLARS = re.compile(r"\$?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_RATE = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(%?)")


class Scope(NamedTuple):
    kind: str  # "model" or "task_type"
    name: str


class Budget(NamedTuple):
    """One limit. `limit` is whole tokens, whole femto-dollars, a rate as an exact fraction, or
    whole milliseconds; `source` says where it was written, for messages."""

    metric: str
    limit: int | Fraction
    scope: Scope | None = None
    source: str = ""  # "--max-cost model=gpt-4o:2", "pyproject.toml: budgets.max_cost"

    @property
    def shown_limit(self) -> str:
        """The limit for people: `2,000,000 tokens`, `$2.00`, `80%`, `2m 00s`."""
        if self.metric == "max_tokens":
            return f"{self.limit:,} token{'' if self.limit == 1 else 's'}"
        if self.metric == "max_cost":
            return "$" + _dollars(int(self.limit))
        if self.metric == "min_success_rate":
            from fractions import Fraction

            return _rate(Fraction(self.limit))
        return format_duration(int(self.limit))

    @property
    def key(self) -> tuple[str, Scope | None]:
        return self.metric, self.scope


def parse_limit(metric: str, value: object) -> int | Fraction:
    """The limit `value` (a string as typed, or a TOML number) sets for `metric`; ValueError
    (whose message is the metric's ALLOWED) if it is not one."""
    from decimal import Decimal, InvalidOperation
    from fractions import Fraction

    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(ALLOWED[metric])
    text = value.strip() if isinstance(value, str) else repr(value)
    if metric == "max_p95":
        if not isinstance(value, str):
            raise ValueError(DURATION_ALLOWED)  # a bare number's unit would be a guess
        try:
            return parse_duration(text)
        except InvalidValueError:
            raise ValueError(DURATION_ALLOWED) from None
    if metric == "max_tokens":
        match = _TOKENS.fullmatch(text)
        if not match or isinstance(value, float):
            raise ValueError(ALLOWED[metric])
        tokens = Decimal(match.group(1).replace("_", "").replace(",", ""))
        tokens *= _TOKEN_SUFFIX.get((match.group(2) or "").lower(), 1)
        if tokens != tokens.to_integral_value():
            raise ValueError(ALLOWED[metric])
        return int(tokens)
    if metric == "max_cost":
        match = _DOLLARS.fullmatch(text)
        if not match:
            raise ValueError(ALLOWED[metric])
        femto = Decimal(match.group(1)) * FEMTO_PER_USD
        if femto != femto.to_integral_value():
            raise ValueError(ALLOWED[metric] + "; at most 15 decimals")
        return int(femto)
    if metric == "min_success_rate":
        match = _RATE.fullmatch(text)
        if not match:
            raise ValueError(ALLOWED[metric])
        try:
            rate = Fraction(Decimal(match.group(1)))
        except (InvalidOperation, ValueError):
            raise ValueError(ALLOWED[metric]) from None
        if match.group(2):
            rate /= 100
        if rate > 1:
            raise ValueError(ALLOWED[metric])
        return rate
    raise ValueError(f"unknown budget {metric!r}")


def budget_from_option(metric: str, text: str) -> Budget:
    """A budget from a flag's value, `[model=NAME:|task_type=TYPE:]LIMIT`; InvalidValueError
    naming the flag otherwise."""
    option = "--" + metric.replace("_", "-")
    scope = None
    limit_text = text
    if "=" in text:
        kind, _, rest = text.partition("=")
        kind = kind.strip().lower().replace("-", "_")
        name, colon, limit_text = rest.rpartition(":")
        if kind not in SCOPES or not colon or not name:
            raise InvalidValueError(option, text, f"{ALLOWED[metric]}; {SCOPE_ALLOWED}")
        scope = Scope(kind, name.strip() if kind == "task_type" else name)
    try:
        limit = parse_limit(metric, limit_text)
    except ValueError as error:
        raise InvalidValueError(option, text, f"{error}; {SCOPE_ALLOWED}") from None
    return Budget(metric, limit, scope, f"{option} {text}")


def budgets_from_table(table: object, origin: str) -> tuple[Budget, ...]:
    """The budgets of a configuration's `budgets` table (see the module docstring); ConfigError,
    one line naming the key, otherwise. `origin` is the file's name."""
    where = "budgets"
    if not isinstance(table, dict):
        raise ConfigError(f"{origin}: {where} must be a table of limits (max_cost = 5, ...)")
    found: list[Budget] = []
    for key, value in table.items():
        if key in METRICS:
            found.append(_configured(origin, f"{where}.{key}", key, value, None))
        elif key in SCOPES:
            if not isinstance(value, dict):
                raise ConfigError(
                    f"{origin}: {where}.{key} must be a table of names, each a table of limits"
                )
            for name, limits in value.items():
                place = f"{where}.{key}.{_toml_key(name)}"
                if not isinstance(limits, dict):
                    raise ConfigError(f"{origin}: {place} must be a table of limits")
                for metric, limit in limits.items():
                    if metric not in METRICS:
                        raise _unknown(origin, f"{place}.{_toml_key(metric)}", METRICS)
                    found.append(
                        _configured(origin, f"{place}.{metric}", metric, limit, Scope(key, name))
                    )
        else:
            raise _unknown(origin, f"{where}.{_toml_key(key)}", (*METRICS, *SCOPES))
    return tuple(found)


def combine_budgets(configured: tuple[Budget, ...], given: list[Budget]) -> tuple[Budget, ...]:
    """The configured budgets, each replaced by a flag for the same metric and scope, then the
    other flags; a flag given twice for one metric and scope is refused."""
    flags: dict[tuple[str, Scope | None], Budget] = {}
    for budget in given:
        if budget.key in flags:
            raise TelemetryError(
                f"{budget.source} and {flags[budget.key].source} set the same budget; give one"
            )
        flags[budget.key] = budget
    kept = [flags.pop(budget.key, budget) for budget in configured]
    return (*kept, *flags.values())


def _configured(origin: str, place: str, metric: str, value: Any, scope: Scope | None) -> Budget:
    try:
        limit = parse_limit(metric, value)
    except ValueError as error:
        raise ConfigError(f"{origin}: {place} = {value!r} is not allowed; {error}") from None
    return Budget(metric, limit, scope, f"{origin}: {place}")


def _unknown(origin: str, place: str, allowed: tuple[str, ...]) -> ConfigError:
    return ConfigError(f"{origin}: {place} is not a budget setting; allowed: {', '.join(allowed)}")


def _toml_key(name: object) -> str:
    text = str(name)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else '"' + text.replace('"', '\\"') + '"'


def _dollars(femto: int) -> str:
    """Dollars with cents, and more decimals only where the limit has them."""
    cents, rest = divmod(femto, FEMTO_PER_USD // 100)
    shown = f"{cents // 100:,}.{cents % 100:02d}"
    if rest:
        shown += f"{rest:013d}".rstrip("0")
    return shown


def _rate(rate: Fraction) -> str:
    """The rate in percent, exactly as written (a limit is a decimal, so its percent is too)."""
    from decimal import Decimal

    percent = rate * 100
    exact = Decimal(percent.numerator) / Decimal(percent.denominator)
    return format(exact.normalize(), "f") + "%"
