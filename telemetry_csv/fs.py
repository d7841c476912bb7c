"""The one file-system helper: every file the package creates, truncates, appends to, renames or
reads as a log or a setting goes through here, and so does the `cannot ACTION PATH: reason`
message.

What a cloned repository may hold is untrusted: any name may be a symbolic link (to a file
outside the repository, a device, a FIFO) or a huge file. So:

- every file written is opened with O_NOFOLLOW, or created with O_EXCL (which refuses an
  existing name, a link included), and checked on the opened descriptor (`fstat`), never only
  on its name;
- temporary files get names nobody can guess (`temporary_beside`), so no link can be planted
  there in advance;
- a file read as a log or a setting is opened without blocking (a FIFO is refused, not waited
  on), must be a regular file, and is read only up to a limit (`read_bounded`);
- a path that comes from the repository's settings must stay inside it, through real folders
  only (`require_real_folders`).

Only calls that exist on Linux and macOS are used (O_NOFOLLOW, O_EXCL, O_NONBLOCK, fstat,
lstat, rename, link); where a platform lacks one (O_TMPFILE outside Linux) the portable way is
taken. docs/security.md says what this promises and what it does not.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path, PurePath
from typing import BinaryIO

from telemetry_csv.errors import LogFileError

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
CLOEXEC = getattr(os, "O_CLOEXEC", 0)
NONBLOCK = getattr(os, "O_NONBLOCK", 0)
# Windows only: without it `os.write` turns each LF into CRLF and reads stop at a Ctrl-Z byte.
BINARY = getattr(os, "O_BINARY", 0)
_RANDOM_BYTES = 6  # twelve hex digits in a temporary file's name


def reason(error: OSError) -> str:
    """What went wrong, in the operating system's words."""
    return error.strerror or str(error)


class OperationError(LogFileError):
    """A file operation that failed; `reason` is the operating system's words for why."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def cannot(action: str, path: Path | str, error: OSError, advice: str = "") -> OperationError:
    """The one message for a failed file operation: `cannot write PATH: Permission denied`."""
    return OperationError(f"cannot {action} {path}: {reason(error)}{advice}", reason(error))


class LinkError(LogFileError):
    """A symbolic link where the package reads or writes only regular files."""

    def __init__(self, path: Path | str, advice: str = ""):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        self.path, self.target = Path(path), target
        super().__init__(f"{path} is a symbolic link (to {target}){advice}")


class NotRegularError(LogFileError):
    """A FIFO, a device, a folder or a socket where a regular file belongs."""

    def __init__(self, path: Path | str, mode: int, advice: str = ""):
        self.path, self.kind = Path(path), kind(mode)
        super().__init__(f"{path} is not a regular file ({self.kind}){advice}")


def kind(mode: int) -> str:
    """What a file is, in words: `a FIFO`, `a character device`…"""
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "an unknown kind of file"


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to `fd`. One write call in practice; the loop only matters if the
    kernel returns a short count."""
    written = 0
    while written < len(data):
        written += os.write(fd, data[written:])


def fsync_folder(folder: Path) -> None:
    """Make renames and new names in `folder` durable (best effort where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY | CLOEXEC | BINARY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a directory; the renames are still atomic
    finally:
        os.close(fd)


def remove_quietly(path: Path | str) -> None:
    """Remove a name (a link itself, never what it points to); nothing if it is gone."""
    with contextlib.suppress(OSError):
        os.unlink(path)


def create_new(path: Path, mode: int = 0o666) -> int:
    """A descriptor of a file created by this call, for writing: never an existing file, never
    through a link (O_EXCL refuses both). Raises OSError (FileExistsError when taken)."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC | BINARY, mode)


def temporary_beside(path: Path) -> Path:
    """A name for a temporary file beside `path` that nobody can guess (`.NAME.RANDOM.tmp`), so a
    link planted in advance cannot be there; `create_new` refuses it if it is anyway."""
    return path.with_name(f".{path.name}.{os.urandom(_RANDOM_BYTES).hex()}.tmp")


def temporary_glob(path: Path) -> str:
    """The names `temporary_beside` gives for `path`, as a glob (for .gitignore)."""
    return f".{path.name}.*.tmp"


