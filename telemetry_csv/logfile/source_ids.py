"""Rows that share a `source_id` are one row: every reader counts the first of them, and `check`
reports two whose numbers differ.

A row with a `source` and a `source_id` says exactly what it covers (an importer's slice of a
session, docs/format.md), so two such rows with the same pair are the same usage, written twice:
by two clones that imported the same session and were merged, or by an import repeated after a
crash. `SeenIds` is the one place that decides which rows count; `report` (and `--range`), the
export and `check` all go through it.

Memory stays flat. The ids of one source are ordered in time: an importer's ids start with the
UTC hour they cover (`YYYYMMDDTHHZ-…`). For each source only the ids of the `WINDOW_HOURS`
before the newest id read so far are kept; a repeat of an id older than that counts again (a
branch that diverged for longer than the window before it was merged). Ids without that
leading hour (another tool's) are kept for the last `UNTIMED_KEPT` of their source, first in,
first out.

Within the window, memory would still grow with the ids it holds, and a log that many clones
imported into over the same months holds hundreds of thousands. So past `NAMED_KEPT` ids held
as text, a window packs the importer's ids it holds (`YYYYMMDDTHHZ-` and 16 hex digits) as the
64-bit number of their hex digits, in a sorted array per hour: 8 bytes an id where the text and
its dictionary entry take over a hundred. A window that keeps no values (`SeenIds`: whether an
id was read is all a reader asks) keeps nothing more; one whose values can be told apart by a
64-bit digest (`ConflictFinder`: whether the numbers are the same) keeps the digest beside each
id, and finds the value again, when it is needed, by reading again (`Packed`). New ids are kept
as text until the next packing, so a reader that never passes the limit (most logs) never pays
for it.
"""

from __future__ import annotations

import heapq
import re
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable
from itertools import repeat
from typing import NamedTuple, cast

from telemetry_csv import compiled, rfc3339
from telemetry_csv.logfile.fastpath import IMPORTER_ID
from telemetry_csv.logfile.reading import ExtendedRun, lines_of
from telemetry_csv.logfile.schema import Row

WINDOW_HOURS = 90 * 24
UNTIMED_KEPT = 1 << 16
NAMED_KEPT = 1 << 16  # a source's ids held as text before a window without values packs them
# The last four fields of an extended line whose source and source_id are both set: the rule of
# `schema.source_problem` and `source_id_problem`; neither field can hold a comma, so the match
# starts at the line's fourth comma from the end.
ID_AT_END = re.compile(
    r",([a-z][a-z0-9_-]{0,31}),([A-Za-z0-9][A-Za-z0-9._:-]{0,127}),([0-9]*),([0-9]*)$",
    re.MULTILINE,
)
_TIMED = re.compile(r"[0-9]{8}T[0-9]{2}Z-")
_NEW = object()


class Packed:
    """What a window with a digest keeps of a packed id's value: its digest."""

    __slots__ = ("digest",)

    def __init__(self, digest: int) -> None:
        self.digest = digest


