"""Usage from what a coding agent prints when run without its interface (`run --from-output`).

- `claude -p --output-format json`: one result object (`type: "result"`, `is_error`,
  `duration_ms`, `usage`, and in current versions `modelUsage`, one entry per model used). With
  `--output-format stream-json` the same object is the last line, after a `system`/`init` line
  that names the model. Per model, from `modelUsage`: prompt = `inputTokens +
  cacheReadInputTokens + cacheCreationInputTokens`, completion = `outputTokens`; from `usage`
  (one model) the same sums as in session files. Success is `not is_error`; the duration is
  `duration_ms`. Without a result (the run was cut short) the assistant messages' usage is
  summed, one copy per message id, and the run counts as failed.
- `codex exec --json`: JSON lines; every `turn.completed` carries that turn's `usage`
  (`input_tokens` including `cached_input_tokens`, `output_tokens` including reasoning), which
  are summed. `turn.failed` or `error` make it a failure. Codex prints no model and no duration:
  the caller supplies the model and measures the time.
- `gemini --output-format json`: one object whose `stats.models` has one entry per model used:
  prompt = `tokens.prompt + tokens.tool`, completion = `tokens.candidates + tokens.thoughts`,
  cache read = `tokens.cached`. An `error` member makes it a failure. With
  `--output-format stream-json`, the last `result` line has `stats.models` with `input_tokens`
  (which includes `cached`) and `total_tokens`; completion is `total_tokens - input_tokens`, and
  the duration is `stats.duration_ms`.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from telemetry_csv.errors import TelemetryError

MAX_OUTPUT_BYTES = 256 * 1024 * 1024
KINDS = ("claude-code", "codex", "gemini")


class OutputError(TelemetryError):
    """Output that holds no usage this module recognises."""


class OutputUsage(NamedTuple):
    model: str
    prompt_tokens: int
    completion_tokens: int
    cache_read_tokens: int | None
    cache_write_tokens: int | None
    duration_ms: int | None  # as the agent reports it; None when it does not
    success: bool


def row_values(
    usages: list[OutputUsage], *, measured_ms: int, exited_ok: bool
) -> list[dict[str, object]]:
    """The log's values for one headless run (`run --from-output`), one row per model: tokens
    and cache parts as the output says; success when the output says so and the command exited
    0; the agent's own duration where it states one, else the measured wall time. The run's
    duration goes to the model that did most of the work (the most tokens), 0 to the others
    (helpers such as a small model summarising, within the same wall time), so durations add
    up to the run's."""
    main = max(
        range(len(usages)), key=lambda i: usages[i].prompt_tokens + usages[i].completion_tokens
    )
    rows: list[dict[str, object]] = []
    for index, usage in enumerate(usages):
        duration = usage.duration_ms if usage.duration_ms is not None else measured_ms
        rows.append(
            {
                "model": usage.model,
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "cache_read_tokens": usage.cache_read_tokens,
                "cache_write_tokens": usage.cache_write_tokens,
                "task_success": usage.success and exited_ok,
                "duration_ms": duration if index == main else 0,
            }
        )
    return rows


def parse_output(
    output: bytes | str, *, source: str | None = None, model: str | None = None
) -> list[OutputUsage]:
    """One result per model the output names. `source` is `claude-code`, `codex` or `gemini`
    (None: recognise it); `model` is needed for Codex and used where the output names none."""
    if isinstance(output, str):
        output = output.encode("utf-8", "surrogatepass")
    if len(output) > MAX_OUTPUT_BYTES:
        raise OutputError(f"--from-output: the output is larger than {MAX_OUTPUT_BYTES >> 20} MiB")
    if source is not None and source not in KINDS:
        raise ValueError(f"unknown source {source!r}")
    documents = _documents(output)
    if not documents:
        raise OutputError("--from-output: the command printed no JSON")
    kind = source or _recognise(documents)
    if kind == "claude-code":
        results = _claude(documents, model)
    elif kind == "codex":
        results = _codex(documents, model)
    elif kind == "gemini":
        results = _gemini(documents, model)
    else:
        raise OutputError(
            "--from-output: not the JSON output of claude -p --output-format json, codex exec "
            "--json or gemini --output-format json"
        )
    if not results:
        raise OutputError(f"--from-output: the {kind} output holds no token counts")
    return results


def _documents(output: bytes) -> list[dict[str, Any]]:
    text = output.strip()
    if not text:
        return []
    try:
        whole = json.loads(text)
    except (ValueError, RecursionError):
        whole = None
    if isinstance(whole, dict):
        return [whole]
    if isinstance(whole, list):  # `claude -p --output-format json --verbose` prints an array
        return [item for item in whole if isinstance(item, dict)]
    documents = []
    for line in text.split(b"\n"):
        line = line.strip()
        if not line.startswith(b"{"):
            continue  # a line of plain text the agent printed in between
        try:
            item = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(item, dict):
            documents.append(item)
    return documents


def _recognise(documents: list[dict[str, Any]]) -> str | None:
    for item in documents:
        kind = item.get("type")
        if kind == "result" and ("modelUsage" in item or "is_error" in item or "num_turns" in item):
            return "claude-code"
        if isinstance(kind, str) and kind.startswith(("thread.", "turn.", "item.")):
            return "codex"
        stats = item.get("stats")
        if isinstance(stats, dict) and "models" in stats:
            return "gemini"
        if kind == "init" and "session_id" in item and "model" in item:
            return "gemini"
        if kind == "system" and item.get("subtype") == "init":
            return "claude-code"
    return None


