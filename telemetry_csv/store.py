"""Writing the log: one locked, durable append per row, and rotation to backups before the limit.

Only `append_line` and `create_log` change files, always under the log's lock:

- an append is one `write` of the whole line to a file opened with O_APPEND, then fsync; if the
  write fails part-way (a full disk), the file is truncated back to its old size;
- a new log (first use, or after rotation) is written to a temporary file, fsynced, and renamed
  into place, so it appears whole or not at all;
- a rotation renames the full log to a new `usage-YYYYMMDDTHHMMSSZ[-N].csv` name that sorts after
  every existing backup (even if the clock went back), then puts the new log (header and the new
  row) in place, then fsyncs the folder. A crash between the two renames leaves the backup
  complete and no log, which the next append starts afresh; a read-only log is never rotated;
- the folder's `.gitignore` always covers the lock and temporary files (created whole via a
  temporary file and a hard link, or completed with rules naming exactly this log's files), so
  neither can be committed, and a shared folder such as the repository root gets no `*.lock`.
  Taking the lock (`locked`) sees to the folder and its `.gitignore` first, for every locker;
- a log's name ends in `.csv`, because its backups are named from its stem: `usage.csv` and
  `usage.txt` in one folder would share `usage-*.csv`;
- a log that is a symbolic link is refused, like logrotate does: a rotation renames the log, so
  it would move the link and leave the file it points to behind, and two links to one file
  would each have their own lock.

`append_line` reads only the header and the last byte, so its cost does not grow with the log.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from telemetry_csv.errors import LockTimeoutError, LogFileError
from telemetry_csv.schema import HEADER_LINE

HEADER_BYTES = (HEADER_LINE + "\n").encode()
FOLDER_GITIGNORE = "# telemetry-csv: lock and temporary files are never committed\n*.lock\n.*.tmp\n"
LOG_SUFFIX = ".csv"
_BACKUP_NAME = r"{stem}-([0-9]{{8}}T[0-9]{{6}}Z)(?:-([0-9]+))?\.csv"


@dataclass(frozen=True)
class AppendResult:
    path: Path
    line: str
    created: bool  # the log did not exist (or was empty) and was started with its header
    backup: Path | None  # where the full log was moved before this append, if it was


def lock_path(log_path: Path) -> Path:
    return log_path.with_name(log_path.name + ".lock")


def log_name_problem(name: str) -> str | None:
    """Why `name` cannot be a log's file name, or None. Backups are named from the stem, so two
    logs whose names differ only in their suffix would claim each other's backups."""
    if not name.endswith(LOG_SUFFIX) or name == LOG_SUFFIX:
        return (
            f"a log's file name must end in {LOG_SUFFIX} (its backups are named "
            f"STEM-YYYYMMDDTHHMMSSZ{LOG_SUFFIX} from it)"
        )
    return None


def require_log_name(log_path: Path) -> None:
    problem = log_name_problem(log_path.name)
    if problem:
        raise LogFileError(f"{log_path}: {problem}")


def require_log_path(log_path: Path) -> None:
    """Refuse, before any change, a log that is a directory, a device or a symbolic link, or
    whose name does not end in .csv."""
    current_size(log_path)
    require_log_name(log_path)


def utc_stamp() -> str:
    """Now in UTC, to the second, as file names carry it: YYYYMMDDTHHMMSSZ."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def backup_order(log_name: str, name: str) -> tuple[str, int] | None:
    """Where a file named `name` sorts among the backups of the log named `log_name` (oldest
    first: by the time in the name, then its suffix), or None if it is not one of them."""
    pattern = _BACKUP_NAME.format(stem=re.escape(Path(log_name).stem))
    match = re.fullmatch(pattern, name)
    return (match.group(1), int(match.group(2) or 0)) if match else None


def is_backup_name(name: str) -> bool:
    """True for a file name of the backup form, `STEM-YYYYMMDDTHHMMSSZ[-N].csv`, of any log."""
    return re.fullmatch(_BACKUP_NAME.format(stem=".+"), name) is not None


def backup_paths(log_path: Path) -> list[Path]:
    """The log's backups in its folder, oldest first (by the time in their names, then suffix)."""
    return [path for _, _, path in _backups(log_path)]


