"""The team layout's writer: which shard `log` appends to, and when it starts a new one.

A shard (layout.py) is a small log of its own in the shard folder. Once git has a shard (staged
or committed), the shard never changes again: a cherry-pick, a squash merge or a rebase then
carries it as the same file with the same bytes, which git merges with itself cleanly. So,
under the log's lock, `append_rows` appends to the current shard only while git cannot have it,
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

Rows come in batches (`append_rows`: one row from `log`, many from `import`), written with one
`write` per shard. Every new shard is a new file, so it gets the extended header
(docs/format.md); a shard an older version started with the 8-column header keeps its shape
and takes rows without source or cache values, and a row with them starts a new shard. Rows
that do not fit in the current shard go to new ones, each filled up to `max_bytes`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple, Protocol

from telemetry_csv import fs
from telemetry_csv.errors import LogFileError
from telemetry_csv.logfile import layout
from telemetry_csv.logfile.schema import Row, Schema
from telemetry_csv.logfile.writing import (
    EXTENDED_HEADER_BYTES,
    HEADER_BYTES,
    AppendResult,
    current_size,
    ensure_folder,
    lines_data,
    lines_that_fit,
    locked,
    require_fit,
)

STATE_VERSION = "telemetry-csv shard state 1"
_STATE_LIMIT = 1 << 16  # far more than a state file holds


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


class State(NamedTuple):
    """The state file: the current shard, and git's HEAD and index when it was confirmed. (A
    named tuple: creating a dataclass costs `log`'s start-up more than this whole module.)"""

    folder: str
    shard: str
    head: str  # "-" for none
    index_signature: str  # Repository.index_signature
    lock: str  # the index.lock the shard was started under, or "-"
    move: str = "-"  # a move journal in progress, or "-"

    def text(self) -> str:
        return (
            f"{STATE_VERSION}\nfolder {self.folder}\nshard {self.shard}\nhead {self.head}\n"
            f"index {self.index_signature}\nlock {self.lock}\nmove {self.move}\n"
        )


def append_rows(
    log_path: Path,
    rows: Sequence[Row],
    schema: Schema,
    *,
    max_bytes: int,
    lock_timeout: float,
    repository: Repository | None,
) -> AppendResult:
    """Append valid rows to the log's current shard, or new ones (see the module docstring),
    under the log's lock; `append_rows_held` for a caller that holds it."""
    if not rows:
        raise ValueError("no rows to append")
    require_fit(rows, schema, max_bytes)  # refused before any change
    ensure_folder(log_path.parent, log_path, shards=True)
    with locked(log_path, lock_timeout):
        return append_rows_held(log_path, rows, schema, max_bytes=max_bytes, repository=repository)


def append_rows_held(
    log_path: Path,
    rows: Sequence[Row],
    schema: Schema,
    *,
    max_bytes: int,
    repository: Repository | None,
) -> AppendResult:
    """`append_rows` for a caller that holds the log's lock already (`writing.locked`). The
    result names the shard the last row went to; `created` if any shard was started."""
    if not rows:
        raise ValueError("no rows to append")
    require_fit(rows, schema, max_bytes)
    ensure_folder(log_path.parent, log_path, shards=True)
    folder = layout.shard_folder(log_path)
    _make_folder(folder)
    batch = _Batch(rows, schema, max_bytes)
    if repository is None:
        return _append_outside_git(folder, batch)
    return _Writer(folder, repository, batch).append()