class _Source:
    """The ids of one source within the window, with a value each, or (`values` false) only
    whether each was read, the importer's ids packed past a limit where the values are none or
    have a `digest` (the module docstring)."""

    __slots__ = (
        "digest",
        "digests",
        "heap",
        "horizon",
        "hours",
        "named",
        "named_limit",
        "newest",
        "packed",
        "packs",
        "untimed",
    )

    def __init__(self, values: bool = True, digest: Callable[[object], int] | None = None) -> None:
        self.digest = digest
        self.packs = not values or digest is not None
        self.newest = ""  # the newest hour (`YYYYMMDDTHHZ`) read
        self.horizon = ""  # hours before it are forgotten
        self.hours: dict[str, dict[str, object]] = {}
        self.heap: list[str] = []  # the hours kept, for forgetting the oldest first
        self.untimed: dict[str, object] = {}
        # Where it packs: each hour's packed ids, sorted, their values' digests in the same
        # order (with a digest), and how many ids `hours` holds as text (counted only there).
        self.packed: dict[str, array[int]] = {}
        self.digests: dict[str, array[int]] = {}
        self.named = 0
        self.named_limit = NAMED_KEPT

    def remember(self, source_id: str, value: object) -> object:
        """The value kept for `source_id` (which stays), or `_NEW` after keeping `value`
        (without values, None stands for any value kept; a packed value is `Packed`)."""
        hour = source_id[:12]
        ids = self.hours.get(hour)  # an hour kept is a valid one: the common case, at once
        if ids is None:
            if _TIMED.match(source_id) is None:
                return self._remember_untimed(source_id, value)
            if hour < self.horizon:
                return _NEW  # older than the window: it cannot be told apart any more
            ids = self.hours[hour] = {}
            heapq.heappush(self.heap, hour)
            if hour > self.newest:
                self._advance(hour)
        found = ids.get(source_id, _NEW)
        if found is not _NEW:
            return found
        if not self.packs:
            ids[source_id] = value
            return found
        if self.packed:
            found = self._packed(hour, source_id)
            if found is not _NEW:
                return found
        ids[source_id] = value
        self.named += 1
        if self.named > self.named_limit:
            self._pack()  # after the id is kept: packing replaces the hours' dictionaries
        return found

    def holds(self, source_id: str) -> bool:
        """Whether `source_id` is kept (`remember` would find it), without remembering it."""
        hour = source_id[:12]
        ids = self.hours.get(hour)
        if ids is None:
            return _TIMED.match(source_id) is None and source_id in self.untimed
        if source_id in ids:
            return True
        return bool(self.packed) and self._packed(hour, source_id) is not _NEW

    def _packed(self, hour: str, source_id: str) -> object:
        """What `remember` finds of a packed id: `_NEW` if it is not packed."""
        packed = self.packed.get(hour)
        if packed is None or IMPORTER_ID.fullmatch(source_id) is None:
            return _NEW
        number = int(source_id[13:], 16)
        at = bisect_left(packed, number)
        if at == len(packed) or packed[at] != number:
            return _NEW
        return None if self.digest is None else Packed(self.digests[hour][at])

    def _pack(self) -> None:
        """Every importer's id held as text, packed into its hour's array (with its value's
        digest in the hour's digests, where the values have one)."""
        named = 0
        digest = self.digest
        for hour, ids in self.hours.items():
            entries = [
                (int(key[13:], 16), 0 if digest is None else digest(value))
                for key, value in ids.items()
                if IMPORTER_ID.fullmatch(key)
            ]
            if entries:
                # Where the values have no digest, the hour has none: zeros stand for them.
                earlier = zip(
                    self.packed.get(hour, ()), self.digests.get(hour, repeat(0)), strict=False
                )
                entries += earlier
                entries.sort()
                self.packed[hour] = array("Q", [number for number, _ in entries])
                if digest is not None:
                    self.digests[hour] = array("q", [value for _, value in entries])
                # A new dictionary for what is left: one emptied in place keeps its size.
                ids = self.hours[hour] = {
                    key: value for key, value in ids.items() if not IMPORTER_ID.fullmatch(key)
                }
            named += len(ids)
        self.named = named
        # Other tools' ids cannot be packed: the limit moves past them, not to pack each time.
        self.named_limit = max(NAMED_KEPT, 2 * named)

    def _remember_untimed(self, source_id: str, value: object) -> object:
        found = self.untimed.get(source_id, _NEW)
        if found is _NEW:
            if len(self.untimed) >= UNTIMED_KEPT:
                del self.untimed[next(iter(self.untimed))]
            self.untimed[source_id] = value
        return found

    def _advance(self, hour: str) -> None:
        self.newest = hour
        horizon = _hours_before(hour, WINDOW_HOURS)
        if horizon <= self.horizon:
            return
        self.horizon = horizon
        heap = self.heap
        while heap and heap[0] < horizon:
            hour = heapq.heappop(heap)
            dropped = self.hours.pop(hour)
            if self.packs:
                self.named -= len(dropped)
                self.packed.pop(hour, None)
                self.digests.pop(hour, None)


