"""`telemetry-csv run`: real commands in real subprocesses, real signals to real process groups."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.platforms import SHELL, SIGNALS, WINDOWS
from testing.util import BIN, FIXTURES, HEADER, git_env, row_line, rows, run_cli, shards

# Skipped before the parameters below name SIGHUP and SIGQUIT, which Windows lacks. `run` on
# every system, with the interpreter as the command: tests/test_platforms.py.
if WINDOWS:
    pytest.skip(f"Windows has no {SHELL}, nor {SIGNALS}, nor ptys", allow_module_level=True)

OPTIONS = ["--model", "claude-3-opus", "--task-type", "verify"]
# How long a command waits to be signalled; far longer than any test takes to signal it.
LONG = "30"


def start(repo: Path, *args: str, ignored: tuple[int, ...] = ()) -> subprocess.Popen[str]:
    """`telemetry-csv run ...` in a process group of its own, with the signal dispositions an
    interactive shell gives a foreground job (whatever this test process inherited), except
    for the `ignored` signals, as a script's `cmd &` or `nohup cmd` would leave them."""

    def dispositions() -> None:
        for number in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM):
            signal.signal(number, signal.SIG_IGN if number in ignored else signal.SIG_DFL)

    return subprocess.Popen(
        [str(BIN / "telemetry-csv"), "run", *args],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=git_env(),
        start_new_session=True,
        preexec_fn=dispositions,
    )


def wait_for(path: Path, process: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 20
    while not (path.exists() and path.read_text().endswith("\n")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)
    return path.read_text().strip()


@pytest.mark.parametrize(
    ("status", "success"), [(0, "true"), (1, "false"), (3, "false"), (255, "false")]
)
def test_exit_status_is_the_commands_and_decides_success(
    repo: Path, log: Path, status: int, success: str
) -> None:
    started = time.monotonic()
    done = run_cli("run", *OPTIONS, "--", "sh", "-c", f"exit {status}", cwd=repo)
    elapsed_ms = (time.monotonic() - started) * 1000
    assert done.returncode == status, done.stderr
    assert done.stdout == ""
    [row] = rows(log)
    assert row[1:6] == ["claude-3-opus", "0", "0", success, "verify"]
    assert row[6].isdigit() and int(row[6]) <= elapsed_ms  # measured, within what the test saw
    outcome = "success" if status == 0 else "failure"
    assert done.stderr == (
        f"telemetry-csv run: logged claude-3-opus verify {outcome} (exit {status}), 0 tokens, "
        f"{int(row[6]):,} ms to {shards(log)[0].relative_to(repo)}\n"
    )


def test_duration_is_the_measured_wall_time(repo: Path, log: Path) -> None:
    started = time.monotonic()
    done = run_cli("run", *OPTIONS, "--notes", "sleep", "--", "sleep", "0.3", cwd=repo)
    elapsed_ms = (time.monotonic() - started) * 1000
    assert done.returncode == 0, done.stderr
    duration = int(rows(log)[0][6])
    # At least the sleep; at most everything the test saw, start-up of Python included.
    assert 300 <= duration <= elapsed_ms
    assert duration < 300 + 1500, "more than 1.5 s of overhead around a 0.3 s sleep"


def test_standard_streams_are_the_commands(repo: Path, log: Path) -> None:
    done = run_cli(
        "run",
        *OPTIONS,
        "--",
        "sh",
        "-c",
        "cat; echo to-stderr >&2",
        cwd=repo,
        input="line 1\nline 2\n",
    )
    assert done.returncode == 0
    assert done.stdout == "line 1\nline 2\n"  # nothing of ours on standard output
    assert done.stderr.startswith("to-stderr\ntelemetry-csv run: logged ")
    quiet = run_cli("run", *OPTIONS, "-q", "--", "echo", "hi", cwd=repo)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "hi\n", "")
    assert len(rows(log)) == 2


