"""The merge driver: merge_rows on its own, then real `git merge` with the registered driver."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from telemetry_csv.git.merging import merge_rows
from telemetry_csv.hooks import append_only_hook
from telemetry_csv.logfile.layout import log_files
from telemetry_csv.logfile.reading import read_rows
from testing.logfiles import commit_all, row, rows, write_log
from testing.util import HEADER, git, git_env, run_cli

LOG = ".telemetry/usage.csv"


def lines(*numbers: int) -> list[str]:
    return [row(number).rstrip("\n") for number in numbers]


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "merged"),
    [
        ((1, 2), (1, 2, 3), (1, 2, 4), (1, 2, 3, 4)),
        ((1, 2), (1, 2, 3, 9), (1, 2, 9, 4), (1, 2, 3, 9, 4)),  # 9 cherry-picked to both sides
        ((), (3,), (4,), (3, 4)),  # both sides started the log
        ((1,), (1, 1), (1, 1), (1, 1)),  # the same row logged twice on purpose, on both
        ((1,), (1, 1), (1, 1, 1), (1, 1, 1)),  # …and once more by them
        ((1, 2), (1, 2, 3), (5,), (3, 5)),  # they rotated: 1 and 2 live in their backup
        ((1, 2), (4,), (1, 2, 3), (4, 3)),  # we rotated: our backup has 1 and 2
    ],
)
def test_merge_rows(base: tuple, ours: tuple, theirs: tuple, merged: tuple) -> None:
    result = merge_rows(lines(*base), lines(*ours), lines(*theirs))
    assert result.rows == lines(*merged)


@pytest.fixture
def shared(repo: Path) -> Path:
    """A repository set up by `telemetry-csv init` with two committed rows, on branch main."""
    assert run_cli("init", cwd=repo).returncode == 0
    write_log(repo / LOG, rows(1, 2))
    commit_all(repo, "base")
    return repo


def merge(repo: Path, branch: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "merge", "--no-commit", "--no-ff", branch],
        cwd=repo,
        capture_output=True,
        text=True,
        env=git_env(),
        check=False,
    )


def all_rows(repo: Path) -> list[str]:
    return [f"{r.duration_ms}" for r in read_rows(log_files(repo / LOG))]


def test_two_branches_that_both_logged_merge_without_conflict(
    shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PRE_COMMIT_FROM_REF", raising=False)
    git(shared, "checkout", "-q", "-b", "feature")
    write_log(shared / LOG, rows(1, 2, 3, 4, 9))
    commit_all(shared, "feature work")
    git(shared, "checkout", "-q", "main")
    write_log(shared / LOG, rows(1, 2, 5, 9))  # 9 was cherry-picked here too
    commit_all(shared, "main work")

    done = merge(shared, "feature")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (shared / LOG).read_text() == HEADER + rows(1, 2, 5, 9, 3, 4)
    assert run_cli("check", cwd=shared).returncode == 0
    assert append_only_hook.main([LOG]) == 0  # the merge commit, HEAD being our side
    git(shared, "commit", "-q", "--no-edit")
    assert git(shared, "status", "--porcelain") == ""


def test_a_rotation_on_their_side_keeps_every_row_once(
    shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PRE_COMMIT_FROM_REF", raising=False)
    backup = ".telemetry/usage-20260301T120000Z.csv"
    git(shared, "checkout", "-q", "-b", "feature")
    write_log(shared / LOG, rows(1, 2, 3))
    git(shared, "add", "-A")
    git(shared, "mv", LOG, backup)
    write_log(shared / LOG, rows(4))
    commit_all(shared, "feature: log, rotate, log")
    git(shared, "checkout", "-q", "main")
    write_log(shared / LOG, rows(1, 2, 5))
    commit_all(shared, "main work")

    done = merge(shared, "feature")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        f"telemetry-csv merge-driver: {LOG}: left out 2 row(s) of the common base that the other "
        "side no longer has in this file; a rotation there moves them to a new backup"
    ) in done.stdout + done.stderr
    assert sorted(all_rows(shared)) == [f"{1000 + n}" for n in (1, 2, 3, 4, 5)]
    assert (shared / LOG).read_text() == HEADER + rows(5, 4)
    assert append_only_hook.main([LOG, backup]) == 0
    assert run_cli("check", cwd=shared).returncode == 0


def test_rows_their_side_deleted_without_a_backup_fail_the_merge_commit(
    shared: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The driver cannot see the other side's backups; the append-only hook at the merge
    commit finds that no new backup holds the rows it left out."""
    monkeypatch.delenv("PRE_COMMIT_FROM_REF", raising=False)
    git(shared, "checkout", "-q", "-b", "feature")
    write_log(shared / LOG, rows(3))  # rows 1 and 2 deleted, committed without the hooks
    commit_all(shared, "feature: history deleted")
    git(shared, "checkout", "-q", "main")
    write_log(shared / LOG, rows(1, 2, 4))
    commit_all(shared, "main work")

    done = merge(shared, "feature")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{LOG}: left out 2 row(s) of the common base" in done.stdout + done.stderr
    assert append_only_hook.main([]) == 1
    head = git(shared, "rev-parse", "HEAD").strip()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"{LOG}: the merge drops 2 row(s) that HEAD ({head[:12]}) has in the log; every row of "
        "both parents must stay"
    )
    assert out[1] == f"    first missing, HEAD ({head[:12]}) line 2: {row(1).strip()}"


