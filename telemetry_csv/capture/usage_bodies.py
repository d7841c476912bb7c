"""Model and token counts from an LLM provider's response body: a JSON object, an array of
streamed chunks, JSON lines, or a server-sent-events stream. Each event is recognised by the
shape its provider documents; a stream's counts come from its final usage (they are cumulative).
`prompt_tokens` always means every token the model read, `completion_tokens` every token it
wrote: how each provider's fields add up to them is in docs/usage-json.md ("Token counts from API
responses"). The parts of `prompt_tokens` read from and written to the provider's prompt cache
fill `cache_read_tokens` and `cache_write_tokens` where the response has them (docs/format.md):
Anthropic's `cache_read_input_tokens` and `cache_creation_input_tokens`, OpenAI's `cached_tokens`
(OpenAI bills no cache writes), Gemini's `cachedContentTokenCount`. Imported only when a body is
given, so `log` starts no slower without one.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from telemetry_csv import fs
from telemetry_csv.errors import TelemetryError

MAX_BODY_BYTES = 32 * 1024 * 1024  # far above any real response; a larger file is a mistake

OPENAI_CHAT = "OpenAI Chat Completions"
OPENAI_RESPONSES = "OpenAI Responses"
ANTHROPIC = "Anthropic Messages"
GEMINI = "Google Gemini"

EXPECTED = (
    "expected an OpenAI (usage.prompt_tokens or usage.input_tokens), Anthropic "
    "(usage.input_tokens) or Gemini (usageMetadata.promptTokenCount) response"
)


class UsageJsonError(TelemetryError):
    """A response body that cannot be read or holds no usable token counts."""


@dataclass(frozen=True)
class Usage:
    """What a response says about itself, already folded into the log's two token columns."""

    provider: str
    model: str | None
    prompt_tokens: int
    completion_tokens: int
    # What the folding added, as (column, note): a note matters only if its column is used.
    details: tuple[tuple[str, str], ...] = ()
    cache_read_tokens: int | None = None  # parts of prompt_tokens; None: the response does not say
    cache_write_tokens: int | None = None


@dataclass
class _Reading:
    """The usage one event contributes to its response."""

    provider: str
    response_id: str | None = None
    model: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    final: bool = False  # this event carries the response's final counts
    whole: bool = False  # a complete, non-streamed response
    stream_hint: str | None = None  # why a stream without final counts has none


# Reading the body.


def read_body(name: str, stdin: BinaryIO | None = None) -> bytes:
    """The bytes of the file `name`, or of standard input for `-`, refusing huge ones."""
    where = f"--usage-json {name}"
    try:
        if name == "-":
            source = stdin if stdin is not None else _standard_input()
            data = source.read(MAX_BODY_BYTES + 1)
        else:
            with open(name, "rb") as file:
                data = file.read(MAX_BODY_BYTES + 1)
    except IsADirectoryError:
        raise UsageJsonError(f"{where}: is a folder, not a file") from None
    except OSError as error:
        what = "standard input" if name == "-" else "it"
        raise UsageJsonError(f"{where}: cannot read {what}: {fs.reason(error)}") from None
    if len(data) > MAX_BODY_BYTES:  # one byte more than allowed was read: enough to tell
        raise UsageJsonError(f"{where}: {_too_large()}")
    return data


def _standard_input() -> BinaryIO:
    if sys.stdin is None:  # descriptor 0 was closed when we started (`<&-`)
        raise UsageJsonError(
            "--usage-json -: standard input is closed; pipe a response body into it, or give a file"
        )
    return sys.stdin.buffer


def _too_large() -> str:
    return f"larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB; expected one response body"


def read_usage(name: str, stdin: BinaryIO | None = None) -> Usage:
    """The usage in the response body in file `name` (or `-` for standard input)."""
    return usage_from_body(read_body(name, stdin), source=name)


def usage_from_body(data: bytes | str, *, source: str = "-") -> Usage:
    """The usage in one response body: JSON, a JSON array of chunks, JSON lines or SSE."""
    return _usage_in_body(data, f"--usage-json {source}")


