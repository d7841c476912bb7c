"""Logging rows from Python: validate the values, then append under the log's lock, one row
(`log_row`) or a batch in one locked write (`log_rows`).

Where rows go: `path` if given (exactly that file, rotated into backups at `max_bytes` or where
its header must change, as in the single layout: not safe for branches that merge); else, in
the team layout (the default), the current shard of the configured log (logfile/sharding.py),
which never makes two branches touch the same file; else the configured log file itself
(`layout = "single"`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple, Unpack

from telemetry_csv.config import (
    Settings,
    load_settings,
    validate_lock_timeout,
    validate_max_bytes,
)
from telemetry_csv.logfile import sharding, writing
from telemetry_csv.logfile.schema import Row, RowInput


class LoggedRow(NamedTuple):
    """A row `log_row` appended, where it went, and what the caller should be told. (A named
    tuple, as `Row` is: a dataclass would cost `log`'s start-up more than this whole module.)"""

    row: Row
    path: Path
    created: bool  # the log was started by this append
    backup: Path | None  # where the full log was moved first, if it was
    notices: tuple[str, ...]  # normalisations the caller should be told about
    header_changed: bool = False  # the backup was of an 8-column log this row outgrew


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
    and optionally notes, timestamp (default: now), source, source_id, cache_read_tokens and
    cache_write_tokens (docs/format.md)."""
    settings = settings or load_settings()
    normalised = settings.schema.normalise(**values)
    result = log_rows(
        [normalised.row],
        path=path,
        settings=settings,
        max_bytes=max_bytes,
        lock_timeout=lock_timeout,
    )
    return LoggedRow(
        normalised.row,
        result.path,
        result.created,
        result.backup,
        normalised.notices,
        result.header_changed,
    )


def log_rows(
    rows: Sequence[Row],
    *,
    path: Path | str | None = None,
    settings: Settings | None = None,
    max_bytes: int | None = None,
    lock_timeout: float | None = None,
) -> writing.AppendResult:
    """Append valid rows (from `Schema.normalise`) to the repository's log (or `path`) in one
    locked write per file: the current shard and new ones in the team layout, else the log,
    rotated where it is full or its header must change."""
    settings = settings or load_settings()
    limit = validate_max_bytes(max_bytes) if max_bytes is not None else settings.max_bytes
    timeout = settings.lock_timeout if lock_timeout is None else validate_lock_timeout(lock_timeout)
    if path is None and settings.layout == "team":
        from telemetry_csv.git.worktree import Worktree

        return sharding.append_rows(
            settings.log_path,
            rows,
            settings.schema,
            max_bytes=limit,
            lock_timeout=timeout,
            repository=Worktree.at(settings.root),
        )
    log_path = Path(path) if path is not None else settings.log_path
    return writing.append_rows(
        log_path, rows, settings.schema, max_bytes=limit, lock_timeout=timeout
    )


def append_rows_held(
    rows: Sequence[Row], *, settings: Settings, path: Path | None = None
) -> writing.AppendResult:
    """`log_rows` for a caller that holds the log's lock already (`writing.locked` of `path`,
    or of the configured log): the same files, chosen the same way."""
    if path is None and settings.layout == "team":
        from telemetry_csv.git.worktree import Worktree

        return sharding.append_rows_held(
            settings.log_path,
            rows,
            settings.schema,
            max_bytes=settings.max_bytes,
            repository=Worktree.at(settings.root),
        )
    log_path = path if path is not None else settings.log_path
    return writing.append_rows_held(log_path, rows, settings.schema, max_bytes=settings.max_bytes)
