"""A row's optional columns, read the same way whatever the row type.

Rows are gaining four optional trailing columns (issue 13): `source`, `source_id`,
`cache_read_tokens` and `cache_write_tokens`. The export uses them when a row has them and works
the same on rows that do not, so it reads them only through `extras_of`.
"""

from __future__ import annotations

from typing import NamedTuple


class Extras(NamedTuple):
    source: str = ""  # what wrote the row: empty for a hand-typed row, `run`, `claude-code`, ...
    source_id: str = ""  # a stable id of exactly what the row covers, when its source has one
    cache_read_tokens: int | None = None  # part of prompt_tokens read from a cache; None: unknown
    cache_write_tokens: int | None = None  # part of prompt_tokens written to a cache

    @property
    def any(self) -> bool:
        return self != NONE


NONE = Extras()
BASE_FIELDS = 8  # timestamp .. notes: the columns every row has


def extras_of(row: tuple[object, ...]) -> Extras:
    """The optional columns of `row` (any NamedTuple row type), empty where it has none."""
    if len(row) <= BASE_FIELDS:
        return NONE
    source = getattr(row, "source", "")
    source_id = getattr(row, "source_id", "")
    read = getattr(row, "cache_read_tokens", None)
    write = getattr(row, "cache_write_tokens", None)
    return Extras(
        source if isinstance(source, str) else "",
        source_id if isinstance(source_id, str) else "",
        read if isinstance(read, int) and not isinstance(read, bool) else None,
        write if isinstance(write, int) and not isinstance(write, bool) else None,
    )


def extras_suffix(extras: Extras) -> str:
    """What a row's optional columns add to its identity: nothing when they are all empty, so a
    row keeps its ids when its file gains the extended header."""
    if not extras.any:
        return ""
    read = "" if extras.cache_read_tokens is None else str(extras.cache_read_tokens)
    write = "" if extras.cache_write_tokens is None else str(extras.cache_write_tokens)
    return f"\x1f{extras.source}\x1f{extras.source_id}\x1f{read}\x1f{write}"