def is_temporary_of(path: Path, name: str) -> bool:
    """Whether `name` is one `temporary_beside(path)` could have given."""
    prefix, suffix = f".{path.name}.", ".tmp"
    middle = name[len(prefix) : -len(suffix)] if name.startswith(prefix) else ""
    return (
        name.endswith(suffix)
        and len(middle) == 2 * _RANDOM_BYTES
        and all(c in "0123456789abcdef" for c in middle)
    )


def create_whole(path: Path, content: bytes) -> bool:
    """Create `path` with `content` all at once, never overwriting; False if it already exists
    (a link there included: it is neither followed nor replaced).

    Through an unnamed file (Linux's O_TMPFILE) linked into place, so even a crash leaves no
    temporary file; elsewhere through a temporary file of an unguessable name and a hard link.
    Either way a crash leaves no file or the whole one, never a partial one.
    """
    created = _create_whole_unnamed(path, content)
    if created is not None:
        return created
    temporary = temporary_beside(path)
    try:
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
        fd = os.open(path.parent, os.O_WRONLY | flag | CLOEXEC | BINARY, 0o666)
    except OSError:
        return None  # a file system without unnamed files: the named way does it
    try:
        write_all(fd, content)
        os.fsync(fd)
        # linkat never follows a link at the new name: an existing one is EEXIST.
        os.link(f"/proc/self/fd/{fd}", path, follow_symlinks=True)
    except FileExistsError:
        return False
    except OSError:
        return None  # no /proc, say: the named way does it, or says why it cannot
    finally:
        os.close(fd)
    fsync_folder(path.parent)
    return True


