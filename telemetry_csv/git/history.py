"""Append-only history of the log file and its backups: between two versions, rows may only
be added at the end (`append_only.py` applies it, with the team layout's rules and merges).

The old version is what was committed (HEAD, or the base of a range); the new one is what is
about to be committed (the index, or the end of the range). A row of the old version may leave
the log only by moving, whole and in order, to the start of a backup that is new in the new
version: that is a rotation (`usage.csv` renamed to `usage-YYYYMMDDTHHMMSSZ.csv` and a new log
started), and also what a merge does when the other branch rotated (its backup starts with the
rows both branches had; the merged log keeps ours after them). Backups are history too: they
may grow at the end, and are deleted only on purpose (TELEMETRY_CSV_RETIRE_BACKUPS=1). Lines are
compared by their canonical form, so `fmt` turning CRLF into LF or re-quoting a field is not a
rewrite; changing a value is. A row is compared alike in files of both shapes (`line_key`), and
the header may change from the 8-column one to the extended one (docs/format.md): a rotation
where the header changes, or a merge with a side that rotated, does that without changing a
value. The other way round is refused.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from telemetry_csv.git import plumbing
from telemetry_csv.git.committed import worktree_blob
from telemetry_csv.git.logsets import object_name
from telemetry_csv.logfile import layout
from telemetry_csv.logfile.canonical import Line, canonical_line, line_key, read_lines, row_keys
from telemetry_csv.logfile.reading import split_lines
from telemetry_csv.logfile.schema import EXTENDED_HEADER_LINE, HEADER_LINE, HEADER_SHAPES, Schema
from telemetry_csv.messages import excerpt

_SHOWN_CHARS = 200
RETIRE_BACKUPS = "TELEMETRY_CSV_RETIRE_BACKUPS"  # set to 1 to let backups be deleted


class Rewrite(NamedTuple):
    """The first place where the new version of a file does not continue the old one."""

    path: str
    old_label: str  # e.g. "HEAD"
    new_label: str  # e.g. "staged"
    old_line: Line
    new_line: Line | None  # None: the new version ends before this row
    what: str  # "a history row was changed", "… deleted", "the header was changed"…
    backups: tuple[str, ...] = ()  # backups new in this commit that could have taken rows

    def __str__(self) -> str:
        number = self.new_line.number if self.new_line else self.old_line.number
        old = f"{self.old_label} line {self.old_line.number}:"
        if self.new_line is None:
            new, new_text = f"{self.new_label}:", "(not there: the file ends before it)"
        else:
            new, new_text = f"{self.new_label} line {self.new_line.number}:", self.new_line.text
        width = max(len(old), len(new))
        rotation = ""
        if self.backups:
            rotation = (
                "    a rotation moves the log's rows, whole and in order, to the start of a new "
                f"backup ({', '.join(self.backups)})\n"
            )
        return (
            f"{self.path}:{number}: {self.what}; rows may only be added at the end\n"
            f"    {old:<{width}} {_shown(self.old_line.text)}\n"
            f"    {new:<{width}} {_shown(new_text)}\n"
            f"{rotation}"
            f"    restore the committed file with `git restore --source={self.old_label} "
            f"--staged --worktree -- {self.path}` (rows added since are dropped with the "
            "change: log them again with `telemetry-csv log`)"
        )


class Deletion(NamedTuple):
    """A committed log or backup that the new version no longer has."""

    path: str
    old_label: str  # e.g. "HEAD"
    what: str  # "a committed backup was deleted", "the log was deleted, and …"
    backup: bool  # a backup, which may be retired on purpose

    def __str__(self) -> str:
        text = (
            f"{self.path}: {self.what}; committed rows are never deleted\n"
            f"    restore it with `git checkout {self.old_label} -- {self.path}`"
        )
        if self.backup:
            text += (
                f"\n    to retire old backups on purpose, delete whole backup files in a commit "
                f"of their own, with {RETIRE_BACKUPS}=1 in the environment"
            )
        return text


class Comparison(NamedTuple):
    """Two revisions to compare (the old, the new) and how messages name them."""

    old_revision: str
    new_revision: str
    old_label: str
    new_label: str


def find_rewrite(
    old: Sequence[Line], new: Sequence[Line], backups: Sequence[Sequence[str]] = ()
) -> Mismatch | None:
    """The first old line the new version does not keep in place, or None if it only appends.

    `backups` holds the row keys of each backup new in the new version. A rotation moves the
    oldest rows of `old`, whole and in order, to the start of one of them; the rows it did not
    move must then start the new version, still in order.
    """
    if not old:
        return None
    if not new:
        return Mismatch(old[0], None, "the header was changed")
    if line_key(old[0]) != line_key(new[0]) and not _header_extended(old[0], new[0]):
        return Mismatch(old[0], new[0], "the header was changed")
    old_keys = [line_key(line) for line in old[1:]]
    new_keys = [line_key(line) for line in new[1:]]
    moved = [_common_prefix(old_keys, backup) for backup in backups]
    # A row moved and then logged again (a cherry-pick) can make a shorter move the one that
    # fits: try every count up to the longest whose first kept row could start the new rows.
    first_new = new_keys[0] if new_keys else None
    counts = {
        count
        for longest in moved
        for count in range(longest + 1)
        if count == len(old_keys) or old_keys[count] == first_new
    }
    for count in sorted({0, *counts}, reverse=True):
        if _continues(old_keys, count, new_keys):
            return None
    # Say where the likeliest reading (the longest move into a backup) first goes wrong.
    count = max(moved, default=0)
    index = next(
        index
        for index in range(count, len(old_keys))
        if index - count >= len(new_keys) or new_keys[index - count] != old_keys[index]
    )
    new_index = index - count
    old_line = old[1 + index]
    new_line = new[1 + new_index] if new_index < len(new_keys) else None
    what = _what_happened(old_keys[index:], new_keys[new_index:])
    return Mismatch(old_line, new_line, what)


def _header_extended(old: Line, new: Line) -> bool:
    """The 8-column header gave way to the extended one, which keeps every row's values."""
    return old.canonical == HEADER_LINE and new.canonical == EXTENDED_HEADER_LINE


