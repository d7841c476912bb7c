"""One import: find the files, read what is new in them, close the windows that are over.

The order of work, and why:

1. Scan the source's folders (`discovery`). A file whose device, inode, size and modification
   time match the state is not opened at all: an import with nothing new reads no session file.
2. Read each new or grown file from where the last import stopped, with the parser's carried
   state (`state`). A file that shrank or was replaced is read from the start.
3. Close every window whose grace period is over (`slicing`): those are the new slices.
4. Usage that lands in a window an earlier import already closed (a fork or a resume copying
   old records into a new file, a session file restored from elsewhere) is *late*. The windows
   it touches are computed again from every file that holds records of that time, and only the
   slices that were not emitted before (by their session, branch, model and window, or by their
   id) are added. So a late copy of a response already counted adds nothing, and a genuinely new
   session adds its slices.
"""

from __future__ import annotations

import json
import os
from typing import Any

from telemetry_csv.importing import discovery, instants, lines, slicing
from telemetry_csv.importing.feed import CORRUPT, INCOMPLETE, NOT_OBJECT, Feed
from telemetry_csv.importing.instants import HOUR_MS
from telemetry_csv.importing.state import StateFile

DEFAULT_IDLE_LIMIT_MS = 15 * 60_000
RETAIN_MS = 35 * 24 * HOUR_MS  # Claude Code deletes sessions after 30 days by default
LATE_IMPORTED = "late records for a slice already imported"
LATE_TOO_OLD = "late records older than 35 days"
BEFORE_SINCE = "slices before --since"

# Entry of a file in the state: the first seven items are plain numbers.
_DEV, _INO, _SIZE, _MTIME, _OFFSET, _SCOPE, _EARLIEST, _LATEST, _CARRY = range(9)


