"""`telemetry-csv export otlp` against a real OTLP/HTTP receiver on 127.0.0.1.

The command runs as users run it (the installed console script, in its own process); the
receiver decodes what arrives with opentelemetry-proto. Nothing about the exporter is mocked.
"""

from __future__ import annotations

import itertools
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from otlp_receiver import Receiver, Reply, running

from testing.util import BIN, HEADER, git, git_env, row_line

TIMEOUT = 60


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running() as found:
        yield found


def export(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = git_env()
    for name in list(environ):
        if name.startswith("OTEL_"):
            del environ[name]
    environ.update(env or {})
    return subprocess.run(
        [str(BIN / "telemetry-csv"), "export", "otlp", *args],
        cwd=cwd, capture_output=True, text=True, env=environ, timeout=TIMEOUT, check=False,
    )  # fmt: skip


def attributes(items: object) -> dict[str, object]:
    found: dict[str, object] = {}
    for item in items:  # type: ignore[attr-defined]
        assert isinstance(item, KeyValue)
        kind = item.value.WhichOneof("value")
        assert kind is not None
        found[item.key] = getattr(item.value, kind)
    return found


def nanoseconds(stamp: str) -> int:
    """An RFC 3339 stamp as Unix nanoseconds, worked out independently of the exporter."""
    head, _, rest = stamp.partition(".")
    if rest:
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        zone = rest[len(digits) :]
    else:
        head, zone = stamp[:19], stamp[19:]
        digits = ""
    moment = datetime.fromisoformat(head + (zone.replace("Z", "+00:00")))
    return int(moment.timestamp()) * 1_000_000_000 + int(digits.ljust(9, "0") or 0)


def write(path: Path, *lines: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


ROWS = [
    row_line("2026-02-23T22:19:12+05:30", "claude-sonnet-4-5", "1500", "3200", "true", "execute", "45000", '"fix, then ""test"""'),
    row_line("2026-02-24T01:00:00.123456789-04:00", "gpt-4o", "10", "20", "false", "plan", "1", "'=cmd|' ok"),
    row_line("2026-03-01T00:00:00Z", "llama-3.1-70b", "0", "0", "true", "verify", "0", "Übergabe — naïve"),
]  # fmt: skip
EXPECTED = [
    {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.usage.input_tokens": 1500,
        "gen_ai.usage.output_tokens": 3200,
        "telemetry_csv.task_type": "execute",
    },
    {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 20,
        "error.type": "task_failed",
        "telemetry_csv.task_type": "plan",
    },
    {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "llama-3.1-70b",
        "gen_ai.usage.input_tokens": 0,
        "gen_ai.usage.output_tokens": 0,
        "telemetry_csv.task_type": "verify",
    },
]
NOTES = ['fix, then "test"', "=cmd|' ok", "Übergabe — naïve"]


@pytest.mark.parametrize("include_notes", [False, True])
def test_each_row_is_one_span_with_every_attribute(
    repo: Path, log: Path, receiver: Receiver, include_notes: bool
) -> None:
    write(log, *ROWS)
    git(
        repo,
        "remote",
        "add",
        "origin",
        "https://bot:s3cr3t-t0ken@git.example.com/acme/widgets.git?private_token=abc#x",
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "rows")
    head = git(repo, "rev-parse", "HEAD").strip()

    done = export(repo, "--endpoint", receiver.url, *(["--include-notes"] if include_notes else []))

    assert done.returncode == 0, done.stderr
    assert (
        done.stdout
        == f"exported 3 rows of .telemetry/usage.csv to {receiver.url}/v1/traces in 1 request\n"
    )
    assert done.stderr == ""
    assert "s3cr3t" not in json.dumps([str(item.traces) for item in receiver.received])
    [request] = receiver.received
    assert request.path == "/v1/traces"
    assert request.headers["content-type"] == "application/x-protobuf"
    [resource_spans] = request.traces.resource_spans  # type: ignore[union-attr]
    assert attributes(resource_spans.resource.attributes) == {
        "service.name": "widgets",
        "vcs.repository.url.full": "https://git.example.com/acme/widgets",
        "vcs.repository.name": "widgets",
        "vcs.ref.head.revision": head,
        "vcs.ref.head.name": "main",
    }
    assert resource_spans.schema_url == "https://opentelemetry.io/schemas/1.41.0"
    [scope_spans] = resource_spans.scope_spans
    assert scope_spans.scope.name == "telemetry-csv"
    spans = list(scope_spans.spans)
    assert len(spans) == 3
    for span, line, expected, notes in zip(spans, ROWS, EXPECTED, NOTES, strict=True):
        stamp, model, *_ = line.split(",", 7)
        wanted = dict(expected)
        if include_notes:
            wanted["telemetry_csv.notes"] = notes
        assert attributes(span.attributes) == wanted
        assert span.name == f"chat {model}"
        assert span.kind == Span.SPAN_KIND_CLIENT
        assert span.end_time_unix_nano == nanoseconds(stamp)
        assert span.start_time_unix_nano == nanoseconds(stamp) - int(line.split(",")[6]) * 1_000_000
        failed = "error.type" in expected
        assert span.status.code == (
            Status.STATUS_CODE_ERROR if failed else Status.STATUS_CODE_UNSET
        )
        assert len(span.trace_id) == 16 and len(span.span_id) == 8
        assert not span.parent_span_id
    # +05:30 and -04:00 rows, checked against known instants as well
    assert spans[0].end_time_unix_nano == 1_771_865_352_000_000_000  # 2026-02-23T16:49:12Z
    assert (
        spans[1].end_time_unix_nano == 1_771_909_200_123_456_789
    )  # 2026-02-24T05:00:00.123456789Z
    assert spans[1].start_time_unix_nano == 1_771_909_200_122_456_789


def span_ids(spans: list[Span]) -> list[tuple[bytes, bytes]]:
    return sorted((span.trace_id, span.span_id) for span in spans)


def test_ids_are_the_same_across_exports_reorders_and_folds(
    tmp_path: Path, receiver: Receiver
) -> None:
    same = row_line(notes="logged twice on purpose")
    first = write(tmp_path / "a.csv", ROWS[0], same, ROWS[1])
    second = write(tmp_path / "b.csv", same, ROWS[2])
    folded = write(tmp_path / "all.csv", ROWS[2], same, ROWS[1], same, ROWS[0])

    runs = [
        ("a.csv", "b.csv"),
        ("a.csv", "b.csv"),
        ("b.csv", "a.csv"),
        ("all.csv",),
    ]
    results = []
    for files in runs:
        before = len(receiver.received)
        done = export(tmp_path, *files, "--all", "--endpoint", receiver.url)
        assert done.returncode == 0, done.stderr
        results.append(span_ids([s for item in receiver.received[before:] for s in item.spans]))
    assert len(results[0]) == 5
    assert len(set(results[0])) == 5  # two identical rows, two spans
    assert all(result == results[0] for result in results)
    assert first.exists() and second.exists() and folded.exists()


def test_only_new_rows_are_sent_and_all_sends_again(
    repo: Path, log: Path, receiver: Receiver
) -> None:
    write(log, ROWS[0], ROWS[1])
    assert export(repo, "--endpoint", receiver.url).returncode == 0
    state = repo / ".git" / "telemetry-csv" / "export-otlp.json"
    assert state.exists()
    with log.open("a", encoding="utf-8") as file:
        file.write(ROWS[2])

    done = export(repo, "--endpoint", receiver.url)

    assert done.returncode == 0, done.stderr
    assert "exported 1 row of" in done.stdout and "(2 exported before)" in done.stdout
    assert [len(item.spans) for item in receiver.received] == [2, 1]
    assert (
        attributes(receiver.received[1].spans[0].attributes)["gen_ai.request.model"]
        == "llama-3.1-70b"
    )
    nothing = export(repo, "--endpoint", receiver.url)
    assert "exported 0 rows" in nothing.stdout and len(receiver.received) == 2
    again = export(repo, "--endpoint", receiver.url, "--all")
    assert "exported 3 rows" in again.stdout
    assert span_ids(receiver.received[2].spans) == span_ids(receiver.spans()[:3])


def test_a_rotation_keeps_the_progress(repo: Path, log: Path, receiver: Receiver) -> None:
    write(log, ROWS[0], ROWS[1])
    assert export(repo, "--endpoint", receiver.url).returncode == 0
    log.rename(log.with_name("usage-20260301T000000Z.csv"))
    write(log, ROWS[2])

    done = export(repo, "--endpoint", receiver.url)

    assert done.returncode == 0, done.stderr
    assert [len(item.spans) for item in receiver.received] == [2, 1]


def test_a_file_whose_exported_rows_moved_is_sent_again_whole_without_metrics(
    repo: Path, log: Path, receiver: Receiver
) -> None:
    write(log, ROWS[0], ROWS[1])
    assert export(repo, "--endpoint", receiver.url, "--metrics").returncode == 0
    write(log, ROWS[0], ROWS[2], ROWS[1])  # a row merged in before one already sent

    done = export(repo, "--endpoint", receiver.url, "--metrics")

    assert done.returncode == 0, done.stderr
    assert "rows were inserted before rows already exported" in done.stderr
    assert len(receiver.received[-1].spans) == 3
    assert set(span_ids(receiver.spans()[:2])) <= set(span_ids(receiver.received[-1].spans))
    assert len(receiver.metric_requests()) == 1  # only the first export measured its rows


def test_dry_run_sends_nothing_and_changes_nothing(
    repo: Path, log: Path, receiver: Receiver
) -> None:
    write(log, *ROWS)

    done = export(
        repo, "--endpoint", receiver.url, "--dry-run", "--header", "authorization=Bearer abc123"
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("would export 3 rows of .telemetry/usage.csv to ")
    assert "headers: authorization" in done.stdout and "abc123" not in done.stdout + done.stderr
    assert receiver.received == []
    assert not (repo / ".git" / "telemetry-csv" / "export-otlp.json").exists()


def test_a_503_is_retried(repo: Path, log: Path, receiver: Receiver) -> None:
    write(log, *ROWS)
    receiver.script = lambda number, kind: Reply(503) if number == 1 else Reply()

    done = export(repo, "--endpoint", receiver.url)

    assert done.returncode == 0, done.stderr
    assert [item.reply.status for item in receiver.received] == [503, 200]
    assert span_ids(receiver.received[0].spans) == span_ids(receiver.received[1].spans)
    assert "HTTP 503 Service Unavailable; trying again in" in done.stderr
    waited = receiver.received[1].at - receiver.received[0].at
    assert 0.7 <= waited < 5  # the first backoff: 1 s +-20%


def test_a_429_waits_as_long_as_retry_after_says(repo: Path, log: Path, receiver: Receiver) -> None:
    write(log, *ROWS)
    receiver.script = lambda number, kind: (
        Reply(429, {"Retry-After": "2"}) if number == 1 else Reply()
    )

    done = export(repo, "--endpoint", receiver.url)

    assert done.returncode == 0, done.stderr
    assert [item.reply.status for item in receiver.received] == [429, 200]
    assert receiver.received[1].at - receiver.received[0].at >= 1.95
    assert "trying again in 2.0 s" in done.stderr


@pytest.mark.parametrize(
    "failure",
    [Reply(400, body=b"\x12\x0dbad timestamp"), Reply(200, rejected=1, message="span too old")],
    ids=["400 Bad Request", "partial success"],
)
def test_a_batch_refused_mid_export_leaves_the_state_after_the_last_acknowledged_one(
    repo: Path, log: Path, receiver: Receiver, failure: Reply
) -> None:
    lines = [row_line(f"2026-02-{day:02d}T10:00:00Z", notes=f"row {day}") for day in range(1, 6)]
    write(log, *lines)
    full = export(repo, "--endpoint", receiver.url, "--all", "--dry-run")
    assert full.returncode == 0
    receiver.script = lambda number, kind: Reply() if number == 1 else failure

    done = export(repo, "--endpoint", receiver.url, "--batch-size", "2")

    assert done.returncode == 5, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    if failure.status == 400:
        assert "refused 2 spans: HTTP 400 Bad Request: bad timestamp (not retried)" in done.stderr
    else:
        assert "rejected 1 of 2 spans: span too old" in done.stderr
    assert [len(item.spans) for item in receiver.received] == [2, 2]  # no retry of batch 2
    sent_first = receiver.received[0].spans
    receiver.script = lambda number, kind: Reply()

    rerun = export(repo, "--endpoint", receiver.url, "--batch-size", "2")

    assert rerun.returncode == 0, rerun.stderr
    assert "exported 3 rows" in rerun.stdout and "(2 exported before)" in rerun.stdout
    resent = [span for item in receiver.received[2:] for span in item.spans]
    assert len(resent) == 3
    assert export(repo, "--endpoint", receiver.url, "--all").returncode == 0
    assert span_ids(sent_first + resent) == span_ids(receiver.received[-1].spans)


def test_gzip_and_headers_from_the_environment_and_flags(
    repo: Path, log: Path, receiver: Receiver
) -> None:
    write(log, *ROWS)
    env = {
        "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
        "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Basic%20Z2VuZXJpYw==,x-generic=1",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "authorization=Bearer%20sk-traces-1234567890,x-tenant=acme",
    }

    done = export(repo, "--endpoint", receiver.url, "--header", "X-Tenant=flag", env=env)

    assert done.returncode == 0, done.stderr
    [request] = receiver.received
    assert request.headers["content-encoding"] == "gzip"
    assert request.raw[:2] == b"\x1f\x8b"
    assert len(request.spans) == 3
    assert request.headers["authorization"] == "Bearer sk-traces-1234567890"  # signal over generic
    assert "x-generic" not in request.headers  # the signal's variable replaces the generic one
    assert request.headers["x-tenant"] == "flag"  # a flag over the variables
    assert request.headers["user-agent"].startswith("telemetry-csv/")
    assert "sk-traces" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("flag", "env", "path"),
    [
        (None, {"OTEL_EXPORTER_OTLP_ENDPOINT": "{url}/base/"}, "/base/v1/traces"),
        (None, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "{url}/exactly/here"}, "/exactly/here"),
        (None, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "{url}", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}, "/"),
        ("{url}/flag", {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:9/x"}, "/flag/v1/traces"),
    ],
    ids=["generic appends v1/traces", "signal used as is", "signal over generic", "flag over both"],
)  # fmt: skip
def test_endpoint_variables_follow_the_specification(
    repo: Path, log: Path, receiver: Receiver, flag: str | None, env: dict[str, str], path: str
) -> None:
    write(log, ROWS[0])
    args = ["--endpoint", flag.format(url=receiver.url)] if flag else []

    done = export(
        repo, *args, env={key: value.format(url=receiver.url) for key, value in env.items()}
    )

    assert done.returncode == 0, done.stderr
    assert [item.path for item in receiver.received] == [path]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_endpoint_is_one_line_and_status_5(repo: Path, log: Path) -> None:
    write(log, *ROWS)
    url = f"http://user:hunter2@127.0.0.1:{free_port()}/?token=abc"

    done = export(
        repo, env={"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_EXPORTER_OTLP_TIMEOUT": "1500"}
    )

    assert done.returncode == 5
    lines = done.stderr.splitlines()
    assert lines[-1].startswith("telemetry-csv export: error: cannot reach http://127.0.0.1:")
    assert "connection refused" in lines[-1]
    assert (
        "Traceback" not in done.stderr and "hunter2" not in done.stderr and "abc" not in lines[-1]
    )
    assert done.stdout == ""
    assert not (repo / ".git" / "telemetry-csv" / "export-otlp.json").exists()


def test_without_the_extra_the_error_says_what_to_install(repo: Path, log: Path) -> None:
    write(log, *ROWS)
    # The interpreter as it would be without the packages: importing them fails.
    code = (
        "import sys; sys.modules['opentelemetry'] = None; sys.modules['google.protobuf'] = None; "
        "from telemetry_csv.cli.main import main; sys.exit(main(sys.argv[1:]))"
    )

    done = subprocess.run(
        [sys.executable, "-c", code, "export", "otlp", "--endpoint", "http://127.0.0.1:9"],
        cwd=repo, capture_output=True, text=True, env=git_env(), timeout=TIMEOUT, check=False,
    )  # fmt: skip

    assert done.returncode == 2
    assert done.stderr == (
        "telemetry-csv export: error: exporting needs the `otlp` extra (google.protobuf "
        f"cannot be imported); install it with: {sys.executable} -m pip install "
        "'opentelemetry-proto<2,>=1.27' 'protobuf<8,>=5'\n"  # as the installed metadata has them
    )


def test_log_never_imports_the_exporter(repo: Path) -> None:
    code = (
        "import sys; from telemetry_csv.cli.main import main; "
        "status = main(['log', '--model', 'gpt-4o', '--prompt-tokens', '1', "
        "'--completion-tokens', '2', '--task-success', 'true', '--task-type', 'quick', '--duration-ms', '3']); "
        "loaded = sorted(m for m in sys.modules if m.startswith(('telemetry_csv.export', 'opentelemetry', 'google'))); "
        "print(status, loaded)"
    )
    assert (
        subprocess.run(
            [str(BIN / "telemetry-csv"), "init"], cwd=repo, capture_output=True, check=False
        ).returncode
        == 0
    )

    done = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, env=git_env(),
        timeout=TIMEOUT, check=False,
    )  # fmt: skip

    assert done.stdout.splitlines()[-1] == "0 []", done.stderr


def test_selection_is_the_reports(repo: Path, log: Path, receiver: Receiver) -> None:
    lines = [
        row_line("2026-02-28T23:30:00-02:00", "gpt-4o", task_type="plan"),  # 1 March in UTC
        row_line("2026-03-01T00:30:00+02:00", "gpt-4o", task_type="plan"),  # 28 Feb in UTC
        row_line("2026-03-01T12:00:00Z", "claude-sonnet-4", task_type="plan"),
        row_line("2026-03-02T12:00:00Z", "gpt-4o", task_type="execute"),
    ]
    write(log, *lines)
    selection = [
        "--since",
        "2026-03-01",
        "--until",
        "2026-03-01",
        "--model",
        "gpt-4o",
        "--task-type",
        "plan",
    ]
    report = subprocess.run(
        [str(BIN / "telemetry-csv"), "report", "--format", "json", *selection],
        cwd=repo, capture_output=True, text=True, env=git_env(), check=True,
    )  # fmt: skip

    done = export(repo, "--endpoint", receiver.url, *selection)

    assert done.returncode == 0, done.stderr
    runs = json.loads(report.stdout)["totals"]["runs"]
    assert runs == 1
    assert len(receiver.spans()) == runs
    assert receiver.spans()[0].end_time_unix_nano == nanoseconds("2026-02-28T23:30:00-02:00")
    assert "3 not selected" in done.stdout


def test_metrics_are_sent_for_new_rows_only(repo: Path, log: Path, receiver: Receiver) -> None:
    write(log, ROWS[0], ROWS[1])

    done = export(repo, "--endpoint", receiver.url, "--metrics")

    assert done.returncode == 0, done.stderr
    [request] = receiver.metric_requests()
    assert receiver.received[-1].path == "/v1/metrics"
    metrics = {m.name: m for m in request.resource_metrics[0].scope_metrics[0].metrics}
    tokens = metrics["gen_ai.client.token.usage"]
    assert tokens.unit == "{token}"
    points = {
        (
            attributes(p.attributes)["gen_ai.request.model"],
            attributes(p.attributes)["gen_ai.token.type"],
        ): p
        for p in tokens.histogram.data_points
    }
    assert points["claude-sonnet-4-5", "input"].sum == 1500
    assert points["gpt-4o", "output"].sum == 20 and points["gpt-4o", "output"].count == 1
    assert list(points["gpt-4o", "output"].bucket_counts)[3] == 1  # (16, 64]
    duration = metrics["gen_ai.client.operation.duration"]
    assert duration.unit == "s"
    failed = [
        p for p in duration.histogram.data_points if attributes(p.attributes).get("error.type")
    ]
    assert len(failed) == 1 and failed[0].sum == pytest.approx(0.001)
    assert tokens.histogram.aggregation_temporality == 1  # delta
    with log.open("a", encoding="utf-8") as file:
        file.write(ROWS[2])
    again = export(repo, "--endpoint", receiver.url, "--metrics", "--all")
    assert "exported 3 rows" in again.stdout
    later = receiver.metric_requests()[-1]
    models = {
        attributes(p.attributes)["gen_ai.request.model"]
        for m in later.resource_metrics[0].scope_metrics[0].metrics
        for p in m.histogram.data_points
    }
    assert models == {"llama-3.1-70b"}


def test_ids_of_commit_ranges_match_the_whole_log(
    repo: Path, log: Path, receiver: Receiver
) -> None:
    same = row_line(notes="twice")  # once in each push: the second copy is a row of its own
    commits = []
    for lines in ((), (ROWS[0], same), (ROWS[0], same, same, ROWS[1])):
        write(log, *lines)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", f"{len(lines)} rows")
        commits.append(git(repo, "rev-parse", "HEAD").strip())

    ranged = []
    for base, head in itertools.pairwise(commits):
        before = len(receiver.received)
        done = export(repo, "--endpoint", receiver.url, "--range", f"{base}..{head}")
        assert done.returncode == 0, done.stderr
        ranged += [s for item in receiver.received[before:] for s in item.spans]
    whole = export(repo, "--endpoint", receiver.url, "--all")

    assert whole.returncode == 0, whole.stderr
    assert len(ranged) == 4 and len(set(span_ids(ranged))) == 4
    assert span_ids(ranged) == span_ids(receiver.received[-1].spans)
    assert not (repo / ".git" / "telemetry-csv" / "export-otlp.json").read_text().count("range")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--range", "HEAD~1..HEAD", "a.csv"], "--range reads the log from git; give it without FILES or --file"),
        (["--batch-size", "0"], "argument --batch-size: '0' is not allowed"),
        (["--since", "yesterday"], "--since: 'yesterday' is not allowed"),
        (["--task-type", "nonsense"], "--task-type: 'nonsense' is not allowed"),
        (["--endpoint", "ftp://x"], "--endpoint: 'ftp://x' is not allowed"),
        (["--header", "Authorization: Bearer sk-abcdefabcdef1234"], "--header: expected NAME=VALUE"),
    ],
)  # fmt: skip
def test_bad_arguments_are_one_line_and_status_2(
    repo: Path, log: Path, receiver: Receiver, args: list[str], message: str
) -> None:
    write(log, *ROWS)

    done = export(repo, *args)

    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert "sk-abcdef" not in done.stderr
    assert receiver.received == []


def test_outside_a_repository_the_state_has_no_home(tmp_path: Path, receiver: Receiver) -> None:
    write(tmp_path / "usage.csv", *ROWS)

    refused = export(tmp_path, "usage.csv", "--endpoint", receiver.url)
    done = export(tmp_path, "usage.csv", "--endpoint", receiver.url, "--all")

    assert refused.returncode == 2 and "give --all to send every row" in refused.stderr
    assert done.returncode == 0 and len(receiver.spans()) == 3
