"""`build_report` against hand-computed numbers: groups, percentiles, days and weeks by zone,
filters, first and last, sort orders."""

from __future__ import annotations

import pytest

from telemetry_csv.report.aggregate import ReportOptions, build_report
from telemetry_csv.report.data import Report
from telemetry_csv.report.filters import build_filters
from telemetry_csv.report.zones import resolve_zone
from testing.report_fixtures import rows


def report(tz: str = "UTC", **filters) -> Report:
    options = ReportOptions(filters=build_filters(**filters), zone=resolve_zone(tz), costs=False)
    return build_report(rows(), options)


def keyed(groups) -> dict:
    return {group.key: group.stats for group in groups}


def test_totals() -> None:
    result = report()
    totals = result.totals
    assert (result.rows_read, totals.runs, totals.successes, totals.failures) == (5, 5, 3, 2)
    assert (totals.prompt_tokens, totals.completion_tokens, totals.total_tokens) == (
        5400,
        1350,
        6750,
    )
    assert totals.success_rate == 0.6
    durations = totals.durations
    assert (durations.total, durations.mean, durations.p50, durations.max) == (
        150000,
        30000,
        30000,
        50000,
    )
    assert durations.p95 == 48000  # rank 4 * 0.95 = 3.8: 40000 + 0.8 * 10000
    assert totals.cost is None


def test_first_and_last_are_by_instant_not_by_text() -> None:
    result = report()
    assert result.first == "2026-11-21T00:15:00+01:00"  # 11-20 23:15 UTC, the earliest
    assert result.last == "2026-11-23T10:00:00Z"


def test_by_model_sorted_by_tokens() -> None:
    result = report()
    assert [group.key for group in result.by_model] == ["claude-3-opus", "openai/gpt-4o"]
    opus, gpt = (group.stats for group in result.by_model)
    assert (opus.runs, opus.successes, opus.prompt_tokens, opus.completion_tokens) == (
        3,
        2,
        4100,
        950,
    )
    assert (opus.durations.mean, opus.durations.p50, opus.durations.p95) == (30000, 30000, 48000)
    assert (gpt.runs, gpt.successes, gpt.total_tokens) == (2, 1, 1700)
    assert (gpt.durations.p50, gpt.durations.p95, gpt.durations.max) == (30000, 39000, 40000)


def test_by_task_type_sorted_by_runs_then_name() -> None:
    result = report()
    assert [group.key for group in result.by_task_type] == ["execute", "plan", "verify"]
    stats = keyed(result.by_task_type)
    assert (stats["plan"].runs, stats["plan"].successes) == (2, 1)
    assert (stats["execute"].runs, stats["execute"].successes) == (2, 1)
    assert (stats["verify"].runs, stats["verify"].successes) == (1, 1)


def test_model_task_type_pairs_follow_both_orders() -> None:
    result = report()
    assert [group.key for group in result.by_model_task_type] == [
        ("claude-3-opus", "execute"),
        ("claude-3-opus", "plan"),
        ("openai/gpt-4o", "execute"),
        ("openai/gpt-4o", "verify"),
    ]
    pairs = keyed(result.by_model_task_type)
    assert (pairs["claude-3-opus", "plan"].runs, pairs["claude-3-opus", "plan"].successes) == (2, 1)


@pytest.mark.parametrize(
    ("tz", "days", "weeks"),
    [
        (
            "UTC",
            {"2026-11-20": 1, "2026-11-21": 2, "2026-11-22": 1, "2026-11-23": 1},
            {"2026-W47": 4, "2026-W48": 1},
        ),
        (
            "America/New_York",
            {"2026-11-20": 2, "2026-11-21": 1, "2026-11-22": 1, "2026-11-23": 1},
            {"2026-W47": 4, "2026-W48": 1},
        ),
        ("Asia/Kolkata", {"2026-11-21": 3, "2026-11-23": 2}, {"2026-W47": 3, "2026-W48": 2}),
    ],
)
def test_days_and_weeks_in_the_report_zone(tz: str, days: dict, weeks: dict) -> None:
    result = report(tz)
    assert {group.key: group.stats.runs for group in result.by_day} == days
    assert {group.key: group.stats.runs for group in result.by_week} == weeks
    assert [group.key for group in result.by_day] == sorted(days)


def test_day_groups_carry_tokens_and_medians() -> None:
    day = keyed(report().by_day)["2026-11-21"]
    assert (day.runs, day.total_tokens, day.successes, day.durations.p50) == (2, 4900, 2, 20000)


