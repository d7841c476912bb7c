"""Holes found in writing.py and closed: ignore rules, backup order, read-only logs."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from telemetry_csv import fs
from telemetry_csv.cli.main import main
from telemetry_csv.logfile import layout, writing
from testing.platforms import FILE_SIZE_LIMIT, linux_only, posix_only
from testing.util import (
    EXTENDED_HEADER,
    HEADER,
    append_line,
    extended,
    git,
    run_cli,
    run_cli_crashing_at,
)

LOG = ("log", "m", "1", "2", "true", "plan", "3")
LINE = "2026-02-23T22:19:12+01:00,claude-3-opus,1500,3200,true,execute,45000,x"
ONE_ROW = len(EXTENDED_HEADER) + len(extended(LINE)) + 1  # a new log holds one row


def test_backups_sort_after_existing_ones_even_if_the_clock_went_back(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    writing.create_log(log, lock_timeout=5)
    # A backup named by a clock that was ahead (or a machine whose clock was later set back).
    future = tmp_path / "usage-29991231T235959Z.csv"
    future.write_text(HEADER + LINE + "\n")
    for _ in range(3):
        append_line(log, LINE, max_bytes=ONE_ROW)
    names = [path.name for path in layout.backup_paths(log)]
    assert names == [
        "usage-29991231T235959Z.csv",
        "usage-29991231T235959Z-1.csv",
        "usage-29991231T235959Z-2.csv",
    ]


def test_a_gap_in_suffixes_is_never_filled_out_of_order(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    log.write_text(HEADER + LINE + "\n")
    for name in ("usage-29991231T235959Z.csv", "usage-29991231T235959Z-2.csv"):
        (tmp_path / name).write_text(HEADER)  # -1 was deleted by someone retiring history
    result = append_line(log, LINE, max_bytes=ONE_ROW)
    assert result.backup.name == "usage-29991231T235959Z-3.csv"
    assert layout.backup_paths(log)[-1] == result.backup


def test_a_log_at_the_repository_root_ignores_only_its_own_files(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.telemetry-csv]\nlog = "usage.csv"\n')
    (repo / "uv.lock").write_text("# a lock file the project commits\n")
    assert run_cli("log", "m", "1", "2", "true", "plan", "3", cwd=repo).returncode == 0
    assert (repo / ".gitignore").read_text().splitlines()[1:] == [
        "/usage.csv.lock",
        "/.usage.csv.*.tmp",
        "/usage.rows/.*.tmp",  # the shard folder's temporary files and move journals
    ]
    git(repo, "add", "-A")
    staged = git(repo, "diff", "--cached", "--name-only").split()
    assert "uv.lock" in staged and [name for name in staged if name.startswith("usage.rows/")]
    assert "usage.csv.lock" not in staged


def test_an_existing_gitignore_is_completed_not_replaced(repo: Path) -> None:
    folder = repo / "logs"
    folder.mkdir()
    (folder / ".gitignore").write_text("*.bak")  # no final newline
    done = run_cli("log", "m", "1", "2", "true", "plan", "3", "--file", "logs/usage.csv", cwd=repo)
    assert done.returncode == 0, done.stderr
    text = (folder / ".gitignore").read_text()
    assert text.startswith("*.bak\n# telemetry-csv")
    assert text.endswith("/usage.csv.lock\n/.usage.csv.*.tmp\n")
    assert (
        run_cli(
            "log", "m", "1", "2", "true", "plan", "3", "--file", "logs/usage.csv", cwd=repo
        ).returncode
        == 0
    )
    assert (folder / ".gitignore").read_text() == text  # completed once
    git(repo, "add", "-A")
    assert not [
        n for n in git(repo, "diff", "--cached", "--name-only").split() if n.endswith(".lock")
    ]


def test_a_generic_gitignore_in_the_log_folder_is_left_alone(repo: Path) -> None:
    assert run_cli("init", cwd=repo).returncode == 0
    ignore = repo / ".telemetry" / ".gitignore"
    before = ignore.read_text()
    assert "*.lock" in before.splitlines()
    assert run_cli("log", "m", "1", "2", "true", "plan", "3", cwd=repo).returncode == 0
    assert ignore.read_text() == before


@linux_only("O_TMPFILE: elsewhere a crash mid-write leaves the named temporary .gitignore")
@posix_only(FILE_SIZE_LIMIT)
@pytest.mark.parametrize("room", [0, 30, len(writing.FOLDER_GITIGNORE) - 1])
def test_a_crash_while_writing_gitignore_never_lets_the_lock_file_be_committed(
    repo: Path, room: int
) -> None:
    """Opening .gitignore and then writing it, a crash in between leaves it empty or partial,
    and the lock file committable. Here the first real `log` dies (SIGXFSZ) after `room` bytes
    of .gitignore: there must be no .gitignore at all, and once a `log` succeeds git must
    ignore the lock file and the temporary log file."""
    crashed = run_cli_crashing_at(room, *LOG, cwd=repo)
    assert crashed.returncode == -signal.SIGXFSZ, crashed.stderr
    folder = repo / ".telemetry"
    assert not (folder / ".gitignore").exists()
    # The .gitignore is written through an unnamed file (O_TMPFILE), so the crash leaves no
    # temporary file that the rules written later for this log would not cover.
    assert list(folder.iterdir()) == []

    assert main([*LOG, "-q"]) == 0
    leftover = fs.temporary_beside(folder / "usage.csv").name  # as a crash mid-rotation leaves it
    (folder / leftover).write_text("as a crash mid-rotation leaves it\n")
    status = git(repo, "status", "--porcelain", "--ignored", "--untracked-files=all")
    assert {"!! .telemetry/usage.csv.lock", f"!! .telemetry/{leftover}"} <= set(status.splitlines())
    ignored = git(repo, "check-ignore", ".telemetry/usage.csv.lock", f".telemetry/{leftover}")
    assert ignored.split() == [".telemetry/usage.csv.lock", f".telemetry/{leftover}"]
    git(repo, "add", "-A")
    staged = git(repo, "diff", "--cached", "--name-only").split()
    assert ".telemetry/.gitignore" in staged
    assert [name for name in staged if name.startswith(".telemetry/usage.rows/")]
    assert not [name for name in staged if name.endswith(".lock")]


@posix_only(FILE_SIZE_LIMIT)
def test_a_crash_while_writing_gitignore_leaves_nothing_committable(repo: Path) -> None:
    assert run_cli_crashing_at(30, *LOG, cwd=repo).returncode == -signal.SIGXFSZ
    assert main([*LOG, "-q"]) == 0
    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    [ignore, shard] = sorted(status.splitlines())
    assert ignore == "?? .telemetry/.gitignore"
    assert re.fullmatch(r"\?\? \.telemetry/usage\.rows/[0-9T]{15}Z-[0-9a-f]{16}\.csv", shard)
