"""A consistent view of all of a log's files, taken without a lock while writers go on.

`check`, `report` and `cat` read the log, its backups, and the shard folder's folds and shards
while other processes append, rotate, start shards, move a tail (sharding.py) or fold. A reader
may have no write access, so it cannot take the log's lock, and it must count every row logged
before it started, exactly once, or fail. It reads:

1. the names: the log's folder (for the log and its backups) and the shard folder, listed, every
   entry's status taken (`lstat`: device, inode, size), then both listed again; until the two
   listings agree, since every change but an append adds, removes or renames a name first;
2. every file, one at a time (so thousands of files never meet the open-file limit), checked on
   the opened descriptor to be the inode listed and at least the size listed, and read only up
   to that size (an append still being written past it is someone else's, newer row). The log
   renamed to a backup since the listing is followed to its new name by its inode;
3. each shard's rows once: a shard inside a fold (the fold's manifest names it) is read from the
   first fold that holds it, and neither a later fold's copy nor the loose file is read; a shard
   whose rows past some size a move journal gives to another shard is read up to that size.

Anything else that changes a listed file (deleted by a fold, shrunk, replaced) raises
`LogChanged`: `read_consistently` starts the whole read again, a bounded number of times, and
then says so. Rows logged after the listing may or may not be counted; rows logged before it
always are, once.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import BinaryIO, TypeVar

from telemetry_csv import fs
from telemetry_csv.errors import LogFileError
from telemetry_csv.logfile import folds, layout
from telemetry_csv.logfile.reading import NOT_READ, Problem, ScanItem, scan_data, scan_opened
from telemetry_csv.logfile.schema import Row, Schema

T = TypeVar("T")
_LIST_ATTEMPTS = 50
_READ_ATTEMPTS = 20


class LogChanged(Exception):
    """A file listed in a snapshot changed in a way that reading on could count a row twice or
    miss one; the read starts again (`read_consistently`)."""


@dataclass(frozen=True)
class Entry:
    path: Path
    name: str
    kind: str  # "backup", "log", "fold", "shard"
    info: os.stat_result | None  # None: not a regular file (a link, a folder, a FIFO...)
    size: int  # how many bytes to read


@dataclass
class Snapshot:
    log_path: Path
    entries: list[Entry]
    display: Callable[[Path], str] = str
    manifests: dict[str, list[folds.Entry] | str] = field(default_factory=dict)  # or why not
    owners: dict[str, str] = field(default_factory=dict)  # shard -> the fold read for it
    orphan_manifests: list[str] = field(default_factory=list)

    @property
    def paths(self) -> list[Path]:
        return [entry.path for entry in self.entries]

    def require_regular(self) -> None:
        """Refuse (LogFileError, one line) a listed file that is a symbolic link or not a regular
        file, before anything is read: a reader that prints or sends rows (`report`, `cat`,
        `export`) reads none rather than leave one file out; `check` reports it instead.
        Raises LogChanged when the name has changed since the listing."""
        for entry in self.entries:
            if entry.info is None:
                try:
                    fs.lstat_regular(entry.path)
                except (fs.LinkError, fs.NotRegularError) as error:
                    raise LogFileError(
                        f"{error}; a log, backup, shard or fold must be a regular file, and "
                        "this one was not read"
                    ) from None
                raise LogChanged(entry.name)

    def count(self, kind: str) -> int:
        return sum(1 for entry in self.entries if entry.kind == kind)

    def description(self) -> str:
        """What was read, for people: `.telemetry/usage.csv, 2 backups, 14 shards and 1 fold`."""
        if not self.entries:
            return f"{self.display(layout.shard_folder(self.log_path))} (no rows yet)"
        has_log = any(entry.kind == "log" for entry in self.entries)
        counted = [(kind, self.count(kind)) for kind in ("backup", "shard", "fold")]
        extras = [f"{count} {kind}{'s' if count != 1 else ''}" for kind, count in counted if count]
        if has_log or self.count("backup") or not extras:
            parts = [self.display(self.log_path) + ("" if has_log else " (missing)"), *extras]
            return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        listed = extras[0] if len(extras) == 1 else ", ".join(extras[:-1]) + " and " + extras[-1]
        return f"{self.display(layout.shard_folder(self.log_path))} ({listed})"

    def files(
        self,
        schema: Schema,
        *,
        rows: bool = True,
        validate: bool = False,
        max_bytes: int | None = None,
    ) -> Iterator[tuple[str, Iterator[ScanItem]]]:
        """Each file's name to show and its items (see `reading.scan_items`), each shard's rows
        once. With `validate` (`check`), the copies not counted are read too, for their problems
        only, and each is compared with the copy that counts. Raises LogChanged."""
        for shown, read in self.readers(schema, rows=rows, validate=validate, max_bytes=max_bytes):
            yield shown, read()

    def readers(
        self,
        schema: Schema,
        *,
        rows: bool = True,
        validate: bool = False,
        max_bytes: int | None = None,
    ) -> list[tuple[str, Callable[[], Iterator[ScanItem]]]]:
        """What `files` yields, as a function per file that reads it (again, each time it is
        called, checked as `files` checks it): for a reader that passes over the files more
        than once (`export`)."""
        found: list[tuple[str, Callable[[], Iterator[ScanItem]]]] = []
        for name in self.orphan_manifests:
            path = layout.shard_folder(self.log_path) / name
            problem = (
                f"a manifest without its fold {layout.fold_of_manifest(name)}; restore the "
                "fold with git"
            )
            shown = self.display(path)
            found.append((shown, _problem(Problem(shown, 0, "file", problem))))
        for entry in self.entries:
            shown = self.display(entry.path)
            if entry.info is None:
                found.append((shown, _problem(_not_regular(entry.path, shown))))
            elif entry.kind == "fold":
                found.append(
                    (
                        shown,
                        partial(self._fold_items, entry, shown, schema, rows, validate, max_bytes),
                    )
                )
            elif entry.kind == "shard" and entry.name in self.owners:
                if validate:
                    found.append((shown, partial(self._copy_items, entry, shown, schema)))
            else:
                # A backup holds what it was given: the shell scripts' backups pass 10 MiB.
                limit = None if entry.kind == "backup" else max_bytes
                found.append(
                    (
                        shown,
                        partial(self._plain_items, entry, shown, schema, rows, limit, validate),
                    )
                )
        return found

    def _plain_items(
        self,
        entry: Entry,
        shown: str,
        schema: Schema,
        rows: bool,
        max_bytes: int | None,
        warnings: bool = False,
    ) -> Iterator[ScanItem]:
        return scan_opened(
            self._open(entry),
            shown,
            schema,
            rows=rows,
            limit=entry.size,
            max_bytes=max_bytes,
            warnings=warnings,
        )

    def _open(self, entry: Entry) -> BinaryIO:
        """The file listed as `entry`, checked on its descriptor; the log followed to the backup
        it was renamed to. Raises LogChanged."""
        try:
            fd = os.open(
                entry.path, os.O_RDONLY | fs.NOFOLLOW | fs.NONBLOCK | fs.CLOEXEC | fs.BINARY
            )
        except OSError:
            fd = -1
        info = os.fstat(fd) if fd >= 0 else None
        assert entry.info is not None
        if info is None or (info.st_dev, info.st_ino) != (entry.info.st_dev, entry.info.st_ino):
            if fd >= 0:
                os.close(fd)
            fd = self._follow(entry) if entry.kind == "log" else -1
            if fd < 0:
                raise LogChanged(entry.name)
            info = os.fstat(fd)
        if info.st_size < entry.size:
            os.close(fd)
            raise LogChanged(entry.name)
        return os.fdopen(fd, "rb")

    def _follow(self, entry: Entry) -> int:
        """The log renamed to a backup since the listing (a rotation): found by its inode."""
        assert entry.info is not None
        for path in layout.backup_paths(self.log_path):
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if (info.st_dev, info.st_ino) == (entry.info.st_dev, entry.info.st_ino):
                try:
                    fd = os.open(
                        path, os.O_RDONLY | fs.NOFOLLOW | fs.NONBLOCK | fs.CLOEXEC | fs.BINARY
                    )
                except OSError:
                    return -1
                opened = os.fstat(fd)
                if (opened.st_dev, opened.st_ino) == (info.st_dev, info.st_ino):
                    return fd
                os.close(fd)
                return -1
        return -1

    def _read(self, entry: Entry) -> bytes:
        with self._open(entry) as file:
            return file.read(entry.size)

    def _fold_items(
        self,
        entry: Entry,
        shown: str,
        schema: Schema,
        rows: bool,
        validate: bool,
        max_bytes: int | None,
    ) -> Iterator[ScanItem]:
        if max_bytes is not None and entry.size > max_bytes:
            yield Problem(shown, 0, "file", f"{entry.size:,} bytes, over max_bytes ({max_bytes:,})")
        manifest = self.manifests.get(entry.name)
        if not isinstance(manifest, list):
            why = manifest or f"its manifest {layout.manifest_name(entry.name)} is missing"
            yield Problem(
                shown,
                0,
                "file",
                f"{why}: which shards this fold holds is unknown, so its rows may be counted "
                "twice; restore the manifest with git",
            )
            yield from scan_opened(
                self._open(entry), shown, schema, rows=rows, limit=entry.size, warnings=validate
            )
            return
        data = self._read(entry)
        wrong = folds.verify(data, manifest) if validate else None
        expected_name = folds.fold_name(folds.manifest_bytes(manifest))
        if validate and expected_name != entry.name:
            wrong = f"its name does not match its manifest (expected {expected_name})"
        try:
            ranges = folds.segments(data, manifest)
        except ValueError as error:
            yield Problem(shown, 0, "file", f"{error}; the fold does not match its manifest")
            yield from scan_data(data, schema, shown, rows=rows, warnings=validate)
            return
        if wrong:
            yield Problem(shown, 0, "file", f"{wrong}; the fold does not match its manifest")
        if all(self.owners.get(e.shard) == entry.name for e in manifest):
            yield from scan_data(data, schema, shown, rows=rows, warnings=validate)
            return
        line = 2
        extended = folds.is_extended(data)
        for shard, (start, end) in zip(manifest, ranges, strict=True):
            if self.owners.get(shard.shard) == entry.name:
                yield from scan_data(
                    data[start:end],
                    schema,
                    shown,
                    rows=rows,
                    first_line=line,
                    extended=extended,
                    warnings=validate,
                )
            elif validate:
                segment = scan_data(
                    data[start:end], schema, shown, rows=False, first_line=line, extended=extended
                )
                yield from (item for item in segment if isinstance(item, Problem))
            line += shard.rows

    def _copy_items(self, entry: Entry, shown: str, schema: Schema) -> Iterator[ScanItem]:
        """A loose shard that a fold holds: its problems, and whether it is the same shard."""
        data = self._read(entry)
        owner = self.owners[entry.name]
        manifest = self.manifests[owner]
        assert isinstance(manifest, list)
        expected = next(e.sha256 for e in manifest if e.shard == entry.name)
        if folds.shard_hash(data) != expected:
            yield Problem(
                shown,
                0,
                "file",
                f"differs from the copy of {entry.name} in {owner} (whose rows count): a "
                f"committed shard never changes; restore it with git, or delete it "
                f"(`telemetry-csv fold` deletes shards a fold holds)",
            )
        for item in scan_data(data, schema, shown, rows=False):
            if isinstance(item, Problem):
                yield item

    def items(
        self, schema: Schema, *, rows: bool = True, validate: bool = False
    ) -> Iterator[ScanItem]:
        for _, items in self.files(schema, rows=rows, validate=validate):
            yield from items

    def exists(self) -> bool:
        """Whether there is a log here at all: a file of it, or its folder (`init` made it)."""
        return bool(self.entries or self.orphan_manifests) or self.log_path.parent.is_dir()


def take(log_path: Path, *, display: Callable[[Path], str] = str) -> Snapshot:
    """List the log's files consistently (see the module docstring); raises LogFileError if the
    names keep changing."""
    folder = layout.shard_folder(log_path)
    for attempt in range(_LIST_ATTEMPTS):
        legacy = _legacy_names(log_path)
        shards = layout.ShardFiles.of(folder)
        infos = {name: _lstat(log_path.parent / name) for name in legacy}
        infos.update({name: _lstat(folder / name) for name in shards.names})
        if _legacy_names(log_path) != legacy or sorted(layout.list_names(folder)) != sorted(
            shards.names
        ):
            continue
        folded = {layout.manifest_name(fold) for fold in shards.folds}
        if attempt < _LIST_ATTEMPTS - 1 and not set(shards.manifests) <= folded:
            # `fold` writes a fold's manifest just before the fold: wait for the fold, and
            # report a manifest left alone only if it stays alone.
            time.sleep(0.001 * (attempt + 1))
            continue
        return _snapshot(log_path, legacy, shards, infos, display)
    raise LogFileError(
        f"the files of {display(log_path)} kept changing while they were listed; try again"
    )


def read_consistently(
    read: Callable[[Snapshot], T],
    log_path: Path,
    *,
    display: Callable[[Path], str] = str,
    attempts: int = _READ_ATTEMPTS,
) -> T:
    """`read(snapshot)` on a fresh snapshot until one goes through without `LogChanged`."""
    for attempt in range(attempts):
        try:
            return read(take(log_path, display=display))
        except LogChanged:
            time.sleep(min(0.01 * attempt, 0.2))  # let the fold or the rotation finish
    raise LogFileError(
        f"the files of {display(log_path)} kept changing while they were read ({attempts} "
        "times: a fold or a rotation each time); try again"
    )


def read_log(log_path: Path, schema: Schema | None = None) -> Iterator[Row]:
    """Every row of the log at `log_path` (its backups, itself, its folds and shards), each
    shard's rows once, from a snapshot taken now, each file read in its own header's shape;
    InvalidLogError at the first problem, as `read_rows`, and LogFileError if a fold or a
    rotation changed the files under it (read again then: rows already yielded cannot be taken
    back). Rows are as stored: rows with one source_id all come (`source_ids.SeenIds` says
    which one counts)."""
    from telemetry_csv.errors import InvalidLogError
    from telemetry_csv.logfile.reading import run_fast_path

    schema = schema or Schema()
    try:
        for item in take(log_path).items(schema):
            if isinstance(item, str):
                yield from run_fast_path(schema, item).rows_of(item)
            elif isinstance(item, Row):
                yield item
            else:
                raise InvalidLogError(f"{item}; run `telemetry-csv check` for every problem")
    except LogChanged:
        raise LogFileError(
            f"the files of {log_path} changed while they were read (a fold or a rotation); "
            "read them again"
        ) from None


def _not_regular(path: Path, shown: str) -> Problem:
    """What `check` says of a listed file that is a link or not a regular file."""
    try:
        fs.lstat_regular(path)
        what = "changed while it was listed"
    except fs.LinkError as error:
        what = f"a symbolic link (to {error.target}); {NOT_READ}"
    except fs.NotRegularError as error:
        what = f"not a regular file ({error.kind}); {NOT_READ}"
    except LogFileError as error:
        what = str(error)
    return Problem(shown, 0, "file", what)


def _problem(problem: Problem) -> Callable[[], Iterator[ScanItem]]:
    return lambda: iter([problem])


def _legacy_names(log_path: Path) -> list[str]:
    """The backups, oldest first, then the log: names in the log's folder."""
    names = []
    for path in layout.backup_paths(log_path):
        names.append(path.name)
    if os.path.lexists(log_path):
        names.append(log_path.name)
    return names


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _snapshot(
    log_path: Path,
    legacy: list[str],
    shards: layout.ShardFiles,
    infos: dict[str, os.stat_result | None],
    display: Callable[[Path], str],
) -> Snapshot:
    entries = []
    for name in legacy:
        kind = "log" if name == log_path.name else "backup"
        entries.append(_entry(log_path.parent / name, name, kind, infos[name]))
    caps = {
        source: size
        for source, size, target in shards.moves
        if source in shards.shards and target in shards.shards
    }
    manifests: dict[str, list[folds.Entry] | str] = {}
    for fold in shards.folds:
        manifests[fold] = _manifest(shards.folder / layout.manifest_name(fold))

    # A shard's rows count in the first fold that holds it, folds in the order of their shards.
    def first_shard(fold: str) -> tuple[str, str]:
        manifest = manifests[fold]
        return (manifest[0].shard if isinstance(manifest, list) else "~", fold)

    ordered = sorted(shards.folds, key=first_shard)
    owners: dict[str, str] = {}
    for fold in ordered:
        entries.append(_entry(shards.folder / fold, fold, "fold", infos.get(fold)))
        manifest = manifests[fold]
        if isinstance(manifest, list):
            for shard in manifest:
                owners.setdefault(shard.shard, fold)
    for name in shards.shards:
        entry = _entry(shards.folder / name, name, "shard", infos.get(name))
        if name in caps and entry.size > caps[name]:
            entry = Entry(entry.path, name, "shard", entry.info, caps[name])
        entries.append(entry)
    orphans = [
        name for name in shards.manifests if layout.fold_of_manifest(name) not in set(shards.folds)
    ]
    return Snapshot(log_path, entries, display, manifests, owners, orphans)


def _entry(path: Path, name: str, kind: str, info: os.stat_result | None) -> Entry:
    if info is None or not stat.S_ISREG(info.st_mode):
        return Entry(path, name, kind, None, 0)
    return Entry(path, name, kind, info, info.st_size)


def _manifest(path: Path) -> list[folds.Entry] | str:
    """The manifest's entries, or why it cannot be read (a link is never followed, a FIFO never
    waited on, a huge file never read)."""
    try:
        data = fs.read_bounded(path, _MANIFEST_LIMIT)
    except fs.LinkError as error:
        return f"its manifest {path.name} is a symbolic link (to {error.target}), never read"
    except fs.NotRegularError as error:
        return f"its manifest {path.name} is not a regular file ({error.kind})"
    except LogFileError as error:
        return f"its manifest {path.name} cannot be read: {error}"
    if data is None:
        return f"its manifest {path.name} is missing"
    try:
        return folds.parse_manifest(data)
    except ValueError as error:
        return f"its manifest {path.name} cannot be read: {error}"


_MANIFEST_LIMIT = 16 << 20  # far more than the manifest of any fold within max_bytes