def test_inherited_descriptors_stay_open_for_the_command(repo: Path, log: Path) -> None:
    # `cmd 3>file` in a shell: run must hand descriptor 3 on, as the shell would to cmd.
    script = f"'{BIN / 'telemetry-csv'}' run {' '.join(OPTIONS)} -- sh -c 'echo x >&3' 3>fd3.txt"
    done = subprocess.run(
        ["sh", "-c", script], cwd=repo, capture_output=True, text=True, env=git_env()
    )
    assert done.returncode == 0, done.stderr
    assert (repo / "fd3.txt").read_text() == "x\n"
    assert rows(log)[0][4] == "true"


def test_ctrl_c_reaches_the_command_and_the_row_is_logged(repo: Path, log: Path) -> None:
    ready = repo / "ready"
    process = start(repo, *OPTIONS, "--", "sh", "-c", f"echo $$ > ready; exec sleep {LONG}")
    wait_for(ready, process)
    os.killpg(process.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    _, err = process.communicate(timeout=20)
    # We die of SIGINT after logging, as the command did, so a calling shell stops too;
    # a shell shows that as $? = 130.
    assert process.returncode == -signal.SIGINT, err
    assert "telemetry-csv run: logged claude-3-opus verify failure (killed by SIGINT)" in err
    [row] = rows(log)
    assert row[4] == "false"


def test_ctrl_c_handled_by_the_command_is_its_decision(repo: Path, log: Path) -> None:
    # A command that treats Ctrl-C as "finish cleanly" exits 0, and so does run.
    script = 'trap "exit 0" INT; echo > ready; while :; do sleep 0.05; done'
    process = start(repo, *OPTIONS, "--", "sh", "-c", script)
    wait_for(repo / "ready", process)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert rows(log)[0][4] == "true"


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP], ids=lambda n: n.name)
def test_sigterm_and_sighup_to_run_alone_are_passed_on(
    repo: Path, log: Path, number: signal.Signals
) -> None:
    process = start(repo, *OPTIONS, "--", "sh", "-c", f"echo $$ > ready; exec sleep {LONG}")
    wait_for(repo / "ready", process)
    os.kill(process.pid, number)  # to run only, as a supervisor, `kill PID` or a lost ssh would
    _, err = process.communicate(timeout=20)
    assert process.returncode == 128 + number, err
    assert f"failure (killed by {number.name})" in err
    assert rows(log)[0][4] == "false"


@pytest.mark.parametrize(
    ("number", "status"),
    [(signal.SIGINT, -signal.SIGINT), (signal.SIGQUIT, 128 + signal.SIGQUIT)],
    ids=["SIGINT", "SIGQUIT"],
)
def test_sigint_and_sigquit_to_run_alone_are_passed_on(
    repo: Path, log: Path, number: signal.Signals, status: int
) -> None:
    # `kill -INT PID` with no terminal involved (a CI runner, a supervisor): only run gets it.
    # Swallowing it would let the command finish and log a success nobody wanted.
    process = start(repo, *OPTIONS, "--", "sh", "-c", "echo $$ > ready; exec sleep 5")
    wait_for(repo / "ready", process)
    os.kill(process.pid, number)
    _, err = process.communicate(timeout=20)
    assert process.returncode == status, err
    assert f"failure (killed by {number.name})" in err
    assert rows(log)[0][4] == "false"


@pytest.mark.parametrize(
    ("ignored", "send"),
    [
        (signal.SIGINT, lambda process: os.killpg(process.pid, signal.SIGINT)),  # script's `&`
        (signal.SIGHUP, lambda process: os.kill(process.pid, signal.SIGHUP)),  # nohup
    ],
    ids=["SIGINT-ignored-by-a-script-job", "SIGHUP-ignored-by-nohup"],
)
def test_signals_ignored_at_start_stay_ignored_for_the_command(
    repo: Path, log: Path, ignored: int, send
) -> None:
    process = start(
        repo, *OPTIONS, "--", "sh", "-c", f"echo $$ > ready; exec sleep {LONG}", ignored=(ignored,)
    )
    wait_for(repo / "ready", process)
    send(process)
    with pytest.raises(subprocess.TimeoutExpired):
        process.wait(timeout=0.3)  # neither run nor the command took any notice
    os.killpg(process.pid, signal.SIGTERM)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert rows(log)[0][4] == "false"


