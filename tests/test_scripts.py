"""The compatibility wrappers take the old scripts' arguments and call the real command."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from testing.platforms import SHELL, posix_only
from testing.util import BIN, EXTENDED_HEADER, git, git_env, logged_text

pytestmark = posix_only(f"{SHELL}: the wrappers are shell scripts run as programs (#!)")

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def run_script(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = git_env()
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        [str(SCRIPTS / name), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_log_script_keeps_commas_the_old_one_stripped(repo: Path) -> None:
    done = run_script(
        "log-telemetry.sh",
        "claude-3-opus", "1500", "3200", "true", "execute", "45000", "tests, docs, \"and\" more",
        cwd=repo,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = logged_text(repo / ".telemetry" / "usage.csv")
    assert text.startswith(EXTENDED_HEADER)
    assert text.endswith(',execute,45000,"tests, docs, ""and"" more",,,,\n')


def test_log_script_refuses_bad_input_like_the_command(repo: Path) -> None:
    done = run_script(
        "log-telemetry.sh", "claude-3-opus", "1,500", "3", "true", "plan", "4", cwd=repo
    )
    assert done.returncode == 2
    assert "prompt_tokens: '1,500' is not allowed" in done.stderr
    assert not logged_text(repo / ".telemetry" / "usage.csv")


# The original scripts (MIT, see their LICENSE), beside this repository as the project's shared
# reference: the wrappers are compared with them by running both on the same arguments.
ORIGINALS = Path(__file__).resolve().parents[2] / "shared" / "reference" / "viflo"
BASH = shutil.which("bash")
needs_originals = pytest.mark.skipif(
    BASH is None or not (ORIGINALS / "log-telemetry.sh").is_file(),
    reason=f"the original scripts need bash and {ORIGINALS}",
)


def run_original(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert BASH is not None
    return subprocess.run(
        [BASH, str(ORIGINALS / name), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def stored_fields(repo: Path) -> list[list[str]]:
    """Every row as a reader gets it back (the formula apostrophe taken off), without the
    timestamp and the extended header's four columns: what both scripts were given."""
    from telemetry_csv.config import load_settings
    from telemetry_csv.logfile.snapshot import read_log

    settings = load_settings(repo)
    return [
        [str(value) for value in row[1:8]] for row in read_log(settings.log_path, settings.schema)
    ]


def original_fields(folder: Path) -> list[list[str]]:
    import csv

    with open(folder / ".telemetry" / "usage.csv", newline="") as file:
        return [row[1:8] for row in list(csv.reader(file))[1:]]


FIELDS = ("claude-3-opus", "1500", "3200", "true", "execute", "45000")


@needs_originals
@pytest.mark.parametrize(
    "rest",
    [
        (),
        ("Phase 6 tests",),
        ("",),
        ("-q",),
        ("--help",),
        ("--file=x.csv",),
        ("-",),
        ("--", "ignored"),
        ("first", "second", "third"),  # the old script ignored an eighth and later argument
    ],
)
def test_log_script_stores_the_seventh_argument_as_the_note_as_the_original_did(
    tmp_path: Path, rest: tuple[str, ...]
) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for folder in (ours, theirs):
        folder.mkdir()
    git(ours, "init", "-q")
    done = run_script("log-telemetry.sh", *FIELDS, *rest, cwd=ours)
    assert done.returncode == 0, done.stderr
    original = run_original("log-telemetry.sh", *FIELDS, *rest, cwd=theirs)
    assert original.returncode == 0, original.stdout
    expected = [[*FIELDS[:3], "True", *FIELDS[4:], rest[0] if rest else ""]]
    assert original_fields(theirs) == [[*FIELDS, rest[0] if rest else ""]]
    assert stored_fields(ours) == expected
    assert sorted(path.name for path in ours.iterdir()) == [".git", ".telemetry"]  # no x.csv


@needs_originals
def test_log_script_refuses_too_few_arguments_like_the_original(tmp_path: Path) -> None:
    original = run_original("log-telemetry.sh", *FIELDS[:4], cwd=tmp_path)
    assert original.returncode == 1 and original.stdout.startswith("Usage:")
    done = run_script("log-telemetry.sh", *FIELDS[:4], cwd=tmp_path)
    assert done.returncode == 2  # a refused argument, as the table of exit statuses says
    assert done.stderr.splitlines()[0].startswith("usage: telemetry-csv log MODEL")
    assert "2 fields are missing: task_type, duration_ms" in done.stderr


ORIGINAL_LOG = (
    "timestamp,model,prompt_tokens,completion_tokens,task_success,task_type,duration_ms,notes\n"
    "2026-02-23T22:19:28Z,claude-3-opus,2500,4800,true,execute,125000,Phase 5 CI setup\n"
    "2026-02-23T22:20:28Z,claude-3-opus,3200,5600,true,execute,180001,Phase 6 test suite\n"
    "2026-02-23T22:21:28Z,gemini-1.5-flash,800,1200,false,quick,15000,Fix typo in README\n"
)


@needs_originals
@pytest.mark.parametrize("args", [("json",), ("--format", "json")])
def test_report_script_json_is_the_originals(tmp_path: Path, args: tuple[str, ...]) -> None:
    """The same bytes as the old script on a log it could read: its keys, its layout, its
    rounding (a success rate of 2 in 3 is 66.7; a mean of 106,667.0 ms is 106667)."""
    (tmp_path / ".telemetry").mkdir()
    (tmp_path / ".telemetry" / "usage.csv").write_text(ORIGINAL_LOG)
    git(tmp_path, "init", "-q")
    original = run_original("telemetry-report.sh", *args, cwd=tmp_path)
    assert original.returncode == 0
    done = run_script("telemetry-report.sh", *args, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == original.stdout
    assert '"success_rate_percent": 66.7' in done.stdout


def test_report_script_formats(repo: Path) -> None:
    (repo / ".telemetry").mkdir()
    (repo / ".telemetry" / "usage.csv").write_text(ORIGINAL_LOG)
    for args in ((), ("markdown",), ("--format", "markdown"), ("--format=markdown",)):
        done = run_script("telemetry-report.sh", *args, cwd=repo)
        assert done.returncode == 0, (args, done.stderr)
        assert done.stdout.startswith("## LLM usage report\n"), args
    # Arguments after the format are the report's own.
    done = run_script("telemetry-report.sh", "json", "--task-type", "quick", cwd=repo)
    assert '"total_entries": 1,' in done.stdout and '"quick": 1' in done.stdout
    done = run_script("telemetry-report.sh", "md", cwd=repo)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "telemetry-report.sh: error: format 'md' is not allowed; expected markdown or json (or "
        "csv, html)\n"
    )


def test_legacy_json_of_an_empty_log_is_json(repo: Path) -> None:
    """The old script printed "No telemetry data found." even when asked for JSON."""
    import json

    assert run_script("log-telemetry.sh", *FIELDS, cwd=repo).returncode == 0
    done = run_script("telemetry-report.sh", "json", "--task-type", "plan", cwd=repo)
    assert json.loads(done.stdout)["summary"] == {
        "total_entries": 0,
        "total_prompt_tokens": 0,
        "total_completion_tokens": 0,
        "total_tokens": 0,
        "success_rate_percent": None,
        "average_duration_ms": None,
    }