class ImportResult:
    """What one `collect` found. Call `save_state()` once the slices are safely written."""

    def __init__(
        self,
        slices: list[slicing.Slice],
        skipped: dict[str, int],
        *,
        complete: bool,
        state: StateFile | None,
        new_state: dict[str, Any] | None,
        state_problem: str | None,
        files_read: int,
        unchanged_state: dict[str, Any] | None = None,
    ) -> None:
        self.slices = slices
        self.skipped = skipped
        self.complete = complete  # no usable state: every file was read from its start
        self.state_problem = state_problem
        self.files_read = files_read
        self._state = state
        self._new_state = new_state
        self._unchanged_state = unchanged_state  # saved again only under a new token

    @property
    def state_changed(self) -> bool:
        """Whether `save_state` has anything new to write (under an unchanged token)."""
        return self._new_state is not None

    @property
    def state_path(self) -> str | None:
        return None if self._state is None else self._state.path

    def save_state(self, token: str | None = None) -> None:
        """Remember what was read, so the next import only reads what is new; call it after
        the slices are written, under the log's lock. `token` replaces the state's token when
        writing the slices changed what the token is made of (the log's size, say). Nothing is
        written when nothing changed. OSError if the state's folder cannot be written."""
        if self._state is None:
            return
        if token is not None and token != self._state.token:
            self._state.token = token
            if self._new_state is None:
                self._new_state = self._unchanged_state
        if self._new_state is not None:
            self._state.save(self._new_state)
            self._new_state = None

    def summary(self) -> str:
        """One line: what was found and what was skipped, and why."""
        noun = "slice" if len(self.slices) == 1 else "slices"
        text = f"{len(self.slices)} {noun}"
        if self.skipped:
            reasons = ", ".join(
                f"{number} {reason}" for reason, number in sorted(self.skipped.items())
            )
            text += f"; skipped: {reasons}"
        return text


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
    lines.require_dir_fd()
    if source not in discovery.SOURCES:
        raise ValueError(
            f"unknown source {source!r}; expected one of {', '.join(discovery.SOURCES)}"
        )
    if idle_limit_ms <= 0:
        raise ValueError("idle_limit_ms must be positive")
    now_ms = instants.now_ms() if now is None else int(now * 1000)
    since_ms = _since(since)
    root_real = os.path.realpath(os.fspath(root))
    origin = None if from_path is None else os.path.realpath(os.fspath(from_path))
    settings: list[Any] = [
        source,
        root_real,
        origin,
        all_projects,
        idle_limit_ms,
        since_ms,
        fallback_model,
    ]
    previous = state.load(settings) if state is not None else None
    scope_root = None if all_projects else root_real
    scan = discovery.scan(source, from_path=origin, root=scope_root, environ=environ)
    skipped = dict(scan.skipped)
    horizon = instants.hour_of(now_ms - slicing.GRACE_MS)

    files: dict[str, list[Any]] = {}
    accumulator: slicing.Accumulator | None = None
    if previous is not None:
        try:
            files = _valid_files(previous["files"])
            raw_accumulator = previous["accumulator"]
            closed_until = int(raw_accumulator["closed_until"])
            emitted_before = _valid_emitted(previous["emitted"])
        except (KeyError, TypeError, ValueError, IndexError):
            previous = None
    if previous is not None:
        changed = [file for file in scan.files if not _unchanged(files.get(file.path), file)]
        present = {file.path for file in scan.files}
        vanished = [path for path in files if path not in present]
        if not changed and not vanished and horizon <= closed_until:
            return ImportResult(
                [],
                skipped,
                complete=False,
                state=state,
                new_state=None,
                state_problem=None,
                files_read=0,
                unchanged_state=previous,
            )
        try:
            accumulator = slicing.Accumulator.load(raw_accumulator)
        except (KeyError, TypeError, ValueError, IndexError):
            previous, files = None, {}
    if previous is None or accumulator is None:
        accumulator = slicing.Accumulator()
        files = {}
        changed = list(scan.files)
    present = {file.path for file in scan.files}
    for path in [path for path in files if path not in present]:
        del files[path]  # deleted (Claude Code removes sessions after 30 days): forgotten

    feed = Feed(
        accumulator,
        root=scope_root,
        idle_limit_ms=idle_limit_ms,
        fallback_model=fallback_model,
    )
    for file in changed:
        entry = files.get(file.path)
        new_entry = _read_changed(source, file, entry, feed)
        if new_entry is not None:
            files[file.path] = new_entry
    read = len(changed)

    closing = max(horizon, accumulator.closed_until)
    pieces = accumulator.close(closing, now_ms)
    emitted: list[list[Any]] = emitted_before if previous is not None else []
    if feed.late_windows:
        pieces += _reconcile(
            source,
            feed,
            scan.files,
            files,
            emitted,
            now_ms,
            root=scope_root,
            idle_limit_ms=idle_limit_ms,
            fallback_model=fallback_model,
        )
    for reason, number in feed.skipped.items():
        skipped[reason] = skipped.get(reason, 0) + number

    slices = []
    before_since = 0
    for piece in pieces:
        piece.finish(source, task_type)
        emitted.append([piece.window, piece.session, piece.branch, piece.model, piece.source_id])
        if since_ms is not None and piece.window < since_ms:
            before_since += 1
            continue
        slices.append(piece)
    if before_since:
        skipped[BEFORE_SINCE] = before_since
    forget = now_ms - RETAIN_MS
    emitted = [item for item in emitted if item[0] >= forget]
    slices.sort(key=lambda piece: (piece.end, piece.source_id))
    new_state = {
        "settings": settings,
        "files": files,
        "accumulator": accumulator.dump(),
        "emitted": emitted,
    }
    return ImportResult(
        slices,
        skipped,
        complete=previous is None,
        state=state,
        new_state=new_state,
        state_problem=None if state is None else state.problem,
        files_read=read,
    )


def _since(since: str | None) -> int | None:
    if since is None:
        return None
    text = since.strip()
    if len(text) == 10:
        text += "T00:00:00Z"  # a day starts at midnight UTC, wherever the import runs
    from telemetry_csv import rfc3339

    problem = rfc3339.problem(rfc3339.normalise(text))
    if problem is not None:
        from telemetry_csv.errors import InvalidValueError

        raise InvalidValueError(
            "--since", since, "expected a date (YYYY-MM-DD, UTC) or an RFC 3339 date-time"
        )
    value = instants.parse(rfc3339.normalise(text))
    assert value is not None
    return value


