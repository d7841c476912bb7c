r"""Which files make up a log: the log itself, its backups, its shard folder and the files kept
beside them.

A log's name ends in `.csv`, because its backups are named from its stem:
`STEM-YYYYMMDDTHHMMSSZ[-N].csv`, in UTC, sorting oldest first by the time in the name and
then the suffix, so that reading the backups in that order, then the log, gives every row in
append order. The backups of the shell scripts telemetry-csv replaces,
`STEM_backup_YYYYMMDD_HHMMSS.csv` (local time), are backups too, read first, in the order of
their first rows. Beside the log live its lock (`NAME.lock`) and the temporary files a new log
is written to before it is renamed into place (`.NAME.RANDOM.tmp`, see `fs.temporary_beside`);
neither is ever read as a log.

The team layout (docs/teams.md) keeps rows in the log's shard folder, `STEM.rows/` beside it:

- shards, `YYYYMMDDTHHMMSSZ-<16 hex>.csv` (UTC, when it was started; the hex is random), each a
  small log of its own that never changes once committed; a shard's name is its identity;
- folds, `fold-<16 hex>.csv`, many shards' rows in one file, each with its manifest
  `fold-<16 hex>.manifest` (which shards, how many rows each, their content hash; the hex is
  derived from the manifest, see `folds.py`);
- the journal of a tail move in progress, `.move.<FROM>.<SIZE>.<TO>.tmp` (see `sharding.py`),
  which tells readers that FROM's rows past SIZE bytes are TO's now.

Old versions of telemetry-csv, and their hooks (`^\.telemetry/[^/]+\.csv$`) and merge
attribute (`.telemetry/*.csv`), never look into a subfolder, so they leave the shards alone.
"""

from __future__ import annotations

import math
import os
import re
import time
from functools import cache
from pathlib import Path

from telemetry_csv.errors import TelemetryError

LOG_SUFFIX = ".csv"
_BACKUP_NAME = r"{stem}-([0-9]{{8}}T[0-9]{{6}}Z)(?:-([0-9]+))?\.csv"
# The backups the shell scripts telemetry-csv replaces made (docs/migrate.md): named in the
# local time of whoever ran them, so their names cannot be compared with the UTC ones above.
_SCRIPT_BACKUP_NAME = r"{stem}_backup_[0-9]{{8}}_[0-9]{{6}}\.csv"
# Both forms as globs, wider than the names (git pathspecs; `backup_order` decides).
BACKUP_GLOBS = ("{stem}-*.csv", "{stem}_backup_*.csv")
SHARD_FOLDER_SUFFIX = ".rows"


@cache
def _names() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The names of shards, folds, manifests and move journals, compiled on first use: `log`
    seldom needs them, and compiling them costs its start-up."""
    return (
        re.compile(r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{16}\.csv"),
        re.compile(r"fold-([0-9a-f]{16})\.csv"),
        re.compile(r"fold-([0-9a-f]{16})\.manifest"),
        re.compile(
            r"\.move\.([0-9]{8}T[0-9]{6}Z-[0-9a-f]{16}\.csv)\.([0-9]+)\."
            r"([0-9]{8}T[0-9]{6}Z-[0-9a-f]{16}\.csv)\.tmp"
        ),
    )


def shard_folder(log_path: Path) -> Path:
    """The team layout's folder for the log at `log_path`: `.telemetry/usage.rows/` for
    `.telemetry/usage.csv`. Named after the log, so that no other folder of a project can be
    taken for it, wherever the log is configured to live."""
    return log_path.with_name(log_path.stem + SHARD_FOLDER_SUFFIX)


def log_of_shard(path: Path) -> Path | None:
    """The log whose shard folder holds the shard at `path`, or None if it is not a shard."""
    folder = path.parent
    if not is_shard_name(path.name) or not folder.name.endswith(SHARD_FOLDER_SUFFIX):
        return None
    return folder.with_name(folder.name[: -len(SHARD_FOLDER_SUFFIX)] + LOG_SUFFIX)


def new_shard_name(folder: Path) -> str:
    """A name for a new shard in `folder` that no other clone, branch or process will pick (the
    UTC time, then 64 random bits) and that sorts after every shard already there: shards read
    back in name order, and two started within one second (a full shard, a batch of rows) must
    still read back in the order they were started."""
    name = f"{utc_stamp()}-{os.urandom(8).hex()}.csv"
    last = max((other for other in list_names(folder) if is_shard_name(other)), default="")
    if name > last:
        return name
    # Same second (or a clock set back): the last shard's time, and a suffix past its own by a
    # random step, so that two clones doing this still pick different names.
    stamp, suffix = last[:16], int(last[17:33], 16) + 1 + int.from_bytes(os.urandom(4))
    if suffix >= 1 << 64:  # past the last suffix of that second: the next second
        import calendar  # seldom needed, and it imports datetime: not at `log`'s start-up

        seconds = calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ")) + 1
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(seconds))
        suffix = int.from_bytes(os.urandom(8)) >> 1
    return f"{stamp}-{suffix:016x}.csv"


def is_shard_name(name: str) -> bool:
    return _names()[0].fullmatch(name) is not None


def is_fold_name(name: str) -> bool:
    return _names()[1].fullmatch(name) is not None


def manifest_name(fold: str) -> str:
    """The manifest beside the fold named `fold`."""
    return fold[: -len(LOG_SUFFIX)] + ".manifest"


def fold_of_manifest(name: str) -> str | None:
    """The fold a manifest named `name` describes, or None if it is not a manifest's name."""
    match = _names()[2].fullmatch(name)
    return f"fold-{match.group(1)}.csv" if match else None