def open_regular_for_writing(path: Path | str, flags: int) -> int:
    """A descriptor of the existing regular file `path`, opened with `flags` (O_WRONLY,
    O_APPEND…) but never through a link, never blocking on a FIFO, and refused unless the
    opened file is regular. Raises LinkError, NotRegularError or OSError."""
    try:
        fd = os.open(path, flags | NOFOLLOW | NONBLOCK | CLOEXEC | BINARY)
    except OSError as error:
        _raise_if_link(path, error)
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularError(path, info.st_mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def append(path: Path, data: bytes, *, advice: str = "") -> None:
    """Append `data` with one O_APPEND write and fsync; if the write fails part-way (a full
    disk), the file is cut back to its old size, so no partial line is left behind. Never
    through a symbolic link, never into anything but a regular file."""
    try:
        fd = open_regular_for_writing(path, os.O_WRONLY | os.O_APPEND)
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


class NewFile:
    """A complete new file written at a temporary name beside `path` (unguessable, created
    exclusively), then renamed over `path` by `commit`; `discard` (or leaving a `with` block
    by an exception) removes it. For content streamed in pieces; `replace` writes bytes
    already in memory. `keep`: the status of the file replaced, whose permission bits (and,
    where allowed, owner) the new one gets. Errors name `shown` (default: `path`)."""

    def __init__(
        self,
        path: Path,
        *,
        keep: os.stat_result | None = None,
        shown: Path | str | None = None,
        mode: int = 0o666,
    ):
        self.path = path
        self.shown = path if shown is None else shown
        self.temporary = temporary_beside(path)
        try:
            # A new file gets `mode` (the usual 0666) less the umask; a replacement its old mode.
            self.fd: int | None = create_new(self.temporary, 0o600 if keep is not None else mode)
        except OSError as error:
            raise cannot("write in", path.parent if shown is None else shown, error) from None
        try:
            # Windows has no fchmod (before Python 3.13), fchown or geteuid: the new file keeps
            # the default mode there, which is what Windows files carry anyway.
            if keep is not None and hasattr(os, "fchmod"):
                os.fchmod(self.fd, stat.S_IMODE(keep.st_mode))
            if (
                keep is not None
                and hasattr(os, "geteuid")
                and (keep.st_uid, keep.st_gid) != (os.geteuid(), os.getegid())
            ):
                # Only root may give a file away; elsewhere the mode is what is kept.
                with contextlib.suppress(OSError):
                    os.fchown(self.fd, keep.st_uid, keep.st_gid)
        except OSError as error:
            self._fail(error)

    def write(self, data: bytes) -> None:
        if self.fd is None:
            raise ValueError("write to a new file already committed or discarded")
        try:
            write_all(self.fd, data)
        except OSError as error:
            self._fail(error)

    def sync(self) -> None:
        """fsync what was written so far (`commit` does it too)."""
        if self.fd is not None:
            try:
                os.fsync(self.fd)
            except OSError as error:
                self._fail(error)

    def commit(self, *, durable: bool = True) -> None:
        """fsync, rename over `path`, fsync the folder: `path` is the new file, whole. Without
        `durable`, no fsync: the rename is still atomic, but a crash may lose the new file (for
        a cache that is cheap to rebuild)."""
        if self.fd is None:
            raise ValueError("commit of a new file already committed or discarded")
        try:
            if durable:
                os.fsync(self.fd)
        except OSError as error:
            self._fail(error)
        os.close(self.fd)
        self.fd = None
        try:
            # os.replace, not os.rename: the same on POSIX, and on Windows the only one of the
            # two that replaces an existing file.
            os.replace(self.temporary, self.path)
        except OSError as error:
            remove_quietly(self.temporary)
            raise cannot("create", self.shown, error) from None
        if durable:
            fsync_folder(self.path.parent)

    def discard(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
            remove_quietly(self.temporary)

    def _fail(self, error: OSError) -> None:
        self.discard()
        raise cannot("write", self.shown, error) from None

    def __enter__(self) -> NewFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()  # nothing once committed


def replace(
    path: Path,
    content: bytes,
    *,
    keep: os.stat_result | None = None,
    shown: Path | str | None = None,
) -> None:
    """Replace `path` whole and atomically with `content`, written first to a temporary file of
    an unguessable name beside it: a reader sees the old file or the new one, never half of
    one. A link at `path` is replaced, never followed. `keep`: the status of the file
    replaced, whose mode (and owner) the new one keeps."""
    with NewFile(path, keep=keep, shown=shown) as new:
        new.write(content)
        new.commit()


def lstat_regular(path: Path) -> os.stat_result | None:
    """The file's status without following a link, or None if there is no such file; raises
    LinkError for a link (dangling or not), NotRegularError for anything but a regular file."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise cannot("read", path, error) from None
    if stat.S_ISLNK(info.st_mode):
        raise LinkError(path)
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularError(path, info.st_mode)
    return info


def open_regular(path: Path | str, *, follow: bool = False) -> BinaryIO:
    """Open a regular file for reading. Never blocks (a FIFO is opened and refused, not waited
    on); never through a link unless `follow`. Raises LinkError, NotRegularError or OSError."""
    try:
        fd = os.open(path, os.O_RDONLY | NONBLOCK | CLOEXEC | BINARY | (0 if follow else NOFOLLOW))
    except OSError as error:
        if not follow:
            _raise_if_link(path, error)
        raise
    file = os.fdopen(fd, "rb")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularError(path, info.st_mode)
    except BaseException:
        file.close()
        raise
    return file


def read_bounded(
    path: Path, limit: int, *, within: Path | None = None, follow: bool = False
) -> bytes | None:
    """The content of a small file (a setting, a .gitignore), or None if there is none.

    By default a link is refused (a file the package also writes); with `within`, a link is
    followed only to a regular file inside the folder `within` (the repository); with `follow`,
    wherever it leads (a file the user named, such as TZ=/path). Anything but a regular file,
    or more than `limit` bytes, is refused before it is read: LogFileError, one line, never a
    hang on a FIFO or a MemoryError on a device or a huge file."""
    if follow or within is not None:
        try:
            info = os.stat(path)  # judged before opening: opening a device may do things
        except FileNotFoundError:
            return None
        except OSError as error:
            raise cannot("read", path, error) from None
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularError(path, info.st_mode)
        resolved = Path(os.path.realpath(path))
        if within is not None and not _inside(resolved, within):
            raise LogFileError(
                f"{path} leads outside the repository (to {resolved}); a setting must be a "
                "file inside it"
            )
    try:
        file = open_regular(path, follow=follow or within is not None)
    except FileNotFoundError:
        return None
    except OSError as error:
        if isinstance(error, LogFileError):
            raise
        raise cannot("read", path, error) from None
    with file:
        try:
            size = os.fstat(file.fileno()).st_size
            if size > limit:
                raise _too_large(path, limit)
            # What the file holds, not what the limit allows: a read asks for its whole size at
            # once, and a limit of a gibibyte (a fold) must not take a gibibyte of address space.
            # A file that grew since is read on in pieces, until the limit is passed.
            data = file.read(size + 1)
            while size < len(data) <= limit:
                piece = file.read(min(limit + 1 - len(data), 1 << 20))
                if not piece:
                    break
                data += piece
        except OSError as error:
            raise cannot("read", path, error) from None
    if len(data) > limit:
        raise _too_large(path, limit)
    return data


def open_destination(name: str, flags: int, mode: int = 0o666) -> int:
    """A descriptor for writing to a destination the user named that is no regular file to
    replace (a FIFO, a terminal, /dev/stdout) or that is appended to (a job summary): opened
    without blocking, so a FIFO nobody reads is an error (ENXIO) rather than a hang, then set
    to block, as a shell's `>` writes. Raises OSError."""
    fd = os.open(name, flags | NONBLOCK | CLOEXEC | BINARY, mode)
    try:
        os.set_blocking(fd, True)
    except OSError:
        os.close(fd)
        raise
    return fd


def require_folder(
    folder: Path, *, create: bool = False, mode: int = 0o777, advice: str = ""
) -> bool:
    """Whether `folder` is a real folder; with `create`, a missing one is made (its parents
    too) and True. A symbolic link there is LinkError, never followed (git commits a link, not
    what it points to, which may be outside the repository); anything but a folder is
    LogFileError. `advice` ends either message."""
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        if not create:
            return False
        try:
            os.makedirs(folder, mode=mode, exist_ok=True)
            info = os.lstat(folder)
        except OSError as error:
            raise cannot("create folder", folder, error, advice) from None
    except OSError as error:
        raise cannot("read", folder, error, advice) from None
    if stat.S_ISLNK(info.st_mode):
        raise LinkError(folder, advice)
    if not stat.S_ISDIR(info.st_mode):
        raise LogFileError(f"{folder} is {kind(info.st_mode)}, not a folder{advice}")
    return True


def _too_large(path: Path, limit: int) -> LogFileError:
    return LogFileError(f"{path} is larger than {limit:,} bytes, too large to be what it should")


def require_real_folders(root: Path, relative: str, what: str) -> Path:
    """`root / relative`, refused (LogFileError) unless every folder between `root` and the
    file is a real folder, not a symbolic link (a missing one is created as a real folder
    later). `relative` is relative, without `..` (the caller's settings rule says so). `what`
    names the setting in messages (`log = '...'`)."""
    parts = PurePath(relative).parts
    if PurePath(relative).is_absolute() or ".." in parts or "\0" in relative:
        raise ValueError(f"not a path inside the root: {relative!r}")
    folder = root
    for part in parts[:-1]:
        folder = folder / part
        try:
            info = os.lstat(folder)
        except FileNotFoundError:
            break
        except OSError as error:
            raise cannot("read", folder, error) from None
        if stat.S_ISLNK(info.st_mode):
            raise LinkError(
                folder,
                f"; {what}: the log's folder must be a real folder inside the repository "
                "(git commits a link, not the files behind it, so the hooks and `report "
                "--range` would not see the rows); point the setting at the real folder",
            )
        if not stat.S_ISDIR(info.st_mode):
            raise NotRegularError(folder, info.st_mode, f"; {what}: expected a folder there")
    return root / relative


def _inside(path: Path, folder: Path) -> bool:
    real_folder = Path(os.path.realpath(folder))
    return path == real_folder or real_folder in path.parents


def _raise_if_link(path: Path | str, error: OSError) -> None:
    """O_NOFOLLOW on a link fails with ELOOP (EMLINK on some BSDs): say what it is."""
    import errno

    if error.errno in (errno.ELOOP, errno.EMLINK) and os.path.islink(path):
        raise LinkError(path) from None