def id_hour(source_id: str) -> str | None:
    """The UTC hour (`YYYYMMDDTHHZ`) an importer's id starts with; None for another tool's id,
    which says nothing of when it was written."""
    return source_id[:12] if _TIMED.match(source_id) is not None else None


def hours_before(hour: str, hours: int) -> str:
    """The `YYYYMMDDTHHZ` of `hours` before `hour`; "" when `hour` names no hour that exists
    or the result would be before year 1."""
    return _hours_before(hour, hours)


def _hours_before(hour: str, hours: int) -> str:
    """The `YYYYMMDDTHHZ` of `hours` before `hour`; "" when `hour` names no hour that exists
    or the result would be before year 1. Integer arithmetic, remembered: a reader asks once per
    new hour of ids, and a datetime for each would cost more than the rest of the id's work.
    Whole days (the window) move the date alone, so the dates are what is remembered."""
    if hours % 24 == 0:
        if hour[9:11] > "23":
            return ""
        key = (hour[:8], hours)
        day = _DAYS_BEFORE.get(key)
        if day is None:
            if len(_DAYS_BEFORE) > 1 << 16:
                _DAYS_BEFORE.clear()
            day = _DAYS_BEFORE[key] = _compute_hours_before(f"{hour[:8]}T00Z", hours)[:8]
        return day and day + hour[8:]
    key = (hour, hours)
    found = _HOURS_BEFORE.get(key)
    if found is None:
        if len(_HOURS_BEFORE) > 1 << 16:
            _HOURS_BEFORE.clear()
        found = _HOURS_BEFORE[key] = _compute_hours_before(hour, hours)
    return found


