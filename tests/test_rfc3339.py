from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from telemetry_csv import rfc3339

ACCEPTED = [
    "2026-02-23T22:19:12+01:00",
    "2026-02-23T22:19:12Z",
    "2026-02-23T22:19:12-05:30",
    "2026-02-23T22:19:12.5Z",
    "2026-02-23T22:19:12.123456789+00:00",
    "2024-02-29T00:00:00Z",  # leap day
    "2026-12-31T23:59:59-00:00",  # RFC 3339 "unknown local offset"
    "0001-01-01T00:00:00Z",
]

REFUSED = [
    ("2026-02-23T22:19:12", "offset is missing"),
    ("2026-02-23", "date alone"),
    ("2026-02-23 22:19:12+01:00", "not a space"),
    ("2026-02-30T10:00:00Z", "2026-02-30 does not exist"),
    ("2025-02-29T10:00:00Z", "2025-02-29 does not exist"),
    ("2026-13-01T10:00:00Z", "does not exist"),
    ("2026-02-23T24:00:00Z", "does not exist"),
    ("2026-02-23T22:60:00Z", "does not exist"),
    ("2026-02-23T22:19:60Z", "leap seconds"),
    ("2026-02-23T22:19Z", "seconds are missing"),
    ("2026-02-23t22:19:12z", "upper-case"),
    ("2026-02-23T22:19:12+0100", "with a colon"),
    ("2026-02-23T22:19:12+24:00", "offset +24:00 does not exist"),
    ("2026-02-23T22:19:12.1234567890Z", "at most 9 fraction digits"),
    ("2026-W08-1T22:19:12Z", "not an RFC 3339"),
    ("20260223T221912Z", "not an RFC 3339"),  # ISO 8601 basic format: fromisoformat takes it
    ("2026-02-23T22:19:12.Z", "not an RFC 3339"),
    ("", "not an RFC 3339"),
    ("0000-01-01T00:00:00Z", "does not exist"),
    ("２０２６-02-23T22:19:12Z", "not an RFC 3339"),  # noqa: RUF001 - full-width digits match \d
]


@pytest.mark.parametrize("value", ACCEPTED)
def test_accepted(value: str) -> None:
    assert rfc3339.problem(value) is None


@pytest.mark.parametrize(("value", "reason"), REFUSED)
def test_refused_with_reason(value: str, reason: str) -> None:
    problem = rfc3339.problem(value)
    assert problem is not None
    assert reason in problem


def test_parse_keeps_the_offset_and_truncates_to_microseconds() -> None:
    parsed = rfc3339.parse("2026-02-23T22:19:12.123456789+01:00")
    assert parsed == datetime(2026, 2, 23, 22, 19, 12, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert rfc3339.parse("2026-02-23T21:19:12Z") == datetime(2026, 2, 23, 21, 19, 12, tzinfo=UTC)
    with pytest.raises(ValueError):
        rfc3339.parse("2026-02-30T00:00:00Z")


def test_format_now_is_valid_to_the_second_with_an_offset() -> None:
    now = rfc3339.format_now()
    assert rfc3339.problem(now) is None
    assert "." not in now


def test_the_canonical_date_pattern_is_the_calendar_of_valid_date() -> None:
    """Every 29 February of years 0000-9999, and every month 00-19 and day 00-39 of years that
    matter to the leap rule: the pattern matches exactly the days `valid_date` accepts."""
    import re

    pattern = re.compile(rfc3339.CANONICAL_DATE_PATTERN)
    days = [f"{year:04d}-02-29" for year in range(10000)]
    for year in (0, 1, 4, 100, 300, 400, 1600, 1900, 2000, 2024, 2026, 2100, 9996, 9999):
        days += [f"{year:04d}-{month:02d}-{day:02d}" for month in range(20) for day in range(40)]
    disagree = [d for d in days if (pattern.fullmatch(d) is not None) != rfc3339.valid_date(d)]
    assert disagree == []
    assert sum(pattern.fullmatch(d) is not None for d in days[:10000]) == 2424  # leap years
