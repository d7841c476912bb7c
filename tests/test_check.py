"""`check` names the right line and field for every kind of problem, and how to fix it."""

from __future__ import annotations

from pathlib import Path

import pytest

from telemetry_csv.cli.main import main
from telemetry_csv.logfile.checking import check_files
from telemetry_csv.logfile.schema import Schema
from testing.util import HEADER, row_line

GOOD = row_line()


def check(path: Path, **options):
    return check_files([path], Schema(), **options)


def write(tmp_path: Path, data: bytes | str) -> Path:
    path = tmp_path / "usage.csv"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_a_good_log_has_no_problems(tmp_path: Path) -> None:
    result = check(write(tmp_path, HEADER + GOOD * 3))
    assert result.ok and result.rows == 3 and result.files == 1


@pytest.mark.parametrize(
    ("data", "line", "field", "fragment"),
    [
        (HEADER + GOOD + row_line(prompt="1,500") + GOOD, 3, "line", "found 9 (an unquoted comma"),
        (HEADER + GOOD + row_line(prompt="-5"), 3, "prompt_tokens", "'-5' is not allowed"),
        (HEADER + GOOD + row_line(timestamp="2026-02-23 22:19:12"), 3, "timestamp", "space"),
        (HEADER + GOOD + row_line(success="yes"), 3, "task_success", "true or false"),
        (HEADER + GOOD + row_line(task_type="deploy"), 3, "task_type", "expected one of"),
        (HEADER + GOOD + row_line(model="claude 3"), 3, "model", "whitespace"),
        (HEADER + GOOD + "\n" + GOOD, 3, "line", "blank line"),
        (HEADER + GOOD + GOOD.rstrip("\n"), 3, "line", "no newline at the end of the file"),
        (HEADER + GOOD + GOOD + "2026-02-23T22:19", 4, "line", "may be torn"),
        ("\ufeff" + HEADER + GOOD, 1, "file", "byte order mark"),
        (HEADER.replace("notes", "note") + GOOD, 1, "header", "expected timestamp,model"),
        (GOOD + GOOD, 1, "header", "the header is missing"),
        ("", 0, "file", "empty file"),
        (
            HEADER.replace("\n", "\r\n") + GOOD.replace("\n", "\r\n"),
            1,
            "file",
            "CRLF line endings (2 lines)",
        ),
        (HEADER + GOOD + GOOD.replace("\n", "\r\n") + GOOD, 3, "file", "mixed line endings"),
        (HEADER + GOOD + row_line(notes='"needs no quotes"'), 3, "line", "not canonical"),
        (HEADER + GOOD + row_line(notes='"unterminated'), 3, "line", "malformed CSV"),
    ],
)
def test_each_problem_names_its_line_and_field(
    tmp_path: Path, data: str, line: int, field: str, fragment: str
) -> None:
    result = check(write(tmp_path, data))
    assert not result.ok
    matching = [p for p in result.problems if p.line == line and p.field == field]
    assert matching, [str(p) for p in result.problems]
    assert fragment in matching[0].message


def test_bytes_that_are_not_utf8_are_found_on_their_line(tmp_path: Path) -> None:
    data = (
        (HEADER + GOOD + GOOD).encode()
        + row_line(notes="caf\xe9").encode("latin-1")
        + GOOD.encode()
    )
    result = check(write(tmp_path, data))
    assert [(p.line, p.field) for p in result.problems] == [(4, "line")]
    assert "not UTF-8 at byte" in result.problems[0].message
    assert "re-save the file as UTF-8" in result.problems[0].message
    assert result.rows == 3


def test_a_file_over_max_bytes_is_flagged(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + GOOD * 20)
    result = check(path, max_bytes=1024)
    assert [(p.line, p.field) for p in result.problems] == [(0, "file")]
    assert "over max_bytes (1,024)" in result.problems[0].message


def test_a_huge_line_is_reported_without_being_read_whole(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + GOOD + "x" * 5_000_000 + "\n" + GOOD)
    result = check(path)
    assert [(p.line, p.field) for p in result.problems] == [(3, "line")]
    assert "longer than 16,384 bytes" in result.problems[0].message
    assert result.rows == 2


def test_every_problem_is_counted_but_only_the_first_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + row_line(prompt="x") * 500)
    result = check(path, max_problems=10)
    assert result.problem_count == 500
    assert len(result.problems) == 10
    assert [p.line for p in result.problems] == list(range(2, 12))
    assert "500 problem(s) (first 10 shown)" in result.summary()


def test_cli_prints_path_line_field_message_and_exits_1(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = repo / ".telemetry" / "usage.csv"
    log.parent.mkdir()
    log.write_text(HEADER + GOOD + row_line(success="maybe"))
    assert main(["check"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        ".telemetry/usage.csv:3: task_success: 'maybe' is not allowed; expected true or false"
    )
    assert out[-1] == "checked 1 file, 1 valid row: 1 problem(s)"


def test_cli_checks_the_log_and_all_its_backups_by_default(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = repo / ".telemetry"
    folder.mkdir()
    (folder / "usage.csv").write_text(HEADER + GOOD)
    (folder / "usage-20260101T000000Z.csv").write_text(HEADER + GOOD + row_line(prompt="01"))
    (folder / "usage-20260101T000000Z-1.csv").write_text(HEADER + GOOD)
    assert main(["check"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(".telemetry/usage-20260101T000000Z.csv:3: prompt_tokens:")
    assert out[-1] == "checked 3 files, 3 valid rows: 1 problem(s)"


def test_cli_checks_only_the_files_given(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = repo / "good.csv"
    good.write_text(HEADER + GOOD)
    assert main(["check", "good.csv"]) == 0
    assert capsys.readouterr().out == "checked 1 file, 1 valid row: no problems\n"
    # A file that is not there is a missing file (exit status 4), said before anything is read.
    assert main(["check", "good.csv", "missing.csv"]) == 4
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "",
        "telemetry-csv check: error: missing.csv: no such file\n",
    )


def test_cli_without_a_log_says_how_to_create_one(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check"]) == 4
    err = capsys.readouterr().err
    assert err == (
        "telemetry-csv check: error: no log at .telemetry/usage.csv; "
        "create it with `telemetry-csv init`\n"
    )


@pytest.mark.parametrize("command", ["check", "fmt"])
def test_cli_refuses_file_option_next_to_files(
    repo: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """--file names the log whose backups are read; next to FILES it used to be ignored
    silently, so `check --file other.csv good.csv` passed without looking at other.csv."""
    good = repo / "good.csv"
    good.write_text(HEADER + GOOD)
    other = repo / "other.csv"
    other.write_text(HEADER + row_line(success="maybe"))
    assert main([command, "--file", "other.csv", "good.csv"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"telemetry-csv {command}: error: --file reads a log and its backups; "
        "give either FILES or --file, not both\n"
    )
    assert good.read_text() == HEADER + GOOD  # fmt rewrote nothing
