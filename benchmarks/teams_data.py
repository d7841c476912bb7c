"""Rows shaped like a team's usage over months, for the team-layout benchmark.

Unlike `report_data.py` (one row every 37 seconds), these come in bursts and idle stretches
(seconds apart while an agent works, hours or days apart between tasks) over about six months;
each row is written in its author's UTC offset, several interleaved (a team across zones,
half-hour and quarter-hour offsets included); notes have commas and quotes, some start with a
quote or a formula character, some are not ASCII, a few are long. Rows are built as `Row`s and
written with the schema's own `format_line`, so every line is canonical and valid.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from telemetry_csv.logfile.schema import HEADER_LINE, Row, Schema

MIB = 1024 * 1024
MODELS = (
    "claude-sonnet-4-20250514",
    "claude-3-5-haiku-20241022",
    "openai/gpt-4o",
    "gpt-4.1-mini",
    "gemini-2.5-pro",
    "llama3.1:70b",
    "'@cf/meta/llama-3-8b-instruct",
)
TYPES = ("plan", "execute", "verify", "discuss", "quick")
OFFSETS = (0, 60, 120, -300, -240, 330, 345, 540, -480, -210, 600)  # minutes east of UTC
NOTES = (
    "",
    "fix flaky login test",
    "refactor store.py, keep the lock",
    'review: "looks good", ship it',
    '"quoted" at the start, then more',
    "résumé parser: handle ü, ß and 日本語 names",
    "=SUM(A1:A3) pasted from a sheet",
    "write README section on report --range, with examples, caveats and a table",
    "emoji in a commit message 🚀, escaped",
    "migrate CI to GitHub Actions; cache pip; split slow tests",
    "x" * 180 + " (a long note)",
)


def rows(count: int, seed: int = 11) -> Iterator[Row]:
    """`count` rows in time order (by instant), as described above."""
    rng = random.Random(seed)
    moment = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    for _ in range(count):
        gap = rng.random()
        if gap < 0.80:
            moment += timedelta(seconds=rng.randrange(2, 240))  # a burst
        elif gap < 0.97:
            moment += timedelta(minutes=rng.randrange(20, 600))  # the next task
        else:
            moment += timedelta(days=rng.randrange(1, 5), minutes=rng.randrange(0, 600))
        offset = rng.choice(OFFSETS)
        local = moment.astimezone(timezone(timedelta(minutes=offset)))
        sign = "+" if offset >= 0 else "-"
        zone = "Z" if offset == 0 else f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
        note = rng.choice(NOTES)
        if note.startswith("="):
            note = "'" + note  # stored neutralised, as `log` stores it
        yield Row(
            local.strftime("%Y-%m-%dT%H:%M:%S") + zone,
            rng.choice(MODELS),
            int(rng.lognormvariate(8, 1.2)),
            int(rng.lognormvariate(6.5, 1.1)),
            rng.random() < 0.86,
            rng.choice(TYPES),
            int(rng.lognormvariate(10, 1.3)),
            note,
        )


def lines(total_bytes: int, seed: int = 11) -> list[str]:
    """Canonical row lines adding up to about `total_bytes` (a header per file aside)."""
    schema = Schema()
    found: list[str] = []
    size = 0
    for row in rows(10**9, seed):
        line = schema.format_line(row)
        size += len(line.encode()) + 1
        if size > total_bytes:
            return found
        found.append(line)
    return found


def write_one_file(path: Path, all_lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER_LINE + "\n" + "".join(f"{line}\n" for line in all_lines), "utf-8")


def write_shards(folder: Path, all_lines: list[str], files: int) -> list[Path]:
    """The same rows in `files` shards, consecutive rows in each, named as `log` names them."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(files):
        start, end = len(all_lines) * number // files, len(all_lines) * (number + 1) // files
        chunk = all_lines[start:end]
        stamp = datetime(2025, 6, 2, tzinfo=UTC) + timedelta(hours=4 * number)
        name = f"{stamp.strftime('%Y%m%dT%H%M%SZ')}-{os.urandom(8).hex()}.csv"
        path = folder / name
        path.write_text(HEADER_LINE + "\n" + "".join(f"{line}\n" for line in chunk), "utf-8")
        paths.append(path)
    return paths
