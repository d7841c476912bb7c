"""A reader that went away (`| head`, `| true`, `2>&-`) never turns into a traceback, and never
changes what was logged or, for `run`, the command's exit status."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.platforms import CLOSED_PIPES, posix_only
from testing.util import BIN, HEADER, git_env, logged_text, row_line, rows, run_cli

pytestmark = posix_only(CLOSED_PIPES)

CLOSED_PIPE = 141  # 128 + SIGPIPE: what a command killed by a closed pipe reports
LOG = ["log", "claude-3-opus", "1500", "3200", "true", "execute", "45000"]


@pytest.fixture
def closed_pipe() -> Iterator[int]:
    """The writing end of a pipe whose reader has already gone: every write fails with EPIPE."""
    reader, writer = os.pipe()
    os.close(reader)
    yield writer
    os.close(writer)


def telemetry_csv(
    *args: str, cwd: Path, stdout: int = subprocess.PIPE, stderr: int = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "telemetry-csv"), *args],
        cwd=cwd, stdout=stdout, stderr=stderr, text=True, env=git_env(), timeout=60,
    )  # fmt: skip


def test_log_with_stdout_closed_logs_and_ends_quietly(
    repo: Path, log: Path, closed_pipe: int
) -> None:
    done = telemetry_csv(*LOG, cwd=repo, stdout=closed_pipe)
    assert (done.returncode, done.stderr) == (CLOSED_PIPE, "")
    assert rows(log)[0][1:7] == ["claude-3-opus", "1500", "3200", "true", "execute", "45000"]


@pytest.mark.parametrize(
    "args",
    [
        ["check"],  # more problems than a pipe buffer holds: the write fails mid-run
        ["--help"],
        ["log", "--help"],
    ],
    ids=["check", "help", "log-help"],
)
def test_output_to_a_closed_pipe_is_no_traceback(
    repo: Path, log: Path, closed_pipe: int, args: list[str]
) -> None:
    log.parent.mkdir()
    log.write_text(HEADER + row_line(task_type="deploy") * 2000)
    done = telemetry_csv(*args, cwd=repo, stdout=closed_pipe)
    assert (done.returncode, done.stderr) == (CLOSED_PIPE, "")


@pytest.mark.parametrize(
    "args",
    [["log", "m", "1", "2", "maybe", "plan", "3"], ["log", "--nope"], ["nope"]],
    ids=["refused-value", "argparse-error", "unknown-command"],
)
def test_errors_keep_their_status_when_stderr_is_a_closed_pipe(
    repo: Path, log: Path, closed_pipe: int, args: list[str]
) -> None:
    done = telemetry_csv(*args, cwd=repo, stderr=closed_pipe)
    assert (done.returncode, done.stdout) == (2, "")
    assert not logged_text(log)


def test_run_keeps_the_commands_status_when_stderr_is_a_closed_pipe(
    repo: Path, log: Path, closed_pipe: int
) -> None:
    run = ["run", "--model", "m", "--task-type", "verify", "--", "sh", "-c", "echo out; exit 3"]
    done = telemetry_csv(*run, cwd=repo, stderr=closed_pipe)
    assert (done.returncode, done.stdout) == (3, "out\n")
    assert rows(log)[0][4] == "false"


def test_run_with_stderr_closed_writes_nothing_of_its_own_to_stdout(repo: Path, log: Path) -> None:
    # With descriptor 2 closed, Python's sys.stderr is None, and print(file=None) would fall
    # back to standard output: run's messages would end up in the command's output.
    script = f"exec '{BIN / 'telemetry-csv'}' run --model m --task-type plan -- echo hi 2>&-"
    done = subprocess.run(["sh", "-c", script], cwd=repo, capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, "hi\n")
    assert rows(log)[0][4] == "true"


@pytest.mark.parametrize("args", [[], ["--format", "json"]], ids=["markdown", "json"])
def test_report_to_a_closed_pipe_exits_141_quietly(
    repo: Path, log: Path, closed_pipe: int, args: list[str]
) -> None:
    """As `check` and `log` do: `report | head -1` ends with the status of a closed pipe, so a
    script with `set -o pipefail` sees that the report was not read whole."""
    log.parent.mkdir()
    log.write_text(HEADER + row_line() * 3)
    done = telemetry_csv("report", *args, cwd=repo, stdout=closed_pipe)
    assert (done.returncode, done.stderr) == (CLOSED_PIPE, "")


def test_report_with_a_closed_pipe_still_writes_the_job_summary(
    repo: Path, log: Path, closed_pipe: int, tmp_path: Path
) -> None:
    log.parent.mkdir()
    log.write_text(HEADER + row_line() * 3)
    summary = tmp_path / "step-summary.md"
    env = {**git_env(), "GITHUB_STEP_SUMMARY": str(summary)}
    done = subprocess.run(
        [str(BIN / "telemetry-csv"), "report", "--github-summary", "--no-costs"],
        cwd=repo, stdout=closed_pipe, stderr=subprocess.PIPE, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (CLOSED_PIPE, "")
    written = run_cli("report", "--no-costs", cwd=repo)
    assert written.returncode == 0 and summary.read_text() == written.stdout
