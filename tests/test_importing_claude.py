"""Claude Code session files: de-duplication, token mapping, slices, scope, damaged records.

Every expected row is worked out by hand from the fixture; the comments show the sums."""

from __future__ import annotations

from pathlib import Path

import pytest

from telemetry_csv import importing
from telemetry_csv.importing import feed
from testing.agentfixtures import NOW, Layout, claude_project, instant, rows

SONNET = "claude-sonnet-4-5-20250929"


def collect(layout: Layout, **options: object) -> importing.ImportResult:
    settings: dict[str, object] = {"root": layout.root, "now": NOW, "environ": layout.environ}
    settings.update(options)
    return importing.collect("claude-code", **settings)  # type: ignore[arg-type]


def test_partials_duplicates_models_and_branches(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "basic")
    result = collect(layout)
    sid = "claude-code session 11111111"
    assert [row[:8] + row[10:] for row in rows(result)] == [
        # msg_01A counted once, from its final copy (3 + 2000 + 10000 in, 120 out), plus
        # msg_01B (5 + 300 + 12000, 80) and msg_01C (10 + 0 + 12300, 400):
        # prompt 12003 + 12305 + 12310, completion 120 + 80 + 400, cache read 10000 + 12000 +
        # 12300, cache write 2000 + 300 + 0. Active time: 4 s + 5.5 s + 10.5 s + 5 s, then the
        # 39-minute pause is idle, then 30 s: 55 s.
        (
            "2026-03-11T10:40:30Z",
            SONNET,
            36618,
            600,
            True,
            "execute",
            55000,
            f"{sid}, branch main",
            34300,
            2300,
        ),
        # Another model in the same session: its own row; the 24.5-minute gap before it is idle.
        (
            "2026-03-11T11:05:00Z",
            "claude-haiku-4-5-20251001",
            50,
            10,
            True,
            "execute",
            0,
            f"{sid}, branch main",
            0,
            0,
        ),
        # The session switched branch: its own row, with the one minute since the last record.
        (
            "2026-03-11T11:06:00Z",
            SONNET,
            13107,
            60,
            True,
            "execute",
            60000,
            f"{sid}, branch feature/x",
            13000,
            100,
        ),
    ]
    assert {row[8] for row in rows(result)} == {"claude-code"}
    assert result.skipped == {}


def test_source_ids_are_window_then_hash_and_distinct(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "basic")
    ids = [piece.source_id for piece in collect(layout).slices]
    assert [sid[:13] for sid in ids] == ["20260311T10Z-", "20260311T11Z-", "20260311T11Z-"]
    assert all(len(sid) == 29 and int(sid[13:], 16) >= 0 for sid in ids)
    assert len(set(ids)) == 3


def test_a_sidechain_replay_with_a_new_request_id_is_the_same_response(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "sidechain")
    result = collect(layout)
    # msg_02P from the main file (4 + 500 + 20, 30), not its sidechain replay (50,000 cache
    # reads, request req_02SIDE); msg_02Q (6 + 0 + 600, 40); the sub-agent's own msg_02S
    # (9 + 700 + 0, 55). Prompt 524 + 606 + 709, completion 125, reads 620, writes 1200.
    # Active time: the main file 10:10:00-10:11:00 and the sub-agent 10:12:00-10:12:30.
    assert [row[:8] + row[10:] for row in rows(result)] == [
        (
            "2026-03-11T10:12:30Z",
            SONNET,
            1839,
            125,
            True,
            "execute",
            90000,
            "claude-code session 22222222, branch main",
            620,
            1200,
        ),
    ]


def test_history_copied_into_another_session_counts_once(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "fork")
    result = collect(layout)
    assert [row[:8] + row[10:] for row in rows(result)] == [
        # The original session: msg_03F1 (2 + 1000 + 0, 10) and msg_03F2 (3 + 0 + 1000, 20);
        # active 5 s + 55 s + 10 s.
        (
            "2026-03-11T10:21:10Z",
            SONNET,
            2005,
            30,
            True,
            "execute",
            70000,
            "claude-code session 33333333, branch main",
            1000,
            1000,
        ),
        # The copy adds only msg_03F3 (4 + 50 + 1000, 30). Its copied records still show as
        # activity (70 s) besides its own 20 s: the copies carry no mark of being copies.
        (
            "2026-03-11T10:50:20Z",
            SONNET,
            1054,
            30,
            True,
            "execute",
            90000,
            "claude-code session 33333333, branch main",
            1000,
            50,
        ),
    ]
    first, second = result.slices
    assert (first.session, second.session) == (
        "33333333-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
        "33333333-bbbb-4bbb-8bbb-bbbbbbbbbbbb",
    )


