"""Where a report's rows come from, chosen in one place, and what happens to invalid rows.

`open_source` picks the rows: the rows a range of commits added (read from git), the files
given, or else every file of the configured log, as a snapshot (logfile/snapshot.py) reads them
consistently while others write: its backups, itself, its folds and shards, each shard's rows
once. Everything after it only sees rows.

`ValidRows` passes rows on. At the first problem it stops with the very `PATH:LINE: field:
message` that `check` prints (InvalidLogError, exit 1), unless invalid rows are to be skipped, in
which case it counts them. It is also where rows that repeat a `source_id` are left out
(`logfile.source_ids.SeenIds`, the rule every reader shares): each id counts once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple, cast

from telemetry_csv.config import Settings
from telemetry_csv.errors import InvalidLogError, LogFileError
from telemetry_csv.logfile import snapshot as snapshots
from telemetry_csv.logfile.reading import ExtendedRun, Problem, Run, scan_runs
from telemetry_csv.logfile.schema import Row, Schema
from telemetry_csv.logfile.source_ids import SeenIds
from telemetry_csv.report.data import Skipped

# The one line problem after which `scan_file` still yields the line's row: a last line with no
# newline may be the torn end of an interrupted write, so its row is not trusted when skipping.
_TORN_LINE = "no newline at the end of the file"
_NO_HEADER = "the header is missing"


class RowSource(NamedTuple):
    description: str  # what is read, for people: ".telemetry/usage.csv and 2 backups"
    items: Iterator[Run | Row | Problem]
    paths: tuple[Path, ...] = ()  # the files read (none for rows read from git)
    # The same items read again (the same files, checked to be the files listed; the same git
    # objects), for a reader that passes over them more than once.
    again: Callable[[], Iterator[Run | Row | Problem]] | None = None


def open_source(
    schema: Schema,
    *,
    files: Sequence[str] = (),
    log_path: Path,
    display: Callable[[Path], str] = str,
    commit_range: str | None = None,
    settings: Settings | None = None,
    snapshot: snapshots.Snapshot | None = None,
) -> RowSource:
    """The rows `commit_range` added to the configured log (`settings` say which), or the rows
    of `files`, or of every file of the log at `log_path` (read through `snapshot`, taken now
    if not given: `snapshots.read_consistently` gives one and starts again when the files
    change under it)."""
    if commit_range is not None:
        from telemetry_csv.git import plumbing
        from telemetry_csv.git.ranges import added_items, parse_range

        if settings is None:
            raise ValueError("a commit range needs the settings that locate the log")
        root = plumbing.toplevel(settings.root)
        commits = parse_range(commit_range, root)
        return RowSource(
            f"rows added in {commit_range}",
            added_items(commits, settings, root),
            again=lambda: added_items(commits, settings, root),
        )
    if files:
        paths = [(Path(name), name) for name in files]
        return RowSource(
            _join(list(files)),
            _scan_all(paths, schema),
            tuple(path for path, _ in paths),
            lambda: _scan_all(paths, schema),
        )
    if snapshot is None:
        snapshot = snapshots.take(log_path, display=display)
    if not snapshot.exists():
        raise LogFileError(f"no log at {display(log_path)}; create it with `telemetry-csv init`")
    items = snapshot.items(schema)
    taken = snapshot
    return RowSource(
        snapshot.description(),
        cast(Iterator[Run | Row | Problem], items),
        tuple(snapshot.paths),
        lambda: cast(Iterator[Run | Row | Problem], taken.items(schema)),
    )


def _scan_all(paths: list[tuple[Path, str]], schema: Schema) -> Iterator[Run | Row | Problem]:
    for path, name in paths:
        yield from scan_runs(path, schema, display=name)


def _join(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"


class ValidRows:
    """The rows of a source; problems stop it, or are counted when `skip_invalid`. A row that
    repeats a `source_id` read before is left out (`seen`: ids shared with other sources)."""

    def __init__(
        self,
        items: Iterable[Run | Row | Problem],
        *,
        skip_invalid: bool = False,
        seen: SeenIds | None = None,
        dedupe: bool = True,
    ):
        self._items = items
        self._skip_invalid = skip_invalid
        self._bad_rows = 0
        self._last_bad: tuple[str, int] | None = None  # a line's problems come together
        self._file_problems = 0
        self.seen = seen if seen is not None else SeenIds()
        self._dedupe = dedupe  # False: every row as stored (the export's passes count them)

    @property
    def repeats(self) -> int:
        """Rows left out because their `source_id` was read before."""
        return self.seen.repeats

    @property
    def skipped(self) -> Skipped:
        return Skipped(rows=self._bad_rows, file_problems=self._file_problems)

    def __iter__(self) -> Iterator[str | Row]:
        """Rows, and runs of valid lines (see `scan_runs`) as they come. The row of a torn last line is not trusted: it comes right after the
        torn-line problem, or, when the torn line is line 1 of its file, right after the
        problem saying the header is missing."""
        torn_row = False  # the next item, if a row, is a torn line's
        torn_first: str | None = None  # the file whose torn line 1 may still turn out a row
        seen = self.seen
        dedupe = self._dedupe
        for item in self._items:
            if isinstance(item, str):
                torn_row, torn_first = False, None
                if dedupe and type(item) is ExtendedRun:
                    item = seen.run_without_repeats(item)
                    if not item:
                        continue
                yield item
                continue
            if isinstance(item, Row):
                if not torn_row and (not dedupe or seen.counts(item)):
                    yield item
                torn_row, torn_first = False, None
                continue
            if not self._skip_invalid:
                raise InvalidLogError(f"{item}; run `telemetry-csv check` for every problem")
            torn_row = False
            if torn_first is not None:
                on_line_1 = item.path == torn_first and item.line == 1
                torn_row = on_line_1 and item.message.startswith(_NO_HEADER)
                if not (on_line_1 and item.field == "file"):  # a byte order mark comes first
                    torn_first = None
            if item.line == 0 or item.field in ("file", "header"):
                self._file_problems += 1
                continue
            if (item.path, item.line) != self._last_bad:  # counted once, in constant memory
                self._bad_rows += 1
                self._last_bad = (item.path, item.line)
            if item.field == "line" and item.message.startswith(_TORN_LINE):
                # Only the last line of a file can be torn, so its row is the next one.
                if item.line == 1:
                    torn_first = item.path
                else:
                    torn_row = True
