"""Every fast path gives exactly what the reference path gives, on logs shaped like real ones
(benchmarks/realistic_log.py: eleven offsets interleaved, summer time, bursts over two years,
imported slices repeated) with hostile notes added, in report zones with summer time.

- reading: the block path (runs of lines checked by one pattern) against the line-by-line path
  (a `Row` per line, every field through the schema's rules), row for row;
- `report`: the report of the block path's runs against the report of those `Row`s, and the
  report that lets durations go and reads the rows again for its percentiles against the one
  that holds them all; the default tables of cells of (model, task type, success) and of
  (day, success) against those of a report with cells of each (model, task type, day,
  success), costs included; and every group's runs, tokens, p50 and p95 against a brute force
  with `datetime`, `zoneinfo` and sorted lists.
"""

from __future__ import annotations

import importlib.util
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from telemetry_csv import rfc3339
from telemetry_csv.logfile.reading import ExtendedRun, lines_of, scan_items
from telemetry_csv.logfile.schema import Row, Schema, restore
from telemetry_csv.report.aggregate import ReportOptions, build_report
from telemetry_csv.report.filters import build_filters
from telemetry_csv.report.zones import resolve_zone
from testing.logfiles import realistic

SCHEMA = Schema()
# Zones whose days the offsets of the log do not line up with: summer time in both
# hemispheres, a half-hour zone, and Lord Howe's half-hour summer shift.
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe")
HOSTILE_NOTES = (
    '"quoted" at the start',
    '"',
    '""',
    "'apostrophe first",
    "=SUM(A1:A9)",
    "-1+2",
    "@user, +1",
    'a, b, "c", d',
    "trailing comma,",
    "ünïcødé, 日本語, emoji 🚀",
    "x" * 1000,
    " leading and trailing spaces ",
    "semi;colon|pipe\u00a0nbsp",
)
# Lines the block path must leave to the line path, which reports each: the same problems.
INVALID_LINES = (
    "2026-03-01T10:00:00+01:00,m,1,2,true,plan,3,{}\n".format("x" * 1001),
    "2026-03-01T10:00:00+01:00,m,1,2,true,plan,3,tab\there\n",
    "2026-03-01T10:00:00+01:00,m,1,2,true,plan,3,a,b\n",
    "2026-02-30T10:00:00Z,m,1,2,true,plan,3,\n",
    "2026-03-01T10:00:00+24:00,m,1,2,true,plan,3,\n",
    '2026-03-01T10:00:00Z,m,1,2,true,plan,3,"unclosed\n',
    "2026-03-01T10:00:00Z,=cmd,1,2,true,plan,3,\n",
)


def _with_hostile_notes(path: Path, seed: int) -> None:
    """Every 37th row of the log again, with a hostile note, appended as `log` would."""
    data = path.read_bytes()
    rows = [item for item in scan_items(path, SCHEMA, block_bytes=0) if type(item) is Row]
    extended = data.startswith(
        b"timestamp,model,prompt_tokens,completion_tokens,task_success,"
        b"task_type,duration_ms,notes,source"
    )
    extra = []
    for number, row in enumerate(rows[seed % 37 :: 37]):
        note = HOSTILE_NOTES[number % len(HOSTILE_NOTES)]
        changed = (
            row._replace(notes=note, source_id="", source="")
            if extended
            else row._replace(notes=note)
        )
        extra.append(SCHEMA.format_line(changed, extended=extended) + "\n")
    path.write_bytes(data + "".join(extra).encode())


