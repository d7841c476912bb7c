"""Spreadsheet formula injection: notes are neutralised on write and restored on read."""

from __future__ import annotations

from pathlib import Path

import pytest

from telemetry_csv.capture.appending import log_row
from telemetry_csv.logfile.fastpath import for_schema
from telemetry_csv.logfile.reading import read_rows
from telemetry_csv.logfile.schema import FORMULA_STARTS, Row, Schema, neutralise, restore
from testing.util import EXTENDED_HEADER, HEADER, logged_text, run_cli

SCHEMA = Schema()
FAST = for_schema(SCHEMA)
STAMP = "2026-02-23T22:19:12+01:00"

# (note as given, note as stored in the file's field)
NEUTRALISED = [
    ("=1+1", "'=1+1"),
    ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
    ("+1 retry", "'+1 retry"),
    ("-2 tests flaky", "'-2 tests flaky"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("'=already quoted", "''=already quoted"),
    ("''-twice", "'''-twice"),
]
UNCHANGED = ["plain", "'quoted but harmless", "a = b", "1+1", "x-y", "email a@b.c", "'", "''", ""]


# Both shapes of file (docs/format.md): a log with the original header, and a new one.
SHAPES = pytest.mark.parametrize("extended", [False, True], ids=["8-column", "extended"])


def new_log(tmp_path: Path, extended: bool) -> Path:
    log = tmp_path / "usage.csv"
    log.write_text(EXTENDED_HEADER if extended else HEADER)
    return log


@pytest.mark.parametrize(("given", "stored"), NEUTRALISED)
def test_neutralise_and_restore(given: str, stored: str) -> None:
    assert neutralise(given) == stored
    assert restore(stored) == given


@pytest.mark.parametrize("given", UNCHANGED)
def test_harmless_notes_are_stored_as_given(given: str) -> None:
    assert neutralise(given) == given
    assert restore(given) == given


@pytest.mark.parametrize("given", ["\tx", "\rx"])
def test_tab_and_carriage_return_never_reach_the_file(given: str) -> None:
    assert neutralise(given).startswith("'")  # as the rule says, should one ever be stored
    normalised = SCHEMA.normalise(
        model="m",
        prompt_tokens=1,
        completion_tokens=1,
        task_success=True,
        task_type="plan",
        duration_ms=1,
        notes=given,
    )
    assert normalised.row.notes == " x"  # log folds them into a space first


@pytest.mark.parametrize(("given", "stored"), NEUTRALISED)
@SHAPES
def test_log_writes_the_neutral_form_and_read_gives_the_original(
    tmp_path: Path, given: str, stored: str, extended: bool
) -> None:
    log = new_log(tmp_path, extended)
    logged = log_row(
        model="m",
        prompt_tokens=1,
        completion_tokens=2,
        task_success=True,
        task_type="plan",
        duration_ms=3,
        notes=given,
        timestamp=STAMP,
        path=log,
    )
    assert any("apostrophe" in notice for notice in logged.notices)
    line = log.read_text().splitlines()[1]
    assert SCHEMA.parse_line(line, extended=extended) == logged.row
    assert next(iter(__import__("csv").reader([line])))[7] == stored
    assert [row.notes for row in read_rows([log])] == [given]


@pytest.mark.parametrize("notes", ["=1+1", "+1", "-1", "@x", "=cmd|' /C calc'!A0"])
def test_check_flags_notes_that_are_not_neutralised(tmp_path: Path, notes: str) -> None:
    log = tmp_path / "usage.csv"
    field = f'"{notes}"' if "," in notes or '"' in notes else notes
    log.write_text(HEADER + f"{STAMP},m,1,2,true,plan,3,{field}\n")
    done = run_cli("check", str(log), cwd=tmp_path)
    assert done.returncode == 1
    problem = done.stdout.splitlines()[0]
    assert problem.startswith(f"{log}:2: notes: ")
    assert "a spreadsheet would run as a formula" in problem
    assert "'" + notes[:5] in problem  # the fix is shown


@pytest.mark.parametrize("model", ["@cf/meta/llama-3-8b-instruct", "=cmd", "+x", "-m", "'@x"])
@SHAPES
def test_model_names_are_neutralised_like_notes(tmp_path: Path, model: str, extended: bool) -> None:
    log = new_log(tmp_path, extended)
    logged = log_row(
        model=model,
        prompt_tokens=1,
        completion_tokens=1,
        task_success=True,
        task_type="plan",
        duration_ms=1,
        path=log,
        timestamp=STAMP,
    )
    assert logged.row.model == model
    assert any(notice.startswith("model: stored with an apostrophe") for notice in logged.notices)
    line = log.read_text().splitlines()[1]
    assert line.split(",")[1] == "'" + model
    assert [row.model for row in read_rows([log])] == [model]
    # Names neutralised with one apostrophe keep the fast path; a name given with apostrophes
    # of its own is left to the field-by-field path, which reads it all the same.
    fast = for_schema(SCHEMA, extended=extended)
    assert fast.match_canonical(line) == (logged.row if model[0] != "'" else None)
    assert SCHEMA.parse_line(line, extended=extended) == logged.row
    unneutralised = f"{STAMP},{model},1,2,true,plan,3,"
    problems = SCHEMA.parse_line(unneutralised) if model[0] != "'" else []
    if model[0] != "'":
        assert [p.field for p in problems] == ["model"]
        assert "a spreadsheet would run as a formula" in problems[0].message


def test_the_cli_shows_the_notice_and_check_accepts_the_result(repo: Path) -> None:
    done = run_cli("log", "m", "1", "2", "true", "plan", "3", "=2+2", cwd=repo)
    assert done.returncode == 0
    assert "apostrophe" in done.stderr
    assert logged_text(repo / ".telemetry" / "usage.csv").endswith(",'=2+2,,,,\n")
    assert run_cli("check", cwd=repo).returncode == 0


def test_round_trip_through_format_and_parse() -> None:
    for given, _ in NEUTRALISED:
        row = Row(STAMP, "m", 1, 2, True, "plan", 3, given)
        line = SCHEMA.format_line(row)
        assert SCHEMA.parse_line(line) == row


def test_fmt_neutralises_notes_without_changing_them(repo: Path) -> None:
    assert run_cli("init", cwd=repo).returncode == 0
    log = repo / ".telemetry" / "usage.csv"  # a log written by hand, or by a spreadsheet
    with open(log, "a") as file:
        file.write(EXTENDED_HEADER)
        file.write(
            f'{STAMP},m,1,2,true,plan,3,=1+1,,,,\n{STAMP},m,1,2,true,plan,3,"@SUM(A1,A2)",run,,1,\n'
        )
    assert run_cli("check", cwd=repo).returncode == 1
    done = run_cli("fmt", cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert log.read_text().splitlines()[1:] == [
        f"{STAMP},m,1,2,true,plan,3,'=1+1,,,,",
        f'{STAMP},m,1,2,true,plan,3,"\'@SUM(A1,A2)",run,,1,',
    ]
    assert run_cli("check", cwd=repo).returncode == 0
    assert [row.notes for row in read_rows([log])] == ["=1+1", "@SUM(A1,A2)"]


# Model names given with apostrophes of their own before a formula character: stored with one
# more. The longest are 128 characters as given, or one more (too long).
APOSTROPHE_MODELS = [
    "'=x",
    "''-x",
    "'" * 5 + "@x",
    "'=" + "a" * 126,  # 128 as given: valid
    "''=" + "a" * 126,  # 129 as given: too long, though its stored form looked short enough
    "'" * 40 + "=" + "a" * 100,
]


@pytest.mark.parametrize("given", APOSTROPHE_MODELS, ids=lambda model: model[:8])
def test_the_fast_paths_agree_with_the_field_by_field_reading_on_apostrophes(given: str) -> None:
    line = f"{STAMP},{neutralise(given)},1,2,true,plan,3,"
    authoritative = SCHEMA.parse_line(line)
    assert FAST.match_canonical(line) in (None, authoritative)
    assert FAST.parse_block(line + "\n") in (None, [authoritative])
    assert FAST.parse_lines([line]) == [authoritative]
    valid = len(given) <= 128
    assert isinstance(authoritative, Row) is valid
    if valid:
        assert authoritative.model == given
    else:
        assert [problem.field for problem in authoritative] == ["model"]  # type: ignore[union-attr]


@pytest.mark.parametrize("lead", FORMULA_STARTS)
def test_every_formula_character_is_neutralised_and_refused_bare(lead: str) -> None:
    assert neutralise(lead + "x") == "'" + lead + "x"
    assert restore("'" + lead + "x") == lead + "x"
    for bare in (f"{STAMP},{lead}x,1,2,true,plan,3,", f"{STAMP},m,1,2,true,plan,3,{lead}x"):
        assert FAST.match_canonical(bare) is None
        assert isinstance(SCHEMA.parse_line(bare), list)
    # Neutralised, a model name is valid unless the character is one no name may hold (a tab).
    line = f"{STAMP},'{lead}x,1,2,true,plan,3,"
    authoritative = SCHEMA.parse_line(line)
    assert isinstance(authoritative, Row) is (lead not in "\t\r")
    assert FAST.match_canonical(line) == (authoritative if lead not in "\t\r" else None)
    assert FAST.parse_block(line + "\n") in (None, [authoritative])


@pytest.mark.parametrize("model", ["@cf/meta/llama-3-8b-instruct", "=cmd", "+x", "-m", "'@x"])
def test_report_csv_export_neutralises_model_names(model: str) -> None:
    import csv
    import io

    from telemetry_csv.report.aggregate import ReportOptions, build_report
    from telemetry_csv.report.csv_format import render_csv

    line = SCHEMA.format_line(Row(STAMP, model, 1, 2, True, "plan", 3, ""))
    # As a Row (the field-by-field path) and as a run of canonical lines (the block path).
    for rows in ([SCHEMA.parse_line(line)], [line + "\n"]):
        report = build_report(iter(rows), ReportOptions(costs=False))
        table = list(csv.DictReader(io.StringIO(render_csv(report))))
        by_model = [row["model"] for row in table if row["group"] == "model"]
        assert by_model == [neutralise(model)] and by_model[0][0] == "'"
        assert restore(by_model[0]) == model
        assert all(row["model"] in ("", neutralise(model)) for row in table)
