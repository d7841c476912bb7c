"""Cells, and the statistics of any union of them: the seam between the pass and the groups.

The streaming pass (`aggregate`) puts every row into cells keyed by `CellKey`: (model, task
type, local day, success). A cell holds the counts, token sums, femto-dollar cost, unpriced runs,
the sum of its durations and, while the log is small enough to hold them, the durations
themselves (8 bytes a run). A report of the default tables needs no cell of one model and task
type on one day: there each row goes into two cells, one of its (model, task type, success),
whose key has no day (None), and one of its (day, success), whose key has no model and task type;
each of the two kinds covers every row once. A report that groups by any columns (`--group-by`,
the HTML charts) has one cell of each (model, task type, day, success) instead.

Each group a report shows is a union of cells of one kind. Its counts and sums are the cells' sums; its
percentiles are exact order statistics of its rows' durations:

- while the cells hold their durations, from the groups' values sorted a run at a time
  (`percentiles.SortedRuns`); a group made of groups already sorted (a model of its (model, task
  type) pairs, a week of its days: a `Family` with a `parent`) takes their runs as they are;
- for a log too large to hold every duration, from two more passes over the same rows
  (`Rereader`, given by `aggregate`): the first counts each group's durations into fine buckets
  (`bucket`: 16 to an octave), the second collects only the durations in the buckets that hold
  a rank the report needs. Memory then grows with the number of groups, not rows.

`CellTable.union` and `partition` give the statistics of any union; `durations` gives many
groups' percentiles at once (`aggregate._report` asks for the default groups, `grouping` for
`--group-by`), which a log read in passes needs: every group it will ask for is resolved in one
pair of passes (`prepare`).
"""

from __future__ import annotations

import gc
from array import array
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

from telemetry_csv.report.data import Cost, Durations, Stats
from telemetry_csv.report.percentiles import SortedRuns, interpolate, ranks_needed

# A cell: [runs, successes, prompt tokens, completion tokens, femto-dollars, unpriced runs,
#          durations (an array, or None when they are not held), durations.append (or a sink),
#          cache-read tokens, cache-write tokens, total duration, key, success (0 or 1)]; a
#          list, since the pass updates it for every row. Successes are the runs of a cell whose
#          key says success, filled in when the pass ends. A group's sums are kept in the same
#          layout (up to the total duration).
RUNS, SUCCESSES, PROMPT, COMPLETION, COST, UNPRICED, DURATIONS, APPEND_DURATION = range(8)
CACHE_READ, CACHE_WRITE, DURATION_TOTAL = 8, 9, 10
KEY = 11  # the cell's CellKey, set by the table
SUCCESS = 12  # 1 if the cell's rows succeeded, else 0: the pass picks a day's cell by it
_SUMS = (RUNS, SUCCESSES, PROMPT, COMPLETION, COST, UNPRICED, CACHE_READ, CACHE_WRITE)
Cell = list[Any]
CellTuple = tuple[str | None, str | None, int | None, bool]  # a `CellKey` as a plain tuple
K = TypeVar("K", bound=Hashable)


class CellKey(NamedTuple):
    """What a cell holds: the rows of one model and task type, on one local day (a day number,
    see `dates`), that succeeded or failed; None where the cell is of any model and task type,
    or of any day (see the module docstring). Stored as a plain tuple in this order."""

    model: str | None
    task_type: str | None
    day: int | None
    success: bool


class Family(NamedTuple):
    """Groups of cells: `key` puts each cell in its group. With a `parent`, every group of the
    parent family lies inside one group of this one, so this family's values are the parent's,
    taken as they are sorted."""

    name: str
    key: Callable[[CellKey], Hashable]
    parent: str | None = None


# Appenders for a pass: for each cell (by key), what to call with each duration of its rows.
Appenders = Callable[[CellKey], Callable[[int], object]]
# Reads the rows again, calling each cell's appender with each of its rows' durations; raises
# (`snapshot.LogChanged`) if the rows are not those of the first pass.
Rereader = Callable[[Appenders], None]


