"""The rows a range of commits added, read from git's objects rather than the working tree.

`BASE..HEAD` means the rows of the log at HEAD, less those at BASE, each revision's log found
by its own settings (`logsets.py`): the log file and its backups, counted as multisets of
canonical lines and kept in HEAD's order, so a rotation inside the range moves rows between
files without adding or losing any; and each shard's rows, by the shard's identity, so a shard
that is in both (loose, or folded inside the range) adds nothing and one new in HEAD adds all
its rows. Files that did not change are never read; the others are read through one
`git cat-file --batch`. `BASE...HEAD` uses the merge base of the two, as `git diff` does; for
rows the answer is the same unless BASE has rows HEAD lacks.

What a range costs is what it added. In the common case, rows appended to the log, the log at
BASE is the start of the log at HEAD: that is told from BASE's object id alone (the id git
would give HEAD's first bytes), and only the bytes after it are read as rows, numbered as in
the file; the lines BASE already had are not read again (`check` judges them). When HEAD is
checked out (CI's case), the log is read from the work tree if its bytes are exactly HEAD's
blob and is not inflated by git.

A row whose `source_id` BASE already has is the same usage (an import another clone merged in,
in a shard of its own), so it is not added either (`source_ids`). BASE is searched for the ids
the range adds, by time rather than through the whole history: an importer's id starts with the
hour its usage began, and a row is written after its usage, so a backup rotated before the
earliest such hour (less `_CLOCK_SLACK_HOURS`, for clocks that disagree) cannot hold one and is
not read. The log that only grew is searched in the bytes already read for the range (BASE's
blob is their start); the other files that may hold an id (newer backups, folds and shards)
with one `git grep`, and only the lines it finds are read. An id of another shape (a response's
id from `log --usage-json`) says nothing of when it was written: a range that adds one searches
every backup. A range that adds more than `_IDS_ASKED` rows reads BASE's ids whole.

An id BASE holds is left out as a report of HEAD leaves it out: unless a reader has forgotten
it by then (older than `source_ids.WINDOW_HOURS` before the newest id of its source read, at
BASE or in the range before it). Only an id older than that before now can be forgotten at
BASE's end; only then is BASE read whole, to know. Ids that repeat among the range's own rows
are left to the report (`SeenIds`), which does not know BASE's newest ids: an old slice
imported twice inside the range, more than the window before BASE's newest, counts once there
and twice in a report of HEAD.
"""

from __future__ import annotations

import os
import posixpath
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from telemetry_csv import fs
from telemetry_csv.config import Settings
from telemetry_csv.errors import InvalidLogError, InvalidValueError, LogFileError
from telemetry_csv.git import plumbing
from telemetry_csv.git.logsets import LogSet, Reader, log_set_at, ordered_folds, settings_at
from telemetry_csv.logfile import folds, layout, source_ids
from telemetry_csv.logfile.canonical import Line, canonical_line, header_shape, line_key, row_keys
from telemetry_csv.logfile.reading import (
    ExtendedRun,
    Problem,
    Run,
    lines_of,
    run_fast_path,
    scan_data,
    split_lines,
)
from telemetry_csv.logfile.schema import HEADER_SHAPES, Row, Schema
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
        base = log_set_at(commits.base, commits.base[:12], base_settings, root, old=True)
        head = log_set_at(commits.head, commits.head[:12], head_settings, root)
        base_ids = _BaseIds(reader, base, root)
        added = chain(
            _legacy_added(reader, base, head, schema, base_ids.known, root),
            _shards_added(reader, base, head, schema),
        )
        yield from _without_ids_of(added, base_ids)


_IDS_ASKED = 1 << 16  # rows of a range whose ids are looked for in BASE with `git grep`


