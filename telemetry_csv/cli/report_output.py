"""Where `report` writes its text besides standard output: a file (`-o`), the job summary.

A report never lands on a log file: `-o .telemetry/usage.csv` (or a backup, a file given to
read, a link to one of them) would replace the rows with their own summary, so it is refused
before anything is read.

A regular file, or a new one, is replaced whole (a temporary file beside the real file, then a
rename), so a reader never sees half a report; a symlink is written through, and the file keeps
its mode. Anything else (a FIFO, a terminal, /dev/stdout, /dev/null) is opened and written like
a shell's `>` does: renaming a file over it would replace the pipe or the device itself.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from telemetry_csv import fs
from telemetry_csv.cli.output import shown_path
from telemetry_csv.errors import InvalidValueError


def refuse_log_files(option: str, target: str, logs: Iterable[Path]) -> None:
    """Raise InvalidValueError when `target` is the same file as one of `logs`."""
    try:
        info = os.stat(target)
    except OSError:
        return  # nothing there yet (or unreachable): it cannot be a log that exists
    for log in logs:
        try:
            log_info = os.stat(log)
        except OSError:
            continue
        if (log_info.st_dev, log_info.st_ino) == (info.st_dev, info.st_ino):
            raise InvalidValueError(
                option,
                target,
                f"it is {shown_path(log)}, a log file: the report would replace its rows; "
                "write the report to another file",
            )


def write_file(name: str, text: str) -> None:
    """Write `text` to the file `name`: replaced whole when it is a regular file or new,
    written into when it is a pipe or a device. Raises LogFileError when it cannot."""
    data = text.encode("utf-8")
    try:
        info: os.stat_result | None = os.stat(name)
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise fs.cannot("write", name, error) from None
    if info is None or stat.S_ISREG(info.st_mode):
        fs.replace(Path(os.path.realpath(name)), data, keep=info, shown=name)
        return
    try:
        with open(name, "wb") as stream:
            stream.write(data)
    except OSError as error:
        raise fs.cannot("write", name, error) from None


def append_markdown(name: str, text: str, what: str) -> None:
    """Append Markdown to the file `name` (the job summary, named `what` in errors), after a
    blank line when the file already holds something, so its first block starts afresh."""
    data = text.encode("utf-8")
    try:
        with open(name, "a+b") as stream:
            if stream.seekable():
                size = stream.seek(0, os.SEEK_END)
                stream.seek(max(size - 2, 0))
                tail = stream.read(2)
                if size and tail != b"\n\n" and tail != b"\n":
                    data = (b"\n" if tail.endswith(b"\n") else b"\n\n") + data
            stream.write(data)
    except OSError as error:
        raise fs.cannot("append to", f"{what} ({name})", error) from None