class CellTable:
    """Every cell of one pass; `rows`, when the cells do not hold their durations, reads the
    rows again (see the module docstring)."""

    def __init__(
        self,
        cells: dict[CellTuple, Cell],
        *,
        costed: bool,
        rows: Rereader | None = None,
    ):
        self._cells = cells
        self.costed = costed  # whether costs were estimated (Stats.cost is None if not)
        self._rows = rows
        self._keys: list[CellKey] = list(map(tuple.__new__, repeat(CellKey), cells))
        for key, cell in zip(self._keys, cells.values(), strict=True):
            cell[KEY] = key
        self._groups: dict[str, Groups] = {}
        self._prepared: dict[str, dict[Hashable, Durations]] = {}

    @property
    def held(self) -> bool:
        """Whether the cells hold their durations (else they are read again when asked for)."""
        return self._rows is None

    def keys(self) -> list[CellKey]:
        return self._keys

    def cells(self) -> dict[CellTuple, Cell]:
        """The cells, by key (each a `Cell`, see above)."""
        return self._cells

    def union(self, keys: Iterable[CellTuple], *, durations: bool = True) -> Stats:
        """The statistics of the rows of the cells `keys`, exact. Without `durations`, only the
        counts, tokens and cost (`Stats.durations` is empty): cheaper, for charts of sums."""
        cells = self._cells
        groups: Groups = {None: _group([cells[CellKey._make(key)] for key in keys])}
        if not durations:
            return statistics(groups[None][1], self.costed, Durations())
        family = Family("union", _one_group)
        found = self._durations([family], {"union": groups})
        return statistics(groups[None][1], self.costed, found["union"][None])

    def partition(
        self, key_of: Callable[[CellKey], K], *, durations: bool = True, family: str = ""
    ) -> dict[K, Stats]:
        """The statistics of each group of cells that `key_of` puts together, in the order each
        group's first cell was met (callers sort): for each group, what `union` of its cells
        gives. `family`: the name the groups were `prepare`d under, if they were."""
        with _no_cycle_collection():
            groups = self._group_cells(key_of)
            if not durations:
                found: dict[Hashable, Durations] = {}
            elif family in self._prepared:
                found = self._prepared[family]
            else:
                name = family or "partition"
                found = self._durations([Family(name, key_of)], {name: groups})[name]
            return {
                group: statistics(sums, self.costed, found.get(group, Durations()))  # type: ignore[misc]
                for group, (_, sums) in groups.items()
            }

    def know(self, family: Family, members: dict[Hashable, list[Cell]]) -> None:
        """The groups of a family without a parent, each with its cells, as the caller already
        has them (`prepare` then need not work them out)."""
        self._groups[family.name] = {group: _group(cells) for group, cells in members.items()}

    def prepare(self, families: Sequence[Family]) -> None:
        """Work out the percentiles of every group of `families` (parents before children) at
        once, for `stats` and `partition(family=…)` to give: one pair of passes over the rows
        when they are read again."""
        groups: dict[str, Groups] = {}
        for family in families:
            known = self._groups.get(family.name)
            if known is not None:
                groups[family.name] = known
            elif family.parent is None:
                groups[family.name] = self._group_cells(family.key)
            else:
                groups[family.name] = _derived(family, groups[family.parent])
        self._groups.update(groups)
        self._prepared.update(self._durations(families, groups))

    def stats(self, family: str) -> dict[Hashable, Stats]:
        """The statistics of each group of a family `prepare` was given, in the order each
        group was met."""
        durations = self._prepared[family]
        return {
            group: statistics(sums, self.costed, durations[group])
            for group, (_, sums) in self._groups[family].items()
        }

    def _group_cells(self, key_of: Callable[[CellKey], Hashable]) -> Groups:
        """Each group of cells `key_of` makes, with its sums."""
        found: dict[Hashable, list[Cell]] = {}
        for key, cell in zip(self._keys, self._cells.values(), strict=True):
            group = key_of(key)
            members = found.get(group)
            if members is None:
                found[group] = [cell]
            else:
                members.append(cell)
        return {group: _group(cells) for group, cells in found.items()}

    def _durations(
        self, families: Sequence[Family], groups: dict[str, Groups]
    ) -> dict[str, dict[Hashable, Durations]]:
        if self._rows is None:
            return _held_durations(families, groups)
        return _passes(self._rows, families, groups)


