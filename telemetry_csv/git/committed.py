"""What a pre-commit hook may trust of a file: its start, when that is exactly what HEAD has.

Bytes identical to the committed blob were checked when they were committed, so the check and
fmt hooks read only what the commit adds after them. HEAD's blob of a path is recognised by its
object id alone: the id git would give the file's first bytes (as many as the blob holds) must
be it, so HEAD's copy is never read. `check` itself, and the append-only hook with `--from-ref`
in CI, still read everything.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from telemetry_csv import fs
from telemetry_csv.git import plumbing

_PART = 1 << 20  # how much of a file is hashed at a time


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
        with fs.open_for_reading(path) as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size < size:
                return False
            file.seek(size - 1)
            if file.read(1) != b"\n":
                return False
            file.seek(0)
            parts = iter(lambda: file.read(min(_PART, size - file.tell())), b"")
            return plumbing.blob_id_of_parts(parts, size, oid) == oid and file.tell() == size
    except OSError:
        return False
