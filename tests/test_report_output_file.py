"""`report -o FILE`: never onto the rows it reads, through symlinks, keeping modes, into pipes."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from testing.platforms import FIFOS, LINKS, MODES, posix_only
from testing.report_fixtures import LINES
from testing.util import HEADER, run_cli


@pytest.fixture
def log(repo: Path) -> Path:
    folder = repo / ".telemetry"
    folder.mkdir()
    (folder / "usage-20261121T000000Z.csv").write_text(HEADER + "".join(LINES[:2]))
    path = folder / "usage.csv"
    path.write_text(HEADER + "".join(LINES[2:]))
    return path


def expected_report(repo: Path) -> str:
    done = run_cli("report", "--no-costs", cwd=repo)
    assert done.returncode == 0, done.stderr
    return done.stdout


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.mark.parametrize(
    "target",
    [
        ".telemetry/usage.csv",
        ".telemetry/usage-20261121T000000Z.csv",
        pytest.param("link-to-log.csv", marks=posix_only(LINKS)),
        ".telemetry/../.telemetry/usage.csv",
    ],
)
def test_the_log_or_a_backup_as_output_is_refused(log: Path, repo: Path, target: str) -> None:
    if target == "link-to-log.csv":
        (repo / target).symlink_to(log)
    before = snapshot(log.parent)
    done = run_cli("report", "--no-costs", "-o", target, cwd=repo)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"--output: {target!r} is not allowed; it is " in done.stderr
    assert snapshot(log.parent) == before
    assert target != "link-to-log.csv" or (repo / target).is_symlink()


def test_a_file_given_to_read_is_refused_as_output(log: Path, repo: Path) -> None:
    other = repo / "other.csv"
    other.write_text(HEADER + LINES[0])
    done = run_cli("report", "--no-costs", str(other), "-o", "other.csv", cwd=repo)
    assert done.returncode == 2 and "--output: 'other.csv' is not allowed" in done.stderr
    assert other.read_text() == HEADER + LINES[0]


def test_the_log_is_refused_as_the_step_summary_too(log: Path, repo: Path) -> None:
    before = log.read_bytes()
    env = dict(os.environ, GITHUB_STEP_SUMMARY=str(log))
    done = subprocess.run(
        [str(Path(os.sys.executable).parent / "telemetry-csv"), "report", "--github-summary"],
        cwd=repo, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "GITHUB_STEP_SUMMARY" in done.stderr, done.stderr
    assert done.stdout == "" and log.read_bytes() == before


@posix_only(LINKS)
def test_a_symlink_is_written_through(log: Path, repo: Path) -> None:
    real = repo / "reports" / "usage.md"
    real.parent.mkdir()
    real.write_text("old")
    link = repo / "latest.md"
    link.symlink_to(real)
    done = run_cli("report", "--no-costs", "-o", "latest.md", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and link.readlink() == real
    assert real.read_text() == expected_report(repo)
    assert sorted(os.listdir(real.parent)) == ["usage.md"]  # no temporary file left
    assert sorted(os.listdir(repo)) == [".git", ".telemetry", "latest.md", "reports"]


@posix_only(MODES)
def test_the_mode_of_an_existing_file_is_kept(log: Path, repo: Path) -> None:
    target = repo / "report.md"
    target.write_text("old")
    target.chmod(0o640)
    assert run_cli("report", "--no-costs", "-o", "report.md", cwd=repo).returncode == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text() == expected_report(repo)


@posix_only(MODES)
def test_a_new_file_gets_the_usual_mode(log: Path, repo: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    assert run_cli("report", "--no-costs", "-o", "new.md", cwd=repo).returncode == 0
    assert stat.S_IMODE((repo / "new.md").stat().st_mode) == 0o666 & ~umask


@posix_only(FIFOS)
def test_a_fifo_is_written_into_not_replaced(log: Path, repo: Path) -> None:
    fifo = repo / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    try:
        done = run_cli("report", "--no-costs", "-o", str(fifo), cwd=repo)
        assert done.returncode == 0, done.stderr
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
        received, _ = reader.communicate(timeout=30)
    finally:
        reader.kill()
        reader.wait()
    assert received == expected_report(repo)
    assert sorted(os.listdir(repo)) == [".git", ".telemetry", "pipe"]


@posix_only(f"{LINKS}, nor /dev/null as a character device")
def test_a_character_device_behind_a_symlink_is_written_into(log: Path, repo: Path) -> None:
    """The null device, reached through a link of the user's own outside the repository: the
    link stays (the device itself is never named, so a broken writer could only ever replace
    the link)."""
    link = repo.parent / "sink"
    link.symlink_to(os.devnull)
    done = run_cli("report", "--no-costs", "-o", str(link), cwd=repo)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and link.readlink() == Path(os.devnull)
    assert stat.S_ISCHR(os.stat(link).st_mode)


def test_a_folder_as_output_is_a_one_line_error(log: Path, repo: Path) -> None:
    (repo / "out").mkdir()
    done = run_cli("report", "--no-costs", "-o", "out", cwd=repo)
    assert done.returncode == 4 and done.stderr.count("\n") == 1
    assert "cannot write out: " in done.stderr
    assert os.listdir(repo / "out") == []
