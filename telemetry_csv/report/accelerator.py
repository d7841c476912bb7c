"""The report's optional compiled pass over runs of canonical lines (`_tally.c`), when built.

`setup.py` builds it at install where a C compiler is found; where none is, the package installs
without it. The pure-Python pass in `aggregate` is the reference: it runs where the compiled one
is missing, for what it does not cover (a report zone other than UTC, filters, single rows),
for any run it does not recognise as canonical lines, and for every run when
`TELEMETRY_CSV_PURE_PYTHON=1` is set (the tests compare both on the same logs).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

PURE_PYTHON = "TELEMETRY_CSV_PURE_PYTHON"

# tally(run, extended, fine, is_new, prices, cost_of) -> (rows counted, {cell key: sums},
# {(day, success): sums}, first, last) or None; see `_tally.c` and `aggregate._add_sums`.
Tally = Callable[..., Any]


def compiled_tally() -> Tally | None:
    """The compiled pass, or None where it is not built or not wanted."""
    if os.environ.get(PURE_PYTHON) == "1":
        return None
    try:
        from telemetry_csv.report._tally import tally
    except ImportError:
        return None
    return tally
