"""Codex rollout files: cumulative counters, forks and spawned agents replaying their parent,
copied rollouts, archived sessions, rollouts without a model. Expected rows worked out by hand."""

from __future__ import annotations

from pathlib import Path

from telemetry_csv import importing
from telemetry_csv.importing import feed
from testing.agentfixtures import NOW, Layout, instant, rows


def collect(layout: Layout, **options: object) -> importing.ImportResult:
    settings: dict[str, object] = {"root": layout.root, "now": NOW, "environ": layout.environ}
    settings.update(options)
    return importing.collect("codex", **settings)  # type: ignore[arg-type]


def test_deltas_of_the_cumulative_totals_and_the_model_of_each_turn(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("codex", "basic")
    result = collect(layout)
    notes = "codex session 2e3f4a5b, branch main"
    assert [row[:8] + row[10:] for row in rows(result)] == [
        # 5000 in (1000 cached), 300 out; the same totals again at 10:00:21 add nothing; then
        # 12000 - 5000 in (6000 - 1000 cached), 700 - 300 out. Active: 0.5 + 8.5 + 10 + 1 +
        # 19 + 20 s.
        (
            "2026-03-11T10:01:00Z",
            "gpt-5.1-codex",
            12000,
            700,
            True,
            "execute",
            59000,
            notes,
            6000,
            0,
        ),
        # After the switch to -max: 20000 - 12000 in (10000 - 6000 cached), 1000 - 700 out;
        # the stream error after it makes the slice a failure. Active: 30 + 30 s.
        (
            "2026-03-11T10:31:00Z",
            "gpt-5.1-codex-max",
            8000,
            300,
            False,
            "execute",
            60000,
            notes,
            4000,
            0,
        ),
    ]
    assert result.skipped == {}


def test_a_fork_replaying_its_parent_at_the_fork_time_counts_only_its_own_turn(
    tmp_path: Path,
) -> None:
    layout = Layout(tmp_path)
    layout.install("codex", "fork")
    # The replayed totals (12000 in, 6000 cached, 700 out) are the baseline: 25000 - 12000
    # in, 11000 - 6000 cached, 900 - 700 out. Active: the records from 11:00:00.020 on, 6.08 s.
    assert [row[:8] + row[10:] for row in rows(collect(layout))] == [
        (
            "2026-03-11T11:00:06Z",
            "gpt-5.1-codex",
            13000,
            200,
            True,
            "execute",
            6080,
            "codex session 0000f0b1, branch main",
            5000,
            0,
        ),
    ]


def test_a_spawned_agent_replaying_its_parent_with_old_times_counts_only_its_own_turn(
    tmp_path: Path,
) -> None:
    layout = Layout(tmp_path)
    layout.install("codex", "spawn")
    # Baseline 12000/6000/700 from the replay (times of 10:00, before the spawn at 10:45):
    # 18000 - 12000 in, 9000 - 6000 cached, 800 - 700 out, on the model it switched to; the
    # repeated totals at 10:45:09 add nothing. Active from 10:45:00.200: 0.01 + 2.79 + 0.1 +
    # 5.9 s. No branch recorded.
    assert [row[:8] + row[10:] for row in rows(collect(layout))] == [
        (
            "2026-03-11T10:45:03Z",
            "gpt-5.1-codex-mini",
            6000,
            100,
            True,
            "execute",
            8800,
            "codex session 000005c1",
            3000,
            0,
        ),
    ]


def test_a_child_known_only_by_a_second_header(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("codex", "second-meta")
    # Baseline 1000/0/100 from the replay; then 4000 - 1000 in, 900 cached, 300 - 100 out.
    # Active: 1 ms + 493 ms + 2.5 s.
    result = collect(layout, now=instant("2026-03-11T14:00:00Z"))
    assert [row[:8] + row[10:] for row in rows(result)] == [
        (
            "2026-03-11T12:00:03Z",
            "gpt-5.1-codex",
            3000,
            200,
            True,
            "execute",
            2994,
            "codex session 000000d1",
            900,
            0,
        ),
    ]


def test_a_copied_rollout_repeats_records_that_count_once(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("codex", "branch-copy")
    assert [row[:8] + row[10:] for row in rows(collect(layout))] == [
        # The parent's turn: 1000 in (100 cached), 200 out.
        (
            "2026-03-11T09:01:00Z",
            "gpt-5.2",
            1000,
            200,
            True,
            "execute",
            60000,
            "codex session 000000e1",
            100,
            0,
        ),
        # The copy's own turn: 1600 - 1000 in, 300 - 100 cached, 450 - 200 out. Its copied
        # records still show as activity (60 s) besides its own minute.
        (
            "2026-03-11T09:02:00Z",
            "gpt-5.2",
            600,
            250,
            True,
            "execute",
            120000,
            "codex session 000000e2",
            200,
            0,
        ),
    ]


def test_the_active_copy_wins_over_the_archived_one(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("codex", "archived")
    assert [row[:8] + row[10:] for row in rows(collect(layout))] == [
        # From sessions/ (the archive holds an older, shorter copy): 3000 + 4000 in.
        (
            "2026-03-11T10:06:00Z",
            "gpt-5.1-codex",
            7000,
            300,
            True,
            "execute",
            60000,
            "codex session 000000f1",
            2000,
            0,
        ),
        # Only in archived_sessions/.
        (
            "2026-03-11T10:20:40Z",
            "gpt-5.1-codex",
            900,
            90,
            True,
            "execute",
            40000,
            "codex session 000000f2",
            0,
            0,
        ),
    ]


def test_a_rollout_without_a_model_needs_a_fallback(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("codex", "no-model")
    later = instant("2025-09-13T00:00:00Z")
    without = collect(layout, now=later)
    assert without.slices == []
    assert without.skipped == {feed.NO_MODEL: 1}
    with_fallback = collect(layout, now=later, fallback_model="gpt-5")
    assert [row[:8] + row[10:] for row in rows(with_fallback)] == [
        (
            "2025-09-12T08:00:05Z",
            "gpt-5",
            800,
            40,
            True,
            "execute",
            4000,
            "codex session 00000091",
            0,
            0,
        ),
    ]


def test_codex_home_and_other_projects(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    codex_home = tmp_path / "elsewhere" / "codex-home"
    layout.copy(Path(__file__).parent / "fixtures/agents/codex/basic", codex_home)
    result = collect(layout, environ={"HOME": str(layout.home), "CODEX_HOME": str(codex_home)})
    assert [row[2] for row in rows(result)] == [12000, 8000]
    other = Layout(tmp_path / "second")
    layout.copy(Path(__file__).parent / "fixtures/agents/codex/basic", other.home / ".codex")
    # The session ran in `layout.root`, not in `other.root`.
    result = importing.collect("codex", root=other.root, now=NOW, environ=other.environ)
    assert result.slices == []
    result = importing.collect("codex", root=layout.root / "sub", now=NOW, environ=other.environ)
    assert result.slices == []  # a folder inside the session's folder is not the session's
