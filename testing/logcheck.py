"""What the reliability tests verify about a log and its backups after writers ran or died."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from telemetry_csv.logfile.layout import backup_paths
from telemetry_csv.logfile.reading import read_rows
from telemetry_csv.logfile.schema import HEADER_SHAPES

ID = re.compile(r"id=(\S+):(\d+) ")


@dataclass
class Reports:
    """What writers said they had done: row ids after `log_row` returned, and backups made."""

    done: Counter = field(default_factory=Counter)
    rotations: list[str] = field(default_factory=list)

    def add(self, output: str) -> None:
        for line in output.splitlines():
            parts = line.split()
            if len(parts) < 2 or parts[0] != "done":
                continue  # a report cut by kill -9 cannot happen: one write per line
            self.done[parts[1]] += 1
            if len(parts) == 4 and parts[2] == "rotated":
                self.rotations.append(parts[3])


def row_ids(paths: list[Path]) -> list[tuple[str, int]]:
    """The (writer, seq) of every row, in file order."""
    ids = []
    for row in read_rows(paths):
        match = ID.match(row.notes)
        assert match, f"a row that no writer wrote: {row}"
        ids.append((match.group(1), int(match.group(2))))
    return ids


def assert_nothing_lost(paths: list[Path], reports: Reports) -> list[tuple[str, int]]:
    """Every reported row is there exactly once, no row twice, each writer's rows in order."""
    ids = row_ids(paths)
    counts = Counter(f"{writer}:{seq}" for writer, seq in ids)
    duplicated = [row for row, n in counts.items() if n > 1]
    assert not duplicated, f"rows written twice: {duplicated[:5]}"
    missing = [row for row in reports.done if counts[row] != 1]
    assert not missing, f"rows reported done but not in the log: {missing[:5]}"
    last: dict[str, int] = {}
    for writer, seq in ids:
        assert seq > last.get(writer, -1), f"writer {writer}'s row {seq} is out of order"
        last[writer] = seq
    return ids


def assert_each_writer_unbroken(ids: list[tuple[str, int]], reports: Reports) -> dict[str, int]:
    """Each writer's rows are exactly its rows 0, 1, 2...: all it reported, and at most one more
    (appended, then killed before it could report). Each writer's count of whole rows."""
    seqs: dict[str, list[int]] = {}
    for writer, seq in ids:
        seqs.setdefault(writer, []).append(seq)
    reported = Counter(row.split(":")[0] for row in reports.done)
    for writer, found in seqs.items():
        assert found == list(range(len(found))), f"writer {writer} has a gap: {found[:10]}"
        assert reported[writer] <= len(found) <= reported[writer] + 1, (
            f"writer {writer}: {len(found)} rows but {reported[writer]} reported"
        )
    return {writer: len(found) for writer, found in seqs.items()}


def assert_backups_whole(log: Path, max_bytes: int) -> list[Path]:
    """Each backup starts with the header, ends with a newline and is within max_bytes."""
    backups = backup_paths(log)
    for backup in backups:
        data = backup.read_bytes()
        header = data[: data.find(b"\n")].decode("utf-8", "replace")
        assert header in HEADER_SHAPES, f"{backup.name} lost its header"
        assert data.endswith(b"\n"), f"{backup.name} is partial"
        assert len(data) <= max_bytes, f"{backup.name} is over max_bytes"
    return backups
