"""Which shard `log` appends to, in real git repositories: a new one whenever git has the current
one, never a change to a shard git has, and no git process while nothing moved."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from telemetry_csv.capture.appending import log_row
from telemetry_csv.config import load_settings
from telemetry_csv.git.worktree import Worktree
from telemetry_csv.logfile import layout, sharding
from testing.util import HEADER, git, git_env, logged_lines, notes_of, row_line, run_cli, shards


def log(note: str, *extra: str) -> None:
    done = run_cli("log", "m", "1", "2", "true", "plan", "3", note, "-q", *extra, cwd=Path.cwd())
    assert done.returncode == 0, done.stderr


def notes(path: Path) -> list[str]:
    return [notes_of(line) for line in path.read_text().splitlines()[1:]]


def new_shard(log: Path, before: list[Path]) -> Path:
    """The one shard started since `before` (shards started in the same second sort by their
    random part, so the newest is not always the last by name)."""
    [found] = set(shards(log)) - set(before)
    return found


def test_rows_go_to_one_shard_until_git_has_it(repo: Path, log: Path) -> None:
    for note in ("a", "b"):
        globals()["log"](note)
    [first] = shards(log)
    assert notes(first) == ["a", "b"]
    git(repo, "add", "-A")
    globals()["log"]("c")  # staged: frozen, a new shard
    second = new_shard(log, [first])
    assert notes(first) == ["a", "b"] and notes(second) == ["c"]
    git(repo, "commit", "-q", "-m", "x")  # only the staged shard goes in
    globals()["log"]("d")  # the second is still untracked: it takes the row
    assert set(shards(log)) == {first, second} and notes(second) == ["c", "d"]
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "y")
    globals()["log"]("e")
    third = new_shard(log, [first, second])
    assert notes(third) == ["e"]
    assert git(repo, "status", "--porcelain") == f"?? {third.relative_to(repo)}\n"


def test_a_full_shard_starts_a_new_one(repo: Path, log: Path) -> None:
    for number in range(20):
        globals()["log"](
            f"row {number} padded so that a small shard fills up", "--max-bytes", "1024"
        )
    found = shards(log)
    assert len(found) >= 2
    assert all(path.stat().st_size <= 1024 for path in found)
    assert [notes_of(line) for line in logged_lines(log)] == [
        f"row {number} padded so that a small shard fills up" for number in range(20)
    ]


def test_a_git_operation_holding_the_index_gets_a_new_shard(repo: Path, log: Path) -> None:
    """`git commit -a` and `git add` hold index.lock while they read the work tree."""
    globals()["log"]("before")
    [first] = shards(log)
    lock = repo / ".git" / "index.lock"
    lock.write_text("")
    try:
        globals()["log"]("during")
        globals()["log"]("during again")  # the shard this very lock saw started takes it
    finally:
        lock.unlink()
    second = new_shard(log, [first])
    assert notes(first) == ["before"] and notes(second) == ["during", "during again"]
    globals()["log"]("after")  # nobody staged the second meanwhile: it takes the row
    assert notes(second) == ["during", "during again", "after"]


def test_rows_appended_after_git_add_read_the_shard_move_to_a_new_one(
    repo: Path, log: Path
) -> None:
    """What a `log` racing `git add` leaves (git takes no lock of ours): the shard in the
    commit is shorter than the work tree's. The rows past it move, whole and in order, with
    the next row, to a new shard, and the committed shard is as git has it again."""
    globals()["log"]("committed")
    git(repo, "add", "-A")
    [shard] = shards(log)
    with open(shard, "a") as file:  # the raced append
        file.write(row_line(notes="raced"))
    git(repo, "commit", "-q", "-m", "x")
    committed = git(repo, "show", f"HEAD:{shard.relative_to(repo)}")
    assert notes(shard) == ["committed", "raced"]
    globals()["log"]("next")
    second = new_shard(log, [shard])
    assert shard.read_text() == committed and notes(shard) == ["committed"]
    assert notes(second) == ["raced", "next"]
    assert git(repo, "status", "--porcelain") == f"?? {second.relative_to(repo)}\n"
    assert not list(shard.parent.glob(".move.*"))


def test_a_move_cut_short_by_a_crash_is_finished_by_the_next_log(repo: Path, log: Path) -> None:
    """The journal is written first, then the target, then the source is cut back: a crash
    after the target leaves both, which readers reconcile, and the next `log` finishes."""
    globals()["log"]("committed")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "x")
    [source] = shards(log)
    size = source.stat().st_size
    with open(source, "a") as file:
        file.write(row_line(notes="moved"))
    target = source.with_name("29991231T235959Z-00000000000000ff.csv")
    target.write_text(HEADER + row_line(notes="moved"))
    journal = source.parent / layout.move_name(source.name, size, target.name)
    journal.write_text("")
    state = repo / ".git" / "telemetry-csv" / "current"
    text = state.read_text().replace("move -", f"move {journal.name}")
    state.write_text(text.replace("head ", "head stale-"))
    checked = run_cli("check", cwd=repo)  # readers: the journal caps the source
    assert "2 valid rows: no problems" in checked.stdout, checked.stdout
    globals()["log"]("next")
    assert source.stat().st_size == size and not journal.exists()
    assert sorted(notes_of(line) for line in logged_lines(log)) == [
        "committed",
        "moved",
        "next",
    ]


def test_a_torn_shard_is_left_for_repair_and_logging_goes_on(repo: Path, log: Path) -> None:
    globals()["log"]("whole")
    [shard] = shards(log)
    with open(shard, "a") as file:
        file.write("2026-02-23T22:19:12+01:00,claude-3-op")
    globals()["log"]("after")
    assert len(shards(log)) == 2
    assert run_cli("check", cwd=repo).returncode == 1
    repaired = run_cli("repair", cwd=repo)
    assert repaired.returncode == 0 and f"of {shard.relative_to(repo)} to" in repaired.stdout
    assert run_cli("check", cwd=repo).returncode == 0


def test_outside_a_repository_the_newest_shard_takes_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    for note in ("a", "b"):
        log_row(model="m", prompt_tokens=1, completion_tokens=2, task_success=True,
                task_type="plan", duration_ms=3, notes=note)  # fmt: skip
    [shard] = shards(tmp_path / ".telemetry" / "usage.csv")
    assert notes(shard) == ["a", "b"]


@pytest.fixture
def recording_git(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose `git` is the real one, run through a script that counts calls."""
    folder = tmp_path / "bin"
    folder.mkdir()
    calls = tmp_path / "git-calls"
    real = subprocess.run(["which", "git"], capture_output=True, text=True).stdout.strip()
    script = folder / "git"
    script.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {real} "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    env = git_env()
    env["PATH"] = f"{folder}{os.pathsep}{env['PATH']}"
    return env, calls


