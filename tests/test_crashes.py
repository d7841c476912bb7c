"""Writers killed with SIGKILL at random moments, rotations included: nothing reported is lost,
no backup is partial, `check` passes or names only the torn last line, and `repair` recovers."""

from __future__ import annotations

import os
import random
import re
import select
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from telemetry_csv.cli.main import main
from telemetry_csv.config import MIN_MAX_BYTES
from telemetry_csv.logfile.checking import check_files
from telemetry_csv.logfile.layout import log_files
from telemetry_csv.logfile.reading import Problem
from telemetry_csv.logfile.repairing import repair_log
from telemetry_csv.logfile.schema import Schema
from telemetry_csv.rfc3339 import problem
from testing.logcheck import (
    Reports,
    assert_backups_whole,
    assert_each_writer_unbroken,
    assert_nothing_lost,
)
from testing.logfiles import temporaries
from testing.platforms import FILE_SIZE_LIMIT, FORK, posix_only
from testing.util import HEADER, run_cli, run_cli_crashing_at
from testing.writer_process import PADDING, append_rows

pytestmark = [
    pytest.mark.slow,  # real processes, huge files or many generated inputs
    posix_only(f"{FORK}, SIGKILL, or {FILE_SIZE_LIMIT}"),
]


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


def assert_torn_tail_is_an_unfinished_row(tail: bytes, next_rows: dict[str, bytes]) -> None:
    """A kill tears only the row being appended: `tail` is the start of the next row of one of
    the round's writers (`next_rows`: writer -> its next seq's row, timestamp left out)."""
    assert b"\n" not in tail
    timestamp, comma, rest = tail.partition(b",")
    assert re.fullmatch(rb"[0-9T:+\-Z]{0,25}", timestamp), tail[:40]
    if comma:
        assert problem(timestamp.decode()) is None, tail[:40]
    candidates = [row for row in next_rows.values() if row.startswith(rest)]
    assert candidates, f"the torn line is no writer's next row: {tail[:80]!r}"


def next_rows(
    counts: dict[str, int], writers: list[str], padding: str = PADDING
) -> dict[str, bytes]:
    """Each writer's next row as writer_process.py appends it, from the model on."""
    return {
        writer: (
            f"claude-3-opus,{counts.get(writer, 0)},1,true,execute,1,"
            f"id={writer}:{counts.get(writer, 0)} {padding}\n"
        ).encode()
        for writer in writers
    }


def assert_check_names_only_the_torn_last_line(log: Path, problems: list[Problem]) -> int:
    """The only damage a kill may do: the log's last line, without its newline. Its number."""
    assert not log.read_bytes().endswith(b"\n")
    last_line = log.read_bytes().count(b"\n") + 1
    assert {(p.path, p.line) for p in problems} == {(str(log), last_line)}, [
        str(p) for p in problems
    ]
    assert (problems[0].field, problems[0].message.split(":")[0]) == (
        "line",
        "no newline at the end of the file",
    )
    return last_line


