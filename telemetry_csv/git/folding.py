"""`telemetry-csv fold`: many committed shards into a few folds, on the default branch only.

Shards pile up, one or more per branch and commit. Folding combines them (folds.py: the fold,
and its manifest naming each shard, its row count and content hash) in a commit of its own on
the default branch, so that it cannot conflict with an open pull request:

- only shards HEAD has, unchanged in the work tree, are folded: every open branch has them as
  they are, so git merges their deletion cleanly, and the branch's own new shards are files the
  fold never touches;
- the fold's name is derived from exactly what it holds: two clones folding the same shards
  write identical files, and ones folding different sets write different files, which readers
  reconcile by shard (a shard's rows count once, wherever they are);
- a loose shard that a fold already holds (a merge brought it back) is deleted;
- shards of both header shapes fold into a fold with the extended header (folds.py);
- the commit is made with git's own `git commit`, so the hooks check it too (append-only accepts
  a fold whose manifest is true, and no other deletion).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from telemetry_csv import fs
from telemetry_csv.config import Settings
from telemetry_csv.errors import EXIT_USAGE, LogFileError, TelemetryError
from telemetry_csv.git import plumbing
from telemetry_csv.git.logsets import Reader, log_set_at
from telemetry_csv.logfile import folds, layout
from telemetry_csv.logfile.reading import Problem, scan_data
from telemetry_csv.logfile.writing import locked


class FoldRefused(TelemetryError):
    """`fold` was asked where it must not fold; nothing was changed."""

    exit_code = EXIT_USAGE


@dataclass
class FoldResult:
    folds: list[Path] = field(default_factory=list)  # the folds written
    folded: int = 0  # shards folded into them
    rows: int = 0
    dropped: list[str] = field(default_factory=list)  # loose copies of shards folds already held
    skipped: list[str] = field(default_factory=list)  # shards left loose: "NAME: why"
    commit: str | None = None  # the commit made, if one was


def default_branch(root: Path) -> str | None:
    """The branch pull requests merge into: the remote's HEAD (origin/HEAD) if the clone knows
    it, else `init.defaultBranch`, else main or master, whichever exists."""
    out = plumbing.run(["symbolic-ref", "-q", "refs/remotes/origin/HEAD"], root, check=False)
    ref = out.decode().strip()
    if ref.startswith("refs/remotes/origin/"):
        return ref[len("refs/remotes/origin/") :]
    configured = plumbing.run(["config", "--get", "init.defaultBranch"], root, check=False)
    if configured.strip():
        return configured.decode().strip()
    for name in ("main", "master"):
        if plumbing.commit_id(f"refs/heads/{name}", root):
            return name
    return None


def fold(settings: Settings, root: Path, *, commit: bool = True) -> FoldResult:
    """Fold the committed shards of the configured log (see the module docstring)."""
    _require_plain_rules(root, settings.shard_folder)  # before any git command reads them
    _require_default_branch(root)
    if (plumbing.git_dir(root) / "MERGE_HEAD").exists():
        raise FoldRefused("a merge is in progress; finish it (or abort it) first")
    staged = plumbing.run(["diff", "--cached", "--name-only", "-z"], root)
    if staged.strip(b"\0"):
        first = os.fsdecode(staged.split(b"\0")[0])
        raise FoldRefused(
            f"something is staged already ({first}); a fold goes in a commit of its own: "
            "commit or unstage it first"
        )
    head = plumbing.require_commit("HEAD", root)
    result = FoldResult()
    folder = settings.shard_folder
    layout.require_shard_folder(folder)  # a link there is refused: folds are written in it
    with locked(settings.log_path, settings.lock_timeout), plumbing.BlobReader(root) as blobs:
        reader = Reader(blobs, settings.schema)
        logs = log_set_at(head, "HEAD", settings, root)
        held: dict[str, str] = {}
        for name in logs.folds:
            for entry in reader.fold_entries(logs, name):
                held.setdefault(entry.shard, entry.sha256)
        chosen: list[tuple[str, bytes]] = []
        for name, oid in sorted(logs.shards.items()):
            data = _unchanged(folder / name, reader.blob(oid))
            if data is None:
                result.skipped.append(f"{name}: changed in the work tree since it was committed")
            elif name in held:
                if held[name] == folds.shard_hash(data):
                    result.dropped.append(name)
                else:
                    result.skipped.append(f"{name}: differs from its copy in a fold; check it")
            else:
                problem = _first_problem(data, settings, name)
                if problem is None:
                    chosen.append((name, data))
                else:
                    result.skipped.append(f"{name}: {problem}")
        chosen = _fitting(chosen, settings, result)
        contents = dict(chosen)
        written: list[Path] = []
        for group in folds.plan(chosen, settings.max_bytes):
            made = folds.build([(name, contents[name]) for name in group])
            # The manifest first: a reader that lists the fold always finds it beside it.
            for name, data in ((made.manifest_name, made.manifest), (made.name, made.data)):
                path = folder / name
                if not fs.create_whole(path, data) and _read(path, len(data)) != data:
                    raise FoldRefused(f"{path} exists with other content; check it")
                written.append(path)
            result.folds.append(folder / made.name)
            result.folded += len(made.entries)
            result.rows += sum(entry.rows for entry in made.entries)
        gone = [name for name, _ in chosen] + result.dropped
        if not written and not gone:
            return result
        if written:
            plumbing.run(["add", "--", *[str(path) for path in written]], root)
        if gone:
            plumbing.run(["rm", "-q", "--", *[str(folder / name) for name in gone]], root)
    if commit:
        result.commit = _commit(root, result)
    return result


def _require_plain_rules(root: Path, folder: Path) -> None:
    """Refuse a FIFO, a device or a folder at a `.gitattributes` or `.gitignore` that `git add`
    and `git rm` read for the shard folder's files: git would wait on a FIFO forever (it does
    not follow a link there, since git 2.32)."""
    import stat

    try:
        inner = folder.relative_to(root).parts
    except ValueError:
        inner = ()
    for depth in range(len(inner) + 1):
        for name in (".gitattributes", ".gitignore"):
            path = root.joinpath(*inner[:depth], name)
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                continue
            if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
                raise LogFileError(
                    f"{path} is {fs.kind(mode)}, not a file of rules: git would wait on it or "
                    "fail; nothing was folded. Remove it, or replace it by a regular file"
                )


def _require_default_branch(root: Path) -> None:
    branch = plumbing.run(["symbolic-ref", "-q", "--short", "HEAD"], root, check=False)
    current = branch.decode().strip()
    default = default_branch(root)
    if default is None:
        raise FoldRefused(
            "cannot tell the default branch (no origin/HEAD, no init.defaultBranch, no main "
            "or master); fold only on the branch pull requests merge into"
        )
    if current != default:
        raise FoldRefused(
            f"fold runs only on the default branch ({default}), not on "
            f"{current or 'a detached HEAD'}: a fold on a pull request's branch could fold "
            f"shards differently from {default}; switch to {default} (after merging) and fold "
            "there"
        )


def _unchanged(path: Path, committed: bytes) -> bytes | None:
    """The shard's bytes if the work tree has it exactly as committed, else None."""
    data = _read(path, len(committed))
    return data if data == committed else None