# Each group of a family: its members (its cells, or the parent family's groups it is made
# of) and its sums (a cell's layout).
Groups = dict[Hashable, tuple[list[Any], Cell]]


def _one_group(key: CellKey) -> None:
    return None


def _group(cells: list[Cell]) -> tuple[list[Any], Cell]:
    """A group of cells and its sums."""
    runs, successes, prompt, completion, femto, unpriced, read, write, total = map(
        sum, zip(*map(_SUMMED, cells), strict=True)
    )
    return cells, [
        runs,
        successes,
        prompt,
        completion,
        femto,
        unpriced,
        None,
        None,
        read,
        write,
        total,
    ]


_SUMMED = itemgetter(*_SUMS, DURATION_TOTAL)  # what a group adds up of its cells, in order


def _derived(family: Family, parent: Groups) -> Groups:
    """A family's groups from its parent's (a family of cells), each of which lies in one of
    them: the parent groups each is made of, and their sums."""
    found: dict[Hashable, tuple[list[Any], Cell]] = {}
    for parent_group, (members, sums) in parent.items():
        first = members[0]
        if not isinstance(first, list):
            raise ValueError("a family's parent must be a family of cells")
        group = family.key(first[KEY])
        entry = found.get(group)
        if entry is None:
            found[group] = ([parent_group], list(sums))
        else:
            entry[0].append(parent_group)
            for index in _SUMS_AND_TOTAL:
                entry[1][index] += sums[index]
    return found


_SUMS_AND_TOTAL = (*_SUMS, DURATION_TOTAL)


def _held_durations(
    families: Sequence[Family], groups: dict[str, Groups]
) -> dict[str, dict[Hashable, Durations]]:
    """Percentiles from the durations the cells hold: each family without a parent sorts its
    groups' values a run at a time; a family with one merges its parent's runs. A family's
    runs are let go once no later family is its child."""
    last_use = {family.parent: index for index, family in enumerate(families) if family.parent}
    runs: dict[str, dict[Hashable, SortedRuns]] = {}
    found: dict[str, dict[Hashable, Durations]] = {}
    for index, family in enumerate(families):
        members = groups[family.name]
        if family.parent is None:
            sorted_groups = {
                group: SortedRuns.sort([cell[DURATIONS] for cell in cells], sums[RUNS])
                for group, (cells, sums) in members.items()
            }
        else:
            parent_runs = runs[family.parent]
            sorted_groups = {
                group: SortedRuns.merge(parent_runs[part] for part in parts)
                for group, (parts, _) in members.items()
            }
        found[family.name] = {
            group: _from_runs(sorted_groups[group], sums[DURATION_TOTAL])
            for group, (_, sums) in members.items()
        }
        if last_use.get(family.name, -1) > index:
            runs[family.name] = sorted_groups
        for name in [name for name in runs if last_use.get(name, -1) <= index]:
            del runs[name]
    return found


def _from_runs(runs: SortedRuns, total: int) -> Durations:
    count = runs.count
    if not count:
        return Durations()
    return Durations(
        total=total,
        mean=total / count,
        p50=interpolate(count, 50, runs.rank),
        p95=interpolate(count, 95, runs.rank),
        max=runs.max(),
    )


def bucket(value: int) -> int:
    """The histogram bucket of a duration: the value itself below 32, else its octave and the
    4 bits after its leading one (16 buckets to an octave, each at most 1/16 of its values
    wide); buckets are ordered as their values are. Few buckets keep the first pass's
    histograms (one per day, model and task type) small; the second collects each rank's
    bucket, 8 bytes a value."""
    bits = value.bit_length()
    return value if bits <= 5 else (bits << 4) | ((value >> (bits - 5)) & 15)