def test_log_starts_no_git_while_head_and_the_index_stay_put(
    repo: Path, log: Path, recording_git: tuple[dict[str, str], Path]
) -> None:
    env, calls = recording_git
    argv = [str(Path(sys.executable).parent / "telemetry-csv"), "log", "m", "1", "2", "true",
            "plan", "3", "-q"]  # fmt: skip

    def logged() -> list[str]:
        subprocess.run(argv, cwd=repo, env=env, check=True)
        made = calls.read_text().splitlines() if calls.exists() else []
        calls.unlink(missing_ok=True)
        return made

    assert logged() == []  # the first row: a new shard, nothing to ask git
    assert logged() == []
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "x")
    assert logged() == ["cat-file --batch-check"]  # HEAD moved: one question
    assert logged() == []
    # HEAD from packed refs, and a detached HEAD, are read without git too.
    git(repo, "pack-refs", "--all")
    assert logged() == []
    git(repo, "checkout", "-q", "--detach")
    assert logged() == ["cat-file --batch-check"]  # checkout rewrote the index: one question
    assert logged() == []


@pytest.mark.parametrize("how", ["loose", "packed", "detached", "unborn"])
def test_head_is_read_as_git_reads_it(repo: Path, how: str) -> None:
    if how != "unborn":
        (repo / "f").write_text("x\n")
        git(repo, "add", "f")
        git(repo, "commit", "-q", "-m", "x")
    if how == "packed":
        git(repo, "pack-refs", "--all")
    if how == "detached":
        git(repo, "checkout", "-q", "--detach")
    worktree = Worktree.at(repo)
    assert worktree is not None
    expected = None if how == "unborn" else git(repo, "rev-parse", "HEAD").strip()
    assert worktree.head() == expected


