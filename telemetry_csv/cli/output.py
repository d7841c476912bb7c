"""Writing to the user: every line the commands and the hooks print goes through `say`
(standard error) or `show` (standard output), which pass it through `messages.safe`: no
credential, no terminal control sequence, no invisible character reaches the screen, whatever
the line quotes (only a report's own text, already escaped for Markdown, goes out unchanged).

Standard error carries only diagnostics, so losing it (`2>&-`, a closed pipe) must never change
an outcome or an exit status: `say` drops what cannot be written. Standard output is the
command's result; a closed one ends the command with `EXIT_CLOSED_PIPE` (see cli/main.py).
Once a command has done its work (`log` appended the row), `show_done` makes a standard output
that cannot be written (a full disk) a note, not a failure: a script that retried would log the
row twice.
"""

from __future__ import annotations

import codecs
import io
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from telemetry_csv.capture.appending import LoggedRow


def notes(logged: LoggedRow, notices: Iterable[str] = ()) -> list[str]:
    """What the user should hear about a row before its confirmation: `notices` (say, from a
    response body), what normalising the values changed, and a backup of a full log."""
    lines = [*notices, *logged.notices]
    if logged.backup is not None:
        lines.append(backup_note(logged.backup, logged.header_changed))
    return lines


def backup_note(backup: Path, header_changed: bool) -> str:
    """Why the log was backed up before an append, and where to."""
    if header_changed:
        return (
            f"the log has the 8-column header, without the source and cache columns this row "
            f"fills; backed it up to {shown_path(backup)} and started a new log with the "
            "extended header (docs/format.md)"
        )
    return f"the log was full; backed it up to {shown_path(backup)} and started a new one"


def confirmation(logged: LoggedRow, how: str | None = None) -> str:
    """`logged MODEL TYPE success, N tokens, N ms to PATH`, with `how` (for `run`, how the
    command ended) after the outcome."""
    row = logged.row
    outcome = "success" if row.task_success else "failure"
    if how:
        outcome += f" ({how})"
    return (
        f"logged {row.model} {row.task_type} {outcome}, {row.total_tokens:,} tokens, "
        f"{row.duration_ms:,} ms to {shown_path(logged.path)}"
    )


def utf8_streams() -> None:
    """Write UTF-8, as the log itself is, whatever the locale says about standard output and
    error: a note or model name in another script must never end in a UnicodeEncodeError.

    Windows encodes a pipe or a file (`report > report.md`) in the ANSI code page (cp1252,
    say); a POSIX system in the C locale with UTF-8 mode off, or a Latin-1 locale, would refuse
    most scripts too. A stream that is UTF-8 already (a Windows console, PEP 528; most
    locales) is left alone, and so is an explicit PYTHONIOENCODING: the user's choice.
    """
    if os.environ.get("PYTHONIOENCODING"):
        return
    for stream in (sys.stdout, sys.stderr):
        if not isinstance(stream, io.TextIOWrapper) or not stream.encoding:
            continue
        if codecs.lookup(stream.encoding).name != "utf-8":
            stream.reconfigure(encoding="utf-8", errors=stream.errors)


def say(line: str) -> None:
    """Write a message on standard error, made safe, if anyone can read it; otherwise drop it
    quietly."""
    stream = sys.stderr
    if stream is None:  # descriptor 2 was closed when we started (`2>&-`)
        return
    from telemetry_csv.messages import safe

    try:
        stream.write(safe(line) + "\n")
        stream.flush()
    except (OSError, ValueError):
        silence(stream)


def show(line: str) -> None:
    """Write a line of a command's result on standard output, made safe. A closed pipe or a full
    disk raises (OSError), for cli/main.py to turn into an exit status."""
    from telemetry_csv.messages import safe

    sys.stdout.write(safe(line) + "\n")


def show_done(line: str, prog: str, what: str) -> None:
    """`show` a line after the command's work is done and cannot be undone (`what`: "the row
    was logged"): standard output that fails for any reason but a closed pipe is then said
    on standard error (`PROG: note: …`), and the command still succeeds."""
    try:
        show(line)
        sys.stdout.flush()
    except BrokenPipeError:
        raise  # the documented closed-pipe status; what was done stays done
    except OSError as error:
        silence(sys.stdout)
        reason = error.strerror or str(error)
        say(f"{prog}: note: {what}, but standard output cannot be written: {reason}")


def silence(stream: TextIO | None) -> None:
    """Point a stream whose reader has gone at the null device, so that what is still buffered
    in it goes nowhere instead of failing again when Python flushes it at exit (which would
    print a complaint and change the exit status to 120)."""
    if stream is None:
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, stream.fileno())
        finally:
            os.close(null)
    except (OSError, ValueError):
        pass


def shown_path(path: Path | str) -> str:
    """A path as the user would type it from here: relative unless that means climbing far."""
    text = os.fspath(path)
    if not os.path.isabs(text):
        return text
    relative = os.path.relpath(text)
    ups = relative.split(os.sep).count(os.pardir)
    return relative if ups <= 3 else text
