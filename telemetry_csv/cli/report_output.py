"""Where `report` writes its text besides standard output: a file (`-o`), the job summary.

A report never lands on a log file: `-o .telemetry/usage.csv` (or a backup, a file given to
read, a link to one of them) would replace the rows with their own summary, so it is refused
before anything is read. So are the files kept beside the log (its lock, the folder's
.gitignore, its temporary files), and any name shaped like a backup (`STEM-YYYYMMDDTHHMMSSZ.csv`),
which `check`, `report` and the hooks would take for one.

The destination is the user's choice, as a shell's `>` is, so a link named there is written
through, with one exception: a link inside the repository that leads outside it. A clone
can hold such a link (`report.md -> ~/.bashrc`), and a workflow that writes `-o report.md`
must not be how the repository writes outside itself.

A regular file, or a new one, is replaced whole (a temporary file beside the real file, then a
rename), so a reader never sees half a report; the file keeps its mode. Anything else (a FIFO,
a terminal, /dev/stdout, /dev/null) is opened and written like a shell's `>` does: renaming a
file over it would replace the pipe or the device itself.
"""

from __future__ import annotations

import errno
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


def refuse_log_folder_files(option: str, target: str, log_path: Path, root: Path) -> None:
    """Raise InvalidValueError when `target` is, or would become, one of the files of the log's
    folder, or a link in the repository to outside it."""
    from telemetry_csv.logfile.layout import is_backup_name, lock_path

    real = Path(os.path.realpath(target))
    folder = Path(os.path.realpath(log_path.parent))
    why = None
    if is_backup_name(Path(target).name) or is_backup_name(real.name):
        why = "its name is that of a log's backup, which `check`, `report` and the hooks read"
    elif real.parent == folder and (
        real.name in (log_path.name, lock_path(log_path).name, ".gitignore")
        or fs.is_temporary_of(log_path, real.name)
        or real.name.endswith(".lock")
    ):
        why = "it is one of the files kept beside the log"
    elif (
        os.path.islink(target)
        and _inside(Path(os.path.abspath(target)).parent, root)
        and not _inside(real, root)
    ):
        why = (
            f"it is a link in the repository to {real}, outside it; give that path itself "
            "if you mean it"
        )
    if why:
        raise InvalidValueError(option, target, f"{why}; write the report to another file")


def _inside(path: Path, root: Path) -> bool:
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(path))
    return real == real_root or real_root in real.parents


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
        fd = fs.open_destination(name, os.O_WRONLY)
    except OSError as error:
        advice = "; nothing reads that FIFO" if error.errno == errno.ENXIO else ""
        raise fs.cannot("write", name, error, advice) from None
    try:
        fs.write_all(fd, data)
    except OSError as error:
        raise fs.cannot("write", name, error) from None
    finally:
        os.close(fd)


def append_markdown(name: str, text: str, what: str) -> None:
    """Append Markdown to the file `name` (the job summary, named `what` in errors), after a
    blank line when the file already holds something, so its first block starts afresh. A FIFO
    that nothing reads is an error, not a hang."""
    data = text.encode("utf-8")
    try:
        fd = fs.open_destination(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    except OSError as error:
        raise fs.cannot("append to", f"{what} ({name})", error) from None
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            data = _after_a_blank_line(name, data)
        fs.write_all(fd, data)
    except OSError as error:
        raise fs.cannot("append to", f"{what} ({name})", error) from None
    finally:
        os.close(fd)


def _after_a_blank_line(name: str, data: bytes) -> bytes:
    with open(name, "rb") as stream:
        size = stream.seek(0, os.SEEK_END)
        stream.seek(max(size - 2, 0))
        tail = stream.read(2)
    if size and tail != b"\n\n" and tail != b"\n":
        return (b"\n" if tail.endswith(b"\n") else b"\n\n") + data
    return data
