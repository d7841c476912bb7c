"""Validating log files: every problem and warning counted, the first `max_problems` kept to
show.

Besides each line's own problems, rows that share a `source_id` must agree on their numbers
(`source_ids.ConflictFinder`): readers count one of them, so two that differ mean one is wrong.

A warning is a valid row that breaks a rule newer than rows committed before it (invisible
characters, see `Schema.row_warnings`): `check` shows and counts it but still passes, since
history may not be edited; `promote` lets a hook count as a problem a warning on a row that
is being added.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from telemetry_csv import fs
from telemetry_csv.errors import LogFileError
from telemetry_csv.logfile import layout
from telemetry_csv.logfile.reading import (
    NOT_READ,
    ExtendedRun,
    Problem,
    ScanItem,
    lines_of,
    scan_items,
)
from telemetry_csv.logfile.schema import EXTENDED_HEADER_LINE, HEADER_LINE, Row, Schema
from telemetry_csv.logfile.source_ids import Conflict, ConflictFinder, numbers_of

if TYPE_CHECKING:
    from telemetry_csv.logfile.snapshot import Snapshot

DEFAULT_MAX_PROBLEMS = 100
_MANIFEST_LIMIT = 16 << 20  # far more than the manifest of any fold within max_bytes
_FOLD_LIMIT = 1 << 30  # a fold is read whole to be verified; a larger file is reported
_HEADER_BYTES = (HEADER_LINE + "\n").encode()
_EXTENDED_HEADER_BYTES = (EXTENDED_HEADER_LINE + "\n").encode()


class CheckResult:
    """What checking files found: files and valid rows counted, and the problems."""

    # A plain class, not a dataclass: the check hook imports this module, and `dataclasses`
    # brings `inspect` and its own imports into the hook's start-up.
    def __init__(self) -> None:
        self.files = 0
        self.rows = 0
        self.problem_count = 0
        self.warning_count = 0
        self.problems: list[Problem] = []  # the first `max_problems`, both kinds

    def __repr__(self) -> str:
        return (
            f"CheckResult(files={self.files}, rows={self.rows}, "
            f"problem_count={self.problem_count}, warning_count={self.warning_count}, "
            f"problems={self.problems!r})"
        )

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def summary(self) -> str:
        files = f"{self.files} file{'s' if self.files != 1 else ''}"
        rows = f"{self.rows:,} valid row{'s' if self.rows != 1 else ''}"
        shown = ""
        if len(self.problems) < self.problem_count + self.warning_count:
            shown = f" (first {len(self.problems)} shown)"
        found = "no problems" if self.ok else f"{self.problem_count:,} problem(s)"
        if self.warning_count:
            found += (
                f", {self.warning_count:,} warning(s) on rows committed before a newer rule "
                "(see docs/security.md)"
            )
        return f"checked {files}, {rows}: {found}{shown}"


def check_files(
    paths: Iterable[Path | str],
    schema: Schema,
    *,
    max_bytes: int | None = None,
    max_problems: int = DEFAULT_MAX_PROBLEMS,
    display: dict[Path | str, str] | None = None,
    promote: Callable[[Problem], bool] | None = None,
    trusted: Mapping[Path | str, int] | None = None,
) -> CheckResult:
    """Check each file completely; `display` maps a path to the name problems should show.

    `max_bytes` applies to a log, not to a backup: a backup holds what it was given, a full
    log or a merged one (the merge driver's advice for a merged log over the limit is to back
    it up whole). `promote(warning)`: True makes that warning a problem. `trusted`: for some
    files, how many bytes at their start were checked already (as they were committed,
    `git.committed`): only the lines after them are read, and their ids are compared with the
    rows there that hold the same ids."""
    result = CheckResult()
    tally = _Tally(result, max_problems, promote)
    paths = list(paths)
    starts = _usable_starts(paths, trusted or {})
    if starts:
        # The committed rows (in any trusted file) that hold an id one of the new lines holds
        # reach the id comparison before any new row, as in a check of the whole files. The
        # new lines are read twice rather than held: they may be many.
        ids = _new_ids(starts, schema, max_bytes)
        _committed_rows(starts, ids, schema, tally, display)
    for path in paths:
        name = _name(path, display)
        shown = name if name is not None else str(path)
        tally.paths[shown] = path
        if layout.fold_of_manifest(Path(path).name) is not None:
            tally.file(_manifest_problems(Path(path), shown))
            continue
        items: Iterable[ScanItem] = scan_items(
            path,
            schema,
            max_bytes=_limit(path, max_bytes),
            display=name,
            warnings=True,
            trusted=starts.get(path, 0),
        )
        if layout.is_fold_name(Path(path).name):
            items = chain(_fold_problems(Path(path), shown), items)
        tally.file(items, shown)
    tally.conflicts(schema)
    return result


ADDED = "this row is being added, and new rows may not hold one"


def _limit(path: Path | str, max_bytes: int | None) -> int | None:
    # `max_bytes` limits a log, not a backup: a backup holds what it was given (the shell
    # scripts' backups pass 10 MiB).
    return None if layout.is_backup_name(Path(path).name) else max_bytes


def _name(path: Path | str, display: dict[Path | str, str] | None) -> str | None:
    return display.get(path) if display else None


def _usable_starts(
    paths: list[Path | str], trusted: Mapping[Path | str, int]
) -> dict[Path | str, int]:
    """The trusted starts to use: all of them, or none when a file that may hold ids (any but
    an 8-column log) is to be read whole, as its rows' ids would have to be compared with the
    committed rows of the others, which are not read."""
    starts = {path: trusted[path] for path in paths if trusted.get(path, 0) > 0}
    if not starts:
        return {}
    for path in paths:
        if path in starts or layout.fold_of_manifest(Path(path).name) is not None:
            continue
        try:
            with fs.open_regular(path) as file:
                head = file.read(len(_EXTENDED_HEADER_BYTES))
        except (OSError, LogFileError):
            continue  # read whole, it is reported as unreadable: it holds no rows
        if not head.startswith(_HEADER_BYTES) or head == _EXTENDED_HEADER_BYTES:
            return {}
    return starts


def _new_ids(starts: Mapping[Path | str, int], schema: Schema, max_bytes: int | None) -> set[str]:
    """The ids held by the lines after the trusted starts."""
    ids: set[str] = set()
    for path, start in starts.items():
        for item in scan_items(path, schema, max_bytes=_limit(path, max_bytes), trusted=start):
            if type(item) is ExtendedRun:
                for line in lines_of(item):
                    found = line.rsplit(",", 3)[1]
                    if found:
                        ids.add(found)
            elif type(item) is Row and item.source_id:
                ids.add(item.source_id)
    return ids


def _committed_rows(
    starts: Mapping[Path | str, int],
    ids: set[str],
    schema: Schema,
    tally: _Tally,
    display: dict[Path | str, str] | None,
) -> None:
    """Give the id comparison the committed rows, in every trusted file, that hold one of
    `ids`, in the files' order and each file's line order."""
    if not ids:
        return
    wanted = [source_id.encode() for source_id in sorted(ids)]
    for path, start in starts.items():
        name = _name(path, display)
        shown = name if name is not None else str(path)
        try:
            with fs.open_regular(path) as file:
                committed = file.read(start)
        except (OSError, LogFileError):
            continue  # the scan of the rest reports it
        if not committed.startswith(_EXTENDED_HEADER_BYTES):
            continue  # an 8-column file has no ids
        before: dict[int, Row] = {}  # by where the line starts: in the file's order
        for source_id in wanted:
            position = committed.find(source_id)
            while position >= 0:
                line_start = committed.rfind(b"\n", 0, position) + 1
                line_end = committed.find(b"\n", position)
                text = committed[line_start:line_end].decode("utf-8", "replace")
                row = schema.parse_line(text, extended=True)
                if type(row) is Row and row.source_id in ids:
                    before[line_start] = row
                position = committed.find(source_id, line_end)
        for _, row in sorted(before.items()):
            tally.finder.add(row.source, row.source_id, numbers_of(row), shown)


def check_snapshot(
    snapshot: Snapshot,
    schema: Schema,
    *,
    max_bytes: int | None = None,
    max_problems: int = DEFAULT_MAX_PROBLEMS,
    promote: Callable[[Problem], bool] | None = None,
) -> CheckResult:
    """Check every file of a log (snapshot.py): each shard's rows are counted once (and their
    ids compared once), and every copy of a shard is checked, and compared with the one that
    counts. `promote`: as for `check_files`."""
    result = CheckResult()
    tally = _Tally(result, max_problems, promote)
    tally.paths.update((snapshot.display(entry.path), entry.path) for entry in snapshot.entries)
    for shown, items in snapshot.files(schema, validate=True, max_bytes=max_bytes):
        tally.file(items, shown)
    tally.conflicts(schema)
    return result


class _Tally:
    """Counts a check's files, rows and problems, and finds rows with one id and other numbers."""

    def __init__(
        self,
        result: CheckResult,
        max_problems: int,
        promote: Callable[[Problem], bool] | None = None,
    ):
        self.result = result
        self.max_problems = max_problems
        self.promote = promote
        self.finder = ConflictFinder()
        self.paths: dict[str, Path | str] = {}  # each shown name's file, to find lines again
        self.order: list[str] = []  # the shown names of the files read, in that order

    def file(self, items: Iterable[ScanItem], shown: str | None = None) -> None:
        result, finder = self.result, self.finder
        result.files += 1
        if shown is not None:
            self.order.append(shown)
        warned = 0  # the last line with a warning: its row is counted once
        for item in items:
            if isinstance(item, str):
                result.rows += item.count("\n")  # a run of valid lines (`reading.scan_runs`)
                if type(item) is ExtendedRun and shown is not None:
                    finder.add_run(item, shown)
                continue
            if type(item) is Row:
                result.rows += 1
                if item.source_id and shown is not None:
                    finder.add(item.source, item.source_id, numbers_of(item), shown)
                continue
            if item is None:
                result.rows += 1  # a valid line whose Row was not built
                continue
            assert isinstance(item, Problem)
            if item.warning:
                if self.promote is not None and self.promote(item):
                    item = item._replace(warning=False, message=f"{item.message}; {ADDED}")
                elif item.line != warned:
                    result.rows += 1
                warned = item.line
            self.count(item)

    def count(self, problem: Problem) -> None:
        if problem.warning:
            self.result.warning_count += 1
        else:
            self.result.problem_count += 1
        if len(self.result.problems) < self.max_problems:
            self.result.problems.append(problem)

    def conflicts(self, schema: Schema) -> None:
        self.finder.resolve(
            lambda ids: (
                (shown, row)
                for shown in self.order
                for _, row in _rows_with_ids(self.paths.get(shown), ids, schema)
            )
        )
        for conflict in self.finder.conflicts:
            self.count(_conflict_problem(conflict, self.paths, schema))


