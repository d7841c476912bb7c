"""A log as a revision holds it: its settings, its files, and their rows, read from git's objects.

The append-only rules and `report --range` compare two revisions (or a revision and the index).
Each revision is read as its own settings describe it (`settings_at`: its `pyproject.toml` and
`.telemetry/config.toml`), so a commit that moves the log cannot hide the old one's rows. A
`LogSet` lists the files that hold the log's rows there: the log and its backups, and the shard
folder's shards, folds and manifests, each with its object id, so that files that did not
change are never read. Everything is read through one `git cat-file --batch` (`BlobReader`).

Rows have an identity: a shard's rows are that shard's (its name), wherever they are, loose or
inside a fold; the log's and its backups' rows belong to the log. `Identity` rows are compared
as multisets of canonical lines per owner.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from telemetry_csv.config import Settings, settings_from_texts
from telemetry_csv.errors import ConfigError, LogFileError
from telemetry_csv.git import plumbing
from telemetry_csv.logfile import layout
from telemetry_csv.logfile.canonical import row_keys
from telemetry_csv.logfile.schema import Schema

if TYPE_CHECKING:
    # Imported where folds are read: a log with none (the pre-commit hook's usual case) never
    # needs the module.
    from telemetry_csv.logfile import folds

LEGACY = ""  # the owner of the log's and its backups' rows


def object_name(revision: str, path: str) -> str:
    """How `git cat-file` names a path at a revision, or in the index (plumbing.INDEX)."""
    return f"{revision}:{path}"


def settings_at(
    revision: str, root: Path, blobs: plumbing.BlobReader, fallback: Settings
) -> Settings:
    """The settings a revision holds. An old revision whose settings cannot be read (a newer
    version's key, a typo committed long ago) is read with `fallback`: refusing would block
    every commit after it."""
    texts = [
        blobs.read(object_name(revision, "pyproject.toml")),
        blobs.read(object_name(revision, ".telemetry/config.toml")),
    ]
    try:
        decoded = [None if text is None else text.decode("utf-8") for text in texts]
        return settings_from_texts(root, *decoded)
    except (ConfigError, UnicodeDecodeError):
        return fallback


class LogSet:
    """The files that hold a log at one revision, each with its object id."""

    # A plain class, not a dataclass: the append-only hook imports this module, and
    # `dataclasses` brings `inspect` and its own imports into the hook's start-up.
    def __init__(self, revision: str, label: str, log_path: str, folder: str) -> None:
        self.revision = revision  # a commit id, or plumbing.INDEX
        self.label = label  # for people: "HEAD", "staged", "MERGE_HEAD (3f9c1e7a5b2d)"
        self.log_path = log_path  # git paths, relative to the top level
        self.folder = folder
        self.legacy: list[tuple[str, str]] = []  # (path, id): backups, log
        self.shards: dict[str, str] = {}  # name -> id
        self.folds: dict[str, str] = {}
        self.manifests: dict[str, str] = {}  # manifest name -> id
        self.sizes: dict[str, int] = {}  # object id -> size (-1: not known)

    def _fields(self) -> tuple[object, ...]:
        return (
            self.revision,
            self.label,
            self.log_path,
            self.folder,
            self.legacy,
            self.shards,
            self.folds,
            self.manifests,
            self.sizes,
        )

    def __eq__(self, other: object) -> bool:
        return type(other) is LogSet and self._fields() == other._fields()

    def __repr__(self) -> str:
        return f"LogSet{self._fields()!r}"

    def path(self, name: str) -> str:
        return f"{self.folder}/{name}"

    def same_place(self, other: LogSet) -> bool:
        return (self.log_path, self.folder) == (other.log_path, other.folder)


def log_set_at(
    revision: str, label: str, settings: Settings, root: Path, *, old: bool = False
) -> LogSet:
    """The files of the log that `settings` configure, at a revision or in the index. A
    symbolic link at one of their names is refused; at an `old` revision (what a change is
    compared with) it is left out instead, as a link holds no rows: so the commit that replaces
    a committed link with the file passes."""
    log_path = plumbing.relative_path(settings.log_path, root)
    if log_path is None:
        raise ConfigError(f"the log {settings.log_path} is outside the repository {root}")
    folder = plumbing.relative_path(settings.shard_folder, root) or ""
    log_folder, log_name = posixpath.split(log_path)
    found = LogSet(revision, label, log_path, folder)
    backups: list[tuple[tuple[str, int], str, str]] = []
    for path, oid, size, link in plumbing.tree_entries(revision, [log_folder, folder], root):
        found.sizes[oid] = size
        where, name = posixpath.split(path)
        # Where a file of this name goes, found once: a link is then refused or left out.
        add: Callable[[], object] | None = None
        if where == log_folder and name == log_name:
            add = partial(found.legacy.append, (path, oid))
        elif where == log_folder and (order := layout.backup_order(log_name, name)) is not None:
            add = partial(backups.append, (order, path, oid))
        elif where == folder:
            if layout.is_shard_name(name):
                add = partial(found.shards.__setitem__, name, oid)
            elif layout.is_fold_name(name):
                add = partial(found.folds.__setitem__, name, oid)
            elif layout.fold_of_manifest(name) is not None:
                add = partial(found.manifests.__setitem__, name, oid)
        if add is None:
            continue
        if link:
            if old:
                continue
            raise LogFileError(
                f"{path} is a symbolic link in {label}, not a log file: a log, its backups and "
                "its shards are regular files (git rm the link and commit the file it named)"
            )
        add()
    found.legacy = [(path, oid) for _, path, oid in sorted(backups)] + found.legacy
    return found


class FoldContent(NamedTuple):
    """A fold's manifest entries, its bytes, and whether the manifest is true of them."""

    entries: list[folds.Entry]
    data: bytes
    problem: str | None  # why the manifest is not true of the fold, or None


class Reader:
    """Reads a log set's blobs, each at most once, through one `git cat-file --batch`."""

    def __init__(self, blobs: plumbing.BlobReader, schema: Schema):
        self.blobs = blobs
        self.schema = schema
        self._hashes: dict[str, str] = {}
        self._folds: dict[tuple[str, str | None], tuple[list[folds.Entry], str | None]] = {}

    def blob(self, oid: str) -> bytes:
        return self.blobs.read(oid) or b""

    def shard_hash(self, oid: str) -> str:
        from telemetry_csv.logfile import folds

        if oid not in self._hashes:
            self._hashes[oid] = folds.shard_hash(self.blob(oid))
        return self._hashes[oid]

    def fold(self, logs: LogSet, name: str) -> FoldContent:
        """A fold's manifest entries and bytes, and whether the manifest is true."""
        data = self.blob(logs.folds[name])
        entries, problem = self._checked(logs, name, data)
        return FoldContent(entries, data, problem)

    def fold_entries(self, logs: LogSet, name: str) -> list[folds.Entry]:
        """A fold's manifest entries (none if the manifest is missing or unreadable)."""
        return self._checked(logs, name, None)[0]

    def _checked(
        self, logs: LogSet, name: str, data: bytes | None
    ) -> tuple[list[folds.Entry], str | None]:
        """(entries, why the manifest is not true of the fold or None), worked out once."""
        from telemetry_csv.logfile import folds

        manifest = logs.manifests.get(layout.manifest_name(name))
        key = (logs.folds[name], manifest)
        if key in self._folds:
            return self._folds[key]
        if manifest is None:
            found: tuple[list[folds.Entry], str | None] = (
                [],
                f"its manifest {layout.manifest_name(name)} is missing",
            )
        else:
            try:
                entries = folds.parse_manifest(self.blob(manifest))
            except ValueError as error:
                found = ([], f"its manifest cannot be read: {error}")
            else:
                data = self.blob(logs.folds[name]) if data is None else data
                problem = folds.verify(data, entries)
                expected = folds.fold_name(folds.manifest_bytes(entries))
                if problem is None and expected != name:
                    problem = f"its name does not match its manifest (expected {expected})"
                found = (entries, problem)
        self._folds[key] = found
        return found

    def identities(self, logs: LogSet) -> dict[str, str]:
        """Each shard of the log set (loose or in a fold) and the hash of its content; a shard
        in more than one place has the hash of the first (folds first, as readers count it)."""
        found: dict[str, str] = {}
        for name in ordered_folds(self, logs):
            for entry in self.fold_entries(logs, name):
                found.setdefault(entry.shard, entry.sha256)
        for name, oid in logs.shards.items():
            if name not in found:
                found[name] = self.shard_hash(oid)
        return found

    def legacy_keys(self, logs: LogSet) -> Counter[str]:
        keys: Counter[str] = Counter()
        for _, oid in logs.legacy:
            keys.update(row_keys(self.blob(oid), self.schema))
        return keys

    def rows(self, logs: LogSet) -> Iterator[tuple[str, str, str]]:
        """(owner, canonical line, where) of every row of the log set, each shard once, in the
        order readers read them: the log's files, then folds, then loose shards."""
        from telemetry_csv.logfile import folds

        for path, oid in logs.legacy:
            for number, key in enumerate(row_keys(self.blob(oid), self.schema), start=2):
                yield LEGACY, key, f"{logs.label} {path}:{number}"
        seen: set[str] = set()
        for name in ordered_folds(self, logs):
            content = self.fold(logs, name)
            if content.problem:  # no true manifest says whose rows these are: the fold's own
                for number, key in enumerate(row_keys(content.data, self.schema), start=2):
                    yield name, key, f"{logs.label} {logs.path(name)}:{number}"
                continue
            line = 2
            for entry, (start, end) in zip(
                content.entries, folds.segments(content.data, content.entries), strict=True
            ):
                if entry.shard not in seen:
                    seen.add(entry.shard)
                    segment = folds.segment_file(content.data, start, end)
                    for offset, key in enumerate(row_keys(segment, self.schema)):
                        yield entry.shard, key, f"{logs.label} {logs.path(name)}:{line + offset}"
                line += entry.rows
        for name, oid in sorted(logs.shards.items()):
            if name not in seen:
                for number, key in enumerate(row_keys(self.blob(oid), self.schema), start=2):
                    yield name, key, f"{logs.label} {logs.path(name)}:{number}"


def ordered_folds(reader: Reader, logs: LogSet) -> list[str]:
    """The folds in the order readers take them: by their first shard, then by name."""

    def first(name: str) -> tuple[str, str]:
        entries = reader.fold_entries(logs, name)
        return (entries[0].shard if entries else "~", name)

    return sorted(logs.folds, key=first)
