"""The rows a range of commits added, read from git's objects rather than the working tree.

`BASE..HEAD` means the rows of the log at HEAD, less those at BASE, each revision's log found
by its own settings (`logsets.py`): the log file and its backups, counted as multisets of
canonical lines and kept in HEAD's order, so a rotation inside the range moves rows between
files without adding or losing any; and each shard's rows, by the shard's identity, so a shard
that is in both (loose, or folded inside the range) adds nothing and one new in HEAD adds all
its rows. Files that did not change are never read; the others are read through one
`git cat-file --batch`. `BASE...HEAD` uses the merge base of the two, as `git diff` does; for
rows the answer is the same unless BASE has rows HEAD lacks.

A row whose `source_id` BASE already has is the same usage (an import another clone merged in,
in a shard of its own), so it is not added either (`source_ids`). BASE's ids are read only when
HEAD adds a row with an id; then every row of BASE is read, each shard once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from telemetry_csv.config import Settings
from telemetry_csv.errors import InvalidLogError, InvalidValueError
from telemetry_csv.git import plumbing
from telemetry_csv.git.logsets import LogSet, Reader, log_set_at, ordered_folds, settings_at
from telemetry_csv.logfile import folds
from telemetry_csv.logfile.canonical import row_keys
from telemetry_csv.logfile.reading import ExtendedRun, Problem, Run, run_fast_path, scan_data
from telemetry_csv.logfile.schema import Row, Schema
from telemetry_csv.logfile.source_ids import ID_AT_END, SeenIds, without_ids

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


def added_items(
    commits: CommitRange, settings: Settings, root: Path
) -> Iterator[Run | Row | Problem]:
    """The rows at `commits.head` that are not at `commits.base`, in the head's order, with
    the head's problems passed on (a report may stop at them or skip them)."""
    schema = settings.schema
    with plumbing.BlobReader(root, limit=max(4 * settings.max_bytes, 64 << 20)) as blobs:
        reader = Reader(blobs, schema)
        base_settings = settings_at(commits.base, root, blobs, settings)
        head_settings = settings_at(commits.head, root, blobs, settings)
        base = log_set_at(commits.base, commits.base[:12], base_settings, root)
        head = log_set_at(commits.head, commits.head[:12], head_settings, root)
        added = chain(
            _legacy_added(reader, base, head, schema), _shards_added(reader, base, head, schema)
        )
        yield from _without_ids_of(added, _BaseIds(reader, base))


class _BaseIds:
    """The (source, source_id) pairs of every row at the base, read the first time they are
    asked for (most ranges add no row with an id, and then the base is not read)."""

    def __init__(self, reader: Reader, base: LogSet):
        self._reader, self._base = reader, base
        self._ids: set[tuple[str, str]] | None = None

    def ids(self) -> set[tuple[str, str]]:
        if self._ids is None:
            self._ids = set()
            for _, key, _ in self._reader.rows(self._base):
                found = ID_AT_END.search(key)
                if found is not None:
                    self._ids.add((found[1], found[2]))
        return self._ids


def _without_ids_of(
    items: Iterable[Run | Row | Problem], base: _BaseIds
) -> Iterator[Run | Row | Problem]:
    """`items` without the rows whose `source_id` the base holds."""

    def known(source: str, source_id: str) -> bool:
        return (source, source_id) in base.ids()

    for item in items:
        if type(item) is ExtendedRun:
            if ID_AT_END.search(item) is not None:
                item = without_ids(item, known)
                if not item:
                    continue
        elif type(item) is Row and item.source_id and known(item.source, item.source_id):
            continue
        yield item


def _legacy_added(
    reader: Reader, base: LogSet, head: LogSet, schema: Schema
) -> Iterator[Run | Row | Problem]:
    if base.legacy == head.legacy:
        return
    before = reader.legacy_keys(base)
    for path, oid in head.legacy:
        yield from _less(
            scan_data(reader.blob(oid), schema, f"{head.label}:{path}"), before, schema
        )


