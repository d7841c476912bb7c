"""Percentiles as `statistics` computes them, and numbers formatted for people."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telemetry_csv.durations import format_duration
from telemetry_csv.report import numbers
from telemetry_csv.report.data import FEMTO_PER_USD, Cost
from telemetry_csv.report.percentiles import percentile


@given(st.lists(st.integers(min_value=0, max_value=10**15), min_size=2, max_size=200))
def test_percentiles_equal_statistics_quantiles_inclusive(values: list[int]) -> None:
    ordered = sorted(values)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    for percent in (1, 5, 25, 50, 75, 95, 99):
        assert percentile(ordered, percent) == cuts[percent - 1]
    assert percentile(ordered, 0) == ordered[0]
    assert percentile(ordered, 100) == ordered[-1]


def test_percentiles_of_one_and_two_values() -> None:
    assert percentile([42], 50) == percentile([42], 95) == 42.0
    assert percentile([10, 20], 50) == 15.0
    assert percentile([10, 20], 95) == 19.5


def test_percentiles_refuse_nothing() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)


@pytest.mark.parametrize(
    ("ms", "shown"),
    [
        (0, "0ms"),
        (850, "850ms"),
        (999.4, "999ms"),
        (999.6, "1.0s"),
        (4200, "4.2s"),
        (9949, "9.9s"),
        (9950, "10s"),
        (52_000, "52s"),
        (59_499, "59s"),
        (59_500, "1m 00s"),
        (65_000, "1m 05s"),
        (384_000, "6m 24s"),
        (3_599_400, "59m 59s"),
        (3_599_500, "1h 00m"),
        (7_380_000, "2h 03m"),
        (86_370_000, "1d 00h"),
        (273_600_000, "3d 04h"),
    ],
)
def test_format_duration(ms: float, shown: str) -> None:
    assert format_duration(ms) == shown


def test_format_duration_refuses_negative() -> None:
    with pytest.raises(ValueError):
        format_duration(-1)


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [(5, 6, "83.3%"), (1, 8, "12.5%"), (1, 3, "33.3%"), (2, 3, "66.7%"), (0, 4, "0.0%"),
     (4, 4, "100.0%"), (1, 2000, "0.1%"), (1, 2001, "0.0%"), (0, 0, numbers.NOTHING)],
)  # fmt: skip
def test_percent_rounds_half_up(part: int, whole: int, shown: str) -> None:
    assert numbers.percent(part, whole) == shown


@pytest.mark.parametrize(
    ("dollars", "shown"),
    [("0", "$0.00"), ("0.004999", "<$0.01"), ("0.005", "$0.01"), ("1234.565", "$1,234.57"),
     ("1234.5649", "$1,234.56")],
)  # fmt: skip
def test_money(dollars: str, shown: str) -> None:
    from decimal import Decimal

    assert numbers.money(int(Decimal(dollars) * FEMTO_PER_USD)) == shown


def test_cost_cells_never_show_unpriced_as_zero() -> None:
    assert numbers.cost(Cost(0, 0, 3)) == "unpriced"
    assert numbers.cost(Cost(10**15, 2, 1)) == "$1.00 + 1 unpriced"
    assert numbers.cost(Cost(0, 2, 0)) == "$0.00"  # priced, and free
    assert numbers.cost(None) == numbers.NOTHING


@pytest.mark.parametrize(
    ("dollars", "json_usd", "shown"),
    [("0.0000125", 0.000013, "<$0.01"), ("0.0000135", 0.000014, "<$0.01"),
     ("0.0000124999", 0.000012, "<$0.01"), ("2.125", 2.125, "$2.13"), ("2.135", 2.135, "$2.14"),
     ("0.0049995", 0.005, "<$0.01")],
)  # fmt: skip
def test_json_and_markdown_round_money_the_same_way(
    dollars: str, json_usd: float, shown: str
) -> None:
    """Half up in both, from the exact femto-dollars: JSON to the micro-dollar, Markdown to
    the cent (half-even would give 0.000012 for the first)."""
    from decimal import Decimal

    from telemetry_csv.report.data import Stats
    from telemetry_csv.report.json_format import stats_document

    femto = int(Decimal(dollars) * FEMTO_PER_USD)
    document = stats_document(Stats(runs=1, cost=Cost(femto, 1, 0)))
    assert document["cost"]["usd"] == json_usd
    assert numbers.money(femto) == shown
