"""Numbers for people, in one place: `12,345`, `83.3%`, `$1,234.57`, `1m 05s`, local times.

Everything rounds half up from exact integers where it can, so the same input gives the same
characters on every machine.
"""

from __future__ import annotations

from telemetry_csv.durations import format_duration
from telemetry_csv.report.data import FEMTO_PER_USD, Cost, Skipped
from telemetry_csv.report.dates import SECONDS_PER_DAY, day_label, instant
from telemetry_csv.report.zones import ReportZone

NOTHING = "\u2013"  # an en dash: a cell with no value


def count(value: int) -> str:
    return f"{value:,}"


def round_half_up(numerator: int, denominator: int) -> int:
    """`numerator / denominator` (both 0 or more) to the nearest whole number, halves up: the
    one rounding rule of every number the report shows."""
    return (numerator * 2 + denominator) // (2 * denominator)


def percent(part: int, whole: int) -> str:
    """`part / whole` as a percentage with one decimal, rounded half up: 5 of 6 is `83.3%`."""
    if not whole:
        return NOTHING
    return percent_number(part, whole) + "%"


def percent_number(part: int, whole: int) -> str:
    """`part / whole` (whole > 0) in percent with one decimal, rounded half up: `83.3`."""
    tenths = round_half_up(part * 1000, whole)
    return f"{tenths // 10}.{tenths % 10}"


def duration(ms: float | None) -> str:
    return NOTHING if ms is None else format_duration(ms)


def money(femto_usd: int) -> str:
    """Dollars and cents, rounded half up; an amount above zero never shows as `$0.00`."""
    cents = round_half_up(femto_usd * 100, FEMTO_PER_USD)
    if cents == 0 and femto_usd > 0:
        return "<$0.01"
    return f"${cents // 100:,}.{cents % 100:02d}"


def usd(femto_usd: int, places: int) -> float:
    """Dollars to `places` decimals, rounded half up like `money`: for JSON and CSV."""
    scale = 10**places
    return float(round_half_up(femto_usd * scale, FEMTO_PER_USD) / scale)


def cost(value: Cost | None) -> str:
    """A group's estimated cost: `$1.23`, `$1.23 + 2 unpriced`, or `unpriced`."""
    if value is None:
        return NOTHING
    if not value.priced_runs:
        return "unpriced"
    shown = money(value.femto_usd)
    if value.unpriced_runs:
        shown += f" + {value.unpriced_runs:,} unpriced"
    return shown


def local_time(stamp: str, zone: ReportZone) -> str:
    """A stored timestamp in the report's zone, to the second: `2026-11-20 08:14:05 UTC`."""
    seconds = instant(stamp)[0]
    offset = zone.offset_at(seconds)
    local = seconds + offset
    days, second_of_day = divmod(local, SECONDS_PER_DAY)
    hours, rest = divmod(second_of_day, 3600)
    clock = f"{day_label(days)} {hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    if zone.is_utc:
        return f"{clock} UTC"
    sign = "-" if offset < 0 else "+"
    offset_minutes = abs(offset) // 60
    return f"{clock} {sign}{offset_minutes // 60:02d}:{offset_minutes % 60:02d}"


def plural(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def skipped(counts: Skipped) -> str:
    """ "2 invalid rows and 1 file problem": what every output format says --skip-invalid left
    out."""
    parts = []
    if counts.rows:
        parts.append(plural(counts.rows, "invalid row"))
    if counts.file_problems:
        parts.append(plural(counts.file_problems, "file problem"))
    return " and ".join(parts)
