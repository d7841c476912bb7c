"""Validating log files: every problem and warning counted, the first `max_problems` kept to
show.

A warning is a valid row that breaks a rule newer than rows committed before it (invisible
characters, see `Schema.row_warnings`): `check` shows and counts it but still passes, since
history may not be edited; `promote` lets a hook count as a problem a warning on a row that
is being added.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from telemetry_csv.logfile.layout import is_backup_name
from telemetry_csv.logfile.reading import Problem, scan_lines
from telemetry_csv.logfile.schema import Schema

DEFAULT_MAX_PROBLEMS = 100


@dataclass
class CheckResult:
    files: int = 0
    rows: int = 0
    problem_count: int = 0
    warning_count: int = 0
    problems: list[Problem] = field(default_factory=list)  # the first `max_problems`, both kinds

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
) -> CheckResult:
    """Check each file completely; `display` maps a path to the name problems should show.

    `max_bytes` applies to a log, not to a backup: a backup holds what it was given, a full
    log or a merged one (the merge driver's advice for a merged log over the limit is to back
    it up whole). `promote(warning)`: True makes that warning a problem."""
    result = CheckResult()
    for path in paths:
        result.files += 1
        name = display.get(path) if display else None
        limit = None if is_backup_name(Path(path).name) else max_bytes
        warned = 0  # the last line with a warning: its row is counted once
        for item in scan_lines(path, schema, max_bytes=limit, display=name):
            if not isinstance(item, Problem):
                result.rows += 1  # None: a valid line (its Row is not built)
                continue
            if item.warning:
                if promote is not None and promote(item):
                    item = replace(item, warning=False, message=f"{item.message}; {ADDED}")
                elif item.line != warned:
                    result.rows += 1
                warned = item.line
            if item.warning:
                result.warning_count += 1
            else:
                result.problem_count += 1
            if len(result.problems) < max_problems:
                result.problems.append(item)
    return result


ADDED = "this row is being added, and new rows may not hold one"
