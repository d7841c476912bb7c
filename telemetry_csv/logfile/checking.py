"""Validating log files: every problem counted, the first `max_problems` kept to show."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from telemetry_csv.logfile.reading import Problem, scan_lines
from telemetry_csv.logfile.schema import Schema

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
        result.files += 1
        name = display.get(path) if display else None
        for item in scan_lines(path, schema, max_bytes=max_bytes, display=name):
            if not isinstance(item, Problem):
                result.rows += 1  # None: a valid line (its Row is not built)
                continue
            result.problem_count += 1
            if len(result.problems) < max_problems:
                result.problems.append(item)
    return result
