"""An import into the repository's log: collect the new slices, leave out the ones the log holds,
append the rest in one locked write, then remember what was read.

The order, and why (docs/importing.md, "Importing into the log"):

1. The *token* of the log is made of its files' names, inodes, sizes and modification times:
   whatever changes the log under the importer (a pull, a reset, a checkout, another writer)
   changes it, and a state saved under another token is not used (`StateFile`).
2. `collect` runs without the log's lock (a first import of a large folder takes seconds, and
   `log` must not wait for it).
3. Under the lock: when every result is incremental and the token has not changed since, the
   slices are new by construction and the log is not read. Otherwise the ids the log already
   holds are read and those slices left out; readers count a repeated id once anyway, so this
   only keeps the log small.
4. One batch append (`capture.appending.append_rows_held`: to the current shard, and new ones
   where it is full, in the team layout; to the log, rotated where needed, in the single one),
   then each source's state is saved under the new token. A crash between the two makes the
   next import see a changed log, read everything again and leave out what was appended:
   nothing is lost or doubled.

With nothing new, nothing is locked, read or written: the scan compares the session files with
the state, and that is all.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from telemetry_csv.capture.appending import append_rows_held
from telemetry_csv.config import DEFAULT_IMPORT_TASK_TYPE, Settings
from telemetry_csv.errors import ConfigError, InvalidValueError, LogFileError, TelemetryError
from telemetry_csv.importing import SOURCES, StateFile, collect
from telemetry_csv.logfile import layout, writing
from telemetry_csv.logfile.schema import EXTENDED_HEADER, Row, Schema

if TYPE_CHECKING:
    from telemetry_csv.importing.collecting import ImportResult

ALL = "all"
STATE_FOLDER = "telemetry-csv"
NOT_ALLOWED = "slices the log's rules refuse"


@dataclass
class SourceOutcome:
    """What the import of one source found and did."""

    source: str
    found: int = 0  # closed slices the import returned
    added: int = 0  # rows appended (or, dry, that would be)
    known: int = 0  # slices whose source_id the log already held
    skipped: dict[str, int] = field(default_factory=dict)  # what was skipped, and why


@dataclass
class ImportOutcome:
    sources: list[SourceOutcome]
    rows: list[Row]  # appended, or that would be (dry run), in order
    dry_run: bool
    path: Path
    backups: tuple[Path, ...] = ()  # logs rotated away by the append

    @property
    def added(self) -> int:
        return len(self.rows)

    def summary(self) -> str:
        """One line: rows added per source, what was already there, what was skipped and why."""
        verb = "would add" if self.dry_run else "added"
        text = f"{verb} {self.added} row{'s' if self.added != 1 else ''}"
        if len(self.sources) > 1:
            text += " (" + ", ".join(f"{s.source} {s.added}" for s in self.sources) + ")"
        else:
            text += f" from {self.sources[0].source}"
        known = sum(outcome.known for outcome in self.sources)
        if known:
            text += f"; {known} already in the log"
        skipped: dict[str, int] = {}
        for outcome in self.sources:
            for reason, number in outcome.skipped.items():
                skipped[reason] = skipped.get(reason, 0) + number
        if skipped:
            reasons = ", ".join(f"{number} {reason}" for reason, number in sorted(skipped.items()))
            text += f"; skipped: {reasons}"
        return text


def sources_of(name: str) -> tuple[str, ...]:
    """The sources a SOURCE argument names: one agent, or `all` of them."""
    if name == ALL:
        return SOURCES
    if name not in SOURCES:
        raise InvalidValueError("SOURCE", name, f"expected one of {', '.join((*SOURCES, ALL))}")
    return (name,)


def import_sessions(
    settings: Settings,
    sources: Sequence[str],
    *,
    log_path: Path | None = None,
    from_path: str | None = None,
    since: str | None = None,
    dry_run: bool = False,
    task_type: str | None = None,
    all_projects: bool = False,
    idle_limit_ms: int | None = None,
    lock_timeout: float | None = None,
    now: float | None = None,
    environ: dict[str, str] | None = None,
) -> ImportOutcome:
    """Import the new slices of `sources` into the log (`log_path`, default the configured one);
    see the module docstring. `dry_run` writes nothing, the state included. TelemetryError
    for a setting or option that is not allowed, or a log that cannot take the rows."""
    schema = settings.schema
    kind = _task_type(settings, task_type)
    if from_path is not None and len(sources) > 1:
        raise TelemetryError("--from PATH reads one agent's files: name the agent, not all")
    if from_path is not None and not os.path.lexists(from_path):
        raise LogFileError(f"--from {from_path}: no such file or folder")
    path = log_path if log_path is not None else settings.log_path
    token = log_token(path)
    folder = state_folder(settings.root)
    outcomes: list[SourceOutcome] = []
    results: list[ImportResult] = []
    rows: list[Row] = []
    for source in sources:
        state = StateFile(folder / f"import-state.{source}.json", token) if folder else None
        result = collect(
            source,
            root=settings.root,
            from_path=from_path,
            since=since,
            all_projects=all_projects,
            idle_limit_ms=idle_limit_ms or settings.import_idle_limit_ms,
            now=now,
            state=state,
            task_type=kind,
            fallback_model=settings.codex_model if source == "codex" else None,
            environ=environ,
        )
        outcome = SourceOutcome(source, found=len(result.slices), skipped=dict(result.skipped))
        rows += _rows(result, schema, settings.import_success, outcome)
        outcomes.append(outcome)
        results.append(result)
    if not rows and not any(result.state_changed for result in results):
        return ImportOutcome(outcomes, [], dry_run, path)
    if dry_run:
        fresh = _new_rows(rows, results, path, schema, outcomes, changed=False)
        return ImportOutcome(outcomes, fresh, dry_run, path)
    timeout = settings.lock_timeout if lock_timeout is None else lock_timeout
    appended: writing.AppendResult | None = None
    with writing.locked(path, timeout):
        changed = log_token(path) != token
        fresh = _new_rows(rows, results, path, schema, outcomes, changed=changed)
        if fresh:
            appended = append_rows_held(fresh, settings=settings, path=log_path)
        saved = log_token(path)
        for result in results:
            try:
                result.save_state(saved)
            except OSError as error:
                from telemetry_csv import fs

                raise fs.cannot(
                    "save the import state", result.state_path or "", error, _STATE_ADVICE
                ) from None
    return ImportOutcome(
        outcomes, fresh, dry_run, path, appended.backups if appended is not None else ()
    )


_STATE_ADVICE = (
    "; the rows were appended, and the next import reads everything again and leaves them out"
)


def _task_type(settings: Settings, given: str | None) -> str:
    schema = settings.schema
    if given is not None:
        kind = given.strip().lower()
        problem = schema.task_type_problem(kind)
        if problem:
            raise InvalidValueError("--task-type", given, problem)
        return kind
    if settings.import_task_type is not None:
        return settings.import_task_type
    if schema.task_type_problem(DEFAULT_IMPORT_TASK_TYPE) is None:
        return DEFAULT_IMPORT_TASK_TYPE
    raise ConfigError(
        f"imported rows need a task type, and {DEFAULT_IMPORT_TASK_TYPE} is not one of this "
        f"repository's ({'|'.join(settings.task_types)}): give --task-type, or set "
        "import_task_type in the configuration"
    )


def _rows(result: ImportResult, schema: Schema, success: str, outcome: SourceOutcome) -> list[Row]:
    """The log's rows of a result's slices; a slice the rules refuse is skipped and counted."""
    rows = []
    for piece in result.slices:
        values = dict(zip(EXTENDED_HEADER, piece.fields(), strict=True))
        if success == "always":
            values["task_success"] = True
        try:
            rows.append(schema.normalise(**values).row)
        except InvalidValueError:
            outcome.skipped[NOT_ALLOWED] = outcome.skipped.get(NOT_ALLOWED, 0) + 1
    return rows


def _new_rows(
    rows: list[Row],
    results: list[ImportResult],
    path: Path,
    schema: Schema,
    outcomes: list[SourceOutcome],
    *,
    changed: bool,
) -> list[Row]:
    """`rows` less those whose id the log holds (read only when it has to be: the log `changed`
    since the import started, or a result is not incremental) or that an earlier row of the
    batch has; each source's counts updated."""
    if not changed and not any(result.complete for result in results):
        known: set[tuple[str, str]] = set()
    else:
        known = ids_in_log(path, schema, {row.source for row in rows})
    fresh = []
    by_source = {outcome.source: outcome for outcome in outcomes}
    for row in rows:
        key = (row.source, row.source_id)
        outcome = by_source[row.source]
        if key in known:
            outcome.known += 1
            continue
        known.add(key)
        outcome.added += 1
        fresh.append(row)
    return fresh


