"""Writing the log: one locked, durable append per batch of rows, and rotation to backups before
the limit or where the header changes.

Only `append_rows` (`append_rows_held` under a lock the caller holds) and `create_log` change the
log, always under its lock (`locked`):

- an append is one `write` of the whole batch of lines with O_APPEND, then fsync, cut back if it
  fails part-way (`fs.append`);
- the log's header decides the shape of the lines written to it (docs/format.md): a log with the
  original 8-column header keeps getting 8-column lines, and is never rewritten; a row with
  source or cache values cannot be written there, so such a row starts a new log with the
  extended header, by a rotation ("a rotation is the point where the header changes"). Every
  new log gets the extended header;
- a new log (first use, or after rotation) is written to a temporary file of an unguessable
  name (`fs.NewFile`), fsynced and renamed into place, so it appears whole or not at all;
- a rotation renames the full log to a new backup name that sorts after every existing one
  (`layout.unused_backup_path`), then puts the new log (header and the new row) in place, then
  fsyncs the folder. A crash between the two renames leaves the backup complete and no log,
  which the next append starts afresh; a read-only log is never rotated;
- the folder's `.gitignore` always covers the lock and temporary files, so neither can be
  committed, and a shared folder such as the repository root gets no `*.lock`. Taking the lock
  sees to the folder and its `.gitignore` first, for every locker;
- a log that is a symbolic link is refused, as logrotate does: a rotation renames the log, so
  it would move the link and leave the file it points to behind. So are a link at the lock,
  the .gitignore or a temporary file's name: nothing is ever written through a link (fs.py).

An append reads only the header and the last byte, so its cost does not grow with the log.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from telemetry_csv import fs
from telemetry_csv.errors import LockTimeoutError, LogFileError
from telemetry_csv.logfile.layout import (
    lock_path,
    require_log_name,
    shard_folder,
    unused_backup_path,
)
from telemetry_csv.logfile.schema import EXTENDED_HEADER_LINE, HEADER_LINE, Row, Schema

if TYPE_CHECKING:
    from filelock import BaseFileLock

HEADER_BYTES = (HEADER_LINE + "\n").encode()  # the original 8-column header
EXTENDED_HEADER_BYTES = (EXTENDED_HEADER_LINE + "\n").encode()  # what every new log starts with
DEFAULT_LOCK_TIMEOUT = 10.0  # seconds a writer waits for the lock
GITIGNORE_LIMIT = 1 << 20  # a .gitignore larger than this is no .gitignore of ours
FOLDER_GITIGNORE = "# telemetry-csv: lock and temporary files are never committed\n*.lock\n.*.tmp\n"


class AppendResult(NamedTuple):
    """What an append wrote, and where. (A named tuple, not a dataclass: creating a dataclass
    costs `log`'s start-up more than this whole module.)"""

    path: Path
    lines: tuple[str, ...]  # as written, in the shape of the file each went to
    created: bool  # a new log was started (none, an empty one, a rotation) with its header
    backups: tuple[Path, ...] = ()  # where full logs were moved during this append, in order
    header_changed: bool = False  # the first backup was of an 8-column log these rows outgrew

    @property
    def line(self) -> str:
        """The last line written."""
        return self.lines[-1]

    @property
    def backup(self) -> Path | None:
        """Where the log was first moved during this append, if it was."""
        return self.backups[0] if self.backups else None


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
        data = fs.read_bounded(ignore, GITIGNORE_LIMIT)  # a link is refused: we add to it
    except fs.LinkError as error:
        raise LogFileError(
            f"{error}; nothing was written: telemetry-csv adds its rules to this file, so it "
            "must be a regular file"
        ) from None
    text = None if data is None else data.decode("utf-8", "replace")
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
        (fs.temporary_glob(log_path), ".*.tmp"),
    ):
        if not rules & {name, "/" + name, generic, "/" + generic}:
            missing.append(name)
    shard_temporaries = f"{shard_folder(log_path).name}/.*.tmp"
    if shards and not rules & {shard_temporaries, "/" + shard_temporaries, ".*.tmp"}:
        missing.append(shard_temporaries)
    return missing


