"""The rows a range of commits added, read from git's objects rather than the working tree.

`BASE..HEAD` means the rows in the log and its backups at HEAD, less those at BASE, counted as
multisets of canonical lines and kept in HEAD's order. Because backups are read too, a rotation
inside the range moves rows between files without adding or losing any. `BASE...HEAD` uses
the merge base of the two, as `git diff` does; for rows the answer is the same unless BASE
has rows HEAD lacks.
"""

from __future__ import annotations

import posixpath
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from telemetry_csv import git, store
from telemetry_csv.canonical import line_key, read_lines
from telemetry_csv.config import Settings
from telemetry_csv.errors import ConfigError, InvalidLogError, InvalidValueError
from telemetry_csv.reading import scan_file
from telemetry_csv.schema import Row, Schema

RANGE_ALLOWED = "expected BASE..HEAD (or BASE...HEAD), e.g. origin/main..HEAD"


@dataclass(frozen=True)
class CommitRange:
    base: str  # commit id
    head: str  # commit id
    text: str  # as the user wrote it


def parse_range(text: str, cwd: Path | None = None) -> CommitRange:
    """`BASE..HEAD`, `BASE...HEAD` or `BASE..` (HEAD implied), resolved to commits."""
    separator = "..." if "..." in text else ".."
    if separator not in text:
        raise InvalidValueError("range", text, RANGE_ALLOWED)
    base, _, head = text.partition(separator)
    base, head = base or "HEAD", head or "HEAD"
    base_id, head_id = git.require_commit(base, cwd), git.require_commit(head, cwd)
    if separator == "...":
        found = git.merge_base(base_id, head_id, cwd)
        if found is None:
            raise InvalidValueError("range", text, f"{base} and {head} have no common ancestor")
        base_id = found
    return CommitRange(base_id, head_id, text)


def log_files_at(revision: str, log_path: str, cwd: Path | None = None) -> list[str]:
    """The log's backups at a revision, oldest first, then the log if it is there."""
    folder, name = posixpath.split(log_path)
    present = git.list_files(revision, folder, cwd)
    backups = []
    for path in present:
        order = store.backup_order(name, posixpath.basename(path))
        if order is not None:
            backups.append((order, path))
    files = [path for _, path in sorted(backups)]
    if log_path in present:
        files.append(log_path)
    return files


def rows_at(revision: str, log_path: str, schema: Schema, cwd: Path | None = None) -> Iterator[Row]:
    """Every row of the log and its backups at a revision, in append order; InvalidLogError
    (`REV:PATH:LINE: field: message`) at the first problem, as `read_rows` does."""
    label = revision[:12]
    with tempfile.TemporaryDirectory(prefix="telemetry-csv-") as folder:
        copy = Path(folder) / "blob.csv"
        for path in log_files_at(revision, log_path, cwd):
            git.write_blob(revision, path, copy, cwd)
            for item in scan_file(copy, schema, display=f"{label}:{path}"):
                if type(item) is not Row:
                    raise InvalidLogError(f"{item}; the rows at {label} cannot be read")
                yield item


def rows_added(
    commits: CommitRange, log_path: str, schema: Schema, cwd: Path | None = None
) -> list[Row]:
    """The rows at `commits.head` that are not at `commits.base`, in the head's order."""
    before: Counter[str] = Counter()
    for path in log_files_at(commits.base, log_path, cwd):
        lines = read_lines(git.read_blob(commits.base, path, cwd) or b"", schema)
        before.update(line_key(line) for line in lines[1:])
    added = []
    for row in rows_at(commits.head, log_path, schema, cwd):
        line = schema.format_line(row)
        if before[line] > 0:
            before[line] -= 1
        else:
            added.append(row)
    return added


def rows_in_range(text: str, settings: Settings) -> list[Row]:
    """What `report --range TEXT` reports on: the rows the range added to the configured log."""
    root = git.toplevel(settings.root)
    log_path = git.relative_path(settings.log_path, root)
    if log_path is None:
        raise ConfigError(f"the log {settings.log_path} is outside the repository {root}")
    return rows_added(parse_range(text, root), log_path, settings.schema, root)
