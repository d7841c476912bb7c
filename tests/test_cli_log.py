"""`telemetry-csv log`: both argument forms, friendly input, refusals that write nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from telemetry_csv.cli.main import main
from testing.util import (
    EXTENDED_HEADER,
    HEADER,
    extended,
    logged_lines,
    logged_text,
    row_line,
    run_cli,
    shards,
)

POSITIONAL = ["claude-3-opus", "1500", "3200", "true", "execute", "45000", "Phase 6 tests"]
STAMP = ["--timestamp", "2026-02-23T22:19:12+01:00"]


def lines(log: Path) -> list[str]:
    return logged_lines(log)


def test_positional_form(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["log", *POSITIONAL, *STAMP]) == 0
    [shard] = shards(log)
    assert shard.read_text() == EXTENDED_HEADER + extended(row_line(notes="Phase 6 tests"))
    assert capsys.readouterr().out == (
        "logged claude-3-opus execute success, 4,700 tokens, 45,000 ms to "
        f"{shard.relative_to(log.parent.parent)}\n"
    )


def test_flag_form_with_friendly_values(log: Path) -> None:
    argv = [
        "log", "--model", "openai/gpt-4o", "--prompt-tokens", "900", "--completion-tokens", "120",
        "--task-success", "yes", "--task-type", "Quick", "--duration", "1m30s",
        "--notes", "rename, then \"fix\"", "--timestamp", "2026-02-23t22:19:12z",
    ]  # fmt: skip
    assert main(argv) == 0
    assert lines(log) == [
        '2026-02-23T22:19:12Z,openai/gpt-4o,900,120,true,quick,90000,"rename, then ""fix""",,,,'
    ]


def test_forms_mix_but_not_for_one_field(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["log", "claude-3-opus", "1", "2", "--task-success", "no", "plan", "3", *STAMP]) == 2
    )
    # Positionals fill columns in order, so 'plan' is argument 4, task_success.
    assert (
        "task_success given twice: as argument 4 and as --task-success" in capsys.readouterr().err
    )
    assert not logged_text(log)
    assert main(["log", "claude-3-opus", "1", "2", "--task-success", "no", "--task-type", "plan",
                 "--duration-ms", "3", *STAMP]) == 0  # fmt: skip
    assert lines(log) == ["2026-02-23T22:19:12+01:00,claude-3-opus,1,2,false,plan,3,,,,,"]
    assert main(["log", *POSITIONAL, "--model", "x", *STAMP]) == 2
    assert capsys.readouterr().err.endswith(
        "error: model given twice: as argument 1 and as --model\n"
    )


def test_missing_and_extra_arguments(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["log", "claude-3-opus", "1500", "3200", "true", "plan"]) == 2
    assert "duration_ms is missing: give it as argument 6 or as --duration-ms" in (
        capsys.readouterr().err
    )
    assert main(["log", *POSITIONAL, "extra"]) == 2
    assert "too many arguments" in capsys.readouterr().err
    assert not logged_text(log)


