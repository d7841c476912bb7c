"""A row as an OpenTelemetry span, following the GenAI semantic conventions v1.41.0.

One row is one task done with one model, so it becomes one inference span, `chat {model}`, of
kind CLIENT, alone in its own trace: it started at `timestamp - duration_ms` and ended at
`timestamp`, to the nanosecond and in the row's own UTC offset. docs/export-otlp.md has the
whole mapping as a table; `Mapper.span` is that table in code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple
from urllib.parse import unquote

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from telemetry_csv import __version__
from telemetry_csv.export.fields import Extras
from telemetry_csv.export.repository import Repository
from telemetry_csv.logfile.schema import Row
from telemetry_csv.report.dates import fraction_ns, hour_start

SEMCONV_VERSION = "1.41.0"
SCHEMA_URL = f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"
SCOPE_NAME = "telemetry-csv"
OPERATION = "chat"  # pinned: every row is one model's work on one task (docs/export-otlp.md)
TASK_FAILED = "task_failed"  # error.type of a row whose task_success is false
_NS_PER_MS = 1_000_000
_NS_PER_SECOND = 1_000_000_000
_LAST_NS = (1 << 64) - 1  # span times are unsigned 64-bit nanoseconds since 1970

# gen_ai.provider.name from a model name. A `provider/model` prefix (LiteLLM, OpenRouter) wins,
# then Bedrock's `[region.]vendor.model` ids, then the model families each provider names alone.
# Anything else, including open-weight families that many hosts serve, gets no provider.
PREFIX_PROVIDERS: Mapping[str, str] = {
    "anthropic": "anthropic",
    "openai": "openai",
    "azure": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "bedrock": "aws.bedrock",
    "vertex_ai": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "google": "gcp.gen_ai",
    "mistral": "mistral_ai",
    "mistralai": "mistral_ai",
    "deepseek": "deepseek",
    "deepseek-ai": "deepseek",
    "groq": "groq",
    "xai": "x_ai",
    "x-ai": "x_ai",
    "cohere": "cohere",
    "perplexity": "perplexity",
    "watsonx": "ibm.watsonx.ai",
}
BEDROCK_ID = re.compile(
    r"(?:(?:us|eu|apac|us-gov|global)\.)?"
    r"(?:anthropic|amazon|meta|mistral|cohere|ai21|deepseek|writer|qwen|openai)\.[a-z0-9]"
)
NAME_PROVIDERS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), provider)
    for pattern, provider in (
        (r"claude", "anthropic"),
        (
            r"(?:gpt-|gpt\d|chatgpt|codex|o[1-9](?:-|$)|text-embedding|davinci|dall-e|whisper)",
            "openai",
        ),
        (r"gemini", "gcp.gen_ai"),
        (r"(?:mistral|mixtral|codestral|devstral|magistral|ministral|pixtral)", "mistral_ai"),
        (r"deepseek", "deepseek"),
        (r"grok", "x_ai"),
        (r"command(?:-|$)", "cohere"),
        (r"sonar(?:-|$)", "perplexity"),
    )
)


def provider_of(model: str) -> str | None:
    """gen_ai.provider.name derived from a model name, or None when it cannot be told."""
    name = model.lower()
    parts = name.split("/")
    for prefix in parts[:-1]:
        if prefix in PREFIX_PROVIDERS:
            return PREFIX_PROVIDERS[prefix]
    bare = parts[-1]
    if BEDROCK_ID.match(bare):
        return "aws.bedrock"
    for pattern, provider in NAME_PROVIDERS:
        if pattern.match(bare):
            return provider
    return None


class SpanTimes(NamedTuple):
    start: int  # nanoseconds since 1970-01-01T00:00:00Z
    end: int


_HOURS: dict[str, int] = {}  # a stored hour (and offset) -> the Unix second it starts


def span_times(row: Row) -> SpanTimes | None:
    """When the row's task started and ended, or None if OTLP cannot express it (before 1970,
    or after 2554)."""
    stamp = row.timestamp
    key = stamp[:13] if stamp[-1] == "Z" else stamp[:13] + stamp[-6:]
    start_of_hour = _HOURS.get(key)
    if start_of_hour is None:
        if len(_HOURS) >= 4096:  # rows come roughly in time order: a small cache is enough
            _HOURS.clear()
        start_of_hour = _HOURS[key] = hour_start(stamp)
    seconds = start_of_hour + int(stamp[14:16]) * 60 + int(stamp[17:19])
    end = seconds * _NS_PER_SECOND + (fraction_ns(stamp) if stamp[19] == "." else 0)
    start = end - row.duration_ms * _NS_PER_MS
    if start < 0 or end > _LAST_NS:
        return None
    return SpanTimes(start, end)


def _string(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


class Mapper:
    """Builds the spans of rows. What rows of one model share is built once, as a template span
    each row's span starts as a copy of (copying is cheaper than building)."""

    def __init__(self, *, include_notes: bool = False) -> None:
        self.include_notes = include_notes
        self._templates: dict[str, Span] = {}
        self._task_types: dict[str, KeyValue] = {}
        self._failed = _string("error.type", TASK_FAILED)

    def template(self, model: str) -> Span:
        """The span every row of `model` starts from: its name, kind and model attributes."""
        found = self._templates.get(model)
        if found is None:
            attributes = [_string("gen_ai.operation.name", OPERATION)]
            provider = provider_of(model)
            if provider is not None:
                attributes.append(_string("gen_ai.provider.name", provider))
            attributes.append(_string("gen_ai.request.model", model))
            found = self._templates[model] = Span(
                name=f"{OPERATION} {model}", kind=Span.SPAN_KIND_CLIENT, attributes=attributes
            )
        return found

    def span(
        self,
        row: Row,
        extras: Extras,
        times: SpanTimes,
        trace_id: bytes,
        span_id: bytes,
    ) -> Span:
        span = Span()
        span.CopyFrom(self.template(row.model))
        span.trace_id = trace_id
        span.span_id = span_id
        span.start_time_unix_nano = times.start
        span.end_time_unix_nano = times.end
        attributes = span.attributes
        attributes.add(key="gen_ai.usage.input_tokens").value.int_value = row.prompt_tokens
        attributes.add(key="gen_ai.usage.output_tokens").value.int_value = row.completion_tokens
        if extras.cache_read_tokens is not None:
            attribute = attributes.add(key="gen_ai.usage.cache_read.input_tokens")
            attribute.value.int_value = extras.cache_read_tokens
        if extras.cache_write_tokens is not None:
            attribute = attributes.add(key="gen_ai.usage.cache_creation.input_tokens")
            attribute.value.int_value = extras.cache_write_tokens
        if not row.task_success:
            attributes.append(self._failed)
            span.status.code = Status.STATUS_CODE_ERROR
        task_type = self._task_types.get(row.task_type)
        if task_type is None:
            task_type = self._task_types[row.task_type] = _string(
                "telemetry_csv.task_type", row.task_type
            )
        attributes.append(task_type)
        if extras.source:
            attributes.append(_string("telemetry_csv.source", extras.source))
        if extras.source_id:
            attributes.append(_string("telemetry_csv.source_id", extras.source_id))
        if self.include_notes and row.notes:
            attributes.append(_string("telemetry_csv.notes", row.notes))
        return span


