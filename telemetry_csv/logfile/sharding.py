"""The team layout's writer: which shard `log` appends to, and when it starts a new one.

A shard (layout.py) is a small log of its own in the shard folder. Once git has a shard (staged
or committed), the shard never changes again: a cherry-pick, a squash merge or a rebase then
carries it as the same file with the same bytes, which git merges with itself cleanly. So,
under the log's lock, `append_row` appends to the current shard only while git cannot have it,
and otherwise starts a new one, named afresh (`layout.new_shard_name`). It starts a new shard:

- when there is no current shard, or it is gone from the work tree (a checkout removed it);
- when a git operation holds the index (`index.lock`): `git add` or `git commit -a` may be
  reading the work tree right now, and pre-commit stashes and restores tracked files while its
  hooks run, so a row appended then could be lost; a shard this very lock saw started is safe;
- when HEAD or the index changed since the shard was last confirmed untracked, and git now has
  it (one git call, `Repository.frozen`, made only then): the shard is frozen;
- when the row would take the shard past `max_bytes`, or the shard is damaged (`check` and
  `repair` deal with it; logging goes on).

Finding all that costs no git process in the steady state: the state file in the work tree's own
git folder (`<git-dir>/telemetry-csv/current`) remembers the shard, and HEAD and the index as
they were when it was confirmed; `Repository` (git/worktree.py) reads HEAD and the index's
status from the git folder directly.

A row may still have been appended between `git add` reading the shard and git writing the
index (git takes no lock of ours). When git's frozen copy is shorter than the work tree's and is
its exact start, the rows after it are moved to the new shard, under the lock, with the new row:
a journal `.move.FROM.SIZE.TO.tmp` is created first, then TO whole, then FROM is cut back to SIZE,
then the journal goes. Readers that see the journal and TO read FROM only up to SIZE
(snapshot.py), so no row is ever seen twice or missed; a crash in between is finished by the
next `log` (the state file names the move). No committed shard ever changes, and no row is lost,
duplicated or reordered.

Outside a git repository nothing is ever frozen: `log` appends to the newest shard while it fits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from telemetry_csv import fs
from telemetry_csv.errors import LogFileError
from telemetry_csv.logfile import layout
from telemetry_csv.logfile.writing import (
    HEADER_BYTES,
    AppendResult,
    current_size,
    ensure_folder,
    locked,
)

STATE_VERSION = "telemetry-csv shard state 1"


class Repository(Protocol):
    """What the writer needs to know of git (git/worktree.py reads it)."""

    def head(self) -> str | None:
        """HEAD's commit id; None before the first commit."""

    def index_signature(self) -> str:
        """Changes whenever git writes the index."""

    def index_lock(self) -> str | None:
        """Who holds the index (a signature of `index.lock`), or None when nobody does."""

    def state_path(self) -> Path:
        """Where this work tree's shard state lives (inside its git folder)."""

    def frozen(self, path: Path, head: str | None) -> tuple[str, int] | None:
        """(object id, size) of the copy of `path` git has: staged, else in HEAD; None if git
        has none. The one call that may run git."""


@dataclass(frozen=True)
class State:
    folder: str
    shard: str
    head: str  # "-" for none
    index: str
    lock: str  # the index.lock the shard was started under, or "-"
    move: str = "-"  # a move journal in progress, or "-"

    def text(self) -> str:
        return (
            f"{STATE_VERSION}\nfolder {self.folder}\nshard {self.shard}\nhead {self.head}\n"
            f"index {self.index}\nlock {self.lock}\nmove {self.move}\n"
        )


