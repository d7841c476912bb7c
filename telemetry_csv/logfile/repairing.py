"""Moving a torn last line out of the log so that appends can go on, without deleting anything.

Under the log's lock, `repair_log` copies the bytes after the last newline into
`NAME.torn-YYYYMMDDTHHMMSSZ[-N]` beside the log (created exclusively, fsynced), and only then
truncates the log to its last newline; a crash between the steps leaves the fragment in both
places, never in neither. It moves only what an interrupted append leaves (a fragment after a
complete header, no longer than a row, without a carriage return) and refuses anything else,
changing nothing. docs/commands.md, "telemetry-csv repair", says what users see and why.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from telemetry_csv import fs
from telemetry_csv.errors import LogFileError
from telemetry_csv.logfile import layout, writing
from telemetry_csv.logfile.schema import EXTENDED_HEADER_LINE, HEADER_SHAPES, MAX_LINE_BYTES
from telemetry_csv.logfile.writing import DEFAULT_LOCK_TIMEOUT

_CHUNK = 1 << 16
_HEADERS = {header.encode() for header in HEADER_SHAPES}  # either shape (docs/format.md)


@dataclass(frozen=True)
class RepairResult:
    log_path: Path
    exists: bool  # False when there is no log (e.g. a crash between the renames of a rotation)
    torn_path: Path | None = None  # where the torn line was moved; None if nothing was torn
    line: int = 0  # the torn line's number in the log, 1-based
    size: int = 0  # how many bytes were moved


def repair_log(
    log_path: Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT, lock_of: Path | None = None
) -> RepairResult:
    """Move a torn last line of `log_path` aside; see the module docstring. `lock_of`: the log
    whose lock guards the file (a shard is written under its log's lock)."""
    if writing.current_size(log_path) is None:
        # Checked before locking, which would create the folder and a lock file for nothing.
        # A log that appears meanwhile has no torn line yet: repairing before it is the same.
        return RepairResult(log_path, exists=False)
    with writing.locked(lock_of or log_path, lock_timeout):
        size = writing.current_size(log_path)
        if size is None:
            return RepairResult(log_path, exists=False)
        try:
            with open(log_path, "rb") as file:
                start = _torn_line_start(file, size)
                if start is None:
                    return RepairResult(log_path, exists=True)
                _require_torn_write(file, log_path, start, size)
                line = _count_newlines(file, start) + 1
                torn_path = _move_aside(file, start, size, log_path)
        except OSError as error:
            raise fs.cannot("repair", log_path, error, "; the log was left as it was") from None
        _truncate(log_path, start)
        return RepairResult(log_path, True, torn_path, line, size - start)


def _torn_line_start(file: BinaryIO, size: int) -> int | None:
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


def _require_torn_write(file: BinaryIO, log_path: Path, start: int, size: int) -> None:
    """Refuse, changing nothing, unless the bytes from `start` are what an interrupted append
    leaves: a fragment of one row after a complete header."""
    nothing = "nothing was moved"
    if start == 0:
        file.seek(0)
        if b"\r" in file.read(_CHUNK):
            raise LogFileError(
                f"{log_path} has no newline at all but carriage returns: its lines end in CR "
                f"only; {nothing}. Convert them to LF (e.g. `tr '\\r' '\\n'`), then run "
                f"`telemetry-csv check {log_path}`"
            )
        raise LogFileError(
            f"{log_path} has no complete line, not even the header, so it is no log with a "
            f"torn last line; {nothing}. Look at it: move it away, then `telemetry-csv init` "
            "starts a new log"
        )
    file.seek(0)
    first = file.readline(len(codecs.BOM_UTF8) + len(EXTENDED_HEADER_LINE) + 2)
    first = first.removeprefix(codecs.BOM_UTF8).removesuffix(b"\n").removesuffix(b"\r")
    if first not in _HEADERS:
        raise LogFileError(
            f"{log_path}: the first line is not the header, so this may be no log; {nothing}. "
            f"Run `telemetry-csv check {log_path}` and fix the header first"
        )
    if size - start > MAX_LINE_BYTES:
        raise LogFileError(
            f"{log_path}: the {size - start:,} bytes after the last newline are longer than "
            f"any row (at most {MAX_LINE_BYTES:,} bytes), so they are no torn write; {nothing}. "
            "Look at the end of the file and fix it by hand"
        )
    file.seek(start)
    if b"\r" in file.read(size - start)[:-1]:
        raise LogFileError(
            f"{log_path}: the last line holds a carriage return, so it is more than one line "
            f"with CR endings, not a torn write; {nothing}. Convert them to LF, then run "
            f"`telemetry-csv check {log_path}`"
        )


def _count_newlines(file: BinaryIO, end: int) -> int:
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


def _move_aside(file: BinaryIO, start: int, size: int, log_path: Path) -> Path:
    torn_path, fd = _create_torn_file(log_path)
    try:
        file.seek(start)
        remaining = size - start
        while remaining > 0:
            chunk = file.read(min(_CHUNK, remaining))
            if not chunk:
                break
            fs.write_all(fd, chunk)
            remaining -= len(chunk)
        os.fsync(fd)
    except OSError:
        os.close(fd)
        os.unlink(torn_path)  # ours and incomplete; the log still holds every byte
        raise
    os.close(fd)
    fs.fsync_folder(log_path.parent)
    return torn_path


def _create_torn_file(log_path: Path) -> tuple[Path, int]:
    stamp = layout.utc_stamp()
    suffix = 0
    while True:
        name = f"{log_path.name}.torn-{stamp}" + (f"-{suffix}" if suffix else "")
        path = log_path.with_name(name)
        try:
            return path, fs.create_new(path)
        except FileExistsError:
            suffix += 1


def _truncate(log_path: Path, start: int) -> None:
    try:
        fd = os.open(log_path, os.O_WRONLY | fs.NOFOLLOW)
        try:
            os.ftruncate(fd, start)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as error:
        raise LogFileError(
            f"moved the torn line of {log_path} aside but cannot shorten the log: "
            f"{fs.reason(error)}; run `telemetry-csv repair` again"
        ) from None
