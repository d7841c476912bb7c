"""`telemetry-csv cat`: every row once, one CSV, ordered by instant (not by text), stable for
equal instants, in bounded memory whatever the number of files."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telemetry_csv.logfile import layout
from telemetry_csv.logfile.ordering import TimeOrder
from telemetry_csv.rfc3339 import instant_ns
from testing.util import HEADER, row_line, run_cli

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
    st.integers(min_value=0, max_value=999_999_999),
    st.integers(min_value=0, max_value=9),
)
def test_instant_ns_is_the_instant(moment: datetime, offset: int, nanos: int, digits: int) -> None:
    zone = timezone(timedelta(minutes=offset))
    local = moment.replace(microsecond=0, tzinfo=zone)
    fraction = f"{nanos:09d}"[:digits]
    sign = "-" if offset < 0 else "+"
    text = (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d}T"
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
    )
    text += (f".{fraction}" if digits else "") + (
        "Z"
        if offset == 0 and nanos % 2
        else f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    )
    whole = (local - EPOCH) // timedelta(seconds=1)
    assert instant_ns(text) == whole * 1_000_000_000 + int(fraction.ljust(9, "0") if digits else 0)


def keyed_rows(count: int, seed: int) -> list[str]:
    """Rows as users make them: irregular gaps, many offsets, equal instants written in
    different offsets (which sort by instant, not by text)."""
    rng = random.Random(seed)
    offsets = ["Z", "+01:00", "-05:00", "+05:30", "-09:30", "+14:00"]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    lines = []
    for number in range(count):
        moment = start + timedelta(
            seconds=rng.choice([0, 1, 7, 3600, 86400 * 3]) * rng.randrange(4)
        )
        offset = rng.choice(offsets)
        zone = (
            UTC
            if offset == "Z"
            else timezone(
                timedelta(
                    minutes=(1 if offset[0] == "+" else -1)
                    * (int(offset[1:3]) * 60 + int(offset[4:]))
                )
            )
        )
        stamp = moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S") + offset
        lines.append(row_line(timestamp=stamp, notes=f"n{number}").rstrip("\n"))
    return lines


@pytest.mark.parametrize(("batch_rows", "fan_in"), [(10_000, 64), (7, 3), (1, 2)])
def test_many_files_in_time_order_in_bounded_memory(batch_rows: int, fan_in: int) -> None:
    files = [keyed_rows(random.Random(n).randrange(0, 30), seed=n) for n in range(40)]
    read_order = [line for lines in files for line in lines]
    expected = sorted(read_order, key=lambda line: instant_ns(line.split(",")[0]))  # stable
    with TimeOrder(batch_rows=batch_rows, fan_in=fan_in) as order:
        for lines in files:
            order.add(lines)
        assert list(order) == expected
        spilled = order.written
    if batch_rows == 1:
        assert spilled > fan_in  # merged in more than one pass


def test_cat_prints_every_file_once_in_time_order(repo: Path) -> None:
    log = repo / ".telemetry" / "usage.csv"
    log.parent.mkdir()
    log.write_text(HEADER + row_line("2026-01-02T00:00:00Z", notes="legacy late"))
    (log.parent / "usage-20260101T000000Z.csv").write_text(
        HEADER + row_line("2026-01-01T00:00:00+05:00", notes="backup")
    )
    folder = layout.shard_folder(log)
    folder.mkdir()
    (folder / "20260101T000000Z-00000000000000aa.csv").write_text(
        HEADER
        + row_line("2026-01-01T00:00:00-01:00", notes="shard same instant 1")
        + row_line("2026-01-01T02:00:00+01:00", notes="shard same instant 2")
    )
    done = run_cli("cat", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        HEADER.rstrip("\n"),
        row_line("2026-01-01T00:00:00+05:00", notes="backup").rstrip("\n"),
        row_line("2026-01-01T00:00:00-01:00", notes="shard same instant 1").rstrip("\n"),
        row_line("2026-01-01T02:00:00+01:00", notes="shard same instant 2").rstrip("\n"),
        row_line("2026-01-02T00:00:00Z", notes="legacy late").rstrip("\n"),
    ]


def test_an_invalid_row_stops_cat_before_it_prints_anything(repo: Path) -> None:
    log = repo / ".telemetry" / "usage.csv"
    log.parent.mkdir()
    log.write_text(HEADER + row_line(notes="good") + row_line(task_type="deploy"))
    done = run_cli("cat", cwd=repo)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith("telemetry-csv cat: error: .telemetry/usage.csv:3: task_type:")
    skipped = run_cli("cat", "--skip-invalid", cwd=repo)
    assert skipped.returncode == 0
    assert skipped.stdout == HEADER + row_line(notes="good")
    assert skipped.stderr == "telemetry-csv cat: note: left out 1 invalid row(s)\n"


def test_cat_without_a_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    (tmp_path / "empty").mkdir()
    done = run_cli("cat", cwd=tmp_path / "empty")
    assert done.returncode == 4 and "no log at .telemetry/usage.csv" in done.stderr