def usage_from_response(response: object) -> Usage:
    """The usage in a response already in memory: a dict from `json.loads`, a body as text or
    bytes, a list of streamed chunks, or an SDK object with `model_dump()` / `to_dict()` (OpenAI,
    Anthropic, google-genai)."""
    if isinstance(response, str | bytes):
        return _usage_in_body(response, "response")
    value = _plain(response)
    # A stream kept in memory is a list of chunks, each possibly an SDK object itself.
    events = [_plain(chunk) for chunk in value] if isinstance(value, list) else [value]
    try:
        return _combine(events)
    except ValueError as error:
        raise UsageJsonError(f"response: {error}") from None


def _usage_in_body(data: bytes | str, where: str) -> Usage:
    """`usage_from_body`, with `where` (the option and file, or "response") opening errors."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise UsageJsonError(
                f"{where}: not UTF-8 text (byte {error.start + 1}); expected a JSON response body"
            ) from None
    else:
        text = data.removeprefix("\ufeff")
    try:
        return _combine(_events(text))
    except ValueError as error:
        raise UsageJsonError(f"{where}: {error}") from None
    except RecursionError:
        raise UsageJsonError(f"{where}: JSON nested too deeply to be a response") from None


def _plain(response: object) -> Any:
    """A decoded JSON value as it is; an SDK object as the dict it dumps to."""
    if isinstance(response, dict | list | int | float | type(None)):
        return response
    for method in ("model_dump", "to_dict"):
        dump = getattr(response, method, None)
        if callable(dump):
            return dump()
    raise UsageJsonError(
        f"response: a {type(response).__name__} is not a response body; {EXPECTED} "
        "as a dict, JSON text or an SDK response object"
    )


def _events(text: str) -> list[Any]:
    """The JSON values in a body, in order; raises ValueError saying why there are none."""
    body = text.strip()
    if not body:
        raise ValueError(f"empty; {EXPECTED}")
    try:
        value = _loads(body)
    except json.JSONDecodeError as whole_error:
        lines = body.splitlines()
        if any(line.startswith("data:") for line in lines):
            return list(_sse_payloads(lines))
        if len(lines) > 1 and lines[0].lstrip().startswith(("{", "[")):
            return list(_json_lines(lines))
        raise ValueError(
            f"not JSON, JSON lines or a server-sent-events stream (line {whole_error.lineno}, "
            f"column {whole_error.colno}: {whole_error.msg})"
        ) from None
    return value if isinstance(value, list) else [value]


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError:  # Python's limit on the digits of an integer, not a syntax error
        raise ValueError("a number in it is too long to be a token count") from None


def _sse_payloads(lines: list[str]) -> Iterator[Any]:
    """The JSON `data` of each server-sent event; `[DONE]` and comments are skipped."""
    data: list[str] = []
    start = 0
    for number, line in enumerate([*lines, ""], start=1):
        if not line.strip():
            if data:
                payload = "\n".join(data).strip()
                if payload and payload != "[DONE]":
                    try:
                        yield _loads(payload)
                    except json.JSONDecodeError as error:
                        raise ValueError(
                            f"the event at line {start} is not JSON ({error.msg})"
                        ) from None
                data = []
            continue
        if line.startswith("data:"):
            if not data:
                start = number
            value = line[5:]
            data.append(value[1:] if value.startswith(" ") else value)
        elif not line.startswith((":", "event:", "id:", "retry:")):
            raise ValueError(
                f"line {number} is not part of a server-sent-events stream: {line[:40]!r}"
            )


def _json_lines(lines: list[str]) -> Iterator[Any]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                yield _loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"line {number} is not JSON ({error.msg})") from None


# Recognising each provider's events.


def _readings(event: Any) -> Iterator[_Reading]:
    if not isinstance(event, dict):
        return
    kind = event.get("type")
    if isinstance(kind, str):
        if kind == "message_start" and isinstance(event.get("message"), dict):
            reading = _anthropic(event["message"], "message.")
            reading.final = False  # only message_delta has the final output count
            reading.stream_hint = (
                "the Anthropic stream ended before its message_delta event, which holds the "
                "final counts"
            )
            yield reading
            return
        if kind == "message_delta":
            yield _anthropic(event, "")
            return
        if kind.startswith("response.") and isinstance(event.get("response"), dict):
            yield _responses(event["response"], "response.")
            return
    # A bare body, without the type or object marker, is told by its usage's own keys.
    bare = kind is None and event.get("object") is None
    usage = event.get("usage")
    if event.get("object") == "response" or (bare and _responses_shaped(usage)):
        reading = _responses(event, "")
        reading.whole = True
        yield reading
        return
    if kind == "message" or (bare and _anthropic_shaped(usage)):
        reading = _anthropic(event, "")
        reading.whole = True
        yield reading
        return
    if "usageMetadata" in event or "usage_metadata" in event:
        yield _gemini(event)
        return
    if event.get("object") in ("chat.completion", "chat.completion.chunk", "text_completion") or (
        isinstance(usage, dict) and "prompt_tokens" in usage
    ):
        yield _openai_chat(event)


def _anthropic_shaped(usage: Any) -> bool:
    return isinstance(usage, dict) and "input_tokens" in usage and "prompt_tokens" not in usage


def _responses_shaped(usage: Any) -> bool:
    """OpenAI responses usage: input/output tokens like Anthropic's, plus their details."""
    return _anthropic_shaped(usage) and (
        "input_tokens_details" in usage or "output_tokens_details" in usage
    )


