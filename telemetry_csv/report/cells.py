"""Cells, and the statistics of any union of them: the seam between the pass and the groups.

The streaming pass (`aggregate`) puts every row into one cell, keyed by `CellKey`: (model, task
type, local day, success). A cell holds the counts, token sums, femto-dollar cost, unpriced runs,
the sum of its durations and, while the log is small enough to hold them, the durations
themselves (8 bytes a run).

Each group a report shows is a union of cells. Its counts and sums are the cells' sums; its
percentiles are exact order statistics of its rows' durations:

- while the cells hold their durations, from the groups' values sorted a run at a time
  (`percentiles.SortedRuns`); a group made of groups already sorted (a model of its (model, task
  type) pairs, a week of its days: a `Family` with a `parent`) takes their runs as they are;
- for a log too large to hold every duration, from two more passes over the same rows
  (`Rereader`, given by `aggregate`): the first counts each group's durations into fine buckets
  (`bucket`: 64 to an octave), the second collects only the durations in the buckets that hold
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
from typing import Any, NamedTuple, TypeVar

from telemetry_csv.report.data import Cost, Durations, Stats
from telemetry_csv.report.percentiles import SortedRuns, interpolate, ranks_needed

# A cell: [runs, successes, prompt tokens, completion tokens, femto-dollars, unpriced runs,
#          durations (an array, or None when they are not held), durations.append (or a sink),
#          cache-read tokens, cache-write tokens, total duration]; a list, since the pass
#          updates it for every row. Successes are the runs of a cell whose key says success,
#          filled in when the pass ends.
RUNS, SUCCESSES, PROMPT, COMPLETION, COST, UNPRICED, DURATIONS, APPEND_DURATION = range(8)
CACHE_READ, CACHE_WRITE, DURATION_TOTAL = 8, 9, 10
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
        cells: dict[tuple[str, str, int, bool], Cell],
        *,
        costed: bool,
        rows: Rereader | None = None,
    ):
        self._cells = cells
        self.costed = costed  # whether costs were estimated (Stats.cost is None if not)
        self._rows = rows
        self._keys: list[CellKey] | None = None
        self._prepared: dict[str, dict[Hashable, Durations]] = {}
        self._known: dict[str, Groups] = {}

    @property
    def held(self) -> bool:
        """Whether the cells hold their durations (else they are read again when asked for)."""
        return self._rows is None

    def keys(self) -> list[CellKey]:
        if self._keys is None or len(self._keys) != len(self._cells):
            self._keys = list(map(tuple.__new__, repeat(CellKey), self._cells))
        return self._keys

    def union(self, keys: Iterable[tuple[str, str, int, bool]], *, durations: bool = True) -> Stats:
        """The statistics of the rows of the cells `keys`, exact. Without `durations`, only the
        counts, tokens and cost (`Stats.durations` is empty): cheaper, for charts of sums."""
        members = [CellKey._make(key) for key in keys]
        part = _sums([self._cells[key] for key in members])
        if not durations:
            return statistics(part, self.costed, Durations())
        family = Family("union", _one_group)
        found = self._durations([family], {"union": self._base({None: members})})
        return statistics(part, self.costed, found["union"][None])

    def partition(
        self, key_of: Callable[[CellKey], K], *, durations: bool = True, family: str = ""
    ) -> dict[K, Stats]:
        """The statistics of each group of cells that `key_of` puts together, in the order each
        group's first cell was met (callers sort): for each group, what `union` of its cells
        gives. `family`: the name the groups were `prepare`d under, if they were."""
        with _no_cycle_collection():
            members: dict[K, list[CellKey]] = {}
            sums: dict[K, Cell] = {}
            for key, cell in zip(self.keys(), self._cells.values(), strict=True):
                group = key_of(key)
                found = sums.get(group)
                if found is None:
                    sums[group] = [*cell[:6], None, None, cell[8], cell[9], cell[10]]
                    members[group] = [key]
                else:
                    found[0] += cell[0]
                    found[1] += cell[1]
                    found[2] += cell[2]
                    found[3] += cell[3]
                    found[4] += cell[4]
                    found[5] += cell[5]
                    found[8] += cell[8]
                    found[9] += cell[9]
                    found[10] += cell[10]
                    members[group].append(key)
            if not durations:
                return {
                    group: statistics(part, self.costed, Durations())
                    for group, part in sums.items()
                }
            if family in self._prepared:
                resolved = self._prepared[family]
            else:
                name = family or "partition"
                spec = Family(name, key_of)
                base = self._base(members)  # type: ignore[arg-type]
                resolved = self._durations([spec], {name: base})[name]
            return {
                group: statistics(part, self.costed, resolved[group])
                for group, part in sums.items()
            }

    def prepare(self, families: Sequence[Family]) -> None:
        """Work out the percentiles of every group of `families` (parents before children) at
        once, for `durations` and `partition(family=…)` to give: one pair of passes over the
        rows when they are read again."""
        groups: dict[str, Groups] = {}
        for family in families:
            if family.name in self._known:
                groups[family.name] = self._known[family.name]
            elif family.parent is None:
                groups[family.name] = self._groups(family.key)
            else:
                groups[family.name] = _derived(family, groups[family.parent])
        self._prepared.update(self._durations(families, groups))

    def _groups(self, key_of: Callable[[CellKey], Hashable]) -> Groups:
        """Each group of cells `key_of` makes, with its number of rows and total duration."""
        found: dict[Hashable, list[Any]] = {}
        for key, cell in zip(self.keys(), self._cells.values(), strict=True):
            group = key_of(key)
            entry = found.get(group)
            if entry is None:
                found[group] = [[key], cell[RUNS], cell[DURATION_TOTAL], [cell]]
            else:
                entry[0].append(key)
                entry[1] += cell[RUNS]
                entry[2] += cell[DURATION_TOTAL]
                entry[3].append(cell)
        return {group: (entry[0], entry[1], entry[2], entry[3]) for group, entry in found.items()}

    def know(self, family: Family, members: dict[Hashable, list[CellKey]]) -> None:
        """The groups of a family without a parent, each with its cells, as the caller already
        has them (`prepare` then need not work them out)."""
        self._known[family.name] = self._base(members)

    def durations(self, family: str) -> dict[Hashable, Durations]:
        """The percentiles of each group of a family `prepare` was given."""
        return self._prepared[family]

    def members(self, family: Family) -> dict[Hashable, list[CellKey]]:
        """Each group of `family` and its cells."""
        found: dict[Hashable, list[CellKey]] = {}
        key_of = family.key
        for key in self.keys():
            group = key_of(key)
            members = found.get(group)
            if members is None:
                found[group] = [key]
            else:
                members.append(key)
        return found

    def _base(self, members: dict[Hashable, list[CellKey]]) -> Groups:
        """Groups of cells, each with its number of rows and its total duration."""
        cells = self._cells
        found: Groups = {}
        for group, keys in members.items():
            parts = [cells[key] for key in keys]
            count = total = 0
            for cell in parts:
                count += cell[RUNS]
                total += cell[DURATION_TOTAL]
            found[group] = (keys, count, total, parts)
        return found

    def _durations(
        self, families: Sequence[Family], groups: dict[str, Groups]
    ) -> dict[str, dict[Hashable, Durations]]:
        if self._rows is None:
            return self._held_durations(families, groups)
        return _passes(self._rows, families, groups)

    def _held_durations(
        self, families: Sequence[Family], groups: dict[str, Groups]
    ) -> dict[str, dict[Hashable, Durations]]:
        """Percentiles from the durations the cells hold: each family without a parent sorts
        its groups' values a run at a time; a family with one merges its parent's runs. A
        family's runs are let go once no later family is its child."""
        last_use = {family.parent: index for index, family in enumerate(families) if family.parent}
        runs: dict[str, dict[Hashable, SortedRuns]] = {}
        found: dict[str, dict[Hashable, Durations]] = {}
        for index, family in enumerate(families):
            members = groups[family.name]
            if family.parent is None:
                sorted_groups = {
                    group: SortedRuns.sort([cell[DURATIONS] for cell in parts], count)
                    for group, (_, count, _, parts) in members.items()
                }
            else:
                parent_runs = runs[family.parent]
                sorted_groups = {
                    group: SortedRuns.merge(parent_runs[part] for part in parts)
                    for group, (parts, _, _, _) in members.items()
                }
            found[family.name] = {
                group: _from_runs(sorted_groups[group], total)
                for group, (_, _, total, _) in members.items()
            }
            if last_use.get(family.name, -1) > index:
                runs[family.name] = sorted_groups
            for name in [name for name in runs if last_use.get(name, -1) <= index]:
                del runs[name]
        return found

    def cells(self) -> dict[tuple[str, str, int, bool], Cell]:
        """The cells, by key (each a `Cell`, see above)."""
        return self._cells


