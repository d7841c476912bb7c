"""Many real writer processes at once, across many rotations: every row lands exactly once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from telemetry_csv.config import MIN_MAX_BYTES
from telemetry_csv.logfile.layout import log_files
from testing.logcheck import Reports, assert_backups_whole, assert_nothing_lost
from testing.util import git, run_cli

pytestmark = pytest.mark.slow  # real processes, huge files or many generated inputs

WRITERS = 8
APPENDS = 200
WRITER_SCRIPT = Path(__file__).parent.parent / "testing" / "writer_process.py"


def start_writer(log: Path, writer: str, count: int, max_bytes: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER_SCRIPT), str(log), str(max_bytes), writer, str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_eight_processes_two_hundred_appends_each_across_rotations(repo: Path) -> None:
    log = repo / ".telemetry" / "usage.csv"
    writers = [start_writer(log, f"w{n}", APPENDS, MIN_MAX_BYTES) for n in range(WRITERS)]
    reports = Reports()
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        reports.add(out)

    assert sum(reports.done.values()) == WRITERS * APPENDS
    files = log_files(log)
    ids = assert_nothing_lost(files, reports)
    assert len(ids) == WRITERS * APPENDS
    backups = assert_backups_whole(log, MIN_MAX_BYTES)
    # Every rotation made a backup of its own, none was overwritten and none is unaccounted for.
    assert len(reports.rotations) == len(set(reports.rotations))
    assert sorted(reports.rotations) == sorted(path.name for path in backups)
    assert len(backups) > 100, "max_bytes is small enough for rotation to happen many times"
    print(f"\n{WRITERS} writers x {APPENDS} appends: {len(ids)} rows, {len(backups)} rotations")

    checked = run_cli("check", cwd=repo)
    assert checked.returncode == 0, checked.stdout
    assert f"{WRITERS * APPENDS:,} valid rows: no problems" in checked.stdout

    # The lock and temporary files never reach a commit, even with `git add -A`.
    assert (log.parent / "usage.csv.lock").exists()
    git(repo, "add", "-A")
    staged = git(repo, "diff", "--cached", "--name-only").split()
    assert ".telemetry/usage.csv" in staged and ".telemetry/.gitignore" in staged
    assert not [name for name in staged if name.endswith((".lock", ".tmp"))]


def test_installed_command_from_parallel_processes(repo: Path) -> None:
    log = repo / ".telemetry" / "usage.csv"
    args = ["claude-3-opus", "10", "20", "true", "quick", "30"]
    bin_dir = Path(sys.executable).parent
    runs = [
        subprocess.Popen(
            [str(bin_dir / "telemetry-csv"), "log", *args, f"id=cli{n}:0 ", "--max-bytes", "1024"],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(12)
    ]
    for run in runs:
        _out, err = run.communicate(timeout=60)
        assert run.returncode == 0, err
    ids = sorted(writer for writer, _ in assert_nothing_lost(log_files(log), Reports()))
    assert ids == sorted(f"cli{n}" for n in range(12))


HOLD_LOCK = """
import sys
from filelock import FileLock

lock = FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


def test_a_busy_lock_times_out_with_status_3_and_writes_nothing(
    repo: Path, single_layout: Path
) -> None:
    assert run_cli("init", cwd=repo).returncode == 0
    log = repo / ".telemetry" / "usage.csv"
    assert run_cli("log", "m", "1", "2", "true", "plan", "3", cwd=repo).returncode == 0
    before = log.read_bytes()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(log) + ".lock"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        started = time.monotonic()
        done = run_cli("log", "m", "1", "2", "true", "plan", "3", "--lock-timeout", "0.5", cwd=repo)
        waited = time.monotonic() - started
        assert done.returncode == 3
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert "could not lock" in done.stderr and "within 0.5s" in done.stderr
        assert waited >= 0.5
        assert log.read_bytes() == before
        repaired = run_cli("repair", "--lock-timeout", "0.2", cwd=repo)
        assert repaired.returncode == 3 and "could not lock" in repaired.stderr
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    # Once the holder is gone the same command goes through.
    assert run_cli("log", "m", "1", "2", "true", "plan", "3", cwd=repo).returncode == 0
    assert log.read_bytes().startswith(before) and log.read_bytes().count(b"\n") == 3
