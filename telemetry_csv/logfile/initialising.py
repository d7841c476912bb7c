"""`init`: put a log, its README and its .gitignore in place, without overwriting anything."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from telemetry_csv import fs
from telemetry_csv.logfile import writing

# The URL and the tag are placeholders until the project is published and tagged: the owner
# fills them in then (docs/adopt.md). Every stage the hooks run at is installed.
PRE_COMMIT_SNIPPET = """\
default_install_hook_types: [pre-commit, pre-merge-commit, pre-push, post-commit]
repos:
  - repo: https://github.com/telemetry-csv/telemetry-csv  # placeholder: not published yet
    rev: v0.1.0  # placeholder: no release tag yet; a commit id works too
    hooks:
      - id: telemetry-csv-fmt
      - id: telemetry-csv-check
      - id: telemetry-csv-append-only
      - id: telemetry-csv-import  # optional: coding agents' usage, after each commit"""

# What the README of the shell scripts' era tells to run; the template never names them.
_SCRIPT_ERA = ("log-telemetry.sh", "telemetry-report.sh")


@dataclass(frozen=True)
class Action:
    path: Path
    done: str  # "created", "kept" or "replaced"
    note: str = ""  # what the user may want to know about it


def readme_note(text: str) -> str:
    """Why a README kept in the log's folder may want replacing, or nothing."""
    if text == readme_text():
        return ""
    if any(script in text for script in _SCRIPT_ERA) and "telemetry-csv" not in text:
        return (
            "it is from the shell scripts' era (it tells to run log-telemetry.sh); a newer one "
            "comes with telemetry-csv: `telemetry-csv init --update-readme` replaces it, and "
            "git diff shows what changed"
        )
    return ""


def readme_text() -> str:
    return (
        resources.files("telemetry_csv")
        .joinpath("templates/telemetry-readme.md")
        .read_text(encoding="utf-8")
    )


def initialise(
    log_path: Path, *, lock_timeout: float, create_log: bool = True, update_readme: bool = False
) -> list[Action]:
    """Create what is missing around `log_path`; report every file as created or kept. The log
    is created under its lock, waiting at most `lock_timeout` seconds for it; in the team
    layout (`create_log=False`) there is no log file to create, `log` starts shards as needed,
    and a log file already there is kept (and still read). With `update_readme`, a README that
    differs from the current template is replaced by it (the folder is committed: git has the
    old one)."""
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
        text = readme.read_text(encoding="utf-8", errors="replace")
        if update_readme and text != readme_text():
            fs.replace(readme, readme_text().encode("utf-8"), keep=readme.stat())
            actions.append(Action(readme, "replaced"))
        else:
            actions.append(Action(readme, "kept", readme_note(text)))
    else:
        _write_new(readme, readme_text())
        actions.append(Action(readme, "created"))
    return actions


def _write_new(path: Path, text: str) -> None:
    fs.create_whole(path, text.encode("utf-8"))
