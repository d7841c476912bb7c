"""Validating log files: every problem counted, the first `max_problems` kept to show.

Besides each line's own problems, rows that share a `source_id` must agree on their numbers
(`source_ids.ConflictFinder`): readers count one of them, so two that differ mean one is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from telemetry_csv.logfile.reading import ExtendedRun, Problem, scan_items
from telemetry_csv.logfile.schema import Row, Schema
from telemetry_csv.logfile.source_ids import Conflict, ConflictFinder, numbers_of

DEFAULT_MAX_PROBLEMS = 100


@dataclass
class CheckResult:
    files: int = 0
    rows: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)  # the first `max_problems` of them

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def summary(self) -> str:
        files = f"{self.files} file{'s' if self.files != 1 else ''}"
        rows = f"{self.rows:,} valid row{'s' if self.rows != 1 else ''}"
        if self.ok:
            return f"checked {files}, {rows}: no problems"
        shown = ""
        if len(self.problems) < self.problem_count:
            shown = f" (first {len(self.problems)} shown)"
        return f"checked {files}, {rows}: {self.problem_count:,} problem(s){shown}"


def check_files(
    paths: Iterable[Path | str],
    schema: Schema,
    *,
    max_bytes: int | None = None,
    max_problems: int = DEFAULT_MAX_PROBLEMS,
    display: dict[Path | str, str] | None = None,
) -> CheckResult:
    """Check each file completely; `display` maps a path to the name problems should show."""
    result = CheckResult()
    finder = ConflictFinder()
    shown: dict[str, Path | str] = {}
    for path in paths:
        result.files += 1
        name = display.get(path) if display else None
        label = name if name is not None else str(path)
        shown[label] = path
        for item in scan_items(path, schema, max_bytes=max_bytes, display=name):
            if isinstance(item, str):
                result.rows += item.count("\n")
                if type(item) is ExtendedRun:
                    finder.add_run(item, label)
                continue
            if type(item) is Row:
                result.rows += 1
                if item.source_id:
                    finder.add(item.source, item.source_id, numbers_of(item), label)
                continue
            assert isinstance(item, Problem)
            _count(result, item, max_problems)
    for conflict in finder.conflicts:
        _count(result, _conflict_problem(conflict, shown, schema), max_problems)
    return result


def _count(result: CheckResult, problem: Problem, max_problems: int) -> None:
    result.problem_count += 1
    if len(result.problems) < max_problems:
        result.problems.append(problem)


def _conflict_problem(conflict: Conflict, shown: dict[str, Path | str], schema: Schema) -> Problem:
    line = _line_of(shown.get(conflict.path), conflict, schema, second=True)
    first_line = _line_of(shown.get(conflict.first_path), conflict, schema, second=False)
    where = f"line {first_line}" if first_line else "a line"
    if conflict.first_path != conflict.path:
        where += f" of {conflict.first_path}"
    return Problem(
        conflict.path,
        line,
        "source_id",
        f"{conflict.source} {conflict.source_id} is also on {where} with other numbers "
        f"({conflict.numbers.differences(conflict.first)}); rows with one source_id are the "
        "same usage and are counted once, so one of them is wrong",
    )


def _line_of(path: Path | str | None, conflict: Conflict, schema: Schema, *, second: bool) -> int:
    """The number of the line of `path` holding the conflict's row (its first or second side);
    0 when it cannot be found again. Conflicts are rare, so the file is read again for them."""
    if path is None:
        return 0
    numbers = conflict.numbers if second else conflict.first
    try:
        with open(path, "rb") as file:
            for number, raw in enumerate(file, start=1):
                if conflict.source_id.encode() not in raw:
                    continue
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                for item in _extended_row(text, schema):
                    if (
                        item.source == conflict.source
                        and item.source_id == conflict.source_id
                        and numbers_of(item) == numbers
                    ):
                        return number
    except OSError:
        return 0
    return 0


def _extended_row(text: str, schema: Schema) -> list[Row]:
    """The row of one line of an extended file, if it is one."""
    row = schema.parse_line(text, extended=True)
    return [row] if type(row) is Row else []
