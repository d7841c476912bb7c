"""What a parser reports to while it reads one file: usage, errors, activity, skipped records.

One `Feed` serves a whole import. It knows the scope (which working directories belong to the
repository being imported for), the idle limit, and the accumulator the facts go to; it counts
what was skipped and why, and remembers the windows that received late usage (records written
after their window was closed by an earlier import).
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from telemetry_csv.importing import slicing
from telemetry_csv.importing.instants import HOUR_MS

if TYPE_CHECKING:
    import re

# Skip reasons shared by the parsers; each parser adds its own.
CORRUPT = "corrupt line (not JSON)"
NOT_OBJECT = "line is not a JSON object"
UNKNOWN_TYPE = "unknown record type"
INCOMPLETE = "incomplete last line (still being written)"
NO_TIMESTAMP = "usage record without a valid timestamp"
BAD_COUNT = "usage record with an invalid token count"
BAD_MODEL = "model name not allowed in the log"
NO_MODEL = "usage record without a model"

MAX_TOKENS = 10**15 - 1  # the log's counts have at most 15 digits


class Feed:
    def __init__(
        self,
        accumulator: slicing.Accumulator,
        *,
        root: str | None,
        idle_limit_ms: int,
        fallback_model: str | None = None,
        time_range: tuple[int, int] | None = None,
    ) -> None:
        self.accumulator = accumulator
        self.root = root  # resolved; None imports every project
        self.roots = _spellings(root) if root is not None else ()
        self.idle_ms = idle_limit_ms
        self.fallback_model = fallback_model
        self.range = time_range  # only facts in [start, end] count (re-reading for late records)
        self.skipped: dict[str, int] = {}
        self.late_windows: set[int] = set()
        self._models: dict[str, str | None] = {}
        self._branches: dict[str, str | None] = {}

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + count

    # Scope.

    def in_scope(self, folder: object) -> bool:
        """Whether a session run in `folder` belongs to the repository being imported for."""
        if self.root is None:
            return True
        if not isinstance(folder, str) or not folder:
            return False
        for spelling in _spellings(folder):
            for root in self.roots:
                if spelling == root or spelling.startswith(root.rstrip(os.sep) + os.sep):
                    return True
        return False

    # Facts.

    def usage(
        self,
        ts: int,
        session: str,
        branch: str | None,
        model: str,
        counts: slicing.Counts,
        rank: tuple[Any, ...],
        key: str,
        mid: str | None = None,
        side: bool = False,
    ) -> None:
        if self.range is not None and not self.range[0] <= ts <= self.range[1]:
            return
        outcome = self.accumulator.usage(ts, session, branch, model, counts, rank, key, mid, side)
        if outcome == slicing.LATE:
            self.late_windows.add(ts - ts % HOUR_MS)

    def error(self, ts: int, session: str, branch: str | None, model: str) -> None:
        if self.range is not None and not self.range[0] <= ts <= self.range[1]:
            return
        self.accumulator.error(ts, session, branch, model)

    def activity(self, session: str, branch: str | None, model: str, start: int, end: int) -> None:
        if self.range is not None and not self.range[0] <= end <= self.range[1]:
            return
        self.accumulator.activity(session, branch, model, start, end)

    # Values that end up in the log.

    def model(self, name: object) -> str | None:
        """`name` if the log accepts it as a model name; counted and None otherwise."""
        if not isinstance(name, str):
            self.skip(NO_MODEL)
            return None
        known = self._models.get(name, "")
        if known == "":
            known = name if _model_allowed(name) else None
            if len(self._models) < 10_000:
                self._models[name] = known
        if known is None:
            self.skip(BAD_MODEL)
        return known

    def branch(self, name: object) -> str | None:
        """A branch name fit for the notes, or None (absent, or unfit: too long, control
        characters, or something that looks like a credential)."""
        if not isinstance(name, str) or not name or name == "HEAD":
            return None
        known = self._branches.get(name, "")
        if known == "":
            known = name if _branch_allowed(name) else None
            if len(self._branches) < 10_000:
                self._branches[name] = known
        return known


def check_carry(carry: list[Any], kinds: tuple[tuple[type, ...], ...]) -> list[Any]:
    """`carry` if each item has one of its kinds (None is always allowed); ValueError
    otherwise, so that a damaged state means reading the file again, never a crash."""
    if len(carry) != len(kinds):
        raise ValueError("carry")
    for value, allowed in zip(carry, kinds, strict=True):
        if value is not None and (
            not isinstance(value, allowed) or isinstance(value, bool) is not (bool in allowed)
        ):
            raise ValueError("carry")
    return carry


def count(value: object) -> int | None:
    """A token count from a record, or None when it is not a whole number the log can hold."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_TOKENS else None
    if isinstance(value, float) and value.is_integer() and 0 <= value <= MAX_TOKENS:
        return int(value)
    return None


def _model_allowed(name: str) -> bool:
    from telemetry_csv.logfile import schema

    return schema.model_problem(schema.neutralise(name)) is None


def _branch_allowed(name: str) -> bool:
    from telemetry_csv import secrets_scan

    return (
        len(name) <= 200
        and not _branch_forbidden().search(name)
        and secrets_scan.find_secret(name) is None
    )


@cache
def _branch_forbidden() -> re.Pattern[str]:
    import re

    return re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _spellings(folder: str) -> tuple[str, ...]:
    """A folder as written and as resolved (records keep the path the agent saw, which may go
    through a symbolic link, or no longer exist)."""
    written = os.path.normpath(folder)
    resolved = os.path.realpath(folder)
    return (written,) if written == resolved else (written, resolved)
