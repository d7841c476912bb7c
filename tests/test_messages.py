"""Messages that unstick (issue 17): each refusal says what would have worked, and the exit
status is the one the table in errors.py gives, however the same mistake is made."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from telemetry_csv.cli.main import main
from telemetry_csv.errors import EXIT_FILE, EXIT_USAGE
from testing.util import git, logged_lines, logged_text, run_cli

FIELDS = ["claude-3-opus", "1500", "3200", "true", "execute"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [*FIELDS, "--duration", "45000"],
            "duration: '45000' is not allowed; expected a duration with units, largest first, "
            "e.g. 45s, 1m30s, 1h2m, 1.5s or 850ms; for milliseconds use --duration-ms 45000 "
            "(or the sixth argument)",
        ),
        (
            [*FIELDS, "45s"],
            "duration_ms: '45s' is not allowed; duration_ms is whole milliseconds (45000); for a "
            "duration with units use --duration 45s",
        ),
        (
            [*FIELDS, "--duration-ms", "1m30s"],
            "duration_ms: '1m30s' is not allowed; duration_ms is whole milliseconds (90000); for "
            "a duration with units use --duration 1m30s",
        ),
    ],
)
def test_a_duration_in_the_wrong_place_names_the_right_one(
    log: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["log", *args]) == EXIT_USAGE
    assert capsys.readouterr().err == f"telemetry-csv log: error: {message}\n"
    assert not logged_text(log)


def test_a_positional_number_that_is_no_duration_keeps_the_schema_message(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["log", *FIELDS, "4.5"]) == EXIT_USAGE
    assert "duration_ms: '4.5' is not allowed; expected a non-negative whole number" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            ["claude-3-opus"],
            "5 fields are missing: prompt_tokens, completion_tokens, task_success, task_type, "
            "duration_ms; give them as arguments 2 to 6 (in that order) or as --prompt-tokens, "
            "--completion-tokens, --task-success, --task-type, --duration-ms (or --duration "
            "1m30s)",
        ),
        (
            ["--model", "m", "--completion-tokens", "3", "--task-type", "plan"],
            "3 fields are missing: prompt_tokens, task_success, duration_ms; give them as "
            "arguments 2, 4, 6 (in that order) or as --prompt-tokens, --task-success, "
            "--duration-ms (or --duration 1m30s)",
        ),
        (
            [*FIELDS],
            "duration_ms is missing: give it as argument 6 or as --duration-ms (or --duration "
            "1m30s)",
        ),
    ],
)
def test_every_missing_field_at_once_after_the_usage_line(
    log: Path, capsys: pytest.CaptureFixture[str], given: list[str], message: str
) -> None:
    assert main(["log", *given]) == EXIT_USAGE
    assert capsys.readouterr().err.splitlines() == [
        "usage: telemetry-csv log MODEL PROMPT_TOKENS COMPLETION_TOKENS SUCCESS TASK_TYPE "
        "DURATION_MS [NOTES]",
        f"telemetry-csv log: error: {message}",
    ]
    assert not logged_text(log)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["lgo"], "telemetry-csv: error: unknown command 'lgo'; did you mean log? choose from"),
        (["reprot"], "unknown command 'reprot'; did you mean report? choose from"),
        (["zzzzzz"], "unknown command 'zzzzzz'; choose from init, log"),
        (
            ["log", "--modle", "x"],
            "telemetry-csv log: error: unrecognized arguments: --modle; did you mean --model? "
            "(see --help)",
        ),
        (
            ["report", "--format", "jsn"],
            "telemetry-csv report: error: argument --format: invalid choice: 'jsn' (choose from "
            "'markdown', 'json', 'csv', 'html', 'legacy-json'); did you mean json? (see --help)",
        ),
        (
            ["check", "--max-problemz=3", "--quite"],
            "unrecognized arguments: --max-problemz=3 --quite; did you mean --max-problemz -> "
            "--max-problems, --quite -> --quiet? (see --help)",
        ),
        (["check", "--zzzzzz"], "unrecognized arguments: --zzzzzz (see --help)"),
    ],
)
def test_did_you_mean(
    repo: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_a_model_that_matches_no_row_names_the_nearest_and_those_logged(repo: Path) -> None:
    for model in ("openai/gpt-4o", "claude-sonnet-4-5"):
        assert run_cli("log", model, "1", "2", "true", "plan", "3", "-q", cwd=repo).returncode == 0
    done = run_cli("report", "--model", "gpt4o", cwd=repo)
    assert done.returncode == 0  # the table: a report is written when no row matches too
    assert "No rows match the filters (model `gpt4o`)." in done.stdout
    assert done.stderr == (
        "telemetry-csv report: note: no row has the model 'gpt4o'; did you mean openai/gpt-4o? "
        "models logged: claude-sonnet-4-5, openai/gpt-4o (--model takes a name exactly as "
        "logged)\n"
    )
    # A model that is logged, filtered out by another filter, is no mistake of the name.
    done = run_cli("report", "--model", "openai/gpt-4o", "--task-type", "quick", cwd=repo)
    assert done.returncode == 0 and done.stderr == ""


def test_an_unknown_seventh_token_is_the_note_with_a_notice(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["log", *FIELDS, "45000", "-x", "-q"]) == 0
    assert capsys.readouterr().err.splitlines()[0] == (
        "telemetry-csv log: note: '-x' is no option of `telemetry-csv log`, so it was stored as "
        "the notes (to say so, put -- before notes that start with -)"
    )
    # A known option there is the option, as documented; `--` makes anything the note.
    assert main(["log", *FIELDS, "45000", "-q"]) == 0
    assert main(["log", *FIELDS, "45000", "--", "-q"]) == 0
    notes = [line.split(",")[7] for line in logged_lines(log)]
    assert notes == ["'-x", "", "'-q"]  # the formula apostrophe, which reading takes off
    # Not the seventh: an unknown option anywhere else is refused, and so are two.
    for argv in (["-x", *FIELDS, "45000"], [*FIELDS, "45000", "-x", "-y"]):
        assert main(["log", *argv]) == EXIT_USAGE
    assert "unrecognized arguments" in capsys.readouterr().err
    assert len(logged_lines(log)) == 3


@pytest.mark.parametrize("command", ["check", "report", "fmt", "export otlp"])
def test_a_missing_file_is_exit_status_4_everywhere(repo: Path, command: str) -> None:
    done = run_cli(*command.split(), "missing.csv", cwd=repo)
    assert (done.returncode, done.stdout) == (EXIT_FILE, "")
    assert done.stderr == f"telemetry-csv {command.split()[0]}: error: missing.csv: no such file\n"


@pytest.mark.parametrize("command", ["check", "report", "fmt"])
def test_every_exit_status_of_a_command_is_in_its_help(command: str) -> None:
    from telemetry_csv.errors import COMMAND_EXITS

    done = run_cli(command, "--help", cwd=Path.cwd())
    statuses = done.stdout[done.stdout.index("exit status:") :]
    for status in COMMAND_EXITS[command]:
        assert f"  {status:>3}  " in statuses
    assert f"  {EXIT_FILE:>3}  " in statuses


def test_an_unresolved_merge_says_what_to_run_and_that_works(
    single_layout: Path, log: Path
) -> None:
    """Without the merge driver (not registered in this clone), git's line merge leaves markers;
    the commands `check` gives then merge the file with the driver, keeping both sides' rows."""
    repo = single_layout
    assert run_cli("log", *FIELDS, "1", "base", cwd=repo).returncode == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "feature")
    assert run_cli("log", *FIELDS, "2", "theirs", cwd=repo).returncode == 0
    git(repo, "commit", "-qam", "theirs")
    git(repo, "checkout", "-q", "main")
    assert run_cli("log", *FIELDS, "3", "ours", cwd=repo).returncode == 0
    git(repo, "commit", "-qam", "ours")
    merged = subprocess.run(["git", "merge", "-q", "feature"], cwd=repo, capture_output=True)
    assert merged.returncode == 1  # a conflict
    checked = run_cli("check", cwd=repo)
    assert checked.returncode == 1
    first = checked.stdout.splitlines()[0]
    assert first == (
        ".telemetry/usage.csv:3: line: a merge conflict marker: this merge was never resolved. "
        "While the merge is in progress, let telemetry-csv merge the file: `telemetry-csv init "
        "--git`, then `git checkout -m -- .telemetry/usage.csv` and `git add "
        ".telemetry/usage.csv`; otherwise keep the rows of both sides, delete the marker lines "
        "(<<<<<<<, |||||||, =======, >>>>>>>) and run `telemetry-csv check` again"
    )
    assert run_cli("init", "--git", cwd=repo).returncode == 0
    git(repo, "checkout", "-m", "--", ".telemetry/usage.csv")
    git(repo, "add", ".telemetry/usage.csv")
    assert run_cli("check", cwd=repo).returncode == 0
    assert [line.split(",")[7] for line in logged_lines(log)] == ["base", "ours", "theirs"]
