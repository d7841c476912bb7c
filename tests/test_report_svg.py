"""The SVG drawing: axis labels thinned for two years of days, round ticks, every chart
well-formed XML with its data's text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest

from telemetry_csv.report import svg
from telemetry_csv.report.dates import days_from_civil

NS = "{http://www.w3.org/2000/svg}"


def day(text: str) -> int:
    year, month, day_of_month = (int(part) for part in text.split("-"))
    return days_from_civil(year, month, day_of_month)


@pytest.mark.parametrize(
    ("first", "last", "labels"),
    [
        ("2026-11-20", "2026-11-20", ["2026-11-20"]),
        ("2026-11-20", "2026-11-24", ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24"]),
        ("2026-11-20", "2026-11-29", ["2026-11-20", "2026-11-22", "2026-11-24", "2026-11-26", "2026-11-28"]),
        ("2026-11-01", "2026-11-30", ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]),
        ("2026-09-01", "2026-11-30", ["2026-09", "2026-10", "2026-11"]),
        ("2026-01-15", "2026-06-30", ["2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]),
        ("2024-12-02", "2026-12-01", ["2025-01", "2025-07", "2026-01", "2026-07"]),
        ("2014-01-01", "2026-12-31", ["2014", "2017", "2020", "2023", "2026"]),
    ],
)  # fmt: skip
def test_day_labels_are_thinned_to_a_handful(first: str, last: str, labels: list[str]) -> None:
    ticks = svg.day_ticks(day(first), day(last))
    assert [label for _, label in ticks] == labels
    assert len(ticks) <= 6
    assert all(day(first) <= at <= day(last) for at, _ in ticks)


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (0, [0.0, 1.0]),
        (7, [0, 2, 4, 6, 8]),
        (100, [0, 25, 50, 75, 100]),
        (16_100_000, [0, 5_000_000, 10_000_000, 15_000_000, 20_000_000]),
        (0.034, [0, 0.01, 0.02, 0.03, 0.04]),
    ],
)
def test_nice_ticks(top: float, ticks: list[float]) -> None:
    assert svg.nice_ticks(top) == pytest.approx(ticks)


def test_log_and_duration_ticks() -> None:
    assert svg.log_ticks(0.0004, 0.3) == pytest.approx([0.0001, 0.001, 0.01, 0.1, 1])
    assert svg.log_ticks(0.03, 0.4) == pytest.approx([0.02, 0.05, 0.1, 0.2, 0.5])
    assert svg.duration_ticks(764_000) == [0, 300_000, 600_000, 900_000]
    assert svg.duration_ticks(25_000) == [0, 10_000, 20_000, 30_000]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (12, "12"),
        (950, "950"),
        (1200, "1.2k"),
        (35_000, "35k"),
        (1_500_000, "1.5M"),
        (2e9, "2B"),
    ],
)
def test_compact_numbers(value: float, text: str) -> None:
    assert svg.compact(value) == text


@pytest.mark.parametrize(
    ("ms", "text"),
    [(0, "0"), (500, "500ms"), (30_000, "30s"), (300_000, "5m"), (5_400_000, "1.5h")],
)
def test_short_durations(ms: float, text: str) -> None:
    assert svg.short_duration(ms) == text


NAME = "<b>&\"quoted'</b>"


def charts() -> list[str]:
    return [
        svg.stacked_columns(
            "a", NAME, 10, 20, [(10, [5.0, 0.0]), (15, [1.0, 2.0])], ["c0", "other"],
            [NAME, "two"], [(10, NAME)], svg.compact,
        ),
        svg.line_panel("b", NAME, 0, 70, {0: 0.5, 7: 1.0, 21: 0.0}, {0: 0.5, 7: 0.9}, "c1"),
        svg.range_rows("c", NAME, [(NAME, 1000.0, 9000.0, NAME)]),
        svg.value_rows("d", NAME, [(NAME, 2.5, "$2.50", "c0"), ("x", None, "unpriced", "other")], str),
        svg.interval_plot(
            "e", NAME,
            [svg.Point("1", NAME, 0.9, 0.8, 0.95, 0.02, "c0", True),
             svg.Point("2", "y", 0.7, 0.5, 0.8, None, "other")],
            str,
        ),
        svg.interval_plot("f", NAME, [svg.Point("1", NAME, 0.3, 0.1, 0.6, None, "c0")], str),
    ]  # fmt: skip


@pytest.mark.parametrize("index", range(6))
def test_charts_are_well_formed_and_escape_their_text(index: int) -> None:
    text = charts()[index]
    root = ElementTree.fromstring(text)  # raises on anything not well-formed
    assert root.tag == f"{NS}svg" and root.get("role") == "img"
    assert root.find(f"{NS}title").text == NAME  # type: ignore[union-attr]
    assert "<b>" not in text
    texts = ["".join(node.itertext()) for node in root.iter()]
    assert any(NAME in found for found in texts)


def test_a_day_without_data_is_a_gap_in_the_line_and_no_column() -> None:
    panel = svg.line_panel("p", "t", 0, 21, {0: 0.5, 7: 1.0, 21: 0.0}, {}, "c1")
    line = next(
        node for node in ElementTree.fromstring(panel).iter(f"{NS}path")
        if "line" in (node.get("class") or "")
    )  # fmt: skip
    assert [segment[0] for segment in line.get("d", "").replace("L", " L").replace("M", " M").split()[::2]] == [
        "M", "L", "M"
    ]  # fmt: skip
    columns = svg.stacked_columns(
        "s", "t", 0, 9, [(0, [1.0]), (9, [2.0])], ["c0"], ["a", "b"], [], str
    )
    bars = next(node for node in ElementTree.fromstring(columns).iter(f"{NS}path"))
    assert bars.get("d", "").count("M") == 2
