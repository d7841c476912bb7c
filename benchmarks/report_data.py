"""Generated usage logs for the report benchmark: valid, varied, fast to write.

Rows are built directly as `Row`s and written with the schema's own `format_line`, so every line
is canonical; `check` passes on them (the benchmark asserts the report reads every row).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from telemetry_csv.logfile.schema import HEADER_LINE, Row, Schema

MIB = 1024 * 1024
MODELS = (
    "claude-3-opus",
    "openai/gpt-4o",
    "llama3.1:70b",
    "claude-sonnet-4-20250514",
    "gemini-2.5-pro",
)
TYPES = ("plan", "execute", "verify", "discuss", "quick")
OFFSETS = ("Z", "+01:00", "-05:00", "+05:30")
NOTES = (
    "",
    "Phase 6 tests",
    "refactor store.py, keep the lock",
    'review: "looks good", ship it',
    "fix flaky login test",
    "write README section on report --range",
)
START = 1_767_225_600  # 2026-01-01T00:00:00Z
SPACING = 37  # seconds between rows


def write_log(
    path: Path, size: int, *, first_row: int = 0, seed: int = 6, dash_notes: int = 0
) -> int:
    """A valid log of at most `size` bytes, rows numbered from `first_row`; returns the rows.
    With `dash_notes`, one note in that many starts with '-' (valid, but the block fast path
    leaves such a line to the field-by-field one)."""
    rng = random.Random(seed + first_row)
    schema = Schema()
    lines = [HEADER_LINE]
    total = len(HEADER_LINE) + 1
    index = first_row
    while True:
        stamp = START + index * SPACING
        row = Row(
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp)) + rng.choice(OFFSETS),
            rng.choice(MODELS),
            rng.randrange(100, 60_000),
            rng.randrange(10, 20_000),
            rng.random() < 0.85,
            rng.choice(TYPES),
            rng.randrange(500, 900_000),
            "-" + rng.choice(NOTES)
            if dash_notes and rng.randrange(dash_notes) == 0
            else rng.choice(NOTES),
        )
        line = schema.format_line(row)
        if total + len(line.encode()) + 1 > size:
            break
        lines.append(line)
        total += len(line.encode()) + 1
        index += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index - first_row


def write_backups(folder: Path, total_size: int, file_size: int = 10 * MIB) -> tuple[Path, int]:
    """A log with backups (as rotation leaves them) adding up to about `total_size` bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    files = max(1, total_size // file_size)
    rows = 0
    for number in range(files):
        name = "usage.csv" if number == files - 1 else f"usage-2026{number + 1:02d}01T000000Z.csv"
        rows += write_log(folder / name, file_size, first_row=rows)
    return folder / "usage.csv", rows
