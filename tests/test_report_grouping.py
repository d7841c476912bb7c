"""`--group-by` against hand-computed groups; the seam (statistics of any union of cells) against
a brute-force computation; the charts' series; every output format."""

from __future__ import annotations

import csv
import io
import json
import random
import statistics
from collections.abc import Callable, Hashable
from pathlib import Path

import pytest

from telemetry_csv.errors import InvalidValueError
from telemetry_csv.logfile.schema import Row
from telemetry_csv.report.aggregate import ReportOptions, build_report, scan_cells
from telemetry_csv.report.dates import week_of
from telemetry_csv.report.grouping import OTHER, chart_data, parse_group_by, provider_of
from telemetry_csv.report.zones import resolve_zone
from testing.report_fixtures import LINES, rows
from testing.util import HEADER, row_line, run_cli


def grouped(*columns: str, tz: str = "UTC", costs: bool = False) -> list[tuple[object, ...]]:
    options = ReportOptions(zone=resolve_zone(tz), costs=costs, group_by=columns)
    result = build_report(rows(), options).grouped
    assert result is not None and result.columns == columns
    return [
        (
            group.key,
            group.stats.runs,
            group.stats.successes,
            group.stats.total_tokens,
            group.stats.durations.p50,
            group.stats.durations.p95,
        )
        for group in result.groups
    ]


# The fixture rows (report_fixtures), by UTC day: 11-20 gpt-4o execute false 600 tokens 20 s;
# 11-21 opus plan true 1,200 tokens 10 s and opus execute true 3,700 tokens 30 s; 11-22 (a
# Sunday, ISO week 47) gpt-4o verify true 1,100 tokens 40 s; 11-23 (Monday, W48) opus plan
# false 150 tokens 50 s.
CASES = {
    ("model",): [
        (("claude-3-opus",), 3, 2, 5050, 30000.0, 48000.0),  # 10/30/50 s: p95 30 + 0.9 * 20
        (("openai/gpt-4o",), 2, 1, 1700, 30000.0, 39000.0),  # 20/40 s: p95 20 + 0.95 * 20
    ],
    ("task_success",): [
        (("true",), 3, 3, 6000, 30000.0, 39000.0),  # 10/30/40 s
        (("false",), 2, 0, 750, 35000.0, 48500.0),  # 20/50 s
    ],
    ("week", "task_type"): [  # task types by runs, then name: execute, plan (2 each), verify
        (("2026-W47", "execute"), 2, 1, 4300, 25000.0, 29500.0),
        (("2026-W47", "plan"), 1, 1, 1200, 10000.0, 10000.0),
        (("2026-W47", "verify"), 1, 1, 1100, 40000.0, 40000.0),
        (("2026-W48", "plan"), 1, 0, 150, 50000.0, 50000.0),
    ],
    ("day",): [
        (("2026-11-20",), 1, 0, 600, 20000.0, 20000.0),
        (("2026-11-21",), 2, 2, 4900, 20000.0, 29000.0),
        (("2026-11-22",), 1, 1, 1100, 40000.0, 40000.0),
        (("2026-11-23",), 1, 0, 150, 50000.0, 50000.0),
    ],
    ("month", "model"): [
        (("2026-11", "claude-3-opus"), 3, 2, 5050, 30000.0, 48000.0),
        (("2026-11", "openai/gpt-4o"), 2, 1, 1700, 30000.0, 39000.0),
    ],
    ("provider", "task_success"): [  # the price data knows claude-3-opus is Anthropic's
        (("anthropic", "true"), 2, 2, 4900, 20000.0, 29000.0),
        (("anthropic", "false"), 1, 0, 150, 50000.0, 50000.0),
        (("openai", "true"), 1, 1, 1100, 40000.0, 40000.0),
        (("openai", "false"), 1, 0, 600, 20000.0, 20000.0),
    ],
}


@pytest.mark.parametrize("columns", list(CASES), ids=",".join)
def test_groups_by_hand(columns: tuple[str, ...]) -> None:
    assert grouped(*columns) == CASES[columns]


