"""Logging one row from Python: validate the values, then append under the log's lock.

Where the row goes: `path` if given (exactly that file, rotated into backups at `max_bytes`, as
in the single layout: not safe for branches that merge); else, in the team layout (the
default), the current shard of the configured log (logfile/sharding.py), which never makes two
branches touch the same file; else the configured log file itself (`layout = "single"`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Unpack

from telemetry_csv.config import (
    Settings,
    load_settings,
    validate_lock_timeout,
    validate_max_bytes,
)
from telemetry_csv.logfile import sharding, writing
from telemetry_csv.logfile.schema import Row, RowInput


@dataclass(frozen=True)
class LoggedRow:
    row: Row
    path: Path
    created: bool  # the log was started by this append
    backup: Path | None  # where the full log was moved first, if it was
    notices: tuple[str, ...]  # normalisations the caller should be told about


def log_row(
    *,
    path: Path | str | None = None,
    settings: Settings | None = None,
    max_bytes: int | None = None,
    lock_timeout: float | None = None,
    **values: Unpack[RowInput],
) -> LoggedRow:
    """Append one row to the repository's log (or `path`); raises TelemetryError, writing nothing,
    if any value is refused or the log cannot take the row. `values` are the columns by name
    (`RowInput`): model, prompt_tokens, completion_tokens, task_success, task_type, duration_ms,
    and optionally notes and timestamp (default: now)."""
    settings = settings or load_settings()
    normalised = settings.schema.normalise(**values)
    line = settings.schema.format_line(normalised.row)
    limit = validate_max_bytes(max_bytes) if max_bytes is not None else settings.max_bytes
    timeout = settings.lock_timeout if lock_timeout is None else validate_lock_timeout(lock_timeout)
    if path is None and settings.layout == "team":
        from telemetry_csv.git.worktree import Worktree

        result = sharding.append_row(
            settings.log_path,
            line,
            max_bytes=limit,
            lock_timeout=timeout,
            repository=Worktree.at(settings.root),
        )
    else:
        log_path = Path(path) if path is not None else settings.log_path
        result = writing.append_line(log_path, line, max_bytes=limit, lock_timeout=timeout)
    return LoggedRow(normalised.row, result.path, result.created, result.backup, normalised.notices)