def move_name(source: str, size: int, target: str) -> str:
    """The journal of moving `source`'s rows past `size` bytes to `target` (sharding.py)."""
    return f".move.{source}.{size}.{target}.tmp"


def parse_move_name(name: str) -> tuple[str, int, str] | None:
    """(source, size, target) of a move journal's name, or None."""
    match = _names()[3].fullmatch(name)
    return (match.group(1), int(match.group(2)), match.group(3)) if match else None


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
    """Refuse a log name that cannot be one: a refused value (exit status 2), as the same name
    in the `log` setting is, whether it came from --file or from the configuration."""
    problem = log_name_problem(log_path.name)
    if problem:
        raise TelemetryError(f"{log_path}: {problem}")


def utc_stamp() -> str:
    """Now in UTC, to the second, as file names carry it: YYYYMMDDTHHMMSSZ."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def backup_order(log_name: str, name: str) -> tuple[str, int] | None:
    """Where a file named `name` sorts among the backups of the log named `log_name` (oldest
    first: by the time in the name, then its suffix), or None if it is not one of them. The
    shell scripts' backups (`STEM_backup_YYYYMMDD_HHMMSS.csv`) are backups too and sort before
    every other: they were made before telemetry-csv wrote any (`backup_paths` orders them
    among themselves by their rows)."""
    stem = re.escape(Path(log_name).stem)
    match = re.fullmatch(_BACKUP_NAME.format(stem=stem), name)
    if match:
        return (match.group(1), int(match.group(2) or 0))
    if re.fullmatch(_SCRIPT_BACKUP_NAME.format(stem=stem), name):
        return ("", 0)
    return None


def is_backup_name(name: str) -> bool:
    """True for a file name of a backup of any log: `STEM-YYYYMMDDTHHMMSSZ[-N].csv`, or the
    shell scripts' `STEM_backup_YYYYMMDD_HHMMSS.csv`."""
    return any(
        re.fullmatch(pattern.format(stem=".+"), name) is not None
        for pattern in (_BACKUP_NAME, _SCRIPT_BACKUP_NAME)
    )


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
    found.sort()
    scripts = [entry for entry in found if not entry[0]]
    if len(scripts) > 1:
        scripts.sort(key=lambda entry: (_first_instant(entry[2]), entry[2].name))
        found[: len(scripts)] = scripts
    return found


def _first_instant(path: Path) -> float:
    """The instant of the first row of a shell script's backup, to order those backups by
    their rows (their names hold the local time of whoever ran the script, and clocks, zones and
    daylight saving time differ); infinity when it has no readable first row, which `check`
    reports. Only a regular file is read (never through a link), and only its first 64 KiB."""
    import stat

    from telemetry_csv import fs, rfc3339

    try:
        listed = os.lstat(path)  # a link is never followed, not even to sort by its rows
        if not stat.S_ISREG(listed.st_mode):
            return math.inf
        with fs.open_regular(path) as file:
            opened = os.fstat(file.fileno())
            if (opened.st_dev, opened.st_ino) != (listed.st_dev, listed.st_ino):
                return math.inf
            head = file.read(1 << 16)
    except (OSError, fs.LinkError, fs.NotRegularError):
        return math.inf
    lines = head.split(b"\n", 2)
    stamp = lines[1].split(b",", 1)[0].decode("ascii", "replace") if len(lines) > 2 else ""
    if rfc3339.problem(stamp) is not None:
        return math.inf
    return rfc3339.instant_ns(stamp)


def log_files(log_path: Path) -> list[Path]:
    """Every file that holds the log's rows, in the order they are read: the backups, oldest
    first, the log itself if it exists, then the shard folder's folds and shards (`ShardFiles`).
    A shard may be in a fold as well (a merge can bring a folded shard back): read them with
    `snapshot.take`, which counts each shard's rows once."""
    files = backup_paths(log_path)
    if os.path.lexists(log_path):  # a link too, so that reading it says what it is
        files.append(log_path)
    shards = ShardFiles.of(shard_folder(log_path))
    files += [shards.folder / name for name in (*shards.folds, *shards.shards)]
    return files


class ShardFiles:
    """The names in a shard folder, sorted by kind: folds (by name), shards (by name, so by the
    time they were started), manifests and move journals; anything else is not the log's."""

    def __init__(self, folder: Path, names: list[str]):
        self.folder = folder
        self.names = names  # every name, as listed
        self.folds: list[str] = []
        self.shards: list[str] = []
        self.manifests: list[str] = []
        self.moves: list[tuple[str, int, str]] = []
        shard, fold, manifest, _ = _names()
        for name in sorted(names):
            if shard.fullmatch(name):
                self.shards.append(name)
            elif fold.fullmatch(name):
                self.folds.append(name)
            elif manifest.fullmatch(name):
                self.manifests.append(name)
            else:
                move = parse_move_name(name)
                if move is not None:
                    self.moves.append(move)

    @classmethod
    def of(cls, folder: Path) -> ShardFiles:
        """The shard folder's names; none when there is no folder. A link or a file there is
        refused (LogFileError): its rows would not be the repository's own."""
        if not require_shard_folder(folder):
            return cls(folder, [])
        return cls(folder, list_names(folder))


def require_shard_folder(folder: Path, *, create: bool = False) -> bool:
    """Whether the shard folder is there (with `create`, it is made if missing); a symbolic link
    or anything but a real folder is refused (LogFileError), never followed."""
    from telemetry_csv import fs

    return fs.require_folder(
        folder,
        create=create,
        advice=(
            "; the shard folder must be a real folder inside the repository (git commits a "
            "link, not the files behind it): remove the link, or replace it by the folder"
        ),
    )


def list_names(folder: Path) -> list[str]:
    """The names in `folder`; none if it does not exist (or is not a folder)."""
    try:
        return os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []


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