def _backups(log_path: Path) -> list[tuple[str, int, Path]]:
    require_log_name(log_path)
    found = []
    try:
        names = os.listdir(log_path.parent)
    except FileNotFoundError:
        return []
    for name in names:
        order = backup_order(log_path.name, name)
        if order is not None:
            found.append((*order, log_path.parent / name))
    return sorted(found)


def log_files(log_path: Path) -> list[Path]:
    """The backups, oldest first, then the log itself if it exists: every row in append order."""
    files = backup_paths(log_path)
    if log_path.exists():
        files.append(log_path)
    return files


def temporary_path(log_path: Path) -> Path:
    """Where a new log is written before it is renamed into place (git-ignored, never read)."""
    return log_path.with_name(f".{log_path.name}.tmp")


def ensure_folder(folder: Path, log_path: Path | None = None) -> bool:
    """Create the log's folder and make its .gitignore cover the lock and temporary files;
    True if anything was created or changed.

    A folder created here is the log's own, so it gets the generic rules (`*.lock`, `.*.tmp`).
    In a folder that already existed (the repository root, say) only this log's two files are
    named, so that other `*.lock` files of the project are not ignored by accident.
    """
    created = False
    if not folder.is_dir():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LogFileError(
                f"cannot create folder {folder}: {error.strerror or error}"
            ) from None
        created = True
    ignore = folder / ".gitignore"
    try:
        text = ignore.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        text = None
    except OSError as error:
        raise LogFileError(f"cannot read {ignore}: {error.strerror or error}") from None
    if text is None and (created or log_path is None):
        return _create_whole(ignore, FOLDER_GITIGNORE.encode()) or created
    if log_path is None:
        return created
    missing = _uncovered_names(text or "", log_path)
    if not missing:
        return created
    block = "# telemetry-csv: lock and temporary files are never committed\n"
    block += "".join(f"/{name}\n" for name in missing)
    if text is None:
        return _create_whole(ignore, block.encode()) or _add_to_gitignore(ignore, log_path)
    if text and not text.endswith("\n"):
        block = "\n" + block
    _append_text(ignore, block)
    return True


def _uncovered_names(gitignore: str, log_path: Path) -> list[str]:
    """This log's lock and temporary file names that no line of `gitignore` names or globs."""
    rules = {line.strip() for line in gitignore.splitlines()}
    missing = []
    for name, generic in (
        (lock_path(log_path).name, "*.lock"),
        (temporary_path(log_path).name, ".*.tmp"),
    ):
        if not rules & {name, "/" + name, generic, "/" + generic}:
            missing.append(name)
    return missing


def _add_to_gitignore(ignore: Path, log_path: Path) -> bool:
    # Another writer created the file between our read and our link: complete it instead.
    return ensure_folder(ignore.parent, log_path)