def _valid_files(files: object) -> dict[str, list[Any]]:
    """The state's file entries, or ValueError: a damaged state is not used at all."""
    if not isinstance(files, dict):
        raise ValueError("files")
    for path, entry in files.items():
        if (
            not isinstance(path, str)
            or not isinstance(entry, list)
            or len(entry) != 9
            or not all(isinstance(value, int) for value in entry[:5])
            or entry[_SCOPE] not in (True, False, None)
            or not all(value is None or isinstance(value, int) for value in entry[6:8])
            or not (entry[_CARRY] is None or isinstance(entry[_CARRY], list))
        ):
            raise ValueError(path)
    return dict(files)


def _valid_emitted(emitted: object) -> list[list[Any]]:
    if not isinstance(emitted, list) or not all(
        isinstance(item, list) and len(item) == 5 and isinstance(item[0], int) for item in emitted
    ):
        raise ValueError("emitted")
    return list(emitted)


def _unchanged(entry: list[Any] | None, file: discovery.FoundFile) -> bool:
    return (
        entry is not None
        and entry[_DEV] == file.device
        and entry[_INO] == file.inode
        and entry[_SIZE] == file.size
        and entry[_MTIME] == file.mtime_ns
    )


def _parser(source: str, feed: Feed, file: discovery.FoundFile, carry: list[Any] | None) -> Any:
    if source == discovery.CLAUDE:
        from telemetry_csv.importing import claude

        return claude.FileParser(feed, claude.fallback_session(file.parts), carry)
    if source == discovery.CODEX:
        from telemetry_csv.importing import codex

        return codex.FileParser(feed, codex.fallback_session(file.parts), carry)
    from telemetry_csv.importing import gemini

    return gemini.FileParser(
        feed,
        gemini.fallback_session(file.parts),
        carry,
        project=file.project,
        project_root=file.project_root,
    )


def _read_changed(
    source: str, file: discovery.FoundFile, entry: list[Any] | None, feed: Feed
) -> list[Any] | None:
    """Read what is new in `file`; its new state entry, or None to forget it."""
    legacy = file.path.endswith(".json")
    continuing = (
        entry is not None
        and not legacy
        and (entry[_DEV], entry[_INO]) == (file.device, file.inode)
        and file.size >= entry[_OFFSET]
    )
    if continuing and entry is not None and entry[_SCOPE] is False:
        return [
            file.device,
            file.inode,
            file.size,
            file.mtime_ns,
            file.size,
            False,
            None,
            None,
            None,
        ]
    start = entry[_OFFSET] if continuing and entry is not None else 0
    carry = entry[_CARRY] if continuing and entry is not None else None
    try:
        parser = _parser(source, feed, file, carry)
    except (TypeError, ValueError, IndexError):
        # What the state carried for this file is damaged: read the file from its start.
        start, continuing = 0, False
        parser = _parser(source, feed, file, None)
    try:
        fd = file.open()
    except OSError as error:
        feed.skip(lines.reason_for(error))
        return entry if entry is not None and not isinstance(error, FileNotFoundError) else None
    try:
        offset = (
            _read_document(fd, parser, feed) if legacy else _read_lines(fd, start, parser, feed)
        )
    except OSError as error:
        feed.skip(lines.reason_for(error))
        return entry
    finally:
        os.close(fd)
    if offset is None:
        offset = file.size
    earliest, latest = parser.span.earliest, parser.span.latest
    if continuing and entry is not None:
        earliest = _least(earliest, entry[_EARLIEST])
        latest = _most(latest, entry[_LATEST])
    scope = parser.scope
    return [
        file.device,
        file.inode,
        file.size,
        file.mtime_ns,
        offset,
        scope,
        earliest,
        latest,
        parser.carry() if scope is not False else None,
    ]