def _fold_problems(path: Path, shown: str) -> list[Problem]:
    """Whether the manifest beside a fold is true of it (folds.py)."""
    from telemetry_csv.logfile import folds  # only a repository with folds needs it

    manifest = path.with_name(layout.manifest_name(path.name))
    try:
        # Neither is read through a link or from a FIFO, nor whole when it is huge.
        manifest_data = fs.read_bounded(manifest, _MANIFEST_LIMIT)
        data = fs.read_bounded(path, _FOLD_LIMIT)
    except (fs.LinkError, fs.NotRegularError):
        return []  # the fold itself is reported by its scan, the manifest by its own check
    except LogFileError as error:
        return [Problem(shown, 0, "file", f"cannot be verified against its manifest: {error}")]
    if manifest_data is None or data is None:
        missing = manifest.name if manifest_data is None else path.name
        return [Problem(shown, 0, "file", f"cannot read {missing}")]
    try:
        entries = folds.parse_manifest(manifest_data)
    except ValueError as error:
        return [Problem(shown, 0, "file", f"its manifest cannot be read: {error}")]
    wrong = folds.verify(data, entries)
    expected = folds.fold_name(folds.manifest_bytes(entries))
    if wrong is None and expected != path.name:
        wrong = f"its name does not match its manifest (expected {expected})"
    if wrong is None:
        return []
    return [Problem(shown, 0, "file", f"{wrong}; the fold does not match its manifest")]


