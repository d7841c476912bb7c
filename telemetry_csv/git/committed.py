"""What a pre-commit hook may trust of a file: its start, when that is exactly what HEAD has;
its whole, when it is exactly what is staged.

Bytes identical to the committed blob were checked when they were committed, so the check and
fmt hooks read only what the commit adds after them. HEAD's blob of a path is recognised by its
object id alone: the id git would give the file's first bytes (as many as the blob holds) must
be it, so HEAD's copy is never read. `check` itself, and the append-only hook with `--from-ref`
in CI, still read everything.

The append-only hook reads the staged version of a log from the work tree when the file there
is that blob (`worktree_blob`: same size, same id), as it is while pre-commit runs the hooks
(it stashes what is not staged): reading a file and hashing it costs a fraction of having git
inflate a large blob and pipe it over.

The hooks of one commit share what they hashed (`known_blobs`): the first to hash a file
records the ids of its committed start and of its whole, and the others trust those while the
file is exactly as it was read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from telemetry_csv import fs
from telemetry_csv.errors import LogFileError
from telemetry_csv.git import plumbing
from telemetry_csv.git.known_blobs import KnownBlobs, identity

_PART = 1 << 20  # how much of a file is hashed at a time
_WHOLE_LIMIT = 1 << 30  # a larger file is left to git (plumbing.BlobReader refuses it)


def committed_starts(paths: Sequence[Path], root: Path) -> dict[Path, int]:
    """For each of `paths` whose first bytes are exactly HEAD's copy of it, ending in a
    newline: how many bytes. One `git cat-file --batch-check` for all of them; none when there
    is no HEAD."""
    names: list[tuple[Path, str]] = []
    for path in paths:
        relative = plumbing.relative_path(path.absolute(), root)
        if relative is not None:
            names.append((path, relative))
    if not names:
        return {}
    try:
        listed = plumbing.object_sizes([f"HEAD:{relative}" for _, relative in names], root)
    except plumbing.GitError:  # not a repository, or no git: nothing is trusted
        return {}
    known = KnownBlobs(root)
    found: dict[Path, int] = {}
    for (path, relative), committed in zip(names, listed, strict=True):
        if (
            committed is not None
            and committed[1] > 0
            and _starts_with(path, *committed, known, relative)
        ):
            found[path] = committed[1]
    return found


def _starts_with(path: Path, oid: str, size: int, known: KnownBlobs, relative: str) -> bool:
    """Whether the first `size` bytes of a regular file are the blob `oid`, ending in a
    newline; read in parts, so a large log is never held whole. The ids of the start and of
    the whole file are recorded in `known` for the hooks after this one."""
    try:
        with fs.open_regular(path) as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size < size:
                return False
            file.seek(size - 1)
            if file.read(1) != b"\n":
                return False
            if known.ids(relative, info).get(size) == oid:
                return True
            new = known.stamp()
            try:
                file.seek(0)
                whole = info.st_size
                parts = iter(lambda: file.read(min(_PART, whole - file.tell())), b"")
                ids = plumbing.blob_ids_of_starts(parts, [size, whole], oid)
                if ids is None or file.tell() != whole:
                    return False
                if new is not None:
                    known.record(new, relative, info, os.fstat(file.fileno()), ids)
                return ids[size] == oid
            finally:
                if new is not None:
                    new.discard()
    except (OSError, LogFileError):  # a link or a special file is never trusted: read whole
        return False


class WorktreeBlob(NamedTuple):
    data: bytes
    starts: dict[int, str]  # ids of the data's starts known as well: {how many bytes: id}


def worktree_blob(root: Path, path: str, oid: str) -> WorktreeBlob | None:
    """The content of the work tree's file at `path` (a git path under `root`) when it is
    exactly the blob `oid`, else None (then read the blob from git); with the ids of its
    starts that another hook recorded (`known_blobs`)."""
    known = KnownBlobs(root)
    try:
        if not stat.S_ISREG(os.lstat(root / path).st_mode):
            return None  # a link, a folder, a FIFO: git's copy is read instead
        with fs.open_regular(root / path) as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > _WHOLE_LIMIT:
                return None
            starts = known.ids(path, info)
            trusted = starts.get(info.st_size) == oid
            new = None if trusted else known.stamp()
            try:
                data = file.read()
                after = os.fstat(file.fileno())
                if trusted:
                    # The record holds while the file is as recorded, after the read too.
                    if identity(after) == identity(info) and len(data) == info.st_size:
                        return WorktreeBlob(data, starts)
                    starts = {}
                whole = plumbing.blob_id(data, oid)
                if new is not None:
                    known.record(new, path, info, after, {**starts, len(data): whole})
            finally:
                if new is not None:
                    new.discard()
    except (OSError, LogFileError):
        return None
    return WorktreeBlob(data, {}) if whole == oid else None