def _read_lines(fd: int, start: int, parser: Any, feed: Feed) -> int | None:
    """Feed every complete line from `start`; where the next read must start, or None when the
    rest of the file is out of scope."""
    reader = lines.LineReader(fd, start)
    loads = json.loads
    for end, line in reader:
        if not line or line.isspace():
            continue
        try:
            data = loads(line)
        except (ValueError, RecursionError):
            feed.skip(CORRUPT)
            continue
        if not isinstance(data, dict):
            feed.skip(NOT_OBJECT)
            continue
        parser.record(data, end - len(line) - 1)
        if parser.scope is False:
            return None
    if reader.too_long:
        feed.skip(lines.TOO_LONG, reader.too_long)
    offset = reader.tail_start
    if reader.tail and not reader.tail.isspace():
        # A last line without its newline: complete if it parses (some writers end that way),
        # otherwise the agent is still writing it and it is read again next time.
        try:
            data = loads(reader.tail)
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict):
            parser.record(data, reader.tail_start)
            offset = reader.tail_start + len(reader.tail)
        else:
            feed.skip(INCOMPLETE)
    elif reader.tail_unterminated:
        feed.skip(INCOMPLETE)
    held = parser.held_from
    return offset if held is None else min(offset, held)


def _read_document(fd: int, parser: Any, feed: Feed) -> int:
    """A legacy Gemini conversation: one JSON document, read whole, in bounded memory."""
    chunks = []
    size = 0
    while True:
        chunk = os.read(fd, lines.CHUNK_BYTES)
        if not chunk:
            break
        size += len(chunk)
        if size > lines.MAX_LINE_BYTES:
            feed.skip(lines.TOO_LONG)
            return size
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks))
    except (ValueError, RecursionError):
        feed.skip(CORRUPT)
        return size
    parser.document(data)
    return size


def _reconcile(
    source: str,
    feed: Feed,
    found: list[discovery.FoundFile],
    files: dict[str, list[Any]],
    emitted: list[list[Any]],
    now_ms: int,
    *,
    root: str | None,
    idle_limit_ms: int,
    fallback_model: str | None,
) -> list[slicing.Slice]:
    """The slices that late usage adds: its windows computed again from every file holding
    records of their time, minus what was emitted before."""
    late = feed.late_windows
    start = min(late) - slicing.REPEAT_MS - HOUR_MS
    end = max(late) + HOUR_MS + slicing.JOIN_MS
    accumulator = slicing.Accumulator()
    again = Feed(
        accumulator,
        root=root,
        idle_limit_ms=idle_limit_ms,
        fallback_model=fallback_model,
        time_range=(start, end),
    )
    for file in found:
        entry = files.get(file.path)
        if entry is None or entry[_SCOPE] is False or entry[_EARLIEST] is None:
            continue
        if entry[_LATEST] < start or entry[_EARLIEST] > end:
            continue
        parser = _parser(source, again, file, None)
        if entry[_SCOPE] is not None:
            parser.scope = entry[_SCOPE]
        try:
            fd = file.open()
        except OSError:
            continue
        try:
            if file.path.endswith(".json"):
                _read_document(fd, parser, again)
            else:
                _read_lines(fd, 0, parser, again)
        except OSError:
            continue
        finally:
            os.close(fd)
    pieces = accumulator.close(max(late) + HOUR_MS, now_ms)
    coordinates = {(item[0], item[1], item[2], item[3]) for item in emitted}
    identities = {item[4] for item in emitted}
    added = []
    for piece in pieces:
        if piece.window not in late:
            continue
        identity = piece.identify(source)
        known = (piece.window, piece.session, piece.branch, piece.model) in coordinates
        if known or identity in identities:
            if identity not in identities:
                feed.skip(LATE_IMPORTED)
            continue
        if piece.window < now_ms - RETAIN_MS:
            feed.skip(LATE_TOO_OLD)
            continue
        added.append(piece)
    return added


def _least(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _most(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)
