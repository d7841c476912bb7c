"""The rows a range of commits added, read from git's objects rather than the working tree.

`BASE..HEAD` means the rows in the log and its backups at HEAD, less those at BASE, counted as
multisets of canonical lines and kept in HEAD's order. Because backups are read too, a rotation
inside the range moves rows between files without adding or losing any. `BASE...HEAD` uses
the merge base of the two, as `git diff` does; for rows the answer is the same unless BASE
has rows HEAD lacks. A row whose `source_id` BASE already has is the same usage (for example
an import another clone merged in), so it is not added either.
"""

from __future__ import annotations

import posixpath
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from telemetry_csv.config import Settings
from telemetry_csv.errors import ConfigError, InvalidLogError, InvalidValueError
from telemetry_csv.git import plumbing
from telemetry_csv.logfile import layout
from telemetry_csv.logfile.canonical import row_keys
from telemetry_csv.logfile.reading import Problem, scan_file
from telemetry_csv.logfile.schema import Row, Schema
from telemetry_csv.logfile.source_ids import ID_AT_END

RANGE_ALLOWED = "expected BASE..HEAD (or BASE...HEAD), e.g. origin/main..HEAD"


@dataclass(frozen=True)
class CommitRange:
    base: str  # commit id
    head: str  # commit id


def parse_range(text: str, cwd: Path | None = None) -> CommitRange:
    """`BASE..HEAD`, `BASE...HEAD` or `BASE..` (HEAD implied), resolved to commits."""
    separator = "..." if "..." in text else ".."
    if separator not in text:
        raise InvalidValueError("range", text, RANGE_ALLOWED)
    base, _, head = text.partition(separator)
    base, head = base or "HEAD", head or "HEAD"
    base_id, head_id = plumbing.require_commit(base, cwd), plumbing.require_commit(head, cwd)
    if separator == "...":
        found = plumbing.merge_base(base_id, head_id, cwd)
        if found is None:
            raise InvalidValueError("range", text, f"{base} and {head} have no common ancestor")
        base_id = found
    return CommitRange(base_id, head_id)


def log_files_at(revision: str, log_path: str, cwd: Path | None = None) -> list[str]:
    """The log's backups at a revision, oldest first, then the log if it is there."""
    folder, name = posixpath.split(log_path)
    present = plumbing.list_files(revision, folder, cwd)
    backups = []
    for path in present:
        order = layout.backup_order(name, posixpath.basename(path))
        if order is not None:
            backups.append((order, path))
    files = [path for _, path in sorted(backups)]
    if log_path in present:
        files.append(log_path)
    return files


def scan_at(
    revision: str, log_path: str, schema: Schema, cwd: Path | None = None
) -> Iterator[Row | Problem]:
    """Every row and problem of the log and its backups at a revision, in append order, as
    `scan_file` gives them, each problem naming `REV:PATH:LINE`."""
    label = revision[:12]
    with tempfile.TemporaryDirectory(prefix="telemetry-csv-") as folder:
        copy = Path(folder) / "blob.csv"
        for path in log_files_at(revision, log_path, cwd):
            plumbing.write_blob(revision, path, copy, cwd)
            yield from scan_file(copy, schema, display=f"{label}:{path}")


def added_items(
    commits: CommitRange, log_path: str, schema: Schema, cwd: Path | None = None
) -> Iterator[Row | Problem]:
    """The rows at `commits.head` that are not at `commits.base`, in the head's order, with
    the head's problems passed on (a report may stop at them or skip them)."""
    before: Counter[str] = Counter()
    for path in log_files_at(commits.base, log_path, cwd):
        before.update(row_keys(plumbing.read_blob(commits.base, path, cwd) or b"", schema))
    ids = {(found[1], found[2]) for key in before if (found := ID_AT_END.search(key))}
    for item in scan_at(commits.head, log_path, schema, cwd):
        if type(item) is Row:
            line = schema.format_line(item)
            if before[line] > 0:
                before[line] -= 1
                continue
            if item.source_id and (item.source, item.source_id) in ids:
                continue
        yield item


def rows_added(
    commits: CommitRange, log_path: str, schema: Schema, cwd: Path | None = None
) -> list[Row]:
    """The rows a range added; InvalidLogError at the first problem at its head."""
    added = []
    for item in added_items(commits, log_path, schema, cwd):
        if type(item) is not Row:
            raise InvalidLogError(f"{item}; the rows at {commits.head[:12]} cannot be read")
        added.append(item)
    return added


def items_in_range(text: str, settings: Settings) -> Iterator[Row | Problem]:
    """What `report --range TEXT` reads: the rows the range added to the configured log and
    its backups, and the problems at its end."""
    return added_items(*_located(text, settings))


def rows_in_range(text: str, settings: Settings) -> list[Row]:
    """The rows the range added to the configured log; InvalidLogError at a problem."""
    return rows_added(*_located(text, settings))


def _located(text: str, settings: Settings) -> tuple[CommitRange, str, Schema, Path]:
    root = plumbing.toplevel(settings.root)
    log_path = plumbing.relative_path(settings.log_path, root)
    if log_path is None:
        raise ConfigError(f"the log {settings.log_path} is outside the repository {root}")
    return parse_range(text, root), log_path, settings.schema, root
