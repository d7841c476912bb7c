"""Instants as integer milliseconds since the Unix epoch, UTC only.

Agents write ISO 8601 timestamps (`2026-03-11T14:05:09.123Z`, sometimes with an offset, sometimes
without a zone) or epoch numbers. Everything here is UTC and integer, so no result ever depends
on the importing machine's time zone: a timestamp without a zone is read as UTC, never as local
time.
"""

from __future__ import annotations

import time

HOUR_MS = 3_600_000

_hour_starts: dict[str, int] = {}


def parse(value: object) -> int | None:
    """Milliseconds since the epoch for an agent's timestamp, or None when it is not one."""
    if isinstance(value, str):
        return _parse_text(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value != value or value < 0 or value > 1e15:  # NaN, negative, absurd
        return None
    # Epoch seconds and epoch milliseconds are told apart by size, as agents use both.
    return int(value if value > 10_000_000_000 else value * 1000)


def _parse_text(text: str) -> int | None:
    # The common shape, `YYYY-MM-DDTHH:MM:SS[.fff…]Z`, without building a datetime: the hour's
    # start is cached, since a session file's records share few hours.
    if len(text) >= 20 and text[-1] == "Z" and text[13] == ":" and text[16] == ":":
        start = _hour_starts.get(text[:13])
        if start is None:
            start = _hour_start(text[:13])
            if start is None:
                return None
        minutes, seconds = text[14:16], text[17:19]
        if not ((minutes + seconds).isascii() and minutes.isdigit() and seconds.isdigit()):
            return None
        fraction = text[19:-1]
        if fraction:
            if fraction[0] != "." or not fraction[1:].isdigit() or not fraction.isascii():
                return None
            millis = int((fraction[1:] + "00")[:3])
        else:
            millis = 0
        if int(minutes) > 59 or int(seconds) > 59:
            return None
        return start + int(minutes) * 60_000 + int(seconds) * 1000 + millis
    return _parse_other(text)


def _hour_start(prefix: str) -> int | None:
    """`YYYY-MM-DDTHH` to epoch milliseconds, by arithmetic (no datetime, no locale)."""
    if prefix[4] != "-" or prefix[7] != "-" or prefix[10] != "T":
        return None
    digits = prefix[:4] + prefix[5:7] + prefix[8:10] + prefix[11:13]
    if not (digits.isascii() and digits.isdigit()):
        return None
    year, month, day, hour = int(digits[:4]), int(digits[4:6]), int(digits[6:8]), int(digits[8:])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    lengths = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    if not (year >= 1970 and 1 <= month <= 12 and 1 <= day <= lengths[month - 1] and hour < 24):
        return None
    # Days since 1970-01-01 of a proleptic Gregorian date (the civil-from-days inverse).
    shifted = year - (month <= 2)
    era = shifted // 400
    of_era = shifted - era * 400
    of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    of_cycle = of_era * 365 + of_era // 4 - of_era // 100 + of_year
    days = era * 146097 + of_cycle - 719468
    start = (days * 24 + hour) * HOUR_MS
    if len(_hour_starts) < 100_000:
        _hour_starts[prefix] = start
    return start


def _parse_other(text: str) -> int | None:
    from datetime import UTC, datetime

    if len(text) > 40:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    delta = moment - epoch
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def format_utc(ms: int) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ`: the instant to the second (rounded down), in UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def hour_of(ms: int) -> int:
    """The start of the UTC hour holding `ms`."""
    return ms - ms % HOUR_MS


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Span:
    """The first and last instant among the records a parser read: an import re-reads a file's
    records from there when a later import finds it grown."""

    __slots__ = ("earliest", "latest")

    def __init__(self) -> None:
        self.earliest: int | None = None
        self.latest: int | None = None

    def see(self, ts: int | None) -> None:
        if ts is None:
            return
        if self.earliest is None or ts < self.earliest:
            self.earliest = ts
        if self.latest is None or ts > self.latest:
            self.latest = ts
