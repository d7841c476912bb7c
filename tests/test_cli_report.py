"""`telemetry-csv report` as users run it: sources, errors, options, output files."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from telemetry_csv.cli.main import main
from testing.platforms import SHELL, posix_only
from testing.report_fixtures import LINES
from testing.util import HEADER, extended, git, row_line, run_cli


@pytest.fixture
def log(repo: Path) -> Path:
    """The fixture rows split across a backup (rows 1-2) and the log (rows 3-5)."""
    folder = repo / ".telemetry"
    folder.mkdir()
    (folder / "usage-20261121T000000Z.csv").write_text(HEADER + "".join(LINES[:2]))
    path = folder / "usage.csv"
    path.write_text(HEADER + "".join(LINES[2:]))
    return path


def report_json(*args: str) -> dict:
    return json.loads(run(*args, "--format", "json", "--no-costs"))


def run(*args: str) -> str:
    done = subprocess.run(
        [str(Path(os.sys.executable).parent / "telemetry-csv"), "report", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_reads_the_log_and_its_backups_from_a_subfolder(log: Path, repo: Path) -> None:
    sub = repo / "src" / "deep"
    sub.mkdir(parents=True)
    done = run_cli("report", "--format", "json", "--no-costs", cwd=sub)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["rows"] == 5 and document["totals"]["total_tokens"] == 6750
    assert document["source"] == "../../.telemetry/usage.csv and 1 backup"
    assert document["first"] == "2026-11-21T00:15:00+01:00"  # from the backup


def test_files_given_are_read_in_order(log: Path, repo: Path) -> None:
    document = report_json(str(log))
    assert document["rows"] == 3 and document["source"] == str(log)


@pytest.mark.slow
def test_installed_command_on_a_real_repository(repo: Path, single_layout: Path) -> None:
    """init, log rows (one rotation makes a backup), commit, report: from the installed script."""
    assert run_cli("init", cwd=repo).returncode == 0
    stamps = ["2026-11-20T10:00:00Z", "2026-11-20T23:30:00-05:00", "2026-11-21T09:00:00+01:00"]
    for index, stamp in enumerate(stamps):
        done = run_cli(
            "log", "claude-3-opus", str(1000 * (index + 1)), "100", "true", "plan", "60000",
            "--timestamp", stamp, "--max-bytes", "1024", "-q", cwd=repo,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    # Fill the log so the next append rotates it into a backup.
    log = repo / ".telemetry" / "usage.csv"
    log.write_text(log.read_text() + extended(row_line("2026-11-21T10:00:00Z", notes="x" * 800)))
    done = run_cli("log", "openai/gpt-4o", "5", "5", "false", "verify", "1000",
                   "--timestamp", "2026-11-22T00:00:00Z", "--max-bytes", "1024", cwd=repo)  # fmt: skip
    assert done.returncode == 0 and "backed it up" in done.stderr
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "usage")
    markdown = run_cli("report", "--no-costs", cwd=repo)
    assert markdown.returncode == 0, markdown.stderr
    assert "- Source: .telemetry/usage.csv and 1 backup, 5 rows" in markdown.stdout
    assert "| Runs              |                       5 |" in markdown.stdout
    again = run_cli("report", "--no-costs", cwd=repo)
    assert again.stdout == markdown.stdout  # no clock in the output


def test_an_invalid_row_stops_the_report_with_checks_words(log: Path, repo: Path) -> None:
    log.write_text(log.read_text() + row_line(task_type="deploy"))
    checked = run_cli("check", cwd=repo)
    problem = checked.stdout.splitlines()[0]
    assert problem.startswith(".telemetry/usage.csv:5: task_type: ")
    done = run_cli("report", cwd=repo)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (
        f"telemetry-csv report: error: {problem}; run `telemetry-csv check` for every problem\n"
    )


def test_skip_invalid_counts_what_it_leaves_out(log: Path, repo: Path) -> None:
    backup = repo / ".telemetry" / "usage-20261121T000000Z.csv"
    backup.write_text(backup.read_text() + row_line(prompt="-1") + "\n")
    log.write_text(log.read_text() + row_line().rstrip("\n"))  # torn: its row is not trusted
    done = run_cli("report", "--skip-invalid", "--no-costs", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert (
        "**Skipped 3 invalid rows** (`--skip-invalid`); `telemetry-csv check` lists them."
        in done.stdout
    )
    document = json.loads(
        run_cli("report", "--skip-invalid", "--format", "json", "--no-costs", cwd=repo).stdout
    )
    assert document["skipped"] == {"rows": 3, "file_problems": 0}
    assert document["rows"] == 5


def test_empty_log_and_missing_log(repo: Path) -> None:
    assert run_cli("report", cwd=repo).returncode == 4  # no log at all: like check
    assert run_cli("init", cwd=repo).returncode == 0
    done = run_cli("report", cwd=repo)
    assert done.returncode == 0
    assert "No rows yet" in done.stdout


def test_no_match_exits_zero_and_says_so(log: Path, repo: Path) -> None:
    done = run_cli("report", "--model", "nope", cwd=repo)
    assert done.returncode == 0
    assert "No rows match the filters (model `nope`)." in done.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--tz", "Mars/Olympus"], "--tz: 'Mars/Olympus' is not allowed; expected UTC, local, or an IANA"),
        (["--since", "2026-02-30"], "--since: '2026-02-30' is not allowed; expected a date (YYYY-MM-DD"),
        (["--until", "yesterday"], "--until: 'yesterday' is not allowed"),
        (["--since", "2026-11-22", "--until", "2026-11-21"], "--until: '2026-11-21' is not allowed; it is before --since 2026-11-22"),
        (["--task-type", "deploy"], "--task-type: 'deploy' is not allowed; expected one of plan|"),
        (["--days", "-1"], "argument --days: '-1' is not allowed; expected a whole number"),
        (["--format", "xml"], "argument --format: invalid choice"),
    ],
)  # fmt: skip
def test_bad_arguments_are_one_line_errors(
    log: Path, repo: Path, args: list[str], fragment: str
) -> None:
    done = run_cli("report", *args, cwd=repo)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_output_file_and_formats(log: Path, repo: Path) -> None:
    target = repo / "out" / "usage.json"
    target.parent.mkdir()
    assert main(["report", "--format", "json", "-o", str(target), "--no-costs"]) == 0
    assert json.loads(target.read_text())["rows"] == 5
    assert main(["report", "--format", "csv", "-o", str(repo / "usage.csv"), "--no-costs"]) == 0
    assert (repo / "usage.csv").read_text().startswith("group,model,task_type,period,runs,")
    done = run_cli("report", "-o", str(repo / "missing" / "r.md"), cwd=repo)
    assert done.returncode == 4 and "cannot write" in done.stderr
    assert not (repo / "missing").exists()


def test_output_file_untouched_when_the_report_fails(log: Path, repo: Path) -> None:
    target = repo / "report.md"
    target.write_text("previous")
    log.write_text(log.read_text() + "broken\n")
    assert run_cli("report", "-o", str(target), cwd=repo).returncode == 1
    assert target.read_text() == "previous"


@pytest.mark.slow
def test_github_summary_appends_markdown(log: Path, repo: Path) -> None:
    summary = repo / "summary.md"
    summary.write_text("# Earlier step\n")
    env = dict(os.environ, GITHUB_STEP_SUMMARY=str(summary))
    command = [str(Path(os.sys.executable).parent / "telemetry-csv"), "report"]
    done = subprocess.run(
        [*command, "--format", "json", "--github-summary", "--no-costs"],
        cwd=repo, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and json.loads(done.stdout)["rows"] == 5
    first = summary.read_text()
    assert first.startswith("# Earlier step\n\n## LLM usage report\n")
    report = first.removeprefix("# Earlier step\n\n")
    done = subprocess.run(
        [*command, "--github-summary", "--no-costs", "-o", "out.md"],
        cwd=repo, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert summary.read_text() == first + "\n" + report  # a blank line between the two
    summary.write_text("no newline at the end")
    done = subprocess.run(
        [*command, "--github-summary", "--no-costs", "-o", "out.md"],
        cwd=repo, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert summary.read_text() == "no newline at the end\n\n" + report
    env.pop("GITHUB_STEP_SUMMARY")
    done = subprocess.run(
        [*command, "--github-summary"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "GITHUB_STEP_SUMMARY is not set" in done.stderr
    assert done.stdout.startswith("## LLM usage report")


def test_tz_option_moves_rows_between_days(log: Path, repo: Path) -> None:
    utc = report_json()
    kolkata = report_json("--tz", "Asia/Kolkata")
    assert [day["day"] for day in utc["by_day"]] == [
        "2026-11-20",
        "2026-11-21",
        "2026-11-22",
        "2026-11-23",
    ]
    assert [day["day"] for day in kolkata["by_day"]] == ["2026-11-21", "2026-11-23"]
    assert kolkata["time_zone"] == "Asia/Kolkata"


def test_filters_on_the_command_line(log: Path, repo: Path) -> None:
    args = ["--since", "2026-11-21", "--model", "claude-3-opus", "--task-type", "plan"]
    assert report_json(*args)["rows"] == 2  # rows 1 (11-21 UTC) and 5 (11-23)
    assert report_json(*args, "--until", "2026-11-22")["rows"] == 1
    assert report_json(*args, "--until", "2026-11-21T04:29:59Z")["rows"] == 0


@posix_only(f"{SHELL}: scripts/telemetry-report.sh is a shell script")
def test_wrapper_script_passes_arguments(log: Path, repo: Path) -> None:
    script = Path(__file__).resolve().parents[1] / "scripts" / "telemetry-report.sh"
    env = dict(os.environ, PATH=f"{Path(os.sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(
        ["sh", str(script), "--format", "json", "--no-costs"],
        cwd=repo, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    # The old script's JSON, as it printed it (docs/migrate.md; tests/test_scripts.py compares).
    assert done.returncode == 0 and json.loads(done.stdout)["summary"]["total_entries"] == 5


def test_file_option_with_files_is_refused(log: Path, repo: Path) -> None:
    """--file names the log whose backups to read; with FILES it would be silently ignored."""
    done = run_cli("report", str(log), "--file", str(log), cwd=repo)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "telemetry-csv report: error: --file reads a log and its backups; "
        "give either FILES or --file, not both\n"
    )


def test_json_filters_show_the_bounds_normalised(log: Path, repo: Path) -> None:
    """As the README documents: the form the report used, not the characters typed."""
    document = report_json("--since", " 2026-11-21 ", "--until", "2026-11-23t10:00:00z")
    assert document["filters"]["since"] == "2026-11-21"
    assert document["filters"]["until"] == "2026-11-23T10:00:00Z"


def test_skip_invalid_after_a_torn_header_keeps_the_next_files_rows(log: Path, repo: Path) -> None:
    """A backup that is only a header without its newline (torn) has no row to drop: the next
    file's first row, even one the fast path leaves to the slow one, still counts."""
    backup = repo / ".telemetry" / "usage-20261121T000000Z.csv"
    backup.write_text(HEADER.rstrip("\n"))
    log.write_text(HEADER + row_line(notes="'-starts with a dash") + row_line())
    document = report_json("--skip-invalid")
    assert document["skipped"] == {"rows": 1, "file_problems": 0}
    assert document["rows"] == 2