def _shards_added(
    reader: Reader, base: LogSet, head: LogSet, schema: Schema
) -> Iterator[Run | Row | Problem]:
    """Each shard of the head once (as readers count it), less its copy at the base."""
    base_held: dict[str, str] = {}
    for name in ordered_folds(reader, base):
        for entry in reader.fold_entries(base, name):
            base_held.setdefault(entry.shard, entry.sha256)
    owned: set[str] = set()
    for name in ordered_folds(reader, head):
        shown = f"{head.label}:{head.path(name)}"
        entries = reader.fold_entries(head, name)
        if base.folds.get(name) == head.folds[name]:
            owned.update(entry.shard for entry in entries)  # all at the base already
            continue
        content = reader.fold(head, name)
        if content.problem:  # no true manifest says whose rows these are: the fold's own
            yield Problem(shown, 0, "file", f"{content.problem}; run `telemetry-csv check`")
            yield from _less(scan_data(content.data, schema, shown), Counter(), schema)
            continue
        line = 2
        ranges = folds.segments(content.data, entries)
        for entry, (start, end) in zip(entries, ranges, strict=True):
            first_line, line = line, line + entry.rows
            if entry.shard in owned:
                continue
            owned.add(entry.shard)
            if base_held.get(entry.shard) == entry.sha256:
                continue
            loose = base.shards.get(entry.shard)
            if loose is not None and reader.shard_hash(loose) == entry.sha256:
                continue
            segment = content.data[start:end]
            items = scan_data(
                segment,
                schema,
                shown,
                first_line=first_line,
                extended=folds.is_extended(content.data),
            )
            yield from _less(items, _base_rows(reader, base, entry.shard, schema), schema)
    for name, oid in sorted(head.shards.items()):
        if name in owned or base.shards.get(name) == oid:
            continue
        if name in base_held and base_held[name] == reader.shard_hash(oid):
            continue
        items = scan_data(reader.blob(oid), schema, f"{head.label}:{head.path(name)}")
        yield from _less(items, _base_rows(reader, base, name, schema), schema)


def _base_rows(reader: Reader, base: LogSet, shard: str, schema: Schema) -> Counter[str]:
    """The rows the base has for a shard (loose, or in a fold), as canonical lines."""
    if shard in base.shards:
        return Counter(row_keys(reader.blob(base.shards[shard]), schema))
    for name in ordered_folds(reader, base):
        if shard not in {entry.shard for entry in reader.fold_entries(base, name)}:
            continue
        content = reader.fold(base, name)
        if content.problem:
            continue
        ranges = folds.segments(content.data, content.entries)
        for entry, (start, end) in zip(content.entries, ranges, strict=True):
            if entry.shard == shard:
                return Counter(row_keys(folds.segment_file(content.data, start, end), schema))
    return Counter()


def _less(
    items: Iterable[Run | Row | Problem | None], before: Counter[str], schema: Schema
) -> Iterator[Run | Row | Problem]:
    """`items` without the rows `before` holds (each as many times as it holds it)."""
    if not before:
        yield from (item for item in items if item is not None)
        return
    for item in items:
        found: Iterable[Row | Problem | None] = (
            run_fast_path(schema, item).rows_of(item) if isinstance(item, str) else (item,)
        )
        for row in found:
            if type(row) is Row:
                line = schema.format_line(row)
                if before[line] > 0:
                    before[line] -= 1
                    continue
            if row is not None:
                yield row


def rows_at(revision: str, settings: Settings, root: Path) -> Iterator[Row]:
    """Every valid row of the log at a revision (its own settings), each shard once and each
    `source_id` once (the first read), in the order readers read them; a line that is not a
    valid row is left out."""
    schema = settings.schema
    seen = SeenIds()
    with plumbing.BlobReader(root, limit=max(4 * settings.max_bytes, 64 << 20)) as blobs:
        reader = Reader(blobs, schema)
        logs = log_set_at(
            revision, revision[:12], settings_at(revision, root, blobs, settings), root
        )
        for _, key, _ in reader.rows(logs):
            row = schema.parse_line(key)  # a key has the shortest shape that holds its row
            if not isinstance(row, Row):
                row = schema.parse_line(key, extended=True)
            if isinstance(row, Row) and seen.counts(row):
                yield row


def rows_added(commits: CommitRange, settings: Settings, root: Path) -> list[Row]:
    """The rows a range added; InvalidLogError at the first problem at its head."""
    added: list[Row] = []
    for item in added_items(commits, settings, root):
        if isinstance(item, str):
            added.extend(run_fast_path(settings.schema, item).rows_of(item))
        elif type(item) is not Row:
            raise InvalidLogError(f"{item}; the rows at {commits.head[:12]} cannot be read")
        else:
            added.append(item)
    return added


def items_in_range(text: str, settings: Settings) -> Iterator[Run | Row | Problem]:
    """What `report --range TEXT` reads: the rows the range added to the configured log, and
    the problems at its end."""
    root = plumbing.toplevel(settings.root)
    return added_items(parse_range(text, root), settings, root)


def rows_in_range(text: str, settings: Settings) -> list[Row]:
    """The rows the range added to the configured log; InvalidLogError at a problem."""
    root = plumbing.toplevel(settings.root)
    return rows_added(parse_range(text, root), settings, root)