def resource(attributes: Iterable[tuple[str, str]]) -> Resource:
    return Resource(attributes=[_string(key, value) for key, value in attributes])


def scope() -> InstrumentationScope:
    return InstrumentationScope(name=SCOPE_NAME, version=__version__)


def resource_attributes(
    repository: Repository, environ: Mapping[str, str], warn: Callable[[str], None]
) -> list[tuple[str, str]]:
    """The resource: `OTEL_RESOURCE_ATTRIBUTES`, then what is known of the repository, and
    `service.name` from `OTEL_SERVICE_NAME`, the attributes, the repository's name, or
    `telemetry-csv`, in that order of precedence."""
    attributes = dict(_env_resource(environ, warn))
    known = {
        "vcs.repository.url.full": repository.url,
        "vcs.repository.name": repository.name,
        "vcs.ref.head.revision": repository.commit,
        "vcs.ref.head.name": repository.branch,
    }
    attributes.update({key: value for key, value in known.items() if value})
    service = environ.get("OTEL_SERVICE_NAME", "").strip()
    attributes["service.name"] = (
        service or attributes.get("service.name") or repository.name or SCOPE_NAME
    )
    return sorted(attributes.items())


def _env_resource(environ: Mapping[str, str], warn: Callable[[str], None]) -> list[tuple[str, str]]:
    """`key1=value1,key2=value2`, percent-decoded; on any error the whole variable is ignored,
    as the specification asks."""
    text = environ.get("OTEL_RESOURCE_ATTRIBUTES", "").strip()
    found = []
    for entry in text.split(",") if text else ():
        key, equals, value = entry.partition("=")
        key = unquote(key).strip()
        if not equals or not key:
            warn("OTEL_RESOURCE_ATTRIBUTES is not key=value,key=value; it is ignored")
            return []
        found.append((key, unquote(value).strip()))
    return found