def _passes(
    rows: Rereader, families: Sequence[Family], groups: dict[str, Groups]
) -> dict[str, dict[Hashable, Durations]]:
    """The exact percentiles of every group of `families`, in two passes over the rows: fine
    histograms of the groups of the families without a parent (a child's are their sums), then
    the durations in the buckets that hold a rank asked for."""
    # Each base group's number, each cell's base groups, and each group's base groups.
    numbers: dict[tuple[str, Hashable], int] = {}
    of_cell: dict[CellKey, list[int]] = {}
    bases: dict[str, dict[Hashable, list[int]]] = {}
    for family in families:
        if family.parent is None:
            mine = bases[family.name] = {}
            for group, (cells, _) in groups[family.name].items():
                number = numbers[family.name, group] = len(numbers)
                mine[group] = [number]
                for cell in cells:
                    of_cell.setdefault(cell[KEY], []).append(number)
        else:
            parent = bases[family.parent]
            bases[family.name] = {
                group: [number for part in parts for number in parent[part]]
                for group, (parts, _) in groups[family.name].items()
            }
    histograms: list[dict[int, int]] = [{} for _ in numbers]

    def counting(key: CellKey) -> Callable[[int], object]:
        mine = [histograms[number] for number in of_cell.get(key, ())]

        def count(value: int) -> None:
            found = bucket(value)
            for histogram in mine:
                histogram[found] = histogram.get(found, 0) + 1

        return count

    rows(counting)
    # Where each rank asked for lies: (rank, its bucket, how many values are in buckets below).
    targets: dict[tuple[str, Hashable], list[tuple[int, int, int]]] = {}
    wanted: list[set[int]] = [set() for _ in numbers]
    for family in families:
        for group, (_, sums) in groups[family.name].items():
            count = sums[RUNS]
            merged: dict[int, int] = {}
            for number in bases[family.name][group]:
                for found, times in histograms[number].items():
                    merged[found] = merged.get(found, 0) + times
            ordered = sorted(merged.items())
            found_targets = []
            position = seen = 0
            for rank in ranks_needed(count) if count else ():
                while seen + ordered[position][1] <= rank:
                    seen += ordered[position][1]
                    position += 1
                found_targets.append((rank, ordered[position][0], seen))
                for number in bases[family.name][group]:
                    wanted[number].add(ordered[position][0])
            targets[family.name, group] = found_targets
    histograms.clear()  # what the ranks needed are found, the counts are not
    collected: dict[tuple[int, int], array[int]] = {}

    def collecting(key: CellKey) -> Callable[[int], object]:
        mine = [(number, wanted[number]) for number in of_cell.get(key, ())]

        def collect(value: int) -> None:
            found = bucket(value)
            for number, buckets in mine:
                if found in buckets:
                    values = collected.get((number, found))
                    if values is None:
                        values = collected[number, found] = array("q")
                    values.append(value)

        return collect

    rows(collecting)
    result: dict[str, dict[Hashable, Durations]] = {}
    for family in families:
        found_groups: dict[Hashable, Durations] = {}
        for group, (_, sums) in groups[family.name].items():
            count, total = sums[RUNS], sums[DURATION_TOTAL]
            if not count:
                found_groups[group] = Durations()
                continue
            ranked: dict[int, int] = {}
            for rank, found, below in targets[family.name, group]:
                values: list[int] = []
                for number in bases[family.name][group]:
                    values += collected.get((number, found), ())
                values.sort()
                ranked[rank] = values[rank - below]
            found_groups[group] = Durations(
                total=total,
                mean=total / count,
                p50=interpolate(count, 50, ranked.__getitem__),
                p95=interpolate(count, 95, ranked.__getitem__),
                max=ranked[count - 1],
            )
        result[family.name] = found_groups
    return result


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


def statistics(part: Cell, costed: bool, durations: Durations) -> Stats:
    runs, successes, prompt, completion, femto, unpriced = part[:6]
    return Stats(
        runs=runs,
        successes=successes,
        prompt_tokens=prompt,
        completion_tokens=completion,
        durations=durations,
        cost=Cost(femto, runs - unpriced, unpriced) if costed else None,
        cache_read_tokens=part[CACHE_READ],
        cache_write_tokens=part[CACHE_WRITE],
    )
