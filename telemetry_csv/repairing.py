"""Moving a torn last line out of the log so that appends can go on, without deleting anything.

A line is torn when the file does not end with a newline: a write was cut short (a crash, a
full disk whose clean-up failed) or the file was edited by hand. `log` refuses to append after
it, because the next row would be glued to the fragment. `repair_log`, under the log's lock:

1. copies the bytes after the last newline into `usage.csv.torn-YYYYMMDDTHHMMSSZ[-N]` next to
   the log (created exclusively, fsynced, folder fsynced);
2. only then truncates the log to its last newline and fsyncs it.

A crash between the steps leaves the fragment in both places; running `repair` again moves it
to a second file. Either way nothing is lost. The torn file is not a `.csv`, so `check`,
`report` and the hooks never read it as a log, and it is not git-ignored, so `git status` shows
it until the user has looked at it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from telemetry_csv import store
from telemetry_csv.errors import LogFileError
from telemetry_csv.schema import HEADER_LINE

_CHUNK = 1 << 16


@dataclass(frozen=True)
class RepairResult:
    log_path: Path
    exists: bool  # False when there is no log (e.g. a crash between the renames of a rotation)
    torn_path: Path | None = None  # where the torn line was moved; None if nothing was torn
    line: int = 0  # the torn line's number in the log, 1-based
    size: int = 0  # how many bytes were moved


def repair_log(log_path: Path, *, lock_timeout: float = 10.0) -> RepairResult:
    """Move a torn last line of `log_path` aside; see the module docstring."""
    with store.locked(log_path, lock_timeout):
        try:
            size = os.stat(log_path).st_size
        except FileNotFoundError:
            return RepairResult(log_path, exists=False)
        except OSError as error:
            raise LogFileError(f"cannot read {log_path}: {error.strerror or error}") from None
        try:
            with open(log_path, "rb") as file:
                start = _torn_line_start(file, size)
                if start is None:
                    return RepairResult(log_path, exists=True)
                line = _count_newlines(file, start) + 1
                torn_path = _move_aside(file, start, size, log_path)
        except OSError as error:
            raise LogFileError(
                f"cannot repair {log_path}: {error.strerror or error}; the log was left as it was"
            ) from None
        _truncate(log_path, start)
        return RepairResult(log_path, True, torn_path, line, size - start)


def _torn_line_start(file, size: int) -> int | None:
    """The offset where the last line starts if it has no newline; None if the file ends well."""
    if size == 0:
        return None
    file.seek(size - 1)
    if file.read(1) == b"\n":
        return None
    end = size
    while end > 0:
        begin = max(0, end - _CHUNK)
        file.seek(begin)
        newline = file.read(end - begin).rfind(b"\n")
        if newline >= 0:
            return begin + newline + 1
        end = begin
    return 0


def _count_newlines(file, end: int) -> int:
    file.seek(0)
    count = 0
    remaining = end
    while remaining > 0:
        chunk = file.read(min(_CHUNK * 16, remaining))
        if not chunk:
            break
        count += chunk.count(b"\n")
        remaining -= len(chunk)
    return count


def _move_aside(file, start: int, size: int, log_path: Path) -> Path:
    torn_path, fd = _create_torn_file(log_path)
    try:
        file.seek(start)
        remaining = size - start
        while remaining > 0:
            chunk = file.read(min(_CHUNK, remaining))
            if not chunk:
                break
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
            remaining -= len(chunk)
        os.fsync(fd)
    except OSError:
        os.close(fd)
        os.unlink(torn_path)  # ours and incomplete; the log still holds every byte
        raise
    os.close(fd)
    store.fsync_folder(log_path.parent)
    return torn_path


def _create_torn_file(log_path: Path) -> tuple[Path, int]:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    suffix = 0
    while True:
        name = f"{log_path.name}.torn-{stamp}" + (f"-{suffix}" if suffix else "")
        path = log_path.with_name(name)
        try:
            return path, os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            suffix += 1


def _truncate(log_path: Path, start: int) -> None:
    try:
        if start == 0:
            # The whole file was one torn line (not even a header): start a proper empty log.
            store.replace_file(log_path, (HEADER_LINE + "\n").encode())
            return
        fd = os.open(log_path, os.O_WRONLY)
        try:
            os.ftruncate(fd, start)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as error:
        raise LogFileError(
            f"moved the torn line of {log_path} aside but cannot shorten the log: "
            f"{error.strerror or error}; run `telemetry-csv repair` again"
        ) from None
