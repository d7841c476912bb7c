"""Which files make up a log: the log itself, its backups and the files kept beside it.

A log's name ends in `.csv`, because its backups are named from its stem:
`STEM-YYYYMMDDTHHMMSSZ[-N].csv`, in UTC, sorting oldest first by the time in the name and
then the suffix, so that reading the backups in that order, then the log, gives every row in
append order. Beside the log live its lock (`NAME.lock`) and the temporary files a new log is
written to before it is renamed into place (`.NAME.RANDOM.tmp`, see `fs.temporary_beside`);
neither is ever read as a log.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from telemetry_csv.errors import LogFileError

LOG_SUFFIX = ".csv"
_BACKUP_NAME = r"{stem}-([0-9]{{8}}T[0-9]{{6}}Z)(?:-([0-9]+))?\.csv"


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
    if os.path.lexists(log_path):  # a link too, so that reading it says what it is
        files.append(log_path)
    return files


def unused_backup_path(log_path: Path) -> Path:
    """A backup name for the log that is free now, `STEM-YYYYMMDDTHHMMSSZ[-N].csv` in UTC, and
    sorts after every existing backup, so that reading the backups in name order gives the rows
    in append order even if the clock was set back. Only lock holders create backups, so a name
    free now stays free until their rename."""
    stamp = utc_stamp()
    suffix = 0
    existing = _backups(log_path)
    if existing:
        last_stamp, last_suffix, _ = existing[-1]
        if last_stamp >= stamp:
            stamp, suffix = last_stamp, last_suffix + 1
    while True:
        name = f"{log_path.stem}-{stamp}-{suffix}.csv" if suffix else f"{log_path.stem}-{stamp}.csv"
        candidate = log_path.with_name(name)
        if not os.path.lexists(candidate):
            return candidate
        suffix += 1