def test_days_follow_the_zone() -> None:
    # In New York: rows 1 and 2 fall on 11-20 (23:30 and 18:15), row 3 on 11-21 at 07:00.
    assert [
        (key, runs, tokens) for key, runs, _, tokens, _, _ in grouped("day", tz="America/New_York")
    ] == [
        (("2026-11-20",), 2, 1800),
        (("2026-11-21",), 1, 3700),
        (("2026-11-22",), 1, 1100),
        (("2026-11-23",), 1, 150),
    ]


@pytest.mark.parametrize(
    ("model", "known", "fallback"),
    [
        ("claude-3-opus", "anthropic", "unknown"),
        ("openai/gpt-4o", "openai", "openai"),
        ("ollama/llama3:8b", "ollama", "ollama"),
        ("my-local-model", "unknown", "unknown"),
    ],
)
def test_provider_from_the_price_data_else_the_name(model: str, known: str, fallback: str) -> None:
    from telemetry_csv.report.costs import load_pricer

    assert provider_of(model, load_pricer()) == known
    assert provider_of(model, None) == fallback


@pytest.mark.parametrize(
    ("values", "columns"),
    [
        (["model"], ("model",)),
        (["model,week", "day"], ("model", "week", "day")),
        ([" Task-Type , model ,model"], ("task_type", "model")),
        (["task_success,provider,month"], ("task_success", "provider", "month")),
    ],
)
def test_parse_group_by(values: list[str], columns: tuple[str, ...]) -> None:
    assert parse_group_by(values) == columns


@pytest.mark.parametrize("value", ["", "models", "model,,week", "notes", "model;week"])
def test_parse_group_by_refuses(value: str) -> None:
    with pytest.raises(InvalidValueError, match=r"^--group-by: .* is not allowed; expected column"):
        parse_group_by([value])


def test_the_default_report_is_the_same_with_a_grouping() -> None:
    plain = build_report(rows(), ReportOptions(costs=True))
    with_groups = build_report(rows(), ReportOptions(costs=True, group_by=("model", "week")))
    assert with_groups._replace(grouped=None) == plain


def random_rows(count: int, seed: int) -> list[Row]:
    rng = random.Random(seed)
    offsets = ["Z", "+05:30", "-08:00", "+13:00", "-03:30"]
    found = []
    for _ in range(count):
        stamp = f"2026-0{rng.randint(1, 3)}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
        stamp += f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}{rng.choice(offsets)}"
        found.append(
            Row(
                stamp,
                rng.choice(["a", "b/c", "d:1"]),
                rng.randrange(10_000),
                rng.randrange(1000),
                rng.random() < 0.7,
                rng.choice(["plan", "execute", "verify"]),
                rng.choice([rng.randrange(1, 100), rng.randrange(1, 10**7)]),
            )
        )
    return found


def brute_force(found: list[Row]) -> tuple[object, ...]:
    durations = sorted(row.duration_ms for row in found)
    quantiles = (
        statistics.quantiles(durations, n=100, method="inclusive")
        if len(durations) > 1
        else [durations[0]] * 99
    )
    return (
        len(found),
        sum(row.task_success for row in found),
        sum(row.total_tokens for row in found),
        sum(durations),
        float(quantiles[49]),
        float(quantiles[94]),
        durations[-1],
    )