def test_command_killed_with_sigkill(repo: Path, log: Path) -> None:
    process = start(repo, *OPTIONS, "--", "sh", "-c", f"echo $$ > ready; exec sleep {LONG}")
    child = int(wait_for(repo / "ready", process))
    os.kill(child, signal.SIGKILL)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 128 + signal.SIGKILL, err
    assert "failure (killed by SIGKILL)" in err
    assert rows(log)[0][4] == "false"


def test_commands_that_cannot_start_exit_like_a_shell_and_log_nothing(
    repo: Path, log: Path
) -> None:
    plain = repo / "plain.sh"
    plain.write_text("echo hi\n")
    orphan = repo / "orphan.sh"
    orphan.write_text("#!/nonexistent/interpreter\necho hi\n")
    orphan.chmod(0o755)
    cases = [
        (["no-such-command-xyz"], 127, "cannot run 'no-such-command-xyz': command not found"),
        (["./missing.sh"], 127, "cannot run './missing.sh': no such file"),
        (["./plain.sh"], 126, "cannot run './plain.sh': permission denied"),
        (["./orphan.sh"], 126, "its interpreter (the #! line) or loader was not found"),
        ([str(repo)], 126, "permission denied"),
    ]
    for command, status, message in cases:
        done = run_cli("run", *OPTIONS, "--", *command, cwd=repo)
        assert done.returncode == status, (command, done.stderr)
        assert done.stderr.startswith("telemetry-csv run: error: cannot run ")
        assert message in done.stderr
        assert done.stderr.count("\n") == 1
    assert not log.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--model", "m"],
            "task_type is missing: give --task-type (plan|execute|verify|discuss|quick)",
        ),
        (["--task-type", "verify"], "model is missing: give --model, or --usage-json FILE"),
        (["--model", "m", "--task-type", "bogus"], "task_type: 'bogus' is not allowed"),
        (["--model", "a b", "--task-type", "plan"], "model: 'a b' is not allowed"),
        ([*OPTIONS, "--prompt-tokens", "1,500"], "prompt_tokens: '1,500' is not allowed"),
        ([*OPTIONS, "--max-bytes", "10"], "max_bytes: 10 is not allowed"),
        ([*OPTIONS, "--lock-timeout", "nan"], "--lock-timeout: 'nan' is not allowed"),
        ([*OPTIONS, "--usage-json", "-"], "--usage-json -: standard input belongs to the command"),
    ],
)
def test_bad_options_are_refused_before_the_command_runs(
    repo: Path, log: Path, options: list[str], message: str
) -> None:
    done = run_cli("run", *options, "--", "touch", "ran", cwd=repo)
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stderr.count("\n") == 1
    assert not (repo / "ran").exists()
    assert not log.exists()


def test_missing_separator_or_command(repo: Path) -> None:
    done = run_cli("run", *OPTIONS, "touch", "ran", cwd=repo)
    assert (done.returncode, done.stderr) == (
        2,
        "telemetry-csv run: error: put -- before the command, as in "
        "`telemetry-csv run [options] -- touch ran`\n",
    )
    done = run_cli("run", *OPTIONS, "--", cwd=repo)
    assert done.returncode == 2
    assert "the command is missing: put it after --" in done.stderr
    assert not (repo / "ran").exists()


