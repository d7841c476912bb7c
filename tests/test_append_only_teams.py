"""append-only beyond one file: each revision's own settings, merges against each parent, the
merges inside a range, TELEMETRY_CSV_RETIRE_BACKUPS=1 permitting deletions and nothing else,
and refs resolved strictly to commit ids before git sees them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from telemetry_csv.cli.main import main
from telemetry_csv.hooks import append_only_hook
from testing.logfiles import commit_all, row, rows, write_log
from testing.util import HEADER, git, git_env

LOG = ".telemetry/usage.csv"
BACKUP = ".telemetry/usage-20260301T120000Z.csv"
OTHER_BACKUP = ".telemetry/usage-20260401T120000Z.csv"
SHARD = ".telemetry/usage.rows/20260101T000000Z-00000000000000aa.csv"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF", "TELEMETRY_CSV_RETIRE_BACKUPS"):
        monkeypatch.delenv(name, raising=False)


def staged(repo: Path) -> int:
    git(repo, "add", "-A")
    return append_only_hook.main([])


@pytest.fixture
def rotated(repo: Path) -> Path:
    """HEAD: a backup of rows 1-3, the log holding row 4."""
    write_log(repo / BACKUP, rows(1, 2, 3))
    write_log(repo / LOG, rows(4))
    commit_all(repo, "a backup and a log")
    return repo


def test_moving_the_log_in_a_commit_must_move_its_rows(
    rotated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reading only the new revision's settings, a commit could point `log` elsewhere and drop
    every old row unseen."""
    (rotated / "pyproject.toml").write_text('[tool.telemetry-csv]\nlog = "logs/usage.csv"\n')
    write_log(rotated / "logs" / "usage.csv", rows(5))
    (rotated / LOG).unlink()
    assert staged(rotated) == 1
    out = capsys.readouterr().out
    assert out.startswith(
        "logs/usage.csv: 4 row(s) of the log at .telemetry/usage.csv (HEAD) are not in the log "
        "at logs/usage.csv (staged); moving the log must keep every row"
    )
    git(rotated, "mv", BACKUP, "logs/usage-20260301T120000Z.csv")
    write_log(rotated / "logs" / "usage.csv", rows(4, 5))
    assert staged(rotated) == 0


