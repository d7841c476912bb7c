"""Asking git about a repository: the one place that runs the `git` executable.

A revision is anything `git rev-parse` accepts; `INDEX` stands for the staging area, so
`read_blob(INDEX, path)` is what `git commit` would store for `path` now. Paths are relative to
the repository's top level, with `/` separators, as git prints them.

A revision a user gives (`--from-ref`, `report --range`) is resolved to a commit id first, and
only the id is passed on: a name that starts with `-` would be read as an option
(`--fork-point`), so it is refused, and `--end-of-options` keeps git from reading one anyway.
Many objects are read through one `git cat-file --batch` process (`BlobReader`), never one
process per file.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, NamedTuple

from telemetry_csv.errors import EXIT_FILE, TelemetryError

INDEX = ""  # `:path` names a path in the index, as `HEAD:path` names it in HEAD
_OID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


class GitError(TelemetryError):
    """git is missing, this is not a repository, or git refused what was asked."""

    exit_code = EXIT_FILE


def run(
    args: Sequence[str],
    cwd: Path | str | None = None,
    *,
    check: bool = True,
    input: bytes | None = None,
) -> bytes:
    """git's standard output; raises GitError with git's own first line of complaint."""
    done = _git(args, cwd, input=input)
    if check and done.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {_first_line(done.stderr)}")
    return done.stdout


def toplevel(cwd: Path | str | None = None) -> Path:
    """The top folder of the work tree that holds `cwd`."""
    done = _git(["rev-parse", "--show-toplevel"], cwd)
    if done.returncode != 0:
        raise GitError(f"not inside a git repository: {_first_line(done.stderr)}")
    return Path(os.fsdecode(done.stdout.rstrip(b"\n")))


class WorkTree(NamedTuple):
    root: Path  # the top folder
    git_dir: Path  # its own git folder (in a linked worktree, not the shared one)
    head: str | None  # HEAD's commit id; None before the first commit


def work_tree(cwd: Path | str | None = None) -> WorkTree:
    """`toplevel`, `git_dir` and `commit_id("HEAD")` of the work tree that holds `cwd`, in one
    git call (a hook runs at every commit, and each process costs it)."""
    done = _git(
        [
            "rev-parse",
            "--show-toplevel",
            "--absolute-git-dir",
            "-q",
            "--verify",
            "--end-of-options",
            "HEAD^{commit}",
        ],
        cwd,
    )
    lines = os.fsdecode(done.stdout).split("\n")
    # Two paths and the id (exit 0) or no id (exit 1: no commit yet), each on its line; a path
    # with a line break in it is asked for on its own.
    shapes = {0: 4, 1: 3}
    if shapes.get(done.returncode) != len(lines) or lines[-1] or not all(lines[:2]):
        return WorkTree(toplevel(cwd), git_dir(cwd), commit_id("HEAD", cwd))
    head = lines[2] if done.returncode == 0 else None
    if head is not None and not _OID.fullmatch(head):
        return WorkTree(toplevel(cwd), git_dir(cwd), commit_id("HEAD", cwd))
    return WorkTree(Path(lines[0]), Path(lines[1]), head)


def git_dir(cwd: Path | str | None = None) -> Path:
    """The git folder of the work tree that holds `cwd` (its own, in a linked worktree)."""
    return Path(os.fsdecode(run(["rev-parse", "--absolute-git-dir"], cwd).rstrip(b"\n")))


def is_repository(cwd: Path | str | None = None) -> bool:
    try:
        toplevel(cwd)
    except GitError:
        return False
    return True


def is_oid(text: str) -> bool:
    """True for a full object id (SHA-1 or SHA-256), as git prints them."""
    return _OID.fullmatch(text) is not None


def commit_id(revision: str, cwd: Path | str | None = None) -> str | None:
    """The commit a revision names, or None if there is none (an unborn HEAD, a typo, a name
    that starts with `-` and would be an option)."""
    if not revision or revision.startswith("-") or any(c in revision for c in "\0\n\r"):
        return None
    args = ["rev-parse", "-q", "--verify", "--end-of-options", f"{revision}^{{commit}}"]
    found = run(args, cwd, check=False).decode().strip()
    return found if _OID.fullmatch(found) else None


def require_commit(revision: str, cwd: Path | str | None = None) -> str:
    """The id of the commit `revision` names; GitError for anything else."""
    found = commit_id(revision, cwd)
    if found is None:
        if revision.startswith("-"):
            raise GitError(
                f"{revision!r} is not a commit: a revision never starts with '-' (it would be "
                "read as an option); give a branch, a tag or a commit id"
            )
        raise GitError(
            f"{revision!r} is not a commit in this repository (with a shallow clone, fetch "
            "more history: `git fetch --unshallow` or `fetch-depth: 0` in GitHub Actions)"
        )
    return found


def merge_base(first: str, second: str, cwd: Path | str | None = None) -> str | None:
    """The best common ancestor of two commit ids (resolve names with `require_commit`)."""
    if not (_OID.fullmatch(first) and _OID.fullmatch(second)):
        raise ValueError("merge_base takes commit ids")
    out = run(["merge-base", "--end-of-options", first, second], cwd, check=False)
    return out.decode().strip() or None


def parents(commit: str, cwd: Path | str | None = None) -> list[str]:
    """The parents of a commit id, first parent first."""
    out = run(["rev-list", "--parents", "-n", "1", "--end-of-options", commit], cwd)
    return out.decode().split()[1:]


def merges_between(start: str, end: str, cwd: Path | str | None = None) -> list[str]:
    """The merge commits reachable from `end` but not from `start` (commit ids), oldest first."""
    out = run(["rev-list", "--merges", "--reverse", "--end-of-options", f"{start}..{end}"], cwd)
    return out.decode().split()


def commits_between(start: str, end: str, cwd: Path | str | None = None) -> list[str]:
    """Every commit reachable from `end` but not from `start` (commit ids), oldest first."""
    out = run(["rev-list", "--reverse", "--end-of-options", f"{start}..{end}"], cwd)
    return out.decode().split()


def tree_entries(
    revision: str, folders: Sequence[str], cwd: Path | str | None = None
) -> list[tuple[str, str, int, bool]]:
    """(path, object id, size, whether it is a symbolic link) of each file directly in each of
    `folders` ("" for the top level) at a revision, or in the index (INDEX; size -1 there: the
    index does not say). A link's blob is the path it points at, never that file's bytes."""
    wanted = ["" if folder in ("", ".") else folder.strip("/") for folder in folders]
    specs = [f"{folder}/" if folder else "." for folder in wanted]
    if revision == INDEX:
        out = run(["ls-files", "-s", "-z", "--full-name", "--", *specs], cwd)
    else:
        out = run(["ls-tree", "-z", "-l", "--full-tree", revision, "--", *specs], cwd)
    found = []
    for entry in out.split(b"\0"):
        info, _, name = entry.partition(b"\t")
        fields = info.split()
        if not name:
            continue
        path = os.fsdecode(name)
        if posix_folder(path) not in wanted:
            continue  # ls-files matches a folder's files at every depth
        if revision == INDEX:
            if len(fields) == 3 and fields[2] == b"0":  # stage 0: not an unmerged path
                found.append((path, fields[1].decode(), -1, fields[0] == _LINK_MODE))
        elif len(fields) == 4 and fields[1] == b"blob":
            found.append((path, fields[2].decode(), int(fields[3]), fields[0] == _LINK_MODE))
    return found


_LINK_MODE = b"120000"  # git's mode of a symbolic link


def posix_folder(path: str) -> str:
    return path.rpartition("/")[0]


def object_sizes(
    names: Sequence[str], cwd: Path | str | None = None
) -> list[tuple[str, int] | None]:
    """(object id, size) of each object name (`REV:PATH`, `:PATH`, an id), None where there is
    none, through one `git cat-file --batch-check`."""
    usable = [name for name in names if "\n" not in name]
    out = run(["cat-file", "--batch-check"], cwd, input="".join(f"{n}\n" for n in usable).encode())
    answers = iter(out.decode("utf-8", "replace").splitlines())
    found: list[tuple[str, int] | None] = []
    for name in names:
        if "\n" in name:
            found.append(None)
            continue
        fields = next(answers, "").split()
        ok = len(fields) == 3 and _OID.fullmatch(fields[0]) and fields[1] == "blob"
        found.append((fields[0], int(fields[2])) if ok else None)
    return found


class BlobReader:
    """Many files' contents through one `git cat-file --batch` process:
    `with BlobReader(root) as blobs: blobs.read("HEAD:path")`."""

    def __init__(self, cwd: Path | str | None = None, *, limit: int = 1 << 30):
        self.limit = limit  # a larger blob is refused rather than held in memory
        try:
            self.process = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=cwd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=_environment(),
            )
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH") from None

    def read(self, name: str) -> bytes | None:
        """The blob an object name (`REV:PATH`, `:PATH`, an id) names; None if there is none."""
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        if "\n" in name:
            return None
        stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
        stdin.flush()
        header = stdout.readline()
        fields = header.split()
        if len(fields) != 3 or not _OID.fullmatch(fields[0].decode("ascii", "replace")):
            if not header:
                raise GitError("git cat-file --batch stopped unexpectedly")
            return None  # "NAME missing", "NAME ambiguous"
        size = int(fields[2])
        if size > self.limit:
            raise GitError(
                f"{name} is {size:,} bytes, far more than a log file may hold; "
                "run `telemetry-csv check` on it"
            )
        data = stdout.read(size)
        stdout.read(1)  # the newline after each object
        return data if fields[1] == b"blob" else None

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process.wait()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


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


def grep_lines(
    revision: str, strings: Sequence[str], paths: Sequence[str], cwd: Path | str | None = None
) -> list[tuple[str, int, bytes]]:
    """(path, line number, line) of each line of `paths` at a commit that holds any of
    `strings` (letters, digits and `._:-`), as `git grep` finds them, in C, without this process
    reading the files. The strings are asked for as one extended regular expression (an
    alternation): git matches many `--fixed-strings` one after another, which takes minutes
    for a few hundred over a large file."""
    if not strings or not paths:
        return []
    if any(not _GREPPABLE.fullmatch(text) for text in strings):
        raise ValueError("grep_lines takes letters, digits and ._:- only")
    pattern = "|".join(text.replace(".", "\\.") for text in strings) + "\n"
    args = ["grep", "-E", "-z", "-n", "--no-color", "--text", "-f", "-", revision, "--"]
    done = _git([*args, *(f":(top,literal){path}" for path in paths)], cwd, input=pattern.encode())
    if done.returncode not in (0, 1):
        raise GitError(f"git grep: {_first_line(done.stderr)}")
    prefix = f"{revision}:".encode()
    found = []
    for record in done.stdout.split(b"\n"):
        parts = record.split(b"\0", 2)
        if len(parts) == 3 and parts[0].startswith(prefix):
            found.append((os.fsdecode(parts[0][len(prefix) :]), int(parts[1]), parts[2]))
    return found


_GREPPABLE = re.compile(r"[A-Za-z0-9._:-]+")


def blob_id(data: bytes | memoryview, like: str) -> str:
    """The object id git gives a blob of `data`, in the hash of the id `like` (SHA-1 or
    SHA-256), so that a blob's prefix can be compared with another blob by its id alone."""
    return blob_id_of_parts([data], len(data), like)


