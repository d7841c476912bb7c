"""Holes found in store.py and closed: ignore rules, backup order, read-only logs."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from conftest import HEADER, git, run_cli
from telemetry_csv import store

LINE = "2026-02-23T22:19:12+01:00,claude-3-opus,1500,3200,true,execute,45000,x"


def test_backups_sort_after_existing_ones_even_if_the_clock_went_back(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    store.create_log(log, lock_timeout=5)
    # A backup named by a clock that was ahead (or a machine whose clock was later set back).
    future = tmp_path / "usage-29991231T235959Z.csv"
    future.write_text(HEADER + LINE + "\n")
    for _ in range(3):
        store.append_line(log, LINE, max_bytes=len(HEADER) + len(LINE) + 1, lock_timeout=5)
    names = [path.name for path in store.backup_paths(log)]
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
    result = store.append_line(log, LINE, max_bytes=len(HEADER) + len(LINE) + 1, lock_timeout=5)
    assert result.backup.name == "usage-29991231T235959Z-3.csv"
    assert store.backup_paths(log)[-1] == result.backup


def test_a_log_at_the_repository_root_ignores_only_its_own_files(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.telemetry-csv]\nlog = "usage.csv"\n')
    (repo / "uv.lock").write_text("# a lock file the project commits\n")
    assert run_cli("log", "m", "1", "2", "true", "plan", "3", cwd=repo).returncode == 0
    assert (repo / ".gitignore").read_text().splitlines()[1:] == [
        "/usage.csv.lock",
        "/.usage.csv.tmp",
    ]
    git(repo, "add", "-A")
    staged = git(repo, "diff", "--cached", "--name-only").split()
    assert "uv.lock" in staged and "usage.csv" in staged
    assert "usage.csv.lock" not in staged


def test_an_existing_gitignore_is_completed_not_replaced(repo: Path) -> None:
    folder = repo / "logs"
    folder.mkdir()
    (folder / ".gitignore").write_text("*.bak")  # no final newline
    done = run_cli("log", "m", "1", "2", "true", "plan", "3", "--file", "logs/usage.csv", cwd=repo)
    assert done.returncode == 0, done.stderr
    text = (folder / ".gitignore").read_text()
    assert text.startswith("*.bak\n# telemetry-csv")
    assert text.endswith("/usage.csv.lock\n/.usage.csv.tmp\n")
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


def test_gitignore_is_never_left_empty_by_a_kill(tmp_path: Path) -> None:
    """The old code opened .gitignore, then wrote it: a kill in between left it empty and the
    lock file committable. Now it appears whole or not at all; kill writers while they create
    fresh folders and look at every .gitignore left behind."""
    import filelock  # noqa: F401 - loaded before forking

    for round_no in range(40):
        folder = tmp_path / f"f{round_no}"
        pid = os.fork()
        if pid == 0:
            try:
                store.ensure_folder(folder, folder / "usage.csv")
            finally:
                os._exit(0)
        if round_no % 2:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        ignore = folder / ".gitignore"
        if ignore.exists():
            assert ignore.read_text() == store.FOLDER_GITIGNORE