def _manifest_problems(path: Path, shown: str) -> list[Problem]:
    """A manifest given alone: its fold must be beside it, and it must be true of the fold."""
    try:
        fs.lstat_regular(path)
    except fs.LinkError as error:
        return [Problem(shown, 0, "file", f"a symbolic link (to {error.target}); {NOT_READ}")]
    except fs.NotRegularError as error:
        return [Problem(shown, 0, "file", f"not a regular file ({error.kind}); {NOT_READ}")]
    fold = path.with_name(layout.fold_of_manifest(path.name) or "")
    if not os.path.lexists(fold):
        return [Problem(shown, 0, "file", f"a manifest without its fold {fold.name}")]
    return [
        Problem(shown, problem.line, problem.field, problem.message)
        for problem in _fold_problems(fold, str(fold))
    ]


def _conflict_problem(conflict: Conflict, shown: dict[str, Path | str], schema: Schema) -> Problem:
    line = _line_of(shown.get(conflict.path), conflict, schema, second=True)
    if conflict.first is None:  # a packed id whose first row was not found again
        where, numbers = "an earlier line", "that line could not be read again to show them"
    else:
        first_line = _line_of(shown.get(conflict.first_path), conflict, schema, second=False)
        where = f"line {first_line}" if first_line else "a line"
        if conflict.first_path != conflict.path:
            where += f" of {conflict.first_path}"
        numbers = conflict.numbers.differences(conflict.first)
    return Problem(
        conflict.path,
        line,
        "source_id",
        f"{conflict.source} {conflict.source_id} is also on {where} with other numbers "
        f"({numbers}); rows with one source_id are the same usage and are counted once, so "
        "one of them is wrong",
    )


