"""The block fast path reads exactly what the line-by-line path reads, and hands over cleanly."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import HEADER, row_line
from telemetry_csv.checking import check_files
from telemetry_csv.reading import Problem, scan_file
from telemetry_csv.schema import Row, Schema

SCHEMA = Schema()

# Lines the fast path must accept, and near misses it must leave to `parse_line`.
GOOD_LINES = [
    row_line().rstrip("\n"),
    row_line(notes='"a, b"').rstrip("\n"),
    row_line(notes='"say ""hi"""').rstrip("\n"),
    row_line(notes="ünïcödé ✓").rstrip("\n"),
    row_line(timestamp="2024-02-29T23:59:59.123456789-09:30", model="openai/gpt-4o").rstrip("\n"),
    row_line(prompt="0", completion="0", duration="0", task_type="quick").rstrip("\n"),
]
BAD_LINES = [
    row_line(notes='"no need"').rstrip("\n"),  # quoted without need
    row_line(timestamp="2026-02-30T10:00:00Z").rstrip("\n"),  # no such day
    row_line(timestamp="2025-02-29T10:00:00Z").rstrip("\n"),
    row_line(prompt="01").rstrip("\n"),
    row_line(task_type="deploy").rstrip("\n"),
    row_line(model="=cmd").rstrip("\n"),  # valid, but only the field-by-field path says so
    "",
    "garbage",
    row_line().rstrip("\n") + "\r",
]


def per_line(lines: list[str]) -> list[Row] | None:
    rows = [SCHEMA.parse_line(line) for line in lines]
    return rows if all(type(row) is Row for row in rows) else None  # type: ignore[misc]


@given(st.lists(st.sampled_from(GOOD_LINES + BAD_LINES), max_size=12))
def test_parse_block_agrees_with_parse_line(lines: list[str]) -> None:
    block = "".join(line + "\n" for line in lines)
    expected = per_line(lines)
    got = SCHEMA.parse_block(block)
    if got is None:
        # The fast path may decline valid lines (e.g. a model starting with '='), never accept bad.
        assert expected is None or any(line in BAD_LINES for line in lines)
    else:
        assert got == expected


@settings(max_examples=12, deadline=None)
@given(
    st.lists(st.sampled_from(GOOD_LINES), min_size=1, max_size=5),
    st.integers(min_value=0, max_value=6000),
    st.sampled_from([*BAD_LINES[:6], "", "x", "2026"]),
)
def test_a_bad_line_after_many_blocks_is_reported_at_its_line(
    tmp_path_factory, pattern: list[str], position: int, bad: str
) -> None:
    """A file of several 256 KiB blocks with one bad line: every row once, the problem at its
    line, as `check` reports it."""
    lines = [pattern[index % len(pattern)] for index in range(6000)]
    lines.insert(position, bad)
    path = tmp_path_factory.mktemp("blocks") / "usage.csv"
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    items = list(scan_file(path, SCHEMA))
    rows = [item for item in items if type(item) is Row]
    problems = [item for item in items if isinstance(item, Problem)]
    expected_rows = [SCHEMA.parse_line(line) for line in lines]
    expected_good = [row for row in expected_rows if type(row) is Row]
    assert rows == expected_good
    if type(SCHEMA.parse_line(bad)) is Row:
        assert problems == []
    else:
        assert problems and {problem.line for problem in problems} == {position + 2}
    result = check_files([path], SCHEMA)
    assert result.rows == len(expected_good)


def test_a_torn_last_line_after_clean_blocks(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    body = row_line() * 5000
    path.write_text(HEADER + body + row_line().rstrip("\n"), encoding="utf-8")
    items = list(scan_file(path, SCHEMA))
    problems = [item for item in items if isinstance(item, Problem)]
    assert [(p.line, p.field) for p in problems] == [(5002, "line")]
    assert "no newline at the end" in problems[0].message
    assert sum(type(item) is Row for item in items) == 5001


def test_crlf_after_clean_blocks_is_counted_from_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    body = row_line() * 4000 + row_line().replace("\n", "\r\n") * 2
    path.write_text(HEADER + body, encoding="utf-8")
    problems = [item for item in scan_file(path, SCHEMA) if isinstance(item, Problem)]
    assert len(problems) == 1
    assert problems[0].line == 4002
    assert "mixed line endings: 2 CRLF and 4,001 LF lines (first CRLF on line 4002)" in str(
        problems[0]
    )


def test_bytes_that_are_not_utf8_deep_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    good = row_line().encode()
    path.write_bytes(HEADER.encode() + good * 4000 + good[:-3] + b"\xff\n" + good)
    problems = [item for item in scan_file(path, SCHEMA) if isinstance(item, Problem)]
    assert [(p.line, p.field) for p in problems] == [(4002, "line")]
    assert "not UTF-8" in problems[0].message
