"""Three-way merge of two versions of a log that both grew from a common base.

The result is the header, all of our rows in order, then the rows the other side added since
the base that we do not already have (a row cherry-picked to both sides appears once). Rows are
compared by their canonical line, as multisets, so two identical rows logged on purpose both
stay. The one exception to "all of our rows": rows of the base that the other side no longer
has in this file. Only a rotation removes rows from a log (the append-only hook refuses any other
removal), so the other side moved them into a backup, which git brings into the merge as a new
file; keeping them here too would count them twice.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from telemetry_csv.errors import InvalidLogError
from telemetry_csv.reading import scan_file
from telemetry_csv.schema import HEADER_LINE, Row, Schema


@dataclass(frozen=True)
class MergedLog:
    rows: list[str]  # canonical lines, without the header
    added: int  # rows of theirs appended after ours
    already_ours: int  # rows theirs added that we had too (cherry-picked)
    moved_away: int  # base rows theirs moved to a backup, left out here

    def data(self) -> bytes:
        return "".join(f"{line}\n" for line in (HEADER_LINE, *self.rows)).encode("utf-8")


def merge_rows(base: Sequence[str], ours: Sequence[str], theirs: Sequence[str]) -> MergedLog:
    """Merge three versions' rows (canonical lines, oldest first)."""
    base_count = Counter(base)
    moved_away = base_count - Counter(theirs)
    kept = []
    for line in ours:
        if moved_away[line] > 0:
            moved_away[line] -= 1
        else:
            kept.append(line)
    ours_added = Counter(ours) - base_count
    theirs_added = Counter(theirs) - base_count
    added = []
    already = 0
    for line in theirs:
        if theirs_added[line] <= 0:
            continue
        theirs_added[line] -= 1
        if ours_added[line] > 0:
            ours_added[line] -= 1
            already += 1
        else:
            added.append(line)
    return MergedLog(kept + added, len(added), already, len(ours) - len(kept))


def read_canonical_rows(
    path: Path | str, schema: Schema, label: str, *, may_be_empty: bool = False
) -> list[str]:
    """The rows of one version as canonical lines; InvalidLogError at its first problem."""
    if may_be_empty and os.path.getsize(path) == 0:
        return []  # git's base for a file that both sides added
    rows = []
    for item in scan_file(path, schema, display=label):
        if type(item) is not Row:
            raise InvalidLogError(f"{item}")
        rows.append(schema.format_line(item))
    return rows


def merge_files(base: Path, ours: Path, theirs: Path, schema: Schema, name: str) -> MergedLog:
    """Merge three log files, as git hands them to a merge driver; `name` labels problems."""
    return merge_rows(
        read_canonical_rows(base, schema, f"{name} (base)", may_be_empty=True),
        read_canonical_rows(ours, schema, f"{name} (ours)"),
        read_canonical_rows(theirs, schema, f"{name} (theirs)"),
    )