def _line_of(path: Path | str | None, conflict: Conflict, schema: Schema, *, second: bool) -> int:
    """The number of the line of `path` holding the conflict's row (its first or second side);
    0 when it cannot be found again."""
    numbers = conflict.numbers if second else conflict.first
    for number, row in _rows_with_ids(path, {conflict.source_id}, schema):
        if row.source == conflict.source and numbers_of(row) == numbers:
            return number
    return 0


def _rows_with_ids(
    path: Path | str | None, ids: set[str], schema: Schema
) -> Iterator[tuple[int, Row]]:
    """(the line's number, the row) of each line of `path` whose row has one of `ids`, in order;
    nothing more once the file cannot be read. Conflicts are rare, so the file is read again for
    them: only a line whose source_id field (the third of its last four, quoted or not) is one
    of `ids` is parsed."""
    if path is None:
        return
    try:
        with fs.open_regular(path) as file:
            for number, raw in enumerate(file, start=1):
                fields = raw.rstrip(b"\r\n").rsplit(b",", 4)
                if len(fields) < 5 or fields[2].strip(b'"').decode("utf-8", "replace") not in ids:
                    continue
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                row = schema.parse_line(text, extended=True)
                if type(row) is Row and row.source_id in ids:
                    yield number, row
    except (OSError, LogFileError):
        return
