"""Claude Code session files (`projects/**/*.jsonl`): one JSON record per line.

Usage comes from `type: "assistant"` records, `message.usage`:

- `prompt_tokens = input_tokens + cache_creation_input_tokens + cache_read_input_tokens`
  (Anthropic's `input_tokens` counts only what follows the last cache breakpoint);
- `completion_tokens = output_tokens` (thinking is billed as output and already inside it);
- `cache_read_tokens = cache_read_input_tokens`, `cache_write_tokens =
  cache_creation_input_tokens` (or the sum of `cache_creation.ephemeral_5m/1h_input_tokens`);
  both None when the record has no cache fields at all.
- `usage.speed == "fast"` bills differently: the model is recorded as `<model>-fast`, as ccusage
  does.

Copies of one response share `message.id` + `requestId` (streaming partials write one line per
content block; resumes and forks copy lines, in the same file or another). The best copy is the
non-sidechain one, then the one with more tokens, then the one with `speed`. A sidechain record
(`isSidechain: true`: `/btw` asides, sub-agents) with a known `message.id` but a new `requestId`
is a replay of that message (ccusage #913). Without a `requestId` (gateways) the key is session
+ `message.id`. Skipped: `<synthetic>` messages, `null` in an id, model or usage field, empty
ids, and records whose `version` is not a semantic version (not written by Claude Code).
`isApiErrorMessage: true` marks a failed request. The session is the record's `sessionId`, the
branch its `gitBranch`, the scope its `cwd` (the first one in the file).
"""

from __future__ import annotations

import re
from typing import Any

from telemetry_csv.importing import instants
from telemetry_csv.importing.feed import (
    BAD_COUNT,
    NO_TIMESTAMP,
    UNKNOWN_TYPE,
    Feed,
    check_carry,
    count,
)

NULL_FIELD = "Claude Code record with null in an id, model or usage field"
EMPTY_ID = "Claude Code record with an empty id or model"
NOT_CLAUDE = "record without a Claude Code version"

KNOWN_TYPES = frozenset(
    {
        "user",
        "assistant",
        "system",
        "summary",
        "file-history-snapshot",
        "progress",
        "queue-operation",
        "attachment",
        "custom-title",
        "agent-name",
        "last-prompt",
        "tag",
        "result",
        "pr-link",
    }
)
_SEMVER = re.compile(r"[0-9]+\.[0-9]+\.[0-9]")
_NULLABLE_NOT = ("id", "model")
_USAGE_NULLABLE_NOT = ("cache_read_input_tokens", "cache_creation_input_tokens", "speed")


