"""Running a command the way a shell would, and measuring its wall time.

The command inherits standard input, output and error (and any other descriptor we were handed
open, as a shell passes them on) and stays in our process group, so it owns the terminal
exactly as if it had been typed: Ctrl-C and Ctrl-\\ reach it from the terminal driver. We
survive those while it runs (so we can log after it stops) and pass on the signals the command
would not otherwise get: SIGTERM and SIGHUP, which are usually sent to one process rather than
to the group, and SIGINT and SIGQUIT when they did not come from the terminal's keys (`kill -INT
PID`, a CI runner or a supervisor). Signals that were ignored when we started stay ignored, for
us and for the command, as a shell keeps them for its children.

On Windows there are no process groups, controlling terminals, SIGQUIT or SIGHUP: a console's
Ctrl-C and Ctrl-Break reach every process attached to it, the command included, so we only
survive them (SIGINT, SIGBREAK) and pass nothing on; and `os.kill` with any signal but the
two console events would end the command at once (TerminateProcess), so nothing typed is ever
forwarded there. A command cannot be "killed by a signal" there either: its exit status is
its own (0xC000013A after Ctrl-C).

With `capture_output` (`run --from-output`), the command's standard output is a pipe that we copy,
chunk by chunk as it comes, to our own standard output while keeping a copy (up to
`MAX_CAPTURED` bytes): what the user sees is what the command printed, as through `tee`. If our
standard output goes away, the pipe is closed too, so the command meets the closed pipe it would
have met without us.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import FrameType

from telemetry_csv import fs
from telemetry_csv.errors import TelemetryError

EXIT_NOT_EXECUTABLE = 126  # as POSIX shells report a command found but not runnable
EXIT_NOT_FOUND = 127
MAX_CAPTURED = 256 * 1024 * 1024  # far above any agent's JSON output; the rest passes through
_CHUNK = 1 << 16

# Sent by the terminal's keys to the whole foreground process group, the command included;
# passed on only when they came some other way.
_KEYS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGQUIT", "SIGBREAK") if hasattr(signal, name)
)
# Often sent to one process (a supervisor, `kill PID`, a closed ssh session): passed on.
_FORWARDED = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class CommandNotStartedError(TelemetryError):
    """The command could not be started; `exit_code` is what a shell would return."""


@dataclass(frozen=True)
class CommandResult:
    returncode: int  # as subprocess reports it: negative for a signal
    duration_ms: int  # wall time from start to exit, by the monotonic clock
    output: bytes | None = None  # its standard output, when captured (None if over the limit)

    @property
    def signal(self) -> int | None:
        """The signal that ended the command, if one did."""
        return -self.returncode if self.returncode < 0 else None

    @property
    def exit_status(self) -> int:
        """The status a shell would show in `$?`: 128 + N for a command killed by signal N."""
        return 128 - self.returncode if self.returncode < 0 else self.returncode

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        if self.signal is not None:
            return f"killed by {signal_name(self.signal)}"
        return f"exit {self.returncode}"


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def run_command(command: Sequence[str], *, capture_output: bool = False) -> CommandResult:
    """Run `command` (found on PATH like a shell would) in the foreground, and time it; with
    `capture_output`, also keep what it prints on standard output (which still reaches ours).

    Raises CommandNotStartedError, with the shell's exit status 127 or 126, if it cannot start.
    """
    if not command:
        raise CommandNotStartedError("no command given")
    with _signals_for_the_command() as child:
        start = time.monotonic()
        try:
            # Descriptors the caller handed on (`cmd 3>file`) stay open for the command, as a
            # shell leaves them; Python's own are non-inheritable, so nothing of ours leaks.
            process = subprocess.Popen(
                list(command),
                close_fds=False,
                stdout=subprocess.PIPE if capture_output else None,
            )
        except FileNotFoundError:
            raise _not_found(command[0]) from None
        except PermissionError:
            raise _not_started(command[0], EXIT_NOT_EXECUTABLE, "permission denied") from None
        except OSError as error:
            raise _not_started(command[0], EXIT_NOT_EXECUTABLE, fs.reason(error)) from None
        child.started(process)
        output = _tee(process.stdout.fileno()) if process.stdout is not None else None
        if process.stdout is not None:
            process.stdout.close()
        returncode = process.wait()
        end = time.monotonic()
    return CommandResult(returncode, round((end - start) * 1000), output)


def _tee(source: int) -> bytes | None:
    """Copy everything from `source` to our standard output as it comes, keeping a copy; None
    when there was more than `MAX_CAPTURED`. Stops at the end of the pipe, or when our standard
    output cannot be written (closed, or its reader gone): the caller then closes the pipe."""
    kept: list[bytes] = []
    size = 0
    while True:
        chunk = os.read(source, _CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size <= MAX_CAPTURED:
            kept.append(chunk)
        try:
            fs.write_all(1, chunk)
        except OSError:
            break
    return b"".join(kept) if size <= MAX_CAPTURED else None


def _not_found(name: str) -> CommandNotStartedError:
    # The file may exist while the interpreter on its `#!` line does not: the same errno.
    found = os.path.exists(name) if os.sep in name else shutil.which(name) is not None
    if found:
        return _not_started(
            name, EXIT_NOT_EXECUTABLE, "its interpreter (the #! line) or loader was not found"
        )
    reason = "no such file" if os.sep in name else "command not found"
    return _not_started(name, EXIT_NOT_FOUND, reason)


def _not_started(name: str, status: int, reason: str) -> CommandNotStartedError:
    error = CommandNotStartedError(f"cannot run {name!r}: {reason}")
    error.exit_code = status
    return error


class _Child:
    """The running command, as far as our signal handlers need to know it."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.pending: list[int] = []  # forwarded signals that arrived before it started

    def started(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        for number in self.pending:
            self.forward(number)
        self.pending.clear()

    def forward(self, number: int, frame: FrameType | None = None) -> None:
        if self.process is None:
            self.pending.append(number)
        elif self.process.returncode is None:  # not yet reaped, so the pid is still its own
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, number)

    def forward_unless_typed(self, number: int, frame: FrameType | None = None) -> None:
        """Pass on a Ctrl-C or Ctrl-\\ unless the terminal sent it to the command already, so
        that one key press never reaches it twice; either way we stay alive to log."""
        if self.process is not None and _in_the_terminals_foreground():
            return
        self.forward(number)