@pytest.mark.parametrize("seed", range(5))
def test_the_union_of_cells_is_exact(seed: int) -> None:
    """CellTable.partition (hence union) against the same statistics computed from the rows
    themselves, for groupings the cells were not built for."""
    found = random_rows(600, seed)
    zone = resolve_zone("Asia/Kolkata")
    table = scan_cells(found, ReportOptions(zone=zone, costs=False))
    keys: dict[str, Callable[[str, str, int, bool], Hashable]] = {
        "week and success": lambda model, kind, day, ok: (week_of(day), ok),
        "model, all days": lambda model, kind, day, ok: model,
        "odd days of plan": lambda model, kind, day, ok: kind == "plan" and day % 2 == 1,
    }
    for name, key in keys.items():
        expected: dict[Hashable, list[Row]] = {}
        for row in found:
            day = zone.day_at(int(row.when().timestamp()))
            expected.setdefault(key(row.model, row.task_type, day, row.task_success), []).append(
                row
            )
        got = table.partition(lambda cell, key=key: key(*cell))  # type: ignore[misc]
        assert set(got) == set(expected), name
        for group, members in expected.items():
            stats = got[group]
            durations = stats.durations
            assert (
                stats.runs, stats.successes, stats.total_tokens, durations.total,
                durations.p50, durations.p95, durations.max,
            ) == brute_force(members), (name, group)  # fmt: skip


def models_log(count: int) -> list[Row]:
    """`count` models, model i with i + 1 runs of 1,000 tokens on 2026-11-20 (a Friday, W47)
    and one more run on 11-23 (Monday, W48)."""
    found = []
    for index in range(count):
        for run in range(index + 2):
            day = "20" if run else "23"
            found.append(
                Row(
                    f"2026-11-{day}T10:00:00Z",
                    f"m{index:02d}",
                    900,
                    100,
                    run % 2 == 0,
                    "plan",
                    1000,
                )
            )
    return found


def test_charts_fold_small_models_into_other() -> None:
    data = chart_data(scan_cells(models_log(12), ReportOptions(costs=False)), 8)
    assert data.series == ("m11", "m10", "m09", "m08", "m07", "m06", "m05", OTHER)
    assert data.other == ("m04", "m03", "m02", "m01", "m00")
    (day_20, first), (day_23, second) = data.by_day
    assert day_23 - day_20 == 3
    assert first[OTHER].runs == 5 + 4 + 3 + 2 + 1 and first["m11"].runs == 12
    assert second[OTHER].total_tokens == 5 * 1000
    assert [len(found) for _, found in data.by_week] == [8, 8]


def test_charts_keep_every_model_when_few() -> None:
    data = chart_data(scan_cells(models_log(8), ReportOptions(costs=False)), 8)
    assert OTHER not in data.series and len(data.series) == 8 and data.other == ()


@pytest.fixture
def log(repo: Path) -> Path:
    path = repo / ".telemetry" / "usage.csv"
    path.parent.mkdir()
    path.write_text(HEADER + "".join(LINES))
    return path


def test_every_format(log: Path) -> None:
    args = ["report", "--group-by", "task_success", "--no-costs"]
    markdown = run_cli(*args, cwd=log.parent)
    assert markdown.returncode == 0, markdown.stderr
    assert "### By success\n\n| Success   |   Runs |   Tokens |" in markdown.stdout
    assert "| All       |      5 |    6,750 |" in markdown.stdout
    assert "### Overview" not in markdown.stdout and "### By model" not in markdown.stdout
    document = json.loads(run_cli(*args, "--format", "json", cwd=log.parent).stdout)
    assert document["group_by"] == ["task_success"]
    assert [
        (g["task_success"], g["runs"], g["duration_ms"]["p95"]) for g in document["groups"]
    ] == [
        (True, 3, 39000.0),
        (False, 2, 48500.0),
    ]
    assert "by_model" not in document and document["totals"]["runs"] == 5
    table = list(csv.reader(io.StringIO(run_cli(*args, "--format", "csv", cwd=log.parent).stdout)))
    assert table[0][:3] == ["task_success", "runs", "successes"]
    assert [row[:3] for row in table[1:]] == [["true", "3", "3"], ["false", "2", "0"]]


def test_a_csv_cell_that_looks_like_a_formula_is_neutralised(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    log.write_text(HEADER + row_line(model="'@cf/meta/llama"))
    done = run_cli("report", str(log), "--group-by", "model", "--format", "csv", cwd=tmp_path)
    assert done.stdout.splitlines()[1].startswith("'@cf/meta/llama,1,")
