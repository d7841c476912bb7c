"""Asking git about a repository: the one place that runs the `git` executable.

A revision is anything `git rev-parse` accepts; `INDEX` stands for the staging area, so
`read_blob(INDEX, path)` is what `git commit` would store for `path` now. Paths are relative to
the repository's top level, with `/` separators, as git prints them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from telemetry_csv.errors import EXIT_FILE, TelemetryError

INDEX = ""  # `:path` names a path in the index, as `HEAD:path` names it in HEAD


class GitError(TelemetryError):
    """git is missing, this is not a repository, or git refused what was asked."""

    exit_code = EXIT_FILE


def run(args: Sequence[str], cwd: Path | str | None = None, *, check: bool = True) -> bytes:
    """git's standard output; raises GitError with git's own first line of complaint."""
    done = _git(args, cwd)
    if check and done.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {_first_line(done.stderr)}")
    return done.stdout


def toplevel(cwd: Path | str | None = None) -> Path:
    """The top folder of the work tree that holds `cwd`."""
    done = _git(["rev-parse", "--show-toplevel"], cwd)
    if done.returncode != 0:
        raise GitError(f"not inside a git repository: {_first_line(done.stderr)}")
    return Path(os.fsdecode(done.stdout.rstrip(b"\n")))


def is_repository(cwd: Path | str | None = None) -> bool:
    try:
        toplevel(cwd)
    except GitError:
        return False
    return True


def commit_id(revision: str, cwd: Path | str | None = None) -> str | None:
    """The commit a revision names, or None if there is none (an unborn HEAD, a typo)."""
    out = run(["rev-parse", "-q", "--verify", f"{revision}^{{commit}}"], cwd, check=False)
    return out.decode().strip() or None


def require_commit(revision: str, cwd: Path | str | None = None) -> str:
    found = commit_id(revision, cwd)
    if found is None:
        raise GitError(
            f"{revision!r} is not a commit in this repository (with a shallow clone, fetch "
            "more history: `git fetch --unshallow` or `fetch-depth: 0` in GitHub Actions)"
        )
    return found


def merge_base(first: str, second: str, cwd: Path | str | None = None) -> str | None:
    out = run(["merge-base", first, second], cwd, check=False)
    return out.decode().strip() or None


def list_files(revision: str, folder: str, cwd: Path | str | None = None) -> list[str]:
    """The paths of the files directly in `folder` ("" or "." for the top level) at a revision."""
    folder = "" if folder in ("", ".") else folder.strip("/")
    # Without -r, ls-tree lists one level: the entries of `folder/`, or of the top level when
    # no path is given (an empty pathspec is an error).
    args = ["ls-tree", "-z", "--full-tree", revision, *(["--", f"{folder}/"] if folder else [])]
    files = []
    for entry in run(args, cwd).split(b"\0"):
        info, _, name = entry.partition(b"\t")
        if info.split(b" ")[1:2] == [b"blob"]:
            files.append(os.fsdecode(name))
    return files


def changed_files(
    old: str, new: str, pathspecs: Sequence[str], cwd: Path | str | None = None
) -> list[tuple[str, str]]:
    """(status, path) of each file matching `pathspecs` that differs between the revision `old`
    and `new` (a revision, or INDEX): A added, D deleted, M modified, T type changed, U unmerged.
    Renames are not paired up: a renamed file is a D and an A."""
    if new == INDEX:
        args = ["diff-index", "--cached", "--no-renames", "--name-status", "-z", old]
    else:
        args = ["diff-tree", "-r", "--no-renames", "--name-status", "-z", old, new]
    fields = run([*args, "--", *pathspecs], cwd).split(b"\0")
    return [
        (fields[index].decode(), os.fsdecode(fields[index + 1]))
        for index in range(0, len(fields) - 1, 2)
    ]


def read_blob(revision: str, path: str, cwd: Path | str | None = None) -> bytes | None:
    """A file's content at a revision (or in the index), or None if it is not there."""
    done = _git(["cat-file", "blob", f"{revision}:{path}"], cwd)
    if done.returncode != 0:
        if revision != INDEX and commit_id(revision, cwd) is None:
            raise GitError(f"{revision!r} is not a commit in this repository")
        return None
    return done.stdout


def write_blob(revision: str, path: str, destination: Path, cwd: Path | str | None = None) -> bool:
    """Stream a file's content at a revision into `destination`; False if it is not there."""
    with open(destination, "wb") as out:
        done = _git(["cat-file", "blob", f"{revision}:{path}"], cwd, stdout=out)
    return done.returncode == 0


def config_get(key: str, cwd: Path | str | None = None) -> str | None:
    out = run(["config", "--local", "--get", key], cwd, check=False)
    return out.decode().rstrip("\n") or None


def config_set(key: str, value: str, cwd: Path | str | None = None) -> None:
    run(["config", "--local", key, value], cwd)


def relative_path(path: Path, root: Path) -> str | None:
    """`path` as git names it (relative to the top level, `/` separators), or None if outside."""
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        return None
    return relative.as_posix()


def _git(
    args: Sequence[str], cwd: Path | str | None, *, stdout: IO[bytes] | None = None
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            stdout=subprocess.PIPE if stdout is None else stdout,
            stderr=subprocess.PIPE,
            check=False,
            env=_environment(),
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None


def _environment() -> dict[str, str]:
    # Paths as bytes, unquoted, whatever the user's core.quotePath; messages in English so
    # they read the same in every error this package prints.
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def _first_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines()]
    return next((line for line in lines if line), "failed with no message")
