"""Day numbers, ISO weeks, instants and zone buckets agree with `datetime` and `zoneinfo`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telemetry_csv import rfc3339
from telemetry_csv.errors import InvalidValueError
from telemetry_csv.report.dates import (
    civil_from_days,
    day_label,
    days_from_civil,
    instant,
    parse_day,
    week_label,
    week_of,
)
from telemetry_csv.report.zones import HourBuckets, hour_key, resolve_zone

EPOCH = date(1970, 1, 1)


@given(st.dates())
def test_day_numbers_match_datetime(day: date) -> None:
    number = (day - EPOCH).days
    assert days_from_civil(day.year, day.month, day.day) == number
    assert civil_from_days(number) == (day.year, day.month, day.day)
    assert day_label(number) == day.isoformat()
    assert parse_day(day.isoformat()) == number


@given(st.dates())
def test_iso_weeks_match_isocalendar(day: date) -> None:
    year, week, weekday = day.isocalendar()
    monday = week_of((day - EPOCH).days)
    assert monday == (day - EPOCH).days - (weekday - 1)
    assert week_label(monday) == f"{year:04d}-W{week:02d}"


def test_days_beyond_datetime_range() -> None:
    assert day_label(days_from_civil(0, 12, 31)) == "0000-12-31"
    assert day_label(days_from_civil(10000, 1, 1)) == "10000-01-01"


@pytest.mark.parametrize(
    "text",
    ["2026-02-29", "2026-13-01", "2026-1-01", "\uff12\uff10\uff12\uff16-01-01", "", "0000-01-01"],
)
def test_parse_day_refuses_what_is_not_a_day(text: str) -> None:
    assert parse_day(text) is None


@given(
    st.integers(min_value=0, max_value=9999),
    st.integers(min_value=0, max_value=13),
    st.integers(min_value=0, max_value=32),
)
def test_parse_day_accepts_the_days_a_timestamp_may_name(year: int, month: int, day: int) -> None:
    """The same rule as the log's timestamps (rfc3339), not a second one."""
    text = f"{year:04d}-{month:02d}-{day:02d}"
    stored_day_exists = rfc3339.problem(text + "T00:00:00Z") is None
    assert (parse_day(text) is not None) == stored_day_exists


timestamps = st.builds(
    lambda moment, offset_minutes, fraction: (
        moment.replace(tzinfo=None).isoformat(timespec="seconds")
        + fraction
        + (
            "Z"
            if offset_minutes is None
            else f"{'-' if offset_minutes < 0 else '+'}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"
        )
    ),
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 12, 30)),
    st.one_of(st.none(), st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59)),
    st.sampled_from(["", ".5", ".123456", ".999999999"]),
)


@given(timestamps)
def test_instant_matches_rfc3339_parse(stamp: str) -> None:
    assert rfc3339.problem(stamp) is None
    seconds, nanoseconds = instant(stamp)
    parsed = rfc3339.parse(stamp)
    assert seconds == int(parsed.timestamp() // 1)
    assert nanoseconds // 1000 == parsed.microsecond


ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu",
         "Australia/Lord_Howe", "America/St_Johns", "Pacific/Chatham", "Africa/Casablanca"]  # fmt: skip


@given(st.lists(timestamps, min_size=1, max_size=30), st.sampled_from(ZONES))
def test_hour_buckets_give_the_local_day_datetime_gives(stamps: list[str], name: str) -> None:
    zone = resolve_zone(name)
    buckets = HourBuckets(zone)
    info = None if name == "UTC" else ZoneInfo(name)
    for stamp in stamps:
        key = hour_key(stamp)
        entry = buckets.hours.get(key) or buckets.entry(key, stamp)
        day, start = entry
        if day is None:
            day = buckets.exact_day(start, stamp)
        moment = rfc3339.parse(stamp).astimezone(info or UTC)
        assert day_label(day) == moment.date().isoformat(), (stamp, name)


def test_dst_change_inside_an_hour_is_exact() -> None:
    """Europe/Berlin fell back at 01:00 UTC on 2026-10-25; a -09:30 row's stored hour spans it
    and local midnight of a +14:00 neighbour."""
    zone = resolve_zone("Europe/Berlin")
    buckets = HourBuckets(zone)
    start = datetime(2026, 10, 24, 21, 0, tzinfo=UTC)
    for minutes in range(0, 24 * 60, 7):
        moment = start + timedelta(minutes=minutes)
        for offset in ("Z", "+05:30", "-09:30", "+14:00"):
            shifted = moment.astimezone(
                UTC if offset == "Z" else datetime.strptime(offset, "%z").tzinfo
            )
            stamp = shifted.replace(tzinfo=None).isoformat(timespec="seconds") + offset
            day, begin = buckets.hours.get(hour_key(stamp)) or buckets.entry(hour_key(stamp), stamp)
            day = buckets.exact_day(begin, stamp) if day is None else day
            expected = moment.astimezone(ZoneInfo("Europe/Berlin")).date().isoformat()
            assert day_label(day) == expected, stamp


@pytest.mark.parametrize("name", ["utc", "UTC", "Z"])
def test_utc_names(name: str) -> None:
    assert resolve_zone(name).is_utc


def test_iana_and_local_zones() -> None:
    assert resolve_zone("Europe/Berlin").name == "Europe/Berlin"
    local = resolve_zone("local")
    assert local.name.startswith("local")
    assert isinstance(local.offset_at(0), int)


@pytest.mark.parametrize("name", ["Europe/Berln", "Europe", "../etc/passwd", "", "+01:00"])
def test_unknown_zones_are_refused_in_one_line(name: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        resolve_zone(name)
    message = str(caught.value)
    assert message.startswith("--tz: ") and "IANA time zone name" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("tz", "name", "day"),
    [
        ("CET-1CEST", "local (TZ=CET-1CEST)", "2026-07-02"),  # a POSIX rule: the C library's
        ("America/New_York", "local (America/New_York)", "2026-07-01"),
        ("Asia/Tokyo", "local (Asia/Tokyo)", "2026-07-02"),
    ],
)
def test_local_follows_tz_like_the_c_library(tmp_path, tz: str, name: str, day: str) -> None:
    import json
    import os
    import subprocess
    import sys

    from testing.util import HEADER, row_line

    log = tmp_path / "usage.csv"
    log.write_text(HEADER + row_line("2026-07-01T22:30:00Z"))
    command = [sys.executable, "-m", "telemetry_csv", "report", "--tz", "local", "--format", "json"]
    done = subprocess.run(
        [*command, "--no-costs", str(log)],
        env=dict(os.environ, TZ=tz), capture_output=True, text=True, check=True,
    )  # fmt: skip
    document = json.loads(done.stdout)
    assert document["time_zone"] == name
    assert [group["day"] for group in document["by_day"]] == [day]
