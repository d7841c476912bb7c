"""Folds: many shards' rows in one file, with a manifest that says whose rows they are.

A fold `fold-<ID>.csv` is the header, then each folded shard's rows, whole and in order. Its
manifest `fold-<ID>.manifest` lists, in the same order, each shard's name, its number of rows
and the SHA-256 of the shard file's bytes:

    # telemetry-csv fold manifest 1: SHARD ROWS SHA256, in the order of the fold's rows
    20261120T091405Z-3f9c1e7a5b2d8f4c.csv 3 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08

ID is the start of the SHA-256 of the manifest's bytes, so the name is derived from exactly what
the fold holds: two clones that fold the same shards write the same two files (git merges
identical additions cleanly), and two that fold different sets write different ones. Readers
identify rows by their shard: the rows of a shard inside a fold are still that shard's, so a
shard found both loose and in a fold, or in two folds, counts once, and the hash proves it is
the same shard. A fold's segment hashes as the shard did, because shards are written canonically
and a fold keeps their rows byte for byte; `verify` checks that, so the manifest is true.

A fold has one header, so one shape (docs/format.md). Shards of both shapes may be folded
together: then the fold has the extended header, and each row of an 8-column shard is stored
in the extended shape, its four extra fields empty (`,,,,` at the end of the line). That changes
no value and is undone exactly (no 8-column canonical line ends in four empty fields), so such
a segment, turned back into the 8-column shape, hashes as its shard did; `verify` accepts
either, and the manifest keeps naming each shard's own bytes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from telemetry_csv.logfile.layout import manifest_name
from telemetry_csv.logfile.schema import EXTENDED_HEADER_LINE, HEADER_LINE

HEADER_BYTES = (HEADER_LINE + "\n").encode()
EXTENDED_HEADER_BYTES = (EXTENDED_HEADER_LINE + "\n").encode()
_NO_EXTRAS_END = b",,,,\n"  # the end of an extended line whose four extra fields are empty
MANIFEST_HEADER = (
    "# telemetry-csv fold manifest 1: SHARD ROWS SHA256, in the order of the fold's rows"
)
_ENTRY = re.compile(r"([0-9]{8}T[0-9]{6}Z-[0-9a-f]{16}\.csv) ([0-9]{1,12}) ([0-9a-f]{64})")
ID_LENGTH = 16


@dataclass(frozen=True)
class Entry:
    shard: str  # the shard's file name: its identity
    rows: int
    sha256: str  # of the shard file's bytes, header included


@dataclass(frozen=True)
class Fold:
    name: str  # fold-<ID>.csv
    data: bytes
    manifest_name: str
    manifest: bytes
    entries: tuple[Entry, ...]


def shard_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_bytes(entries: Sequence[Entry]) -> bytes:
    lines = [MANIFEST_HEADER, *(f"{e.shard} {e.rows} {e.sha256}" for e in entries)]
    return ("\n".join(lines) + "\n").encode()


def fold_name(manifest: bytes) -> str:
    return f"fold-{hashlib.sha256(manifest).hexdigest()[:ID_LENGTH]}.csv"


def parse_manifest(data: bytes) -> list[Entry]:
    """The entries of a manifest; ValueError saying what is wrong with it otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None
    if not text.endswith("\n"):
        raise ValueError("no newline at the end")
    lines = text[:-1].split("\n")
    if lines[0] != MANIFEST_HEADER:
        raise ValueError(f"line 1 is not {MANIFEST_HEADER!r}")
    entries = []
    seen = set()
    for number, line in enumerate(lines[1:], start=2):
        match = _ENTRY.fullmatch(line)
        if match is None:
            raise ValueError(f"line {number} is not `SHARD ROWS SHA256`")
        if match.group(1) in seen:
            raise ValueError(f"line {number}: {match.group(1)} is listed twice")
        seen.add(match.group(1))
        entries.append(Entry(match.group(1), int(match.group(2)), match.group(3)))
    if not entries:
        raise ValueError("it lists no shard")
    return entries


def header_of(data: bytes) -> bytes | None:
    """The header a shard or a fold starts with (its shape), or None."""
    if data.startswith(EXTENDED_HEADER_BYTES):
        return EXTENDED_HEADER_BYTES
    if data.startswith(HEADER_BYTES):
        return HEADER_BYTES
    return None


def is_extended(data: bytes) -> bool:
    """Whether a fold's (or a shard's) bytes have the extended header."""
    return data.startswith(EXTENDED_HEADER_BYTES)


def extended_rows(rows: bytes) -> bytes:
    """Canonical 8-column lines as the extended shape stores them: four empty fields added."""
    return rows.replace(b"\n", _NO_EXTRAS_END)


