"""The export's parts on their own: provider names, repository URLs, endpoint variables, ids,
a row type with the optional columns, and the sender's retries against a real receiver."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from otlp_receiver import Reply, running

from telemetry_csv.errors import TelemetryError
from telemetry_csv.export import endpoint
from telemetry_csv.export.fields import Extras, extras_of
from telemetry_csv.export.ids import Occurrences, RepeatedLines, ids_of, line_identity, row_key
from telemetry_csv.export.otlp_http import Sender, SendError, _retry_after, _status_message
from telemetry_csv.export.repository import clean_url
from telemetry_csv.export.spans import Mapper, provider_of, span_times
from telemetry_csv.logfile.schema import Row


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("claude-opus-4-1", "anthropic"),
        ("claude-3-5-haiku-20241022", "anthropic"),
        ("gpt-4o-mini", "openai"),
        ("gpt-5-codex", "openai"),
        ("o3", "openai"),
        ("o4-mini", "openai"),
        ("codex-mini-latest", "openai"),
        ("text-embedding-3-small", "openai"),
        ("gemini-2.5-pro", "gcp.gen_ai"),
        ("gemini/gemini-2.0-flash", "gcp.gemini"),
        ("vertex_ai/gemini-2.5-pro", "gcp.vertex_ai"),
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "aws.bedrock"),
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", "aws.bedrock"),
        ("bedrock/anthropic.claude-3-haiku", "aws.bedrock"),
        ("azure/gpt-4o", "azure.ai.openai"),
        ("openrouter/anthropic/claude-3.5-sonnet", "anthropic"),
        ("mistral-large-latest", "mistral_ai"),
        ("codestral-2501", "mistral_ai"),
        ("deepseek-chat", "deepseek"),
        ("grok-4", "x_ai"),
        ("command-r-plus", "cohere"),
        ("sonar-pro", "perplexity"),
        ("groq/llama-3.3-70b-versatile", "groq"),
        ("llama-3.1-70b", None),
        ("qwen2.5-coder:32b", None),
        ("@cf/meta/llama-3-8b-instruct", None),
        ("omni", None),
        ("o", None),
    ],
)
def test_provider_from_the_model_name(model: str, provider: str | None) -> None:
    assert provider_of(model) == provider


@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("https://github.com/acme/widgets.git", "https://github.com/acme/widgets"),
        ("https://x-access-token:ghs_abc123@github.com/acme/widgets.git", "https://github.com/acme/widgets"),
        ("https://oauth2:glpat-xyz@gitlab.example.com/group/sub/repo.git/", "https://gitlab.example.com/group/sub/repo"),
        ("https://gitlab.example.com/group/repo.git?private_token=glpat-xyz#frag", "https://gitlab.example.com/group/repo"),
        ("http://user:pw@git.local:8080/repo", "http://git.local:8080/repo"),
        ("https://GitHub.com:443/acme/Widgets", "https://github.com/acme/Widgets"),
        ("git@github.com:acme/widgets.git", "https://github.com/acme/widgets"),
        ("ssh://git@github.com:22/acme/widgets.git", "https://github.com/acme/widgets"),
        ("git://git.kernel.org/pub/scm/git/git.git", "https://git.kernel.org/pub/scm/git/git"),
        ("/srv/git/widgets.git", None),
        ("../widgets", None),
        ("file:///srv/git/widgets.git", None),
        ("C:/repos/widgets", None),
        ("https://github.com", None),
    ],
)  # fmt: skip
def test_repository_urls_lose_their_credentials(remote: str, url: str | None) -> None:
    assert clean_url(remote) == url


def resolve(**env: str) -> endpoint.Destination:
    return endpoint.resolve("traces", environ=env, warn=lambda message: None)


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({}, "http://localhost:4318/v1/traces"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "http://collector:4318/v1/traces"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/mycollector/"}, "http://collector:4318/mycollector/v1/traces"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318"}, "http://collector:4318/"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://x.example.com/v1/traces/"}, "https://x.example.com/v1/traces/"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://a/t", "OTEL_EXPORTER_OTLP_ENDPOINT": "https://b"}, "https://a/t"),
    ],
)  # fmt: skip
def test_endpoint_urls_as_the_specification_builds_them(env: dict[str, str], url: str) -> None:
    assert resolve(**env).url == url


@pytest.mark.parametrize(
    ("env", "timeout", "compression", "warned"),
    [
        ({}, 10.0, "none", False),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "2500"}, 2.5, "none", False),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "0"}, None, "none", False),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "-5"}, 10.0, "none", True),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "1000", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "3000"}, 3.0, "none", False),
        ({"OTEL_EXPORTER_OTLP_COMPRESSION": "GZIP"}, 10.0, "gzip", False),
        ({"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "none"}, 10.0, "none", False),
        ({"OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"}, 10.0, "none", True),
    ],
)  # fmt: skip
def test_timeout_and_compression(
    env: dict[str, str], timeout: float | None, compression: str, warned: bool
) -> None:
    warnings: list[str] = []
    found = endpoint.resolve("traces", environ=env, warn=warnings.append)
    assert (found.timeout, found.compression, bool(warnings)) == (timeout, compression, warned)


@pytest.mark.parametrize(
    ("kwargs", "env", "message"),
    [
        ({"endpoint": "localhost:4318"}, {}, "--endpoint: 'localhost:4318' is not allowed"),
        ({"endpoint": "http://h:4318/v1/traces"}, {}, "give the base URL"),
        ({}, {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' is not allowed"),
        ({}, {"OTEL_EXPORTER_OTLP_HEADERS": "api-key=sk-SECRET0123456789,oops"}, "entry 2 is not key=value"),
        ({"headers": ["Authorization"]}, {}, "--header: expected NAME=VALUE"),
        ({"headers": ["bad name=sk-SECRET0123456789"]}, {}, "--header: expected NAME=VALUE"),
        ({"headers": ["x=a\r\nInjected: 1"]}, {}, "control character"),
    ],
)  # fmt: skip
def test_bad_endpoint_settings_are_one_line_without_the_secret(
    kwargs: dict[str, object], env: dict[str, str], message: str
) -> None:
    with pytest.raises(TelemetryError) as caught:
        endpoint.resolve("traces", environ=env, warn=lambda line: None, **kwargs)  # type: ignore[arg-type]
    text = str(caught.value)
    assert message in text and "SECRET" not in text and "\n" not in text


def test_headers_are_percent_decoded_and_flags_win() -> None:
    found = endpoint.resolve(
        "traces",
        headers=["X-Scope-OrgID=flag", "x-new=v=1"],
        environ={"OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Basic%20dTpw, x-scope-orgid = env ,"},
        warn=lambda line: None,
    )
    assert found.headers == (
        ("authorization", "Basic dTpw"),
        ("x-scope-orgid", "flag"),
        ("x-new", "v=1"),
    )
    assert found.shown == "http://localhost:4318/v1/traces"


class ImportedRow(NamedTuple):
    """A row as rows will be once issue 13 adds the optional columns."""

    timestamp: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    task_success: bool
    task_type: str
    duration_ms: int
    notes: str = ""
    source: str = ""
    source_id: str = ""
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None


def test_a_row_with_the_optional_columns_uses_them() -> None:
    row = ImportedRow(
        "2026-05-01T10:00:00+02:00", "claude-sonnet-4-5", 12000, 800, True, "execute", 60000, "",
        "claude-code", "session-1/claude-sonnet-4-5/2026-05-01T08", 9000, 2500,
    )  # fmt: skip
    extras = extras_of(row)
    assert extras == Extras("claude-code", "session-1/claude-sonnet-4-5/2026-05-01T08", 9000, 2500)
    times = span_times(row)  # type: ignore[arg-type]
    assert times is not None
    trace_id, span_id = ids_of(row_key("any line", 7, extras))
    span = Mapper().span(row, extras, times, trace_id, span_id)  # type: ignore[arg-type]
    found = {item.key: item.value for item in span.attributes}
    assert found["gen_ai.usage.input_tokens"].int_value == 12000  # every input token, cache too
    assert found["gen_ai.usage.cache_read.input_tokens"].int_value == 9000
    assert found["gen_ai.usage.cache_creation.input_tokens"].int_value == 2500
    assert found["telemetry_csv.source"].string_value == "claude-code"
    assert found["telemetry_csv.source_id"].string_value == extras.source_id
    # The source id alone identifies the row: its line and occurrence do not matter.
    assert ids_of(row_key("another line", 0, extras)) == (trace_id, span_id)
    other = extras._replace(source_id="session-1/claude-sonnet-4-5/2026-05-01T09")
    assert ids_of(row_key("any line", 7, other)) != (trace_id, span_id)


def test_optional_columns_left_empty_change_no_id() -> None:
    plain = Row("2026-05-01T10:00:00Z", "gpt-4o", 1, 2, True, "quick", 3, "")
    extended = ImportedRow(*plain)
    assert extras_of(plain) == extras_of(extended) == Extras()
    assert line_identity("line", extras_of(extended)) == "line"
    cached = extras_of(extended._replace(cache_read_tokens=0))
    assert ids_of(row_key("line", 0, cached)) != ids_of(row_key("line", 0, Extras()))


def test_occurrence_numbers_count_only_repeats() -> None:
    lines = [f"line {number % 1000}" for number in range(1500)] + ["alone"]
    repeated = RepeatedLines(bits=16)  # a small filter: false positives must not matter
    repeated.add_all(lines)
    assert {f"line {number}" for number in range(500)} <= repeated.repeated
    occurrences = Occurrences(repeated.repeated)
    numbers = [occurrences.next(line) for line in lines]
    assert numbers[:1000] == [0] * 1000
    assert numbers[1000:1500] == [1] * 500
    assert numbers[-1] == 0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("3", 3.0), ("0", 0.0), (" 120 ", 120.0), ("Thu, 01 Jan 1970 00:01:40 GMT", 40.0), ("soon", None), ("1.5", None), (None, None)],
)  # fmt: skip
def test_retry_after(value: str | None, seconds: float | None) -> None:
    assert _retry_after(value, now=60.0) == seconds


def test_status_message_of_a_google_rpc_status() -> None:
    body = b"\x08\x03\x12\x11bad span\n  in row"
    assert _status_message(body) == ": bad span in row"
    assert _status_message(b"") == ""
    assert _status_message(b"\xff") == ""


def test_the_sender_backs_off_exponentially_then_gives_up() -> None:
    waits: list[float] = []
    with running() as receiver:
        receiver.script = lambda number, kind: Reply(502)
        destination = endpoint.resolve(
            "traces", endpoint=receiver.url, environ={"OTEL_EXPORTER_OTLP_TIMEOUT": "0"}, warn=print
        )
        sender = Sender(destination, max_attempts=5, sleep=waits.append)
        with pytest.raises(SendError) as caught:
            sender.post(b"", ExportTraceServiceResponse(), "rejected_spans", "0 spans")
        sender.close()
    assert len(receiver.received) == 5
    assert len(waits) == 4
    assert all(0.8 * 2**i <= wait <= 1.2 * 2**i for i, wait in enumerate(waits))
    assert "did not accept 0 spans: HTTP 502 Bad Gateway (5 tries)" in str(caught.value)


def test_the_sender_keeps_the_connection_alive() -> None:
    with running() as receiver:
        destination = endpoint.resolve("traces", endpoint=receiver.url, environ={}, warn=print)
        sender = Sender(destination)
        for _ in range(3):
            assert (
                sender.post(b"", ExportTraceServiceResponse(), "rejected_spans", "x").rejected == 0
            )
        connection = sender._connection
        sender.close()
    assert connection is not None and sender.requests == 3
