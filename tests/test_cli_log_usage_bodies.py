"""`telemetry-csv log --usage-json FILE|-`: counts from response bodies, flags winning, refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from telemetry_csv.cli.main import main
from testing.platforms import SHELL, posix_only
from testing.util import (
    BIN,
    EXTENDED_HEADER,
    FIXTURES,
    HEADER,
    logged_text,
    row_line,
    run_cli,
    shards,
)

STAMP = ["--timestamp", "2026-02-23T22:19:12+01:00"]
OUTCOME = ["--task-success", "true", "--task-type", "execute", "--duration", "40s", *STAMP]


def with_source(line: str, cache: str) -> str:
    """A row line as `log --usage-json` stores it: source usage-json, no id, the cache parts."""
    return f"{line[:-1]},usage-json,,{cache}\n"


def test_file(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = str(FIXTURES / "anthropic-message.json")
    assert main(["log", "--usage-json", body, *OUTCOME]) == 0
    # The cache parts of the prompt tokens fill their own columns, with the row's source.
    assert logged_text(log) == EXTENDED_HEADER + with_source(
        row_line(
            model="claude-sonnet-4-5-20250929", prompt="13062", completion="512", duration="40000"
        ),
        "12000,1024",
    )
    out, err = capsys.readouterr()
    assert out == (
        "logged claude-sonnet-4-5-20250929 execute success, 13,574 tokens, 40,000 ms "
        f"to {shards(log)[0].relative_to(log.parent.parent)}\n"
    )
    assert err == (
        "telemetry-csv log: note: prompt_tokens includes 1,024 cache-write and 12,000 "
        "cache-read tokens\n"
    )


def test_standard_input_through_the_installed_command(repo: Path, log: Path) -> None:
    body = (FIXTURES / "openai-chat-stream.sse").read_text()
    done = run_cli("log", "--usage-json", "-", *OUTCOME, cwd=repo, input=body)
    assert done.returncode == 0, done.stderr
    assert logged_text(log) == EXTENDED_HEADER + with_source(
        row_line(model="gpt-4o-mini-2024-07-18", prompt="41", completion="7", duration="40000"),
        "0,0",
    )


@posix_only(f"{SHELL}: the test closes descriptor 0 with sh's redirections")
@pytest.mark.parametrize(
    ("redirect", "message"),
    [
        (
            "<&-",
            "--usage-json -: standard input is closed; pipe a response body into it, "
            "or give a file",
        ),
        # Open for writing only: reading it fails (EBADF), as any read error would.
        ("0>written", "--usage-json -: cannot read standard input: Bad file descriptor"),
    ],
    ids=["closed", "write-only"],
)
def test_unreadable_standard_input_is_a_one_line_error(
    repo: Path, log: Path, redirect: str, message: str
) -> None:
    command = " ".join(["exec", str(BIN / "telemetry-csv"), "log", "--usage-json", "-", *OUTCOME])
    done = subprocess.run(
        ["sh", "-c", f"{command} {redirect}"], cwd=repo, capture_output=True, text=True
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"telemetry-csv log: error: {message}\n"
    assert not logged_text(log)


def test_flags_and_positionals_win_over_the_body(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = str(FIXTURES / "gemini-generate-content.json")
    argv = ["log", "--usage-json", body, "--model", "google/gemini-2.5-flash",
            "--completion-tokens", "96", *OUTCOME]  # fmt: skip
    assert main(argv) == 0
    assert logged_text(log) == EXTENDED_HEADER + with_source(
        row_line(model="google/gemini-2.5-flash", prompt="1204", completion="96", duration="40000"),
        "0,0",
    )
    err = capsys.readouterr().err
    assert (
        "note: model: using the given google/gemini-2.5-flash, not the response's gemini-2.5-flash"
        in err
    )
    assert "note: completion_tokens: using the given 96, not the response's 563" in err
    assert "thinking tokens" not in err  # that detail was about the overridden column
    # The positional form is the command line too: the model given first wins.
    assert main(["log", "my-model", "--usage-json", body, *OUTCOME]) == 0
    assert logged_text(log).splitlines()[-1].split(",")[1:4] == ["my-model", "1204", "563"]


def test_the_other_fields_are_still_required(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = str(FIXTURES / "openai-responses.json")
    assert main(["log", "--usage-json", body, "--task-type", "plan", "--duration", "1s"]) == 2
    assert "task_success is missing: give it as argument 4 or as --task-success" in (
        capsys.readouterr().err
    )
    assert not logged_text(log)


def test_a_body_without_a_model_needs_model(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = log.parent.parent / "gemini.json"
    body.write_text('{"usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 2}}')
    assert main(["log", "--usage-json", str(body), *OUTCOME]) == 2
    assert capsys.readouterr().err == (
        "telemetry-csv log: error: model is missing: the Google Gemini response does not name "
        "one; give it with --model\n"
    )
    assert main(["log", "--usage-json", str(body), "--model", "gemini-2.0-flash", *OUTCOME]) == 0
    assert logged_text(log).splitlines()[-1].split(",")[1:4] == ["gemini-2.0-flash", "9", "2"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ((FIXTURES / "anthropic-error.json").read_text(), "an API error, not a response"),
        ((FIXTURES / "openai-chat-stream-without-usage.sse").read_text(), "include_usage"),
        ("", "empty; expected an OpenAI"),
        ("not json at all", "not JSON, JSON lines or a server-sent-events stream"),
        ('{"usage": {"prompt_tokens": 1.5}}', "usage.prompt_tokens is 1.5"),
        (
            '{"model": "has space", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}',
            "model: 'has space' is not allowed",
        ),
    ],
)
def test_refusals_leave_the_log_byte_for_byte_unchanged(
    repo: Path, log: Path, body: str, message: str
) -> None:
    log.parent.mkdir()
    before = HEADER + row_line() + row_line(notes='"second, quoted"')
    log.write_text(before)
    done = run_cli("log", "--usage-json", "-", *OUTCOME, cwd=repo, input=body)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("telemetry-csv log: error: ")
    assert message in done.stderr
    assert done.stderr.count("\n") == 1
    assert log.read_bytes() == before.encode()


def test_the_body_reader_is_imported_only_when_asked_for(repo: Path) -> None:
    # log's start-up budget: without --usage-json, the module and its json parser stay unloaded.
    script = (
        "import sys\n"
        "from telemetry_csv.cli.main import main\n"
        "assert main(sys.argv[1:]) == 0\n"
        "print('telemetry_csv.capture.usage_bodies' in sys.modules, 'json' in sys.modules)\n"
    )
    plain = ["log", "m", "1", "2", "true", "execute", "3", "-q"]
    body = ["log", "--usage-json", str(FIXTURES / "openai-responses.json"), *OUTCOME, "-q"]
    for argv, loaded in ((plain, "False False"), (body, "True True")):
        done = subprocess.run(
            [sys.executable, "-c", script, *argv], cwd=repo, capture_output=True, text=True
        )
        assert (done.returncode, done.stdout.strip()) == (0, loaded), done.stderr