@pytest.mark.parametrize(
    ("layout", "then"),
    [("team", "; new rows go to shards"), ("single", "; then `telemetry-csv init`")],
)
def test_an_oversized_merge_says_which_backup_name_to_use(
    shared: Path, layout: str, then: str
) -> None:
    (shared / ".telemetry" / "config.toml").write_text(f'max_bytes = 1024\nlayout = "{layout}"\n')
    commit_all(shared, "a small max_bytes")
    git(shared, "checkout", "-q", "-b", "feature")
    write_log(shared / LOG, rows(*range(1, 12)))
    commit_all(shared, "feature work")
    git(shared, "checkout", "-q", "main")
    write_log(shared / LOG, rows(1, 2, *range(20, 26)))
    commit_all(shared, "main work")

    done = merge(shared, "feature")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(
        rf"over max_bytes \(1,024\); before committing, back it up: `git mv {LOG} "
        r"\.telemetry/usage-\d{8}T\d{6}Z\.csv`" + re.escape(then),
        done.stdout + done.stderr,
    ), done.stdout + done.stderr


def test_an_invalid_side_is_left_as_a_conflict_with_the_reason(shared: Path) -> None:
    git(shared, "checkout", "-q", "-b", "feature")
    write_log(shared / LOG, rows(1, 2) + row(3).replace("true", "maybe"))
    commit_all(shared, "feature: a broken row")
    git(shared, "checkout", "-q", "main")
    write_log(shared / LOG, rows(1, 2, 4))
    commit_all(shared, "main work")

    done = merge(shared, "feature")
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert (
        f"telemetry-csv merge-driver: {LOG}: not merged, left as a conflict: "
        f"{LOG} (theirs):4: task_success: 'maybe' is not allowed; expected true or false"
    ) in output
    assert f"CONFLICT (content): Merge conflict in {LOG}" in output
    merged = (shared / LOG).read_text()
    assert f"<<<<<<< {LOG} (ours)\n{row(4)}=======\n" in merged
    assert git(shared, "diff", "--name-only", "--diff-filter=U").split() == [LOG]


def test_the_driver_command_refuses_an_invalid_ours(tmp_path: Path) -> None:
    base = write_log(tmp_path / "base.csv", rows(1))
    ours = write_log(tmp_path / "ours.csv", rows(1, 2).replace("\n", "\r\n"))
    theirs = write_log(tmp_path / "theirs.csv", rows(1, 3))
    before = ours.read_bytes()
    done = run_cli("merge-driver", str(base), str(ours), str(theirs), LOG, cwd=tmp_path)
    assert done.returncode == 1
    assert f"{LOG} (ours):2: file: mixed line endings: 2 CRLF and 1 LF lines" in done.stderr
    assert ours.read_bytes() != before and b"<<<<<<< " in ours.read_bytes()


def test_the_base_is_read_leniently(tmp_path: Path) -> None:
    """An old base may predate a fix both sides committed since: no header, CRLF."""
    base = write_log(tmp_path / "base.csv", rows(1).replace("\n", "\r\n"), header="")
    ours = write_log(tmp_path / "ours.csv", rows(1, 2))
    theirs = write_log(tmp_path / "theirs.csv", rows(1, 3))
    done = run_cli("merge-driver", str(base), str(ours), str(theirs), LOG, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert ours.read_text() == HEADER + rows(1, 2, 3)


def test_both_sides_adding_the_log_merge_from_an_empty_base(tmp_path: Path) -> None:
    base = tmp_path / "base.csv"
    base.write_bytes(b"")
    ours = write_log(tmp_path / "ours.csv", rows(1))
    theirs = write_log(tmp_path / "theirs.csv", rows(2))
    assert run_cli("merge-driver", str(base), str(ours), str(theirs), cwd=tmp_path).returncode == 0
    assert ours.read_text() == HEADER + rows(1, 2)