@pytest.mark.parametrize(
    ("index", "value", "message"),
    [
        (0, "claude 3", "model: 'claude 3' is not allowed"),
        (1, "1,500", "prompt_tokens: '1,500' is not allowed"),
        (2, "-3", "completion_tokens: '-3' is not allowed"),
        (3, "maybe", "task_success: 'maybe' is not allowed"),
        (4, "deploy", "task_type: 'deploy' is not allowed; expected one of plan|execute"),
        (5, "45s", "duration_ms: '45s' is not allowed"),
        (6, "bell\x07", "notes: 'bell\\x07' is not allowed"),
    ],
)
def test_bad_input_is_refused_with_the_file_byte_for_byte_unchanged(
    log: Path, capsys: pytest.CaptureFixture[str], index: int, value: str, message: str
) -> None:
    assert main(["log", *POSITIONAL, *STAMP]) == 0
    [shard] = shards(log)
    before = shard.read_bytes()
    argv = list(POSITIONAL)
    argv[index] = value
    capsys.readouterr()
    assert main(["log", *argv, *STAMP]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert shards(log) == [shard] and shard.read_bytes() == before


def test_bad_timestamp_and_duration(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["log", *POSITIONAL, "--timestamp", "2026-02-23T22:19:12"]) == 2
    assert "timestamp: '2026-02-23T22:19:12' is not allowed; the offset is missing" in (
        capsys.readouterr().err
    )
    argv = ["log", *POSITIONAL[:5], "--duration", "90", "--notes", "x"]
    assert main(argv) == 2
    assert (
        "duration: '90' is not allowed; expected a duration with units" in capsys.readouterr().err
    )
    assert not logged_text(log)


def test_line_breaks_in_notes_are_folded_with_a_notice(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["log", *POSITIONAL[:6], "first\nsecond\tthird", *STAMP, "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "telemetry-csv log: note: notes: folded 2 line break(s) or tab(s) into spaces\n"
    )
    assert lines(log)[0].endswith(",first second third,,,,")


def test_refuses_after_a_torn_last_line(
    single_layout: Path, log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torn = HEADER + row_line() + "2026-02-23T22:19:12+01:00,claude-3-op"
    log.write_text(torn)
    assert main(["log", *POSITIONAL]) == 4
    err = capsys.readouterr().err
    assert "last line is torn" in err and "telemetry-csv check" in err and err.count("\n") == 1
    assert log.read_text() == torn


def test_file_option_wins_over_configuration(repo: Path, log: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.telemetry-csv]\nlog = "configured.csv"\n')
    assert main(["log", *POSITIONAL, "--file", "elsewhere.csv", "-q"]) == 0
    assert len(lines(repo / "elsewhere.csv")) == 1  # exactly the file named, in every layout
    assert not logged_text(repo / "configured.csv")
    assert main(["log", *POSITIONAL, "-q"]) == 0
    assert len(shards(repo / "configured.csv")) == 1  # the team layout: beside the configured log
    assert not logged_text(log)


def test_max_bytes_option_rotates(
    single_layout: Path, log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(30):
        assert main(["log", *POSITIONAL, *STAMP, "--max-bytes", "1024", "-q"]) == 0
    assert "the log was full; backed it up to .telemetry/usage-" in capsys.readouterr().err
    assert main(["log", *POSITIONAL, "--max-bytes", "100"]) == 2
    assert (
        "max_bytes: 100 is not allowed; expected a whole number of bytes, at least 1024"
        in capsys.readouterr().err
    )


@pytest.mark.parametrize("value", ["nan", "-1", "inf", "1e400", "soon"])
def test_lock_timeout_option_is_checked(repo: Path, log: Path, value: str) -> None:
    # nan reached filelock (a traceback); -1 meant "wait for ever".
    done = run_cli("log", *POSITIONAL, "--lock-timeout", value, cwd=repo)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"telemetry-csv log: error: argument --lock-timeout: {value!r} is not allowed; "
        "expected a number of seconds, 0 or more, not infinite (see --help)\n"
    )
    assert not logged_text(log)
    assert main(["log", *POSITIONAL, "--lock-timeout", "0.5", "-q"]) == 0
    assert len(lines(log)) == 1


def test_configured_task_types(repo: Path, log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pyproject.toml").write_text('[tool.telemetry-csv]\ntask_types = ["review"]\n')
    assert main(["log", *POSITIONAL]) == 2
    assert "expected one of review" in capsys.readouterr().err
    assert main(["log", "m", "1", "2", "true", "review", "3", "-q"]) == 0


def test_installed_command_from_a_subfolder_never_prints_a_traceback(repo: Path, log: Path) -> None:
    sub = repo / "pkg" / "module"
    sub.mkdir(parents=True)
    done = run_cli("log", *POSITIONAL, cwd=sub)
    assert done.returncode == 0, done.stderr
    [shard] = shards(log)
    assert done.stdout.endswith(f"to ../../{shard.relative_to(repo)}\n")
    assert len(lines(log)) == 1
    for bad in (["1,500", *POSITIONAL[2:]], ["--max-bytes", "x"], ["--nope"]):
        done = run_cli("log", *POSITIONAL[:1], *bad, cwd=sub)
        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        assert done.stderr.count("\n") == 1, done.stderr
    assert len(lines(log)) == 1


def test_unknown_command_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nope"]) == 2
    assert "unknown command 'nope'" in capsys.readouterr().err
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "log" in out and "check" in out and "init" in out
    assert main([]) == 2


def test_log_help_runs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["log", "--help"])
    assert raised.value.code == 0
    assert "telemetry-csv log MODEL PROMPT_TOKENS" in capsys.readouterr().out


def test_log_works_when_the_folder_is_missing(repo: Path, log: Path) -> None:
    assert not log.parent.exists()
    assert main(["log", *POSITIONAL, "-q"]) == 0
    assert os.path.exists(log.parent / ".gitignore")