def test_a_resume_replaying_turns_into_the_same_file_counts_them_once(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "resume")
    result = collect(layout, now=instant("2026-03-11T14:00:00Z"))
    notes = "claude-code session 88888888, branch main"
    assert [row[:8] + row[10:] for row in rows(result)] == [
        # msg_08A (5 + 100, 10) and msg_08B (6 + 100, 20), whose copies with fresh uuids came
        # back at the resume (one at its old time, one at the resume's time). Active 5 + 55 +
        # 30 s.
        ("2026-03-11T10:01:30Z", SONNET, 211, 30, True, "execute", 90000, notes, 100, 100),
        # The turn after the resume: msg_08C (7 + 50 + 200, 30); active 10 + 30 s.
        ("2026-03-11T12:30:40Z", SONNET, 257, 30, True, "execute", 40000, notes, 200, 50),
    ]


def test_an_api_error_at_the_end_of_a_slice_makes_it_a_failure(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "errors")
    result = collect(layout, task_type="verify")
    opus = "claude-opus-4-1-20250805"
    notes = "claude-code session 44444444, branch main"
    assert [row[:8] + row[10:] for row in rows(result)] == [
        # The last thing in 10:00-11:00 was the 529 error (10:31:30); the `<synthetic>` "No
        # response requested." after it counts no tokens. Active: 5 + 55 + 30 + 30 s.
        ("2026-03-11T10:31:30Z", opus, 1, 5, False, "verify", 120000, notes, 0, 0),
        # The timeout at 11:00:10 was followed by a response: a success. Active: 10 + 30 s.
        ("2026-03-11T11:00:40Z", opus, 102, 7, True, "verify", 40000, notes, 100, 0),
    ]


def test_damaged_and_odd_records_are_skipped_and_counted(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "damaged")
    result = collect(layout)
    # msg_05A (10 in, 1 out, cache fields 0) and msg_05J (20 in, 2 out, no cache fields, so
    # the slice's cache columns are unknown). Active: 1 s to msg_05A, and 1 s from the record
    # before msg_05J (that record has no branch, so its own second goes to no slice).
    assert [row[:8] + row[10:] for row in rows(result)] == [
        (
            "2026-03-11T10:00:10Z",
            SONNET,
            30,
            3,
            True,
            "execute",
            2000,
            "claude-code session 55555555, branch main",
            None,
            None,
        ),
    ]
    from telemetry_csv.importing import claude

    assert result.skipped == {
        claude.NULL_FIELD: 2,
        claude.EMPTY_ID: 1,
        claude.NOT_CLAUDE: 1,
        feed.BAD_COUNT: 1,
        feed.BAD_MODEL: 1,
        feed.NO_TIMESTAMP: 1,
        feed.CORRUPT: 1,
        feed.NOT_OBJECT: 1,
        feed.UNKNOWN_TYPE: 1,
        feed.INCOMPLETE: 1,
    }
    assert "skipped: 1 Claude Code record with an empty id or model" in result.summary()


def test_sessions_of_other_folders_are_left_out(tmp_path: Path) -> None:
    layout = Layout(tmp_path, root_name="a-b")
    layout.install("claude-code", "projects")
    scoped = collect(layout)
    # The root (100 in) and a folder inside it (200 in, its own project folder). The session
    # in `a/b` shares the root's project folder name (`…-a-b`) but its records say where it
    # ran; the other repository's folder is not even read.
    assert [(row[2], row[7]) for row in rows(scoped)] == [
        (100, "claude-code session 66666666, branch main"),
        (200, "claude-code session 66666666, branch main"),
    ]
    everything = collect(layout, all_projects=True)
    assert sorted(row[2] for row in rows(everything)) == [100, 200, 300, 400]


def test_a_window_is_imported_only_once_its_grace_period_is_over(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "basic")
    # 11:59:59 at 12:14:59: the 11:00 window ended, but copies may still be written.
    early = collect(layout, now=instant("2026-03-11T12:14:59Z"))
    assert [row[0] for row in rows(early)] == ["2026-03-11T10:40:30Z"]
    on_time = collect(layout, now=instant("2026-03-11T12:15:00Z"))
    assert [row[0] for row in rows(on_time)] == [
        "2026-03-11T10:40:30Z",
        "2026-03-11T11:05:00Z",
        "2026-03-11T11:06:00Z",
    ]
    assert collect(layout, now=instant("2026-03-11T11:00:00Z")).slices == []


def test_since_leaves_out_earlier_windows(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "basic")
    result = collect(layout, since="2026-03-11T11:00:00Z")
    assert [row[0] for row in rows(result)] == ["2026-03-11T11:05:00Z", "2026-03-11T11:06:00Z"]
    assert result.skipped == {"slices before --since": 1}
    assert [row[0] for row in rows(collect(layout, since="2026-03-12"))] == []


