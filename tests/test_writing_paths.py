"""Which paths the store writes: log names, symbolic links, missing folders, the lock's wait."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from telemetry_csv import fs
from telemetry_csv.errors import LogFileError, TelemetryError
from telemetry_csv.logfile import layout, writing
from telemetry_csv.logfile.repairing import repair_log
from telemetry_csv.logfile.rewriting import format_file
from telemetry_csv.logfile.schema import Schema
from testing.platforms import SYMLINKS, posix_only
from testing.util import EXTENDED_HEADER, HEADER, append_line, extended, git, run_cli

LINE = "2026-02-23T22:19:12+01:00,claude-3-opus,1500,3200,true,execute,45000,x"
# A max_bytes that makes every second append rotate (new logs have the extended header).
ONE_ROW = len(EXTENDED_HEADER) + len(extended(LINE)) + 1
LOG_ARGS = ("log", "m", "1", "2", "true", "plan", "3")


def append(log: Path, max_bytes: int = 1 << 20) -> writing.AppendResult:
    return append_line(log, LINE, max_bytes=max_bytes)


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("usage.csv", True),
        ("team.usage.csv", True),
        ("usage.txt", False),
        ("usage", False),
        ("usage.CSV", False),
        (".csv", False),
        ("usage.csv.bak", False),
    ],
)
def test_a_log_name_must_end_in_csv(name: str, allowed: bool) -> None:
    assert (layout.log_name_problem(name) is None) is allowed


def test_two_logs_differing_only_in_suffix_cannot_share_backups(tmp_path: Path) -> None:
    """usage.txt would rotate to usage-STAMP.csv and read usage.csv's backups as its own."""
    csv_log = tmp_path / "usage.csv"
    for _ in range(3):
        append(csv_log, ONE_ROW)
    backups = layout.backup_paths(csv_log)
    assert [path.name[:6] for path in backups] == ["usage-", "usage-"]
    before = {path: path.read_bytes() for path in tmp_path.iterdir()}
    txt_log = tmp_path / "usage.txt"
    for write in (append, lambda log: writing.create_log(log, lock_timeout=5)):
        with pytest.raises(
            TelemetryError, match=r"usage\.txt: a log's file name must end in \.csv"
        ) as raised:
            write(txt_log)
        assert raised.value.exit_code == 2  # a refused value, as from the `log` setting
    with pytest.raises(TelemetryError, match=r"must end in \.csv"):
        layout.log_files(txt_log)
    assert {path: path.read_bytes() for path in tmp_path.iterdir()} == before


def test_the_log_setting_must_end_in_csv(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.telemetry-csv]\nlog = ".telemetry/usage.txt"\n')
    for args in (LOG_ARGS, ("init",), ("check",)):
        done = run_cli(*args, cwd=repo)
        assert done.returncode == 2, args
        assert done.stderr.split(": error: ", 1)[1] == (
            "pyproject.toml: log = '.telemetry/usage.txt' is not allowed; "
            "a log's file name must end in .csv (its backups are named "
            "STEM-YYYYMMDDTHHMMSSZ.csv from it)\n"
        )
    assert not (repo / ".telemetry").exists()


def test_file_option_must_end_in_csv(repo: Path) -> None:
    """The same status as the same name in the `log` setting (above): a refused value."""
    for args in (
        (*LOG_ARGS, "--file", "usage.txt"),
        ("init", "--file", "usage.txt"),
        ("check", "--file", "usage.txt"),
        ("report", "--file", "usage.txt"),
    ):
        done = run_cli(*args, cwd=repo)
        assert done.returncode == 2, args
        assert done.stderr.count("\n") == 1 and "must end in .csv" in done.stderr
    assert sorted(path.name for path in repo.iterdir()) == [".git"]


def test_locking_creates_a_missing_folder_with_its_gitignore(repo: Path) -> None:
    """filelock would create the folder itself, and the lock file would show in `git status`."""
    log = repo / "new" / "deeper" / "usage.csv"
    with writing.locked(log, 1):
        assert layout.lock_path(log).exists()
    assert (
        git(repo, "status", "--porcelain", "--untracked-files=all") == "?? new/deeper/.gitignore\n"
    )