def test_usage_json_written_by_the_command(repo: Path, log: Path) -> None:
    body = FIXTURES / "anthropic-stream.sse"
    done = run_cli(
        "run", "--task-type", "execute", "--usage-json", "out.sse", "--",
        "sh", "-c", f"cp '{body}' out.sse", cwd=repo,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [row] = rows(log)
    assert row[1:6] == ["claude-opus-4-1-20250805", "2073", "15", "true", "execute"]
    assert "note: prompt_tokens includes 2,048 cache-read tokens" in done.stderr
    # Options still win over the body, for run as for log.
    done = run_cli(
        "run", "--task-type", "execute", "--usage-json", "out.sse", "--model", "opus",
        "--completion-tokens", "99", "--", "sh", "-c", f"cp '{body}' out.sse; exit 4", cwd=repo,
    )  # fmt: skip
    assert done.returncode == 4
    assert rows(log)[1][1:6] == ["opus", "2073", "99", "false", "execute"]


def test_usage_json_problems_keep_the_commands_status(repo: Path, log: Path) -> None:
    log.parent.mkdir()
    log.write_text(HEADER + row_line())
    before = rows(log)
    stale = repo / "out.json"
    stale.write_bytes((FIXTURES / "openai-chat-completion.json").read_bytes())
    # The command leaves yesterday's body alone: its counts are not this run's.
    done = run_cli("run", "--task-type", "plan", "--usage-json", "out.json", "--", "true", cwd=repo)
    assert done.returncode == 0
    assert done.stderr == (
        "telemetry-csv run: error: not logged: --usage-json out.json: the command did not write "
        "it (unchanged since before it ran), so its counts are not this run's\n"
    )
    # The command fails before writing a body at all, and only the body could name the model.
    done = run_cli(
        "run", "--task-type", "plan", "--usage-json", "new.json", "--", "sh", "-c", "exit 7",
        cwd=repo,
    )  # fmt: skip
    assert done.returncode == 7
    assert done.stderr == (
        "telemetry-csv run: error: not logged: --usage-json new.json: cannot read it: No such "
        "file or directory; the command failed (exit 7) and only the response would have named "
        "the model: give --model too, so that such failures are logged\n"
    )
    # The command writes an API error instead of a response.
    error_body = FIXTURES / "anthropic-error.json"
    done = run_cli(
        "run", "--task-type", "plan", "--usage-json", "out.json", "--",
        "cp", str(error_body), "out.json", cwd=repo,
    )  # fmt: skip
    assert done.returncode == 0
    assert "not logged: --usage-json out.json: an API error" in done.stderr
    assert rows(log) == before


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("exit 7", "cannot read it: No such file or directory"),
        (f"cp '{FIXTURES / 'anthropic-error.json'}' out.json; exit 7", "an API error, not a"),
        ("cp out.json out.json.bak; exit 7", "the command did not write it"),
    ],
    ids=["no-body", "error-body", "untouched-body"],
)
def test_a_failed_command_without_a_usable_body_is_logged_as_a_failure(
    repo: Path, log: Path, script: str, reason: str
) -> None:
    # Dropping the row would leave only the successes in the log and inflate the success rate.
    (repo / "out.json").write_bytes((FIXTURES / "openai-chat-completion.json").read_bytes())
    if script.startswith("exit"):
        (repo / "out.json").unlink()
    options = ["--task-type", "plan", "--usage-json", "out.json", "--model", "gpt-4o"]
    done = run_cli("run", *options, "--prompt-tokens", "12", "--", "sh", "-c", script, cwd=repo)
    assert done.returncode == 7
    [row] = rows(log)
    assert row[1:6] == ["gpt-4o", "12", "0", "false", "plan"]
    note, confirmation = done.stderr.splitlines()
    assert note.startswith("telemetry-csv run: note: --usage-json out.json: ")
    assert reason in note
    assert note.endswith("; the command failed, so the failure is logged without the response")
    assert confirmation.startswith("telemetry-csv run: logged gpt-4o plan failure (exit 7), 12 ")


