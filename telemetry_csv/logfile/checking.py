"""Validating log files: every problem counted, the first `max_problems` kept to show."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from telemetry_csv.logfile.reading import Problem, ScanItem, scan_lines
from telemetry_csv.logfile.schema import Schema
from telemetry_csv.logfile.snapshot import Snapshot

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
    for path in paths:
        name = display.get(path) if display else None
        _tally(result, scan_lines(path, schema, max_bytes=max_bytes, display=name), max_problems)
    return result


def check_snapshot(
    snapshot: Snapshot,
    schema: Schema,
    *,
    max_bytes: int | None = None,
    max_problems: int = DEFAULT_MAX_PROBLEMS,
) -> CheckResult:
    """Check every file of a log (snapshot.py): each shard's rows are counted once, and every
    copy of a shard is checked, and compared with the one that counts."""
    result = CheckResult()
    for _, items in snapshot.files(schema, rows=False, validate=True, max_bytes=max_bytes):
        _tally(result, items, max_problems)
    return result


def _tally(result: CheckResult, items: Iterable[ScanItem], max_problems: int) -> None:
    result.files += 1
    for item in items:
        if isinstance(item, str):
            result.rows += item.count("\n")  # a run of valid lines (`reading.scan_runs`)
            continue
        if not isinstance(item, Problem):
            result.rows += 1  # None: a valid line (its Row is not built)
            continue
        result.problem_count += 1
        if len(result.problems) < max_problems:
            result.problems.append(item)
