"""What the package does where an operating system lacks a call, run on every system: the
tests elsewhere that need POSIX are skipped on Windows with the reason (testing/platforms.py),
and these cover the same commands in ways every system can run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from telemetry_csv.capture import running
from testing.util import BIN, HEADER, git_env, row_line, rows, run_cli

OPTIONS = ["--model", "claude-3-opus", "--task-type", "verify"]


@pytest.mark.parametrize(
    ("status", "success"), [(0, "true"), (3, "false")], ids=["succeeds", "fails"]
)
def test_run_with_the_interpreter_as_the_command(
    repo: Path, log: Path, status: int, success: str
) -> None:
    script = f"import sys, time; time.sleep(0.2); print('out'); sys.exit({status})"
    started = time.monotonic()
    done = run_cli("run", *OPTIONS, "--", sys.executable, "-c", script, cwd=repo)
    elapsed_ms = (time.monotonic() - started) * 1000
    assert done.returncode == status, done.stderr
    assert done.stdout.splitlines() == ["out"]  # the command's own output, untouched
    [row] = rows(log)
    assert row[1] == "claude-3-opus" and row[4:6] == [success, "verify"]
    assert 200 <= int(row[6]) <= elapsed_ms


def test_run_a_command_that_is_not_there(repo: Path, log: Path) -> None:
    done = run_cli("run", *OPTIONS, "--", "no-such-command-xyz", cwd=repo)
    assert done.returncode == 127
    assert done.stderr == (
        "telemetry-csv run: error: cannot run 'no-such-command-xyz': command not found\n"
    )
    assert not log.exists()


def test_without_a_terminal_api_a_key_press_is_taken_as_typed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Windows has no os.tcgetpgrp: a console's Ctrl-C reaches every process attached to it,
    so `run` never forwards one (os.kill would end the command at once there)."""
    monkeypatch.delattr(os, "tcgetpgrp", raising=False)
    assert running._in_the_terminals_foreground() is True


def test_output_is_utf8_whatever_the_locale(repo: Path, log: Path) -> None:
    """A note or value in any script reaches a pipe as UTF-8, as the log holds it: on Windows
    Python would otherwise use the ANSI code page for a pipe; elsewhere the C locale is coerced
    to UTF-8."""
    log.parent.mkdir()
    log.write_bytes((HEADER + row_line(success="はい-✓", notes="naïve 日本語")).encode())
    env = {
        key: value for key, value in git_env().items() if not key.startswith(("PYTHONIO", "LC_"))
    }
    env.update(LANG="C", LC_ALL="C", PYTHONUTF8="0")
    done = subprocess.run(
        [str(BIN / "telemetry-csv"), "check"], cwd=repo, env=env, capture_output=True, check=False
    )
    assert done.returncode == 1
    text = done.stdout.decode("utf-8")  # strictly: every byte is UTF-8
    assert "task_success: 'はい-✓' is not allowed; expected true or false" in text