def _in_the_terminals_foreground() -> bool:
    """Whether our process group is the foreground one of our controlling terminal, so that a
    SIGINT or SIGQUIT we get was (as far as can be told) typed, and the command got it too.

    A signal handler cannot see who sent the signal; this is what uv does (astral-sh/uv#13925).
    The controlling terminal is asked rather than standard input, which may be redirected.
    On Windows (no controlling terminal, no process groups) a console's Ctrl-C or Ctrl-Break
    reaches every process attached to it, so it is always taken as typed.
    """
    if not hasattr(os, "tcgetpgrp"):
        return True
    try:
        terminal = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False  # no controlling terminal: a process sent it, to us alone
    try:
        return os.tcgetpgrp(terminal) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(terminal)


@contextlib.contextmanager
def _signals_for_the_command() -> Iterator[_Child]:
    child = _Child()
    if threading.current_thread() is not threading.main_thread():
        yield child  # only the main thread may set handlers; the defaults stay
        return
    # Handlers, not SIG_IGN: a caught signal is reset to its default in the command at exec,
    # whereas an ignored one would stay ignored there and Ctrl-C would no longer stop it.
    # A signal that was already ignored when we started (SIGINT for a job started with `&`
    # by a script, SIGHUP under nohup) stays ignored, for us and for the command.
    previous = {number: signal.getsignal(number) for number in (*_KEYS, *_FORWARDED)}
    try:
        for number in (*_KEYS, *_FORWARDED):
            if previous[number] != signal.SIG_IGN:
                handler = child.forward_unless_typed if number in _KEYS else child.forward
                signal.signal(number, handler)
        yield child
    finally:
        for number, old in previous.items():
            signal.signal(number, old if old is not None else signal.SIG_DFL)