def test_a_linked_worktree_has_its_own_head_index_and_state(repo: Path, tmp_path: Path) -> None:
    (repo / "f").write_text("x\n")
    git(repo, "add", "f")
    git(repo, "commit", "-q", "-m", "x")
    other = tmp_path / "other"
    git(repo, "worktree", "add", "-q", "-b", "other", str(other))
    (other / "g").write_text("y\n")
    git(other, "add", "g")
    git(other, "commit", "-q", "-m", "y")
    worktree = Worktree.at(other)
    assert worktree is not None
    assert worktree.head() == git(other, "rev-parse", "HEAD").strip()
    assert worktree.head() != Worktree.at(repo).head()  # type: ignore[union-attr]
    assert worktree.state_path().parent.parent == Path(
        git(other, "rev-parse", "--absolute-git-dir").strip()
    )
    assert run_cli("log", "m", "1", "2", "true", "plan", "3", cwd=other).returncode == 0
    assert len(shards(other / ".telemetry" / "usage.csv")) == 1
    assert (worktree.state_path()).exists()


def test_a_state_that_cannot_be_saved_never_fails_a_logged_row(repo: Path, log: Path) -> None:
    """The state only spares `log` a git call or a shard: if it cannot be written after the row
    was, `log` still succeeds (a retrying script would log the row twice)."""
    (repo / ".git" / "telemetry-csv").write_text("a file where the folder should be")
    settings = load_settings(repo)
    for note in ("a", "b"):
        result = sharding.append_rows(
            settings.log_path,
            [
                settings.schema.normalise(
                    model="m", prompt_tokens=1, completion_tokens=2, task_success=True,
                    task_type="plan", duration_ms=3, notes=note,
                ).row
            ],
            settings.schema,
            max_bytes=settings.max_bytes,
            lock_timeout=1,
            repository=Worktree.at(repo),
        )  # fmt: skip
        assert result.created
    assert sorted(notes_of(line) for line in logged_lines(log)) == ["a", "b"]


def test_shards_started_within_one_second_sort_in_the_order_they_were_started(
    tmp_path: Path,
) -> None:
    from telemetry_csv.logfile.layout import is_shard_name, new_shard_name

    started = []
    for _ in range(50):  # far more than one second's worth of names would need
        name = new_shard_name(tmp_path)
        (tmp_path / name).write_text("")
        started.append(name)
    assert all(is_shard_name(name) for name in started)
    assert sorted(started) == started and len(set(started)) == len(started)


@pytest.mark.parametrize(
    ("last", "stamp"),
    [
        # A clock set back: the next name keeps the last one's time and sorts after it.
        ("29990101T000000Z-0000000000000000.csv", "29990101T000000Z"),
        # The last suffix of a second is taken: the next second.
        ("29991231T235958Z-ffffffffffffffff.csv", "29991231T235959Z"),
    ],
)
def test_a_new_shard_sorts_after_the_last_one_whatever_the_clock_says(
    tmp_path: Path, last: str, stamp: str
) -> None:
    from telemetry_csv.logfile.layout import is_shard_name, new_shard_name

    (tmp_path / last).write_text("")
    (tmp_path / "fold-0123456789abcdef.csv").write_text("")  # not a shard: no say in the order
    name = new_shard_name(tmp_path)
    assert is_shard_name(name) and name > last and name.startswith(stamp + "-")
