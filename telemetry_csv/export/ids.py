"""Trace and span ids derived from the row itself, so the same row always gets the same ids.

A row with a `source_id` is identified by it (with its source): an importer gives the same slice
the same id whoever imports it. Any other row is identified by its canonical line and its
occurrence number among identical lines: two identical rows logged on purpose stay two spans,
and since identical lines are interchangeable, the set of ids a selection sends does not depend
on the order of its files. Exporting twice, after a rotation, after `fmt`, or after files were
folded together sends the same ids.

Numbering identical lines needs to know, at each line, how many copies came before. Keeping every
line would make memory grow with the log, so it takes two passes: the first feeds every line to a
Bloom filter of fixed size (`RepeatedLines`) and keeps, exactly, only the lines the filter has
seen before (the real repeats and a few false positives); the second counts copies of just
those (`Occurrences`). Every other line is the only one of its kind, occurrence 0.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from telemetry_csv.export.fields import Extras, extras_suffix

_DOMAIN = b"telemetry-csv row v1\n"
# 2**25 bits, 4 MiB: for a million distinct lines about 0.2% of them are kept as suspected
# repeats; the filter only ever costs memory for the repeats it keeps, never a wrong id.
_FILTER_BITS = 25


def row_key(line: str, occurrence: int, extras: Extras) -> bytes:
    """What identifies a row: its source and source id, else its canonical (8-column) line with
    its optional columns, and its occurrence number among identical keys."""
    if extras.source_id:
        return b"source\n" + f"{extras.source}\n{extras.source_id}".encode()
    text = f"{line}{extras_suffix(extras)}\n{occurrence}"
    return b"line\n" + text.encode("utf-8", "surrogateescape")


def ids_of(key: bytes) -> tuple[bytes, bytes]:
    """(trace id, span id): 16 and 8 bytes of SHA-256 of the key, never all zero (invalid)."""
    digest = hashlib.sha256(_DOMAIN + key).digest()
    trace_id, span_id = digest[:16], digest[16:24]
    if not any(trace_id):
        trace_id = digest[:15] + b"\x01"
    if not any(span_id):
        span_id = digest[16:23] + b"\x01"
    return trace_id, span_id


def line_identity(line: str, extras: Extras) -> str:
    """The text identical rows share: what occurrence numbers are counted over."""
    return line + extras_suffix(extras) if extras.any else line


class RepeatedLines:
    """First pass: which lines may occur more than once, in memory that does not grow with the
    number of lines (a Bloom filter of three probes), plus the suspected repeats themselves."""

    def __init__(self, bits: int = _FILTER_BITS) -> None:
        self._mask = (1 << bits) - 1
        self._shift = bits
        self._filter = bytearray(1 << (bits - 3))
        self.repeated: set[str] = set()

    def add(self, line: str) -> None:
        value = hash(line) & 0xFFFF_FFFF_FFFF_FFFF  # the same for equal strings in one process
        mask, shift, bits = self._mask, self._shift, self._filter
        seen = True
        for position in (value & mask, (value >> shift) & mask, (value >> 39) & mask):
            byte, bit = position >> 3, 1 << (position & 7)
            if not bits[byte] & bit:
                bits[byte] |= bit
                seen = False
        if seen:
            self.repeated.add(line)

    def might_contain(self, line: str) -> bool:
        """Whether `line` may have been added (it surely was not when False)."""
        value = hash(line) & 0xFFFF_FFFF_FFFF_FFFF
        mask, shift, bits = self._mask, self._shift, self._filter
        return all(
            bits[position >> 3] & (1 << (position & 7))
            for position in (value & mask, (value >> shift) & mask, (value >> 39) & mask)
        )

    def add_all(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.add(line)


class Occurrences:
    """Second pass: the occurrence number of each line, counting only the suspected repeats."""

    def __init__(self, repeated: set[str], before: dict[str, int] | None = None) -> None:
        self._repeated = repeated
        # Copies that come before this selection (the base of a commit range); their lines must
        # be among `repeated`.
        self._counts: dict[str, int] = dict(before or {})

    def next(self, line: str) -> int:
        if line not in self._repeated:
            return 0
        number = self._counts.get(line, 0)
        self._counts[line] = number + 1
        return number
