"""Both shapes of log file (docs/format.md) through every command that reads or writes one:
the original 8-column header and the extended header with four optional trailing columns."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import pytest

from telemetry_csv.cli.main import main
from telemetry_csv.git.merging import merge_rows
from telemetry_csv.hooks import append_only_hook
from telemetry_csv.logfile import writing
from telemetry_csv.logfile.canonical import line_key, read_lines, row_keys
from telemetry_csv.logfile.checking import check_files
from telemetry_csv.logfile.layout import backup_paths, log_files
from telemetry_csv.logfile.reading import ExtendedRun, read_rows, scan_runs
from telemetry_csv.logfile.rewriting import format_bytes
from telemetry_csv.logfile.schema import Row, Schema
from testing.logfiles import commit_all, row, rows, write_log
from testing.util import BIN, EXTENDED_HEADER, HEADER, extended, git, git_env, run_cli

SCHEMA = Schema()
LOG = ".telemetry/usage.csv"
STAMP = "2026-03-11T10:59:59Z"
# An imported slice and a `run` row, as new logs store them.
IMPORTED = (
    f'{STAMP},claude-sonnet-4-5,36618,600,true,execute,55000,"claude-code session 1111, branch '
    'main",claude-code,20260311T10Z-de32cf1fcf1664c3,34300,2300'
)
RUN = "2026-03-11T11:00:00Z,gpt-5,1000,50,false,verify,4000,,run,,400,0"


def imported(number: int) -> str:
    """A distinct imported slice's line (with its newline), told apart by its id and tokens."""
    return (
        f"2026-03-{1 + number % 28:02d}T10:00:00Z,claude-sonnet-4-5,{1000 + number},10,true,"
        f"execute,60000,,claude-code,202603{1 + number % 28:02d}T09Z-{number:016x},{number},0\n"
    )


def extended_log(path: Path, body: str) -> Path:
    return write_log(path, body, header=EXTENDED_HEADER)


# check: each shape accepts its own rows only, and the extended columns have their rules.


@pytest.mark.parametrize(
    ("header", "line", "problem"),
    [
        (HEADER, row(1), None),
        (EXTENDED_HEADER, extended(row(1)), None),
        (EXTENDED_HEADER, IMPORTED + "\n", None),
        (EXTENDED_HEADER, RUN + "\n", None),
        (HEADER, IMPORTED + "\n", "line: expected 8 fields, found 12 (a row of the extended"),
        (EXTENDED_HEADER, row(1), "line: expected 12 fields, found 8 (every row of a file"),
        (EXTENDED_HEADER, RUN.replace(",run,", ",Run,") + "\n", "source: 'Run' is not allowed"),
        (
            EXTENDED_HEADER,
            RUN.replace(",run,,", ",,x1,") + "\n",
            "source_id: a source_id needs a source",
        ),
        (
            EXTENDED_HEADER,
            RUN.replace(",run,,", ",run,=cmd,") + "\n",
            "source_id: '=cmd' is not allowed",
        ),
        (
            EXTENDED_HEADER,
            RUN.replace(",400,0", ",900,101") + "\n",
            "cache_read_tokens: cache_read_tokens + cache_write_tokens (1,001) exceed "
            "prompt_tokens (1,000)",
        ),
        (EXTENDED_HEADER, RUN.replace(",400,0", ",04,0") + "\n", "cache_read_tokens: '04'"),
        (
            EXTENDED_HEADER,
            IMPORTED.replace("session 1111", "ghp_aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0zA1234") + "\n",
            "notes: (value not shown) is not allowed; it contains what looks like a GitHub",
        ),
        (
            EXTENDED_HEADER,
            RUN.replace(",run,,", ",run,ghp_aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0zA1234,") + "\n",
            "source_id: (value not shown) is not allowed; it contains what looks like a GitHub",
        ),
    ],
)
def test_check_reads_each_file_in_its_headers_shape(
    tmp_path: Path, header: str, line: str, problem: str | None
) -> None:
    path = write_log(tmp_path / "usage.csv", row(0) if header == HEADER else "", header=header)
    with open(path, "a") as file:
        file.write(line)
    result = check_files([path], SCHEMA)
    if problem is None:
        assert result.ok, result.problems
    else:
        first = str(result.problems[0]).split(": ", 1)[1]
        assert first.startswith(problem), first