def _anthropic(message: dict[str, Any], prefix: str) -> _Reading:
    reading = _Reading(ANTHROPIC, _text(message, "id"), _model(message, "model", prefix))
    usage = message.get("usage")
    if isinstance(usage, dict):
        for name in (
            "input_tokens",
            "output_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
        ):
            _count(reading, usage, name, f"{prefix}usage.")
        reading.final = bool(reading.counts)
    return reading


def _responses(response: dict[str, Any], prefix: str) -> _Reading:
    reading = _Reading(OPENAI_RESPONSES, _text(response, "id"), _model(response, "model", prefix))
    reading.stream_hint = (
        "the OpenAI responses stream ended before its response.completed event, which holds "
        "the counts"
    )
    usage = response.get("usage")
    if isinstance(usage, dict):
        for name in ("input_tokens", "output_tokens"):
            _count(reading, usage, name, f"{prefix}usage.")
        details = usage.get("input_tokens_details")
        if isinstance(details, dict):
            _count(reading, details, "cached_tokens", f"{prefix}usage.input_tokens_details.")
        reading.final = True
    return reading


def _openai_chat(event: dict[str, Any]) -> _Reading:
    reading = _Reading(OPENAI_CHAT, _text(event, "id"), _model(event, "model", ""))
    reading.whole = event.get("object") != "chat.completion.chunk"
    reading.stream_hint = (
        'the OpenAI stream has no usage; request it with stream_options: {"include_usage": true}'
    )
    usage = event.get("usage")
    if isinstance(usage, dict):
        for name in ("prompt_tokens", "completion_tokens"):
            _count(reading, usage, name, "usage.")
        details = usage.get("prompt_tokens_details")
        if isinstance(details, dict):
            _count(reading, details, "cached_tokens", "usage.prompt_tokens_details.")
        reading.final = "prompt_tokens" in reading.counts
    return reading


_GEMINI_COUNTS = (
    ("promptTokenCount", "prompt_token_count"),
    ("candidatesTokenCount", "candidates_token_count"),
    ("toolUsePromptTokenCount", "tool_use_prompt_token_count"),
    ("thoughtsTokenCount", "thoughts_token_count"),
    ("totalTokenCount", "total_token_count"),
    ("cachedContentTokenCount", "cached_content_token_count"),
)