def append_rows(
    log_path: Path, rows: Sequence[Row], schema: Schema, *, max_bytes: int, lock_timeout: float
) -> AppendResult:
    """Append valid rows to the log in one locked batch; see `append_rows_held`."""
    if not rows:
        raise ValueError("no rows to append")
    require_fit(rows, schema, max_bytes)  # refused before any change
    require_log_path(log_path)
    with locked(log_path, lock_timeout):
        return append_rows_held(log_path, rows, schema, max_bytes=max_bytes)


def append_rows_held(
    log_path: Path, rows: Sequence[Row], schema: Schema, *, max_bytes: int
) -> AppendResult:
    """`append_rows` for a caller that holds the log's lock already (`locked`).

    The rows go to the end of the log, in the log's shape, in one write; rows that would take it
    past `max_bytes` go to a new log, after a rotation; a row with source or cache values, for a
    log with the 8-column header, starts a new log with the extended header the same way. A
    failure leaves every file as it was before the step that failed (a rotation already done
    stays done).
    """
    require_fit(rows, schema, max_bytes)
    require_log_path(log_path)
    size = current_size(log_path)
    rotate = False  # the next lines go to a new log that replaces this one
    extended = True
    if size:
        extended = _require_appendable(log_path, size)
        # A row with extra values changes the header: the 8-column log is kept whole as a backup.
        rotate = not extended and any(row.has_extras for row in rows)
    header_changed = rotate
    created = False
    backups: list[Path] = []
    written: list[str] = []
    pending = list(rows)
    while pending:
        if size and not rotate:
            lines = lines_that_fit(pending, schema, extended, max_bytes - size)
            if lines:
                data = lines_data(lines)
                fs.append(log_path, data, advice="; the log was left as it was")
                size += len(data)
                written += lines
                del pending[: len(lines)]
                continue
            rotate = True  # full
        lines = lines_that_fit(pending, schema, True, max_bytes - len(EXTENDED_HEADER_BYTES))
        content = EXTENDED_HEADER_BYTES + lines_data(lines)
        _remove_leftovers(log_path)
        if size and rotate:
            _require_writable(log_path)
            backups.append(_rotate(log_path, unused_backup_path(log_path), content))
        else:
            _install_new_log(log_path, content)
        size, rotate, extended, created = len(content), False, True, True
        written += lines
        del pending[: len(lines)]
    return AppendResult(log_path, tuple(written), created, tuple(backups), header_changed)


def lines_data(lines: Sequence[str]) -> bytes:
    """Lines as a log stores them: UTF-8, each ending in a newline."""
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def lines_that_fit(rows: Sequence[Row], schema: Schema, extended: bool, room: int) -> list[str]:
    """The canonical lines, in the shape `extended` says, of the first rows whose bytes fit in
    `room`; an 8-column file takes no row with source or cache values, so they stop there."""
    lines = []
    for row in rows:
        if not extended and row.has_extras:
            break
        line = schema.format_line(row, extended=extended)
        room -= len(line.encode("utf-8")) + 1
        if room < 0:
            break
        lines.append(line)
    return lines


def require_fit(rows: Sequence[Row], schema: Schema, max_bytes: int) -> None:
    """Refuse a row that would not fit in a new log of at most `max_bytes` on its own."""
    for row in rows:
        data = (schema.format_line(row, extended=True) + "\n").encode("utf-8")
        if len(EXTENDED_HEADER_BYTES) + len(data) > max_bytes:
            raise LogFileError(
                f"the row is {len(data)} bytes, too long for a log of at most {max_bytes} bytes"
            )


