"""Reading session files that nobody vouches for: one line at a time, in bounded memory.

Files are opened relative to a folder that was itself opened without following symbolic links,
with `O_NOFOLLOW | O_NONBLOCK`, then checked with `fstat`: a FIFO, a device or a socket is closed
at once instead of blocking the import, and a file swapped for a symbolic link is refused by the
kernel. A line longer than `MAX_LINE_BYTES` is skipped and counted without ever being held whole.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator

from telemetry_csv import fs
from telemetry_csv.errors import TelemetryError

MAX_LINE_BYTES = 32 * 1024 * 1024  # far above a real record (a pasted image is a few MiB)
CHUNK_BYTES = 4 * 1024 * 1024

# Read with getattr: Windows has neither these flags nor `dir_fd`, and `require_dir_fd` refuses
# the import there in one line rather than at this module's import.
_OPEN_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | fs.NOFOLLOW | fs.CLOEXEC
_OPEN_FILE = os.O_RDONLY | fs.NOFOLLOW | fs.NONBLOCK | fs.CLOEXEC | fs.BINARY

# Reasons a file or a line was skipped, as counted in `ImportResult.skipped`.
VANISHED = "file vanished while being read"
DENIED = "permission denied"
SYMLINK = "symbolic link not followed"
NOT_REGULAR = "not a regular file (FIFO, device or socket)"
UNREADABLE = "file could not be read"
TOO_LONG = f"line longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB"


def require_dir_fd() -> None:
    """Refuse to import where files cannot be opened relative to a folder (`dir_fd`): without
    it, a folder swapped for a link while it is read would be followed (Windows)."""
    if os.open not in os.supports_dir_fd:
        raise TelemetryError(
            "import needs os.open with dir_fd, to read the agents' folders without following "
            "links, and this platform lacks it (Windows): run import on Linux or macOS"
        )


def reason_for(error: OSError) -> str:
    """Which skip reason an error opening or reading a file counts under."""
    if error.errno == errno.ENOENT or error.errno == errno.ESTALE:
        return VANISHED
    if error.errno in (errno.EACCES, errno.EPERM):
        return DENIED
    if error.errno == errno.ELOOP:
        return SYMLINK
    return UNREADABLE


def open_folder(path: str, parent_fd: int | None = None) -> int:
    """A descriptor for a folder; `path` is a name inside `parent_fd` when that is given, and is
    then never a symbolic link."""
    if parent_fd is None:
        return os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | fs.CLOEXEC)
    return os.open(path, _OPEN_DIR, dir_fd=parent_fd)


def open_below(root: str, parts: tuple[str, ...]) -> int:
    """Open the regular file `root/parts…`, following no symbolic link below `root`."""
    fd = open_folder(root)
    try:
        for part in parts[:-1]:
            inner = open_folder(part, fd)
            os.close(fd)
            fd = inner
        return open_file(parts[-1], fd)
    finally:
        os.close(fd)


def open_file(name: str, folder_fd: int) -> int:
    """A descriptor for the regular file `name` in `folder_fd`; OSError otherwise (a FIFO or
    device comes back as ENXIO-like `NotRegularFileError`)."""
    fd = os.open(name, _OPEN_FILE, dir_fd=folder_fd)
    try:
        info = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise NotRegularFileError(name)
    return fd


class NotRegularFileError(OSError):
    """A path that names a FIFO, a device, a socket or a folder where a file was expected."""


class LineReader:
    """The complete lines of a file from a byte offset, with their end offsets.

    After iteration, `tail` holds an unterminated last line (at most `MAX_LINE_BYTES`), which
    starts at `tail_start`; `too_long` counts the lines skipped for their length.
    """

    def __init__(self, fd: int, offset: int, limit: int = MAX_LINE_BYTES) -> None:
        self.fd = fd
        self.offset = offset
        self.limit = limit
        self.tail = b""
        self.tail_start = offset
        self.tail_unterminated = False  # the file ends inside a line (kept for the next read)
        self.too_long = 0

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        fd, limit = self.fd, self.limit
        position = self.offset
        os.lseek(fd, position, os.SEEK_SET)
        pending = b""
        skipping = False  # inside a line that is already too long
        long_start = position
        while True:
            chunk = os.read(fd, CHUNK_BYTES)
            if not chunk:
                break
            if skipping:
                cut = chunk.find(b"\n")
                if cut < 0:
                    position += len(chunk)
                    continue
                position += cut + 1
                chunk = chunk[cut + 1 :]
                skipping = False
            data = pending + chunk if pending else chunk
            lines = data.split(b"\n")
            pending = lines.pop()
            for line in lines:
                position += len(line) + 1
                if len(line) > limit:
                    self.too_long += 1
                    continue
                yield position, line
            if len(pending) > limit:
                self.too_long += 1
                long_start = position
                position += len(pending)
                pending = b""
                skipping = True
        if skipping:
            # The file ends inside an over-long line: it may still be being written, so it is
            # read again next time (and skipped again, in bounded memory) rather than counted.
            self.too_long -= 1
            self.tail, self.tail_start = b"", long_start
            self.tail_unterminated = True
        else:
            self.tail, self.tail_start = pending, position
            self.tail_unterminated = bool(pending)