def _compute_hours_before(hour: str, hours: int) -> str:
    year, month, day, clock = int(hour[:4]), int(hour[4:6]), int(hour[6:8]), int(hour[9:11])
    if clock > 23 or not rfc3339.valid_date(f"{hour[:4]}-{hour[4:6]}-{hour[6:8]}"):
        return ""
    total = rfc3339.days_from_civil(year, month, day) * 24 + clock - hours
    if total < _FIRST_HOUR:
        return ""
    year, month, day = rfc3339.civil_from_days(total // 24)
    return f"{year:04d}{month:02d}{day:02d}T{total % 24:02d}Z"


_HOURS_BEFORE: dict[tuple[str, int], str] = {}
_DAYS_BEFORE: dict[tuple[str, int], str] = {}  # a date's `YYYYMMDD` so many hours before
_FIRST_HOUR = rfc3339.days_from_civil(1, 1, 1) * 24  # datetime's first hour


class IdWindow:
    """Every source's window of ids, with a value each, or (`values` false) only whether each
    was read; with a `digest` of the values (a 64-bit int), packed past a limit."""

    def __init__(self, values: bool = True, digest: Callable[[object], int] | None = None) -> None:
        self._values = values
        self._digest = digest
        self._sources: dict[str, _Source] = {}

    def remember(self, source: str, source_id: str, value: object = None) -> object:
        """The value kept for this id, or `NEW` (after keeping `value`) for an id not seen."""
        return self.source(source).remember(source_id, value)

    def source(self, name: str) -> _Source:
        """The ids of one source, for a caller that asks many times."""
        kept = self._sources.get(name)
        if kept is None:
            kept = self._sources[name] = _Source(self._values, self._digest)
        return kept


NEW = _NEW


class SeenIds:
    """Which rows count: a row without a `source_id`, and the first row of each id."""

    def __init__(self) -> None:
        self._window = IdWindow(values=False)
        self.repeats = 0  # rows left out as repeats of an id read before

    def first(self, source: str, source_id: str) -> bool:
        """True the first time an id is read (and for every id older than the window)."""
        if self._window.remember(source, source_id) is _NEW:
            return True
        self.repeats += 1
        return False

    def holds(self, source: str, source_id: str) -> bool:
        """Whether a row with this id would be left out now as a repeat, without reading it."""
        return self._window.source(source).holds(source_id)

    def window(self, source: str) -> Callable[[str, object], object]:
        """What `first` asks of one source's ids, for a caller asking many times: `NEW` for
        an id not read before (which is remembered), anything else for a repeat, which the
        caller counts in `repeats` if it keeps count."""
        return self._window.source(source).remember

    def counts(self, row: Row) -> bool:
        """Whether `row` counts: it has no id, or it is the first with its id."""
        return not row.source_id or self.first(row.source, row.source_id)

    def run_without_repeats(self, run: ExtendedRun) -> ExtendedRun:
        """A run of extended lines without the lines whose id was read before (the run itself
        when there are none, the common case)."""
        remember = self._window.remember
        before = len(run)
        kept = without_ids(run, lambda source, source_id: remember(source, source_id) is not _NEW)
        if len(kept) != before:
            self.repeats += run.count("\n") - kept.count("\n")
        return kept


def without_ids(run: ExtendedRun, drop: Callable[[str, str], bool]) -> ExtendedRun:
    """A run of extended lines without the lines whose (source, source_id) `drop` is true of,
    asked of each line with an id in order (the run itself when none is dropped). A canonical
    line's last four fields hold no comma."""
    lines = lines_of(run)
    kept = []
    for line in lines:
        _, source, source_id, _, _ = line.rsplit(",", 4)
        if not source_id or not drop(source, source_id):
            kept.append(line)
    if len(kept) == len(lines):
        return run
    found = ExtendedRun("".join(line + "\n" for line in kept))
    found.lines = kept
    return found


class Numbers(NamedTuple):
    """What two rows with one id must agree on, as stored: the model and the token counts
    (an empty cache part is unknown)."""

    model: str
    prompt_tokens: str
    completion_tokens: str
    cache_read_tokens: str
    cache_write_tokens: str

    def differences(self, other: Numbers) -> str:
        """`field A here, B there` for each field that differs."""
        return ", ".join(
            f"{field} {mine or 'empty'} here, {theirs or 'empty'} there"
            for field, mine, theirs in zip(self._fields, self, other, strict=True)
            if mine != theirs
        )


def numbers_of(row: Row) -> Numbers:
    read, write = row.cache_read_tokens, row.cache_write_tokens
    return Numbers(
        row.model,
        str(row.prompt_tokens),
        str(row.completion_tokens),
        "" if read is None else str(read),
        "" if write is None else str(write),
    )


class Conflict(NamedTuple):
    """Two rows with one id and different numbers (the first's unknown, None, when a packed id's
    row could not be found again: its file changed or went while it was read)."""

    source: str
    source_id: str
    first_path: str
    first: Numbers | None
    path: str
    numbers: Numbers


class ConflictFinder:
    """`check`'s part: rows with one id must have the same numbers (within the window).

    What is kept for an id is what it was read from: the `Numbers` of a row, or the line
    itself for a line of a run (whose numbers are read from it only when the id comes again,
    which is rare: one split of each line fewer). Past `NAMED_KEPT` ids, an importer's id keeps
    only the digest of its numbers (the module docstring): a repeat with other numbers is a
    conflict whose first row `resolve` finds again, reading the files again (rare: a window
    that large, and a conflict in it)."""

    def __init__(self) -> None:
        self._window = IdWindow(digest=_digest)
        self.conflicts: list[Conflict] = []
        # Where in `conflicts` a conflict with a packed first row waits for `resolve`, and
        # the digest of that row's numbers.
        self.unresolved: list[tuple[int, int]] = []

    def add(self, source: str, source_id: str, numbers: Numbers, path: str) -> None:
        kept = self._window.remember(source, source_id, (numbers, path))
        if kept is not _NEW:
            self._compare(source, source_id, kept, numbers, path)

    def add_run(self, run: ExtendedRun, path: str) -> None:
        """`add` for every line of an extended run that has an id. A canonical line's last
        four fields hold no comma."""
        windows: dict[str, Callable[[str, object], object]] = {}
        source_of = self._window.source
        for source, source_id, line in _lines_with_ids(run):
            remember = windows.get(source)
            if remember is None:
                remember = windows[source] = source_of(source).remember
            kept = remember(source_id, (line, path))
            if kept is not _NEW:
                self._compare(source, source_id, kept, _line_numbers(line), path)

    def resolve(self, rows: Callable[[set[str]], Iterable[tuple[str, Row]]]) -> None:
        """Find the first rows of the conflicts `unresolved` waits for: `rows(ids)` yields
        (the file's name, the row) for every row of the files read that has one of `ids`, in
        the order they were read; the first with the id and the digest of the kept numbers is
        the row that was kept."""
        if not self.unresolved:
            return
        wanted = {
            (self.conflicts[index].source, self.conflicts[index].source_id, digest): None
            for index, digest in self.unresolved
        }
        firsts: dict[tuple[str, str, int], tuple[Numbers, str]] = {}
        for path, row in rows({source_id for _, source_id, _ in wanted}):
            numbers = numbers_of(row)
            key = (row.source, row.source_id, _numbers_digest(numbers))
            if key in wanted and key not in firsts:
                firsts[key] = (numbers, path)
                if len(firsts) == len(wanted):
                    break
        for index, digest in self.unresolved:
            conflict = self.conflicts[index]
            found = firsts.get((conflict.source, conflict.source_id, digest))
            if found is not None:
                self.conflicts[index] = conflict._replace(first=found[0], first_path=found[1])
        self.unresolved.clear()

    def _compare(
        self, source: str, source_id: str, kept: object, numbers: Numbers, path: str
    ) -> None:
        if type(kept) is Packed:
            if _numbers_digest(numbers) != kept.digest:
                self.unresolved.append((len(self.conflicts), kept.digest))
                self.conflicts.append(Conflict(source, source_id, "", None, path, numbers))
            return
        first, first_path = cast(tuple[Numbers | str, str], kept)
        if type(first) is str:
            first = _line_numbers(first)
        if first != numbers:
            self.conflicts.append(
                Conflict(source, source_id, first_path, Numbers(*first), path, numbers)
            )


def _digest(kept: object) -> int:
    """The digest of the numbers a `ConflictFinder` keeps for an id (a row's `Numbers` or a
    line's): what a packed id keeps of them."""
    first = cast(tuple[Numbers | str, str], kept)[0]
    return _numbers_digest(_line_numbers(first) if isinstance(first, str) else first)


def _numbers_digest(numbers: Numbers) -> int:
    """The one digest of numbers, kept and compared alike. Equal numbers give equal digests,
    and other numbers other digests but for one chance in 2**64 (a conflict that would go
    unreported); `hash` is 64 bits on the platforms that run the tool, and the window's arrays
    hold its values as such."""
    return hash(numbers)


def _lines_with_ids(run: ExtendedRun) -> Iterable[tuple[str, str, str]]:
    """(source, source_id, line) of each line of `run` that has an id, in order: compiled
    (`_extended.c`) where it is built and wanted (`telemetry_csv.compiled`)."""
    module = compiled.load("telemetry_csv.logfile._extended")
    found: list[tuple[str, str, str]] | None = None if module is None else module.ids(run)
    if found is not None:
        return found
    return (
        (source, source_id, line)
        for line in lines_of(run)
        for _, source, source_id, _, _ in (line.rsplit(",", 4),)
        if source_id
    )


def _line_numbers(line: str) -> Numbers:
    """The `Numbers` of a canonical extended line, as `numbers_of` its row: its model (stored
    neutralised, as `fastpath.stored_row` reads it), prompt and completion are its second to
    fourth fields, its cache parts its last two."""
    head, _, _, read, write = line.rsplit(",", 4)
    _, model, prompt, completion, _ = head.split(",", 4)
    if model[0] == "'":
        model = model[1:]
    return Numbers(model, prompt, completion, read, write)
