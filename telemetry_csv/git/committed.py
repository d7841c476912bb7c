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
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from telemetry_csv import fs
from telemetry_csv.errors import LogFileError
from telemetry_csv.git import plumbing

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
            names.append((path, f"HEAD:{relative}"))
    if not names:
        return {}
    try:
        known = plumbing.object_sizes([name for _, name in names], root)
    except plumbing.GitError:  # not a repository, or no git: nothing is trusted
        return {}
    found: dict[Path, int] = {}
    for (path, _), committed in zip(names, known, strict=True):
        if committed is not None and committed[1] > 0 and _starts_with(path, *committed):
            found[path] = committed[1]
    return found


def _starts_with(path: Path, oid: str, size: int) -> bool:
    """Whether the first `size` bytes of a regular file are the blob `oid`, ending in a
    newline; read in parts, so a large log is never held whole."""
    try:
        with fs.open_regular(path) as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size < size:
                return False
            file.seek(size - 1)
            if file.read(1) != b"\n":
                return False
            file.seek(0)
            parts = iter(lambda: file.read(min(_PART, size - file.tell())), b"")
            return plumbing.blob_id_of_parts(parts, size, oid) == oid and file.tell() == size
    except (OSError, LogFileError):  # a link or a special file is never trusted: read whole
        return False


def worktree_blob(root: Path, path: str, oid: str) -> bytes | None:
    """The content of the work tree's file at `path` (a git path under `root`) when it is
    exactly the blob `oid`, else None (then read the blob from git)."""
    try:
        if not stat.S_ISREG(os.lstat(root / path).st_mode):
            return None  # a link, a folder, a FIFO: git's copy is read instead
        with fs.open_regular(root / path) as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > _WHOLE_LIMIT:
                return None
            data = file.read()
    except (OSError, LogFileError):
        return None
    return data if plumbing.blob_id(data, oid) == oid else None