def _create_whole(path: Path, content: bytes) -> bool:
    """Create `path` with `content` all at once, never overwriting; False if it already exists.

    Written to a temporary file and hard-linked into place, so a crash leaves either no file or
    the whole one, never an empty .gitignore that would let the lock file be committed.
    """
    created = _create_whole_unnamed(path, content)
    if created is not None:
        return created
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            write_all(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(temporary, path)
    except FileExistsError:
        return False
    except OSError as error:
        raise LogFileError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        _remove_quietly(temporary)
    fsync_folder(path.parent)
    return True


def _create_whole_unnamed(path: Path, content: bytes) -> bool | None:
    """`_create_whole` through an unnamed file (Linux's O_TMPFILE), so that even a crash leaves
    no temporary file behind: in a folder whose .gitignore names only this log's files, such a
    leftover could be committed. None where unnamed files are not available."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None:
        return None
    try:
        fd = os.open(path.parent, os.O_WRONLY | flag, 0o666)
    except OSError:
        return None  # a file system without unnamed files: the named way does it
    try:
        write_all(fd, content)
        os.fsync(fd)
        os.link(f"/proc/self/fd/{fd}", path, follow_symlinks=True)
    except FileExistsError:
        return False
    except OSError:
        return None  # no /proc, say: the named way does it, or says why it cannot
    finally:
        os.close(fd)
    fsync_folder(path.parent)
    return True


def _append_text(path: Path, text: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            write_all(fd, text.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as error:
        raise LogFileError(f"cannot write {path}: {error.strerror or error}") from None


def append_line(log_path: Path, line: str, *, max_bytes: int, lock_timeout: float) -> AppendResult:
    """Append one canonical line (without newline) to the log, rotating first if it would not fit."""
    data = (line + "\n").encode("utf-8")
    if len(HEADER_BYTES) + len(data) > max_bytes:
        raise LogFileError(
            f"the row is {len(data)} bytes, too long for a log of at most {max_bytes} bytes"
        )
    require_log_path(log_path)  # refused before any change
    with _locked(log_path, lock_timeout):
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
        _append(log_path, data, size)
        return AppendResult(log_path, line, created=False, backup=None)


def create_log(log_path: Path, *, lock_timeout: float) -> bool:
    """Start an empty log (header only) unless one exists; True if it was created."""
    require_log_path(log_path)
    with _locked(log_path, lock_timeout):
        if current_size(log_path) is not None:
            return False
        _install_new_log(log_path, HEADER_BYTES)
        return True


def locked(log_path: Path, timeout: float) -> _locked:
    """The log's lock, for a rewrite that must not race an append: `with locked(path, 10):`.
    Entering it creates the log's folder if needed and makes its .gitignore cover the lock."""
    return _locked(log_path, timeout)


def replace_file(path: Path, content: bytes) -> None:
    """Replace a file whole, atomically (temporary file, fsync, rename, folder fsync), keeping
    its permission bits. A symbolic link is refused rather than replaced by a file."""
    try:
        info = os.lstat(path)
    except OSError as error:
        raise LogFileError(f"cannot read {path}: {error.strerror or error}") from None
    _require_no_link(path, info)
    _install_new_log(path, content, stat.S_IMODE(info.st_mode))


class _locked:
    """The log's filelock, with its errors turned into ones a user can act on."""

    def __init__(self, log_path: Path, timeout: float):
        from filelock import FileLock

        self.log_path = log_path
        self.path = lock_path(log_path)
        self.timeout = timeout
        self.lock = FileLock(str(self.path), timeout=timeout)

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
            raise LogFileError(
                f"cannot create lock file {self.path}: {error.strerror or error}"
            ) from None

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def current_size(log_path: Path) -> int | None:
    """The log's size, or None if there is none; LogFileError if it is not a regular file (a
    symbolic link included, even a dangling one: writing would replace the link by a file)."""
    try:
        info = os.lstat(log_path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise LogFileError(f"cannot read {log_path}: {error.strerror or error}") from None
    _require_no_link(log_path, info)
    if not stat.S_ISREG(info.st_mode):
        raise LogFileError(f"{log_path} is not a regular file")
    return info.st_size


def _require_no_link(path: Path, info: os.stat_result) -> None:
    if stat.S_ISLNK(info.st_mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        raise LogFileError(
            f"{path} is a symbolic link (to {target}); nothing was written: telemetry-csv "
            "writes only a regular file, since rotating a log renames it. Set `log` (or "
            "--file) to the file itself"
        )


def _require_appendable(log_path: Path, size: int) -> None:
    """Refuse to append to a log whose header is wrong or whose last line is torn."""
    try:
        with open(log_path, "rb") as file:
            head = file.read(len(HEADER_BYTES))
            file.seek(size - 1)
            last = file.read(1)
    except OSError as error:
        raise LogFileError(f"cannot read {log_path}: {error.strerror or error}") from None
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
        os.close(os.open(log_path, os.O_WRONLY | os.O_APPEND))
    except OSError as error:
        raise LogFileError(
            f"cannot write {log_path}: {error.strerror or error}; the log was left as it was"
        ) from None


def _append(log_path: Path, data: bytes, old_size: int) -> None:
    try:
        fd = os.open(log_path, os.O_WRONLY | os.O_APPEND)
    except OSError as error:
        raise LogFileError(f"cannot write {log_path}: {error.strerror or error}") from None
    try:
        write_all(fd, data)
        os.fsync(fd)
    except OSError as error:
        _truncate_quietly(fd, old_size)
        raise LogFileError(
            f"cannot write {log_path}: {error.strerror or error}; the log was left as it was"
        ) from None
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to `fd`. One write call in practice; the loop only matters if the
    kernel returns a short count."""
    written = 0
    while written < len(data):
        written += os.write(fd, data[written:])


def _truncate_quietly(fd: int, size: int) -> None:
    with contextlib.suppress(OSError):
        os.ftruncate(fd, size)
        os.fsync(fd)


def _install_new_log(log_path: Path, content: bytes, mode: int | None = None) -> None:
    """Put a complete new log in place atomically: temporary file, fsync, rename, folder fsync."""
    temporary = _write_temporary(log_path, content, mode)
    try:
        os.rename(temporary, log_path)
    except OSError as error:
        _remove_quietly(temporary)
        raise LogFileError(f"cannot create {log_path}: {error.strerror or error}") from None
    fsync_folder(log_path.parent)


def _rotate(log_path: Path, backup: Path, content: bytes) -> None:
    temporary = _write_temporary(log_path, content)
    try:
        os.rename(log_path, backup)
    except OSError as error:
        _remove_quietly(temporary)
        raise LogFileError(
            f"cannot back up {log_path} to {backup.name}: {error.strerror or error}"
        ) from None
    try:
        os.rename(temporary, log_path)
    except OSError as error:
        _remove_quietly(temporary)
        fsync_folder(log_path.parent)  # the backup, at least, is made durable
        raise LogFileError(
            f"backed up {log_path} to {backup.name} but cannot start a new log: "
            f"{error.strerror or error}; the next append will start it"
        ) from None
    fsync_folder(log_path.parent)


def _write_temporary(log_path: Path, content: bytes, mode: int | None = None) -> Path:
    # We hold the lock, so any temporary file of ours already there is left by a crash.
    temporary = temporary_path(log_path)
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    except OSError as error:
        raise LogFileError(
            f"cannot write in {log_path.parent}: {error.strerror or error}"
        ) from None
    try:
        if mode is not None:
            os.fchmod(fd, mode)  # the mode of the file it replaces, not the umask's
        write_all(fd, content)
        os.fsync(fd)
    except OSError as error:
        os.close(fd)
        _remove_quietly(temporary)
        raise LogFileError(f"cannot write {temporary}: {error.strerror or error}") from None
    os.close(fd)
    return temporary


def unused_backup_path(log_path: Path) -> Path:
    """A backup name for the log that is free now, `STEM-YYYYMMDDTHHMMSSZ[-N].csv` in UTC, and
    sorts after every existing backup, so that reading the backups in name order gives the rows
    in append order even if the clock was set back."""
    stamp = utc_stamp()
    suffix = 0
    existing = _backups(log_path)
    if existing:
        last_stamp, last_suffix, _ = existing[-1]
        if last_stamp >= stamp:
            stamp, suffix = last_stamp, last_suffix + 1
    # Only lock holders create backups, so a name free now stays free until our rename.
    while True:
        name = f"{log_path.stem}-{stamp}-{suffix}.csv" if suffix else f"{log_path.stem}-{stamp}.csv"
        candidate = log_path.with_name(name)
        if not os.path.lexists(candidate):
            return candidate
        suffix += 1


def fsync_folder(folder: Path) -> None:
    """Make renames and new names in `folder` durable (best effort where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a directory; the renames are still atomic
    finally:
        os.close(fd)


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
