"""Rows from many files in time order, in bounded memory: what `telemetry-csv cat` prints.

Rows are ordered by the instant of their timestamp (`2026-11-20T23:30:00-05:00` after
`2026-11-21T00:15:00+01:00`), not by its text, and rows of the same instant keep the order they
were read in (files in the order readers take them, lines in file order: shards started in the
same second sort by their random part, not by which was started first). Files come one at a
time; their rows are gathered into a batch of at most `batch_rows`, which is sorted and, when it
is full, written to a temporary file as a sorted run. The runs are then merged with a heap, at
most `fan_in` open at a time (more runs are merged in passes), so memory stays within one
batch and the open-file limit is never met, however many files and rows there are.
"""

from __future__ import annotations

import heapq
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType

from telemetry_csv.rfc3339 import instant_ns

BATCH_ROWS = 200_000
FAN_IN = 64

_Keyed = tuple[int, int, str]  # (instant in ns, order read, the line)


class TimeOrder:
    """`with TimeOrder() as order: order.add(lines); ...; for line in order: ...`"""

    def __init__(self, *, batch_rows: int = BATCH_ROWS, fan_in: int = FAN_IN):
        self.batch_rows = batch_rows
        self.fan_in = fan_in
        self.batch: list[_Keyed] = []
        self.runs: list[Path] = []
        self.read = 0
        self.written = 0  # sorted runs written to temporary files, every pass counted
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    def add(self, lines: Iterable[str]) -> None:
        """Canonical rows (without their newline), valid ones: their timestamps are read as is."""
        batch = self.batch
        for line in lines:
            batch.append((instant_ns(line[: line.index(",")]), self.read, line))
            self.read += 1
            if len(batch) >= self.batch_rows:
                self._spill()
                batch = self.batch

    def __iter__(self) -> Iterator[str]:
        self.batch.sort()
        if not self.runs:
            return (line for _, _, line in self.batch)
        if self.batch:
            self._spill()
        while len(self.runs) > self.fan_in:
            runs, self.runs = self.runs, []
            for start in range(0, len(runs), self.fan_in):
                self._write_run(heapq.merge(*map(_read_run, runs[start : start + self.fan_in])))
        return (line for _, _, line in heapq.merge(*map(_read_run, self.runs)))

    def _spill(self) -> None:
        self.batch.sort()
        self._write_run(iter(self.batch))
        self.batch = []

    def _write_run(self, keyed: Iterator[_Keyed]) -> None:
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="telemetry-csv-cat-")
        self.written += 1
        path = Path(self._folder.name) / f"run-{self.written}.txt"
        with open(path, "w", encoding="utf-8", newline="\n") as file:
            file.writelines(f"{key}\t{order}\t{line}\n" for key, order, line in keyed)
        self.runs.append(path)

    def close(self) -> None:
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def __enter__(self) -> TimeOrder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _read_run(path: Path) -> Iterator[_Keyed]:
    with open(path, encoding="utf-8", newline="\n") as file:
        for text in file:
            key, order, line = text[:-1].split("\t", 2)
            yield int(key), int(order), line
