"""Gemini CLI chat recordings (`<data>/<project>/chats/**`), JSONL and the legacy JSON form.

A JSONL file starts with a metadata record (`sessionId`, `projectHash`, `startTime`, `kind`,
`directories`), then message records (`id`, `timestamp`, `type`: `user`, `gemini`, `info`,
`error`, `warning`), metadata updates `{"$set": {…}}` (which may carry a whole `messages` array
as a checkpoint) and rewinds `{"$rewindTo": id}` (google-gemini/gemini-cli
`chatRecordingService.ts`). A message is appended again each time it changes (its tokens arrive
after it was first written, tool calls are added): the last record of an id counts, and its
tokens are counted once. A rewind removes messages from the conversation, not from the bill, so
it changes nothing here. A legacy `.json` file is one conversation object with `messages`;
resuming it copies its messages into a `.jsonl` file, which are then the same messages.

Mapping of a `gemini` message's `tokens` (`input` = promptTokenCount, which includes the cached
tokens; `output` = candidatesTokenCount; `thoughts`; `tool` = toolUsePromptTokenCount):

- `prompt_tokens = input + tool` (plus `cached` in the rare files whose `total` shows it was
  counted outside `input`, as ccusage checks);
- `completion_tokens = output + thoughts` (thinking is billed as output);
- `cache_read_tokens = cached`; `cache_write_tokens = 0` (Gemini bills no cache writes in a
  chat; explicit caches are created elsewhere).

`error` messages mark a failed request. There is no branch. The scope is the project folder's
path: its `.project_root` file or `projects.json` (current Gemini CLI), else a legacy folder is
named by the SHA-256 of the path, which matches only a session started at the root itself; a
sub-agent's `directories` also count.
"""

from __future__ import annotations

import hashlib
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

KNOWN_MESSAGES = frozenset({"user", "gemini", "info", "error", "warning"})
MISSING_ID = "Gemini message without an id"


