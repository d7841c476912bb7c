"""Hand-computed rows for the report tests (see each value's derivation in the comments).

2026-11-20 is a Friday; ISO week 2026-W47 is Mon 16 - Sun 22 November, W48 starts Mon 23.

| # | stored timestamp            | UTC instant        | New York (-05:00)  | Kolkata (+05:30)  |
|---|-----------------------------|--------------------|--------------------|-------------------|
| 1 | 2026-11-20T23:30:00-05:00   | 11-21 04:30        | 11-20 23:30        | 11-21 10:00       |
| 2 | 2026-11-21T00:15:00+01:00   | 11-20 23:15 (first)| 11-20 18:15        | 11-21 04:45       |
| 3 | 2026-11-21T12:00:00Z        | 11-21 12:00        | 11-21 07:00        | 11-21 17:30       |
| 4 | 2026-11-23T01:00:00+05:30   | 11-22 19:30 (Sun)  | 11-22 14:30        | 11-23 01:00 (Mon) |
| 5 | 2026-11-23T10:00:00Z        | 11-23 10:00 (last) | 11-23 05:00        | 11-23 15:30       |
"""

from __future__ import annotations

from telemetry_csv.logfile.schema import Row, Schema
from testing.util import row_line

LINES = [
    row_line("2026-11-20T23:30:00-05:00", "claude-3-opus", "1000", "200", "true", "plan", "10000"),
    row_line("2026-11-21T00:15:00+01:00", "openai/gpt-4o", "500", "100", "false", "execute", "20000", "late, \"quoted\""),
    row_line("2026-11-21T12:00:00Z", "claude-3-opus", "3000", "700", "true", "execute", "30000"),
    row_line("2026-11-23T01:00:00+05:30", "openai/gpt-4o", "800", "300", "true", "verify", "40000"),
    row_line("2026-11-23T10:00:00Z", "claude-3-opus", "100", "50", "false", "plan", "50000"),
]  # fmt: skip
LINES[1] = LINES[1].replace('late, "quoted"', '"late, ""quoted"""')


def rows(lines: list[str] = LINES) -> list[Row]:
    schema = Schema()
    parsed = [schema.parse_line(line.rstrip("\n")) for line in lines]
    assert all(type(row) is Row for row in parsed), parsed
    return parsed  # type: ignore[return-value]
