"""Calendar arithmetic on stored timestamps: day numbers, ISO weeks, instants, no datetime.

A report buckets every row by day, so building a `datetime` per row would cost more than reading
it. Days are counted from 1970-01-01 (day 0) in the proleptic Gregorian calendar, which also
covers the instants just outside `datetime`'s years 1..9999 that a valid row with an extreme
offset can name. Weeks are ISO 8601 weeks, keyed by the day number of their Monday.
"""

from __future__ import annotations

from telemetry_csv import rfc3339

# Re-exported: the calendar arithmetic lives with the timestamps it reads.
from telemetry_csv.rfc3339 import civil_from_days as civil_from_days
from telemetry_csv.rfc3339 import days_from_civil as days_from_civil

SECONDS_PER_DAY = 86_400
# The instants `datetime` can hold in any time zone, a day inside its years 1..9999.
_DATETIME_FIRST_SECOND = -62_135_596_800 + SECONDS_PER_DAY  # 0001-01-02T00:00:00Z
_DATETIME_LAST_SECOND = 253_402_300_799 - SECONDS_PER_DAY  # 9999-12-30T23:59:59Z


def datetime_second(seconds: int) -> int:
    """`seconds` (Unix time) moved into `datetime`'s range, for asking a time zone or a price
    list about instants a valid row can name beyond it (they answer the same there)."""
    return min(max(seconds, _DATETIME_FIRST_SECOND), _DATETIME_LAST_SECOND)


def day_label(days: int) -> str:
    """`YYYY-MM-DD` for a day number."""
    year, month, day = civil_from_days(days)
    return f"{year:04d}-{month:02d}-{day:02d}"


def week_of(days: int) -> int:
    """The ISO week a day belongs to, as the day number of that week's Monday."""
    return days - (days + 3) % 7  # day 0, 1970-01-01, was a Thursday


def week_label(monday: int) -> str:
    """`YYYY-Www` for the ISO week starting on day number `monday`."""
    thursday = monday + 3  # an ISO week belongs to the year of its Thursday
    year = civil_from_days(thursday)[0]
    week = (thursday - days_from_civil(year, 1, 1)) // 7 + 1
    return f"{year:04d}-W{week:02d}"


def parse_day(text: str) -> int | None:
    """The day number of a `YYYY-MM-DD` date that a stored timestamp may name, else None."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    digits = text[:4] + text[5:7] + text[8:]
    if not (digits.isascii() and digits.isdigit()) or not rfc3339.valid_date(text):
        return None
    return days_from_civil(int(text[:4]), int(text[5:7]), int(text[8:]))


def offset_seconds(timestamp: str) -> int:
    """The UTC offset of a valid stored timestamp, in seconds east of UTC."""
    if timestamp[-1] == "Z":
        return 0
    sign = -1 if timestamp[-6] == "-" else 1
    return sign * (int(timestamp[-5:-3]) * 3600 + int(timestamp[-2:]) * 60)


def hour_start(timestamp: str) -> int:
    """The instant (Unix seconds) at which the stored timestamp's hour, in its own offset, begins."""
    days = days_from_civil(int(timestamp[:4]), int(timestamp[5:7]), int(timestamp[8:10]))
    return days * SECONDS_PER_DAY + int(timestamp[11:13]) * 3600 - offset_seconds(timestamp)


def fraction_ns(timestamp: str) -> int:
    """The fraction of a second of a valid stored timestamp, in nanoseconds."""
    if timestamp[19] != ".":
        return 0
    end = 20
    while timestamp[end].isdigit():
        end += 1
    return int(timestamp[20:end].ljust(9, "0"))


def instant(timestamp: str) -> tuple[int, int]:
    """A valid stored timestamp as (Unix seconds, nanoseconds), exact to the nanosecond."""
    seconds = hour_start(timestamp) + int(timestamp[14:16]) * 60 + int(timestamp[17:19])
    return seconds, fraction_ns(timestamp)
