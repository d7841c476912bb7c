"""Token usage from response bodies in each provider's documented shape: each provider, streams,
and refusals."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telemetry_csv.capture.usage_bodies import (
    ANTHROPIC,
    GEMINI,
    MAX_BODY_BYTES,
    OPENAI_CHAT,
    OPENAI_RESPONSES,
    Usage,
    UsageJsonError,
    fill_from_usage,
    read_usage,
    usage_from_body,
    usage_from_response,
)
from testing.util import FIXTURES


def fixture(name: str) -> Path:
    return FIXTURES / name


@pytest.mark.parametrize(
    ("name", "provider", "model", "prompt", "completion"),
    [
        # prompt_tokens already includes the 1,920 cached tokens.
        ("openai-chat-completion.json", OPENAI_CHAT, "gpt-4o-2024-08-06", 2006, 300),
        # stream_options.include_usage: the last chunk, with empty choices, holds the usage.
        ("openai-chat-stream.sse", OPENAI_CHAT, "gpt-4o-mini-2024-07-18", 41, 7),
        # output_tokens already includes the 704 reasoning tokens.
        ("openai-responses.json", OPENAI_RESPONSES, "gpt-5-2025-08-07", 1337, 842),
        # usage is null until response.completed.
        ("openai-responses-stream.sse", OPENAI_RESPONSES, "gpt-4.1-mini-2025-04-14", 88, 4),
        # 38 uncached + 1,024 written to the cache + 12,000 read from it.
        ("anthropic-message.json", ANTHROPIC, "claude-sonnet-4-5-20250929", 13062, 512),
        # message_start has output_tokens 1; message_delta's cumulative 15 replaces it.
        ("anthropic-stream.sse", ANTHROPIC, "claude-opus-4-1-20250805", 25 + 2048, 15),
        # 96 candidate + 467 thinking tokens.
        ("gemini-generate-content.json", GEMINI, "gemini-2.5-flash", 1204, 96 + 467),
        # alt=sse, CRLF-separated events; the last chunk's counts are the final ones.
        ("gemini-stream.sse", GEMINI, "gemini-2.5-pro", 312, 14 + 791),
        # streamGenerateContent without alt=sse: one JSON array of chunks.
        ("gemini-stream-array.json", GEMINI, "gemini-2.0-flash", 57, 12),
    ],
)
def test_each_provider_body(
    name: str, provider: str, model: str, prompt: int, completion: int
) -> None:
    usage = read_usage(str(fixture(name)))
    assert (usage.provider, usage.model, usage.prompt_tokens, usage.completion_tokens) == (
        provider,
        model,
        prompt,
        completion,
    )


def test_details_say_what_was_folded_in() -> None:
    assert read_usage(str(fixture("anthropic-message.json"))).details == (
        ("prompt_tokens", "prompt_tokens includes 1,024 cache-write and 12,000 cache-read tokens"),
    )
    assert read_usage(str(fixture("gemini-generate-content.json"))).details == (
        ("completion_tokens", "completion_tokens includes 467 thinking tokens"),
    )
    assert read_usage(str(fixture("openai-chat-completion.json"))).details == ()


def test_bare_responses_usage_is_told_from_anthropics_by_its_details() -> None:
    # Both APIs name their counts input_tokens / output_tokens; only the responses API has
    # the *_details objects. A bare body (no "object": "response") is still recognised.
    body = {"usage": {"input_tokens": 5, "output_tokens": 2, "output_tokens_details": {}}}
    assert usage_from_response(body).provider == OPENAI_RESPONSES
    body = {"usage": {"input_tokens": 5, "output_tokens": 2, "cache_read_input_tokens": 1}}
    assert usage_from_response(body).provider == ANTHROPIC


def test_gemini_tool_use_prompt_tokens_count_as_prompt() -> None:
    body = json.loads(fixture("gemini-generate-content.json").read_text())
    body["usageMetadata"]["toolUsePromptTokenCount"] = 25
    usage = usage_from_response(body)
    assert usage.prompt_tokens == 1204 + 25
    assert ("prompt_tokens", "prompt_tokens includes 25 tool-use prompt tokens") in usage.details


def test_standard_input() -> None:
    data = fixture("openai-responses.json").read_bytes()
    usage = read_usage("-", stdin=io.BytesIO(data))
    assert (usage.model, usage.prompt_tokens, usage.completion_tokens) == (
        "gpt-5-2025-08-07",
        1337,
        842,
    )


def test_byte_order_mark_and_json_lines() -> None:
    data = b"\xef\xbb\xbf" + fixture("anthropic-message.json").read_bytes()
    assert usage_from_body(data).prompt_tokens == 13062
    # The Anthropic stream's JSON payloads one per line, as a logging proxy might save them.
    lines = [
        line.removeprefix("data: ")
        for line in fixture("anthropic-stream.sse").read_text().splitlines()
        if line.startswith("data: ")
    ]
    usage = usage_from_body("\n".join(lines))
    assert (usage.prompt_tokens, usage.completion_tokens) == (2073, 15)


class SdkObject:
    """What the OpenAI and Anthropic SDKs (pydantic models) offer: model_dump()."""

    def __init__(self, data: dict[str, Any]):
        self._data = data

    def model_dump(self) -> dict[str, Any]:
        return self._data


def test_in_memory_responses() -> None:
    body = json.loads(fixture("anthropic-message.json").read_text())
    assert usage_from_response(body).prompt_tokens == 13062
    assert usage_from_response(SdkObject(body)).prompt_tokens == 13062
    assert usage_from_response(json.dumps(body)).prompt_tokens == 13062
    assert usage_from_response(fixture("gemini-stream.sse").read_bytes()).completion_tokens == 805


def test_a_stream_of_sdk_chunks_in_memory() -> None:
    # What `list(client.chat.completions.create(..., stream=True))` holds: chunk objects.
    text = fixture("openai-chat-stream.sse").read_text()
    chunks = [
        SdkObject(json.loads(line.removeprefix("data: ")))
        for line in text.splitlines()
        if line.startswith("data: {")
    ]
    usage = usage_from_response(chunks)
    assert (usage.model, usage.prompt_tokens, usage.completion_tokens) == (
        "gpt-4o-mini-2024-07-18",
        41,
        7,
    )


def test_google_genai_snake_case_dump() -> None:
    # google-genai's GenerateContentResponse.model_dump() uses Python field names.
    dumped = {
        "candidates": [{"content": {"parts": [{"text": "ok"}], "role": "model"}}],
        "usage_metadata": {
            "prompt_token_count": 40,
            "candidates_token_count": 3,
            "thoughts_token_count": 20,
            "tool_use_prompt_token_count": None,
            "cached_content_token_count": None,
            "total_token_count": 63,
        },
        "model_version": "gemini-2.5-flash",
        "response_id": "abc",
    }
    usage = usage_from_response(SdkObject(dumped))
    assert (usage.model, usage.prompt_tokens, usage.completion_tokens) == (
        "gemini-2.5-flash",
        40,
        23,
    )


def test_gemini_leaves_out_zero_counts() -> None:
    # proto3 JSON omits zero fields: a response with no candidate tokens has no such key.
    usage = usage_from_body('{"usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9}}')
    assert (usage.model, usage.prompt_tokens, usage.completion_tokens) == (None, 9, 0)


def test_anthropic_null_cache_fields() -> None:
    usage = usage_from_body(
        '{"type": "message", "model": "claude-3-5-haiku-20241022", "usage": {"input_tokens": 10,'
        ' "cache_creation_input_tokens": null, "cache_read_input_tokens": null, "output_tokens": 4}}'
    )
    assert (usage.prompt_tokens, usage.completion_tokens, usage.details) == (10, 4, ())


def _truncated_after(name: str, marker: str) -> str:
    text = fixture(name).read_text()
    return text[: text.index(marker)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "empty; expected an OpenAI"),
        ("   \n", "empty; expected an OpenAI"),
        ("<html>502 Bad Gateway</html>", "not JSON, JSON lines or a server-sent-events stream"),
        ('{"model": "gpt-4o"', "not JSON, JSON lines or a server-sent-events stream (line 1"),
        ("[]", "no token usage found"),
        ('"just a string"', "no token usage found"),
        ('{"id": "x", "choices": []}', "no token usage found; expected an OpenAI"),
        ('{"usage": {}}', "no token usage found"),
        ('{"usage": {"input_tokens": 5}}', "usage.output_tokens is missing"),
        (
            '{"usage": {"prompt_tokens": 12.5, "completion_tokens": 3}}',
            "usage.prompt_tokens is 12.5; expected a whole number of tokens, 0 or more",
        ),
        (
            '{"usage": {"prompt_tokens": -1, "completion_tokens": 3}}',
            "usage.prompt_tokens is -1; expected a whole number",
        ),
        (
            '{"usage": {"prompt_tokens": "12", "completion_tokens": 3}}',
            'usage.prompt_tokens is "12"; expected a whole number',
        ),
        (
            '{"usage": {"prompt_tokens": true, "completion_tokens": 3}}',
            "usage.prompt_tokens is true; expected a whole number",
        ),
        (
            '{"model": 4, "usage": {"prompt_tokens": 1, "completion_tokens": 3}}',
            "model is 4; expected a model name",
        ),
        (
            "data: {not json}\n\n",
            "the event at line 1 is not JSON",
        ),
        (
            'data: {"usageMetadata": {"promptTokenCount": 1}}\nnonsense here\n',
            "line 2 is not part of a server-sent-events stream",
        ),
        (
            '{"usage": {"prompt_tokens": 1}}\n{"usage": oops}\n',
            "line 2 is not JSON",
        ),
        (
            '{"error": {"type": "a\\nb", "message": "x\\ny"}}',
            "API error, not a response with token usage: a b: x y",
        ),
        ("[" * 100_000, "JSON nested too deeply to be a response"),
        ("data: " + "[" * 100_000 + "\n\n", "JSON nested too deeply to be a response"),
        ('{"usage": {"prompt_tokens": NaN}}', "usage.prompt_tokens is NaN; expected a whole"),
        ('{"usage": {"prompt_tokens": 1' + "0" * 5000 + "}}", "a number in it is too long"),
    ],
)
def test_refused_bodies(body: str, message: str) -> None:
    with pytest.raises(UsageJsonError) as caught:
        usage_from_body(body, source="out.json")
    text = str(caught.value)
    assert text.startswith("--usage-json out.json: ")
    assert message in text
    assert "\n" not in text


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "openai-error.json",
            "an API error, not a response with token usage: tokens: Rate limit reached",
        ),
        (
            "anthropic-error.json",
            "an API error, not a response with token usage: overloaded_error: Overloaded",
        ),
        (
            "gemini-error.json",
            "an API error, not a response with token usage: RESOURCE_EXHAUSTED: You exceeded",
        ),
        (
            "openai-chat-stream-without-usage.sse",
            'the OpenAI stream has no usage; request it with stream_options: {"include_usage": true}',
        ),
    ],
)
def test_refused_fixtures(name: str, message: str) -> None:
    with pytest.raises(UsageJsonError, match="^--usage-json .*: " + re.escape(message)):
        read_usage(str(fixture(name)))


def test_truncated_streams_are_refused_not_undercounted() -> None:
    anthropic = _truncated_after("anthropic-stream.sse", "event: message_delta")
    with pytest.raises(UsageJsonError, match="ended before its message_delta event"):
        usage_from_body(anthropic)
    responses = _truncated_after("openai-responses-stream.sse", "event: response.completed")
    with pytest.raises(UsageJsonError, match=r"ended before its response\.completed event"):
        usage_from_body(responses)


def test_several_responses_are_refused() -> None:
    one = json.loads(fixture("openai-chat-completion.json").read_text())
    other = dict(one, id="chatcmpl-other")
    with pytest.raises(UsageJsonError, match="holds 2 responses"):
        usage_from_body(json.dumps([one, other]))
    # Complete responses without ids still count one each.
    bare = {"object": "chat.completion", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}
    with pytest.raises(UsageJsonError, match="holds 2 responses"):
        usage_from_body(json.dumps(bare) + "\n" + json.dumps(bare) + "\n")
    mixed = [one, json.loads(fixture("gemini-generate-content.json").read_text())]
    with pytest.raises(UsageJsonError, match="mixes Google Gemini and OpenAI Chat Completions"):
        usage_from_body(json.dumps(mixed))


def test_not_utf8_and_unreadable(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.json"
    latin.write_bytes('{"model": "caf\xe9"}'.encode("latin-1"))
    with pytest.raises(UsageJsonError, match=r"not UTF-8 text \(byte 15\)"):
        read_usage(str(latin))
    with pytest.raises(UsageJsonError, match=r"missing\.json: cannot read it: No such file"):
        read_usage(str(tmp_path / "missing.json"))
    with pytest.raises(UsageJsonError, match="is a folder, not a file"):
        read_usage(str(tmp_path))


def test_too_large(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as file:
        file.truncate(MAX_BODY_BYTES + 1)  # sparse: no disk space for the one byte too many
    with pytest.raises(UsageJsonError, match="larger than 32 MiB; expected one response body"):
        read_usage(str(huge))
    with pytest.raises(UsageJsonError, match=r"^--usage-json -: larger than 32 MiB"):
        read_usage("-", stdin=io.BytesIO(b" " * (MAX_BODY_BYTES + 1)))


def test_fill_from_usage_given_values_win() -> None:
    usage = Usage(
        ANTHROPIC,
        "claude-x",
        13062,
        512,
        (("prompt_tokens", "prompt_tokens includes 1 cache-write and 2 cache-read tokens"),),
    )
    values, notices = fill_from_usage({"task_type": "plan"}, usage)
    assert values == {
        "task_type": "plan",
        "model": "claude-x",
        "prompt_tokens": 13062,
        "completion_tokens": 512,
    }
    assert notices == ("prompt_tokens includes 1 cache-write and 2 cache-read tokens",)
    values, notices = fill_from_usage({"prompt_tokens": "100", "model": "claude-x"}, usage)
    assert (values["prompt_tokens"], values["completion_tokens"]) == ("100", 512)
    # The cache note is about prompt_tokens, which the caller gave: only the override is told.
    assert notices == ("prompt_tokens: using the given 100, not the response's 13,062",)


def test_fill_from_usage_needs_a_model() -> None:
    with pytest.raises(UsageJsonError, match="the Google Gemini response does not name one"):
        fill_from_usage({}, Usage(GEMINI, None, 9, 0))
    values, _ = fill_from_usage({"model": "gemini-2.5-flash"}, Usage(GEMINI, None, 9, 0))
    assert values["model"] == "gemini-2.5-flash"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(
            ["usage", "usageMetadata", "model", "type", "object", "message", "response",
             "prompt_tokens", "completion_tokens", "input_tokens", "output_tokens",
             "cache_read_input_tokens", "promptTokenCount", "candidatesTokenCount", "id",
             "error", "message_start", "message_delta", "chat.completion"]
        ),
        children,
        max_size=5,
    ),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.binary(max_size=200), JSON_VALUES.map(lambda value: json.dumps(value).encode()))
)
@pytest.mark.slow
def test_any_body_gives_usage_or_one_line_refusal(data: bytes) -> None:
    try:
        usage = usage_from_body(data)
    except UsageJsonError as error:
        assert "\n" not in str(error)
        return
    assert usage.prompt_tokens >= 0 and usage.completion_tokens >= 0
    assert usage.model is None or isinstance(usage.model, str)


@pytest.mark.parametrize(
    ("body", "read", "write"),
    [
        # Anthropic: both parts, as the response states them.
        ('{"type":"message","model":"c","usage":{"input_tokens":38,"output_tokens":5,'
         '"cache_creation_input_tokens":1024,"cache_read_input_tokens":12000}}', 12000, 1024),
        # An Anthropic response without cache fields does not say: unknown.
        ('{"type":"message","model":"c","usage":{"input_tokens":38,"output_tokens":5}}',
         None, None),
        # OpenAI chat: cached_tokens is part of prompt_tokens; OpenAI bills no cache writes.
        ('{"object":"chat.completion","model":"g","usage":{"prompt_tokens":2006,'
         '"completion_tokens":300,"prompt_tokens_details":{"cached_tokens":1920}}}', 1920, 0),
        ('{"object":"chat.completion","model":"g","usage":{"prompt_tokens":20,'
         '"completion_tokens":3}}', None, None),
        # OpenAI responses: input_tokens_details.cached_tokens.
        ('{"object":"response","model":"g","usage":{"input_tokens":1337,"output_tokens":842,'
         '"input_tokens_details":{"cached_tokens":1024}}}', 1024, 0),
        # Gemini: cachedContentTokenCount, left out when it is 0.
        ('{"modelVersion":"m","usageMetadata":{"promptTokenCount":9000,'
         '"cachedContentTokenCount":8192,"candidatesTokenCount":7}}', 8192, 0),
        ('{"modelVersion":"m","usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":7}}',
         0, 0),
    ],
    ids=["anthropic", "anthropic-unknown", "openai-chat", "openai-chat-unknown",
         "openai-responses", "gemini", "gemini-none"],
)  # fmt: skip
def test_cache_parts_of_the_prompt_tokens(body: str, read: int | None, write: int | None) -> None:
    usage = usage_from_body(body)
    assert (usage.cache_read_tokens, usage.cache_write_tokens) == (read, write)
    assert (read or 0) + (write or 0) <= usage.prompt_tokens