class FileParser:
    def __init__(
        self,
        feed: Feed,
        fallback_session: str,
        carry: list[Any] | None,
        *,
        project: str = "",
        project_root: str | None = None,
    ) -> None:
        self.feed = feed
        self.scope: bool | None = None
        self.session: str = fallback_session
        self.model: str | None = None
        self.previous: int | None = None
        self.order = 0  # records met in this file, so a later copy of a message wins
        if carry:
            self.scope, self.session, self.model, self.previous, self.order = check_carry(
                carry, ((bool,), (str,), (str,), (int,), (int,))
            )
            if not isinstance(self.session, str) or not isinstance(self.order, int):
                raise ValueError("carry")
        else:
            self.scope = _project_scope(feed, project, project_root)
        self.pending: list[tuple[dict[str, Any], int]] = []
        self.span = instants.Span()  # the records' first and last instant, for re-reading

    def carry(self) -> list[Any]:
        return [self.scope, self.session, self.model, self.previous, self.order]

    @property
    def held_from(self) -> int | None:
        return self.pending[0][1] if self.pending else None

    def record(self, data: dict[str, Any], start: int) -> None:
        if "sessionId" in data and "projectHash" in data:
            self._metadata(data)
            messages = data.get("messages")  # a legacy conversation on one line
            if isinstance(messages, list):
                for message in messages:
                    if isinstance(message, dict):
                        self._message(message)
            return
        if "$rewindTo" in data:
            return  # the rewound messages were billed all the same
        update = data.get("$set")
        if isinstance(update, dict):
            self._metadata(update)
            messages = update.get("messages")
            if isinstance(messages, list):
                for message in messages:
                    if isinstance(message, dict):
                        self._message(message)
            return
        if isinstance(data.get("id"), str):
            self._message(data)
            return
        self.feed.skip(UNKNOWN_TYPE)

    def document(self, data: object) -> None:
        """A legacy `.json` conversation, read whole."""
        if not isinstance(data, dict):
            self.feed.skip(UNKNOWN_TYPE)
            return
        self._metadata(data)
        messages = data.get("messages")
        if isinstance(messages, list):
            for message in messages:
                if isinstance(message, dict):
                    self._message(message)

    def _metadata(self, data: dict[str, Any]) -> None:
        session = data.get("sessionId")
        if isinstance(session, str) and session:
            self.session = session
        if self.scope:
            return
        directories = data.get("directories")
        if isinstance(directories, list) and any(self.feed.in_scope(d) for d in directories):
            self.scope = True
        elif self.scope is None:
            # A legacy folder named by a hash that is not the root's: another project, or a
            # folder inside this one, which the hash cannot tell apart.
            project_hash = data.get("projectHash")
            self.scope = isinstance(project_hash, str) and project_hash in _hashes(self.feed)

    def _message(self, message: dict[str, Any]) -> None:
        if not self.scope:
            return
        self.order += 1
        kind = message.get("type")
        ts = instants.parse(message.get("timestamp"))
        self.span.see(ts)
        if kind not in KNOWN_MESSAGES:
            self.feed.skip(UNKNOWN_TYPE)
        model = self.model
        if kind == "gemini":
            named = message.get("model")
            if isinstance(named, str) and named:
                model = self.model = named
            tokens = message.get("tokens")
            if isinstance(tokens, dict):
                self._usage(message, ts, tokens)
        elif kind == "error" and ts is not None and model is not None:
            self.feed.error(ts, self.session, None, model)
        if ts is not None:
            self._activity(ts, model)

    def _usage(self, message: dict[str, Any], ts: int | None, tokens: dict[str, Any]) -> None:
        if ts is None:
            self.feed.skip(NO_TIMESTAMP)
            return
        fields = [
            count(tokens.get(name) or 0)
            for name in ("input", "output", "cached", "thoughts", "tool")
        ]
        total = tokens.get("total")
        if any(value is None for value in fields):
            self.feed.skip(BAD_COUNT)
            return
        fresh, output, cached, thoughts, tool = (value or 0 for value in fields)
        if not (fresh or output or cached or thoughts or tool):
            return
        inclusive = fresh + output + thoughts + tool
        if cached and total == inclusive + cached:
            fresh += cached  # this file counted cached tokens outside `input`
        if self.model is None:
            self.feed.skip("usage record without a model")
            return
        model = self.feed.model(self.model)
        if model is None:
            return
        counts = (fresh + tool, output + thoughts, min(cached, fresh), 0)
        key = message.get("id")
        if not isinstance(key, str) or not key:
            self.feed.skip(MISSING_ID)
            return
        self.feed.usage(ts, self.session, None, model, counts, (self.order,), key)

    def _activity(self, ts: int, model: str | None) -> None:
        previous = self.previous
        if previous is None or ts > previous:
            self.previous = ts
        if previous is None or model is None:
            return
        if 0 < ts - previous <= self.feed.idle_ms:
            self.feed.activity(self.session, None, model, previous, ts)


def _project_scope(feed: Feed, project: str, project_root: str | None) -> bool | None:
    if feed.root is None:
        return True
    if project_root is not None:
        return feed.in_scope(project_root)
    if project and project in _hashes(feed):
        return True
    return None  # perhaps a sub-agent's `directories` or the metadata's hash will say


_hash_cache: dict[str, frozenset[str]] = {}


def _hashes(feed: Feed) -> frozenset[str]:
    """SHA-256 of the root as legacy Gemini CLIs named project folders (both spellings)."""
    root = feed.root or ""
    known = _hash_cache.get(root)
    if known is None:
        known = frozenset(hashlib.sha256(spelling.encode()).hexdigest() for spelling in feed.roots)
        _hash_cache[root] = known
    return known


def fallback_session(parts: tuple[str, ...]) -> str:
    name = parts[-1]
    for suffix in (".jsonl", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name
