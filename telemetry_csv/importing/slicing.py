"""From usage records to slices: one row per session x branch x model x UTC hour.

The parsers feed three kinds of facts, in any order:

- `usage`: one copy of one response's token counts. Copies of one response (streaming
  partials, replays, copies in another file) share a key and form one *group*. A group belongs
  to the window of its first copy (earliest timestamp; ties by session and branch) and takes its
  numbers from its best copy (an order each parser defines, e.g. Claude Code's non-sidechain,
  then larger) among the copies written less than `JOIN_MS` after that window ends. Copies up to
  `REPEAT_MS` after the first one are recognised as copies even after the window has closed.
- `error`: a record saying the agent's request failed.
- `activity`: an interval between two consecutive records of a file, no longer than the idle
  limit; a slice's duration is the length of the union of its intervals (so parallel
  sub-agents are not counted twice), each interval in the window where it ends.

A window is *closed* once `GRACE_MS` have passed since it ended: every copy that may still
change it was written by then. Only closed windows become slices, so a slice's numbers and its
`source_id` are the same whoever computes them, whenever, wherever.

`source_id` is the window start followed by 16 hex digits of a SHA-256 over the source, the model
and the sorted keys of the slice's responses (never over the session, so a response that a fork
copied into another session names the same slice).
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

from telemetry_csv.importing.instants import HOUR_MS, format_utc

JOIN_MS = 10 * 60_000  # a long response streams its partial copies for minutes
LAG_MS = 5 * 60_000  # how long after its timestamp a record may reach the disk
GRACE_MS = JOIN_MS + LAG_MS
REPEAT_MS = 24 * HOUR_MS
NEVER = -(2**62)

ADDED = 0
ABSORBED = 1
LATE = 2

Coordinate = tuple[str, str | None, str, int]  # session, branch, model, window start
Counts = tuple[int, int, int | None, int | None]  # prompt, completion, cache read, cache write


class Group:
    """The copies of one response seen so far, reduced to what the slice needs."""

    __slots__ = (
        "branch",
        "counts",
        "end",
        "first",
        "key",
        "keys",
        "mids",
        "model",
        "nonside",
        "rank",
        "session",
        "window",
    )

    def __init__(
        self,
        first: int,
        session: str,
        branch: str | None,
        rank: tuple[Any, ...],
        model: str,
        counts: Counts,
        key: str,
    ) -> None:
        self.first = first
        self.session = session
        self.branch = branch
        self.window = first - first % HOUR_MS
        self.rank = rank
        self.model = model
        self.counts = counts
        self.key = key  # the best copy's key: what the slice's id is made of
        self.end = first
        self.keys: list[str] = [key]
        self.mids: list[str] = []
        self.nonside = False


class Slice:
    """One row's worth of usage: a session's responses from one model, on one branch, in one
    UTC hour. `source`, `source_id` and `task_type` are set by `finish`."""

    __slots__ = (
        "branch",
        "counts",
        "duration_ms",
        "end",
        "keys",
        "model",
        "responses",
        "session",
        "source",
        "source_id",
        "success",
        "task_type",
        "window",
    )

    def __init__(self, coordinate: Coordinate) -> None:
        self.session, self.branch, self.model, self.window = coordinate
        self.counts: list[int | None] = [0, 0, 0, 0]
        self.keys: list[str] = []
        self.end = NEVER
        self.responses = 0
        self.duration_ms = 0
        self.success = True
        self.source = ""
        self.source_id = ""
        self.task_type = ""

    @property
    def coordinate(self) -> Coordinate:
        return (self.session, self.branch, self.model, self.window)

    def finish(self, source: str, task_type: str) -> Slice:
        self.source = source
        self.source_id = self.identify(source)
        self.task_type = task_type
        return self

    def identify(self, source: str) -> str:
        """`YYYYMMDDTHHZ-` and 16 hex digits: ordered by window, the same for the same
        responses wherever they are counted."""
        import hashlib

        digest = hashlib.sha256()
        digest.update(f"{source}\n{self.model}\n".encode())
        for key in sorted(self.keys):
            digest.update(key.encode("utf-8", "surrogatepass"))
            digest.update(b"\n")
        stamp = format_utc(self.window)
        return f"{stamp[:4]}{stamp[5:7]}{stamp[8:10]}T{stamp[11:13]}Z-{digest.hexdigest()[:16]}"

    # What the log stores.

    @property
    def timestamp(self) -> str:
        """When the slice ended: its last record, in UTC."""
        return format_utc(self.end)

    @property
    def prompt_tokens(self) -> int:
        return self.counts[0] or 0

    @property
    def completion_tokens(self) -> int:
        return self.counts[1] or 0

    @property
    def cache_read_tokens(self) -> int | None:
        return self.counts[2]

    @property
    def cache_write_tokens(self) -> int | None:
        return self.counts[3]

    @property
    def notes(self) -> str:
        """The agent, a short session id and the branch: nothing the session said or read."""
        text = f"{self.source} session {short_session(self.source, self.session)}"
        if self.branch:
            with_branch = f"{text}, branch {self.branch}"
            if _notes_allowed(with_branch):
                return with_branch
        return text

    def fields(
        self,
    ) -> tuple[str, str, int, int, bool, str, int, str, str, str, int | None, int | None]:
        """The twelve column values, in the order of the extended header."""
        return (
            self.timestamp,
            self.model,
            self.prompt_tokens,
            self.completion_tokens,
            self.success,
            self.task_type,
            self.duration_ms,
            self.notes,
            self.source,
            self.source_id,
            self.cache_read_tokens,
            self.cache_write_tokens,
        )

    def __repr__(self) -> str:
        return f"Slice({self.source_id!r}, {self.fields()!r})"


def short_session(source: str, session: str) -> str:
    """Eight characters that tell a session apart: the start of a random (v4) UUID, the end of
    a time-ordered (v7) one, whose start is its creation time (Codex)."""
    cleaned = "".join(c for c in session if c.isascii() and (c.isalnum() or c in "-_"))
    compact = cleaned.replace("-", "")
    if len(compact) == 32 and compact[12] == "7":
        return compact[-8:]
    return cleaned[:8] or "unknown"


def _notes_allowed(notes: str) -> bool:
    from telemetry_csv.logfile import schema

    return schema.notes_problem(schema.neutralise(notes)) is None


class Accumulator:
    """Groups, activity and errors of the windows not closed yet, plus what closed windows
    leave behind for recognising late copies."""

    def __init__(self, closed_until: int = NEVER) -> None:
        self.closed_until = closed_until  # windows starting before this are closed
        self.groups: list[Group] = []
        self.by_key: dict[str, Group] = {}
        self.by_mid: dict[str, list[Group]] = {}
        self.memory: dict[str, int] = {}  # key of a closed group -> its first copy's time
        self.mid_memory: dict[str, tuple[int, bool]] = {}  # message id -> (first, non-sidechain)
        self.intervals: dict[Coordinate, list[list[int]]] = {}
        self.errors: dict[Coordinate, int] = {}

    # Feeding.

    def usage(
        self,
        ts: int,
        session: str,
        branch: str | None,
        model: str,
        counts: Counts,
        rank: tuple[Any, ...],
        key: str,
        mid: str | None = None,
        side: bool = False,
    ) -> int:
        """Add one copy of a response; LATE when its window is already closed (the caller
        decides what that means), ABSORBED when it repeats a response of a closed window."""
        if ts - ts % HOUR_MS < self.closed_until:
            return LATE
        group = self.by_key.get(key)
        if group is None and mid is not None:
            # A sidechain (`/btw`, sub-agent) replays a parent message under a new request id:
            # the message id alone links it, in either direction (ccusage #913).
            for candidate in self.by_mid.get(mid, ()):
                if side or not candidate.nonside:
                    group = candidate
                    break
        if group is not None and abs(ts - group.first) > REPEAT_MS:
            group = None  # too far apart to be one response's copies
        if group is None:
            first = self.memory.get(key)
            if first is not None and abs(ts - first) <= REPEAT_MS:
                return ABSORBED
            if mid is not None:
                remembered = self.mid_memory.get(mid)
                if (
                    remembered is not None
                    and abs(ts - remembered[0]) <= REPEAT_MS
                    and (side or not remembered[1])
                ):
                    return ABSORBED
            group = Group(ts, session, branch, rank, model, counts, key)
            self.groups.append(group)
            self.by_key[key] = group
            if mid is not None:
                group.mids.append(mid)
                self.by_mid.setdefault(mid, []).append(group)
            group.nonside = not side
            return ADDED
        if (ts, session, branch or "") < (group.first, group.session, group.branch or ""):
            group.first, group.session, group.branch = ts, session, branch
            group.window = ts - ts % HOUR_MS
        if ts < group.window + HOUR_MS + JOIN_MS:
            if ts > group.end:
                group.end = ts
            if rank > group.rank:
                group.rank, group.model, group.counts, group.key = rank, model, counts, key
        if key not in self.by_key:
            self.by_key[key] = group
            group.keys.append(key)
        if mid is not None and mid not in group.mids:
            group.mids.append(mid)
            self.by_mid.setdefault(mid, []).append(group)
        if not side:
            group.nonside = True
        return ADDED

    def error(self, ts: int, session: str, branch: str | None, model: str) -> None:
        window = ts - ts % HOUR_MS
        if window < self.closed_until:
            return
        coordinate = (session, branch, model, window)
        if ts > self.errors.get(coordinate, NEVER):
            self.errors[coordinate] = ts

    def activity(self, session: str, branch: str | None, model: str, start: int, end: int) -> None:
        window = end - end % HOUR_MS
        if window < self.closed_until:
            return
        spans = self.intervals.get((session, branch, model, window))
        if spans is None:
            self.intervals[(session, branch, model, window)] = [[start, end]]
        else:
            _add_interval(spans, start, end)

    # Closing.

    def close(self, horizon: int, now: int) -> list[Slice]:
        """The slices of every window starting before `horizon` (a whole hour), which are
        forgotten here except for their responses' keys, kept `REPEAT_MS` for late copies."""
        slices: dict[Coordinate, Slice] = {}
        keep: list[Group] = []
        for group in self.groups:
            if group.window >= horizon:
                keep.append(group)
                continue
            coordinate = (group.session, group.branch, group.model, group.window)
            piece = slices.get(coordinate)
            if piece is None:
                piece = slices[coordinate] = Slice(coordinate)
            counts = piece.counts
            for index, value in enumerate(group.counts):
                current = counts[index]
                counts[index] = None if current is None or value is None else current + value
            piece.keys.append(group.key)
            piece.responses += 1
            if group.end > piece.end:
                piece.end = group.end
            for key in group.keys:
                self.memory[key] = group.first
                if self.by_key.get(key) is group:
                    del self.by_key[key]
            for mid in group.mids:
                known = self.mid_memory.get(mid)
                self.mid_memory[mid] = (
                    group.first if known is None else min(known[0], group.first),
                    group.nonside or (known is not None and known[1]),
                )
                siblings = self.by_mid[mid]
                siblings.remove(group)
                if not siblings:
                    del self.by_mid[mid]
        self.groups = keep
        for coordinate, failed_at in list(self.errors.items()):
            if coordinate[3] >= horizon:
                continue
            del self.errors[coordinate]
            piece = slices.get(coordinate)
            if piece is not None and failed_at >= piece.end:
                piece.success = False
                piece.end = failed_at
        for coordinate, spans in list(self.intervals.items()):
            if coordinate[3] >= horizon:
                continue
            del self.intervals[coordinate]
            piece = slices.get(coordinate)
            if piece is not None:
                piece.duration_ms = sum(end - start for start, end in spans)
        if horizon > self.closed_until:
            self.closed_until = horizon
        forget = now - REPEAT_MS - GRACE_MS
        self.memory = {key: first for key, first in self.memory.items() if first >= forget}
        self.mid_memory = {
            mid: known for mid, known in self.mid_memory.items() if known[0] >= forget
        }
        return sorted(slices.values(), key=_order)

    # The state between imports.

    def dump(self) -> dict[str, Any]:
        return {
            "closed_until": self.closed_until,
            "groups": [
                [
                    g.first,
                    g.session,
                    g.branch,
                    g.rank,
                    g.model,
                    list(g.counts),
                    g.key,
                    g.end,
                    g.keys,
                    g.mids,
                    g.nonside,
                ]
                for g in self.groups
            ],
            "memory": self.memory,
            "mid_memory": {mid: list(known) for mid, known in self.mid_memory.items()},
            "intervals": [[*coordinate, spans] for coordinate, spans in self.intervals.items()],
            "errors": [[*coordinate, ts] for coordinate, ts in self.errors.items()],
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> Accumulator:
        """The inverse of `dump`; KeyError, TypeError or ValueError when `data` is damaged."""
        accumulator = cls(int(data["closed_until"]))
        for row in data["groups"]:
            first, session, branch, rank, model, counts, key, end, keys, mids, nonside = row
            group = Group(
                int(first),
                str(session),
                branch,
                _tuple(rank),
                str(model),
                _counts(counts),
                str(key),
            )
            group.end = int(end)
            group.keys = [str(item) for item in keys]
            group.mids = [str(item) for item in mids]
            group.nonside = bool(nonside)
            accumulator.groups.append(group)
            for item in group.keys:
                accumulator.by_key[item] = group
            for mid in group.mids:
                accumulator.by_mid.setdefault(mid, []).append(group)
        accumulator.memory = {str(key): int(first) for key, first in data["memory"].items()}
        accumulator.mid_memory = {
            str(mid): (int(known[0]), bool(known[1])) for mid, known in data["mid_memory"].items()
        }
        for session, branch, model, window, spans in data["intervals"]:
            accumulator.intervals[(str(session), branch, str(model), int(window))] = [
                [int(start), int(end)] for start, end in spans
            ]
        for session, branch, model, window, ts in data["errors"]:
            accumulator.errors[(str(session), branch, str(model), int(window))] = int(ts)
        return accumulator


def _order(piece: Slice) -> tuple[int, str, str, str, int]:
    return (piece.end, piece.session, piece.branch or "", piece.model, piece.window)


def _add_interval(spans: list[list[int]], start: int, end: int) -> None:
    """Add [start, end] to sorted, disjoint spans, merging what it touches."""
    last = spans[-1]
    if start >= last[0]:  # the usual case: records arrive in time order
        if start <= last[1]:
            if end > last[1]:
                last[1] = end
            return
        spans.append([start, end])
        return
    index = bisect_left(spans, [start, end])
    if index > 0 and spans[index - 1][1] >= start:
        index -= 1
        start = spans[index][0]
    stop = index
    while stop < len(spans) and spans[stop][0] <= end:
        end = max(end, spans[stop][1])
        stop += 1
    spans[index:stop] = [[start, end]]


def _tuple(value: Any) -> tuple[int | str, ...]:
    """A rank from the state: ints and strings only, so ranks always compare."""
    if not isinstance(value, list) or not all(
        isinstance(item, int | str) and not isinstance(item, bool) for item in value
    ):
        raise ValueError("rank")
    return tuple(value)


def _counts(value: Any) -> Counts:
    prompt, completion, read, write = value
    return (
        int(prompt),
        int(completion),
        None if read is None else int(read),
        None if write is None else int(write),
    )
