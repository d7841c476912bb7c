"""The rows a range of commits added, read from git (for `report --range BASE..HEAD`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from telemetry_csv.config import load_settings
from telemetry_csv.errors import InvalidLogError, InvalidValueError, TelemetryError
from telemetry_csv.git.ranges import parse_range, rows_in_range
from testing.logfiles import commit_all, row, rows, write_log
from testing.util import git

LOG = ".telemetry/usage.csv"
BACKUP = ".telemetry/usage-20260301T120000Z.csv"


def durations(text: str, repo: Path) -> list[int]:
    return [found.duration_ms - 1000 for found in rows_in_range(text, load_settings(repo))]


@pytest.fixture
def history(repo: Path) -> dict[str, str]:
    """main: base (rows 1, 2) -> more (3, 4) -> rotated (5; 1-4 moved to a backup) -> after (6)."""
    ids = {}
    write_log(repo / LOG, rows(1, 2))
    ids["base"] = commit_all(repo, "base")
    write_log(repo / LOG, rows(1, 2, 3, 4))
    ids["more"] = commit_all(repo, "more")
    git(repo, "mv", LOG, BACKUP)
    write_log(repo / LOG, rows(5))
    ids["rotated"] = commit_all(repo, "rotated")
    write_log(repo / LOG, rows(5, 6))
    ids["after"] = commit_all(repo, "after")
    return ids


def test_rows_added_in_a_range(history: dict[str, str], repo: Path) -> None:
    assert durations(f"{history['base']}..{history['more']}", repo) == [3, 4]
    assert durations(f"{history['more']}..HEAD", repo) == [5, 6]  # across the rotation
    assert durations(f"{history['base']}..", repo) == [3, 4, 5, 6]
    assert durations(f"{history['rotated']}..{history['after']}", repo) == [6]
    assert durations("HEAD..HEAD", repo) == []


def test_rows_come_from_git_not_the_working_tree(history: dict[str, str], repo: Path) -> None:
    write_log(repo / LOG, rows(5, 6, 7) + "not a row\n")
    assert durations(f"{history['rotated']}..HEAD", repo) == [6]


def _same_size_other_rows(log: Path) -> None:
    log.write_bytes(log.read_bytes().replace(b"1006", b"1009"))


def _fifo(log: Path) -> None:
    log.unlink()
    os.mkfifo(log)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda log: None, id="HEAD's bytes (read from the file)"),
        pytest.param(_same_size_other_rows, id="as many bytes, other rows"),
        pytest.param(_fifo, id="a FIFO"),
    ],
)
def test_a_log_that_grew_is_read_from_the_work_tree_only_when_it_is_heads_blob(
    history: dict[str, str], repo: Path, change: Callable[[Path], None]
) -> None:
    change(repo / LOG)
    assert durations(f"{history['rotated']}..HEAD", repo) == [6]


def test_a_branch_range_counts_only_the_branch(history: dict[str, str], repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature", history["more"])
    write_log(repo / LOG, rows(1, 2, 3, 4, 8))
    commit_all(repo, "feature")
    assert durations("main..feature", repo) == [8]
    assert durations("main...feature", repo) == [8]
    assert durations("feature...main", repo) == [5, 6]


def test_a_range_before_the_log_existed(repo: Path) -> None:
    (repo / "README").write_text("x\n")
    first = commit_all(repo, "no log")
    write_log(repo / LOG, rows(1, 2))
    commit_all(repo, "log")
    assert durations(f"{first}..HEAD", repo) == [1, 2]


def test_an_invalid_row_at_head_is_refused_naming_it(history: dict[str, str], repo: Path) -> None:
    write_log(repo / LOG, rows(5, 6) + row(7).replace("execute", "coding"))
    head = commit_all(repo, "bad")
    with pytest.raises(InvalidLogError) as raised:
        rows_in_range(f"{history['after']}..HEAD", load_settings(repo))
    assert str(raised.value).startswith(f"{head[:12]}:{LOG}:4: task_type: 'coding' is not allowed")


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("HEAD", InvalidValueError, "range: 'HEAD' is not allowed; expected BASE..HEAD"),
        ("nope..HEAD", TelemetryError, "'nope' is not a commit in this repository"),
    ],
)
def test_bad_ranges(
    history: dict[str, str], repo: Path, text: str, error: type, message: str
) -> None:
    with pytest.raises(error) as raised:
        parse_range(text, repo)
    assert str(raised.value).startswith(message)


def test_items_pass_problems_on_for_a_report_to_skip(history: dict[str, str], repo: Path) -> None:
    from telemetry_csv.git.ranges import items_in_range
    from telemetry_csv.logfile.reading import Problem, run_fast_path
    from telemetry_csv.logfile.schema import Row

    write_log(repo / LOG, rows(5, 6) + "broken\n" + rows(7))
    head = commit_all(repo, "a broken line")
    settings = load_settings(repo)
    items = [
        row
        for item in items_in_range(f"{history['after']}..HEAD", settings)
        for row in (
            run_fast_path(settings.schema, item).rows_of(item) if isinstance(item, str) else [item]
        )
    ]  # a run of valid lines is read as its rows
    assert [type(item).__name__ for item in items] == ["Problem", "Row"]
    assert isinstance(items[0], Problem) and str(items[0]).startswith(f"{head[:12]}:{LOG}:4: ")
    assert isinstance(items[1], Row) and items[1].duration_ms == 1007


def test_a_log_at_the_top_level(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.telemetry-csv]\nlog = "usage.csv"\n')
    write_log(repo / "usage.csv", rows(1))
    base = commit_all(repo, "base")
    git(repo, "mv", "usage.csv", "usage-20260301T120000Z.csv")
    write_log(repo / "usage.csv", rows(2))
    write_log(repo / "other.csv", rows(9))  # not the log: never counted
    commit_all(repo, "rotated")
    assert durations(f"{base}..HEAD", repo) == [2]


SHARDS = ".telemetry/usage.rows"


def shard(repo: Path, number: int, *numbers: int) -> str:
    name = f"{SHARDS}/20260101T0000{number:02d}Z-{number:016x}.csv"
    write_log(repo / name, rows(*numbers))
    return name


def test_a_range_counts_shards_by_identity_across_a_fold(repo: Path) -> None:
    """Shards the base has add nothing, loose or folded inside the range; a shard new in the
    range adds all its rows, folded or not."""
    from telemetry_csv.logfile import folds

    first = shard(repo, 1, 1, 2)
    second = shard(repo, 2, 3)
    base = commit_all(repo, "two shards")
    third = shard(repo, 3, 4, 5)
    commit_all(repo, "a third")
    made = folds.build(
        [(Path(name).name, (repo / name).read_bytes()) for name in (first, second, third)]
    )
    (repo / SHARDS / made.manifest_name).write_bytes(made.manifest)
    (repo / SHARDS / made.name).write_bytes(made.data)
    for name in (first, second, third):
        (repo / name).unlink()
    shard(repo, 4, 6)
    commit_all(repo, "fold, and a fourth")
    assert durations(f"{base}..HEAD", repo) == [4, 5, 6]
    assert durations("HEAD~1..HEAD", repo) == [6]  # the fold itself adds nothing
    assert durations(f"HEAD..{base}", repo) == []
