"""Setting git up for the log: the .gitattributes lines and the merge driver's config.

In the team layout (docs/teams.md) shards never conflict and need no driver: their line in
`.gitattributes` only keeps LF line endings. The log file itself (`usage.csv`), which the single
layout and older versions of telemetry-csv append to, is marked `merge=telemetry-csv`.
`.gitattributes` is committed, so one `telemetry-csv init` sets it up for everyone; the merge
driver's command lives in `.git/config`, which is not committed: each clone registers it with
`telemetry-csv init --git`. Until it does, git falls back to its usual line merge.

The registered command never fails silently: when the driver cannot run at all (not on PATH,
a virtual environment since deleted: exit status 126 or more), git's own line merge runs
instead (`git merge-file`), which leaves conflict markers, rather than git keeping our side
without a word and losing the other side's rows.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from telemetry_csv import fs
from telemetry_csv.errors import LogFileError
from telemetry_csv.git import plumbing
from telemetry_csv.logfile.layout import shard_folder

DRIVER = "telemetry-csv"
DRIVER_NAME = "telemetry-csv: keep every row of both sides"
ATTRIBUTES_LIMIT = 1 << 20  # a .gitattributes larger than this is a mistake, not read
ATTRIBUTES_COMMENT = (
    "# telemetry-csv: merge logs row by row (no conflicts) and keep LF line endings everywhere"
)


@dataclass(frozen=True)
class Step:
    done: str  # "created", "updated", "kept", "added", "skipped"
    what: str  # the file or setting, as the user would name it
    detail: str = ""


def attributes_lines(log_path: Path, root: Path) -> list[str]:
    """The .gitattributes lines for the log, its backups and its shard folder; none for a log
    outside the repository.

    In a folder of its own, one line for every CSV file there (`.telemetry/*.csv`: a slash in
    the middle anchors a pattern to the top level, and `*` never matches a `/`, so the shard
    folder is not included). At the top level, where other CSV files live, only the log and its
    backups, anchored by a leading slash: `*.csv` would match every CSV file in the repository.
    The shard folder's files merge as any file does: a shard is only ever added whole.
    """
    folder = plumbing.relative_path(log_path.parent, root)
    if folder is None:
        return []
    if folder in ("", "."):
        patterns = [f"/{_literal(log_path.name)}", f"/{_literal(log_path.stem)}-*.csv"]
        shards = f"/{_literal(shard_folder(log_path).name)}/*"
    else:
        patterns = [f"{_literal(folder)}/*.csv"]
        shards = f"{_literal(folder)}/{_literal(shard_folder(log_path).name)}/*"
    return [f"{pattern} merge={DRIVER} text eol=lf" for pattern in patterns] + [
        f"{shards} text eol=lf"
    ]


def _literal(name: str) -> str:
    # gitattributes splits on whitespace and reads *, ? and [ as wildcards; a bracket
    # expression holding one character matches just that character.
    return "".join(f"[{char}]" if char in " *?[" else char for char in name)


def ensure_attributes(root: Path, lines: list[str]) -> Step:
    """Add each of `lines` to the root .gitattributes unless it is there; never rewrite what
    is there."""
    path = root / ".gitattributes"
    try:
        # A link is refused, not followed: lines are added to this file.
        data = fs.read_bounded(path, ATTRIBUTES_LIMIT)
        existing = None if data is None else data.decode("utf-8")
    except fs.LinkError as error:
        raise LogFileError(
            f"{error}; nothing was written: telemetry-csv adds lines to this file, so it must "
            "be a regular file"
        ) from None
    except UnicodeDecodeError as error:
        raise LogFileError(f"cannot read {path}: {error}") from None
    present = {text.strip() for text in (existing or "").splitlines()}
    missing = [line for line in lines if line not in present]
    if not missing:
        return Step("kept", ".gitattributes")
    addition = "".join(f"{line}\n" for line in (ATTRIBUTES_COMMENT, *missing))
    if existing and not existing.endswith("\n"):
        addition = "\n" + addition
    if existing is None:
        if not fs.create_whole(path, addition.encode("utf-8")):
            fs.append(path, addition.encode("utf-8"))  # created meanwhile: add to it
    else:
        fs.append(path, addition.encode("utf-8"))
    return Step("created" if existing is None else "updated", ".gitattributes", "; ".join(missing))


def driver_command() -> str:
    """How git should run the driver (through `sh -c`, with %O %A %B %P quoted by git): by name
    when this installation is the one on PATH, else through this interpreter, so it works from
    a virtual environment that is not activated; either way falling back to git's line merge,
    with conflict markers, when it cannot run (exit status 126 or more; the driver's own
    statuses are 0, merged, and 1, left as a conflict with markers)."""
    found = shutil.which("telemetry-csv")
    here = Path(sys.executable).parent.resolve()
    if found is not None and Path(found).resolve().parent == here:
        driver = f"{DRIVER} merge-driver %O %A %B %P"
    else:
        driver = f"{shlex.quote(sys.executable)} -m telemetry_csv merge-driver %O %A %B %P"
    return (
        f"{driver} || {{ status=$?; [ $status -lt 126 ] && exit $status; "
        'echo "telemetry-csv merge driver could not run (exit status $status); '
        'git merge-file marks the conflicts in %P" >&2; '
        "git merge-file -L ours -L base -L theirs %A %O %B; }"
    )


def register_driver(root: Path) -> Step:
    """Set merge.telemetry-csv.name and .driver in the repository's own git config."""
    command = driver_command()
    settings = {f"merge.{DRIVER}.name": DRIVER_NAME, f"merge.{DRIVER}.driver": command}
    if all(plumbing.config_get(key, root) == value for key, value in settings.items()):
        return Step("kept", "merge driver in .git/config", command)
    for key, value in settings.items():
        plumbing.config_set(key, value, root)
    return Step("added", "merge driver to .git/config", command)


def set_up_git(log_path: Path, root: Path, *, only_git: bool = False) -> list[Step]:
    """The .gitattributes lines, and inside a git repository the driver's registration.

    With `only_git` (`init --git`, for a fresh clone) there is nothing to do outside a
    repository: GitError, before anything is written.
    """
    if only_git and not plumbing.is_repository(root):
        raise plumbing.GitError(
            "not inside a git repository, so there is no git config to register the merge "
            "driver in; run `git init` first"
        )
    lines = attributes_lines(log_path, root)
    if not lines:
        steps = [Step("skipped", ".gitattributes", f"the log is outside {root}")]
    else:
        steps = [ensure_attributes(root, lines)]
    if plumbing.is_repository(root):
        steps.append(register_driver(plumbing.toplevel(root)))
    else:
        steps.append(
            Step(
                "skipped",
                "merge driver",
                "not a git repository; run `telemetry-csv init --git` after `git init`",
            )
        )
    return steps