def blob_id_of_parts(parts: Iterable[bytes | memoryview], size: int, like: str) -> str:
    """`blob_id` of the concatenation of `parts`, which hold `size` bytes in all: a large
    file's prefix is hashed as it is read, never held whole."""
    import hashlib

    digest = hashlib.sha256() if len(like) == 64 else hashlib.sha1(usedforsecurity=False)
    digest.update(b"blob %d\0" % size)
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def blob_ids_of_starts(
    parts: Iterable[bytes], sizes: Sequence[int], like: str
) -> dict[int, str] | None:
    """`blob_id` of the first `size` bytes of the concatenation of `parts`, for each of
    `sizes`, hashed in one pass as the parts are read; None if `parts` end before the largest."""
    import hashlib

    digests = []
    for size in sorted(set(sizes)):
        digest = hashlib.sha256() if len(like) == 64 else hashlib.sha1(usedforsecurity=False)
        digest.update(b"blob %d\0" % size)
        digests.append((size, digest))
    position = 0
    for part in parts:
        view = memoryview(part)
        for size, digest in digests:
            if position < size:
                digest.update(view[: size - position])
        position += len(part)
    if position < max(sizes, default=0):
        return None
    return {size: digest.hexdigest() for size, digest in digests}


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
    """`path` as git names it (relative to the top level, `/` separators), or None if outside.
    Its folders are resolved, its last part is not: git names a link itself, so a log that is a
    link is the link (which the readers refuse), never the file it points at."""
    absolute = path.absolute()
    top = root.resolve()
    if absolute.name in ("", ".", ".."):
        found = absolute.resolve()
    else:
        found = absolute.parent.resolve() / absolute.name
    try:
        relative = found.relative_to(top)
    except ValueError:
        return None
    return relative.as_posix()


def _git(
    args: Sequence[str],
    cwd: Path | str | None,
    *,
    stdout: IO[bytes] | None = None,
    input: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=input,
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