def test_kill_9_in_a_loop_loses_nothing(tmp_path: Path) -> None:
    log = tmp_path / ".telemetry" / "usage.csv"
    schema = Schema()
    import filelock  # noqa: F401 - loaded once here rather than in every forked writer

    rng = random.Random(20261123)
    reports = Reports()
    backups_seen: dict[Path, bytes] = {}
    torn = mid_rotation = log_missing = 0
    for round_no in range(ROUNDS):
        read_fd, write_fd = os.pipe()
        writers = [f"r{round_no}w{n}" for n in range(WRITERS_PER_ROUND)]
        pids = [fork_writer(log, writer, write_fd) for writer in writers]
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
        reports.add(read_all(read_fd))

        # A kill inside a rotation (or a first creation) leaves the temporary file behind.
        mid_rotation += bool(temporaries(log))
        log_missing += not log.exists() and bool(backups_seen)

        result = check_files(log_files(log), schema)
        tail = None
        if not result.ok:
            size = log.stat().st_size
            last_line = assert_check_names_only_the_torn_last_line(log, list(result.problems))
            repaired = repair_log(log)
            assert repaired.torn_path is not None and repaired.line == last_line
            assert log.stat().st_size + repaired.size == size
            assert check_files(log_files(log), schema).ok
            tail = repaired.torn_path.read_bytes()
            torn += 1

        # Backups are whole and, once made, never change or disappear.
        for backup in assert_backups_whole(log, MIN_MAX_BYTES):
            if backup not in backups_seen:
                backups_seen[backup] = backup.read_bytes()
        for backup, content in backups_seen.items():
            assert backup.read_bytes() == content, f"{backup.name} was changed"
        assert set(reports.rotations) <= {path.name for path in backups_seen}

        ids = assert_nothing_lost(log_files(log), reports)
        counts = assert_each_writer_unbroken(ids, reports)
        if tail is not None:
            assert_torn_tail_is_an_unfinished_row(tail, next_rows(counts, writers))

    print(
        f"\n{ROUNDS * WRITERS_PER_ROUND} kills in {ROUNDS} rounds: "
        f"{sum(reports.done.values())} rows reported done, all present once; "
        f"{len(backups_seen)} backups ({len(reports.rotations)} reported rotations), "
        f"{mid_rotation} kills inside a rotation or creation, {log_missing} between its renames, "
        f"{torn} torn lines repaired"
    )
    # Some kills must have landed after a rotation, or this loop tested no rotation at all.
    assert len(backups_seen) >= len(reports.rotations) > 0


def test_kill_9_during_appends_of_big_rows_tears_lines_that_repair_recovers(
    tmp_path: Path,
) -> None:
    """Rows of about 4 KiB span memory pages, and the kernel checks for a pending SIGKILL
    between pages of one write: some kills may leave a torn last line (test_a_write_cut_at_a_
    known_byte... makes one for certain). Each is found by `check` as exactly the last line,
    refused by `log`, and moved aside by `repair`."""
    import filelock  # noqa: F401 - loaded once here rather than in every forked writer

    log = tmp_path / ".telemetry" / "usage.csv"
    schema = Schema()
    rng = random.Random(4096)
    reports = Reports()
    seen: dict[Path, list[tuple[str, int]]] = {}  # backups are immutable: read each once
    torn = 0
    rounds = 60  # torn lines are made for certain in test_a_write_cut_at_a_known_byte_...
    padding = "\U0001d518" * 990
    for round_no in range(rounds):
        read_fd, write_fd = os.pipe()
        writer = f"b{round_no}"
        pid = fork_writer(log, writer, write_fd, 1 << 16, padding=padding)
        os.close(write_fd)
        # Kill at a random moment after the first row, so that a busy machine still appends.
        first, _, _ = select.select([read_fd], [], [], 10)
        assert first, "the writer appended nothing in 10 s"
        time.sleep(rng.uniform(0.0, 0.01))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        reports.add(read_all(read_fd))
        tail = None
        if log.exists() and not log.read_bytes().endswith(b"\n"):
            torn += 1
            assert_check_names_only_the_torn_last_line(
                log, list(check_files([log], schema).problems)
            )
            refused = run_cli(
                "log", "m", "1", "2", "true", "plan", "3", "--file", str(log), cwd=tmp_path
            )
            assert refused.returncode == 4 and "torn" in refused.stderr
            before = log.read_bytes()
            repaired = repair_log(log)
            tail = repaired.torn_path.read_bytes()
            assert log.read_bytes() + tail == before
        for backup in assert_backups_whole(log, 1 << 16):
            if backup not in seen:
                seen[backup] = assert_nothing_lost([backup], Reports())
        ids = [row for rows in seen.values() for row in rows]
        if log.exists():
            ids += assert_nothing_lost([log], Reports())
        counts = Counter(f"{writer}:{seq}" for writer, seq in ids)
        assert all(n == 1 for n in counts.values()), "a row was written twice"
        assert all(counts[row] == 1 for row in reports.done), "a reported row is missing"
        whole = assert_each_writer_unbroken(ids, reports)
        if tail is not None:
            assert_torn_tail_is_an_unfinished_row(tail, next_rows(whole, [writer], padding))
    assert check_files(log_files(log), schema).ok
    print(
        f"\n{rounds} kills of 4 KiB-row writers: {sum(reports.done.values())} rows reported "
        f"done, all present once; {len(seen)} backups; {torn} torn lines found and repaired"
    )