def _number(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value < 0:
        return 0
    return int(value)


def _optional(holder: dict[str, Any], *names: str) -> int | None:
    present = [name for name in names if name in holder]
    if not present:
        return None
    return sum(_number(holder[name]) for name in present)


def _claude(documents: list[dict[str, Any]], model: str | None) -> list[OutputUsage]:
    named = model
    for item in documents:
        if (
            item.get("type") == "system"
            and item.get("subtype") == "init"
            and isinstance(item.get("model"), str)
            and item["model"]
        ):
            named = item["model"]
    result = next((item for item in reversed(documents) if item.get("type") == "result"), None)
    if result is None:
        return _claude_messages(documents, named)
    success = result.get("is_error") is not True and result.get("subtype", "success") == "success"
    duration = result.get("duration_ms")
    duration_ms = _number(duration) if isinstance(duration, int | float) else None
    per_model = result.get("modelUsage")
    if isinstance(per_model, dict) and per_model:
        results = []
        for name, counts in per_model.items():
            if not isinstance(counts, dict) or not isinstance(name, str):
                continue
            read = _optional(counts, "cacheReadInputTokens")
            write = _optional(counts, "cacheCreationInputTokens")
            prompt = _number(counts.get("inputTokens")) + (read or 0) + (write or 0)
            results.append(
                OutputUsage(
                    name,
                    prompt,
                    _number(counts.get("outputTokens")),
                    read,
                    write,
                    duration_ms,
                    success,
                )
            )
        return results
    usage = result.get("usage")
    if not isinstance(usage, dict) or named is None:
        return []
    return [_anthropic(named, usage, duration_ms, success)]


def _anthropic(
    model: str, usage: dict[str, Any], duration_ms: int | None, success: bool
) -> OutputUsage:
    read = _optional(usage, "cache_read_input_tokens")
    write = _optional(usage, "cache_creation_input_tokens")
    prompt = _number(usage.get("input_tokens")) + (read or 0) + (write or 0)
    return OutputUsage(
        model, prompt, _number(usage.get("output_tokens")), read, write, duration_ms, success
    )


def _claude_messages(documents: list[dict[str, Any]], named: str | None) -> list[OutputUsage]:
    """A stream cut short: one copy per message id (the largest), per model."""
    best: dict[str, tuple[int, str, dict[str, Any]]] = {}
    for item in documents:
        message = item.get("message")
        if item.get("type") != "assistant" or not isinstance(message, dict):
            continue
        usage = message.get("usage")
        name = message.get("model") if isinstance(message.get("model"), str) else named
        if not isinstance(usage, dict) or not name or name == "<synthetic>":
            continue
        key = str(message.get("id") or len(best))
        size = sum(_number(value) for value in usage.values() if isinstance(value, int | float))
        if key not in best or size > best[key][0]:
            best[key] = (size, name, usage)
    totals: dict[str, OutputUsage] = {}
    for _, name, usage in best.values():
        one = _anthropic(name, usage, None, False)
        before = totals.get(name)
        totals[name] = one if before is None else _add(before, one)
    return list(totals.values())


def _add(a: OutputUsage, b: OutputUsage) -> OutputUsage:
    def both(x: int | None, y: int | None) -> int | None:
        return None if x is None or y is None else x + y

    return a._replace(
        prompt_tokens=a.prompt_tokens + b.prompt_tokens,
        completion_tokens=a.completion_tokens + b.completion_tokens,
        cache_read_tokens=both(a.cache_read_tokens, b.cache_read_tokens),
        cache_write_tokens=both(a.cache_write_tokens, b.cache_write_tokens),
    )


def _codex(documents: list[dict[str, Any]], model: str | None) -> list[OutputUsage]:
    prompt = completion = read = 0
    turns = 0
    success = True
    for item in documents:
        kind = item.get("type")
        if kind == "turn.completed":
            usage = item.get("usage")
            if isinstance(usage, dict):
                turns += 1
                prompt += _number(usage.get("input_tokens"))
                read += _number(usage.get("cached_input_tokens"))
                completion += _number(usage.get("output_tokens"))
        elif kind in ("turn.failed", "error"):
            success = False
    if not turns:
        return []
    if model is None:
        raise OutputError(
            "--from-output: codex exec --json names no model; give --model (or set it in the config)"
        )
    return [OutputUsage(model, prompt, completion, min(read, prompt), 0, None, success)]


def _gemini(documents: list[dict[str, Any]], model: str | None) -> list[OutputUsage]:
    result = next(
        (item for item in reversed(documents) if isinstance(item.get("stats"), dict)), None
    )
    if result is None:
        return []
    success = "error" not in result and result.get("status", "success") == "success"
    if any(item.get("type") == "error" and item.get("severity") == "error" for item in documents):
        success = False
    stats = result["stats"]
    duration = stats.get("duration_ms")
    duration_ms = _number(duration) if isinstance(duration, int | float) else None
    models = stats.get("models")
    results = []
    if isinstance(models, dict):
        for name, data in models.items():
            if not isinstance(name, str) or not isinstance(data, dict):
                continue
            tokens = data.get("tokens")
            if isinstance(tokens, dict):  # --output-format json
                cached = _number(tokens.get("cached"))
                prompt = _number(tokens.get("prompt")) + _number(tokens.get("tool"))
                completion = _number(tokens.get("candidates")) + _number(tokens.get("thoughts"))
            elif "input_tokens" in data:  # --output-format stream-json
                cached = _number(data.get("cached"))
                prompt = _number(data.get("input_tokens"))
                completion = max(
                    _number(data.get("total_tokens")) - prompt, _number(data.get("output_tokens"))
                )
            else:
                continue
            results.append(
                OutputUsage(name, prompt, completion, min(cached, prompt), 0, duration_ms, success)
            )
    return results
