"""Making git merge the log without conflicts: the .gitattributes line and the driver's config.

`.gitattributes` is committed, so one `telemetry-csv init` sets it up for everyone. The merge
driver's command lives in `.git/config`, which is not committed: every clone registers it once
with `telemetry-csv init --git`. Until it does, git falls back to its usual line merge.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from telemetry_csv import git
from telemetry_csv.errors import LogFileError

DRIVER = "telemetry-csv"
DRIVER_NAME = "telemetry-csv: keep every row of both sides"
ATTRIBUTES_COMMENT = (
    "# telemetry-csv: merge logs row by row (no conflicts) and keep LF line endings everywhere"
)


@dataclass(frozen=True)
class Step:
    done: str  # "created", "updated", "kept", "added", "skipped"
    what: str  # the file or setting, as the user would name it
    detail: str = ""


def attributes_line(log_path: Path, root: Path) -> str | None:
    """The .gitattributes line for the log's folder (every CSV file there, backups included),
    or None for a log outside the repository."""
    folder = git.relative_path(log_path.parent, root)
    if folder is None:
        return None
    pattern = "*.csv" if folder in ("", ".") else f"{folder}/*.csv"
    # gitattributes splits on whitespace; a bracket expression keeps a space in a folder name.
    return f"{pattern.replace(' ', '[ ]')} merge={DRIVER} text eol=lf"


def ensure_attributes(root: Path, line: str) -> Step:
    """Add `line` to the root .gitattributes unless it is there; never rewrite what is there."""
    path = root / ".gitattributes"
    try:
        existing = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        existing = None
    except (OSError, UnicodeDecodeError) as error:
        raise LogFileError(f"cannot read {path}: {error}") from None
    if existing is not None and line in (text.strip() for text in existing.splitlines()):
        return Step("kept", ".gitattributes")
    addition = f"{ATTRIBUTES_COMMENT}\n{line}\n"
    if existing and not existing.endswith("\n"):
        addition = "\n" + addition
    try:
        with open(path, "a", encoding="utf-8", newline="\n") as file:
            file.write(addition)
    except OSError as error:
        raise LogFileError(f"cannot write {path}: {error.strerror or error}") from None
    return Step("created" if existing is None else "updated", ".gitattributes", line)


def driver_command() -> str:
    """How git should run the driver: by name when this installation is the one on PATH, else
    through this interpreter, so it works from a virtual environment that is not activated."""
    found = shutil.which("telemetry-csv")
    here = Path(sys.executable).parent.resolve()
    if found is not None and Path(found).resolve().parent == here:
        return f"{DRIVER} merge-driver %O %A %B %P"
    return f"{shlex.quote(sys.executable)} -m telemetry_csv merge-driver %O %A %B %P"


def register_driver(root: Path) -> Step:
    """Set merge.telemetry-csv.name and .driver in the repository's own git config."""
    command = driver_command()
    settings = {f"merge.{DRIVER}.name": DRIVER_NAME, f"merge.{DRIVER}.driver": command}
    if all(git.config_get(key, root) == value for key, value in settings.items()):
        return Step("kept", "merge driver in .git/config", command)
    for key, value in settings.items():
        git.config_set(key, value, root)
    return Step("added", "merge driver to .git/config", command)


def set_up_git(log_path: Path, root: Path) -> list[Step]:
    """The .gitattributes line, and inside a git repository the driver's registration."""
    line = attributes_line(log_path, root)
    if line is None:
        steps = [Step("skipped", ".gitattributes", f"the log is outside {root}")]
    else:
        steps = [ensure_attributes(root, line)]
    if git.is_repository(root):
        steps.append(register_driver(git.toplevel(root)))
    else:
        steps.append(
            Step(
                "skipped",
                "merge driver",
                "not a git repository; run `telemetry-csv init --git` after `git init`",
            )
        )
    return steps