def append_row(
    log_path: Path,
    line: str,
    *,
    max_bytes: int,
    lock_timeout: float,
    repository: Repository | None,
) -> AppendResult:
    """Append one canonical line to the log's current shard (see the module docstring)."""
    data = (line + "\n").encode("utf-8")
    if len(HEADER_BYTES) + len(data) > max_bytes:
        raise LogFileError(
            f"the row is {len(data)} bytes, too long for a file of at most {max_bytes} bytes"
        )
    folder = layout.shard_folder(log_path)
    ensure_folder(log_path.parent, log_path, shards=True)
    with locked(log_path, lock_timeout):
        _make_folder(folder)
        if repository is None:
            return _append_outside_git(folder, line, data, max_bytes)
        return _Writer(folder, repository, max_bytes).append(line, data)


class _Writer:
    def __init__(self, folder: Path, repository: Repository, max_bytes: int):
        self.folder = folder
        self.repository = repository
        self.max_bytes = max_bytes
        self.state_path = repository.state_path()
        self.state = _read_state(self.state_path)
        if self.state is not None and self.state.folder != str(folder):
            self.state = None  # another log's (the configuration changed)

    def append(self, line: str, data: bytes) -> AppendResult:
        state = self.state
        if state is not None and state.move != "-":
            finish_move(self.folder, state.move)  # a move a crash interrupted
            state = replace(state, move="-")
        head = self.repository.head() or "-"
        index = self.repository.index_signature()
        lock = self.repository.index_lock()
        shard = self.folder / state.shard if state else None
        size = _usable_size(shard) if shard else None
        if state is None or shard is None or size is None:
            return self._new(line, data, head, index, lock)
        if lock is not None and lock != state.lock:
            return self._new(line, data, head, index, lock)
        if (head, index) != (state.head, state.index) and lock is None:
            frozen = self.repository.frozen(shard, None if head == "-" else head)
            if frozen is not None:
                oid, frozen_size = frozen
                if (
                    size > frozen_size
                    and _appendable(shard, size)  # whole rows to move, no torn line
                    and _starts_with_blob(shard, frozen_size, oid)
                ):
                    return self._move_tail(shard, frozen_size, size, line, data, head, index)
                return self._new(line, data, head, index, lock)
            state = replace(state, head=head, index=index)
        if size + len(data) > self.max_bytes or not _appendable(shard, size):
            return self._new(line, data, head, index, lock)
        fs.append(shard, data, advice="; the shard was left as it was")
        self._save(state)
        return AppendResult(shard, line, created=False, backup=None)

    def _new(self, line: str, data: bytes, head: str, index: str, lock: str | None) -> AppendResult:
        path = _create_shard(self.folder, HEADER_BYTES + data)
        self._save(State(str(self.folder), path.name, head, index, lock or "-"))
        return AppendResult(path, line, created=True, backup=None)

    def _move_tail(
        self,
        shard: Path,
        frozen_size: int,
        size: int,
        line: str,
        data: bytes,
        head: str,
        index: str,
    ) -> AppendResult:
        """Move the rows appended after git froze `shard` to a new shard, with the new row."""
        with open(shard, "rb") as file:
            file.seek(frozen_size)
            tail = file.read(size - frozen_size)
        target = layout.new_shard_name()
        journal = layout.move_name(shard.name, frozen_size, target)
        # HEAD and the index as last confirmed: if the move never gets as far as the target, the
        # next `log` looks at git again and moves the rows then.
        assert self.state is not None
        self._save(replace(self.state, lock="-", move=journal), required=True)
        fs.create_whole(self.folder / journal, b"")
        path = self.folder / target
        if not fs.create_whole(path, HEADER_BYTES + tail + data):
            raise LogFileError(f"cannot create {path}: it exists already")
        finish_move(self.folder, journal)
        self._save(State(str(self.folder), target, head, index, "-"))
        return AppendResult(path, line, created=True, backup=None)

    def _save(self, state: State, *, required: bool = False) -> None:
        """Write the state file. It only saves `log` a git call or a shard: once the row is
        written, failing to save it (a full disk) must not make `log` report a failure, or a
        script that retries would log the row twice. A move's journal entry is `required`."""
        if state == self.state:
            return
        try:
            self.state_path.parent.mkdir(exist_ok=True)
            fs.replace(self.state_path, state.text().encode())
        except (OSError, LogFileError):
            if required:
                raise
            fs.remove_quietly(self.state_path)  # a stale state would name the wrong shard
            self.state = None
            return
        self.state = state


