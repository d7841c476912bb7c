"""Usage from coding agents' own session files, as log rows that are the same whoever imports.

The public API (the `import` command, the pre-commit hook and `run --from-output` call these,
through `recording.import_sessions` for the first two):

- `collect(source, *, root, …) -> ImportResult`: the slices (rows) that became final since the
  last import; `ImportResult.save_state()` once they are written.
- `StateFile(path, token)`: where an import remembers what it read.
- `parse_output(output, *, source=None, model=None) -> list[OutputUsage]`: usage from a
  headless run's output (`claude -p --output-format json`, `codex exec --json`,
  `gemini --output-format json`).

Modules, one job each:
- `discovery`: where each agent keeps its files, and walking folders without following links;
- `lines`: opening untrusted files and reading lines in bounded memory;
- `claude`, `codex`, `gemini`: one parser per format, with its de-duplication and token mapping;
- `feed`: what parsers report to (scope, skipped records, values fit for the log);
- `slicing`: grouping copies of a response, windows, durations, slice ids;
- `collecting`: one import, incremental, with late records reconciled;
- `recording`: an import into the repository's log (the `import` command and its hook): ids the
  log holds left out, one locked batch, the states saved;
- `state`: the local state between imports;
- `instants`: UTC milliseconds; `headless`: headless command output.

Modules are imported on first use: an import with nothing new loads only what it needs to see
that nothing changed.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from telemetry_csv.importing.state import StateFile

if TYPE_CHECKING:
    from telemetry_csv.importing.collecting import ImportResult
    from telemetry_csv.importing.headless import OutputUsage
    from telemetry_csv.importing.slicing import Slice

SOURCES = ("claude-code", "codex", "gemini")
DEFAULT_IDLE_LIMIT_MS = 15 * 60_000

__all__ = [
    "DEFAULT_IDLE_LIMIT_MS",
    "SOURCES",
    "ImportResult",
    "OutputUsage",
    "Slice",
    "StateFile",
    "collect",
    "parse_output",
]


def collect(
    source: str,
    *,
    root: str | os.PathLike[str],
    from_path: str | os.PathLike[str] | None = None,
    since: str | None = None,
    all_projects: bool = False,
    idle_limit_ms: int = DEFAULT_IDLE_LIMIT_MS,
    now: float | None = None,
    state: StateFile | None = None,
    task_type: str = "execute",
    fallback_model: str | None = None,
    environ: dict[str, str] | None = None,
) -> ImportResult:
    """The slices of `source` (`claude-code`, `codex`, `gemini`) that became final since the
    import that saved `state` (all of them without a state), ordered by end time.

    `root` is the worktree: only sessions run in it or below it count, unless `all_projects`.
    `from_path` replaces the agent's usual folders. `since` (a UTC date or an RFC 3339
    date-time) leaves out slices of earlier windows. `idle_limit_ms`: gaps between records longer
    than this are not active time. `now` (Unix seconds) is for tests and benchmarks.
    `task_type` is every slice's task type. `fallback_model` names the model of Codex sessions
    from before Codex recorded one. `environ` replaces `os.environ` for finding the folders.
    Nothing is written: call `ImportResult.save_state()` after writing the slices.
    """
    from telemetry_csv.importing import collecting

    return collecting.collect(
        source,
        root=root,
        from_path=from_path,
        since=since,
        all_projects=all_projects,
        idle_limit_ms=idle_limit_ms,
        now=now,
        state=state,
        task_type=task_type,
        fallback_model=fallback_model,
        environ=environ,
    )


def parse_output(
    output: bytes | str, *, source: str | None = None, model: str | None = None
) -> list[OutputUsage]:
    """One usage per model named in a headless agent run's standard output; see `headless`."""
    from telemetry_csv.importing import headless

    return headless.parse_output(output, source=source, model=model)


def __getattr__(name: str) -> object:
    if name == "ImportResult":
        from telemetry_csv.importing.collecting import ImportResult

        return ImportResult
    if name == "OutputUsage":
        from telemetry_csv.importing.headless import OutputUsage

        return OutputUsage
    if name == "Slice":
        from telemetry_csv.importing.slicing import Slice

        return Slice
    raise AttributeError(f"module 'telemetry_csv.importing' has no attribute {name!r}")
