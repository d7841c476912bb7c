"""The backups the shell scripts made (`usage_backup_YYYYMMDD_HHMMSS.csv`, local time) are
backups: read by check, report, cat and export, ordered by their rows, protected by the
append-only hook, and rewritten by fmt without a lock, so nothing touches `.gitignore` for
them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from telemetry_csv.hooks import append_only_hook, fmt_hook
from telemetry_csv.logfile import layout
from testing.logfiles import commit_all
from testing.util import HEADER, git, row_line, run_cli
from tests.test_scripts import BASH, ORIGINALS, needs_originals

FEBRUARY = row_line("2026-02-10T09:00:00Z", notes="february")
MARCH = row_line("2026-03-10T09:00:00+01:00", notes="march")
APRIL = row_line("2026-04-10T09:00:00Z", notes="april")
NOW = row_line("2026-05-10T09:00:00Z", notes="now")


@pytest.fixture
def shell_era(repo: Path) -> Path:
    """A repository the scripts kept a log in: no `.telemetry/.gitignore`, two script backups
    whose names (local times in two zones) sort the other way round from their rows, a backup
    telemetry-csv made, and the log."""
    folder = repo / ".telemetry"
    folder.mkdir()
    (folder / "usage_backup_20260311_020000.csv").write_text(HEADER + FEBRUARY)
    (folder / "usage_backup_20260310_230000.csv").write_text(HEADER + MARCH)
    (folder / "usage-20260401T000000Z.csv").write_text(HEADER + APRIL)
    (folder / "usage.csv").write_text(HEADER + NOW)
    return repo


def test_they_are_backups_read_first_in_the_order_of_their_rows(shell_era: Path) -> None:
    log = shell_era / ".telemetry" / "usage.csv"
    assert [path.name for path in layout.log_files(log)] == [
        "usage_backup_20260311_020000.csv",  # February's rows, though its name sorts last
        "usage_backup_20260310_230000.csv",
        "usage-20260401T000000Z.csv",
        "usage.csv",
    ]
    assert layout.is_backup_name("usage_backup_20260311_020000.csv")
    assert layout.backup_order("usage.csv", "usage_backup_2026031_020000.csv") is None
    checked = run_cli("check", cwd=shell_era)
    assert (checked.returncode, checked.stdout) == (
        0,
        "checked 4 files, 4 valid rows: no problems\n",
    )
    cat = run_cli("cat", cwd=shell_era)
    assert [line.rsplit(",", 1)[1] for line in cat.stdout.splitlines()[1:]] == [
        "february",
        "march",
        "april",
        "now",
    ]
    report = run_cli("report", "--format", "legacy-json", cwd=shell_era)
    assert '"total_entries": 4,' in report.stdout
    export = run_cli("export", "otlp", "--dry-run", cwd=shell_era)
    assert export.stdout.startswith("would export 4 rows of .telemetry/usage.csv and 3 backups")
    # Their names are in local time: a new backup is named in UTC as always, after the others.
    new = layout.unused_backup_path(shell_era / ".telemetry" / "usage.csv")
    assert new.name.startswith("usage-20") and new.name.endswith("Z.csv")


@needs_originals
def test_a_backup_the_original_script_made_is_read(tmp_path: Path) -> None:
    """The real thing: the script rotates a log past 10 MiB into a backup of more than 10 MiB
    (it rotated after passing its limit), named in the local time of the zone it ran in."""
    assert BASH is not None
    folder = tmp_path / ".telemetry"
    folder.mkdir()
    git(tmp_path, "init", "-q")
    rows = 10 * 1024 * 1024 // len(FEBRUARY) + 2
    (folder / "usage.csv").write_text(HEADER + FEBRUARY * rows)
    env = dict(os.environ, TZ="Pacific/Kiritimati")  # UTC+14: the name is a day ahead
    subprocess.run(
        [BASH, str(ORIGINALS / "log-telemetry.sh"), "m", "1", "2", "true", "plan", "3", "x"],
        cwd=tmp_path, env=env, check=True, capture_output=True,
    )  # fmt: skip
    [backup] = [path for path in folder.iterdir() if path.name.startswith("usage_backup_")]
    assert backup.stat().st_size > 10 * 1024 * 1024
    checked = run_cli("check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout  # a backup may pass max_bytes
    assert checked.stdout == f"checked 2 files, {rows + 1:,} valid rows: no problems\n"
    report = run_cli("report", "--format", "legacy-json", cwd=tmp_path)
    assert f'"total_entries": {rows + 1},' in report.stdout


def test_the_append_only_hook_protects_them(
    shell_era: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit_all(shell_era, "the scripts' log")
    backup = shell_era / ".telemetry" / "usage_backup_20260310_230000.csv"
    backup.write_text(HEADER + MARCH.replace(",march", ",edited"))
    git(shell_era, "add", "-A")
    assert append_only_hook.main([]) == 1
    git(shell_era, "restore", "--source=HEAD", "--staged", "--worktree", "--", str(backup))
    assert append_only_hook.main([]) == 0
    git(shell_era, "rm", "-q", str(backup))
    assert append_only_hook.main([]) == 1
    monkeypatch.setenv("TELEMETRY_CSV_RETIRE_BACKUPS", "1")
    assert append_only_hook.main([]) == 0  # retired on purpose, as any backup


@needs_originals
def test_a_rotation_by_the_original_script_passes_the_hook(shell_era: Path) -> None:
    """A teammate still on the old script rotates the log; the hook takes it as a rotation."""
    assert BASH is not None
    log = shell_era / ".telemetry" / "usage.csv"
    commit_all(shell_era, "the scripts' log")
    rows = 10 * 1024 * 1024 // len(NOW) + 2
    log.write_text(HEADER + NOW * rows)
    commit_all(shell_era, "a full log")
    subprocess.run(
        [BASH, str(ORIGINALS / "log-telemetry.sh"), "m", "1", "2", "true", "plan", "3", "x"],
        cwd=shell_era, check=True, capture_output=True,
    )  # fmt: skip
    git(shell_era, "add", "-A")
    assert append_only_hook.main([]) == 0


def test_fmt_rewrites_them_without_touching_gitignore(
    shell_era: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = shell_era / ".telemetry" / "usage_backup_20260311_020000.csv"
    backup.write_bytes((HEADER + FEBRUARY).replace("\n", "\r\n").encode())
    assert fmt_hook.main([".telemetry/usage_backup_20260311_020000.csv"]) == 1
    assert capsys.readouterr().out == "Fixing .telemetry/usage_backup_20260311_020000.csv\n"
    assert backup.read_text() == HEADER + FEBRUARY
    assert sorted(path.name for path in (shell_era / ".telemetry").iterdir()) == [
        "usage-20260401T000000Z.csv",
        "usage.csv",
        "usage_backup_20260310_230000.csv",
        "usage_backup_20260311_020000.csv",
    ]  # no .gitignore, no lock file


def test_a_link_at_a_script_backup_s_name_is_not_followed_to_order_it(shell_era: Path) -> None:
    """Ordering reads a script backup's first row; a link there is not read through (`check`
    then reports it as no regular file)."""
    secret = shell_era.parent / "elsewhere.csv"
    secret.write_text(HEADER + row_line("2026-01-01T00:00:00Z", notes="not ours"))
    link = shell_era / ".telemetry" / "usage_backup_20260101_000000.csv"
    link.symlink_to(secret)
    names = [path.name for path in layout.log_files(shell_era / ".telemetry" / "usage.csv")]
    # Sorted last of the script backups (no readable first row), not first by the target's row.
    assert names[:3] == [
        "usage_backup_20260311_020000.csv",
        "usage_backup_20260310_230000.csv",
        "usage_backup_20260101_000000.csv",
    ]