def finish_move(folder: Path, journal: str) -> None:
    """Complete (or, if its target was never written, drop) the move a journal describes: cut
    the source back to the size git froze, once the target holds the rows after it."""
    move = layout.parse_move_name(journal)
    if move is None:
        return
    source, size, target = (folder / move[0], move[1], folder / move[2])
    if os.path.lexists(target) and (current_size(source) or 0) > size:
        try:
            fd = os.open(source, os.O_WRONLY | fs.NOFOLLOW | fs.CLOEXEC)
        except OSError as error:
            raise fs.cannot("write", source, error) from None
        try:
            os.ftruncate(fd, size)
            os.fsync(fd)
        except OSError as error:
            raise fs.cannot("write", source, error) from None
        finally:
            os.close(fd)
    fs.remove_quietly(folder / journal)
    fs.fsync_folder(folder)


def _append_outside_git(folder: Path, line: str, data: bytes, max_bytes: int) -> AppendResult:
    """Outside a repository nothing freezes a shard: the newest one takes rows while it fits."""
    shards = layout.ShardFiles.of(folder).shards
    if shards:
        path = folder / shards[-1]
        size = _usable_size(path)
        if size is not None and size + len(data) <= max_bytes and _appendable(path, size):
            fs.append(path, data, advice="; the shard was left as it was")
            return AppendResult(path, line, created=False, backup=None)
    return AppendResult(_create_shard(folder, HEADER_BYTES + data), line, created=True, backup=None)


def _make_folder(folder: Path) -> None:
    """The shard folder. `locked` has seen to the log's folder and its .gitignore, whose rules
    (`.*.tmp`) keep temporary files and move journals here out of git too."""
    if not folder.is_dir():
        try:
            folder.mkdir(exist_ok=True)
        except OSError as error:
            raise fs.cannot("create folder", folder, error) from None


def _create_shard(folder: Path, content: bytes) -> Path:
    while True:
        path = folder / layout.new_shard_name()
        if fs.create_whole(path, content):
            return path


def _usable_size(path: Path) -> int | None:
    """The shard's size, or None when it is gone or not a regular file (then a new one starts)."""
    try:
        return current_size(path)
    except LogFileError:
        return None


def _appendable(path: Path, size: int) -> bool:
    """True when the shard starts with the header and ends with a newline."""
    try:
        with open(path, "rb") as file:
            head = file.read(len(HEADER_BYTES))
            file.seek(size - 1)
            return head == HEADER_BYTES and file.read(1) == b"\n"
    except OSError:
        return False


def _starts_with_blob(path: Path, size: int, oid: str) -> bool:
    """True when the first `size` bytes of `path` are the git blob `oid` (SHA-1 or SHA-256)."""
    import hashlib

    try:
        with open(path, "rb") as file:
            data = file.read(size)
    except OSError:
        return False
    if len(data) != size or not data.endswith(b"\n"):
        return False
    digest = hashlib.sha256 if len(oid) == 64 else hashlib.sha1
    return digest(b"blob %d\0" % size + data).hexdigest() == oid


def _read_state(path: Path) -> State | None:
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read(4096)
    except (OSError, UnicodeDecodeError):
        return None
    lines = text.split("\n")
    if lines[0] != STATE_VERSION:
        return None
    fields = dict(line.split(" ", 1) for line in lines[1:] if " " in line)
    try:
        return State(
            fields["folder"],
            fields["shard"],
            fields["head"],
            fields["index"],
            fields["lock"],
            fields.get("move", "-"),
        )
    except KeyError:
        return None