CRLF_LOG = (HEADER + LINE + "\n").replace("\n", "\r\n")  # so that fmt has something to write


@pytest.fixture
def linked(tmp_path: Path) -> tuple[Path, Path]:
    """A log that is a symbolic link to a real log elsewhere."""
    real = tmp_path / "elsewhere" / "usage.csv"
    real.parent.mkdir()
    real.write_bytes(CRLF_LOG.encode())
    link = tmp_path / "repo" / ".telemetry" / "usage.csv"
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    return link, real


@posix_only(SYMLINKS)
def test_a_log_that_is_a_symbolic_link_is_refused_before_a_rotation_breaks_it(
    linked: tuple[Path, Path],
) -> None:
    """A rotation renamed the link itself to the backup name and put a plain file in its place:
    the real file kept the old rows and got no new ones, and the backup was a link."""
    link, real = linked
    folders = {folder: sorted(os.listdir(folder)) for folder in (link.parent, real.parent)}
    for write in (
        lambda: append(link, ONE_ROW),  # would rotate
        lambda: append(link),  # would append through the link until the first rotation
        lambda: writing.create_log(link, lock_timeout=5),
        lambda: format_file(link, Schema(), lock_timeout=5),
        lambda: repair_log(link, lock_timeout=5),
    ):
        with pytest.raises(LogFileError, match=r"usage\.csv is a symbolic link \(to .*elsewhere"):
            write()
        assert link.is_symlink() and link.resolve() == real
        assert real.read_bytes() == CRLF_LOG.encode()
    assert {folder: sorted(os.listdir(folder)) for folder in folders} == folders


@posix_only(SYMLINKS)
def test_a_dangling_link_is_not_replaced_by_a_new_log(linked: tuple[Path, Path]) -> None:
    link, real = linked
    real.unlink()
    with pytest.raises(LogFileError, match="is a symbolic link"):
        append(link)
    assert link.is_symlink() and not real.exists()


@posix_only(SYMLINKS)
def test_the_command_refuses_a_linked_log_in_one_line(
    linked: tuple[Path, Path], tmp_path: Path
) -> None:
    link, real = linked
    done = run_cli(*LOG_ARGS, "--file", str(link), cwd=tmp_path)
    assert done.returncode == 4
    assert done.stderr.count("\n") == 1
    assert f"is a symbolic link (to {real})" in done.stderr
    assert "Set `log` (or --file) to the file itself" in done.stderr


@posix_only(SYMLINKS)
def test_a_log_in_a_linked_folder_rotates_in_the_real_folder(tmp_path: Path) -> None:
    """Only the log itself may not be a link: a linked folder is renamed within, as usual."""
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "linked").symlink_to(real)
    log = tmp_path / "linked" / "usage.csv"
    for _ in range(3):
        append(log, ONE_ROW)
    assert len(layout.backup_paths(log)) == 2
    assert (real / "usage.csv").read_text() == EXTENDED_HEADER + extended(LINE) + "\n"
    assert len(list(real.glob("usage-*.csv"))) == 2


def test_init_waits_for_the_lock_only_as_long_as_configured(repo: Path) -> None:
    from filelock import FileLock

    (repo / "pyproject.toml").write_text(
        '[tool.telemetry-csv]\nlock_timeout = 0.2\nlayout = "single"\n'
    )
    folder = repo / ".telemetry"
    folder.mkdir()
    with FileLock(str(folder / "usage.csv.lock")):
        started = time.monotonic()
        done = run_cli("init", cwd=repo)
        waited = time.monotonic() - started
    assert done.returncode == 3
    assert "usage.csv.lock within 0.2s: another writer holds it" in done.stderr
    assert waited < 5  # not the 10 s it used to wait whatever the setting
    assert not (folder / "usage.csv").exists()


def test_a_linked_telemetry_folder_is_refused_for_every_command(repo: Path) -> None:
    """git commits the link, not the files behind it, so the hooks and `report --range` would
    not see the rows: a `.telemetry` that is a link is refused, even to a folder inside."""
    (repo / "real").mkdir()
    (repo / ".telemetry").symlink_to("real")
    for args in (LOG_ARGS, ("init",), ("check",), ("fmt",)):
        done = run_cli(*args, cwd=repo)
        assert done.returncode == 4, (args, done.stderr)
        assert done.stderr.count("\n") == 1
        assert ".telemetry is a symbolic link (to real)" in done.stderr
        assert "the log's folder must be a real folder inside the repository" in done.stderr
    assert os.listdir(repo / "real") == []


