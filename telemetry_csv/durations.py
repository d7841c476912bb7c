"""Human durations: `1m30s`, `1h2m`, `45s`, `1.5s`, `850ms` in; milliseconds out."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_EVEN, Decimal

from telemetry_csv.errors import InvalidValueError

# Digits are bounded, and the sum is exact (Decimal, not float): a huge value is refused by the
# schema's limit on duration_ms, never an overflow.
_PART = re.compile(r"([0-9]{1,18}(?:\.[0-9]{1,9})?)(h|ms|m|s)")
_UNIT_MS = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
_ORDER = ("h", "m", "s", "ms")
ALLOWED = "expected a duration with units, largest first, e.g. 45s, 1m30s, 1h2m, 1.5s or 850ms"


def parse_duration(text: str) -> int:
    """Milliseconds in `text`; a bare number is refused because its unit would be a guess."""
    compact = text.strip().replace(" ", "").lower()
    parts = list(_PART.finditer(compact))
    units = [part.group(2) for part in parts]
    if (
        not parts
        or "".join(part.group(0) for part in parts) != compact
        or len(set(units)) != len(units)
        or units != sorted(units, key=_ORDER.index)
    ):
        raise InvalidValueError("duration", text, ALLOWED)
    total = sum((Decimal(part.group(1)) * _UNIT_MS[part.group(2)] for part in parts), Decimal(0))
    return int(total.to_integral_value(ROUND_HALF_EVEN))


def format_duration(ms: float) -> str:
    """A duration for people, at the precision that matters for its size.

    `850ms`, `4.2s`, `52s`, `1m 05s`, `2h 03m`, `3d 04h`. Each size is rounded half up before
    the unit is chosen, so 59.6 s reads `1m 00s`, never `60s`.
    """
    if ms < 0:
        raise ValueError(f"a duration cannot be negative: {ms}")
    whole_ms = _round_half_up(ms)
    if whole_ms < 1000:
        return f"{whole_ms}ms"
    tenths = _round_half_up(ms / 100)
    if tenths < 100:
        return f"{tenths // 10}.{tenths % 10}s"
    seconds = _round_half_up(ms / 1000)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    minutes = _round_half_up(ms / 60_000)
    if minutes < 24 * 60:
        return f"{minutes // 60}h {minutes % 60:02d}m"
    hours = _round_half_up(ms / 3_600_000)
    return f"{hours // 24}d {hours % 24:02d}h"


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)