def test_retiring_backups_permits_deletions_and_nothing_else(
    rotated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hole: delete a backup, and add an edited copy under another backup name."""
    monkeypatch.setenv("TELEMETRY_CSV_RETIRE_BACKUPS", "1")
    edited = rows(1) + row(2).replace(",1002,", ",9002,") + rows(3)
    git(rotated, "rm", "-q", BACKUP)
    write_log(rotated / OTHER_BACKUP, edited)
    assert staged(rotated) == 1
    out = capsys.readouterr().out
    assert out.startswith(
        f"{OTHER_BACKUP}: TELEMETRY_CSV_RETIRE_BACKUPS=1 permits only deleting whole backups, "
        f"in a commit that does nothing else to the log; staged also adds or changes this file "
        f"(and deletes {BACKUP})"
    )
    # Appending to the log beside the deletion is no more allowed: a commit of its own.
    (rotated / OTHER_BACKUP).unlink()
    write_log(rotated / LOG, rows(4, 5))
    assert staged(rotated) == 1
    write_log(rotated / LOG, rows(4))
    assert staged(rotated) == 0  # the deletion alone


def test_a_range_that_retires_backups_in_a_commit_of_their_own_passes(
    rotated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = git(rotated, "rev-parse", "HEAD").strip()
    git(rotated, "rm", "-q", BACKUP)
    commit_all(rotated, "retire")
    write_log(rotated / LOG, rows(4, 5))
    commit_all(rotated, "log")
    assert append_only_hook.main(["--from-ref", base, "--to-ref", "HEAD"]) == 1
    monkeypatch.setenv("TELEMETRY_CSV_RETIRE_BACKUPS", "1")
    assert append_only_hook.main(["--from-ref", base, "--to-ref", "HEAD"]) == 0
    write_log(rotated / OTHER_BACKUP, rows(1, 2, 3))  # a copy re-added later: new rows, seen
    commit_all(rotated, "a copy")
    assert append_only_hook.main(["--from-ref", base, "--to-ref", "HEAD"]) == 0


def test_a_range_whose_retiring_commit_also_adds_a_file_fails(
    rotated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = git(rotated, "rev-parse", "HEAD").strip()
    git(rotated, "mv", BACKUP, OTHER_BACKUP)  # deleted, and re-added under another name
    commit_all(rotated, "rename")
    monkeypatch.setenv("TELEMETRY_CSV_RETIRE_BACKUPS", "1")
    assert append_only_hook.main(["--from-ref", base, "--to-ref", "HEAD"]) == 1
    assert "permits only deleting whole backups" in capsys.readouterr().out


def test_a_range_walks_the_merges_inside_it(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`git merge -s ours` keeps our side and drops the other's row: the range's net change
    only appends, but the merge dropped what one parent committed."""
    write_log(repo / LOG, rows(1, 2))
    base = commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "a")
    write_log(repo / LOG, rows(1, 2, 3))
    a = commit_all(repo, "a")
    git(repo, "checkout", "-q", "main")
    write_log(repo / LOG, rows(1, 2, 4))
    commit_all(repo, "main")
    git(repo, "merge", "-q", "-s", "ours", "--no-edit", "a")
    merge = git(repo, "rev-parse", "HEAD").strip()
    assert append_only_hook.main(["--from-ref", base, "--to-ref", "HEAD"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"{LOG}: the merge drops 1 row(s) that {a[:12]} has in the log; every row of both "
        "parents must stay"
    )
    assert out[1] == f"    first missing, {a[:12]} line 4: {row(3).strip()}"
    assert merge  # the merge commit is inside the range
    assert append_only_hook.main(["--from-ref", merge, "--to-ref", "HEAD"]) == 0


def test_a_merge_that_deletes_a_shard_of_the_other_parent_fails(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_log(repo / ".telemetry" / "README", "")
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "a")
    write_log(repo / SHARD, rows(1))
    commit_all(repo, "a shard")
    git(repo, "checkout", "-q", "main")
    write_log(repo / ".telemetry" / "usage.rows" / "20260101T000000Z-00000000000000bb.csv", rows(2))
    commit_all(repo, "main's shard")
    git(repo, "merge", "-q", "--no-commit", "a")
    git(repo, "rm", "-q", "-f", SHARD)
    assert append_only_hook.main([]) == 1
    merge_head = git(repo, "rev-parse", "MERGE_HEAD").strip()
    assert capsys.readouterr().out.startswith(
        f"{SHARD}: a committed shard was deleted, and no fold in staged holds it (with the same "
        f"content); committed rows are never deleted\n    restore it with `git checkout "
        f"MERGE_HEAD ({merge_head[:12]}) -- {SHARD}`"
    )


@pytest.mark.parametrize("ref", ["--fork-point", "-", "--all", "HEAD\nHEAD"])
def test_refs_are_resolved_strictly_before_git_sees_them(
    rotated: Path, ref: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--from-ref=--fork-point` compared HEAD with HEAD and passed."""
    git(rotated, "rm", "-q", BACKUP)
    commit_all(rotated, "history deleted")
    assert append_only_hook.main([f"--from-ref={ref}", "--to-ref", "HEAD"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("telemetry-csv-append-only: error: ") and "is not a commit" in err
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", ref)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "HEAD")
    assert append_only_hook.main([]) == 1
    assert "is not a commit" in capsys.readouterr().err
    assert main(["report", f"--range={ref}..HEAD"]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a commit" in err


def test_a_rev_that_starts_with_a_dash_says_why(
    rotated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert append_only_hook.main(["--from-ref=--fork-point", "--to-ref=HEAD"]) == 1
    assert (
        "'--fork-point' is not a commit: a revision never starts with '-' (it would be read as "
        "an option); give a branch, a tag or a commit id"
    ) in capsys.readouterr().err


def test_a_merge_commit_through_real_git_keeps_both_sides_shards(repo: Path) -> None:
    """The shards of both parents merge as files: nothing for the hook to find."""
    write_log(repo / ".telemetry" / "README", "")
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "a")
    write_log(repo / SHARD, rows(1))
    commit_all(repo, "a shard")
    git(repo, "checkout", "-q", "main")
    write_log(repo / ".telemetry" / "usage.rows" / "20260101T000000Z-00000000000000bb.csv", rows(2))
    commit_all(repo, "main's shard")
    done = subprocess.run(
        ["git", "merge", "--no-commit", "a"],
        cwd=repo,
        env=git_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout
    assert append_only_hook.main([]) == 0
    assert (repo / SHARD).read_text() == HEADER + rows(1)