def test_a_log_set_through_a_linked_folder_is_refused(repo: Path) -> None:
    (repo / "data").mkdir()
    (repo / "logs").symlink_to("data")
    (repo / "pyproject.toml").write_text('[tool.telemetry-csv]\nlog = "logs/usage.csv"\n')
    done = run_cli(*LOG_ARGS, cwd=repo)
    assert done.returncode == 4 and "logs is a symbolic link (to data)" in done.stderr
    assert "pyproject.toml: log = 'logs/usage.csv'" in done.stderr
    assert os.listdir(repo / "data") == []


def test_a_settings_file_may_be_a_link_inside_the_repository_only(
    repo: Path, tmp_path: Path
) -> None:
    (repo / "shared.toml").write_text('[tool.telemetry-csv]\nlog = "team.csv"\nlayout = "single"\n')
    (repo / "pyproject.toml").symlink_to("shared.toml")
    assert run_cli(*LOG_ARGS, cwd=repo).returncode == 0
    assert (repo / "team.csv").exists()
    (repo / "pyproject.toml").unlink()
    outside = tmp_path / "outside.toml"
    outside.write_text('[tool.telemetry-csv]\nlog = "other.csv"\n')
    (repo / "pyproject.toml").symlink_to(outside)
    done = run_cli(*LOG_ARGS, cwd=repo)
    assert done.returncode == 4 and "leads outside the repository" in done.stderr
    assert not (repo / "other.csv").exists()


def test_temporary_files_have_unguessable_names_and_leftovers_go(
    repo: Path, tmp_path: Path
) -> None:
    """A crash's leftover (or a link planted under a temporary file's name) is removed by the
    next lock holder that starts a log: the name, never what a link points to."""
    from telemetry_csv import fs

    log = repo / ".telemetry" / "usage.csv"
    append(log)
    decoy = tmp_path / "decoy.txt"
    decoy.write_text("keep me\n")
    leftover = fs.temporary_beside(log)
    leftover.symlink_to(decoy)
    crashed = fs.temporary_beside(log)
    crashed.write_text(HEADER)
    assert leftover.name != crashed.name and fs.is_temporary_of(log, leftover.name)
    append(log, ONE_ROW)  # rotates, under the lock
    assert not os.path.lexists(leftover) and not crashed.exists()
    assert decoy.read_text() == "keep me\n"
    assert sorted(p.name for p in log.parent.iterdir() if p.name.startswith(".usage")) == []


def test_the_old_temporary_name_as_a_link_is_never_written(repo: Path, tmp_path: Path) -> None:
    decoy = tmp_path / "bashrc"
    decoy.write_text("export PATH=/usr/bin\n")
    folder = repo / ".telemetry"
    folder.mkdir()
    (folder / ".usage.csv.tmp").symlink_to(decoy)
    for args in (("init",), LOG_ARGS, (*LOG_ARGS, "--max-bytes", "1024"), ("fmt",)):
        assert run_cli(*args, cwd=repo).returncode in (0, 1), args
    for _ in range(12):
        assert run_cli(*LOG_ARGS, "--max-bytes", "1024", cwd=repo).returncode == 0
    assert decoy.read_text() == "export PATH=/usr/bin\n"
    assert (folder / ".usage.csv.tmp").is_symlink()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_a_file_holding_more_than_its_size_says_is_read_up_to_the_limit() -> None:
    """A file that grew after its size was read (as /proc's files always seem to, at size 0)
    is read on in pieces: whole when within the limit, refused past it."""
    status = Path("/proc/self/status")
    assert status.stat().st_size == 0
    data = fs.read_bounded(status, 1 << 20, follow=True)
    assert data is not None and data.startswith(b"Name:") and data.endswith(b"\n")
    with pytest.raises(LogFileError, match="larger than"):
        fs.read_bounded(status, 10, follow=True)
