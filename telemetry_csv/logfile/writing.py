"""Writing the log: one locked, durable append per row, and rotation to backups before the limit.

Only `append_line` and `create_log` change the log, always under its lock (`locked`):

- an append is one `write` of the whole line with O_APPEND, then fsync, cut back if it fails
  part-way (`fs.append`);
- a new log (first use, or after rotation) is written to a temporary file, fsynced and renamed
  into place, so it appears whole or not at all;
- a rotation renames the full log to a new backup name that sorts after every existing one
  (`layout.unused_backup_path`), then puts the new log (header and the new row) in place, then
  fsyncs the folder. A crash between the two renames leaves the backup complete and no log,
  which the next append starts afresh; a read-only log is never rotated;
- the folder's `.gitignore` always covers the lock and temporary files, so neither can be
  committed, and a shared folder such as the repository root gets no `*.lock`. Taking the lock
  sees to the folder and its `.gitignore` first, for every locker;
- a log that is a symbolic link is refused, as logrotate does: a rotation renames the log, so
  it would move the link and leave the file it points to behind.

`append_line` reads only the header and the last byte, so its cost does not grow with the log.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from telemetry_csv import fs
from telemetry_csv.errors import LockTimeoutError, LogFileError
from telemetry_csv.logfile.layout import (
    lock_path,
    require_log_name,
    shard_folder,
    temporary_path,
    unused_backup_path,
)
from telemetry_csv.logfile.schema import HEADER_LINE

if TYPE_CHECKING:
    from filelock import BaseFileLock

HEADER_BYTES = (HEADER_LINE + "\n").encode()
DEFAULT_LOCK_TIMEOUT = 10.0  # seconds a writer waits for the lock
FOLDER_GITIGNORE = "# telemetry-csv: lock and temporary files are never committed\n*.lock\n.*.tmp\n"


@dataclass(frozen=True)
class AppendResult:
    path: Path
    line: str
    created: bool  # the log did not exist (or was empty) and was started with its header
    backup: Path | None  # where the full log was moved before this append, if it was


def require_log_path(log_path: Path) -> None:
    """Refuse, before any change, a log that is a directory, a device or a symbolic link, or
    whose name does not end in .csv."""
    current_size(log_path)
    require_log_name(log_path)


def ensure_folder(folder: Path, log_path: Path | None = None, *, shards: bool = False) -> bool:
    """Create the log's folder and make its .gitignore cover the lock and temporary files (with
    `shards`, also those of the log's shard folder); True if anything was created or changed.

    A folder created here is the log's own, so it gets the generic rules (`*.lock`, `.*.tmp`).
    In a folder that already existed (the repository root, say) only this log's two files are
    named, so that other `*.lock` files of the project are not ignored by accident.
    """
    created = False
    if not folder.is_dir():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise fs.cannot("create folder", folder, error) from None
        created = True
    ignore = folder / ".gitignore"
    try:
        text: str | None = ignore.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        text = None
    except OSError as error:
        raise fs.cannot("read", ignore, error) from None
    if text is None and (created or log_path is None):
        return fs.create_whole(ignore, FOLDER_GITIGNORE.encode()) or created
    if log_path is None:
        return created
    missing = _uncovered_names(text or "", log_path, shards)
    if not missing:
        return created
    block = "# telemetry-csv: lock and temporary files are never committed\n"
    block += "".join(f"/{name}\n" for name in missing)
    if text is None:
        # Another writer may create the file between our read and our link: complete it then.
        return fs.create_whole(ignore, block.encode()) or ensure_folder(
            folder, log_path, shards=shards
        )
    if text and not text.endswith("\n"):
        block = "\n" + block
    fs.append(ignore, block.encode())
    return True


def _uncovered_names(gitignore: str, log_path: Path, shards: bool) -> list[str]:
    """This log's lock and temporary file names (and, with `shards`, its shard folder's
    temporary files) that no line of `gitignore` names or globs."""
    rules = {line.strip() for line in gitignore.splitlines()}
    missing = []
    for name, generic in (
        (lock_path(log_path).name, "*.lock"),
        (temporary_path(log_path).name, ".*.tmp"),
    ):
        if not rules & {name, "/" + name, generic, "/" + generic}:
            missing.append(name)
    shard_temporaries = f"{shard_folder(log_path).name}/.*.tmp"
    if shards and not rules & {shard_temporaries, "/" + shard_temporaries, ".*.tmp"}:
        missing.append(shard_temporaries)
    return missing


def append_line(log_path: Path, line: str, *, max_bytes: int, lock_timeout: float) -> AppendResult:
    """Append one canonical line (without newline) to the log, rotating first if it would not fit."""
    data = (line + "\n").encode("utf-8")
    if len(HEADER_BYTES) + len(data) > max_bytes:
        raise LogFileError(
            f"the row is {len(data)} bytes, too long for a log of at most {max_bytes} bytes"
        )
    require_log_path(log_path)  # refused before any change
    with locked(log_path, lock_timeout):
        size = current_size(log_path)
        if size is None or size == 0:
            _install_new_log(log_path, HEADER_BYTES + data)
            return AppendResult(log_path, line, created=True, backup=None)
        _require_appendable(log_path, size)
        if size + len(data) > max_bytes:
            _require_writable(log_path)
            backup = unused_backup_path(log_path)
            _rotate(log_path, backup, HEADER_BYTES + data)
            return AppendResult(log_path, line, created=True, backup=backup)
        fs.append(log_path, data, advice="; the log was left as it was")
        return AppendResult(log_path, line, created=False, backup=None)


def create_log(log_path: Path, *, lock_timeout: float) -> bool:
    """Start an empty log (header only) unless one exists; True if it was created."""
    require_log_path(log_path)
    with locked(log_path, lock_timeout):
        if current_size(log_path) is not None:
            return False
        _install_new_log(log_path, HEADER_BYTES)
        return True


class locked:
    """The log's lock, for a change that must not race an append: `with locked(path, 10):`.
    Entering it creates the log's folder if needed and makes its .gitignore cover the lock;
    its errors are ones a user can act on."""

    def __init__(self, log_path: Path, timeout: float):
        from filelock import FileLock

        self.log_path = log_path
        self.path = lock_path(log_path)
        self.timeout = timeout
        self.lock: BaseFileLock = FileLock(str(self.path), timeout=timeout)

    def __enter__(self) -> None:
        from filelock import Timeout

        # filelock would create a missing folder itself, without the .gitignore that keeps the
        # lock file out of git.
        ensure_folder(self.log_path.parent, self.log_path)
        try:
            self.lock.acquire()
        except Timeout:
            raise LockTimeoutError(
                f"could not lock {self.path} within {self.timeout:g}s: another writer holds it; "
                "try again, or raise lock_timeout"
            ) from None
        except OSError as error:
            raise fs.cannot("create lock file", self.path, error) from None

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def replace_file(path: Path, content: bytes) -> None:
    """Replace a log file whole, atomically, keeping its permission bits. A symbolic link is
    refused rather than replaced by a file."""
    info = _regular(path)
    if info is None:
        raise LogFileError(f"cannot read {path}: No such file or directory")
    _install_new_log(path, content, info)


def current_size(log_path: Path) -> int | None:
    """The log's size, or None if there is none; LogFileError if it is not a regular file (a
    symbolic link included, even a dangling one: writing would replace the link by a file)."""
    info = _regular(log_path)
    return None if info is None else info.st_size


def _regular(path: Path) -> os.stat_result | None:
    try:
        return fs.lstat_regular(path)
    except fs.LinkError as error:
        raise LogFileError(
            f"{error}; nothing was written: telemetry-csv writes only a regular file, since "
            "rotating a log renames it. Set `log` (or --file) to the file itself"
        ) from None


def _require_appendable(log_path: Path, size: int) -> None:
    """Refuse to append to a log whose header is wrong or whose last line is torn."""
    try:
        with open(log_path, "rb") as file:
            head = file.read(len(HEADER_BYTES))
            file.seek(size - 1)
            last = file.read(1)
    except OSError as error:
        raise fs.cannot("read", log_path, error) from None
    if head != HEADER_BYTES:
        raise LogFileError(
            f"{log_path}: the first line is not the expected header; nothing was written. "
            f"Run `telemetry-csv check {log_path}` to see what is wrong"
        )
    if last != b"\n":
        raise LogFileError(
            f"{log_path}: the last line is torn (no final newline); nothing was written. "
            f"Run `telemetry-csv check {log_path}`, then `telemetry-csv repair` to move it aside"
        )


def _require_writable(log_path: Path) -> None:
    """A read-only log is left alone: renaming it to a backup needs only the folder's permission,
    but would still change what the user protected."""
    try:
        os.close(os.open(log_path, os.O_WRONLY | os.O_APPEND | fs.NOFOLLOW))
    except OSError as error:
        raise fs.cannot("write", log_path, error, "; the log was left as it was") from None


def _install_new_log(log_path: Path, content: bytes, keep: os.stat_result | None = None) -> None:
    """Put a complete new log in place atomically. We hold the lock, so a temporary file of ours
    already there is a crash's leftover."""
    fs.replace(log_path, content, temporary=temporary_path(log_path), keep=keep)


def _rotate(log_path: Path, backup: Path, content: bytes) -> None:
    temporary = temporary_path(log_path)
    fs.remove_quietly(temporary)  # we hold the lock: a crash's leftover
    fs.write_new_file(temporary, content)
    try:
        os.rename(log_path, backup)
    except OSError as error:
        fs.remove_quietly(temporary)
        raise fs.cannot(f"back up {log_path} to", backup.name, error) from None
    try:
        os.rename(temporary, log_path)
    except OSError as error:
        fs.remove_quietly(temporary)
        fs.fsync_folder(log_path.parent)  # the backup, at least, is made durable
        raise LogFileError(
            f"backed up {log_path} to {backup.name} but cannot start a new log: "
            f"{fs.reason(error)}; the next append will start it"
        ) from None
    fs.fsync_folder(log_path.parent)