# Each group of a family: its members (cell keys, or the parent family's groups), its number
# of rows, its total duration, and its cells (for a family without a parent).
Groups = dict[Hashable, tuple[list[Any], int, int, list[Cell]]]


def _one_group(key: CellKey) -> None:
    return None


def _derived(family: Family, parent: Groups) -> Groups:
    """A family's groups from its parent's, each group of which lies in one of them."""
    found: dict[Hashable, list[Any]] = {}
    for parent_group, (members, count, total, _) in parent.items():
        first = members[0]
        if not isinstance(first, CellKey):
            raise ValueError("a family's parent must be a family of cells")
        group = family.key(first)
        entry = found.get(group)
        if entry is None:
            found[group] = [[parent_group], count, total]
        else:
            entry[0].append(parent_group)
            entry[1] += count
            entry[2] += total
    return {group: (parts, count, total, []) for group, (parts, count, total) in found.items()}


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
    """The histogram bucket of a duration: the value itself below 128, else its octave and the
    6 bits after its leading one (64 buckets to an octave, each at most 1/64 of its values
    wide); buckets are ordered as their values are."""
    bits = value.bit_length()
    return value if bits <= 7 else (bits << 6) | ((value >> (bits - 7)) & 63)


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
            for group, (keys, _, _, _) in groups[family.name].items():
                number = numbers[family.name, group] = len(numbers)
                mine[group] = [number]
                for key in keys:
                    of_cell.setdefault(key, []).append(number)
        else:
            parent = bases[family.parent]
            bases[family.name] = {
                group: [number for part in parts for number in parent[part]]
                for group, (parts, _, _, _) in groups[family.name].items()
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
        for group, (_, count, _, _) in groups[family.name].items():
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
        for group, (_, count, total, _) in groups[family.name].items():
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


def _sums(parts: Sequence[Cell]) -> Cell:
    combined: Cell = [0, 0, 0, 0, 0, 0, None, None, 0, 0, 0]
    for part in parts:
        for index in _SUMS:
            combined[index] += part[index]
        combined[DURATION_TOTAL] += part[DURATION_TOTAL]
    return combined


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
