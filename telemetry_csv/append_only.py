"""Append-only history: between two versions of a log, rows may only be added at the end.

The old version is what was committed (HEAD, or the base of a range); the new one is what is
about to be committed (the index, or the end of the range). A row of the old version may leave
the log only by moving, whole and in order, into a backup that is new in the new version: that
is a rotation (`usage.csv` renamed to `usage-YYYYMMDDTHHMMSSZ.csv` and a new log started), and
also what a merge does when the other branch rotated (its backup takes the rows both branches
had; the merged log keeps ours after them). Lines are compared by their canonical form, so
`fmt` turning CRLF into LF or re-quoting a field is not a rewrite; changing a value is.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from telemetry_csv import git, store
from telemetry_csv.canonical import Line, line_key, read_lines, row_keys
from telemetry_csv.schema import Schema

_SHOWN_CHARS = 200


@dataclass(frozen=True)
class Rewrite:
    """The first place where the new version of a file does not continue the old one."""

    path: str
    old_label: str  # e.g. "HEAD"
    new_label: str  # e.g. "staged"
    old_line: Line
    new_line: Line | None  # None: the new version ends before this row
    what: str  # "a history row was changed", "… deleted", "the header was changed"…

    def __str__(self) -> str:
        number = self.new_line.number if self.new_line else self.old_line.number
        old = f"{self.old_label} line {self.old_line.number}:"
        if self.new_line is None:
            new, new_text = f"{self.new_label}:", "(not there: the file ends before it)"
        else:
            new, new_text = f"{self.new_label} line {self.new_line.number}:", self.new_line.text
        width = max(len(old), len(new))
        return (
            f"{self.path}:{number}: {self.what}; rows may only be added at the end\n"
            f"    {old:<{width}} {_shown(self.old_line.text)}\n"
            f"    {new:<{width}} {_shown(new_text)}\n"
            f"    restore the committed rows with `git show {self.old_label}:{self.path}`, "
            "then append new rows with `telemetry-csv log`"
        )


@dataclass(frozen=True)
class Comparison:
    old_revision: str
    new_revision: str
    old_label: str
    new_label: str


def comparison(
    from_ref: str | None = None, to_ref: str | None = None, cwd: Path | None = None
) -> Comparison | None:
    """What to compare: HEAD with the index (a commit being made), or the base of a range with
    its end (`pre-commit run --from-ref A --to-ref B`, a push); None in a repository's first
    commit, where every file is new."""
    if from_ref and to_ref:
        end = git.require_commit(to_ref, cwd)
        start = git.merge_base(from_ref, to_ref, cwd) or git.require_commit(from_ref, cwd)
        return Comparison(start, end, start[:12], to_ref)
    if git.commit_id("HEAD", cwd) is None:
        return None
    return Comparison("HEAD", git.INDEX, "HEAD", "staged")


def find_rewrite(
    old: Sequence[Line], new: Sequence[Line], moved: Counter[str]
) -> tuple[Line, Line | None] | None:
    """The first old line the new version does not keep in place, with the new line found there.

    `moved` counts the rows (canonical lines) of backups that are new in the new version: the
    oldest rows of `old` may be found there instead of in `new`.
    """
    if not old:
        return None
    if not new:
        return old[0], None
    if line_key(old[0]) != line_key(new[0]):
        return old[0], new[0]
    rows = old[1:]
    start = 0
    moved = moved.copy()
    while start < len(rows) and moved[line_key(rows[start])] > 0:
        moved[line_key(rows[start])] -= 1
        start += 1
    for offset, line in enumerate(rows[start:], start=1):
        if offset >= len(new):
            return line, None
        if line_key(new[offset]) != line_key(line):
            return line, new[offset]
    return None


def _what_happened(
    old: Sequence[Line], new: Sequence[Line], old_line: Line, new_line: Line | None
) -> str:
    if old_line.number == 1:
        return "the header was changed"
    if new_line is None:
        return "a history row was deleted"
    if line_key(old_line) in {line_key(line) for line in new[new_line.number :]}:
        return "history rows were reordered"
    following = old[old_line.number : old_line.number + 1]
    if following and line_key(following[0]) == line_key(new_line):
        return "a history row was deleted"
    return "a history row was changed"


def check_paths(
    paths: Iterable[str],
    schema: Schema,
    compared: Comparison,
    cwd: Path | None = None,
) -> list[Rewrite]:
    """The rewrite in each file of `paths` (git paths) between two revisions, if any.

    A file absent from the old revision is new and passes; one absent from the new revision is
    not part of it and is skipped. A backup is held to the same rule as a log, without rotation.
    """
    old_revision, new_revision = compared.old_revision, compared.new_revision
    rewrites = []
    listings: dict[tuple[str, str], list[str]] = {}

    def listing(revision: str, folder: str) -> list[str]:
        if (revision, folder) not in listings:
            listings[revision, folder] = git.list_files(revision, folder, cwd)
        return listings[revision, folder]

    for path in paths:
        old = git.read_blob(old_revision, path, cwd)
        if old is None:
            continue
        new = git.read_blob(new_revision, path, cwd)
        if new is None or _appended(old, new):
            continue
        folder, name = posixpath.split(path)
        moved: Counter[str] = Counter()
        if not store.is_backup_name(name):
            old_files = set(listing(old_revision, folder))
            for other in listing(new_revision, folder):
                other_name = posixpath.basename(other)
                if other not in old_files and store.backup_order(name, other_name) is not None:
                    backup = git.read_blob(new_revision, other, cwd) or b""
                    moved.update(row_keys(backup, schema))
        old_lines, new_lines = read_lines(old, schema), read_lines(new, schema)
        found = find_rewrite(old_lines, new_lines, moved)
        if found is not None:
            what = _what_happened(old_lines, new_lines, *found)
            rewrites.append(Rewrite(path, compared.old_label, compared.new_label, *found, what))
    return rewrites


def _appended(old: bytes, new: bytes) -> bool:
    """The fast, common case: the new bytes are the old bytes and then whole new lines."""
    return (not old or old.endswith(b"\n")) and new.startswith(old)


def _shown(text: str) -> str:
    shown = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(shown) > _SHOWN_CHARS:
        shown = shown[:_SHOWN_CHARS] + f"… ({len(shown)} characters)"
    return shown