def test_the_idle_limit_is_configurable(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "basic")
    # With a 40-minute limit the pause from 10:00:25 to 10:40:00 counts: 55 s + 2375 s; and
    # the 24.5 minutes to the haiku response count for it.
    durations = [row[6] for row in rows(collect(layout, idle_limit_ms=40 * 60_000))]
    assert durations == [2430000, 1470000, 60000]
    durations = [row[6] for row in rows(collect(layout, idle_limit_ms=5000))]
    # Only the gaps of at most 5 s: 4 s and 5 s, then none, then none.
    assert durations == [9000, 0, 0]


@pytest.mark.parametrize("layout_kind", ["config_dir_list", "projects_folder", "xdg"])
def test_every_claude_folder_is_read(tmp_path: Path, layout_kind: str) -> None:
    layout = Layout(tmp_path)
    first = tmp_path / "first"
    second = tmp_path / "second"
    layout.copy(Path(__file__).parent / "fixtures/agents/claude/basic", first)
    layout.copy(Path(__file__).parent / "fixtures/agents/claude/errors", second)
    if layout_kind == "config_dir_list":
        environ = {"HOME": str(layout.home), "CLAUDE_CONFIG_DIR": f"{first}, {second}"}
    elif layout_kind == "projects_folder":
        environ = {
            "HOME": str(layout.home),
            "CLAUDE_CONFIG_DIR": f"{first / 'projects'},{second / 'projects'},",
        }
    else:
        (layout.home / ".config").mkdir()
        (first).rename(layout.home / ".config" / "claude")
        second.rename(layout.home / ".claude")
        environ = {"HOME": str(layout.home)}
    result = collect(layout, environ=environ)
    assert [row[0] for row in rows(result)] == [
        "2026-03-11T10:31:30Z",
        "2026-03-11T10:40:30Z",
        "2026-03-11T11:00:40Z",
        "2026-03-11T11:05:00Z",
        "2026-03-11T11:06:00Z",
    ]


def test_from_path_replaces_the_usual_folders(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    elsewhere = tmp_path / "copied"
    layout.copy(Path(__file__).parent / "fixtures/agents/claude/sidechain", elsewhere)
    layout.install("claude-code", "basic")
    result = collect(layout, from_path=elsewhere / "projects")
    assert [row[2] for row in rows(result)] == [1839]
    one_file = next((elsewhere / "projects").glob("*/*.jsonl"))
    result = collect(layout, from_path=one_file)
    # The main file alone: msg_02P and msg_02Q.
    assert [row[2] for row in rows(result)] == [524 + 606]


def test_fast_mode_is_a_model_of_its_own(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    folder = layout.home / ".claude" / "projects" / claude_project(layout.root)
    folder.mkdir(parents=True)
    record = (
        '{"type":"assistant","cwd":"%s","sessionId":"s-fast","version":"2.1.3","timestamp":'
        '"2026-03-11T10:00:00.000Z","requestId":"r%d","message":{"id":"m%d","model":'
        '"claude-opus-4-6","usage":{"input_tokens":10,"output_tokens":5%s}}}\n'
    )
    (folder / "s-fast.jsonl").write_text(
        record % (layout.root, 1, 1, ',"speed":"fast"') + record % (layout.root, 2, 2, "")
    )
    assert sorted(row[1] for row in rows(collect(layout))) == [
        "claude-opus-4-6",
        "claude-opus-4-6-fast",
    ]


def _claude_name(path: str) -> str:
    """Claude Code's folder name: JavaScript's `path.replace(/[^a-zA-Z0-9]/g, "-")`, which
    sees a character outside the BMP as two."""
    return "".join(
        c if c.isascii() and c.isalnum() else "-" * (len(c.encode("utf-16-le")) // 2) for c in path
    )


@pytest.mark.parametrize(
    ("root", "cwd", "read"),
    [
        ("/w/repo", "/w/repo", True),
        ("/w/repo", "/w/repo/sub", True),
        ("/w/repo", "/w/repo2", False),
        ("/w/repo", "/w/rep", False),
        ("/w/repo", "/other", False),
        ("/w/my_repo.v2", "/w/my_repo.v2/.claude/worktrees/a", True),
        ("/w/a-b", "/w/a/b", True),  # the same name: read, and the records' cwd decide
        ("/w/🚀/repo", "/w/🚀/repo/x", True),
        ("/w/repo_", "/w/repo_/c", True),
    ],
)
def test_project_folders_left_unread_are_only_those_that_cannot_match(
    root: str, cwd: str, read: bool
) -> None:
    from telemetry_csv.importing import discovery

    accept = discovery._claude_filter(root)
    assert accept is not None
    assert accept(_claude_name(cwd)) is read
