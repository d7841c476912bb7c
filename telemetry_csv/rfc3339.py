"""RFC 3339 (section 5.6) date-times, stricter than `datetime.fromisoformat`.

Accepted: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`, upper-case `T` and `Z`, a
fraction of 1 to 9 digits. Refused, each with its own reason: a missing offset, a date alone,
a space for `T`, days or times that do not exist, and leap seconds (`:60`), which Python's
`datetime` cannot represent and which no agent clock produces.
"""

from __future__ import annotations

import re
import time
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

EXAMPLE = "2026-02-23T22:19:12+01:00"
ALLOWED = f"expected an RFC 3339 date-time with seconds and an offset, e.g. {EXAMPLE}"
MAX_FRACTION_DIGITS = 9

_SHAPE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?(?:(Z)|([+-])([0-9]{2}):([0-9]{2}))"
)

# A day that exists, as `valid_date` decides, for whole-line patterns that check a block of rows
# in one regex call: month lengths, and 29 February in the leap years (every fourth year but
# the centuries that 400 does not divide). Year 0000 does not exist. Tests compare it with
# `valid_date` for every year and every month and day.
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
CANONICAL_DATE_PATTERN = (
    r"(?!0000)(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    rf"|{_LEAP_YEAR}-02-29)"
)
# A canonical date-time that exists (leap seconds aside, which are refused), for whole-line patterns.
CANONICAL_PATTERN = (
    CANONICAL_DATE_PATTERN + r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)


@cache
def _diagnoses() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Patterns for the usual mistakes, compiled only when a value is wrong (start-up time)."""
    return (
        (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), "a date alone is not enough"),
        (
            re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} .*"),
            "use 'T' between the date and the time, not a space",
        ),
        (
            re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[tT][0-9]{2}:[0-9]{2}(?:[zZ]|[+-].*)?"),
            "the seconds are missing",
        ),
        (
            re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[tT][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"),
            "the offset is missing",
        ),
        (re.compile(r".*\.[0-9]{10,}.*"), f"at most {MAX_FRACTION_DIGITS} fraction digits"),
        (
            re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}t.*|[0-9]{4}-.*[0-9]z"),
            "use upper-case 'T' and 'Z'",
        ),
        (re.compile(r".*[+-][0-9]{4}"), "write the offset as ±HH:MM, with a colon"),
    )


def problem(value: str) -> str | None:
    """Why `value` is not an RFC 3339 date-time, or None when it is one."""
    match = _SHAPE.fullmatch(value)
    if match is None:
        for pattern, reason in _diagnoses():
            if pattern.fullmatch(value):
                return f"{reason}; {ALLOWED}"
        return f"not an RFC 3339 date-time; {ALLOWED}"
    hour, minute, second = (int(match.group(i)) for i in range(4, 7))
    if not valid_date(value[:10]):
        return f"the day {value[:10]} does not exist; {ALLOWED}"
    if hour > 23 or minute > 59:
        return f"the time {value[11:16]} does not exist; {ALLOWED}"
    if second == 60:
        return "leap seconds (:60) are not supported; use :59"
    if second > 59:
        return f"the time {value[11:19]} does not exist; {ALLOWED}"
    if match.group(8) is None and (int(match.group(10)) > 23 or int(match.group(11)) > 59):
        return f"the offset {value[-6:]} does not exist; {ALLOWED}"
    return None


_valid_dates: dict[str, bool] = {}


def valid_date(text: str) -> bool:
    """Whether `YYYY-MM-DD` names a real day; cached, since a log has few distinct days."""
    known = _valid_dates.get(text)
    if known is None:
        year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
        known = year >= 1 and 1 <= month <= 12 and 1 <= day <= days[month - 1]
        if len(_valid_dates) < 100_000:
            _valid_dates[text] = known
    return known


def parse(value: str) -> datetime:
    """An aware datetime for a valid RFC 3339 value; fractions below a microsecond are dropped."""
    from datetime import UTC, datetime, timedelta, timezone

    match = _SHAPE.fullmatch(value)
    if match is None or problem(value) is not None:
        raise ValueError(f"not a valid RFC 3339 date-time: {value!r}")
    fraction = match.group(7)
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    if match.group(8):
        tz = UTC
    else:
        sign = -1 if match.group(9) == "-" else 1
        tz = timezone(sign * timedelta(hours=int(match.group(10)), minutes=int(match.group(11))))
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)


_epoch_days: dict[str, int] = {}


def instant_ns(value: str) -> int:
    """Nanoseconds since 1970-01-01T00:00:00Z of a valid RFC 3339 value, to sort by instant:
    `2026-11-20T23:30:00-05:00` comes after `2026-11-21T00:15:00+01:00`."""
    date = value[:10]
    days = _epoch_days.get(date)
    if days is None:
        days = days_from_civil(int(value[0:4]), int(value[5:7]), int(value[8:10]))
        if len(_epoch_days) < 100_000:
            _epoch_days[date] = days
    seconds = days * 86400 + int(value[11:13]) * 3600 + int(value[14:16]) * 60 + int(value[17:19])
    rest = value[19:]
    nanos = 0
    if rest.startswith("."):
        digits = len(rest) - 1 - (1 if rest.endswith("Z") else 6)
        nanos = int(rest[1 : 1 + digits].ljust(9, "0"))
        rest = rest[1 + digits :]
    if rest != "Z":
        offset = int(rest[1:3]) * 3600 + int(rest[4:6]) * 60
        seconds -= offset if rest[0] == "+" else -offset
    return seconds * 1_000_000_000 + nanos


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """The (year, month, day) of a day number; the inverse of `days_from_civil`."""
    days += 719_468
    era = days // 146_097
    day_of_era = days - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + 3 if shifted_month < 10 else shifted_month - 9
    return year_of_era + era * 400 + (month <= 2), month, day


def normalise(value: str) -> str:
    """Friendly input to the stored form: RFC 3339 allows lower-case `t` and `z`; files get upper."""
    value = value.strip()
    if len(value) > 10 and value[10] == "t":
        value = value[:10] + "T" + value[11:]
    if value.endswith("z"):
        value = value[:-1] + "Z"
    return value


def format_now() -> str:
    """Now, in the local offset, to the second: what `log` stamps a row with by default."""
    # time.localtime instead of datetime: the same answer without importing datetime at start-up.
    now = time.localtime()
    offset = now.tm_gmtoff // 60
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset), 60)
    return time.strftime("%Y-%m-%dT%H:%M:%S", now) + f"{sign}{hours:02d}:{minutes:02d}"
