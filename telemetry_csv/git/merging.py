"""Three-way merge of two versions of a log that both grew from a common base.

The result is the header, all of our rows in order, then the rows the other side added since
the base that we do not already have (a row cherry-picked to both sides appears once). Rows are
compared by their canonical line, as multisets, so two identical rows logged on purpose both
stay. The one exception to "all of our rows": rows of the base that the other side no longer
has in this file. Only a rotation removes rows from a log (the append-only hook refuses any other
removal), so the other side moved them into a backup, which git brings into the merge as a new
file; keeping them here too would count them twice.

Shapes (docs/format.md): rows are compared by `canonical.line_key`, which is the same in files of
both shapes. The merged file has the extended header when either side has it (the other side
rotated its 8-column log when its header changed); our rows of the 8-column shape are then
written with their four extra fields empty, which changes no value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from telemetry_csv import fs
from telemetry_csv.errors import InvalidLogError
from telemetry_csv.logfile.canonical import Line, line_in_shape, line_key, row_keys
from telemetry_csv.logfile.reading import scan_lines
from telemetry_csv.logfile.schema import EXTENDED_HEADER_LINE, HEADER_LINE, HEADER_SHAPES, Schema


@dataclass(frozen=True)
class MergedLog:
    rows: list[str]  # canonical lines in the merged file's shape, without the header
    moved_away: int  # base rows theirs no longer has (moved to a backup), left out here
    extended: bool = False  # the merged file has the extended header

    def data(self) -> bytes:
        header = EXTENDED_HEADER_LINE if self.extended else HEADER_LINE
        return "".join(f"{line}\n" for line in (header, *self.rows)).encode("utf-8")


class LogRows:
    """One version's rows as keys (`line_key`), and which of them need the extended shape."""

    def __init__(self, lines: list[str], extended: bool) -> None:
        self.extended = extended
        self.keys = [line_key(Line(0, line, line)) for line in lines] if extended else lines
        # An extended line is keyed by its 8-column form unless it has extra values.
        self.extended_keys = (
            {key for key, line in zip(self.keys, lines, strict=True) if key == line}
            if extended
            else set()
        )


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
    for line in theirs:
        if theirs_added[line] <= 0:
            continue
        theirs_added[line] -= 1
        if ours_added[line] > 0:
            ours_added[line] -= 1  # cherry-picked to both sides: we have it already
        else:
            added.append(line)
    return MergedLog(kept + added, len(ours) - len(kept))


def read_canonical_rows(path: Path | str, schema: Schema, label: str) -> LogRows:
    """The rows of our or their version; InvalidLogError at its first problem."""
    for problem in scan_lines(path, schema, display=label):
        if problem is not None and not problem.warning:  # a committed row stays mergeable
            raise InvalidLogError(f"{problem}")
    # Valid means: a header, then canonical lines, each ending in LF; they are the rows.
    with fs.open_regular(path) as file:
        lines = file.read().decode("utf-8").split("\n")
    return LogRows(lines[1:-1], HEADER_SHAPES[lines[0]])


def read_base_rows(path: Path | str, schema: Schema, ours: Path | str) -> list[str]:
    """The base's rows, leniently: it is only compared with, never written, and an old base may
    predate a fix (`fmt`, a repaired row) that both sides have since committed. Empty when both
    sides added the file."""
    with fs.open_regular(path) as file:
        data = file.read()
    first = data[: data.find(b"\n")].decode("utf-8", "replace")
    if first in HEADER_SHAPES and data.endswith(b"\n"):
        with fs.open_regular(ours) as file:
            if file.read(len(data)) == data:
                # The usual case: we only appended, so the base is a valid start of our log.
                return LogRows(data.decode("utf-8").split("\n")[1:-1], HEADER_SHAPES[first]).keys
    return row_keys(data, schema)


def merge_files(base: Path, ours: Path, theirs: Path, schema: Schema, name: str) -> MergedLog:
    """Merge three log files as git hands them to a merge driver; `name` labels problems.
    Ours and theirs must be valid logs; the base need not be."""
    ours_rows = read_canonical_rows(ours, schema, f"{name} (ours)")
    theirs_rows = read_canonical_rows(theirs, schema, f"{name} (theirs)")
    merged = merge_rows(read_base_rows(base, schema, ours), ours_rows.keys, theirs_rows.keys)
    extended = ours_rows.extended or theirs_rows.extended
    if not extended:
        return merged
    wide = ours_rows.extended_keys | theirs_rows.extended_keys
    return MergedLog(
        [key if key in wide else line_in_shape(key, True) for key in merged.rows],
        merged.moved_away,
        extended=True,
    )
