"""`run_command`: the library under `telemetry-csv run`, called in this process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from telemetry_csv.capture.running import (
    EXIT_NOT_FOUND,
    CommandNotStartedError,
    CommandResult,
    run_command,
)
from testing.platforms import SHELL, SIGNALS, posix_only


@posix_only(f"{SHELL}, nor {SIGNALS}")
def test_exit_status_and_signal() -> None:
    exited = run_command(["sh", "-c", "exit 9"])
    assert (exited.returncode, exited.exit_status, exited.signal, exited.succeeded) == (
        9, 9, None, False,
    )  # fmt: skip
    assert exited.describe() == "exit 9"
    killed = run_command(["sh", "-c", "kill -TERM $$"])
    assert (killed.returncode, killed.exit_status, killed.signal) == (
        -signal.SIGTERM, 128 + signal.SIGTERM, signal.SIGTERM,
    )  # fmt: skip
    assert killed.describe() == "killed by SIGTERM"
    assert run_command(["true"]).succeeded


def test_handlers_are_put_back() -> None:
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    run_command([sys.executable, "-c", "pass"])
    with pytest.raises(CommandNotStartedError):
        run_command(["no-such-command-xyz"])
    assert {number: signal.getsignal(number) for number in before} == before


def test_not_found_carries_the_shell_status() -> None:
    with pytest.raises(CommandNotStartedError) as caught:
        run_command(["no-such-command-xyz", "arg"])
    assert caught.value.exit_code == EXIT_NOT_FOUND
    assert str(caught.value) == "cannot run 'no-such-command-xyz': command not found"


SLEEP = [sys.executable, "-c", "import time; time.sleep(0.05)"]


def test_from_another_thread() -> None:
    # Only the main thread may set signal handlers; elsewhere the command still runs and is timed.
    results: list[CommandResult] = []
    thread = threading.Thread(target=lambda: results.append(run_command(SLEEP)))
    thread.start()
    thread.join()
    assert results[0].succeeded
    assert results[0].duration_ms >= 50


FOREGROUND_CHECK = """
import os, sys
from telemetry_csv.capture.running import _in_the_terminals_foreground
if sys.argv[1] == "own-group":  # a job put in the background: a group of its own, same terminal
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        print(_in_the_terminals_foreground(), flush=True)
        os._exit(0)
    os.waitpid(pid, 0)
else:
    print(_in_the_terminals_foreground(), flush=True)
"""


@pytest.mark.parametrize(
    ("terminal", "where", "typed"),
    [
        (True, "foreground", "True"),  # Ctrl-C went to our whole group: the command has it
        (True, "own-group", "False"),  # not our group's key press: someone sent it to us
        (False, "no-terminal", "False"),  # a supervisor or CI runner: only we got it
    ],
)
@posix_only(f"{SIGNALS}, nor controlling terminals (os.openpty, TIOCSCTTY)")
def test_a_typed_signal_is_told_by_the_terminals_foreground_group(
    terminal: bool, where: str, typed: str
) -> None:
    import fcntl
    import termios

    primary, secondary = os.openpty()

    def new_session() -> None:  # after setsid; with a terminal, make it the controlling one
        if terminal:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    try:
        done = subprocess.run(
            [sys.executable, "-c", FOREGROUND_CHECK, where],
            stdin=secondary if terminal else subprocess.DEVNULL,
            capture_output=True, text=True, timeout=20,
            start_new_session=True, preexec_fn=new_session,
        )  # fmt: skip
    finally:
        os.close(primary)
        os.close(secondary)
    assert (done.returncode, done.stdout.strip()) == (0, typed), done.stderr
