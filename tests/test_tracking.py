"""The in-process API: `try_log_row` never raises, `track` times a block and logs it."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import pytest

import telemetry_csv
from telemetry_csv.capture.usage_bodies import UsageJsonError
from telemetry_csv.errors import TelemetryError
from telemetry_csv.logfile.schema import count_allowed
from testing.util import EXTENDED_HEADER, FIXTURES, extended, logged_text, row_line, rows

count_rule = count_allowed()
VALUES = {
    "model": "claude-3-opus",
    "prompt_tokens": 1500,
    "completion_tokens": 3200,
    "task_success": True,
    "task_type": "execute",
    "duration_ms": 45000,
    "timestamp": "2026-02-23T22:19:12+01:00",
}


def body(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_try_log_row_logs(log: Path) -> None:
    logged = telemetry_csv.try_log_row(**VALUES)
    assert logged is not None and logged.row.total_tokens == 4700
    assert logged_text(log) == EXTENDED_HEADER + extended(row_line())


def test_try_log_row_returns_none_and_warns(log: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="telemetry_csv"):
        assert telemetry_csv.try_log_row(**{**VALUES, "task_type": "nope"}) is None
    assert caplog.messages == [
        "telemetry-csv: row not logged: task_type: 'nope' is not allowed; "
        "expected one of plan|execute|verify|discuss|quick"
    ]
    assert not logged_text(log)


def test_try_log_row_survives_unexpected_os_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()  # the working directory no longer exists: Path.cwd() raises FileNotFoundError
    with caplog.at_level(logging.WARNING, logger="telemetry_csv"):
        assert telemetry_csv.try_log_row(**VALUES) is None
    assert caplog.messages[0].startswith("telemetry-csv: row not logged: [Errno 2]")


def test_try_log_row_when_the_log_cannot_be_written(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (repo / ".telemetry").write_text("a file where the folder should be")
    with caplog.at_level(logging.WARNING, logger="telemetry_csv"):
        assert telemetry_csv.try_log_row(**VALUES) is None
    assert caplog.messages[0].startswith("telemetry-csv: row not logged: cannot read ")
    assert "Not a directory" in caplog.messages[0]


@pytest.mark.parametrize("value", [float("nan"), -1, float("inf")])
def test_log_row_refuses_a_bad_lock_timeout(log: Path, value: float) -> None:
    with pytest.raises(
        TelemetryError, match=r"^lock_timeout: .* is not allowed; expected a number"
    ):
        telemetry_csv.log_row(**VALUES, lock_timeout=value)
    assert not logged_text(log)


def test_track_logs_success_with_measured_duration(log: Path) -> None:
    started = time.monotonic()
    with telemetry_csv.track("plan", model="gpt-4o", notes="sketch, then code") as task:
        time.sleep(0.05)
        task.add_usage(100, 20)
        task.add_usage(completion_tokens=5)
    elapsed_ms = (time.monotonic() - started) * 1000
    assert task.logged is not None and task.error is None
    row = task.logged.row
    assert (row.model, row.prompt_tokens, row.completion_tokens, row.task_success) == (
        "gpt-4o", 100, 25, True,
    )  # fmt: skip
    assert (row.task_type, row.notes) == ("plan", "sketch, then code")
    assert 50 <= row.duration_ms <= elapsed_ms + 1
    assert logged_text(log).endswith(
        f',gpt-4o,100,25,true,plan,{row.duration_ms},"sketch, then code",,,,\n'
    )


def test_track_logs_failure_and_reraises_the_same_exception(log: Path) -> None:
    error = ValueError("the agent gave up")
    with pytest.raises(ValueError) as caught, telemetry_csv.track("execute", model="m") as task:
        task.add_usage(10, 1)
        raise error
    assert caught.value is error
    assert caught.traceback[-1].name == "test_track_logs_failure_and_reraises_the_same_exception"
    assert rows(log)[0][1:6] == ["m", "10", "1", "false", "execute"]


def test_track_keyboard_interrupt_is_a_failure_too(log: Path) -> None:
    with pytest.raises(KeyboardInterrupt), telemetry_csv.track("execute", model="m"):
        raise KeyboardInterrupt
    assert rows(log)[0][4] == "false"


def test_failure_without_an_exception(log: Path) -> None:
    with telemetry_csv.track("verify", model="m") as task:
        task.task_success = False  # the tests failed; nothing raised
    assert rows(log)[0][4] == "false"
    # An exception makes it false even if the block said otherwise before raising.
    with pytest.raises(RuntimeError), telemetry_csv.track("verify", model="m") as task:
        task.task_success = True
        raise RuntimeError
    assert rows(log)[1][4] == "false"


def test_track_counts_responses(log: Path) -> None:
    with telemetry_csv.track("execute") as task:
        first = task.add_response(body("anthropic-message.json"))
        task.add_response((FIXTURES / "anthropic-stream.sse").read_text())
        task.add_usage(prompt_tokens=1)
    assert first is not None and first.prompt_tokens == 13062
    assert task.responses == 2
    # The first response names the model; counts add up over all of them.
    assert rows(log)[0][1:4] == ["claude-sonnet-4-5-20250929", str(13062 + 2073 + 1), str(512 + 15)]


def test_model_set_by_the_caller_wins(log: Path) -> None:
    with telemetry_csv.track("execute", model="my-proxy/gpt") as task:
        task.add_response(body("openai-chat-completion.json"))
    assert rows(log)[0][1:4] == ["my-proxy/gpt", "2006", "300"]


def test_unreadable_response_is_a_warning_not_a_crash(
    log: Path, caplog: pytest.LogCaptureFixture
) -> None:
    warnings = caplog.at_level(logging.WARNING, logger="telemetry_csv")
    with warnings, telemetry_csv.track("execute", model="m") as task:
        assert task.add_response(body("anthropic-error.json")) is None
        assert task.add_response(object()) is None
    assert caplog.messages[0] == (
        "telemetry-csv: response not counted: response: an API error, not a response with "
        "token usage: overloaded_error: Overloaded"
    )
    assert "a object is not a response body" in caplog.messages[1]
    assert rows(log)[0][1:5] == ["m", "0", "0", "true"]


class BrokenSdkObject:
    """An SDK response whose model_dump() fails, as a version mismatch might make it."""

    def model_dump(self) -> dict:
        raise RuntimeError("pydantic could not serialise it")


def test_a_response_that_fails_to_dump_is_a_warning_not_a_crash(
    log: Path, caplog: pytest.LogCaptureFixture
) -> None:
    warnings = caplog.at_level(logging.WARNING, logger="telemetry_csv")
    with warnings, telemetry_csv.track("execute", model="m") as task:
        assert task.add_response(BrokenSdkObject()) is None
        task.add_usage(3, 4)
    assert caplog.messages == [
        "telemetry-csv: response not counted: unexpected RuntimeError: "
        "pydantic could not serialise it"
    ]
    assert caplog.records[0].exc_info is not None  # the traceback, for whoever reports the bug
    assert rows(log)[0][1:5] == ["m", "3", "4", "true"]
    # strict=True: the caller asked to hear about it, in the block.
    with pytest.raises(RuntimeError), telemetry_csv.track("plan", model="m", strict=True) as task:
        task.add_response(BrokenSdkObject())
    assert rows(log)[1][4] == "false"


def test_add_usage_takes_counts_by_the_schemas_rule(
    log: Path, caplog: pytest.LogCaptureFixture
) -> None:
    warnings = caplog.at_level(logging.WARNING, logger="telemetry_csv")
    with warnings, telemetry_csv.track("execute", model="m") as task:
        task.add_usage("5", 2)  # digits, as the CLI takes them
        task.add_usage(1.5)  # refused, not kept to sink the whole row at the end
        task.add_usage(completion_tokens=-1)
        task.add_usage(True)
    assert caplog.messages == [
        "telemetry-csv: usage not counted: prompt_tokens: '1.5' is not allowed; " + count_rule,
        "telemetry-csv: usage not counted: completion_tokens: '-1' is not allowed; " + count_rule,
        "telemetry-csv: usage not counted: prompt_tokens: 'True' is not allowed; " + count_rule,
    ]
    assert (task.prompt_tokens, task.completion_tokens) == (5, 2)
    assert rows(log)[0][1:5] == ["m", "5", "2", "true"]
    refused = pytest.raises(TelemetryError, match=r"prompt_tokens: '1\.5' is not allowed")
    with refused, telemetry_csv.track("plan", model="m", strict=True) as task:
        task.add_usage(1.5)
    assert rows(log)[1][4] == "false"


def test_no_model_means_no_row_and_a_warning(log: Path, caplog: pytest.LogCaptureFixture) -> None:
    warnings = caplog.at_level(logging.WARNING, logger="telemetry_csv")
    with warnings, telemetry_csv.track("execute") as task:
        pass
    assert isinstance(task.error, TelemetryError)
    assert task.logged is None
    assert caplog.messages == [
        "telemetry-csv: row not logged: model: '' is not allowed; expected a model name such as "
        "claude-3-opus; it must not be empty"
    ]
    assert not logged_text(log)


def test_strict_raises_telemetry_errors_only_when_the_block_succeeded(log: Path) -> None:
    refused = pytest.raises(TelemetryError, match="task_type: 'nope' is not allowed")
    with refused, telemetry_csv.track("nope", model="m", strict=True):
        pass
    assert not logged_text(log)
    # The block's own exception wins over a telemetry failure.
    with pytest.raises(ZeroDivisionError), telemetry_csv.track("nope", model="m", strict=True):
        1 / 0  # noqa: B018
    assert not logged_text(log)
    # A response without usage raises inside the block, so the row says it failed.
    unreadable = pytest.raises(UsageJsonError, match="no token usage found")
    with unreadable, telemetry_csv.track("plan", model="m", strict=True) as task:
        task.add_response({"no": "usage"})
    assert rows(log)[0][4:6] == ["false", "plan"]


def test_async_with(log: Path) -> None:
    async def agent() -> telemetry_csv.TrackedTask:
        async with telemetry_csv.track("discuss", model="gemini-2.5-flash") as task:
            await asyncio.sleep(0.02)
            task.add_response(body("gemini-generate-content.json"))
        return task

    task = asyncio.run(agent())
    assert task.logged is not None and task.logged.row.duration_ms >= 20
    assert rows(log)[0][1:6] == ["gemini-2.5-flash", "1204", "563", "true", "discuss"]


def test_explicit_path(tmp_path: Path, repo: Path) -> None:
    target = tmp_path / "elsewhere" / "agent.csv"
    with telemetry_csv.track("quick", model="m", path=target):
        pass
    assert target.read_text().startswith(EXTENDED_HEADER)
    assert not logged_text(repo / ".telemetry" / "usage.csv")