def _gemini(event: dict[str, Any]) -> _Reading:
    # The REST API writes camelCase; google-genai's `model_dump()` writes snake_case.
    camel = "usageMetadata" in event
    reading = _Reading(
        GEMINI,
        _text(event, "responseId" if camel else "response_id"),
        _model(event, "modelVersion" if camel else "model_version", ""),
    )
    usage = event["usageMetadata" if camel else "usage_metadata"]
    if isinstance(usage, dict):
        path = "usageMetadata." if camel else "usage_metadata."
        for key, snake in _GEMINI_COUNTS:
            _count(reading, usage, key if camel else snake, path, key)
        # A zero count is left out of Gemini's JSON, so any count present makes a final reading.
        reading.final = bool(reading.counts)
    return reading


def _count(
    reading: _Reading, usage: dict[str, Any], name: str, path: str, key: str | None = None
) -> None:
    """Record `usage[name]` under `key` (default: the same name), refusing what is not a count."""
    value = usage.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(
            f"{path}{name} is {json.dumps(value)[:40]}; expected a whole number of tokens, 0 or more"
        )
    reading.counts[key or name] = value


def _text(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def _model(obj: dict[str, Any], key: str, prefix: str) -> str | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{prefix}{key} is {json.dumps(value)[:40]}; expected a model name")
    return value


# One response's usage from all its events.


def _combine(events: list[Any]) -> Usage:
    readings = [reading for event in events for reading in _readings(event)]
    if not readings:
        raise ValueError(_error_summary(events) or f"no token usage found; {EXPECTED}")
    providers = {reading.provider for reading in readings}
    if len(providers) > 1:
        raise ValueError(f"mixes {' and '.join(sorted(providers))} events; expected one response")
    # Streamed events of one response share its id; complete responses each count on their own.
    responses = list(
        dict.fromkeys(
            reading.response_id or f"response {index}"
            for index, reading in enumerate(readings, start=1)
            if reading.response_id or reading.whole
        )
    )
    if len(responses) > 1:
        shown = ", ".join(responses[:3]) + (", …" if len(responses) > 3 else "")
        raise ValueError(
            f"holds {len(responses)} responses ({shown}); expected one response per row"
        )
    if not any(reading.final for reading in readings):
        hint = next((r.stream_hint for r in readings if r.stream_hint), None)
        raise ValueError(hint or f"no token usage found; {EXPECTED}")
    counts: dict[str, int] = {}
    for reading in readings:
        counts.update(reading.counts)  # streamed counts are cumulative: the last one stands
    model = next((reading.model for reading in readings if reading.model), None)
    provider = readings[0].provider
    return _fold(provider, model, counts)


def _error_summary(events: list[Any]) -> str | None:
    """What an API error body says, so a failed request reads as one."""
    for event in events:
        if not isinstance(event, dict):
            continue
        error = event.get("error")
        if isinstance(error, dict):
            kind = error.get("type") or error.get("status") or error.get("code") or "error"
            kind = " ".join(str(kind).split())[:60]
            message = " ".join(str(error.get("message") or "").split())
            if len(message) > 120:
                message = message[:120] + "…"
            return f"an API error, not a response with token usage: {kind}: {message}"
    return None


def _fold(provider: str, model: str | None, counts: dict[str, int]) -> Usage:
    details: list[tuple[str, str]] = []
    if provider == OPENAI_CHAT:
        prompt = counts["prompt_tokens"]
        return Usage(
            provider,
            model,
            prompt,
            counts.get("completion_tokens", 0),
            cache_read_tokens=_openai_cached(counts, prompt),
            cache_write_tokens=0 if "cached_tokens" in counts else None,
        )
    if provider == OPENAI_RESPONSES:
        for name in ("input_tokens", "output_tokens"):
            if name not in counts:
                raise ValueError(f"usage.{name} is missing; {EXPECTED}")
        prompt = counts["input_tokens"]  # includes the cached tokens
        return Usage(
            provider,
            model,
            prompt,
            counts["output_tokens"],
            cache_read_tokens=_openai_cached(counts, prompt),
            cache_write_tokens=0 if "cached_tokens" in counts else None,
        )
    if provider == ANTHROPIC:
        for name in ("input_tokens", "output_tokens"):
            if name not in counts:
                raise ValueError(f"usage.{name} is missing; {EXPECTED}")
        written = counts.get("cache_creation_input_tokens", 0)
        read = counts.get("cache_read_input_tokens", 0)
        cached = [
            f"{n:,} {label}" for n, label in ((written, "cache-write"), (read, "cache-read")) if n
        ]
        if cached:
            details.append(
                ("prompt_tokens", f"prompt_tokens includes {' and '.join(cached)} tokens")
            )
        prompt = counts["input_tokens"] + written + read
        known = any(
            name in counts for name in ("cache_creation_input_tokens", "cache_read_input_tokens")
        )
        return Usage(
            provider,
            model,
            prompt,
            counts["output_tokens"],
            tuple(details),
            cache_read_tokens=read if known else None,
            cache_write_tokens=written if known else None,
        )
    # Gemini: a zero count is left out of its JSON, so a missing cache count is 0; a chat writes
    # no cache (explicit caches are created, and billed, by their own calls).
    prompt = counts.get("promptTokenCount", 0)
    completion = counts.get("candidatesTokenCount", 0)
    if counts.get("toolUsePromptTokenCount"):
        prompt += counts["toolUsePromptTokenCount"]
        details.append(
            (
                "prompt_tokens",
                f"prompt_tokens includes {counts['toolUsePromptTokenCount']:,} tool-use "
                "prompt tokens",
            )
        )
    if counts.get("thoughtsTokenCount"):
        completion += counts["thoughtsTokenCount"]
        details.append(
            (
                "completion_tokens",
                f"completion_tokens includes {counts['thoughtsTokenCount']:,} thinking tokens",
            )
        )
    cached_read = min(counts.get("cachedContentTokenCount", 0), prompt)
    return Usage(
        provider,
        model,
        prompt,
        completion,
        tuple(details),
        cache_read_tokens=cached_read,
        cache_write_tokens=0,
    )


def _openai_cached(counts: dict[str, int], prompt: int) -> int | None:
    """OpenAI's cached prompt tokens (a part of the prompt tokens), or None if not reported."""
    cached = counts.get("cached_tokens")
    return None if cached is None else min(cached, prompt)


# Combining with values given on the command line or in code.

TAKEN = ("model", "prompt_tokens", "completion_tokens")
CACHE_TAKEN = ("cache_read_tokens", "cache_write_tokens")


def fill_from_usage(
    values: dict[str, object], usage: Usage
) -> tuple[dict[str, object], tuple[str, ...]]:
    """`values` with model and token counts the caller left out taken from the response.

    Values the caller gave win; the notices say where they differ from the response, and what
    the provider's counts were folded from. The cache parts are taken with the prompt tokens
    they are part of, and only then: they would not fit prompt tokens given by hand.
    """
    taken = {
        "model": usage.model,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
    }
    filled = dict(values)
    notices: list[str] = []
    for name in TAKEN:
        from_response = taken[name]
        if from_response is None:
            continue
        if name not in filled:
            filled[name] = from_response
        elif str(filled[name]).strip() != str(from_response):
            shown = f"{from_response:,}" if isinstance(from_response, int) else from_response
            notices.append(f"{name}: using the given {filled[name]!s}, not the response's {shown}")
    if "model" not in filled:
        raise UsageJsonError(
            f"model is missing: the {usage.provider} response does not name one; give it with --model"
        )
    if "prompt_tokens" not in values:
        cache = {"cache_read_tokens": usage.cache_read_tokens}
        cache["cache_write_tokens"] = usage.cache_write_tokens
        for name in CACHE_TAKEN:
            if name not in filled and cache[name] is not None:
                filled[name] = cache[name]
    # A detail matters only if its column was taken from the response.
    notices.extend(note for column, note in usage.details if column not in values)
    return filled, tuple(notices)
