"""Codex CLI rollout files (`sessions/YYYY/MM/DD/rollout-*.jsonl`).

Each line is `{"timestamp", "type", "payload"}` (openai/codex `RolloutItem`). Usage comes from
`event_msg` records with `payload.type == "token_count"`: `payload.info.total_token_usage` is
cumulative for the session, so each record's usage is its difference from the previous one. A
difference of zero is a re-emitted counter (Codex repeats it for rate-limit refreshes; ccusage
#884, #1288) and is skipped; `last_token_usage` is used only where the totals are missing or go
backwards. Mapping of one difference:

- `prompt_tokens = input_tokens` (which already includes `cached_input_tokens`);
- `completion_tokens = output_tokens` (reasoning is part of it; `reasoning_output_tokens` is a
  breakdown);
- `cache_read_tokens = cached_input_tokens`; `cache_write_tokens = cache_write_input_tokens`
  where a build records it, else 0 (OpenAI bills no cache writes).

The model is the last `turn_context.payload.model`; files from before Codex wrote one (some of
September 2025) need a fallback model from the caller, or their usage is skipped and counted.
The session is `session_meta.payload.id`, the branch `session_meta.payload.git.branch`, the scope
`session_meta.payload.cwd`.

A forked or spawned session (`forked_from_id`, `parent_thread_id`,
`source.subagent.thread_spawn`, or a second `session_meta` line) starts by replaying its parent's
history, either with the original timestamps or restamped in a burst at the fork (ccusage
#950, #1349, `detect_subagent_replay_second`). That replay is the leading run of records that
are older than the fork or less than a second apart: its `token_count` records only set the
baseline of the cumulative totals. A copy of a whole rollout (Codex Desktop branches) repeats
records with their timestamps: the key of a difference is its time, model and numbers, so the
copies are one response.
"""

from __future__ import annotations

from typing import Any

from telemetry_csv.importing import instants
from telemetry_csv.importing.feed import NO_MODEL, UNKNOWN_TYPE, Feed, check_carry, count

BACKWARDS = "Codex token counter went backwards"
BAD_TOTALS = "Codex token count with invalid numbers"
REPLAY_GAP_MS = 1000  # the restamped replay is written in one burst
KNOWN_TYPES = frozenset({"session_meta", "response_item", "compacted", "turn_context", "event_msg"})
_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")


# What a file's parser carries from one import to the next (the state of a file read up to
# where it was when the import ran), with the kinds each may hold: one list, read and written.
_CARRIED: tuple[tuple[str, tuple[type, ...]], ...] = (
    ("scope", (bool,)),
    ("session", (str,)),
    ("branch", (str,)),
    ("metas", (int,)),
    ("child", (bool,)),
    ("fork_at", (int,)),
    ("replaying", (bool,)),
    ("replay_last", (int,)),
    ("totals", (list,)),
    ("model", (str,)),
    ("previous", (int,)),
    ("own_usage", (bool,)),
)


