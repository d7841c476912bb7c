"""`init`: put a log, its README and its .gitignore in place, without overwriting anything."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from telemetry_csv import fs
from telemetry_csv.logfile import writing

# The URL and the tag are placeholders until the project is published and tagged.
PRE_COMMIT_SNIPPET = """\
repos:
  - repo: https://github.com/telemetry-csv/telemetry-csv  # placeholder: not published yet
    rev: v0.1.0  # placeholder: no release tag yet; a commit id works too
    hooks:
      - id: telemetry-csv-fmt
      - id: telemetry-csv-check
      - id: telemetry-csv-append-only"""


@dataclass(frozen=True)
class Action:
    path: Path
    done: str  # "created" or "kept"


def readme_text() -> str:
    return (
        resources.files("telemetry_csv")
        .joinpath("templates/telemetry-readme.md")
        .read_text(encoding="utf-8")
    )


def initialise(log_path: Path, *, lock_timeout: float, create_log: bool = True) -> list[Action]:
    """Create what is missing around `log_path`; report every file as created or kept. The log
    is created under its lock, waiting at most `lock_timeout` seconds for it; in the team
    layout (`create_log=False`) there is no log file to create, `log` starts shards as needed,
    and a log file already there is kept (and still read)."""
    writing.require_log_path(log_path)
    folder = log_path.parent
    ignore = folder / ".gitignore"
    had_ignore = ignore.exists()
    writing.ensure_folder(folder, log_path)
    actions = [Action(ignore, "kept" if had_ignore else "created")]
    if create_log:
        created = writing.create_log(log_path, lock_timeout=lock_timeout)
        actions.append(Action(log_path, "created" if created else "kept"))
    elif writing.current_size(log_path) is not None:
        actions.append(Action(log_path, "kept"))
    readme = folder / "README.md"
    if readme.exists():
        actions.append(Action(readme, "kept"))
    else:
        _write_new(readme, readme_text())
        actions.append(Action(readme, "created"))
    return actions


def _write_new(path: Path, text: str) -> None:
    fs.create_whole(path, text.encode("utf-8"))