def create_log(log_path: Path, *, lock_timeout: float) -> bool:
    """Start an empty log (header only) unless one exists; True if it was created."""
    require_log_path(log_path)
    with locked(log_path, lock_timeout):
        if current_size(log_path) is not None:
            return False
        _remove_leftovers(log_path)
        _install_new_log(log_path, EXTENDED_HEADER_BYTES)
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
            # A clear word for a link at the lock's name; filelock (3.20.1 and later) opens it
            # with O_NOFOLLOW anyway, so one planted after this check is refused as well.
            fs.lstat_regular(self.path)
        except (fs.LinkError, fs.NotRegularError) as error:
            raise LogFileError(f"{error}; nothing was written: remove it, it is no lock") from None
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


def current_size(log_path: Path) -> int | None:
    """The log's size, or None if there is none; LogFileError if it is not a regular file (a
    symbolic link included, even a dangling one: writing would replace the link by a file)."""
    info = _regular(log_path)
    return None if info is None else info.st_size


def _regular(path: Path) -> os.stat_result | None:
    try:
        return fs.lstat_regular(path)
    except fs.LinkError as error:
        raise _link_refused(error) from None


def _link_refused(error: fs.LinkError) -> LogFileError:
    return LogFileError(
        f"{error}; nothing was written: telemetry-csv writes only a regular file, since "
        "rotating a log renames it. Set `log` (or --file) to the file itself"
    )


def _require_appendable(log_path: Path, size: int) -> bool:
    """Refuse to append to a log whose header is wrong or whose last line is torn; whether its
    header is the extended one."""
    try:
        with fs.open_regular(log_path) as file:
            head = file.read(len(EXTENDED_HEADER_BYTES))
            file.seek(size - 1)
            last = file.read(1)
    except fs.LinkError as error:
        raise _link_refused(error) from None
    except OSError as error:
        raise fs.cannot("read", log_path, error) from None
    extended = head == EXTENDED_HEADER_BYTES
    if not extended and not head.startswith(HEADER_BYTES):
        raise LogFileError(
            f"{log_path}: the first line is not the expected header; nothing was written. "
            f"Run `telemetry-csv check {log_path}` to see what is wrong"
        )
    if last != b"\n":
        raise LogFileError(
            f"{log_path}: the last line is torn (no final newline); nothing was written. "
            f"Run `telemetry-csv check {log_path}`, then `telemetry-csv repair` to move it aside"
        )
    return extended


def _require_writable(log_path: Path) -> None:
    """A read-only log is left alone: renaming it to a backup needs only the folder's permission,
    but would still change what the user protected."""
    try:
        os.close(fs.open_regular_for_writing(log_path, os.O_WRONLY | os.O_APPEND))
    except fs.LinkError as error:
        raise _link_refused(error) from None
    except OSError as error:
        raise fs.cannot("write", log_path, error, "; the log was left as it was") from None


def _install_new_log(log_path: Path, content: bytes) -> None:
    """Put a complete new log in place atomically."""
    fs.replace(log_path, content)


def _remove_leftovers(log_path: Path) -> None:
    """Remove the temporary files a crash left beside the log. Only a holder of the log's lock
    writes them, and we hold it, so every one there is a leftover (git-ignored, never read)."""
    try:
        names = os.listdir(log_path.parent)
    except OSError:
        return
    for name in names:
        if fs.is_temporary_of(log_path, name):
            fs.remove_quietly(log_path.parent / name)  # the name itself, never a link's target


def _rotate(log_path: Path, backup: Path, content: bytes) -> Path:
    """Move the log to `backup` and put a new log with `content` in its place; the backup."""
    with fs.NewFile(log_path) as new:
        new.write(content)
        new.sync()
        try:
            os.rename(log_path, backup)
        except OSError as error:
            raise fs.cannot(f"back up {log_path} to", backup.name, error) from None
        try:
            new.commit()
        except fs.OperationError as error:
            fs.fsync_folder(log_path.parent)  # the backup, at least, is made durable
            raise LogFileError(
                f"backed up {log_path} to {backup.name} but cannot start a new log: "
                f"{error.reason}; the next append will start it"
            ) from None
    return backup