class Mismatch(NamedTuple):
    old_line: Line
    new_line: Line | None  # None: the new version ends before this row
    what: str


def _common_prefix(first: Sequence[str], second: Sequence[str]) -> int:
    count = 0
    for one, other in zip(first, second, strict=False):
        if one != other:
            break
        count += 1
    return count


def _continues(old_keys: Sequence[str], moved: int, new_keys: Sequence[str]) -> bool:
    """True if the old rows after the first `moved` start `new_keys`, in order."""
    kept = len(old_keys) - moved
    return kept <= len(new_keys) and all(
        new_keys[index] == old_keys[moved + index] for index in range(kept)
    )


def _what_happened(old_rest: Sequence[str], new_rest: Sequence[str]) -> str:
    """Why the old rows from the first one out of place do not start the new rows there."""
    if not new_rest:
        return "a history row was deleted"
    missing = old_rest[0]
    if missing in new_rest:
        found = new_rest.index(missing)
        if list(new_rest[found : found + len(old_rest)]) == list(old_rest):
            return "a row was inserted among the history rows"
        return "history rows were reordered"
    if len(old_rest) > 1 and old_rest[1] == new_rest[0]:
        return "a history row was deleted"
    return "a history row was changed"


# Changes with no old rows to keep: a new file; an unmerged one (git refuses to commit it); a
# type change, whose old side was a symbolic link or a submodule (a link on the new side is
# refused before, by `logsets.log_set_at`), which holds no rows.
_NOTHING_KEPT = ("A", "U", "T")


def check_log(
    log_path: str,
    schema: Schema,
    compared: Comparison,
    cwd: Path | None = None,
    *,
    retire_backups: bool = False,
    blobs: plumbing.BlobReader | None = None,
    known: dict[str, tuple[str, int]] | None = None,
    staged: dict[str, str] | None = None,
) -> list[Rewrite | Deletion]:
    """What the new revision does to the history of the log at `log_path` (a git path) and of
    its backups, compared with the old revision.

    git says which of these files changed, deleted ones included (pre-commit never passes a
    deleted file to a hook), so nothing is read when none did. A file new in the new revision
    passes. The log may be rewritten only by a rotation into a backup new in the same revision;
    it may be deleted only when a new backup starts with all its rows. A backup is held to the
    append-only rule without rotation, and may be deleted only with `retire_backups`.

    `blobs`: a reader of git's objects already open (else each is read with a `git` process of
    its own); `known`: object ids and sizes of files at the old revision, as listed already;
    `staged`: object ids of files in the index, when it is the new revision, so that a file the
    work tree holds exactly is read from there (`committed.worktree_blob`).
    """
    old_revision, new_revision = compared.old_revision, compared.new_revision
    changes = history_changes(log_path, compared, cwd)
    new_backups = [path for status, path in changes if status == "A" and path != log_path]
    # The old versions by their object ids and sizes, and the new versions, each read once: a
    # file that only grew (or a log moved whole to a new backup) is told from the old
    # version's id alone, without reading it.
    kept = [path for status, path in changes if status not in _NOTHING_KEPT]
    listed = known or {}
    old_ids = {path: listed[path] for path in kept if listed.get(path, ("", -1))[1] >= 0}
    asked = [path for path in kept if path not in old_ids]
    if asked:
        sizes = plumbing.object_sizes([f"{old_revision}:{path}" for path in asked], cwd)
        old_ids.update(
            (path, found) for path, found in zip(asked, sizes, strict=True) if found is not None
        )
    new_blobs: dict[str, bytes | None] = {}
    new_starts: dict[str, dict[int, str]] = {}  # ids of new blobs' starts known already

    def read(revision: str, path: str) -> bytes | None:
        if blobs is not None:
            return blobs.read(object_name(revision, path))
        return plumbing.read_blob(revision, path, cwd)

    def new_blob(path: str) -> bytes | None:
        if path not in new_blobs:
            oid = (staged or {}).get(path) if new_revision == plumbing.INDEX else None
            found = worktree_blob(cwd, path, oid) if oid and cwd is not None else None
            if found is not None:
                new_starts[path] = found.starts
            new_blobs[path] = read(new_revision, path) if found is None else found.data
        return new_blobs[path]

    findings: list[Rewrite | Deletion] = []
    for status, path in changes:
        if status in _NOTHING_KEPT:
            continue
        if status == "D" and path != log_path:
            if not retire_backups:
                findings.append(
                    Deletion(path, compared.old_label, "a committed backup was deleted", True)
                )
            continue
        old_id = old_ids.get(path)
        new = new_blob(path) if status != "D" else None
        if (
            new is not None
            and old_id is not None
            and _grown_from(new, *old_id, new_starts.get(path, {}))
        ):
            continue
        if (
            path == log_path
            and old_id is not None
            and _moved_whole(
                old_id, [new_blob(backup) or b"" for backup in new_backups], new, schema
            )
        ):
            continue
        old = read(old_revision, path) or b""
        if new is not None and _appended(old, new):
            continue
        # Only the log's rows may move, and only to a backup new in this revision.
        backups = [
            row_keys(new_blob(backup) or b"", schema)
            for backup in (new_backups if path == log_path else [])
        ]
        if new is None:
            rows = row_keys(old, schema)
            if rows and not any(backup[: len(rows)] == rows for backup in backups):
                findings.append(
                    Deletion(
                        path,
                        compared.old_label,
                        f"the log was deleted, and no backup new in {compared.new_label} "
                        f"starts with its {len(rows):,} row(s)",
                        False,
                    )
                )
            continue
        found = find_rewrite(read_lines(old, schema), read_lines(new, schema), backups)
        if found is not None:
            shown = tuple(new_backups) if path == log_path else ()
            findings.append(Rewrite(path, compared.old_label, compared.new_label, *found, shown))
    return findings


