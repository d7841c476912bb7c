"""Imports that follow each other: only what is new, exactly once, whoever imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from telemetry_csv import importing
from telemetry_csv.importing import collecting
from testing.agentfixtures import NOW, Layout, claude_project, instant, rows


def collect(
    layout: Layout, source: str = "claude-code", **options: object
) -> importing.ImportResult:
    settings: dict[str, object] = {"root": layout.root, "now": NOW, "environ": layout.environ}
    settings.update(options)
    return importing.collect(source, **settings)  # type: ignore[arg-type]


def project_folder(layout: Layout) -> Path:
    return layout.home / ".claude" / "projects" / claude_project(layout.root)


def test_a_growing_session_adds_exactly_its_new_closed_slices(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "basic")
    session = project_folder(layout) / "11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa.jsonl"
    whole = session.read_text().splitlines(keepends=True)
    state = importing.StateFile(tmp_path / "state.json", "log-1")
    # At 11:10 the agent had written up to the haiku response (11:05); nothing is closed.
    session.write_text("".join(whole[:10]))
    first = collect(layout, now=instant("2026-03-11T11:10:00Z"), state=state)
    assert first.slices == [] and first.complete
    first.save_state()
    # At 11:20 the 10:00 window is closed: its slice, as in a single import.
    second = collect(layout, now=instant("2026-03-11T11:20:00Z"), state=state)
    assert [row[0] for row in rows(second)] == ["2026-03-11T10:40:30Z"]
    assert rows(second)[0][2:4] == (36618, 600)
    assert not second.complete
    second.save_state()
    # The session went on (11:06); at 12:20 the 11:00 window is closed: its two slices, the
    # haiku response among them although it was read two imports ago.
    with session.open("a") as stream:
        stream.write(whole[10])
    third = collect(layout, now=instant("2026-03-11T12:20:00Z"), state=state)
    assert [row[:4] for row in rows(third)] == [
        ("2026-03-11T11:05:00Z", "claude-haiku-4-5-20251001", 50, 10),
        ("2026-03-11T11:06:00Z", "claude-sonnet-4-5-20250929", 13107, 60),
    ]
    third.save_state()
    fourth = collect(layout, now=instant("2026-03-11T13:20:00Z"), state=state)
    assert fourth.slices == [] and fourth.files_read == 0
    # Together, exactly what one import of the whole file gives.
    one_import = collect(layout)
    assert rows(second) + rows(third) == rows(one_import)


def test_nothing_new_reads_no_file_and_writes_no_state(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "basic")
    state_path = tmp_path / "state.json"
    state = importing.StateFile(state_path, "log-1")
    collect(layout, state=state).save_state()
    before = state_path.stat().st_mtime_ns
    again = collect(layout, state=state, now=NOW + 60)
    again.save_state()
    assert again.slices == [] and again.files_read == 0
    assert state_path.stat().st_mtime_ns == before


def test_the_caller_renews_the_token_when_it_writes_the_slices(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "basic")
    state_path = tmp_path / "state.json"
    collect(layout, state=importing.StateFile(state_path, "log-size-0")).save_state("log-size-900")
    again = collect(layout, state=importing.StateFile(state_path, "log-size-900"), now=NOW + 60)
    assert again.slices == [] and again.files_read == 0 and not again.complete
    again.save_state("log-size-1000")  # nothing new, but the log changed: the token follows
    assert json.loads(state_path.read_text())["token"] == "log-size-1000"
    third = collect(layout, state=importing.StateFile(state_path, "log-size-1000"), now=NOW + 60)
    assert not third.complete


def test_another_token_reads_everything_again(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "basic")
    first = collect(layout, state=importing.StateFile(tmp_path / "state.json", "before-pull"))
    first.save_state()
    after_pull = importing.StateFile(tmp_path / "state.json", "after-pull")
    again = collect(layout, state=after_pull)
    assert again.complete and after_pull.problem == "the log changed since the last import"
    # The caller skips what its log holds: the ids are the ones it already has.
    assert [p.source_id for p in again.slices] == [p.source_id for p in first.slices]


def test_a_damaged_state_or_a_link_means_a_full_read(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "basic")
    state_path = tmp_path / "state.json"
    state_path.write_text('{"format": 1, "token": "t", "files": [1, 2')
    state = importing.StateFile(state_path, "t")
    result = collect(layout, state=state)
    assert len(result.slices) == 3 and result.complete and state.problem == "state damaged"
    result.save_state()
    assert json.loads(state_path.read_text())["token"] == "t"
    # A state path that is a symbolic link is neither read nor written through.
    target = tmp_path / "elsewhere.json"
    target.write_text(state_path.read_text())
    state_path.unlink()
    state_path.symlink_to(target)
    linked = importing.StateFile(state_path, "t")
    result = collect(layout, state=linked)
    assert result.complete and linked.problem is not None
    before = target.read_bytes()
    result.save_state()
    assert target.read_bytes() == before and not state_path.is_symlink()


def test_a_state_damaged_inside_reads_again_what_it_cannot_trust(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("codex", "basic")
    rollout = next((layout.home / ".codex").rglob("rollout-*.jsonl"))
    whole = rollout.read_text().splitlines(keepends=True)
    rollout.write_text("".join(whole[:5]))
    state_path = tmp_path / "state.json"
    state = importing.StateFile(state_path, "t")
    collect(layout, "codex", state=state, now=instant("2026-03-11T10:00:30Z")).save_state()
    rollout.write_text("".join(whole))
    saved = json.loads(state_path.read_text())
    (entry,) = saved["files"].values()
    entry[8][3] = "three"  # the count of headers, as text
    state_path.write_text(json.dumps(saved))
    # That file is read again from its start: the same rows as one import.
    assert [row[2:4] for row in rows(collect(layout, "codex", state=state))] == [
        (12000, 700),
        (8000, 300),
    ]
    saved["accumulator"]["groups"] = [
        [1, "s", None, [{"a": 1}], "m", [1, 1, 1, 1], "k", 1, [], [], True]
    ]
    state_path.write_text(json.dumps(saved))
    result = collect(layout, "codex", state=state)
    assert result.complete and [row[2] for row in rows(result)] == [12000, 8000]


def test_a_copy_of_old_history_after_its_window_was_imported_adds_only_what_is_new(
    tmp_path: Path,
) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "fork")
    folder = project_folder(layout)
    copy = folder / "33333333-bbbb-4bbb-8bbb-bbbbbbbbbbbb.jsonl"
    held_back = copy.read_bytes()
    copy.unlink()
    state = importing.StateFile(tmp_path / "state.json", "t")
    first = collect(layout, state=state)
    assert [row[2] for row in rows(first)] == [2005]
    first.save_state()
    # An hour later the hand-off's file appears, with copies of the 10:00 records and its
    # own response of 10:50: all in a window imported already.
    copy.write_bytes(held_back)
    second = collect(layout, state=state, now=NOW + 3600)
    assert [row[:8] for row in rows(second)] == [
        (
            "2026-03-11T10:50:20Z",
            "claude-sonnet-4-5-20250929",
            1054,
            30,
            True,
            "execute",
            90000,
            "claude-code session 33333333, branch main",
        ),
    ]
    assert second.skipped == {}
    second.save_state()
    # The same copy once more (a second hand-off of the same history): nothing.
    (folder / "33333333-cccc-4ccc-8ccc-cccccccccccc.jsonl").write_bytes(
        held_back.replace(
            b"33333333-bbbb-4bbb-8bbb-bbbbbbbbbbbb", b"33333333-cccc-4ccc-8ccc-cccccccccccc"
        )
    )
    third = collect(layout, state=state, now=NOW + 7200)
    assert third.slices == [] and third.skipped == {}


def test_a_resume_after_its_windows_were_imported_adds_only_the_new_turn(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "resume")
    session = project_folder(layout) / "88888888-eeee-4eee-8eee-eeeeeeeeeeee.jsonl"
    whole = session.read_text().splitlines(keepends=True)
    session.write_text("".join(whole[:4]))
    state = importing.StateFile(tmp_path / "state.json", "t")
    first = collect(layout, state=state, now=instant("2026-03-11T11:30:00Z"))
    assert [row[2] for row in rows(first)] == [211]
    first.save_state()
    # The resume rewrites the old turns (one at its old time: late; one at the resume's time:
    # a copy within a day) and adds one.
    session.write_text("".join(whole))
    second = collect(layout, state=state, now=instant("2026-03-11T14:00:00Z"))
    assert [row[2] for row in rows(second)] == [257] and second.skipped == {}


def test_a_deleted_session_file_is_forgotten(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "resume")
    layout.install("claude-code", "errors")
    state_path = tmp_path / "state.json"
    state = importing.StateFile(state_path, "t")
    collect(layout, state=state, now=instant("2026-03-11T14:00:00Z")).save_state()
    (project_folder(layout) / "88888888-eeee-4eee-8eee-eeeeeeeeeeee.jsonl").unlink()
    result = collect(layout, state=state, now=instant("2026-03-11T14:00:00Z"))
    assert result.slices == [] and result.skipped == {}
    result.save_state()
    assert len(json.loads(state_path.read_text())["files"]) == 1


def test_new_usage_in_a_slice_already_imported_is_reported_not_added(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("claude-code", "errors")
    state = importing.StateFile(tmp_path / "state.json", "t")
    collect(layout, state=state).save_state()
    session = project_folder(layout) / "44444444-cccc-4ccc-8ccc-cccccccccccc.jsonl"
    late = json.loads(session.read_text().splitlines()[1])
    late["message"]["id"], late["requestId"] = "msg_04LATE", "req_04LATE"
    late["timestamp"] = "2026-03-11T10:35:00.000Z"
    with session.open("a") as stream:
        stream.write(json.dumps(late) + "\n")
    result = collect(layout, state=state, now=NOW + 3600)
    assert result.slices == []
    assert result.skipped == {collecting.LATE_IMPORTED: 1}


def test_a_shrunk_file_is_read_again_without_duplicates(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("codex", "basic")
    state = importing.StateFile(tmp_path / "state.json", "t")
    collect(layout, "codex", state=state).save_state()
    rollout = next((layout.home / ".codex").rglob("rollout-*.jsonl"))
    rollout.write_text("".join(rollout.read_text().splitlines(keepends=True)[:8]))
    result = collect(layout, "codex", state=state, now=NOW + 3600)
    assert result.slices == [] and result.skipped == {}


def test_codex_totals_carry_over_between_imports(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("codex", "basic")
    rollout = next((layout.home / ".codex").rglob("rollout-*.jsonl"))
    whole = rollout.read_text().splitlines(keepends=True)
    state = importing.StateFile(tmp_path / "state.json", "t")
    # Cut after the first real count (10:00:20); the next import must subtract it.
    rollout.write_text("".join(whole[:5]))
    collect(layout, "codex", state=state, now=instant("2026-03-11T10:00:30Z")).save_state()
    rollout.write_text("".join(whole))
    result = collect(layout, "codex", state=state)
    assert [row[2:4] for row in rows(result)] == [(12000, 700), (8000, 300)]


def test_two_importers_at_different_times_agree(tmp_path: Path) -> None:
    """Two clones (or a clone that lost its state) give the same ids for the same usage, with
    the same numbers, whatever they imported before: merging their rows counts each once."""
    layout = Layout(tmp_path)
    for scenario in ("basic", "sidechain", "fork", "errors"):
        layout.install("claude-code", scenario)
    early = importing.StateFile(tmp_path / "early.json", "x")
    seen: dict[str, tuple[object, ...]] = {}
    for moment in ("2026-03-11T10:20:00Z", "2026-03-11T11:16:00Z", "2026-03-11T12:30:00Z"):
        result = collect(layout, state=early, now=instant(moment))
        for piece in result.slices:
            assert piece.source_id not in seen
            seen[piece.source_id] = piece.fields()
        result.save_state()
    late = collect(layout, state=importing.StateFile(tmp_path / "late.json", "y"))
    assert {piece.source_id: piece.fields() for piece in late.slices} == seen


def test_the_importers_time_zone_does_not_matter(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    for scenario in ("basic", "sidechain", "errors"):
        layout.install("claude-code", scenario)
    script = (
        "import json, sys\n"
        "from telemetry_csv import importing\n"
        "r = importing.collect('claude-code', root=sys.argv[1], now=float(sys.argv[2]),\n"
        "    environ={'HOME': sys.argv[3]}, since='2026-03-11')\n"
        "print(json.dumps([p.fields() for p in r.slices]))\n"
    )
    outputs = set()
    for zone in ("UTC", "Pacific/Chatham", "America/St_Johns", "Asia/Kathmandu", "Etc/GMT+12"):
        done = subprocess.run(
            [sys.executable, "-c", script, str(layout.root), str(NOW), str(layout.home)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "TZ": zone},
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert len(json.loads(outputs.pop())) == 6  # 3 + 1 + 2 slices


def test_gemini_messages_appended_again_after_an_import(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.install("gemini", "basic")
    chats = next((layout.home / ".gemini").rglob("chats"))
    session = chats / "session-2026-03-11T10-00-3c4d5e6f.jsonl"
    whole = session.read_text().splitlines(keepends=True)
    (chats / "session-2026-03-11T09-09-7a8b9c0d.json").unlink()
    (chats / "session-2026-03-11T09-09-7a8b9c0d.jsonl").unlink()
    state = importing.StateFile(tmp_path / "state.json", "t")
    # Written up to g1 without tokens; then g1 is appended again with them.
    session.write_text("".join(whole[:4]))
    collect(layout, "gemini", state=state, now=instant("2026-03-11T10:00:30Z")).save_state()
    session.write_text("".join(whole))
    result = collect(layout, "gemini", state=state)
    assert [row[2:4] for row in rows(result)] == [(26520, 800)]