def _read(path: Path, limit: int) -> bytes | None:
    """The file's bytes; None when it is missing, a link, not a regular file or larger than
    `limit` (then it is not the file expected anyway)."""
    try:
        return fs.read_bounded(path, limit)
    except LogFileError:
        return None


def _fitting(
    chosen: list[tuple[str, bytes]], settings: Settings, result: FoldResult
) -> list[tuple[str, bytes]]:
    """The shards that fit in a fold of at most max_bytes: with a shard of the extended header
    among them, the folds get that header, and the rows of 8-column shards grow by their four
    empty fields (folds.py), which may take a full shard over the limit; it stays loose."""
    if not any(folds.is_extended(data) for _, data in chosen):
        return chosen
    fitting = []
    for name, data in chosen:
        if folds.size_in_fold(data, extended=True) > settings.max_bytes:
            result.skipped.append(f"{name}: larger than max_bytes in the extended header's shape")
        else:
            fitting.append((name, data))
    return fitting


def _first_problem(data: bytes, settings: Settings, name: str) -> str | None:
    """Why a shard cannot be folded as it is (a fold keeps its rows' values, and their bytes in
    its own shape), or None."""
    if len(data) > settings.max_bytes:
        return "larger than max_bytes"
    for item in scan_data(data, settings.schema, name, rows=False):
        if isinstance(item, Problem):
            return f"line {item.line}: {item.message}; run `telemetry-csv check`"
    return None


def _commit(root: Path, result: FoldResult) -> str:
    """`git commit` of what was staged, with its hooks, their output shown as it comes."""
    message = f"telemetry-csv fold: {result.folded} shard(s) into {len(result.folds)} fold(s)"
    if result.dropped:
        message += f", {len(result.dropped)} folded copies removed"
    done = subprocess.run(["git", "commit", "-q", "-m", message], cwd=root, check=False)
    if done.returncode != 0:
        raise plumbing.GitError(
            "git commit failed (its hooks say why, above); the fold is staged, in a commit of "
            "its own: see to what the hooks said, then run `git commit`"
        )
    return plumbing.require_commit("HEAD", root)
