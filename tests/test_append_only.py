"""telemetry-csv-append-only, called as `main(argv)` in real git repositories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from telemetry_csv.git.history import find_rewrite
from telemetry_csv.hooks import append_only_hook
from telemetry_csv.logfile.canonical import read_lines
from telemetry_csv.logfile.schema import Schema
from testing.logfiles import commit_all, row, rows, write_log
from testing.util import HEADER, git

LOG = ".telemetry/usage.csv"
BACKUP = ".telemetry/usage-20260301T120000Z.csv"


@pytest.fixture(autouse=True)
def _no_range_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRE_COMMIT_FROM_REF", raising=False)
    monkeypatch.delenv("PRE_COMMIT_TO_REF", raising=False)


def staged(repo: Path, *names: str) -> int:
    git(repo, "add", "-A")
    return append_only_hook.main(list(names) or [LOG])


@pytest.fixture
def committed(repo: Path) -> Path:
    """A repository whose HEAD has a log of three rows."""
    write_log(repo / LOG, rows(1, 2, 3))
    commit_all(repo, "three rows")
    return repo


def test_first_commit_passes(repo: Path) -> None:
    write_log(repo / LOG, rows(1))
    assert staged(repo) == 0


def test_a_file_new_in_this_commit_passes(repo: Path) -> None:
    (repo / "README").write_text("x\n")
    commit_all(repo, "no log yet")
    write_log(repo / LOG, rows(1))
    assert staged(repo) == 0


def test_appending_passes(committed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_log(committed / LOG, rows(1, 2, 3, 4, 5))
    assert staged(committed) == 0
    assert capsys.readouterr().out == ""


def test_an_edited_row_fails_with_the_line_and_both_versions(
    committed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = row(2).replace(",1002,", ",9002,")
    write_log(committed / LOG, rows(1) + edited + rows(3, 4))
    assert staged(committed) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{LOG}:3: a history row was changed; rows may only be added at the end",
        f"    HEAD line 3:   {row(2).strip()}",
        f"    staged line 3: {edited.strip()}",
        f"    restore the committed file with `git restore --source=HEAD --staged --worktree "
        f"-- {LOG}` (rows added since are dropped with the change: log them again with "
        "`telemetry-csv log`)",
    ]
    # The command it gives restores the file: the hook then passes, and the log is HEAD's.
    command = f"git restore --source=HEAD --staged --worktree -- {LOG}".split()
    git(committed, *command[1:])
    assert append_only_hook.main([LOG]) == 0
    assert (committed / LOG).read_text().endswith(rows(1, 2, 3))


@pytest.mark.parametrize(
    ("body", "line", "what"),
    [
        (rows(1, 3), 3, "a history row was deleted"),
        (rows(1, 2), 4, "a history row was deleted"),
        (rows(2, 1, 3), 2, "history rows were reordered"),
        (rows(1, 2, 4, 3), 4, "a row was inserted among the history rows"),
        (rows(1, 4, 5, 2, 3), 3, "a row was inserted among the history rows"),
        (rows(1, 3, 2), 3, "history rows were reordered"),
        ("", 2, "a history row was deleted"),
    ],
)
def test_deleted_and_reordered_rows_fail(
    committed: Path, body: str, line: int, what: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write_log(committed / LOG, body)
    assert staged(committed) == 1
    assert capsys.readouterr().out.startswith(f"{LOG}:{line}: {what}; ")


def test_a_changed_header_fails(committed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_log(committed / LOG, rows(1, 2, 3), header=HEADER.replace("notes", "note"))
    assert staged(committed) == 1
    assert capsys.readouterr().out.startswith(f"{LOG}:1: the header was changed; ")


def test_a_reformatted_history_passes(committed: Path) -> None:
    """What `fmt` does to a file a spreadsheet re-saved changes bytes, not rows."""
    resaved = "\ufeff" + (HEADER + rows(1, 2, 3, 4)).replace("\n", "\r\n")
    (committed / LOG).write_bytes(resaved.replace(",task 2", ',"task 2"').encode())
    assert staged(committed) == 0


def test_a_rotation_in_the_same_commit_passes(committed: Path) -> None:
    git(committed, "mv", LOG, BACKUP)
    (committed / BACKUP).write_text(HEADER + rows(1, 2, 3, 4))  # a row logged before rotating
    write_log(committed / LOG, rows(5))
    assert staged(committed, LOG, BACKUP) == 0


def test_a_rotation_that_drops_a_row_fails(
    committed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(committed, "mv", LOG, BACKUP)
    (committed / BACKUP).write_text(HEADER + rows(1, 3))
    write_log(committed / LOG, rows(5))
    assert staged(committed, LOG, BACKUP) == 1
    assert capsys.readouterr().out.startswith(f"{LOG}:2: a history row was changed; ")


@pytest.mark.parametrize(
    ("backup", "head_line"),
    [(rows(3, 1, 2), 2), (rows(9, 1, 2, 3), 2), (rows(1, 3, 2), 3)],
    ids=["reordered", "a row invented before them", "two swapped"],
)
def test_a_rotation_must_move_the_rows_in_order_to_the_start_of_a_backup(
    committed: Path, backup: str, head_line: int, capsys: pytest.CaptureFixture[str]
) -> None:
    git(committed, "mv", LOG, BACKUP)
    (committed / BACKUP).write_text(HEADER + backup)
    write_log(committed / LOG, rows(5))
    assert staged(committed, LOG, BACKUP) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{LOG}:2: a history row was changed; rows may only be added at the end"
    assert out[1].startswith(f"    HEAD line {head_line}: ")
    assert out[3] == (
        f"    a rotation moves the log's rows, whole and in order, to the start of a new backup "
        f"({BACKUP})"
    )


def test_a_backup_that_was_already_committed_may_not_change(
    committed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(committed, "mv", LOG, BACKUP)
    write_log(committed / LOG, rows(4))
    commit_all(committed, "rotated")
    (committed / BACKUP).write_text(HEADER + rows(1, 3))
    assert staged(committed, LOG, BACKUP) == 1
    assert capsys.readouterr().out.startswith(f"{BACKUP}:3: a history row was deleted; ")


def test_an_old_backup_does_not_excuse_a_rewrite(
    committed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only a backup new in this commit can have taken the log's rows."""
    write_log(committed / BACKUP, rows(1, 2, 3))
    commit_all(committed, "a copy, committed earlier")
    write_log(committed / LOG, rows(4))
    assert staged(committed) == 1
    assert capsys.readouterr().out.startswith(f"{LOG}:2: a history row was changed; ")


