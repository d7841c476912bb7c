"""Validating log files: every problem counted, the first `max_problems` kept to show."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from telemetry_csv.logfile import folds, layout
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
        shown = name if name is not None else str(path)
        if layout.fold_of_manifest(Path(path).name) is not None:
            _tally(result, _manifest_problems(Path(path), shown), max_problems)
            continue
        items = scan_lines(path, schema, max_bytes=max_bytes, display=name)
        if layout.is_fold_name(Path(path).name):
            items = chain(_fold_problems(Path(path), shown), items)
        _tally(result, items, max_problems)
    return result


def _fold_problems(path: Path, shown: str) -> list[Problem]:
    """Whether the manifest beside a fold is true of it (folds.py)."""
    manifest = path.with_name(layout.manifest_name(path.name))
    try:
        entries = folds.parse_manifest(manifest.read_bytes())
        data = path.read_bytes()
    except FileNotFoundError as error:
        return [Problem(shown, 0, "file", f"cannot read {Path(str(error.filename)).name}")]
    except (OSError, ValueError) as error:
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
    fold = path.with_name(layout.fold_of_manifest(path.name) or "")
    if not fold.exists():
        return [Problem(shown, 0, "file", f"a manifest without its fold {fold.name}")]
    return [
        Problem(shown, problem.line, problem.field, problem.message)
        for problem in _fold_problems(fold, str(fold))
    ]


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