class _Batch:
    """The rows still to write, and the lines written so far (each in its shard's shape)."""

    def __init__(self, rows: Sequence[Row], schema: Schema, max_bytes: int):
        self.pending = list(rows)
        self.schema = schema
        self.max_bytes = max_bytes
        self.written: list[str] = []
        self.created = False

    def fill(self, path: Path, size: int, extended: bool) -> bool:
        """Append to the shard at `path` (`size` bytes, of that shape) the next rows that fit
        and its shape can hold, in one write; True when every row is written."""
        lines = lines_that_fit(self.pending, self.schema, extended, self.max_bytes - size)
        if lines:
            fs.append(path, lines_data(lines), advice="; the shard was left as it was")
            self.taken(lines)
        return not self.pending

    def taken(self, lines: list[str]) -> None:
        self.written += lines
        del self.pending[: len(lines)]

    def new_shards(self, folder: Path) -> Path:
        """The rows left in new shards with the extended header, each filled up to max_bytes;
        the last one."""
        room = self.max_bytes - len(EXTENDED_HEADER_BYTES)
        while True:
            lines = lines_that_fit(self.pending, self.schema, True, room)
            path = _create_shard(folder, EXTENDED_HEADER_BYTES + lines_data(lines))
            self.created = True
            self.taken(lines)
            if not self.pending:
                return path

    def result(self, path: Path) -> AppendResult:
        return AppendResult(path, tuple(self.written), self.created)


class _Writer:
    def __init__(self, folder: Path, repository: Repository, batch: _Batch):
        self.folder = folder
        self.repository = repository
        self.batch = batch
        self.max_bytes = batch.max_bytes
        self.state_path = repository.state_path()
        self.state = _read_state(self.state_path)
        if self.state is not None and self.state.folder != str(folder):
            self.state = None  # another log's (the configuration changed)

    def append(self) -> AppendResult:
        state = self.state
        if state is not None and state.move != "-":
            finish_move(self.folder, state.move)  # a move a crash interrupted
            state = state._replace(move="-")
        head = self.repository.head() or "-"
        index = self.repository.index_signature()
        lock = self.repository.index_lock()
        shard = self.folder / state.shard if state else None
        size = _usable_size(shard) if shard else None
        if state is None or shard is None or size is None:
            return self._new(head, index, lock)
        if lock is not None and lock != state.lock:
            return self._new(head, index, lock)
        if (head, index) != (state.head, state.index_signature) and lock is None:
            frozen = self.repository.frozen(shard, None if head == "-" else head)
            if frozen is not None:
                oid, frozen_size = frozen
                shape = _shape(shard, size)  # whole rows to move, no torn line
                if (
                    size > frozen_size
                    and shape is not None
                    and _starts_with_blob(shard, frozen_size, oid)
                ):
                    return self._move_tail(shard, frozen_size, size, shape, head, index)
                return self._new(head, index, lock)
            state = state._replace(head=head, index_signature=index)
        shape = _shape(shard, size)
        if shape is not None and self.batch.fill(shard, size, shape):
            self._save(state)
            return self.batch.result(shard)
        if self.batch.written:
            self._save(state)  # rows went to the shard: it stays confirmed for them
        return self._new(head, index, lock)

    def _new(self, head: str, index: str, lock: str | None) -> AppendResult:
        path = self.batch.new_shards(self.folder)
        self._save(State(str(self.folder), path.name, head, index, lock or "-"))
        return self.batch.result(path)

    def _move_tail(
        self,
        shard: Path,
        frozen_size: int,
        size: int,
        extended: bool,
        head: str,
        index: str,
    ) -> AppendResult:
        """Move the rows appended after git froze `shard` to a new shard, with the new rows.
        The new shard has the extended header: the tail of an 8-column shard is stored in that
        shape, its four extra fields empty (no value changes, and the rows were never
        committed), unless it would then not fit, when the new shard keeps the 8 columns."""
        with fs.open_regular(shard) as file:
            file.seek(frozen_size)
            tail = file.read(size - frozen_size)
        header = EXTENDED_HEADER_BYTES
        if not extended:
            widened = tail.replace(b"\n", b",,,,\n")
            if len(EXTENDED_HEADER_BYTES) + len(widened) <= self.max_bytes:
                tail = widened
            else:
                header = HEADER_BYTES
        target = layout.new_shard_name(self.folder)
        journal = layout.move_name(shard.name, frozen_size, target)
        # HEAD and the index as last confirmed: if the move never gets as far as the target, the
        # next `log` looks at git again and moves the rows then.
        assert self.state is not None
        self._save(self.state._replace(lock="-", move=journal), required=True)
        fs.create_whole(self.folder / journal, b"")
        batch = self.batch
        room = self.max_bytes - len(header) - len(tail)
        lines = lines_that_fit(batch.pending, batch.schema, header == EXTENDED_HEADER_BYTES, room)
        path = self.folder / target
        if not fs.create_whole(path, header + tail + lines_data(lines)):
            raise LogFileError(f"cannot create {path}: it exists already")
        batch.created = True
        batch.taken(lines)
        finish_move(self.folder, journal)
        if batch.pending:  # more rows than the new shard holds
            path = batch.new_shards(self.folder)
        self._save(State(str(self.folder), path.name, head, index, "-"))
        return batch.result(path)

    def _save(self, state: State, *, required: bool = False) -> None:
        """Write the state file. It only saves `log` a git call or a shard: once the row is
        written, failing to save it (a full disk) must not make `log` report a failure, or a
        script that retries would log the row twice. A move's journal entry is `required`."""
        if state == self.state:
            return
        try:
            fs.require_folder(self.state_path.parent, create=True)  # a link there is refused
        except LogFileError:
            if required:
                raise
            self.state = None  # nothing is removed through a link either
            return
        try:
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
            fd = fs.open_regular_for_writing(source, os.O_WRONLY)
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