def history_changes(
    log_path: str, compared: Comparison, cwd: Path | None = None
) -> list[tuple[str, str]]:
    """(status, path) of the log and each of its backups that differ between the revisions:
    A added, D deleted, M modified, T type changed, U unmerged. A rename is a D and an A."""
    folder, name = posixpath.split(log_path)
    stem = posixpath.splitext(name)[0]
    backups = f"{_glob_literal(folder)}/" if folder else ""
    pathspecs = [f":(top,literal){log_path}"] + [
        f":(top,glob){backups}{glob.format(stem=_glob_literal(stem))}"
        for glob in layout.BACKUP_GLOBS
    ]
    changes = plumbing.changed_files(compared.old_revision, compared.new_revision, pathspecs, cwd)
    return [(status, path) for status, path in changes if belongs_to(path, log_path)]


def belongs_to(path: str, log_path: str) -> bool:
    """True for the log at `log_path` and its backups (git paths)."""
    folder, name = posixpath.split(path)
    log_folder, log_name = posixpath.split(log_path)
    return folder == log_folder and (
        name == log_name or layout.backup_order(log_name, name) is not None
    )


def _glob_literal(text: str) -> str:
    return "".join(f"\\{char}" if char in "*?[\\" else char for char in text)


def _appended(old: bytes, new: bytes) -> bool:
    """The fast, common case: the new bytes are the old bytes and then whole new lines."""
    return (not old or old.endswith(b"\n")) and new.startswith(old)


def _grown_from(
    new: bytes, old_id: str, old_size: int, starts: dict[int, str] | None = None
) -> bool:
    """`_appended`, knowing the old version by its object id and size only; `starts`: ids of
    `new`'s starts known already (`committed.worktree_blob`)."""
    if old_size > len(new) or (old_size and new[old_size - 1 : old_size] != b"\n"):
        return False
    if starts is not None and starts.get(old_size) == old_id:
        return True
    return plumbing.blob_id(memoryview(new)[:old_size], old_id) == old_id


def _moved_whole(
    old_id: tuple[str, int], backups: list[bytes], new: bytes | None, schema: Schema
) -> bool:
    """A rotation, told without reading the old log: it started with a header, and a backup
    new in this revision starts with all of its bytes (so with all of its rows, in order);
    the new log, if any, keeps its header or moves to the extended one (`find_rewrite`)."""
    oid, size = old_id
    whole = [backup for backup in backups if size <= len(backup) and _grown_from(backup, oid, size)]
    header = whole[0][: whole[0].find(b"\n") + 1] if whole else b""
    if header.decode("utf-8", "replace").rstrip("\n") not in HEADER_SHAPES or len(header) > size:
        return False
    if new is None:
        return True
    first = split_lines(new[: new.find(b"\n") + 1] or new)
    if not first:
        return False
    key = canonical_line(first[0], schema, first=True)
    old_header = header[:-1].decode()
    return key == old_header or (old_header == HEADER_LINE and key == EXTENDED_HEADER_LINE)


def _shown(text: str) -> str:
    return excerpt(text.encode("utf-8", "backslashreplace").decode("utf-8"), _SHOWN_CHARS)
