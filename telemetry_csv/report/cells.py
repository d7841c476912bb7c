"""Cells, and the statistics of any union of them: the seam between the pass and the groups.

The streaming pass (`aggregate`) puts every row into one cell, keyed by `CellKey`: (model, task
type, local day, success). A cell holds the counts, token sums, femto-dollar cost, unpriced runs
and every duration of its rows. Each group a report shows is a union of cells, and its
statistics (percentiles included) are exactly those of its rows, because the durations of the
union are all there.

`CellTable.union` is the one function that computes them. Grouping by any columns
(`grouping`), the HTML charts and the recommendations use `union` and `partition`, which is
built on it, and nothing else of the pass. A faster pass (issue 14) keeps every one of those
features by keeping `CellKey` and `CellTable.union` (and `partition`, if its own is faster).

The report's default groups are built in `aggregate._report`, which merges cells upwards and
lets each list go as soon as it is used (memory); it uses `combine` and `statistics` from here.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple, TypeVar

from telemetry_csv.report.data import Cost, Durations, Stats
from telemetry_csv.report.percentiles import percentile

# A cell: [runs, successes, prompt tokens, completion tokens, femto-dollars, unpriced runs,
#          durations, durations.append, cache-read tokens, cache-write tokens]; a list, since
#          the pass updates it for every row. A union's cell has the same layout (durations
#          sorted, or None where only the sums are wanted).
RUNS, SUCCESSES, PROMPT, COMPLETION, COST, UNPRICED, DURATIONS, APPEND_DURATION = range(8)
CACHE_READ, CACHE_WRITE = 8, 9
_SUMS = (RUNS, SUCCESSES, PROMPT, COMPLETION, COST, UNPRICED, CACHE_READ, CACHE_WRITE)
Cell = list[Any]
K = TypeVar("K", bound=Hashable)


class CellKey(NamedTuple):
    """What a cell holds: the rows of one model and task type, on one local day (a day number,
    see `dates`), that succeeded or failed. Stored as a plain tuple in this order."""

    model: str
    task_type: str
    day: int
    success: bool


class CellTable:
    """Every cell of one pass. Durations are sorted once, on first use."""

    def __init__(self, cells: dict[tuple[str, str, int, bool], Cell], *, costed: bool):
        self._cells = cells
        self.costed = costed  # whether costs were estimated (Stats.cost is None if not)
        self._sorted = False
        self._keys: list[CellKey] | None = None

    def keys(self) -> list[CellKey]:
        if self._keys is None or len(self._keys) != len(self._cells):
            self._keys = [CellKey._make(key) for key in self._cells]
        return self._keys

    def union(self, keys: Iterable[tuple[str, str, int, bool]], *, durations: bool = True) -> Stats:
        """The statistics of the rows of the cells `keys`, exact. Without `durations`, only the
        counts, tokens and cost (`Stats.durations` is empty): cheaper, for charts of sums."""
        parts = [self._cells[key] for key in keys]
        if not durations:
            return statistics(_sums(parts), self.costed, with_durations=False)
        self.sort_durations()
        return statistics(combine(parts), self.costed)

    def partition(
        self, key_of: Callable[[CellKey], K], *, durations: bool = True
    ) -> dict[K, Stats]:
        """The statistics of each group of cells that `key_of` puts together, in the order each
        group's first cell was met (callers sort): for each group, what `union` of its cells
        gives. Without durations, the sums are made in the same pass."""
        if not durations:
            with _no_cycle_collection():
                return self._sum_partition(key_of)
        members: dict[K, list[tuple[str, str, int, bool]]] = {}
        for key in self.keys():
            members.setdefault(key_of(key), []).append(key)
        return {group: self.union(keys) for group, keys in members.items()}

    def _sum_partition(self, key_of: Callable[[CellKey], K]) -> dict[K, Stats]:
        sums: dict[K, Cell] = {}
        for key, cell in zip(self.keys(), self._cells.values(), strict=True):
            group = key_of(key)
            found = sums.get(group)
            if found is None:
                sums[group] = [*cell[:6], None, None, cell[8], cell[9]]
            else:
                found[0] += cell[0]
                found[1] += cell[1]
                found[2] += cell[2]
                found[3] += cell[3]
                found[4] += cell[4]
                found[5] += cell[5]
                found[8] += cell[8]
                found[9] += cell[9]
        return {
            group: statistics(part, self.costed, with_durations=False)
            for group, part in sums.items()
        }

    def sort_durations(self) -> None:
        """Each cell's durations as a sorted list, once (ints made once, not for every group)."""
        if self._sorted:
            return
        for cell in self._cells.values():
            values = cell[DURATIONS]
            if not isinstance(values, list):
                values = values.tolist()
                values.sort()
                cell[DURATIONS] = values
                cell[APPEND_DURATION] = None
        self._sorted = True

    def release(self) -> dict[tuple[str, str, int, bool], Cell]:
        """The cells, sorted, handed over to be consumed: the table is empty afterwards."""
        self.sort_durations()
        cells = dict(self._cells)
        self._cells.clear()
        self._keys = None
        return cells


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cycle collector: a partition makes an object or two per cell, none in a cycle
    (reference counting frees them all), and each collection would walk every cell's list."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def combine(parts: Sequence[Cell]) -> Cell:
    """One group's cell (the layout above, with sorted durations) from its parts' (durations
    sorted); a single part is used as it is (lists are never changed)."""
    if len(parts) == 1:
        return parts[0]
    combined = _sums(parts)
    values: list[int] = []
    for part in parts:
        values += part[DURATIONS]
    values.sort()  # sorted runs, one after another: timsort merges them
    combined[DURATIONS] = values
    return combined


def _sums(parts: Sequence[Cell]) -> Cell:
    combined: Cell = [0, 0, 0, 0, 0, 0, None, None, 0, 0]
    for part in parts:
        for index in _SUMS:
            combined[index] += part[index]
    return combined


def statistics(part: Cell, costed: bool, *, with_durations: bool = True) -> Stats:
    runs, successes, prompt, completion, femto, unpriced = part[:6]
    return Stats(
        runs=runs,
        successes=successes,
        prompt_tokens=prompt,
        completion_tokens=completion,
        durations=_durations(part[DURATIONS]) if with_durations else Durations(),
        cost=Cost(femto, runs - unpriced, unpriced) if costed else None,
        cache_read_tokens=part[CACHE_READ],
        cache_write_tokens=part[CACHE_WRITE],
    )


def _durations(ordered: list[int]) -> Durations:
    if not ordered:
        return Durations()
    total = sum(ordered)
    return Durations(
        total=total,
        mean=total / len(ordered),
        p50=percentile(ordered, 50),
        p95=percentile(ordered, 95),
        max=ordered[-1],
    )