@pytest.mark.parametrize(
    ("filters", "tz", "expected_rows"),
    [
        ({"since": "2026-11-21"}, "UTC", 4),
        ({"since": "2026-11-21"}, "America/New_York", 3),
        ({"until": "2026-11-20"}, "America/New_York", 2),
        ({"since": "2026-11-21", "until": "2026-11-21"}, "Asia/Kolkata", 3),
        ({"until": "2026-11-21T00:15:00+01:00"}, "UTC", 1),  # an instant, inclusive
        ({"since": "2026-11-23T10:00:00.000000001Z"}, "UTC", 0),
        ({"since": "2026-11-22t19:30:00z"}, "UTC", 2),  # lower-case t and z are fine in input
        ({"models": ["claude-3-opus"], "task_types": ["plan"]}, "UTC", 2),
        ({"models": ["claude-3-opus", "openai/gpt-4o"]}, "UTC", 5),
        ({"task_types": ["Verify"]}, "UTC", 1),
        ({"models": ["claude"]}, "UTC", 0),  # names match exactly
    ],
)
def test_filters(filters: dict, tz: str, expected_rows: int) -> None:
    result = report(tz, **filters)
    assert result.rows == expected_rows
    assert result.rows_read == 5


def test_a_filter_matching_nothing_gives_empty_groups() -> None:
    result = report(models=["nope"])
    assert result.rows == 0 and result.first is None and result.by_model == ()
    assert result.totals.durations.p50 is None and result.totals.success_rate is None


def test_one_row_has_sensible_percentiles() -> None:
    result = build_report(rows()[:1], ReportOptions(costs=False))
    durations = result.totals.durations
    assert (durations.mean, durations.p50, durations.p95, durations.max) == (
        10000,
        10000,
        10000,
        10000,
    )
    assert result.first == result.last


def test_no_rows() -> None:
    result = build_report([], ReportOptions(costs=False))
    assert result.rows == result.rows_read == 0 and result.by_day == ()


def test_ties_first_read_is_first_and_last_read_is_last() -> None:
    from testing.report_fixtures import rows as parse
    from testing.util import row_line

    same = ["2026-11-21T12:00:00Z", "2026-11-21T13:00:00+01:00", "2026-11-21T12:00:00.000Z"]
    lines = [row_line(stamp) for stamp in same] + [row_line("2026-11-21T11:59:59.999999999Z")]
    result = build_report(parse(lines), ReportOptions(costs=False))
    assert result.first == "2026-11-21T11:59:59.999999999Z"
    assert result.last == "2026-11-21T12:00:00.000Z"


def test_rows_out_of_order_and_fractions() -> None:
    from testing.report_fixtures import rows as parse
    from testing.util import row_line

    stamps = ["2026-11-21T12:00:00.5Z", "2026-11-21T12:00:00Z", "2026-11-21T12:00:00.25Z",
              "2026-11-21T17:30:00.75+05:30", "2026-11-21T06:59:59-05:00"]  # fmt: skip
    result = build_report(parse([row_line(stamp) for stamp in stamps]), ReportOptions(costs=False))
    assert result.first == "2026-11-21T06:59:59-05:00"  # 11:59:59 UTC
    assert result.last == "2026-11-21T17:30:00.75+05:30"  # 12:00:00.75 UTC


def _stamp(moment, offset_minutes: int | None, fraction: str) -> str:
    if offset_minutes is None:
        suffix = "Z"
    else:
        sign = "-" if offset_minutes < 0 else "+"
        suffix = f"{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"
    return moment.isoformat(timespec="seconds") + fraction + suffix


def test_against_brute_force_on_random_rows() -> None:
    """First, last, day and week counts against datetime and zoneinfo, row by row."""
    from collections import Counter
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from telemetry_csv import rfc3339
    from telemetry_csv.report.dates import instant
    from testing.report_fixtures import rows as parse
    from testing.util import row_line

    stamps = st.builds(
        _stamp,
        st.datetimes(min_value=datetime(2026, 3, 27), max_value=datetime(2026, 3, 31)),
        st.one_of(st.none(), st.sampled_from([-570, -300, 0, 60, 330, 345, 840])),
        st.sampled_from(["", ".5", ".000000001"]),
    )

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(stamps, min_size=1, max_size=25),
        st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata"]),
    )
    def check(stamps_: list[str], tz: str) -> None:
        result = build_report(
            parse([row_line(stamp) for stamp in stamps_]),
            ReportOptions(zone=resolve_zone(tz), costs=False),
        )
        moments = [instant(stamp) for stamp in stamps_]
        earliest, latest = min(moments), max(moments)
        assert result.first == stamps_[moments.index(earliest)]
        assert result.last == stamps_[len(moments) - 1 - moments[::-1].index(latest)]
        zone = UTC if tz == "UTC" else ZoneInfo(tz)
        local = [rfc3339.parse(stamp).astimezone(zone).date() for stamp in stamps_]
        days = Counter(day.isoformat() for day in local)
        weeks = Counter(f"{day.isocalendar()[0]}-W{day.isocalendar()[1]:02d}" for day in local)
        assert {group.key: group.stats.runs for group in result.by_day} == days
        assert {group.key: group.stats.runs for group in result.by_week} == weeks

    check()