LOGGED_IN_A_CRASH = ["m", "1", "2", "true", "plan", "3", "second"]
TORN_ROW = b"2026-01-01T00:00:01Z,m,1,2,true,plan,3,second,,,,\n"  # a new log's shape


@pytest.mark.parametrize(
    ("cut", "problems"),
    [
        (1, ["line: expected 12 fields, found 1"]),
        (30, ["line: expected 12 fields, found 5"]),
        (len(TORN_ROW) - 1, []),  # the whole row but its newline
    ],
    ids=["first-byte", "mid-row", "all-but-the-newline"],
)
def test_a_write_cut_at_a_known_byte_is_found_refused_and_repaired(
    repo: Path,
    single_layout: Path,
    log: Path,
    capsys: pytest.CaptureFixture[str],
    cut: int,
    problems: list[str],
) -> None:
    """Deterministic, unlike the kill loops: RLIMIT_FSIZE lets the kernel write exactly `cut`
    bytes of the row, and the next write kills a real `log` process with SIGXFSZ, mid-append.
    What follows runs in-process (the commands' `main`), to keep the suite quick."""
    logged = ["log", "m", "1", "2", "true", "plan", "3", "first", "-q"]
    assert main([*logged, "--timestamp", "2026-01-01T00:00:00Z"]) == 0
    before = log.read_bytes()
    crashed = run_cli_crashing_at(
        len(before) + cut, "log", *LOGGED_IN_A_CRASH, "--timestamp", "2026-01-01T00:00:01Z",
        cwd=repo,
    )  # fmt: skip
    assert crashed.returncode == -signal.SIGXFSZ, crashed.stderr
    torn = before + TORN_ROW[:cut]
    assert log.read_bytes() == torn

    assert main(["check"]) == 1
    assert capsys.readouterr().out.splitlines()[:-1] == [
        ".telemetry/usage.csv:3: line: no newline at the end of the file: the last line may be "
        "torn by an interrupted write; if the row is complete add the newline, otherwise move "
        "it aside with `telemetry-csv repair`",
        *(f".telemetry/usage.csv:3: {problem}" for problem in problems),
    ]

    assert main(["log", *LOGGED_IN_A_CRASH]) == 4
    refused = capsys.readouterr().err
    assert "the last line is torn" in refused and "telemetry-csv repair" in refused
    assert log.read_bytes() == torn

    assert main(["repair"]) == 0
    (moved,) = log.parent.glob("usage.csv.torn-*")
    assert capsys.readouterr().out.startswith(
        f"moved the torn line 3 ({cut} bytes) of .telemetry/usage.csv to "
        f"{moved.relative_to(repo)}; the log ends with a complete line again\n"
    )
    assert moved.read_bytes() == TORN_ROW[:cut] and log.read_bytes() == before  # nothing lost
    # The torn file is no log: check and the backups list ignore it; logging goes on.
    assert main(["check", "-q"]) == 0
    assert main(["log", *LOGGED_IN_A_CRASH, "-q"]) == 0
    assert main(["repair"]) == 0 and "nothing to repair" in capsys.readouterr().out
    assert list(log.parent.glob("usage.csv.torn-*")) == [moved]


def test_repair_without_a_log_after_a_crash_between_the_renames(repo: Path) -> None:
    folder = repo / ".telemetry"
    folder.mkdir()
    (folder / "usage-20260101T000000Z.csv").write_text(HEADER)
    done = run_cli("repair", cwd=repo)
    assert done.returncode == 0 and "there is no .telemetry/usage.csv" in done.stdout
    assert run_cli("check", cwd=repo).returncode == 0
