"""Test helpers: real git in temporary folders, the installed command, row lines, huge files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telemetry_csv.logfile.writing import AppendResult

BIN = Path(sys.executable).parent
# Response bodies written by hand in the shapes each provider documents; not recorded.
FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures" / "usage"
HEADER = (
    "timestamp,model,prompt_tokens,completion_tokens,task_success,task_type,duration_ms,notes\n"
)
# What every new log starts with (docs/format.md); HEADER stays valid for the logs that have it.
EXTENDED_HEADER = HEADER[:-1] + ",source,source_id,cache_read_tokens,cache_write_tokens\n"


def extended(lines: str) -> str:
    """8-column row lines (the last with or without its newline) as a log with the extended
    header stores them: their four extra fields empty."""
    return "".join(
        line.removesuffix("\n") + ",,,," + line[len(line.removesuffix("\n")) :]
        for line in lines.splitlines(keepends=True)
    )


def append_line(log: Path, line: str, *, max_bytes: int = 10 * 1024 * 1024) -> AppendResult:
    """Append the row of one 8-column line (without its newline) as `log` appends it: in the
    log's shape, a new log with the extended header."""
    from telemetry_csv.logfile import writing
    from telemetry_csv.logfile.schema import Row, Schema

    schema = Schema()
    row = schema.parse_line(line)
    assert isinstance(row, Row), row
    return writing.append_rows(log, [row], schema, max_bytes=max_bytes, lock_timeout=5)


def git(cwd: Path, *args: str) -> str:
    """Run real git; fail the test with git's own words if it fails."""
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=git_env(), check=False
    )
    assert done.returncode == 0, f"git {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
    return done.stdout


def git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.com",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
    )
    return env


def rows(log: Path) -> list[list[str]]:
    """The log's rows, each split at every comma (enough for rows without quoted notes)."""
    return [line.split(",") for line in logged_lines(log)]


def logged_lines(log: Path) -> list[str]:
    """Every row line of the log at `log`, whatever the layout: its backups and itself, then its
    folds and shards (in one clone, shards sort in the order they were started)."""
    from telemetry_csv.logfile.layout import log_files

    return [line for path in log_files(log) for line in path.read_text().splitlines()[1:]]


def notes_of(line: str) -> str:
    """The notes of a row line of either shape (the eighth field)."""
    import csv

    return next(csv.reader([line]))[7]


def logged_text(log: Path) -> str:
    """The log at `log` as one file would hold it, whatever the layout: the header its files
    share (every new file has the extended one) and every row line (`logged_lines`); empty when
    nothing was ever logged."""
    from telemetry_csv.logfile.layout import log_files

    files = log_files(log)
    if not files:
        return ""
    headers = {path.read_text().partition("\n")[0] + "\n" for path in files}
    assert len(headers) == 1, f"files of both shapes; read them one by one: {headers}"
    return headers.pop() + "".join(f"{line}\n" for line in logged_lines(log))


def shards(log: Path) -> list[Path]:
    """The team layout's shard files of the log at `log`, oldest first."""
    from telemetry_csv.logfile.layout import ShardFiles, shard_folder

    found = ShardFiles.of(shard_folder(log))
    return [found.folder / name for name in found.shards]


def run_cli(
    *args: str, cwd: Path, input: str | None = None, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed `telemetry-csv` console script, as a user would run it; a `timeout` makes
    a command that hangs fail the test (subprocess.TimeoutExpired)."""
    return subprocess.run(
        [str(BIN / "telemetry-csv"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input,
        env=git_env(),
        timeout=timeout,
        check=False,
    )


# The real command, in a fresh interpreter that lets SIGXFSZ kill it as a crash would: Python
# ignores SIGXFSZ at start-up (a write past the limit then fails with EFBIG and is undone, see
# test_unwritable.py), so the default action is put back before `main` runs.
_DIES_AT_THE_SIZE_LIMIT = (
    "import signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_DFL); "
    "from telemetry_csv.cli.main import main; sys.exit(main(sys.argv[1:]))"
)


def run_cli_crashing_at(file_size: int, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`telemetry-csv ARGS` killed by SIGXFSZ the moment it writes past `file_size` bytes in any
    file: the kernel writes up to the limit, then the next write kills, so a crash lands at a
    byte the test chooses instead of wherever a kill -9 happens to fall."""

    def limit() -> None:
        import resource  # POSIX only: this helper's tests are skipped on Windows

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash, but no core file
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))

    return subprocess.run(
        [sys.executable, "-c", _DIES_AT_THE_SIZE_LIMIT, *args],
        cwd=cwd, capture_output=True, text=True, env=git_env(), timeout=60, preexec_fn=limit,
    )  # fmt: skip


def row_line(
    timestamp: str = "2026-02-23T22:19:12+01:00",
    model: str = "claude-3-opus",
    prompt: str = "1500",
    completion: str = "3200",
    success: str = "true",
    task_type: str = "execute",
    duration: str = "45000",
    notes: str = "",
) -> str:
    return f"{timestamp},{model},{prompt},{completion},{success},{task_type},{duration},{notes}\n"


HUGE_ROW = row_line(notes="Phase 6 tests")
# Files that take tens of MiB: `check` and `report` must read them in bounded time and memory.
HUGE_FILES: dict[str, Callable[[], bytes]] = {
    "one 64 MiB line": lambda: HEADER.encode() + b"x" * (64 << 20),
    "64 MiB of NUL": lambda: b"\x00" * (64 << 20),
    "a million blank lines": lambda: HEADER.encode() + b"\n" * 1_000_000,
    "400,000 CRLF rows": lambda: (HEADER + HUGE_ROW * 400_000).replace("\n", "\r\n").encode(),
    "400,000 valid rows": lambda: (HEADER + HUGE_ROW * 400_000).encode(),
}