def test_an_extended_file_is_read_on_the_fast_path_in_runs(tmp_path: Path) -> None:
    """Typical imported rows never leave the block fast path: one run for the whole file."""
    body = "".join(imported(number) for number in range(2000))
    path = extended_log(tmp_path / "usage.csv", body)
    items = list(scan_runs(path, SCHEMA))
    assert [type(item) for item in items] == [ExtendedRun]
    assert [row.cache_read_tokens for row in read_rows([path])] == list(range(2000))


def test_a_file_without_a_header_is_read_in_the_shape_of_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_text(IMPORTED + "\n" + RUN + "\n")
    problems = check_files([path], SCHEMA).problems
    assert [(p.line, p.field) for p in problems] == [(1, "header")]
    assert f"add {EXTENDED_HEADER.strip()} as line 1" in problems[0].message


# fmt: canonical bytes in each shape, never a change of shape.


@pytest.mark.parametrize(
    ("header", "body"),
    [
        (HEADER, rows(1, 2)),
        (EXTENDED_HEADER, extended(rows(1)) + IMPORTED + "\n" + RUN + "\n"),
    ],
    ids=["8-column", "extended"],
)
def test_fmt_keeps_a_files_shape(header: str, body: str) -> None:
    canonical = (header + body).encode()
    assert format_bytes(canonical, SCHEMA, "usage.csv").data == canonical
    # Re-saved by a spreadsheet: a byte order mark, CRLF, every field quoted.
    quoted = io.StringIO()
    writer = csv.writer(quoted, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for line in (header + body).splitlines():
        writer.writerow(next(csv.reader([line])))
    resaved = b"\xef\xbb\xbf" + quoted.getvalue().encode()
    formatted = format_bytes(resaved, SCHEMA, "usage.csv")
    assert formatted.problems == [] and formatted.data == canonical


def test_fmt_leaves_a_row_of_the_wrong_shape_as_it_is(tmp_path: Path) -> None:
    data = (HEADER + row(1) + IMPORTED + "\n").encode()
    formatted = format_bytes(data, SCHEMA, "usage.csv")
    assert formatted.data == data
    assert [problem.line for problem in formatted.problems] == [3]


# repair: a torn line is moved aside from a log of either shape.


@pytest.mark.parametrize("header", [HEADER, EXTENDED_HEADER], ids=["8-column", "extended"])
def test_repair_moves_a_torn_line_of_either_shape(repo: Path, log: Path, header: str) -> None:
    first = row(1) if header == HEADER else IMPORTED + "\n"
    write_log(log, first + RUN[:30], header=header)
    assert main(["repair"]) == 0
    assert log.read_text() == header + first
    (torn,) = log.parent.glob("usage.csv.torn-*")
    assert torn.read_text() == RUN[:30]


# writing: the header decides; a row with extra values moves an 8-column log aside.


def test_an_8_column_log_takes_rows_without_extra_values_and_stays_as_it_is(
    single_layout: Path, log: Path
) -> None:
    write_log(log, rows(1))
    assert main(["log", "m", "1", "2", "true", "plan", "3", "--timestamp", STAMP, "-q"]) == 0
    assert log.read_text() == HEADER + rows(1) + f"{STAMP},m,1,2,true,plan,3,\n"
    assert backup_paths(log) == []


def test_a_row_with_extra_values_starts_a_new_log_with_the_extended_header(
    single_layout: Path, log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = single_layout
    write_log(log, rows(1, 2))
    before = log.read_bytes()
    argv = ["log", "m", "100", "2", "true", "plan", "3", "--cache-read-tokens", "60"]
    assert main([*argv, "--timestamp", STAMP]) == 0
    (backup,) = backup_paths(log)
    assert backup.read_bytes() == before  # the 8-column log, whole and unchanged
    assert log.read_text() == EXTENDED_HEADER + f"{STAMP},m,100,2,true,plan,3,,,,60,\n"
    assert "has the 8-column header" in capsys.readouterr().err
    assert run_cli("check", cwd=repo).returncode == 0
    assert [r.cache_read_tokens for r in read_rows(log_files(log))] == [None, None, 60]


def test_a_batch_fills_the_log_then_rotates_under_one_lock(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    write_log(log, rows(1))
    batch = [SCHEMA.parse_line(imported(n).rstrip("\n"), extended=True) for n in range(30)]
    assert all(isinstance(item, Row) for item in batch)
    result = writing.append_rows(log, batch, SCHEMA, max_bytes=1500, lock_timeout=5)  # type: ignore[arg-type]
    assert result.header_changed and len(result.backups) >= 2
    assert backup_paths(log)[0].read_text() == HEADER + rows(1)
    for path in log_files(log)[1:]:
        assert path.read_text().startswith(EXTENDED_HEADER) and path.stat().st_size <= 1500
    assert list(read_rows(log_files(log)))[1:] == batch


# the shell scripts: the old interface, both shapes.


@pytest.mark.parametrize("existing", [True, False], ids=["8-column log", "no log"])
def test_the_log_script_writes_in_the_logs_shape(
    single_layout: Path, log: Path, existing: bool
) -> None:
    repo = single_layout
    if existing:
        write_log(log, rows(1))
    script = Path(__file__).parent.parent / "scripts" / "log-telemetry.sh"
    env = {**git_env(), "PATH": f"{BIN}:{git_env()['PATH']}"}
    done = subprocess.run(
        ["sh", str(script), "m", "1", "2", "true", "plan", "3", "a, b"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = log.read_text()
    assert text.startswith(HEADER if existing else EXTENDED_HEADER)
    assert text.endswith(',m,1,2,true,plan,3,"a, b"\n' if existing else ',"a, b",,,,\n')
    report = subprocess.run(
        ["sh", str(script.with_name("telemetry-report.sh")), "--format", "csv", "--no-costs"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert report.returncode == 0, report.stderr
    total = next(csv.DictReader(io.StringIO(report.stdout)))
    assert total["runs"] == ("2" if existing else "1")


# report --format csv: the same rows give the same numbers in either shape.


def test_report_csv_reads_both_shapes_alike_and_sums_the_cache_parts(repo: Path) -> None:
    legacy = write_log(repo / "old.csv", rows(1, 2))
    new = extended_log(repo / "new.csv", extended(rows(1, 2)))
    reports = [
        run_cli("report", "--format", "csv", "--no-costs", str(path), cwd=repo).stdout
        for path in (legacy, new)
    ]
    assert reports[0] == reports[1]
    mixed = extended_log(repo / "mixed.csv", extended(rows(1)) + IMPORTED + "\n" + RUN + "\n")
    done = run_cli("report", "--format", "csv", "--no-costs", str(mixed), cwd=repo)
    total = next(csv.DictReader(io.StringIO(done.stdout)))
    assert (total["runs"], total["cache_read_tokens"], total["cache_write_tokens"]) == (
        "3",
        str(34300 + 400),
        str(2300 + 0),
    )
    assert (total["prompt_tokens"]) == str(1500 + 36618 + 1000)


# keys: a row is the same row in both shapes.


def test_a_row_has_one_key_in_both_shapes() -> None:
    legacy = read_lines((HEADER + rows(1)).encode(), SCHEMA)
    wide = read_lines((EXTENDED_HEADER + extended(rows(1))).encode(), SCHEMA)
    assert line_key(legacy[1]) == line_key(wide[1]) == row(1).rstrip("\n")
    assert row_keys((EXTENDED_HEADER + RUN + "\n").encode(), SCHEMA) == [RUN]


# merge: the merged file takes the extended header when either side has it.


@pytest.mark.parametrize(
    ("ours", "theirs", "merged"),
    [
        (HEADER + rows(1, 2, 3), HEADER + rows(1, 2, 4), HEADER + rows(1, 2, 3, 4)),
        (
            EXTENDED_HEADER + extended(rows(1, 2)) + RUN + "\n",
            EXTENDED_HEADER + extended(rows(1, 2)) + IMPORTED + "\n",
            EXTENDED_HEADER + extended(rows(1, 2)) + RUN + "\n" + IMPORTED + "\n",
        ),
        # They rotated when their header changed: rows 1 and 2 are in their backup.
        (
            HEADER + rows(1, 2, 3),
            EXTENDED_HEADER + IMPORTED + "\n",
            EXTENDED_HEADER + extended(rows(3)) + IMPORTED + "\n",
        ),
        # We rotated: our backup has rows 1 and 2, and their new row joins our new log.
        (
            EXTENDED_HEADER + RUN + "\n",
            HEADER + rows(1, 2, 4),
            EXTENDED_HEADER + RUN + "\n" + extended(rows(4)),
        ),
    ],
    ids=["8-column", "extended", "they-rotated", "we-rotated"],
)
def test_the_merge_driver_merges_either_shape(
    tmp_path: Path, ours: str, theirs: str, merged: str
) -> None:
    base = write_log(tmp_path / "base.csv", rows(1, 2))
    ours_path = write_log(tmp_path / "ours.csv", ours, header="")
    theirs_path = write_log(tmp_path / "theirs.csv", theirs, header="")
    done = run_cli("merge-driver", str(base), str(ours_path), str(theirs_path), LOG, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert ours_path.read_text() == merged
    assert check_files([ours_path], SCHEMA).ok


def test_merge_rows_compares_keys_not_shapes() -> None:
    key = row(1).rstrip("\n")
    assert merge_rows([key], [key, "a"], [key, "b"]).rows == [key, "a", "b"]


def test_a_real_merge_with_a_side_that_rotated_into_the_extended_header(
    single_layout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `layout = "single"`: main logs by hand into its 8-column log; feature logs a run,
    which rotates its log into a backup and starts one with the extended header. The merge
    keeps every row once, check and the append-only rules pass at the merge commit."""
    repo = single_layout
    monkeypatch.delenv("PRE_COMMIT_FROM_REF", raising=False)
    assert run_cli("init", cwd=repo).returncode == 0
    write_log(repo / LOG, rows(1, 2))  # a log written by an earlier version
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    done = run_cli("log", "m", "10", "1", "true", "plan", "5", "--cache-read-tokens", "4", cwd=repo)
    assert done.returncode == 0, done.stderr
    git(repo, "add", "-A")
    assert append_only_hook.main([]) == 0  # the rotation where the header changed passes
    commit_all(repo, "feature: a row with a cache part")
    git(repo, "checkout", "-q", "main")
    write_log(repo / LOG, rows(1, 2, 3))
    commit_all(repo, "main: a row by hand")
    merged = subprocess.run(
        ["git", "merge", "--no-commit", "--no-ff", "feature"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=git_env(),
        check=False,
    )
    assert merged.returncode == 0, merged.stdout + merged.stderr
    text = (repo / LOG).read_text()
    assert text.startswith(EXTENDED_HEADER) and text.count("\n") == 3
    assert sorted(r.duration_ms for r in read_rows(log_files(repo / LOG))) == [
        5,
        1001,
        1002,
        1003,
    ]
    assert run_cli("check", cwd=repo).returncode == 0
    assert append_only_hook.main([]) == 0


# append-only: the header may grow, not shrink; extended rows are history like any other.


@pytest.fixture
def extended_history(repo: Path) -> Path:
    write_log(repo / LOG, IMPORTED + "\n" + RUN + "\n", header=EXTENDED_HEADER)
    commit_all(repo, "an extended log")
    return repo


@pytest.fixture(autouse=True)
def _no_range_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRE_COMMIT_FROM_REF", raising=False)
    monkeypatch.delenv("PRE_COMMIT_TO_REF", raising=False)


@pytest.mark.parametrize(
    ("new", "passes", "what"),
    [
        (EXTENDED_HEADER + IMPORTED + "\n" + RUN + "\n" + RUN + "\n", True, ""),
        (EXTENDED_HEADER + IMPORTED + "\n" + RUN.replace(",400,0", ",401,0") + "\n", False, "a "
         "history row was changed"),
        (EXTENDED_HEADER + RUN + "\n", False, "a history row was deleted"),
        (HEADER + row(1), False, "the header was changed"),
    ],
    ids=["append", "a cache part changed", "a row deleted", "back to 8 columns"],
)  # fmt: skip
def test_append_only_holds_extended_rows_to_the_same_rules(
    extended_history: Path, capsys: pytest.CaptureFixture[str], new: str, passes: bool, what: str
) -> None:
    (extended_history / LOG).write_text(new)
    git(extended_history, "add", "-A")
    assert append_only_hook.main([]) == (0 if passes else 1)
    assert what in capsys.readouterr().out


def test_append_only_accepts_the_same_rows_under_the_extended_header(repo: Path) -> None:
    """What a merge with a side that rotated does: the values stay, the shape grows."""
    write_log(repo / LOG, rows(1, 2))
    commit_all(repo, "8 columns")
    write_log(repo / LOG, extended(rows(1, 2)) + RUN + "\n", header=EXTENDED_HEADER)
    git(repo, "add", "-A")
    assert append_only_hook.main([]) == 0
