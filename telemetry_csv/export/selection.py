"""Which rows an export reads: the same rows, by the same rules, as `telemetry-csv report`.

The files (FILES, or every file of the log, each shard once, as `logfile.snapshot` lists them)
or the commit range come from `report.sources.open_source`; invalid rows stop the export or are
skipped as in `report` (`report.sources.ValidRows`); `--since/--until/--model/--task-type` mean
what they mean there (`report.filters`), with days in the `--tz` zone. Only the export's batching needs the files one
by one, since the state keeps each file's progress apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from telemetry_csv.config import Settings
from telemetry_csv.errors import ConfigError, LogFileError
from telemetry_csv.git import plumbing
from telemetry_csv.logfile.reading import Problem, ScanItem, scan_runs
from telemetry_csv.logfile.schema import Row
from telemetry_csv.logfile.snapshot import LogChanged, take
from telemetry_csv.report.dates import fraction_ns
from telemetry_csv.report.filters import Filters
from telemetry_csv.report.sources import open_source
from telemetry_csv.report.zones import HourBuckets, ReportZone

Items = Iterable[str | Row | Problem]


class Part(NamedTuple):
    """One stream of rows: a file, or the rows of a commit range."""

    name: str
    items: Callable[[], Items]  # called once per pass
    tracked: bool  # whether the state keeps its progress (files: yes; a commit range: no)


class Selection(NamedTuple):
    description: str  # for people: ".telemetry/usage.csv and 2 backups"
    parts: list[Part]
    before: Callable[[], Iterator[Row]] | None  # a range's rows at its base (identical lines)
    head: str | None  # the commit the rows are read at, when not the working tree


def select(
    settings: Settings,
    *,
    files: Sequence[str] = (),
    log_path: Path,
    display: Callable[[Path], str] = str,
    commit_range: str | None = None,
) -> Selection:
    schema = settings.schema
    if commit_range is not None:
        source = open_source(
            schema, log_path=log_path, commit_range=commit_range, settings=settings
        )
        root = _root(settings)
        from telemetry_csv.git.ranges import items_in_range, parse_range

        commits = parse_range(commit_range, root)
        return Selection(
            source.description,
            [Part(source.description, lambda: items_in_range(commit_range, settings), False)],
            lambda: _rows_at(commits.base, settings, root),
            commits.head,
        )
    if files:
        source = open_source(schema, files=files, log_path=log_path, display=display)
        parts = [
            Part(display(path), _scanner(path, display(path), settings), True)
            for path in source.paths
        ]
        return Selection(source.description, parts, None, None)
    # The log's files as a snapshot lists them, each read as every reader reads it: each
    # shard's rows once (a shard both loose and in a fold, or in two folds), a moved tail
    # read where it went.
    snapshot = take(log_path, display=display)
    try:
        snapshot.require_regular()  # a link is refused before anything is sent
    except LogChanged:
        raise LogFileError(
            f"the files of {display(log_path)} changed while they were listed; export again"
        ) from None
    source = open_source(schema, log_path=log_path, display=display, snapshot=snapshot)
    parts = [
        Part(shown, _checked(read, log_path, display), True)
        for shown, read in snapshot.readers(schema)
    ]
    return Selection(source.description, parts, None, None)


def _checked(
    read: Callable[[], Iterator[ScanItem]], log_path: Path, display: Callable[[Path], str]
) -> Callable[[], Items]:
    """`read`, with a file changed under the export (a fold, a rotation) as a one-line error:
    the export reads each file twice, and a snapshot cannot be taken again in between."""

    def items() -> Items:
        try:
            for item in read():
                if item is not None:  # only `rows=False` yields None
                    yield item
        except LogChanged:
            raise LogFileError(
                f"the files of {display(log_path)} changed while they were exported (a fold "
                "or a rotation); run the export again"
            ) from None

    return items


def _scanner(path: Path, name: str, settings: Settings) -> Callable[[], Items]:
    def items() -> Items:
        for item in scan_runs(path, settings.schema, display=name):
            if item is not None:  # only `rows=False` yields None
                yield item

    return items


def _root(settings: Settings) -> Path:
    """The repository's top folder, which must hold the log."""
    root = plumbing.toplevel(settings.root)
    if plumbing.relative_path(settings.log_path, root) is None:
        raise ConfigError(f"the log {settings.log_path} is outside the repository {root}")
    return root


def _rows_at(revision: str, settings: Settings, root: Path) -> Iterator[Row]:
    """The valid rows of the log at `revision`, every file of it, each shard once."""
    from telemetry_csv.git.ranges import rows_at

    return rows_at(revision, settings, root)


class RowFilter:
    """`report`'s row selection as a predicate: models and task types exactly, dates as whole
    days in the zone, date-times as exact instants, every bound inclusive."""

    def __init__(self, filters: Filters, zone: ReportZone) -> None:
        self.active = filters.active
        self._models = frozenset(filters.models) or None
        self._kinds = frozenset(filters.task_types) or None
        self._since_day = filters.since.day if filters.since else None
        self._until_day = filters.until.day if filters.until else None
        self._since = filters.since.instant if filters.since else None
        self._until = filters.until.instant if filters.until else None
        self._buckets = HourBuckets(zone)
        self._by_time = filters.since is not None or filters.until is not None

    def __call__(self, row: Row) -> bool:
        if self._models is not None and row.model not in self._models:
            return False
        if self._kinds is not None and row.task_type not in self._kinds:
            return False
        if not self._by_time:
            return True
        stamp = row.timestamp
        key = stamp[:13] if stamp[-1] == "Z" else stamp[:13] + stamp[-6:]
        entry = self._buckets.hours.get(key) or self._buckets.entry(key, stamp)
        day, start = entry
        if day is None:
            day = self._buckets.exact_day(start, stamp)
        if self._since_day is not None and day < self._since_day:
            return False
        if self._until_day is not None and day > self._until_day:
            return False
        if self._since is not None or self._until is not None:
            moment = (start + int(stamp[14:16]) * 60 + int(stamp[17:19]), fraction_ns(stamp))
            if self._since is not None and moment < self._since:
                return False
            if self._until is not None and moment > self._until:
                return False
        return True