def _append_outside_git(folder: Path, batch: _Batch) -> AppendResult:
    """Outside a repository nothing freezes a shard: the newest one takes rows while it fits."""
    shards = layout.ShardFiles.of(folder).shards
    if shards:
        path = folder / shards[-1]
        size = _usable_size(path)
        shape = _shape(path, size) if size is not None else None
        if size is not None and shape is not None and batch.fill(path, size, shape):
            return batch.result(path)
    return batch.result(batch.new_shards(folder))


def _make_folder(folder: Path) -> None:
    """The shard folder, made if missing; a link there is refused, never written through.
    `locked` has seen to the log's folder and its .gitignore, whose rules (`.*.tmp`) keep
    temporary files and move journals here out of git too."""
    layout.require_shard_folder(folder, create=True)


def _create_shard(folder: Path, content: bytes) -> Path:
    while True:
        path = folder / layout.new_shard_name(folder)
        if fs.create_whole(path, content):
            return path


def _usable_size(path: Path) -> int | None:
    """The shard's size, or None when it is gone or not a regular file (then a new one starts)."""
    try:
        return current_size(path)
    except LogFileError:
        return None


def _shape(path: Path, size: int) -> bool | None:
    """Whether the shard has the extended header (True) or the 8-column one (False); None when
    it cannot take rows: another first line, or a torn last line."""
    try:
        with fs.open_regular(path) as file:
            head = file.read(len(EXTENDED_HEADER_BYTES))
            file.seek(size - 1)
            if file.read(1) != b"\n":
                return None
    except (OSError, LogFileError):
        return None
    if head == EXTENDED_HEADER_BYTES:
        return True
    return False if head.startswith(HEADER_BYTES) else None


def _starts_with_blob(path: Path, size: int, oid: str) -> bool:
    """True when the first `size` bytes of `path` are the git blob `oid` (SHA-1 or SHA-256)."""
    import hashlib

    try:
        with fs.open_regular(path) as file:
            data = file.read(size)
    except (OSError, LogFileError):
        return False
    if len(data) != size or not data.endswith(b"\n"):
        return False
    digest = hashlib.sha256 if len(oid) == 64 else hashlib.sha1
    return digest(b"blob %d\0" % size + data).hexdigest() == oid


def _read_state(path: Path) -> State | None:
    try:
        # Never through a link (nor a linked folder), never a FIFO: a state that is not a small
        # regular file is none (the next save replaces the name itself).
        if not fs.require_folder(path.parent):
            return None
        data = fs.read_bounded(path, _STATE_LIMIT)
        text = "" if data is None else data.decode("utf-8")
    except (LogFileError, UnicodeDecodeError):
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
