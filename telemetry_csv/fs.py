"""The one file-system helper: every file the package creates, appends to, replaces or reads as
a log goes through here, and so does the `cannot ACTION PATH: reason` message.

Each job has one function: `create_new` (exclusive creation), `create_whole` (a file that
appears complete or not at all, never overwriting), `append` (one O_APPEND write, fsync, cut
back on failure), `replace` (temporary file, fsync, rename, folder fsync), `open_for_reading`
(never blocks on a FIFO). Files are opened with O_NOFOLLOW where the call must not go through
a symbolic link, and checked on the opened descriptor (`fstat`), not on the name, so a link
swapped in between a check and an open is refused too. Only calls that exist on Linux and
macOS are used; where a platform lacks one (O_TMPFILE outside Linux), the portable way is
taken.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

from telemetry_csv.errors import LogFileError

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
CLOEXEC = getattr(os, "O_CLOEXEC", 0)
NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def reason(error: OSError) -> str:
    """What went wrong, in the operating system's words."""
    return error.strerror or str(error)


def cannot(action: str, path: Path | str, error: OSError, advice: str = "") -> LogFileError:
    """The one message for a failed file operation: `cannot write PATH: Permission denied`."""
    return LogFileError(f"cannot {action} {path}: {reason(error)}{advice}")


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to `fd`. One write call in practice; the loop only matters if the
    kernel returns a short count."""
    written = 0
    while written < len(data):
        written += os.write(fd, data[written:])


def fsync_folder(folder: Path) -> None:
    """Make renames and new names in `folder` durable (best effort where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY | CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a directory; the renames are still atomic
    finally:
        os.close(fd)


def remove_quietly(path: Path | str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def create_new(path: Path, mode: int = 0o666) -> int:
    """A descriptor of a file created by this call, for writing: never an existing file, never
    through a link (O_EXCL refuses both). Raises OSError (FileExistsError when taken)."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC, mode)


def create_whole(path: Path, content: bytes) -> bool:
    """Create `path` with `content` all at once, never overwriting; False if it already exists.

    Through an unnamed file (Linux's O_TMPFILE) linked into place, so even a crash leaves no
    temporary file; elsewhere through a named temporary file and a hard link. Either way a crash
    leaves no file or the whole one, never a partial one.
    """
    created = _create_whole_unnamed(path, content)
    if created is not None:
        return created
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        remove_quietly(temporary)  # a crash's leftover: the pid is ours now
        fd = create_new(temporary)
        try:
            write_all(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(temporary, path, follow_symlinks=False)
    except FileExistsError:
        return False
    except OSError as error:
        raise cannot("write", path, error) from None
    finally:
        remove_quietly(temporary)
    fsync_folder(path.parent)
    return True


def _create_whole_unnamed(path: Path, content: bytes) -> bool | None:
    """`create_whole` through an unnamed file; None where unnamed files are not available."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None:
        return None
    try:
        fd = os.open(path.parent, os.O_WRONLY | flag | CLOEXEC, 0o666)
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


def append(path: Path, data: bytes, *, advice: str = "") -> None:
    """Append `data` with one O_APPEND write and fsync; if the write fails part-way (a full
    disk), the file is cut back to its old size, so no partial line is left behind. Never
    through a symbolic link."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | NOFOLLOW | CLOEXEC)
    except OSError as error:
        raise cannot("write", path, error) from None
    try:
        old_size = os.fstat(fd).st_size
        try:
            write_all(fd, data)
            os.fsync(fd)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, old_size)
                os.fsync(fd)
            raise cannot("write", path, error, advice) from None
    finally:
        os.close(fd)


def write_new_file(
    temporary: Path,
    content: bytes,
    keep: os.stat_result | None = None,
    shown: Path | str | None = None,
) -> None:
    """Write a complete new file at `temporary`, fsynced, for a rename into place; with the
    permission bits (and, where allowed, the owner) of `keep`, the file it will replace.
    Removed again if it cannot be written whole; errors name `shown` (default: the file)."""
    try:
        # A new file gets the usual 0666 less the umask; a replacement its old mode, set below.
        fd = create_new(temporary, 0o600 if keep is not None else 0o666)
    except OSError as error:
        raise cannot("write in", temporary.parent if shown is None else shown, error) from None
    try:
        if keep is not None:
            os.fchmod(fd, stat.S_IMODE(keep.st_mode))
            if (keep.st_uid, keep.st_gid) != (os.geteuid(), os.getegid()):
                # Only root may give a file away; elsewhere the mode is what is kept.
                with contextlib.suppress(OSError):
                    os.fchown(fd, keep.st_uid, keep.st_gid)
        write_all(fd, content)
        os.fsync(fd)
    except OSError as error:
        os.close(fd)
        remove_quietly(temporary)
        raise cannot("write", temporary if shown is None else shown, error) from None
    os.close(fd)


def rename_into_place(temporary: Path, path: Path, shown: Path | str | None = None) -> None:
    """Rename a file written by `write_new_file` over `path`, then make the rename durable."""
    try:
        os.rename(temporary, path)
    except OSError as error:
        remove_quietly(temporary)
        raise cannot("create", path if shown is None else shown, error) from None
    fsync_folder(path.parent)


def temporary_beside(path: Path) -> Path:
    """A name for a temporary file beside `path` that nobody can guess (`.NAME.RANDOM.tmp`), so a
    link planted in advance cannot be there; `create_new` refuses it if it is anyway."""
    return path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")


def replace(
    path: Path,
    content: bytes,
    *,
    temporary: Path | None = None,
    keep: os.stat_result | None = None,
    shown: Path | str | None = None,
) -> None:
    """Replace `path` whole and atomically with `content`, written first to `temporary` beside
    it (default: an unguessable name): a reader sees the old file or the new one, never half
    of one. `keep`: the status of the file replaced, whose mode (and owner) the new one keeps."""
    if temporary is None:
        temporary = temporary_beside(path)
    else:
        remove_quietly(temporary)  # a name its caller owns (under a lock): a crash left it
    write_new_file(temporary, content, keep, shown)
    rename_into_place(temporary, path, shown)


def lstat_regular(path: Path) -> os.stat_result | None:
    """The file's status without following a link, or None if there is no such file; raises
    LogFileError for anything but a regular file (a link, dangling or not, included)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise cannot("read", path, error) from None
    if stat.S_ISLNK(info.st_mode):
        raise LinkError(path)
    if not stat.S_ISREG(info.st_mode):
        raise LogFileError(f"{path} is not a regular file")
    return info


class LinkError(LogFileError):
    """A symbolic link where the package only writes regular files."""

    def __init__(self, path: Path):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        self.path, self.target = path, target
        super().__init__(f"{path} is a symbolic link (to {target})")


def open_for_reading(path: Path | str) -> BinaryIO:
    """Open a file for reading without blocking: a FIFO given by mistake is opened and then
    refused by the caller's `fstat` check instead of waited on forever. Raises OSError."""
    return os.fdopen(os.open(path, os.O_RDONLY | NONBLOCK | CLOEXEC), "rb")