def test_a_range_compares_its_merge_base_with_its_end(
    committed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = git(committed, "rev-parse", "HEAD").strip()
    write_log(committed / LOG, rows(1, 2, 3, 4))
    good = commit_all(committed, "append")
    assert append_only_hook.main(["--from-ref", base, "--to-ref", good, LOG]) == 0
    write_log(committed / LOG, rows(1, 3, 4))
    bad = commit_all(committed, "delete row 2")
    assert append_only_hook.main(["--from-ref", base, "--to-ref", bad, LOG]) == 1
    assert capsys.readouterr().out.startswith(f"{LOG}:3: a history row was deleted; ")


def test_a_range_from_pre_commit_environment(
    committed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = git(committed, "rev-parse", "HEAD").strip()
    write_log(committed / LOG, rows(2, 3))
    commit_all(committed, "delete row 1")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", base)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "HEAD")
    assert append_only_hook.main([LOG]) == 1


def test_outside_a_repository_it_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    write_log(tmp_path / "usage.csv", rows(1))
    assert append_only_hook.main(["usage.csv"]) == 1
    assert capsys.readouterr().err.startswith(
        "telemetry-csv-append-only: error: not inside a git repository"
    )


SCHEMA = Schema()


def lines(text: str):
    return read_lines(text.encode(), SCHEMA)


@pytest.mark.parametrize(
    ("old", "new", "backups", "first_bad"),
    [
        (rows(1, 2), rows(1, 2, 3), [], None),
        (rows(1, 2), rows(3), [rows(1, 2)], None),  # rotation: all moved
        (rows(1, 2), rows(3), [rows(1, 2, 3)], None),  # …with a row logged before rotating
        (rows(1, 2, 3), rows(3, 4), [rows(1, 2, 9)], None),  # merge: their backup took 1, 2
        (rows(1, 2, 3), rows(3, 4), [rows(9), rows(1, 2)], None),  # one of two new backups
        (rows(1, 2, 3), rows(3, 4), [rows(2)], 2),  # row 1 neither moved nor kept
        (rows(1, 1, 2), rows(1, 2), [rows(1)], None),  # one of two identical rows moved
        (rows(1, 1, 2), rows(2), [rows(1)], 3),  # the other one was lost
        (rows(1, 2, 3), rows(4), [rows(3, 1, 2)], 2),  # moved, but reordered
        (rows(1, 2, 3), rows(4), [rows(9, 1, 2, 3)], 2),  # an invented row before them
        (rows(1, 2, 3), rows(4), [rows(1), rows(2, 3)], 3),  # split over two backups
        (rows(1, 2, 3), rows(2, 3), [rows(1, 2)], None),  # 2 moved and logged again: appended
        (rows(1, 2, 3), rows(3, 2), [rows(1, 2)], None),  # the same, seen the other way
        (rows(1, 2, 3), rows(2, 3), [rows(1, 2, 3)], None),
    ],
)
def test_find_rewrite(old: str, new: str, backups: list[str], first_bad: int | None) -> None:
    moved = [[line.canonical for line in lines(HEADER + backup)[1:]] for backup in backups]
    found = find_rewrite(lines(HEADER + old), lines(HEADER + new), moved)
    assert (found.old_line.number if found else None) == first_bad


@pytest.fixture
def rotated(committed: Path) -> Path:
    """HEAD has a backup of rows 1-3 and a log of row 4."""
    git(committed, "mv", LOG, BACKUP)
    write_log(committed / LOG, rows(4))
    commit_all(committed, "rotated")
    return committed


def test_deleting_a_committed_backup_fails(
    rotated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(rotated, "rm", "-q", BACKUP)
    assert append_only_hook.main([]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{BACKUP}: a committed backup was deleted; committed rows are never deleted",
        f"    restore it with `git checkout HEAD -- {BACKUP}`",
        "    to retire old backups on purpose, delete whole backup files in a commit of their "
        "own, with TELEMETRY_CSV_RETIRE_BACKUPS=1 in the environment",
    ]


def test_renaming_a_backup_to_another_name_fails(
    rotated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(rotated, "mv", BACKUP, ".telemetry/old.csv")
    assert append_only_hook.main([]) == 1
    assert capsys.readouterr().out.startswith(f"{BACKUP}: a committed backup was deleted; ")


def test_deleting_the_log_fails(committed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(committed, "rm", "-q", LOG)
    assert append_only_hook.main([]) == 1
    assert capsys.readouterr().out.startswith(
        f"{LOG}: the log was deleted, and no backup new in staged starts with its 3 row(s); "
    )


def test_renaming_the_log_to_a_name_that_is_not_a_backup_fails(
    committed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(committed, "mv", LOG, ".telemetry/old.csv")
    write_log(committed / LOG, rows(4))
    assert staged(committed) == 1
    assert capsys.readouterr().out.startswith(f"{LOG}:2: a history row was changed; ")


def test_a_rotation_before_the_new_log_is_started_passes(committed: Path) -> None:
    """What a crash between rotation's two renames leaves: the backup, and no log yet."""
    git(committed, "mv", LOG, BACKUP)
    assert append_only_hook.main([]) == 0


def test_backups_are_retired_only_on_purpose_and_only_backups(
    rotated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEMETRY_CSV_RETIRE_BACKUPS", "1")
    git(rotated, "rm", "-q", BACKUP)
    assert append_only_hook.main([]) == 0
    git(rotated, "rm", "-q", LOG)
    assert append_only_hook.main([]) == 1
    assert capsys.readouterr().out.startswith(f"{LOG}: the log was deleted, ")


def test_a_range_that_deletes_a_backup_fails(
    rotated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = git(rotated, "rev-parse", "HEAD").strip()
    git(rotated, "rm", "-q", BACKUP)
    commit_all(rotated, "delete the backup")
    write_log(rotated / LOG, rows(4, 5))
    commit_all(rotated, "append")
    assert append_only_hook.main(["--from-ref", base, "--to-ref", "HEAD"]) == 1
    assert capsys.readouterr().out.startswith(f"{BACKUP}: a committed backup was deleted; ")


@pytest.mark.parametrize(
    ("staged_body", "work_tree", "status"),
    [
        # The hook reads the staged version from the work tree only when the file there is
        # exactly that blob; otherwise from git, so what is judged is always what is staged.
        ("edited", "appended", 1),
        ("appended", "edited", 0),
        ("edited", "a FIFO", 1),
        ("appended", "a FIFO", 0),
        ("edited", "a folder", 1),
    ],
)
def test_the_staged_version_is_judged_whatever_the_work_tree_holds(
    committed: Path, staged_body: str, work_tree: str, status: int
) -> None:
    bodies = {
        "appended": rows(1, 2, 3, 4),
        "edited": rows(1) + row(2).replace(",1002,", ",9002,") + rows(3, 4),
    }
    write_log(committed / LOG, bodies[staged_body])
    git(committed, "add", "-A")
    (committed / LOG).unlink()
    if work_tree == "a folder":
        (committed / LOG).mkdir()
    elif work_tree == "a FIFO":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        os.mkfifo(committed / LOG)
    else:
        write_log(committed / LOG, bodies[work_tree])
    assert append_only_hook.main([]) == status