def ids_in_log(path: Path, schema: Schema, sources: set[str]) -> set[tuple[str, str]]:
    """The (source, source_id) pairs of `sources` that the log holds: its backups, itself, its
    folds and shards, read as every reader reads them (`snapshot`). Lines with problems are
    passed over: they are `check`'s business, and an id on one is not trusted."""
    from telemetry_csv.logfile.reading import ExtendedRun
    from telemetry_csv.logfile.snapshot import Snapshot, read_consistently
    from telemetry_csv.logfile.source_ids import ID_AT_END

    def read(snapshot: Snapshot) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for item in snapshot.items(schema):
            if type(item) is ExtendedRun:
                found.update(
                    (source, source_id)
                    for source, source_id, _, _ in ID_AT_END.findall(item)
                    if source in sources
                )
            elif type(item) is Row and item.source in sources and item.source_id:
                found.add((item.source, item.source_id))
        return found

    if not sources:
        return set()
    return read_consistently(read, path)


def log_token(path: Path) -> str:
    """What changes whenever the log changes: the names, inodes, sizes and modification times
    of its files (`layout.log_files`: the backups, the log, and the team layout's folds and
    shards, so a pull, a fold or another clone's shards change it too; a missing log is a
    token too)."""
    parts = []
    for file in layout.log_files(path):
        try:
            info = os.stat(file, follow_symlinks=False)
        except OSError:
            continue
        parts.append(f"{file.name}\0{info.st_ino}\0{info.st_size}\0{info.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:32]


def state_folder(root: Path) -> Path | None:
    """Where this worktree keeps its import states: `<git dir>/telemetry-csv`, inside the
    repository's own git folder (a linked worktree's git dir is its own), so that the state is
    never committed; None outside a git repository (every import then reads everything).
    Read from `.git` without running git: an import with nothing new must start fast."""
    dot = root / ".git"
    if dot.is_dir():
        return dot / STATE_FOLDER
    try:
        text = dot.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("gitdir:"):
            target = Path(line[len("gitdir:") :].strip())
            git_dir = target if target.is_absolute() else root / target
            return git_dir / STATE_FOLDER if git_dir.is_dir() else None
    return None
