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
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from telemetry_csv.logfile.layout import manifest_name
from telemetry_csv.logfile.schema import HEADER_LINE

HEADER_BYTES = (HEADER_LINE + "\n").encode()
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


def build(shards: Sequence[tuple[str, bytes]]) -> Fold:
    """The fold of these shards (name, bytes), in this order. Each must be a canonical log: the
    header, then rows, each line ending in a newline (the caller has checked the rows)."""
    entries = []
    body = [HEADER_BYTES]
    for name, data in shards:
        if not data.startswith(HEADER_BYTES) or not data.endswith(b"\n"):
            raise ValueError(f"{name} does not start with the header and end with a newline")
        rows = data[len(HEADER_BYTES) :]
        entries.append(Entry(name, rows.count(b"\n"), shard_hash(data)))
        body.append(rows)
    manifest = manifest_bytes(entries)
    name = fold_name(manifest)
    return Fold(name, b"".join(body), manifest_name(name), manifest, tuple(entries))


def segments(data: bytes, entries: Sequence[Entry]) -> list[tuple[int, int]]:
    """The byte range of each entry's rows in the fold's bytes `data`; ValueError when the fold
    does not start with the header or its rows are not exactly the manifest's count."""
    if not data.startswith(HEADER_BYTES):
        raise ValueError("the fold does not start with the header")
    ranges = []
    start = len(HEADER_BYTES)
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


def verify(data: bytes, entries: Sequence[Entry]) -> str | None:
    """Why the manifest is not true of the fold's bytes, or None: each segment, with the
    header in front, must hash as the manifest says its shard did."""
    try:
        ranges = segments(data, entries)
    except ValueError as error:
        return str(error)
    for entry, (start, end) in zip(entries, ranges, strict=True):
        if shard_hash(HEADER_BYTES + data[start:end]) != entry.sha256:
            return f"the rows of {entry.shard} in it do not hash as the manifest says"
    return None


def plan(shards: Sequence[tuple[str, int]], max_bytes: int) -> list[list[str]]:
    """Which shards (name, size) go into which fold: in name order, each fold filled up to
    `max_bytes`, so that the same shards always give the same folds."""
    groups: list[list[str]] = []
    size = 0
    for name, shard_size in sorted(shards):
        rows = shard_size - len(HEADER_BYTES)
        if not groups or size + rows > max_bytes:
            groups.append([])
            size = len(HEADER_BYTES)
        groups[-1].append(name)
        size += rows
    return groups