def test_skip_invalid_does_not_trust_a_torn_first_line(log: Path, repo: Path) -> None:
    """A file that is one row with no header and no newline: the row may be torn, so it is
    skipped like any torn last line (before, the header problem hid that it was torn)."""
    lone = repo / "lone.csv"
    lone.write_text("\ufeff" + row_line().rstrip("\n"))
    document = report_json("--skip-invalid", str(lone), str(log))
    assert document["rows"] == 3  # the log's three rows, not the torn one
    assert document["skipped"] == {"rows": 1, "file_problems": 2}


def test_a_credential_inside_a_run_of_valid_rows_stops_the_report(log: Path, repo: Path) -> None:
    """A row valid in every way but holding a token, deep among rows the block fast path reads
    as one run: the report refuses it at its line like `check`, without showing the token, and
    --skip-invalid drops exactly that row."""
    token = "ghp_" + "aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0zA" + "1234"
    lines = [row_line(notes=f"ok {index}") for index in range(3000)]
    lines[2500] = row_line(notes=f"pushed with {token}")
    log.write_text(HEADER + "".join(lines))
    done = run_cli("report", str(log), "--no-costs", cwd=repo)
    assert done.returncode == 1 and done.stdout == ""
    assert f"{log}:2502: notes: (value not shown)" in done.stderr
    assert token not in done.stderr
    document = report_json("--skip-invalid", str(log))
    assert document["rows"] == 2999
    assert document["skipped"] == {"rows": 1, "file_problems": 0}


def test_a_neutralised_model_name_is_shown_and_filtered_as_given(log: Path, repo: Path) -> None:
    """`@cf/…` is stored as `'@cf/…` so that spreadsheets do not run it; the rows the block fast
    path hands over as runs are reported under the name as given, like rows read one by one."""
    name = "@cf/meta/llama-3-8b-instruct"
    lines = [row_line(model="'" + name if index % 2 else "claude-3-opus") for index in range(600)]
    lines.append(row_line(model="'" + name, notes="'-read line by line"))
    log.write_text(HEADER + "".join(lines))
    document = report_json(str(log))
    assert {group["model"]: group["runs"] for group in document["by_model"]} == {
        name: 301,
        "claude-3-opus": 300,
    }
    assert report_json(str(log), "--model", name)["rows"] == 301
    assert name in run(str(log), "--no-costs") and "'" + name not in run(str(log), "--no-costs")