def _eight_column_rows(rows: bytes) -> bytes | None:
    """`extended_rows` undone, or None when some line has an extra value (it was never of the
    8-column shape)."""
    if rows.count(_NO_EXTRAS_END) != rows.count(b"\n"):
        return None
    return rows.replace(_NO_EXTRAS_END, b"\n")


def build(shards: Sequence[tuple[str, bytes]]) -> Fold:
    """The fold of these shards (name, bytes), in this order. Each must be a canonical log: a
    header, then rows, each line ending in a newline (the caller has checked the rows). The
    fold has the extended header when any shard has it (see the module docstring)."""
    entries = []
    extended = any(is_extended(data) for _, data in shards)
    body = [EXTENDED_HEADER_BYTES if extended else HEADER_BYTES]
    for name, data in shards:
        header = header_of(data)
        if header is None or not data.endswith(b"\n"):
            raise ValueError(f"{name} does not start with a header and end with a newline")
        rows = data[len(header) :]
        entries.append(Entry(name, rows.count(b"\n"), shard_hash(data)))
        body.append(extended_rows(rows) if extended and header == HEADER_BYTES else rows)
    manifest = manifest_bytes(entries)
    name = fold_name(manifest)
    return Fold(name, b"".join(body), manifest_name(name), manifest, tuple(entries))


def segments(data: bytes, entries: Sequence[Entry]) -> list[tuple[int, int]]:
    """The byte range of each entry's rows in the fold's bytes `data`; ValueError when the fold
    does not start with a header or its rows are not exactly the manifest's count."""
    header = header_of(data)
    if header is None:
        raise ValueError("the fold does not start with the header")
    ranges = []
    start = len(header)
    for entry in entries:
        end = start
        for _ in range(entry.rows):
            newline = data.find(b"\n", end)
            if newline < 0:
                raise ValueError(
                    f"the manifest says {entry.shard} has {entry.rows} rows; the fold ends first"
                )
            end = newline + 1
        ranges.append((start, end))
        start = end
    if start != len(data):
        raise ValueError("the fold has more rows than its manifest lists")
    return ranges


def segment_file(data: bytes, start: int, end: int) -> bytes:
    """A fold's segment as a file of its own: the fold's header, then the segment's rows."""
    return (header_of(data) or HEADER_BYTES) + data[start:end]


def holds_shard(header: bytes, rows: bytes, sha256: str) -> bool:
    """Whether a fold's segment (`rows`, in the shape of the fold's `header`) is the shard whose
    bytes hash to `sha256`: as it is, or, in an extended fold, turned back into the 8-column
    shape its shard may have had."""
    if shard_hash(header + rows) == sha256:
        return True
    if header != EXTENDED_HEADER_BYTES:
        return False
    original = _eight_column_rows(rows)
    return original is not None and shard_hash(HEADER_BYTES + original) == sha256


def verify(data: bytes, entries: Sequence[Entry]) -> str | None:
    """Why the manifest is not true of the fold's bytes, or None: each segment, as a file with
    its shard's header, must hash as the manifest says its shard did (`holds_shard`)."""
    try:
        ranges = segments(data, entries)
    except ValueError as error:
        return str(error)
    header = header_of(data) or HEADER_BYTES
    for entry, (start, end) in zip(entries, ranges, strict=True):
        if not holds_shard(header, data[start:end], entry.sha256):
            return f"the rows of {entry.shard} in it do not hash as the manifest says"
    return None


def size_in_fold(data: bytes, extended: bool) -> int:
    """How many bytes a shard's file (`data`) takes as a fold of that shape: its header, and its
    rows as that shape stores them."""
    header = header_of(data) or HEADER_BYTES
    rows = len(data) - len(header)
    if extended and header == HEADER_BYTES:
        rows += (len(_NO_EXTRAS_END) - 1) * data.count(b"\n", len(header))
    return len(EXTENDED_HEADER_BYTES if extended else HEADER_BYTES) + rows


def plan(shards: Sequence[tuple[str, bytes]], max_bytes: int) -> list[list[str]]:
    """Which shards (name, bytes) go into which fold: in name order, each fold filled up to
    `max_bytes`, so that the same shards always give the same folds. Where any shard has the
    extended header, sizes are counted as an extended fold stores them, so that a fold stays
    within `max_bytes` whichever shape it gets."""
    extended = any(is_extended(data) for _, data in shards)
    header_size = len(EXTENDED_HEADER_BYTES if extended else HEADER_BYTES)
    groups: list[list[str]] = []
    size = 0
    for name, data in sorted(shards):
        rows = size_in_fold(data, extended) - header_size
        if not groups or size + rows > max_bytes:
            groups.append([])
            size = header_size
        groups[-1].append(name)
        size += rows
    return groups