class FileParser:
    def __init__(self, feed: Feed, fallback_session: str, carry: list[Any] | None) -> None:
        self.feed = feed
        self.scope: bool | None = None
        self.session: str = fallback_session
        self.branch: str | None = None
        self.metas = 0  # `session_meta` lines met
        self.child = False  # forked or spawned: starts with a replay of its parent
        self.fork_at: int | None = None
        self.replaying = False
        self.replay_last: int | None = None
        self.totals: list[int] | None = None  # the last cumulative totals
        self.model: str | None = None
        self.previous: int | None = None
        self.own_usage = False
        if carry:
            kinds = tuple(kind for _, kind in _CARRIED)
            for (name, _), value in zip(_CARRIED, check_carry(carry, kinds), strict=True):
                setattr(self, name, value)
            totals = self.totals
            if totals is not None and (
                len(totals) != 5
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in totals)
            ):
                raise ValueError("carry")
            if not isinstance(self.session, str):
                raise ValueError("carry")
        self.pending: list[tuple[dict[str, Any], int]] = []
        self.span = instants.Span()  # the records' first and last instant, for re-reading

    def carry(self) -> list[Any]:
        return [getattr(self, name) for name, _ in _CARRIED]

    @property
    def held_from(self) -> int | None:
        return self.pending[0][1] if self.pending else None

    def record(self, data: dict[str, Any], start: int) -> None:
        kind = data.get("type")
        payload = data.get("payload")
        if not isinstance(payload, dict):
            payload = {}
        if kind == "session_meta":
            self._meta(data, payload)
        elif self.scope is None and kind == "turn_context":
            self._decide(payload.get("cwd"))  # rollouts from before `session_meta` had a cwd
        if self.scope is None:
            self.pending.append((data, start))
            return
        if self.pending:
            pending, self.pending = self.pending, []
            for earlier, _ in pending:
                self._read(earlier)
        self._read(data)

    def _meta(self, data: dict[str, Any], payload: dict[str, Any]) -> None:
        self.metas += 1
        ts = instants.parse(data.get("timestamp"))
        if self.metas > 1:
            # A parent's header embedded after the child's: the replay of its history follows.
            if not self.own_usage and not self.child:
                self.child, self.replaying = True, True
                self.fork_at = self.fork_at if self.fork_at is not None else ts
                self.replay_last = ts if ts is not None else self.fork_at
            return
        session = payload.get("id")
        if isinstance(session, str) and session:
            self.session = session
        git = payload.get("git")
        if isinstance(git, dict):
            self.branch = self.feed.branch(git.get("branch"))
        self.fork_at = ts if ts is not None else instants.parse(payload.get("timestamp"))
        if _is_child(payload):
            self.child, self.replaying = True, True
            self.replay_last = self.fork_at
        if self.scope is None:
            self._decide(payload.get("cwd"))

    def _decide(self, cwd: object) -> None:
        if isinstance(cwd, str) and cwd:
            self.scope = self.feed.in_scope(cwd)

    def _read(self, data: dict[str, Any]) -> None:
        if not self.scope:
            return
        kind = data.get("type")
        ts = instants.parse(data.get("timestamp"))
        self.span.see(ts)
        if kind == "session_meta":
            return
        if kind not in KNOWN_TYPES:
            self.feed.skip(UNKNOWN_TYPE)
            return
        payload = data.get("payload")
        if not isinstance(payload, dict):
            return
        replay = self._in_replay(ts)
        if kind == "turn_context":
            model = payload.get("model")
            if isinstance(model, str) and model:
                self.model = model
        if kind == "event_msg":
            event = payload.get("type")
            if event == "token_count":
                self._token_count(ts, payload, replay)
            elif event == "error" and not replay and ts is not None:
                model = self.model or self.feed.fallback_model
                if model is not None:
                    self.feed.error(ts, self.session, self.branch, model)
        if ts is not None and not (replay and self.fork_at is not None and ts < self.fork_at):
            # A replay restamped at the fork lasts milliseconds and may run into the child's
            # first prompt, so only a replay with the parent's own (older) times is left out.
            self._activity(ts)

    def _in_replay(self, ts: int | None) -> bool:
        if not self.replaying:
            return False
        if ts is None:
            return True
        fork_at, last = self.fork_at, self.replay_last
        if (fork_at is not None and ts < fork_at) or (
            last is not None and 0 <= ts - last <= REPLAY_GAP_MS
        ):
            if last is None or ts > last:
                self.replay_last = ts
            return True
        self.replaying = False
        return False

    def _token_count(self, ts: int | None, payload: dict[str, Any], replay: bool) -> None:
        info = payload.get("info")
        if not isinstance(info, dict):
            return  # rate limits only
        try:
            total = _usage(info.get("total_token_usage"))
            last = _usage(info.get("last_token_usage"))
        except ValueError:
            self.feed.skip(BAD_TOTALS)
            return
        if replay:
            if total is not None:
                self.totals = total
            return
        delta: list[int] | None
        if total is not None:
            previous = self.totals or [0, 0, 0, 0, 0]
            delta = [now - before for now, before in zip(total, previous, strict=True)]
            self.totals = total
            if min(delta) < 0:
                if last is None:
                    self.feed.skip(BACKWARDS)
                    return
                delta = last
        elif last is not None:
            delta = last
        else:
            return
        if not any(delta):
            return  # the same totals again
        if ts is None:
            self.feed.skip("usage record without a valid timestamp")
            return
        name = self.model or _named_model(payload, info) or self.feed.fallback_model
        if name is None:
            self.feed.skip(NO_MODEL)
            return
        model = self.feed.model(name)
        if model is None:
            return
        self.own_usage = True
        fresh, cached, output, _reasoning, written = delta
        counts = (fresh, output, min(cached, fresh), written)
        key = f"{ts}\x1f{model}\x1f{delta}"
        self.feed.usage(ts, self.session, self.branch, model, counts, (0,), key)

    def _activity(self, ts: int) -> None:
        previous = self.previous
        if previous is None or ts > previous:
            self.previous = ts
        model = self.model or self.feed.fallback_model
        if previous is None or model is None:
            return
        if 0 < ts - previous <= self.feed.idle_ms:
            self.feed.activity(self.session, self.branch, model, previous, ts)


def _is_child(payload: dict[str, Any]) -> bool:
    if payload.get("forked_from_id") or payload.get("parent_thread_id"):
        return True
    if payload.get("thread_source") == "subagent":
        return True
    source = payload.get("source")
    if isinstance(source, dict):
        subagent = source.get("subagent")
        if isinstance(subagent, dict) and "thread_spawn" in subagent:
            return True
    return False


def _usage(value: object) -> list[int] | None:
    """[input, cached, output, reasoning, cache writes], None when absent; ValueError when
    damaged."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("not an object")
    numbers = []
    for field in (*_FIELDS, "cache_write_input_tokens"):
        number = count(value.get(field, 0))
        if number is None:
            raise ValueError(field)
        numbers.append(number)
    return numbers


def _named_model(payload: dict[str, Any], info: dict[str, Any]) -> str | None:
    for holder in (info, payload):
        for field in ("model", "model_name"):
            name = holder.get(field)
            if isinstance(name, str) and name:
                return name
    return None


def fallback_session(parts: tuple[str, ...]) -> str:
    """A rollout's id from its name, `rollout-<time>-<id>.jsonl`, when no header says it."""
    name = parts[-1].removesuffix(".jsonl")
    pieces = name.split("-")
    return "-".join(pieces[-5:]) if len(pieces) > 5 else name
