"""Property-based tests (hypothesis) of `log` and of the line parser.

For any arguments, `log` either appends exactly one row that reads back as given (after the
documented normalisations) or fails with a TelemetryError / a non-zero exit and a one-line
message, leaving every file byte for byte as it was. Never a traceback.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telemetry_csv import rfc3339
from telemetry_csv.capture.appending import log_row
from telemetry_csv.errors import TelemetryError
from telemetry_csv.logfile.fastpath import for_schema
from telemetry_csv.logfile.layout import log_files
from telemetry_csv.logfile.reading import read_rows
from telemetry_csv.logfile.schema import (
    EXTENDED_HEADER,
    FORMULA_STARTS,
    HEADER,
    Row,
    Schema,
    fold_notes,
    parse_success,
    restore,
)
from testing.util import git_env

pytestmark = pytest.mark.slow  # real processes, huge files or many generated inputs


SCHEMA = Schema()
FAST = for_schema(SCHEMA)
FAST_EXTENDED = for_schema(SCHEMA, extended=True)
TYPES = list(SCHEMA.task_types)
SECRET = "ghp_" + "aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0zA1234"

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
tricky = st.sampled_from(
    [
        "",
        " ",
        "=1+1",
        "+1",
        "-1",
        "@x",
        "'=x",
        "a,b",
        'say "hi"',
        "\t",
        "\r\n",
        "\x00",
        "\x85",
        "\u2028",
        "é",
        "🙂",
        SECRET,
        "0",
        "007",
        "1e3",
        "-5",
        "true",
        "YES",
        "plan",
        " Plan ",
        "z",
    ]
)
free = st.one_of(texts, tricky, st.integers(-10, 10**16), st.booleans(), st.none(), st.floats())


def mostly(valid: st.SearchStrategy, other: st.SearchStrategy) -> st.SearchStrategy:
    """Valid values nine times in ten, so that many examples get all fields right at once."""
    return st.integers(0, 9).flatmap(lambda k: other if k == 0 else valid)


counts = mostly(
    st.one_of(st.integers(0, 10**15 - 1), st.integers(0, 10**6).map(lambda n: f" 0{n} ")), free
)
stamps = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "2026-02-23T22:19:12+01:00",
            "2026-02-23t22:19:12z",
            "2026-02-30T00:00:00Z",
            "2026-02-23 22:19:12Z",
            "2026-02-23T22:19:12.123456789-05:30",
        ]
    ),
    texts,
)
formula_notes = st.builds(
    lambda quotes, start, rest: "'" * quotes + start + rest,
    st.integers(0, 3),
    st.sampled_from(list(FORMULA_STARTS)),
    texts,
)
notes = st.one_of(
    formula_notes,
    texts,
    tricky,
    st.lists(st.one_of(texts, tricky), max_size=4).map("".join),
    st.text(max_size=1100),
    st.none(),
)


def snapshot(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.endswith(".lock")}


def rows_of(log: Path) -> list[Row]:
    return list(read_rows(log_files(log))) if log_files(log) else []


def expected_row(values: dict[str, object], logged: Row) -> Row:
    """What the documented normalisations make of the given values."""

    def count(value: object) -> int:
        return value if isinstance(value, int) else int(str(value).strip())

    stamp = values["timestamp"]
    return Row(
        logged.timestamp if stamp is None else rfc3339.normalise(str(stamp)),
        str(values["model"]).strip(),
        count(values["prompt_tokens"]),
        count(values["completion_tokens"]),
        parse_success(values["task_success"]),
        str(values["task_type"]).strip().lower(),
        count(values["duration_ms"]),
        fold_notes("" if values["notes"] is None else str(values["notes"]))[0],
    )


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    model=mostly(
        st.sampled_from(["claude-3-opus", " openai/gpt-4o ", "llama3.1:70b"]),
        st.one_of(st.sampled_from(["=evil", "a b", "-m", ""]), free),
    ),
    prompt_tokens=counts,
    completion_tokens=counts,
    task_success=mostly(st.sampled_from([True, False, "true", "no", "Y", "1", " FALSE "]), free),
    task_type=mostly(st.sampled_from([*TYPES, " EXECUTE "]), free),
    duration_ms=counts,
    notes=notes,
    timestamp=mostly(
        st.sampled_from(
            [
                None,
                "2026-02-23T22:19:12+01:00",
                "2026-02-23t22:19:12z",
                "2026-02-23T22:19:12.123456789-05:30",
            ]
        ),
        stamps,
    ),
    small=st.booleans(),
)
def test_log_row_appends_one_faithful_row_or_changes_nothing(
    tmp_path: Path, small: bool, **values
) -> None:
    log = tmp_path / ".telemetry" / "usage.csv"
    before_files = snapshot(log.parent)
    before_rows = rows_of(log)
    try:
        logged = log_row(**values, path=log, max_bytes=1024 if small else None)
    except TelemetryError as error:
        message = str(error)
        assert message and "\n" not in message
        if values["notes"] is not None and SECRET in str(values["notes"]):
            assert SECRET not in message
        assert snapshot(log.parent) == before_files
        return
    assert logged.row == expected_row(values, logged.row)
    assert rows_of(log) == [*before_rows, logged.row]
    assert rfc3339.problem(logged.row.timestamp) is None


cli_words = st.one_of(
    st.sampled_from(
        [
            "claude-3-opus",
            "12",
            "0",
            "true",
            "no",
            "plan",
            "execute",
            "45000",
            "--notes",
            "--duration",
            "1m30s",
            "--task-type",
            "--model",
            "x,y",
            "=1+1",
            "-5",
            "--max-bytes",
            "1024",
            "--",
            "--timestamp",
            SECRET,
        ]
    ),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12),
)
VALID_ARGS = ["claude-3-opus", "1500", "3200", "true", "execute", "45000"]


@st.composite
def cli_argv(draw: st.DrawFn) -> list[str]:
    """Mostly a valid row with a few fields swapped for anything, plus anything after it."""
    base = [draw(mostly(st.just(value), cli_words)) for value in VALID_ARGS]
    if draw(st.integers(0, 9)) == 0:
        base = draw(st.lists(cli_words, max_size=8))
    extra = draw(st.lists(st.one_of(formula_notes, cli_words), max_size=3))
    return base + extra


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(argv=cli_argv())
def test_cli_log_either_appends_one_row_or_prints_one_line_and_changes_nothing(
    tmp_path: Path, argv: list[str]
) -> None:
    argv = [arg.replace("\x00", "") for arg in argv]  # no program can receive a NUL in argv
    folder = tmp_path / ".telemetry"
    log = folder / "usage.csv"
    before_files = snapshot(folder)
    before_rows = rows_of(log)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "telemetry-csv"), "log", *argv, "--file", str(log)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=git_env(),
        check=False,
    )
    assert "Traceback" not in done.stderr
    if done.returncode == 0 and done.stdout.startswith("usage:"):
        assert snapshot(folder) == before_files  # --help (or an abbreviation of it)
    elif done.returncode == 0:
        after = rows_of(log)
        assert len(after) == len(before_rows) + 1 and after[:-1] == before_rows
        assert done.stdout.startswith("logged ")
    else:
        assert done.returncode in (2, 3, 4), done.stderr
        # Missing fields are named after the usage line (argparse's way); then one line.
        message = done.stderr.split("\n", 1)[1] if done.stderr.startswith("usage:") else done.stderr
        assert message.count("\n") == 1 and message.startswith("telemetry-csv log")
        assert SECRET not in done.stderr
        assert snapshot(folder) == before_files


valid_rows = st.builds(
    Row,
    timestamp=st.sampled_from(
        ["2026-02-23T22:19:12+01:00", "2024-02-29T00:00:00Z", "2026-12-31T23:59:59.5-12:00"]
    ),
    model=st.from_regex(r"'*[=+@-]?[A-Za-z0-9][A-Za-z0-9./:_@'-]{0,20}", fullmatch=True),
    prompt_tokens=st.integers(0, 10**15 - 1),
    completion_tokens=st.integers(0, 10**15 - 1),
    task_success=st.booleans(),
    task_type=st.sampled_from(TYPES),
    duration_ms=st.integers(0, 10**15 - 1),
    notes=st.one_of(
        st.text(
            st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\u2028\u2029\x85"),
            max_size=60,
        ),
        st.sampled_from(["=1+1", "'=1", "''@x", 'a "b", c', ",", '"', "'", "-"]),
    ),
    # The extended header's columns: empty, as an 8-column file's rows have them.
    source=st.just(""),
    source_id=st.just(""),
    cache_read_tokens=st.none(),
    cache_write_tokens=st.none(),
)


@st.composite
def extended_rows(draw: st.DrawFn) -> Row:
    """Valid rows of a file with the extended header: any source, an id only with a source,
    cache parts (each may be unknown) that fit in the prompt tokens."""
    row = draw(valid_rows)
    source = draw(st.one_of(st.just(""), st.from_regex(r"[a-z][a-z0-9_-]{0,31}", fullmatch=True)))
    source_id = ""
    if source:
        source_id = draw(
            st.one_of(
                st.just(""),
                st.from_regex(r"[0-9]{8}T[0-9]{2}Z-[0-9a-f]{16}", fullmatch=True),
                st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}", fullmatch=True),
            )
        )
    read = draw(st.one_of(st.none(), st.integers(0, row.prompt_tokens)))
    write = draw(st.one_of(st.none(), st.integers(0, row.prompt_tokens - (read or 0))))
    return row._replace(
        source=source, source_id=source_id, cache_read_tokens=read, cache_write_tokens=write
    )


edits = st.lists(
    st.tuples(
        st.integers(0, 200),
        st.sampled_from(["insert", "delete", "replace"]),
        st.sampled_from(list(",\"'=+-@ \t\r\x00\x7fé0Z:T.eyJghp_sk-9a")),
    ),
    max_size=3,
)


def edited(line: str, changes: list[tuple[int, str, str]]) -> str:
    for position, kind, char in changes:
        at = position % (len(line) + 1)
        if kind == "insert":
            line = line[:at] + char + line[at:]
        elif line:
            at = min(at, len(line) - 1)
            line = line[:at] + (char if kind == "replace" else "") + line[at + 1 :]
    return line


@settings(max_examples=1500, deadline=None)
@given(row=valid_rows, changes=edits, noise=texts)
def test_fast_path_agrees_with_the_field_by_field_reading(
    row: Row, changes: list[tuple[int, str, str]], noise: str
) -> None:
    line = SCHEMA.format_line(row)
    assert SCHEMA.parse_line(line) == row  # every valid row survives the round trip
    assert FAST.parse_lines([line]) == [row]
    for text in (edited(line, changes), noise, line + noise):
        fast = FAST.match_canonical(text)
        authoritative = SCHEMA.parse_line(text)
        if fast is not None:
            assert fast == authoritative
        assert FAST.parse_lines([text]) == [authoritative]
        assert FAST.lines_problems([text]) == [SCHEMA.line_problems(text)]
        if isinstance(authoritative, Row):
            assert SCHEMA.format_line(authoritative) == text
            assert restore(next(csv.reader([text]))[1]) == authoritative.model
            assert len(next(csv.reader([text]))) == len(HEADER)


@settings(max_examples=1500, deadline=None)
@given(row=extended_rows(), changes=edits, noise=texts)
def test_fast_path_agrees_with_the_field_by_field_reading_on_extended_lines(
    row: Row, changes: list[tuple[int, str, str]], noise: str
) -> None:
    """The same property for files with the extended header, whose lines have 12 fields; and
    each shape's fast path agrees with the field-by-field reading of that shape on lines of the
    other."""
    line = SCHEMA.format_line(row, extended=True)
    assert SCHEMA.parse_line(line, extended=True) == row
    assert FAST_EXTENDED.parse_lines([line]) == [row]
    for text in (edited(line, changes), noise, line + noise):
        fast = FAST_EXTENDED.match_canonical(text)
        authoritative = SCHEMA.parse_line(text, extended=True)
        if fast is not None:
            assert fast == authoritative
        assert FAST_EXTENDED.parse_lines([text]) == [authoritative]
        assert FAST_EXTENDED.lines_problems([text]) == [SCHEMA.line_problems(text, extended=True)]
        assert FAST.parse_lines([text]) == [SCHEMA.parse_line(text)]
        if "\n" not in text:
            block = text + "\n"
            if FAST_EXTENDED.clean_end(block) == len(block):  # the block path took it
                assert FAST_EXTENDED.rows_of(block) == [authoritative]
        if isinstance(authoritative, Row):
            assert SCHEMA.format_line(authoritative, extended=True) == text
            assert len(next(csv.reader([text]))) == len(EXTENDED_HEADER)
            cached = (authoritative.cache_read_tokens or 0) + (
                authoritative.cache_write_tokens or 0
            )
            assert cached <= authoritative.prompt_tokens
            assert authoritative.source or not authoritative.source_id