@pytest.fixture(scope="module", params=[("legacy", 3), ("extended", 15)], ids=lambda p: p[0])
def log(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    shape, seed = request.param
    path = tmp_path_factory.mktemp(shape) / "usage.csv"
    realistic().write_realistic_log(path, 1 << 20, seed=seed, shape=shape)
    _with_hostile_notes(path, seed)
    return path


def _rows_of(items: Iterator[object]) -> list[object]:
    rows: list[object] = []
    for item in items:
        if isinstance(item, str):
            extended = type(item) is ExtendedRun
            for line in lines_of(item):
                row = SCHEMA.parse_line(line, extended=extended)
                assert type(row) is Row, (line, row)
                rows.append(row)
        else:
            rows.append(item)
    return rows


@pytest.mark.parametrize("block_bytes", [1 << 18, 4096, 300])
@pytest.mark.parametrize("invalid", [False, True], ids=["valid", "with invalid lines"])
def test_the_block_path_reads_what_the_line_path_reads(
    log: Path, tmp_path: Path, block_bytes: int, invalid: bool
) -> None:
    if invalid:  # the log with invalid lines among its rows, every 500 lines
        lines = log.read_bytes().decode().splitlines(keepends=True)
        for number, position in enumerate(range(len(lines) - 1, 1, -500)):
            lines.insert(position, INVALID_LINES[number % len(INVALID_LINES)])
        log = tmp_path / "usage.csv"
        log.write_text("".join(lines))
    reference = list(scan_items(log, SCHEMA, block_bytes=0))
    assert all(type(item) is Row for item in reference) != invalid
    fast = list(scan_items(log, SCHEMA, block_bytes=block_bytes))
    assert any(isinstance(item, str) for item in fast)  # the fast path did the reading
    assert _rows_of(iter(fast)) == reference


@pytest.mark.parametrize("zone", ZONES)
def test_the_report_of_runs_is_the_report_of_rows(log: Path, zone: str) -> None:
    options = ReportOptions(zone=resolve_zone(zone), costs=False)
    rows = list(scan_items(log, SCHEMA, block_bytes=0))
    fast = build_report(scan_items(log, SCHEMA), options)
    assert fast == build_report(rows, options)
    # Durations let go after a few hundred rows: the percentiles come from more passes.
    again = build_report(
        scan_items(log, SCHEMA), options, again=lambda: scan_items(log, SCHEMA), held=300
    )
    assert again == fast


def _percentile(ordered: list[int], percent: int) -> float:
    """numpy's default and `statistics.quantiles(method="inclusive")`, written out."""
    position = (len(ordered) - 1) * percent / 100
    low = int(position)
    if low + 1 >= len(ordered):
        return float(ordered[low])
    return ordered[low] + (ordered[low + 1] - ordered[low]) * (position - low)


@pytest.mark.parametrize("zone", ZONES)
def test_every_group_against_a_brute_force(log: Path, zone: str) -> None:
    report = build_report(
        scan_items(log, SCHEMA), ReportOptions(zone=resolve_zone(zone), costs=False)
    )
    tz = ZoneInfo(zone)
    seen: set[tuple[str, str]] = set()
    groups: dict[str, dict[object, list[Row]]] = {
        name: defaultdict(list) for name in ("model", "task_type", "pair", "day", "week")
    }
    for row in scan_items(log, SCHEMA, block_bytes=0):
        assert type(row) is Row
        if row.source_id:
            if (row.source, row.source_id) in seen:
                continue  # the same usage as a row before: counted once
            seen.add((row.source, row.source_id))
        day: date = rfc3339.parse(row.timestamp).astimezone(tz).date()
        year, week, _ = day.isocalendar()
        model = restore(row.model) if row.model[:1] == "'" else row.model
        groups["model"][model].append(row)
        groups["task_type"][row.task_type].append(row)
        groups["pair"][model, row.task_type].append(row)
        groups["day"][day.isoformat()].append(row)
        groups["week"][f"{year:04d}-W{week:02d}"].append(row)
    for name, found in (
        ("model", report.by_model),
        ("task_type", report.by_task_type),
        ("pair", report.by_model_task_type),
        ("day", report.by_day),
        ("week", report.by_week),
    ):
        expected = groups[name]
        assert {group.key for group in found} == set(expected)
        for group in found:
            members = expected[group.key]
            durations = sorted(row.duration_ms for row in members)
            stats = group.stats
            assert stats.runs == len(members), (name, group.key)
            assert stats.successes == sum(row.task_success for row in members)
            assert stats.prompt_tokens == sum(row.prompt_tokens for row in members)
            assert stats.completion_tokens == sum(row.completion_tokens for row in members)
            assert stats.durations.total == sum(durations)
            assert stats.durations.p50 == pytest.approx(_percentile(durations, 50), rel=1e-12)
            assert stats.durations.p95 == pytest.approx(_percentile(durations, 95), rel=1e-12)
            assert stats.durations.max == durations[-1]
    assert report.totals.runs == len(seen) + sum(
        1 for rows in groups["model"].values() for row in rows if not row.source_id
    )


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    "bounds",
    [(None, None), ("2025-03-01", "2025-09-15T12:30:00+05:30")],
    ids=["all rows", "since and until"],
)
def test_the_default_tables_from_fine_cells_are_the_same(
    log: Path, zone: str, bounds: tuple[str | None, str | None]
) -> None:
    """The default tables come from cells of (model, task type, success) and of (day,
    success); a report that groups by any columns has cells of (model, task type, day,
    success) instead, and its default tables must be the same, costs included, held or read
    again in passes."""
    since, until = bounds
    filters = build_filters(since=since, until=until)
    costs = importlib.util.find_spec("genai_prices") is not None
    options = ReportOptions(zone=resolve_zone(zone), costs=costs, filters=filters)
    split = build_report(scan_items(log, SCHEMA), options)
    if since is not None:  # the bounds leave rows out on both sides
        assert 0 < split.rows < split.rows_read
        assert split.by_day[0].key >= since and split.by_day[-1].key <= until[:10]
    for fine_options in (
        options._replace(group_by=("provider",)),
        options._replace(chart_series=4),
    ):
        fine = build_report(scan_items(log, SCHEMA), fine_options)
        assert fine._replace(grouped=None, charts=None) == split
    again = build_report(
        scan_items(log, SCHEMA), options, again=lambda: scan_items(log, SCHEMA), held=300
    )
    assert again == split
