"""Human durations: `1m30s`, `1h2m`, `45s`, `1.5s`, `850ms` in; milliseconds out."""

from __future__ import annotations

import re

from telemetry_csv.errors import InvalidValueError

_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(h|ms|m|s)")
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
    total = 0.0
    for part in parts:
        total += float(part.group(1)) * _UNIT_MS[part.group(2)]
    return round(total)
