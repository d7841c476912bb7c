"""`telemetry-csv run --from-output`: headless coding agents, their usage taken from what they
print, their output passed through untouched.

The agents are stand-ins: small executables named `claude`, `codex` and `gemini` on PATH that
print the recorded shapes of tests/fixtures/agents/headless/ (and exit as told), run by the
installed command in its own process.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from telemetry_csv.logfile.layout import log_files
from telemetry_csv.logfile.reading import read_rows
from testing.util import BIN, git_env

HEADLESS = Path(__file__).parent / "fixtures" / "agents" / "headless"
LOG = ".telemetry/usage.csv"


def agent(folder: Path, name: str, fixture: str | None, status: int = 0) -> None:
    """An executable `name` that prints `fixture` byte for byte, writes its arguments to
    `name.args` (so a test can tell it ran), and exits with `status`."""
    body = f"cat '{HEADLESS / fixture}'\n" if fixture else "echo 'Error: no API key' >&2\n"
    script = folder / name
    script.write_text(f'#!/bin/sh\necho "$@" > "{folder / name}.args"\n{body}exit {status}\n')
    script.chmod(0o755)


def run(repo: Path, bin_folder: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = git_env()
    env["PATH"] = f"{bin_folder}:{env['PATH']}"
    return subprocess.run(
        [str(BIN / "telemetry-csv"), "run", *args],
        cwd=repo,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture
def agents(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    agent(folder, "claude", "claude.json")
    agent(folder, "codex", "codex-exec.jsonl")
    agent(folder, "gemini", "gemini.json")
    return folder


def logged(repo: Path) -> list[tuple[object, ...]]:
    return [
        (row.model, row.prompt_tokens, row.completion_tokens, row.cache_read_tokens,
         row.cache_write_tokens, row.task_success, row.task_type, row.source)
        for row in read_rows(log_files(repo / LOG))
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("command", "fixture", "options", "rows"),
    [
        (
            ["claude", "-p", "--output-format", "json", "rename it"],
            "claude.json",
            [],
            [
                ("claude-sonnet-4-5-20250929", 41 + 215400 + 18250, 2890, 215400, 18250),
                ("claude-haiku-4-5-20251001", 1850, 96, 0, 0),
            ],
        ),
        (
            ["codex", "exec", "--json", "plan it"],
            "codex-exec.jsonl",
            ["--model", "gpt-5-codex"],
            [("gpt-5-codex", 24763 + 25102, 122 + 58, 24448 + 24832, 0)],
        ),
        (
            ["gemini", "--output-format", "json", "-p", "fix it"],
            "gemini.json",
            [],
            [
                ("gemini-2.5-pro", 24010 + 20, 640 + 1310, 18000, 0),
                ("gemini-2.5-flash-lite", 900, 40, 0, 0),
            ],
        ),
    ],
    ids=["claude", "codex", "gemini"],
)
def test_one_row_per_model_and_the_output_passes_through(
    repo: Path, agents: Path, command: list[str], fixture: str, options: list[str], rows: list
) -> None:
    done = run(repo, agents, "--from-output", "--task-type", "execute", *options, "--", *command)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (HEADLESS / fixture).read_bytes()  # untouched, byte for byte
    assert (agents / f"{command[0]}.args").read_text() == " ".join(command[1:]) + "\n"
    assert logged(repo) == [(*row, True, "execute", "run") for row in rows]
    lines = done.stderr.decode().splitlines()
    assert len(lines) == len(rows) and all(
        line.startswith("telemetry-csv run: logged ") for line in lines
    )


def test_the_agents_duration_goes_to_the_model_that_did_the_work(repo: Path, agents: Path) -> None:
    done = run(
        repo, agents, "--from-output", "claude-code", "--task-type", "plan", "--", "claude", "-p"
    )
    assert done.returncode == 0, done.stderr
    assert [row.duration_ms for row in read_rows(log_files(repo / LOG))] == [48213, 0]


def test_codex_without_a_model_is_refused_before_it_runs(repo: Path, agents: Path) -> None:
    done = run(repo, agents, "--from-output", "codex", "--task-type", "plan", "--", "codex", "exec")
    assert done.returncode == 2
    assert b"codex exec --json names no model; give --model, or set codex_model" in done.stderr
    assert not (agents / "codex.args").exists() and not log_files(repo / LOG)


def test_codex_takes_its_model_from_the_configuration(repo: Path, agents: Path) -> None:
    (repo / ".telemetry").mkdir()
    (repo / ".telemetry" / "config.toml").write_text('codex_model = "gpt-5.1-codex"\n')
    done = run(
        repo, agents, "--from-output", "--task-type", "plan", "--", "codex", "exec", "--json"
    )
    assert done.returncode == 0, done.stderr
    assert [row[0] for row in logged(repo)] == ["gpt-5.1-codex"]


def test_a_failed_run_keeps_its_status_and_counts_as_a_failure(repo: Path, agents: Path) -> None:
    agent(agents, "claude", "claude.json", status=3)
    done = run(repo, agents, "--from-output", "--task-type", "execute", "--", "claude", "-p")
    assert done.returncode == 3
    assert [row[5] for row in logged(repo)] == [False, False]


def test_a_run_that_printed_no_json(repo: Path, agents: Path) -> None:
    agent(agents, "gemini", None, status=1)
    refused = run(
        repo, agents, "--from-output", "--task-type", "execute", "--", "gemini", "-p", "x"
    )
    assert refused.returncode == 1  # the command's status, whatever happens to the row
    assert b"not logged: --from-output: the command printed no JSON" in refused.stderr
    assert not log_files(repo / LOG)
    done = run(repo, agents, "--from-output", "--model", "gemini-2.5-pro", "--task-type",
               "execute", "--", "gemini", "-p", "x")  # fmt: skip
    assert done.returncode == 1
    assert logged(repo) == [("gemini-2.5-pro", 0, 0, None, None, False, "execute", "run")]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--usage-json", "out.json"], b"--from-output and --usage-json both name the usage"),
        (["--prompt-tokens", "5"], b"--prompt-tokens: with --from-output the counts come from"),
        (["--from-output=cursor"], b"invalid choice: 'cursor'"),
    ],
)
def test_conflicting_options_are_refused_before_anything_runs(
    repo: Path, agents: Path, options: list[str], message: bytes
) -> None:
    if options[0] != "--from-output=cursor":
        options = ["--from-output", *options]
    done = run(repo, agents, *options, "--task-type", "plan", "--", "claude", "-p")
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert not (agents / "claude.args").exists()


def test_a_stream_json_run(repo: Path, agents: Path) -> None:
    agent(agents, "gemini", "gemini-stream.jsonl")
    done = run(repo, agents, "--from-output", "--task-type", "execute", "--",
               "gemini", "--output-format", "stream-json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == (HEADLESS / "gemini-stream.jsonl").read_bytes()
    assert logged(repo) and all(row[-1] == "run" for row in logged(repo))


def test_run_with_a_response_body_fills_the_cache_columns(repo: Path, tmp_path: Path) -> None:
    """Not --from-output: `run --usage-json` with a body the command writes (Anthropic's
    cache reads and writes) records them, and `run` as the row's source."""
    body = Path(__file__).parent / "fixtures" / "usage" / "anthropic-message.json"
    done = run(repo, tmp_path, "--task-type", "execute", "--usage-json", "out.json", "--",
               "cp", str(body), "out.json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert logged(repo) == [
        ("claude-sonnet-4-5-20250929", 13062, 512, 12000, 1024, True, "execute", "run")
    ]