def test_a_successful_command_without_a_usable_body_is_still_refused(repo: Path, log: Path) -> None:
    # Its counts would be made up; a failure's row matters more than its counts, a success's not.
    options = ["--task-type", "plan", "--usage-json", "out.json", "--model", "gpt-4o"]
    done = run_cli("run", *options, "--", "true", cwd=repo)
    assert done.returncode == 0
    assert done.stderr == (
        "telemetry-csv run: error: not logged: --usage-json out.json: cannot read it: "
        "No such file or directory\n"
    )
    assert not log.exists()


def test_a_log_that_cannot_take_the_row_does_not_change_the_status(
    single_layout: Path, log: Path
) -> None:
    repo = single_layout
    torn = HEADER + row_line() + "2026-02-23T22:19:12+01:00,claude-3-opus,15"
    log.write_text(torn)
    done = run_cli("run", *OPTIONS, "--", "sh", "-c", "echo work; exit 5", cwd=repo)
    assert done.returncode == 5
    assert done.stdout == "work\n"
    assert done.stderr.startswith("telemetry-csv run: error: not logged: ")
    assert "the last line is torn" in done.stderr
    assert log.read_text() == torn


@contextlib.contextmanager
def on_a_terminal(repo: Path, *args: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`telemetry-csv run ARGS` with a pseudo-terminal as its controlling terminal, in the
    terminal's foreground process group: the line discipline turns a typed ^C into SIGINT for
    that whole group, run and the command alike. Yields the process and the terminal's end."""
    import fcntl
    import termios

    primary, secondary = os.openpty()

    def take_the_terminal() -> None:  # in the child, after setsid: make it our controlling tty
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    process = subprocess.Popen(
        [str(BIN / "telemetry-csv"), "run", *args],
        cwd=repo, stdin=secondary, stdout=secondary, stderr=secondary, env=git_env(),
        start_new_session=True, preexec_fn=take_the_terminal,
    )  # fmt: skip
    os.close(secondary)
    try:
        yield process, primary
    finally:
        os.close(primary)
        if process.poll() is None:
            process.kill()


def screen_until_logged(primary: int) -> bytes:
    """What the terminal showed, up to the end of run's `logged` line."""
    screen = b""
    while b"\n" not in screen.partition(b"logged")[2]:
        screen += os.read(primary, 4096)
    return screen


def test_ctrl_c_typed_at_a_real_terminal(repo: Path, log: Path) -> None:
    command = ["sh", "-c", f"echo $$ > ready; exec sleep {LONG}"]
    with on_a_terminal(repo, *OPTIONS, "--", *command) as (process, terminal):
        wait_for(repo / "ready", process)
        os.write(terminal, b"\x03")
        assert process.wait(timeout=20) == -signal.SIGINT
        screen = screen_until_logged(terminal)
    assert b"telemetry-csv run: logged claude-3-opus verify failure (killed by SIGINT)" in screen
    assert rows(log)[0][4] == "false"


def test_ctrl_c_typed_at_a_terminal_reaches_the_command_once(repo: Path, log: Path) -> None:
    # The terminal already sent it to the command: passing it on as well would make one Ctrl-C
    # count as two (many programs take a second one as "stop cleaning up, quit now").
    # Each SIGINT is counted in a Python handler, which runs as soon as the signal lands.
    script = (
        "import os, signal, time\n"
        "signal.signal(signal.SIGINT, lambda *_: open('got', 'a').write('INT\\n'))\n"
        "open('ready', 'w').write(f'{os.getpid()}\\n')\n"
        "deadline = time.monotonic() + 10\n"
        "while not os.path.exists('got') and time.monotonic() < deadline:\n"
        "    time.sleep(0.01)\n"
        "time.sleep(0.3)\n"  # time for a second SIGINT to arrive, if one were sent
    )
    with on_a_terminal(repo, *OPTIONS, "--", sys.executable, "-c", script) as (process, terminal):
        wait_for(repo / "ready", process)
        os.write(terminal, b"\x03")
        assert process.wait(timeout=20) == 0
        screen_until_logged(terminal)
    assert (repo / "got").read_text() == "INT\n"
    assert rows(log)[0][4] == "true"
