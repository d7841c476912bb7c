"""Usage from headless runs' output (`run --from-output`), one result per model."""

from __future__ import annotations

from pathlib import Path

import pytest

from telemetry_csv.importing import OutputUsage, parse_output
from telemetry_csv.importing.headless import OutputError

HEADLESS = Path(__file__).parent / "fixtures" / "agents" / "headless"


def output(name: str) -> bytes:
    return (HEADLESS / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "source", "model", "expected"),
    [
        (
            # One line per model from modelUsage: 41 + 215400 + 18250 in.
            "claude.json",
            None,
            None,
            [
                OutputUsage("claude-sonnet-4-5-20250929", 233691, 2890, 215400, 18250, 48213, True),
                OutputUsage("claude-haiku-4-5-20251001", 1850, 96, 0, 0, 48213, True),
            ],
        ),
        (
            # No modelUsage (older versions): the caller's model; a turn limit is a failure;
            # no cache-write field, so it is unknown.
            "claude-old.json",
            "claude-code",
            "claude-sonnet-4",
            [OutputUsage("claude-sonnet-4", 12 + 15635, 406, 15635, None, 9120, False)],
        ),
        (
            # stream-json: the result line's totals, the model from the init line.
            "claude-stream.jsonl",
            None,
            None,
            [
                OutputUsage(
                    "claude-opus-4-1-20250805", 9 + 3000 + 3100, 210, 3100, 3000, 30555, False
                )
            ],
        ),
        (
            "claude-verbose.json",
            None,
            None,
            [OutputUsage("claude-sonnet-4-5-20250929", 903, 44, 900, 0, 5012, True)],
        ),
        (
            # Cut short: msg_c1 once (its larger copy) and msg_c2; no result, so a failure.
            "claude-cut.jsonl",
            None,
            None,
            [OutputUsage("claude-sonnet-4-5-20250929", 3005 + 3107, 95, 5100, 1000, None, False)],
        ),
        (
            # Two turns summed; reasoning is inside output_tokens.
            "codex-exec.jsonl",
            None,
            "gpt-5.1-codex",
            [OutputUsage("gpt-5.1-codex", 49865, 180, 49280, 0, None, True)],
        ),
        (
            "codex-failed.jsonl",
            "codex",
            "gpt-5",
            [OutputUsage("gpt-5", 1200, 40, 0, 0, None, False)],
        ),
        (
            # prompt + tool in, candidates + thoughts out.
            "gemini.json",
            None,
            None,
            [
                OutputUsage("gemini-2.5-pro", 24030, 1950, 18000, 0, None, True),
                OutputUsage("gemini-2.5-flash-lite", 900, 40, 0, 0, None, True),
            ],
        ),
        (
            "gemini-error.json",
            None,
            None,
            [OutputUsage("gemini-2.5-pro", 3000, 10, 0, 0, None, False)],
        ),
        (
            # total - input: the 120 thought tokens the stream's output_tokens leave out.
            "gemini-stream.jsonl",
            None,
            None,
            [OutputUsage("gemini-2.5-pro", 7000, 420, 4000, 0, 4200, True)],
        ),
    ],
)
def test_outputs(
    name: str, source: str | None, model: str | None, expected: list[OutputUsage]
) -> None:
    assert parse_output(output(name), source=source, model=model) == expected


def test_plain_text_around_json_lines_is_ignored() -> None:
    text = b"warning: something\n" + output("codex-exec.jsonl") + b"bye\n"
    assert parse_output(text, model="m")[0].prompt_tokens == 49865


def test_codex_needs_a_model() -> None:
    with pytest.raises(OutputError, match="names no model"):
        parse_output(output("codex-exec.jsonl"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"", "printed no JSON"),
        (b"Hello, I fixed it.\n", "printed no JSON"),
        (b'{"hello": "world"}', "not the JSON output"),
        (b'{"type":"thread.started","thread_id":"x"}\n', "holds no token counts"),
    ],
)
def test_unusable_output_is_one_clear_error(text: bytes, message: str) -> None:
    with pytest.raises(OutputError, match=message):
        parse_output(text, model="m")
