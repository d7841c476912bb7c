"""Percentiles by linear interpolation between closest ranks, and exact order statistics of
many values without one list of them all.

The definition is that of `statistics.quantiles(data, n=100, method="inclusive")` and numpy's
default (`linear`): the p-th percentile of n sorted values sits at rank (n - 1) * p / 100,
between the two values around it. One value is every percentile of itself. The arithmetic
mirrors `statistics` so the results are the same floats.

A report needs a few ranks of each group (the two around p50, the two around p95, the
largest), of groups that hold up to every value. `SortedRuns` keeps a group's values as sorted
arrays of at most `RUN_VALUES` each (8 bytes a value; a list of Python ints costs 36): sorting
one run at a time never makes a big list, and a group made of other groups takes their runs as
they are. A rank is then found by searching the values, counting how many of each run are at
most a candidate (`bisect`), exactly.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, repeat

RUN_VALUES = 1 << 16
_MERGED_VALUES = 1 << 12  # a group made of groups with at most this many values is merged


def percentile(ordered: Sequence[int], percent: int) -> float:
    """The `percent`-th percentile (0..100) of values sorted in ascending order."""
    if not ordered:
        raise ValueError("no values")
    if not 0 <= percent <= 100:
        raise ValueError(f"percent must be within 0..100, not {percent}")
    index, remainder = divmod((len(ordered) - 1) * percent, 100)
    if remainder == 0:
        return float(ordered[index])
    return (ordered[index] * (100 - remainder) + ordered[index + 1] * remainder) / 100


def interpolate(count: int, percent: int, rank: Callable[[int], int]) -> float:
    """`percentile` of `count` values whose `rank(k)` is the k-th smallest (from 0)."""
    index, remainder = divmod((count - 1) * percent, 100)
    if remainder == 0:
        return float(rank(index))
    return (rank(index) * (100 - remainder) + rank(index + 1) * remainder) / 100


def ranks_needed(count: int) -> tuple[int, ...]:
    """The ranks `interpolate` asks of `count` values for p50 and p95, and the largest."""
    found = {count - 1}
    for percent in (50, 95):
        index, remainder = divmod((count - 1) * percent, 100)
        found.add(index)
        if remainder:
            found.add(index + 1)
    return tuple(sorted(found))


class SortedRuns:
    """Values as sorted arrays (see the module docstring)."""

    __slots__ = ("count", "runs")

    def __init__(self, runs: list[array[int]]):
        self.runs = runs
        self.count = sum(map(len, runs))

    @classmethod
    def sort(cls, parts: Sequence[array[int]], count: int) -> SortedRuns:
        """The `count` values of `parts`, sorted a run at a time."""
        if count <= RUN_VALUES:
            return cls([array("q", sorted(chain.from_iterable(parts)))] if count else [])
        runs: list[array[int]] = []
        pending: array[int] = array("q")
        for part in parts:
            pending += part
            if len(pending) >= RUN_VALUES:
                runs.append(array("q", sorted(pending)))
                pending = array("q")
        if pending:
            runs.append(array("q", sorted(pending)))
        return cls(runs)

    @classmethod
    def merge(cls, parts: Iterable[SortedRuns]) -> SortedRuns:
        """The values of groups: their runs as they are, or, for few values, one run (sorting
        runs already sorted is a merge, and a rank is then one look-up)."""
        runs = [run for part in parts for run in part.runs]
        if len(runs) > 1 and sum(map(len, runs)) <= _MERGED_VALUES:
            return cls([array("q", sorted(chain.from_iterable(runs)))])
        return cls(runs)

    def rank(self, k: int) -> int:
        """The k-th smallest value (from 0): the least value with more than k at or below it."""
        runs = self.runs
        if len(runs) == 1:
            return runs[0][k]
        low = min(run[0] for run in runs)
        high = max(run[-1] for run in runs)
        while low < high:
            middle = (low + high) // 2
            if sum(map(bisect_right, runs, repeat(middle))) > k:
                high = middle
            else:
                low = middle + 1
        return low

    def max(self) -> int:
        return max(run[-1] for run in self.runs)
