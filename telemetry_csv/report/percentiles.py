"""Percentiles by linear interpolation between closest ranks.

The same definition as `statistics.quantiles(data, n=100, method="inclusive")` and numpy's default
(`linear`): the p-th percentile of n sorted values sits at rank (n - 1) * p / 100, between the two
values around it. One value is every percentile of itself. The arithmetic mirrors `statistics`
so the results are the same floats.
"""

from __future__ import annotations

from collections.abc import Sequence


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