class FileParser:
    """Reads one file's records, carrying what the next import needs to continue."""

    def __init__(self, feed: Feed, fallback_session: str, carry: list[Any] | None) -> None:
        self.feed = feed
        self.fallback_session = fallback_session
        # Carried between imports: scope (None until a record names its cwd), the last
        # record's time, the model in use (for activity and errors).
        self.scope: bool | None = None
        self.previous: int | None = None
        self.model: str | None = None
        if carry:
            self.scope, self.previous, self.model = check_carry(carry, ((bool,), (int,), (str,)))
        self.pending: list[tuple[dict[str, Any], int]] = []
        self.span = instants.Span()  # the records' first and last instant, for re-reading

    def carry(self) -> list[Any]:
        return [self.scope, self.previous, self.model]

    @property
    def held_from(self) -> int | None:
        """Where reading must resume while the file's scope is still unknown."""
        return self.pending[0][1] if self.pending else None

    def record(self, data: dict[str, Any], start: int) -> None:
        if self.scope is None:
            cwd = data.get("cwd")
            if not isinstance(cwd, str) or not cwd:
                self.pending.append((data, start))
                return
            self.scope = self.feed.in_scope(cwd)
            if self.scope:
                pending, self.pending = self.pending, []
                for earlier, _ in pending:
                    self._read(earlier)
            else:
                self.pending = []
        if self.scope:
            self._read(data)

    def _read(self, data: dict[str, Any]) -> None:
        kind = data.get("type")
        ts = instants.parse(data.get("timestamp"))
        self.span.see(ts)
        if kind != "assistant":
            if kind not in KNOWN_TYPES:
                self.feed.skip(UNKNOWN_TYPE)
            if ts is not None:
                self._activity(data, ts, self.model)
            return
        message = data.get("message")
        if not isinstance(message, dict):
            if ts is not None:
                self._activity(data, ts, self.model)
            return
        if data.get("isApiErrorMessage") is True:
            if ts is not None and self.model is not None:
                session = self._session(data)
                self.feed.error(ts, session, self.feed.branch(data.get("gitBranch")), self.model)
                self._activity(data, ts, self.model)
            return
        usage = message.get("usage")
        model_name = message.get("model")
        if not isinstance(usage, dict) or model_name == "<synthetic>":
            if ts is not None:
                self._activity(data, ts, self.model)
            return
        model = self._usage_model(data, message, usage, model_name)
        if model is None:
            return
        if ts is None:
            self.feed.skip(NO_TIMESTAMP)
            return
        counts = _counts(usage)
        if counts is None:
            self.feed.skip(BAD_COUNT)
            return
        session = self._session(data)
        branch = self.feed.branch(data.get("gitBranch"))
        mid = message.get("id")
        rid = data.get("requestId")
        side = data.get("isSidechain") is True
        if isinstance(mid, str):
            key = f"{mid}\x1f{rid}" if isinstance(rid, str) else f"{session}\x1f{mid}"
        else:
            mid = None
            key = f"{session}\x1f{ts}\x1f{counts}"
        total = counts[0] + counts[1]
        speed = 1 if isinstance(usage.get("speed"), str) else 0
        rank = (0 if side else 1, total, speed, -ts, key)
        self.model = model
        self.feed.usage(ts, session, branch, model, counts, rank, key, mid, side)
        self._activity(data, ts, model)

    def _usage_model(
        self, data: dict[str, Any], message: dict[str, Any], usage: dict[str, Any], name: object
    ) -> str | None:
        if (
            any(field in message and message[field] is None for field in _NULLABLE_NOT)
            or any(field in usage and usage[field] is None for field in _USAGE_NULLABLE_NOT)
            or any(
                field in data and data[field] is None
                for field in ("requestId", "sessionId", "version", "isApiErrorMessage")
            )
        ):
            self.feed.skip(NULL_FIELD)
            return None
        version = data.get("version")
        if version is not None and not (isinstance(version, str) and _SEMVER.match(version)):
            self.feed.skip(NOT_CLAUDE)
            return None
        if (
            name == ""
            or message.get("id") == ""
            or data.get("requestId") == ""
            or data.get("sessionId") == ""
        ):
            self.feed.skip(EMPTY_ID)
            return None
        if usage.get("speed") == "fast" and isinstance(name, str):
            name = f"{name}-fast"
        return self.feed.model(name)

    def _session(self, data: dict[str, Any]) -> str:
        session = data.get("sessionId")
        return session if isinstance(session, str) and session else self.fallback_session

    def _activity(self, data: dict[str, Any], ts: int, model: str | None) -> None:
        previous = self.previous
        if previous is None or ts > previous:
            self.previous = ts
        if previous is None or model is None:
            return
        gap = ts - previous
        if 0 < gap <= self.feed.idle_ms:
            self.feed.activity(
                self._session(data), self.feed.branch(data.get("gitBranch")), model, previous, ts
            )


def _counts(usage: dict[str, Any]) -> tuple[int, int, int | None, int | None] | None:
    fresh = count(usage.get("input_tokens", 0))
    output = count(usage.get("output_tokens", 0))
    if fresh is None or output is None:
        return None
    has_cache = "cache_read_input_tokens" in usage or "cache_creation_input_tokens" in usage
    read = count(usage.get("cache_read_input_tokens", 0))
    write: int | None
    if "cache_creation_input_tokens" in usage:
        write = count(usage["cache_creation_input_tokens"])
    else:
        split = usage.get("cache_creation")
        write = 0
        if isinstance(split, dict):
            has_cache = True
            parts = [count(value) for value in split.values() if value is not None]
            write = (
                None
                if any(part is None for part in parts)
                else sum(p for p in parts if p is not None)
            )
    if read is None or write is None:
        return None
    if not has_cache:
        return (fresh, output, None, None)
    return (fresh + read + write, output, read, write)


def fallback_session(parts: tuple[str, ...]) -> str:
    """The session a file belongs to when its records do not say: the session folder of the
    nested layout (`<project>/<session>/…`), else the file's name."""
    if len(parts) >= 3:
        return parts[1]
    name = parts[-1]
    return name[: -len(".jsonl")] if name.endswith(".jsonl") else name