class _BaseIds:
    """The (source, source_id) pairs of rows at the base, as `Reader.rows` reads the base:
    every row, each shard once."""

    def __init__(self, reader: Reader, base: LogSet, root: Path):
        self._reader, self._base, self._root = reader, base, root
        self._all: set[tuple[str, str]] | None = None
        self._seen = SeenIds()  # the ids a reader of the whole base holds at its end
        # Files of the base whose bytes were read already: git path -> (bytes, how many of
        # them are the file's), searched here rather than asked of `git grep`.
        self.known: dict[str, tuple[bytes, int]] = {}

    def every(self) -> set[tuple[str, str]]:
        """Every pair at the base, from every row (for a range that adds very many rows)."""
        if self._all is None:
            self._all = set()
            for _, key, _ in self._reader.rows(self._base):
                found = ID_AT_END.search(key)
                if found is not None:
                    self._all.add((found[1], found[2]))
                    self._seen.first(found[1], found[2])
        return self._all

    def held(self, found: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """Of pairs the base holds, those a reader of the whole base still holds at its end:
        an id older than the window before the newest of its source read since is forgotten,
        and a report of HEAD counts it again (`source_ids`). No id is newer than when it was
        written, so only an id older than the window before now can be forgotten; only then
        is the base read whole, to know."""
        now = time.strftime("%Y%m%dT%HZ", time.gmtime())
        recent = source_ids.hours_before(now, source_ids.WINDOW_HOURS - _CLOCK_SLACK_HOURS)
        hours = (source_ids.id_hour(source_id) for _, source_id in found)
        if all(hour is None or hour >= recent for hour in hours):
            return found
        self.every()
        return {pair for pair in found if self._seen.holds(*pair)}

    def among(self, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of `pairs` the base holds: the lines of the base's files that may hold one of
        the ids (see the module docstring) and do, read as `Reader.rows` would read them."""
        base, reader = self._base, self._reader
        strings = sorted({source_id for _, source_id in pairs})
        if len(strings) > _IDS_GREPPED:
            return self.every() & pairs
        hours = [source_ids.id_hour(source_id) for source_id in strings]
        # Backups rotated before this hour hold none of the ids; None: any may hold one.
        since = None
        if None not in hours:
            since = source_ids.hours_before(min(filter(None, hours)), _CLOCK_SLACK_HOURS)
        # In bytes already read, ids are looked for by the day they start with (one pass for a
        # range of a day's imports), an id of another shape whole.
        pairs_of_shape = zip(hours, strings, strict=True)
        needles = sorted({hour[:9] if hour else source_id for hour, source_id in pairs_of_shape})
        found: set[tuple[str, str]] = set()
        paths = []
        for path, _ in base.legacy:
            if path in self.known and len(needles) <= _NEEDLES_SOUGHT:
                data, size = self.known[path]
                holding = _lines_holding(data, size, needles, strings)
                found |= _ids_on(data, holding, reader.schema)
            elif since is None or _rotated_since(base, path, since):
                paths.append(path)
        paths += [base.path(name) for name in (*base.folds, *base.shards)]
        hits: dict[str, dict[int, bytes]] = {}
        for path, number, text in plumbing.grep_lines(base.revision, strings, paths, self._root):
            hits.setdefault(path, {})[number] = text
        if not hits:
            return found & pairs
        for path, oid in base.legacy:
            if path in hits:
                found |= _ids_on(reader.blob(oid), _numbered(hits[path]), reader.schema)
        owned: set[str] = set()
        for name in ordered_folds(reader, base):
            lines = hits.get(base.path(name))
            content = reader.fold(base, name) if lines else None
            if content is not None and content.problem:
                found |= _ids_on(content.data, _numbered(lines or {}), reader.schema)
                continue
            line = 2
            for entry in reader.fold_entries(base, name):
                if entry.shard not in owned:
                    owned.add(entry.shard)
                    mine = {
                        number: text
                        for number, text in (lines or {}).items()
                        if line <= number < line + entry.rows
                    }
                    if mine and content is not None:
                        found |= _ids_on(content.data, _numbered(mine), reader.schema)
                line += entry.rows
        for name, oid in base.shards.items():
            if name not in owned and base.path(name) in hits:
                found |= _ids_on(reader.blob(oid), _numbered(hits[base.path(name)]), reader.schema)
        return found & pairs


_IDS_GREPPED = 4096  # ids asked of `git grep` at most; for more, BASE's ids are read whole
# An id names the hour its usage began and is written after it, by one machine's clock; a
# backup's name holds when it was rotated, by another's.
_CLOCK_SLACK_HOURS = 24
_NEEDLES_SOUGHT = 64  # strings searched for in bytes already read; for more, `git grep`
_ID_CHARACTERS = re.compile(rb"[A-Za-z0-9._:-]+")  # what a source_id is made of


def _rotated_since(base: LogSet, path: str, hour: str) -> bool:
    """Whether the file at `path` of the base may have been written at or after `hour`
    (`YYYYMMDDTHHZ`): not a backup whose name says it was rotated before it."""
    order = layout.backup_order(posixpath.basename(base.log_path), posixpath.basename(path))
    if order is None or not order[0]:  # the log itself; a shell script's backup, in local time
        return True
    return order[0][:11] >= hour[:11]


def _lines_holding(
    data: bytes, size: int, needles: list[str], ids: Iterable[str]
) -> Iterator[tuple[bool, bytes]]:
    """(whether it is the first line, its bytes) of each line of `data[:size]` where one of
    `needles` starts a run of an id's characters that is one of `ids` (quoted or not, as a
    field may be stored), each line once."""
    wanted = {source_id.encode("ascii") for source_id in ids}
    starts = set()
    for needle in needles:
        sought = needle.encode("ascii")
        at = data.find(sought, 0, size)
        while at >= 0:
            run = _ID_CHARACTERS.match(data, at, size)
            if run is not None and run[0] in wanted:
                starts.add(data.rfind(b"\n", 0, at) + 1)
            at = data.find(sought, at + 1, size)
    for start in sorted(starts):
        end = data.find(b"\n", start, size)
        yield start == 0, data[start : size if end < 0 else end]


def _numbered(lines: dict[int, bytes]) -> Iterator[tuple[bool, bytes]]:
    """`git grep`'s lines, by number, as `_ids_on` takes them."""
    return ((number == 1, text) for number, text in lines.items())


def _ids_on(
    data: bytes, lines: Iterable[tuple[bool, bytes]], schema: Schema
) -> set[tuple[str, str]]:
    """The (source, source_id) pairs of some lines (whether each is the first line, and its
    bytes) of a file whose bytes are `data`, as `row_keys` keys them: in the shape of the
    file's first line, by their canonical form (their text where they have none); not the
    header."""
    first = split_lines(data[: data.find(b"\n") + 1] or data)
    extended = header_shape(first[0]) if first else False
    found = set()
    for is_first, raw in lines:
        if is_first and first and first[0] in HEADER_SHAPES:
            continue
        text = raw.removesuffix(b"\r").decode("utf-8", "surrogateescape")
        canonical = canonical_line(text, schema, first=is_first, extended=extended)
        match = ID_AT_END.search(line_key(Line(1 if is_first else 2, text, canonical)))
        if match is not None:
            found.add((match[1], match[2]))
    return found


def _without_ids_of(
    items: Iterable[Run | Row | Problem], base: _BaseIds
) -> Iterator[Run | Row | Problem]:
    """`items` without the rows whose `source_id` the base holds: the items are held (up to
    `_IDS_ASKED` rows) to ask the base for all their ids at once."""
    held: list[Run | Row | Problem] = []
    pairs: set[tuple[str, str]] = set()
    rows = 0
    iterator = iter(items)
    for item in iterator:
        held.append(item)
        if type(item) is ExtendedRun:
            for line in lines_of(item):
                _, source, source_id, _, _ = line.rsplit(",", 4)
                if source_id:
                    pairs.add((source, source_id))
            rows += item.count("\n")
        elif type(item) is Row:
            if item.source_id:
                pairs.add((item.source, item.source_id))
            rows += 1
        if rows > _IDS_ASKED:
            known = base.held(base.every())
            break
    else:
        known = base.held(base.among(pairs)) if pairs else set()

    window = _Horizons()

    def drop(source: str, source_id: str) -> bool:
        forgotten = window.forgotten(source, source_id)  # asked of every id, in order
        return not forgotten and (source, source_id) in known

    for item in chain(held, iterator):
        if type(item) is ExtendedRun:
            if known:
                item = without_ids(item, drop)
                if not item:
                    continue
        elif type(item) is Row and item.source_id and drop(item.source, item.source_id):
            continue
        yield item


class _Horizons:
    """Each source's horizon as the range's ids move it, read in order, as `SeenIds` moves
    it: a reader of HEAD that reads an id older than the window before the newest id of its
    source read since BASE has forgotten it, and counts it again."""

    def __init__(self) -> None:
        self._newest: dict[str, str] = {}
        self._horizon: dict[str, str] = {}

    def forgotten(self, source: str, source_id: str) -> bool:
        """Whether the id is older than its source's horizon; the id moves it on."""
        hour = source_ids.id_hour(source_id)
        if hour is None:
            return False
        horizon = self._horizon.get(source, "")
        if hour > self._newest.get(source, ""):
            self._newest[source] = hour
            moved = source_ids.hours_before(hour, source_ids.WINDOW_HOURS)
            if moved > horizon:
                self._horizon[source] = moved
        return hour < horizon


def _legacy_added(
    reader: Reader,
    base: LogSet,
    head: LogSet,
    schema: Schema,
    known: dict[str, tuple[bytes, int]],
    root: Path,
) -> Iterator[Run | Row | Problem]:
    """The rows of the log's files at the head, less those at the base (as multisets): files
    the same at both are neither read nor counted (they take away what they hold); a log that
    only grew is read from where the base's ended (and its bytes at the base are put in
    `known`, by path)."""
    if base.legacy == head.legacy:
        return
    unchanged = set(base.legacy) & set(head.legacy)
    changed_head = [entry for entry in head.legacy if entry not in unchanged]
    changed_base = [entry for entry in base.legacy if entry not in unchanged]
    if len(changed_head) == 1 and len(changed_base) == 1:
        (path, oid), (base_path, base_oid) = changed_head[0], changed_base[0]
        if path == base_path:
            data = _head_blob(reader, root, path, oid, head.sizes.get(oid, -1))
            grown = _grown(data, base_oid, base.sizes.get(base_oid, -1))
            if grown is not None:
                first_line, extended = grown
                size = base.sizes[base_oid]
                known[base_path] = (data, size)
                yield from (
                    item
                    for item in scan_data(
                        data[size:],
                        schema,
                        f"{head.label}:{path}",
                        first_line=first_line,
                        extended=extended,
                        lf_before=True,
                    )
                    if item is not None
                )
                return
    before: Counter[str] = Counter()
    for _, oid in changed_base:
        before.update(row_keys(reader.blob(oid), schema))
    for path, oid in changed_head:
        yield from _less(
            scan_data(reader.blob(oid), schema, f"{head.label}:{path}"), before, schema
        )


def _head_blob(reader: Reader, root: Path, path: str, oid: str, size: int) -> bytes:
    """The blob `oid` (of `size` bytes) at `path`: the work tree's file when it is exactly that
    blob (HEAD checked out, as in CI: reading and hashing a file costs a fraction of having git
    inflate a large blob and pipe it over), else git's. Only a regular file of that size is
    read, never through a link; a report records nothing (`committed.worktree_blob` does)."""
    try:
        if os.lstat(root / path).st_size == size:
            with fs.open_regular(root / path) as file:
                if os.fstat(file.fileno()).st_size == size:
                    data = file.read(size + 1)
                    if plumbing.blob_id(data, oid) == oid:
                        return data
    except (OSError, LogFileError):
        pass  # a link, a FIFO, a file that went away: git's copy
    return reader.blob(oid)


def _grown(data: bytes, base_oid: str, size: int) -> tuple[int, bool] | None:
    """When the base's blob `base_oid` (of `size` bytes) is the start of `data`, a file with a
    header that ended in a newline there: the number of the first line after it and whether
    the file has the extended header; else None."""
    if not 0 < size <= len(data) or data[size - 1 : size] != b"\n":
        return None
    header = folds.header_of(data)
    if header is None or size < len(header):
        return None
    if plumbing.blob_id(memoryview(data)[:size], base_oid) != base_oid:
        return None
    return data.count(b"\n", 0, size) + 1, header == folds.EXTENDED_HEADER_BYTES


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
