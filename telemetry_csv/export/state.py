"""What was already exported: local, never committed, advanced only for acknowledged rows.

The state lives in the git directory (`git rev-parse --git-common-dir`, so every worktree of a
clone shares it) as `telemetry-csv/export-otlp.json`, under a lock held for the whole export.
Each destination and selection (the traces URL, and --since/--until/--model/--task-type/--tz)
has its own entry, so exporting to a second backend, or a narrower selection first, never
hides rows from another.

An entry keeps, per log file, how many of its rows are done and a digest of them; the file is
known by its first row, not its name, so a rotation that renames the log into a backup keeps its
progress. The log is append-only (the append-only hook enforces it), so the rows done are always
a prefix: the next export checks that prefix still reads the same and starts right after it.
That is the tailing scheme of log shippers (Filebeat's registry, the Collector's filelog receiver:
a fingerprint of the file's start and an offset), and its size grows with the number of files,
never with the number of rows, unlike a set of every id ever sent. A file whose prefix no longer
reads the same (rows inserted before ones already sent, as when a merge puts a teammate's rows
first) is exported again whole: its spans carry the same ids as before, so a backend that
de-duplicates by id keeps one copy; its metrics are not sent again (docs/export-otlp.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, NamedTuple

from telemetry_csv import fs
from telemetry_csv.errors import EXIT_FILE, LockTimeoutError, LogFileError, TelemetryError
from telemetry_csv.git import plumbing

STATE_FOLDER = "telemetry-csv"
STATE_FILE = "export-otlp.json"
_VERSION = 1
MAX_FILES = 256  # per entry: files no longer read are forgotten oldest first
MAX_ENTRIES = 64
MAX_STATE_BYTES = 64 << 20  # far more than MAX_ENTRIES entries of MAX_FILES files


class StateError(TelemetryError):
    exit_code = EXIT_FILE


class FileProgress(NamedTuple):
    first: str  # hex digest of the file's first row: which file this is
    rows: int  # how many of its rows, in order, are done
    digest: str  # hex digest of those rows' lines


def new_digest() -> Any:
    """The running digest of a file's rows (each line and a newline): `hashlib.blake2b`."""
    return hashlib.blake2b(digest_size=16)


def line_digest(line: str) -> str:
    return hashlib.blake2b(line.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def state_path(root: Path) -> Path | None:
    """Where the state of the repository at `root` lives; None outside a git repository."""
    out = plumbing.run(["rev-parse", "--git-common-dir"], root, check=False).decode().strip()
    if not out:
        return None
    common = Path(out)
    if not common.is_absolute():
        common = root / common
    return common / STATE_FOLDER / STATE_FILE


def entry_key(destination: str, selection: str) -> str:
    return hashlib.sha256(f"{destination}\n{selection}".encode()).hexdigest()[:32]


class ExportState:
    """One entry of the state file: the progress of one destination and selection."""

    def __init__(self, path: Path, key: str, label: dict[str, str]) -> None:
        self.path = path
        self.key = key
        self.label = label  # what the entry is for, for people reading the file
        self._entries: dict[str, Any] = {}
        self.files: list[FileProgress] = []
        self._lock: Any = None

    def lock(self, timeout: float) -> None:
        """Hold the state's lock until `unlock`: one export of a repository at a time."""
        from filelock import FileLock, Timeout

        try:
            fs.require_folder(self.path.parent, create=True)
            self._lock = FileLock(str(self.path) + ".lock", timeout=timeout)
            self._lock.acquire()
        except Timeout:
            raise LockTimeoutError(
                f"could not lock {self.path}.lock within {timeout:g}s: another export of this "
                "repository is running; try again when it ends"
            ) from None
        except OSError as error:
            raise StateError(f"cannot lock {self.path}: {error.strerror or error}") from None
        except LogFileError as error:
            raise StateError(f"{error}; nothing was sent") from None

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def load(self) -> None:
        """Read the file; a missing one is empty, and so (with the rows sent again, under the
        same ids) is one that cannot be read as a state."""
        try:
            # A link (never followed), a FIFO or a huge file is refused, not read.
            content = fs.read_bounded(self.path, MAX_STATE_BYTES)
        except (fs.LinkError, fs.NotRegularError) as error:
            raise StateError(
                f"{error}; the export state must be a regular file: remove it"
            ) from None
        except LogFileError:
            return  # too large to be ours: as damaged, the rows are sent again under their ids
        if content is None:
            return
        try:
            data = json.loads(content)
        except (ValueError, RecursionError):
            return
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            return
        entries = data.get("exports")
        if not isinstance(entries, dict):
            return
        self._entries = entries
        entry = entries.get(self.key)
        if isinstance(entry, dict):
            self.files = [
                FileProgress(str(first), int(rows), str(digest))
                for first, rows, digest in entry.get("files", [])
                if isinstance(rows, int) and rows > 0
            ]

    def candidates(self, first: str) -> list[FileProgress]:
        return [progress for progress in self.files if progress.first == first]

    def save(self, done: list[FileProgress], *, durable: bool = True) -> None:
        """Record `done` (the files of this export) in front of what other files had."""
        current = {(progress.first, progress.rows, progress.digest) for progress in done}
        firsts = {progress.first for progress in done}
        kept = [
            progress
            for progress in self.files
            if progress.first not in firsts and tuple(progress) not in current
        ]
        files = [*done, *kept][:MAX_FILES]
        entries = dict(self._entries)
        entries[self.key] = {
            **self.label,
            "updated": int(time.time()),
            "files": [list(progress) for progress in files],
        }
        if len(entries) > MAX_ENTRIES:
            newest = sorted(entries, key=lambda key: entries[key].get("updated", 0), reverse=True)
            entries = {key: entries[key] for key in newest[:MAX_ENTRIES]}
        text = json.dumps({"version": _VERSION, "exports": entries}, indent=1, sort_keys=True)
        _write(self.path, (text + "\n").encode(), durable=durable)
        self._entries = entries


def _write(path: Path, content: bytes, *, durable: bool) -> None:
    """Replace `path` atomically: a new file of an unguessable name beside it (fs.NewFile),
    renamed over it; a link at `path` is replaced, never written through. `durable`: fsynced
    first (the rename is atomic either way)."""
    try:
        with fs.NewFile(path, keep=_private(path), mode=0o600) as new:
            new.write(content)
            new.commit(durable=durable)
    except LogFileError as error:
        raise StateError(str(error)) from None


def _private(path: Path) -> os.stat_result | None:
    """The mode to keep: the old file's, if it is a regular file; else None (a new file)."""
    try:
        return fs.lstat_regular(path)
    except LogFileError:
        return None
