"""Writers killed with SIGKILL at random moments, rotations included: nothing reported is lost,
no backup is partial, `check` passes or names only the torn last line, and `repair` recovers."""

from __future__ import annotations

import os
import random
import select
import signal
import time
from collections import Counter
from pathlib import Path

from logcheck import Reports, assert_backups_whole, assert_nothing_lost
from writer_process import append_rows

from conftest import HEADER, run_cli
from telemetry_csv.checking import check_files
from telemetry_csv.config import MIN_MAX_BYTES
from telemetry_csv.repairing import repair_log
from telemetry_csv.schema import Schema
from telemetry_csv.store import log_files, temporary_path

ROUNDS = 120
WRITERS_PER_ROUND = 2


def fork_writer(
    log: Path, writer: str, report_fd: int, max_bytes: int = MIN_MAX_BYTES, **padding: str
) -> int:
    """A real child process appending until it is killed (fork: no interpreter start-up)."""
    pid = os.fork()
    if pid == 0:
        try:
            append_rows(log, max_bytes, writer, -1, report_fd, **padding)
        finally:
            os._exit(1)
    return pid


def read_all(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode()


def test_kill_9_in_a_loop_loses_nothing(tmp_path: Path) -> None:
    log = tmp_path / ".telemetry" / "usage.csv"
    schema = Schema()
    import filelock  # noqa: F401 - loaded once here rather than in every forked writer

    rng = random.Random(20261123)
    reports = Reports()
    backups_seen: dict[Path, bytes] = {}
    kills = torn = mid_rotation = log_missing = 0
    for round_no in range(ROUNDS):
        read_fd, write_fd = os.pipe()
        pids = [fork_writer(log, f"r{round_no}w{n}", write_fd) for n in range(WRITERS_PER_ROUND)]
        os.close(write_fd)
        # Kill at a random moment after the first row, so that a busy machine still appends.
        first, _, _ = select.select([read_fd], [], [], 10)
        assert first, "the writers appended nothing in 10 s"
        time.sleep(rng.uniform(0.0, 0.03))
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        for pid in pids:
            _, status = os.waitpid(pid, 0)
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
            kills += 1
        reports.add(read_all(read_fd))

        # A kill inside a rotation (or a first creation) leaves the temporary file behind.
        mid_rotation += temporary_path(log).exists()
        log_missing += not log.exists() and bool(backups_seen)

        result = check_files(log_files(log), schema)
        if not result.ok:
            # The only damage a kill may do is a torn last line of the log itself.
            size = log.stat().st_size
            assert not log.read_bytes().endswith(b"\n")
            last_line = log.read_bytes().count(b"\n") + 1
            assert {(p.path, p.line) for p in result.problems} == {(str(log), last_line)}, [
                str(p) for p in result.problems
            ]
            repaired = repair_log(log)
            assert repaired.torn_path is not None and repaired.line == last_line
            assert log.stat().st_size + repaired.size == size
            assert check_files(log_files(log), schema).ok
            torn += 1

        # Backups are whole and, once made, never change or disappear.
        for backup in assert_backups_whole(log, MIN_MAX_BYTES):
            if backup not in backups_seen:
                backups_seen[backup] = backup.read_bytes()
        for backup, content in backups_seen.items():
            assert backup.read_bytes() == content, f"{backup.name} was changed"
        assert set(reports.rotations) <= {path.name for path in backups_seen}

        # Incremental: only the log is new since the last round; backups were checked above.
        assert_nothing_lost(log_files(log), reports)

    rows = sum(reports.done.values())
    print(
        f"\n{kills} kills in {ROUNDS} rounds: {rows} rows reported done, all present once; "
        f"{len(backups_seen)} backups ({len(reports.rotations)} reported rotations), "
        f"{mid_rotation} kills inside a rotation or creation, {log_missing} between its renames, "
        f"{torn} torn lines repaired"
    )
    assert kills == ROUNDS * WRITERS_PER_ROUND
    assert rows > ROUNDS  # the writers really wrote between kills
    assert len(backups_seen) > 20


def test_kill_9_during_appends_of_big_rows_tears_lines_that_repair_recovers(
    tmp_path: Path,
) -> None:
    """Rows of about 4 KiB span memory pages, and the kernel checks for a pending SIGKILL
    between pages of one write: some kills really leave a torn last line. Each is found by
    `check` as exactly the last line, refused by `log`, and moved aside by `repair`."""
    import filelock  # noqa: F401 - loaded once here rather than in every forked writer

    log = tmp_path / ".telemetry" / "usage.csv"
    schema = Schema()
    rng = random.Random(4096)
    reports = Reports()
    seen: dict[Path, list[tuple[str, int]]] = {}  # backups are immutable: read each once
    torn = 0
    rounds = 120
    for round_no in range(rounds):
        read_fd, write_fd = os.pipe()
        pid = fork_writer(log, f"b{round_no}", write_fd, 1 << 16, padding="\U0001d518" * 990)
        os.close(write_fd)
        # Kill at a random moment after the first row, so that a busy machine still appends.
        first, _, _ = select.select([read_fd], [], [], 10)
        assert first, "the writer appended nothing in 10 s"
        time.sleep(rng.uniform(0.0, 0.01))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        reports.add(read_all(read_fd))
        if log.exists() and not log.read_bytes().endswith(b"\n"):
            torn += 1
            last_line = log.read_bytes().count(b"\n") + 1
            problems = check_files([log], schema).problems
            assert {p.line for p in problems} == {last_line}
            refused = run_cli(
                "log", "m", "1", "2", "true", "plan", "3", "--file", str(log), cwd=tmp_path
            )
            assert refused.returncode == 4 and "torn" in refused.stderr
            before = log.read_bytes()
            repaired = repair_log(log)
            assert log.read_bytes() + repaired.torn_path.read_bytes() == before
        for backup in assert_backups_whole(log, 1 << 16):
            if backup not in seen:
                seen[backup] = assert_nothing_lost([backup], Reports())
        ids = [row for rows in seen.values() for row in rows]
        if log.exists():
            ids += assert_nothing_lost([log], Reports())
        counts = Counter(f"{writer}:{seq}" for writer, seq in ids)
        assert all(n == 1 for n in counts.values()), "a row was written twice"
        assert all(counts[row] == 1 for row in reports.done), "a reported row is missing"
    assert check_files(log_files(log), schema).ok
    print(
        f"\n{rounds} kills of 4 KiB-row writers: {sum(reports.done.values())} rows reported "
        f"done, all present once; {len(seen)} backups; {torn} torn lines found and repaired"
    )
    assert sum(reports.done.values()) >= rounds


def test_log_refuses_after_a_torn_line_and_repair_moves_it_aside(repo: Path) -> None:
    assert run_cli("init", cwd=repo).returncode == 0
    assert run_cli("log", "m", "1", "2", "true", "plan", "3", "first", cwd=repo).returncode == 0
    log = repo / ".telemetry" / "usage.csv"
    with open(log, "ab") as file:
        file.write(b"2026-02-23T22:19:12+01:00,claude-3-opus,15")  # a write cut short
    torn = log.read_bytes()

    refused = run_cli("log", "m", "1", "2", "true", "plan", "3", "second", cwd=repo)
    assert refused.returncode == 4
    assert "the last line is torn" in refused.stderr and "telemetry-csv repair" in refused.stderr
    assert log.read_bytes() == torn

    checked = run_cli("check", cwd=repo)
    assert checked.returncode == 1
    assert ".telemetry/usage.csv:3: line: no newline at the end of the file" in checked.stdout

    repaired = run_cli("repair", cwd=repo)
    assert repaired.returncode == 0, repaired.stderr
    moved = list(log.parent.glob("usage.csv.torn-*"))
    assert len(moved) == 1
    assert (
        f"moved the torn line 3 (42 bytes) of .telemetry/usage.csv to {moved[0].relative_to(repo)}"
        in repaired.stdout
    )
    assert moved[0].read_bytes() == b"2026-02-23T22:19:12+01:00,claude-3-opus,15"
    assert log.read_bytes() + moved[0].read_bytes() == torn  # nothing deleted
    # The torn file is no log: check and the backups list ignore it, git shows it.
    assert run_cli("check", cwd=repo).returncode == 0
    assert run_cli("log", "m", "1", "2", "true", "plan", "3", "second", cwd=repo).returncode == 0
    again = run_cli("repair", cwd=repo)
    assert again.returncode == 0 and "nothing to repair" in again.stdout
    assert len(list(log.parent.glob("usage.csv.torn-*"))) == 1


def test_repair_without_a_log_after_a_crash_between_the_renames(repo: Path) -> None:
    folder = repo / ".telemetry"
    folder.mkdir()
    (folder / "usage-20260101T000000Z.csv").write_text(HEADER)
    done = run_cli("repair", cwd=repo)
    assert done.returncode == 0 and "there is no .telemetry/usage.csv" in done.stdout
    assert run_cli("check", cwd=repo).returncode == 0
