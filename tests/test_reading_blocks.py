"""The block fast path reads exactly what the line-by-line path reads, and hands over cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telemetry_csv.logfile.checking import check_files
from telemetry_csv.logfile.fastpath import for_schema
from telemetry_csv.logfile.reading import Problem, scan_file, scan_items, scan_runs
from telemetry_csv.logfile.schema import Row, Schema
from testing.util import HEADER, row_line

SCHEMA = Schema()
FAST = for_schema(SCHEMA)

# Each field of a generated line is valid most of the time (so that whole lines often are) and
# otherwise a near miss; notes hold the characters that matter to CSV and to the patterns.
VALID_STAMPS = st.one_of(
    st.sampled_from(
        ["2026-02-23T22:19:12+01:00", "2024-02-29T23:59:59.123456789-09:30", "0001-01-01T00:00:00Z",
         "2000-02-29T00:00:00Z", "9999-12-31T23:59:59-00:00"]
    ),
    st.dates().map(lambda day: day.isoformat() + "T10:00:00Z"),
)  # fmt: skip
BAD_STAMPS = st.one_of(
    st.sampled_from(
        ["2025-02-29T10:00:00Z", "2026-04-31T10:00:00Z", "0000-01-01T00:00:00Z",
         "1900-02-29T00:00:00Z", "2026-02-23t22:19:12z", "2026-02-23T22:19:12", "2026-02-23T24:00:00Z"]
    ),
    st.builds(
        lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}T10:00:00Z",
        st.integers(0, 9999), st.integers(0, 13), st.integers(28, 32),
    ),
)  # fmt: skip
VALID_NOTES = st.one_of(
    st.sampled_from(["", "Phase 6 tests", "a, b", 'say "hi"', "ünïcödé ✓", "x" * 1000, "q,"]),
    st.text(st.sampled_from(',"ab é'), max_size=12),
)
# Credentials (built from pieces, so that this file does not look like a leak to scanners):
# valid lines in every other way, which the fast path must still leave to `parse_line`.
KEY = "aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0zA"
SECRET_NOTES = [
    "key sk-ant-api03-" + KEY + KEY,
    '"x", ghp_' + KEY + "1234",
    "db postgres://u:pw@h/x",
]
SECRET_MODEL = "sk-proj-" + KEY + "_" + KEY
BAD_NOTES = st.sampled_from(
    ["-starts with a dash", "=1+1", "@here", "'quoted", "+1", "x" * 1001, "tab\there",
     "line\u2028sep", "nul\x00", "\x85", '"starts with a quote', *SECRET_NOTES]
)  # fmt: skip


@st.composite
def field(draw, valid, invalid):
    return draw(valid) if draw(st.integers(0, 7)) else draw(invalid)


def pick(valid: list[str], invalid: list[str]):
    return field(st.sampled_from(valid), st.sampled_from(invalid))


def quoting(notes: str, how: str) -> str:
    if how == "canonical":
        return f'"{notes.replace(chr(34), chr(34) * 2)}"' if "," in notes or '"' in notes else notes
    if how == "always":
        return f'"{notes.replace(chr(34), chr(34) * 2)}"'
    return notes  # never: a comma or quote makes it malformed


@st.composite
def lines(draw) -> str:
    """One line: generated fields, quoted one of three ways, then perhaps mutated."""
    count = pick(["0", "1500", "9" * 15], ["01", "-1", "1e3", "9" * 16, "", "١٢"])
    fields = [
        draw(field(VALID_STAMPS, BAD_STAMPS)),
        draw(pick(["claude-3-opus", "openai/gpt-4o", "m" * 128], ["=cmd", "-x", "@org/m", "'q", "a b", 'a"b', "", "m" * 129, SECRET_MODEL])),
        draw(count),
        draw(count),
        draw(pick(["true", "false"], ["True", "yes", ""])),
        draw(pick(["plan", "execute", "quick"], ["deploy", "Plan", ""])),
        draw(count),
    ]  # fmt: skip
    how = draw(st.sampled_from(["canonical"] * 6 + ["always", "never"]))
    text = ",".join([*fields, quoting(draw(field(VALID_NOTES, BAD_NOTES)), how)])
    for _ in range(max(0, draw(st.integers(0, 5)) - 3)):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 2))
        insert = draw(st.text(st.sampled_from(',"\r\t 0a-=\u2028é'), max_size=2))
        text = text[:at] + insert + text[at + cut :]
    return text.replace("\n", "")  # a block's lines hold no newline


def fast_row(line: str) -> Row | None:
    rows = FAST.parse_block(line + "\n")
    return rows[0] if rows else None


def authoritative(line: str) -> Row | None:
    """The row of a valid line as the field-by-field rules read it, without any pattern: each
    field checked on its own, and the line in the one form `format_line` writes."""
    row = SCHEMA.read_fields(line)
    return row if type(row) is Row and SCHEMA.format_line(row) == line else None


@pytest.mark.slow
@settings(max_examples=400)
@given(lines())
def test_the_fast_path_reads_a_line_as_parse_line_does(line: str) -> None:
    expected = SCHEMA.parse_line(line)
    assert FAST.parse_block(line + "\n") in (None, [expected])
    truth = authoritative(line)
    assert expected == truth if truth is not None else type(expected) is list
    assert fast_row(line) in (None, truth)
    assert FAST.clean_end(line + "\n") in (0, len(line) + 1)
    assert (SCHEMA.line_problems(line) is None) == (type(expected) is Row)
    assert FAST.lines_problems([line]) == [SCHEMA.line_problems(line)]
    assert FAST.parse_lines([line]) == [expected]
    counted = FAST.count_block(line + "\n")
    assert counted in (None, 1)
    if counted == 1:
        assert SCHEMA.line_problems(line) is None


@pytest.mark.slow
@settings(max_examples=200)
@given(st.lists(lines(), max_size=8))
def test_the_fast_path_reads_a_block_as_its_lines(block_lines: list[str]) -> None:
    block = "".join(line + "\n" for line in block_lines)
    fast = [fast_row(line) for line in block_lines]
    accepted = [row for row in fast if row is not None]
    clean = len(accepted) == len(fast)
    assert FAST.parse_block(block) == (fast if clean else None)
    assert FAST.count_block(block) == (len(fast) if clean else None)
    prefix = next((index for index, row in enumerate(fast) if row is None), len(fast))
    assert FAST.clean_end(block) == sum(len(line) + 1 for line in block_lines[:prefix])
    for line, row in zip(block_lines, fast, strict=True):
        if row is not None:
            assert row == SCHEMA.parse_line(line)


GOOD_LINES = [
    row_line().rstrip("\n"),
    row_line(notes='"a, b"').rstrip("\n"),
    row_line(notes='"say ""hi"""').rstrip("\n"),
    row_line(notes="ünïcödé ✓").rstrip("\n"),
    row_line(timestamp="2024-02-29T23:59:59.123456789-09:30", model="openai/gpt-4o").rstrip("\n"),
]
BAD_LINES = [
    row_line(notes='"no need"').rstrip("\n"),  # quoted without need
    row_line(timestamp="2026-02-30T10:00:00Z").rstrip("\n"),  # no such day
    row_line(prompt="01").rstrip("\n"),
    row_line(task_type="deploy").rstrip("\n"),
    row_line(model="=cmd").rstrip("\n"),  # not neutralised: a spreadsheet would run it
    row_line(notes="-a dash").rstrip("\n"),  # likewise
    row_line(notes="'-a dash").rstrip("\n"),  # valid, but only the field-by-field path says so
]


@settings(max_examples=12, deadline=None)
@given(
    st.lists(st.sampled_from(GOOD_LINES), min_size=1, max_size=5),
    st.integers(min_value=0, max_value=6000),
    st.sampled_from([*BAD_LINES, "", "x", "2026"]),
)
@pytest.mark.slow
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


def flat(path: Path, rows: bool, block_bytes: int) -> list:
    items = []
    for item in scan_items(path, SCHEMA, rows=rows, block_bytes=block_bytes):
        if type(item) is str:
            items += FAST.rows_of(item) if rows else [None] * item.count("\n")
        else:
            items.append(item)
    return items


HEADER_LINES = st.sampled_from(
    [HEADER.encode(), HEADER.replace("\n", "\r\n").encode(), b"\xef\xbb\xbf" + HEADER.encode(),
     HEADER.replace("notes", "note").encode(), b""]
)  # fmt: skip
RAW_LINES = st.one_of(
    lines().map(lambda line: line.encode() + b"\n"),
    lines().map(lambda line: line.encode() + b"\r\n"),
    st.sampled_from([b"\n", b"\xff\xfe\n", row_line().encode()[:-5] + b"\xe9\n", b"x" * 17_000 + b"\n",
                     row_line(notes="x" * 1000).encode(), row_line(notes="-dash").encode(),
                     row_line(notes="'-dash").encode()]),
)  # fmt: skip


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(HEADER_LINES, st.lists(RAW_LINES, max_size=30), st.booleans())
def test_blocks_of_any_size_read_exactly_what_lines_do(
    tmp_path_factory, header: bytes, body: list[bytes], torn: bool
) -> None:
    """The same rows and problems, at the same lines, whatever the block size: none (line by
    line), a few bytes (lines longer than a block), or the usual 256 KiB."""
    data = header + b"".join(body)
    if torn:
        data = data.rstrip(b"\n")
    path = tmp_path_factory.mktemp("sizes") / "usage.csv"
    path.write_bytes(data)
    for rows in (True, False):
        expected = flat(path, rows, 0)
        for block_bytes in (1, 50, 333, 4096, 256 * 1024):
            assert flat(path, rows, block_bytes) == expected, block_bytes


def test_a_line_the_pattern_leaves_to_the_slow_path_does_not_end_the_fast_path(
    tmp_path: Path,
) -> None:
    """A valid model name starting with an apostrophe that neutralises nothing (`'q`, left to
    the field-by-field path), every 100 lines: the lines between still come in runs, and rows
    and line numbers are those of line by line."""
    lines = [row_line(model="'q" if index % 100 == 7 else "m") for index in range(5000)]
    path = tmp_path / "usage.csv"
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    items = list(scan_runs(path, SCHEMA))
    runs = [item for item in items if type(item) is str]
    assert sum(run.count("\n") for run in runs) == 5000 - 50
    assert sum(type(item) is Row for item in items) == 50
    assert flat(path, True, 256 * 1024) == flat(path, True, 0)
    assert all(type(item) is Row for item in flat(path, True, 256 * 1024))


def test_a_credential_inside_clean_blocks_ends_the_run_at_its_line(tmp_path: Path) -> None:
    """A row valid in every way but holding a credential, deep in a file of clean blocks: the
    run stops before it, `check` flags exactly that line without echoing it, and the rows after
    it come in runs again."""
    path = tmp_path / "usage.csv"
    lines = [row_line(notes=f"ok {index}") for index in range(6000)]
    for at, notes in zip((1234, 4321, 4322), SECRET_NOTES, strict=True):
        lines[at] = row_line(
            notes=notes if "," not in notes else f'"{notes.replace(chr(34), chr(34) * 2)}"'
        )
    lines[5000] = row_line(model=SECRET_MODEL)
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    problems = [item for item in scan_file(path, SCHEMA) if isinstance(item, Problem)]
    assert [(p.line, p.field) for p in problems] == [
        (1236, "notes"), (4323, "notes"), (4324, "notes"), (5002, "model")
    ]  # fmt: skip
    assert all("(value not shown)" in str(p) and KEY not in str(p) for p in problems)
    items = list(scan_runs(path, SCHEMA))
    assert sum(run.count("\n") for run in items if type(run) is str) == 6000 - 4
    assert flat(path, True, 256 * 1024) == flat(path, True, 0)
    assert flat(path, False, 256 * 1024) == flat(path, False, 0)
    assert check_files([path], SCHEMA).rows == 6000 - 4


@pytest.mark.slow
def test_a_file_of_credentials_is_read_once(tmp_path: Path) -> None:
    """Every line of several blocks holds a credential: each is flagged at its line, and the
    rest of a run is not screened again after each one (the file would take minutes if it were)."""
    path = tmp_path / "usage.csv"
    path.write_text(HEADER + row_line(notes=SECRET_NOTES[0]) * 8000, encoding="utf-8")
    problems = [item for item in scan_file(path, SCHEMA) if isinstance(item, Problem)]
    assert [p.line for p in problems] == list(range(2, 8002))
    assert {p.field for p in problems} == {"notes"}


# Extended lines around the fast path's own checks: cache parts (which no pattern compares with
# prompt_tokens: of equal digit length, at the limit, over it) and importer-shaped ids (which
# the secret screen reads without), with near misses of both, in source_id and in notes.
EXTENDED_TAILS = [
    ("", "claude-code", "20250101T12Z-0123456789abcdef", "999", ""),
    ("", "claude-code", "20250101T12Z-0123456789abcdef", "1000", ""),  # at the limit
    ("", "claude-code", "20250101T12Z-0123456789abcdef", "1001", ""),  # over, same length
    ("", "usage-json", "", "500", "500"),
    ("", "usage-json", "", "500", "501"),
    ("", "usage-json", "", "", "1000"),
    ("", "usage-json", "", "", "1001"),
    ("", "run", "", "0", "0"),
    ("", "run", "", "10000", ""),  # over, longer
    ("", "codex", "20250101T12Z-0123456789ABCDEF", "1", "1"),  # not the importer's shape
    ("", "codex", "20250101T12Z-0123456789abcdef0", "", ""),  # 17 hex digits
    ("", "codex", "x20250101T12Z-0123456789abcdef", "", ""),
    ('"a,20250101T12Z-0123456789abcdef,b"', "", "", "", ""),  # the shape inside notes
    ("sk-ant-api03-" + KEY + KEY, "gemini-cli", "20250101T13Z-0123456789abcdef", "7", ""),
    ("", "gemini-cli", "ghp_" + KEY + "1234", "", ""),  # a credential as the id
    ('"a,20250101T12Z-ghp_' + KEY + '1234,b"', "", "", "", ""),  # the prefix, then a key
    ("plain", "", "", "", ""),
    ("", "", "20250101T12Z-0123456789abcdef", "1", ""),  # an id without a source
    ("", "-x", "", "", ""),  # not a source
]


def extended_line(notes: str, source: str, source_id: str, read: str, write: str) -> str:
    return f"2026-02-23T22:19:12+01:00,m,1000,2,true,plan,3,{notes},{source},{source_id},{read},{write}\n"


@pytest.mark.parametrize("at", range(len(EXTENDED_TAILS)))
def test_extended_checks_in_blocks_give_the_line_by_line_verdict(tmp_path: Path, at: int) -> None:
    """One line of each kind among hundreds of clean extended lines (with importer ids and
    cache parts of prompt_tokens' length): the same rows and problems, at the same lines,
    block by block as line by line, and `check` counts the same."""
    from telemetry_csv.logfile.schema import EXTENDED_HEADER_LINE

    clean = [
        extended_line("", "claude-code", f"20250101T{index % 24:02d}Z-{index:016x}", "900", "99")
        for index in range(700)
    ]
    lines = [*clean[:350], extended_line(*EXTENDED_TAILS[at]), *clean[350:]]
    path = tmp_path / "usage.csv"
    path.write_text(EXTENDED_HEADER_LINE + "\n" + "".join(lines), encoding="utf-8")
    expected = list(scan_items(path, SCHEMA, block_bytes=0))
    for rows in (True, False):
        reference = list(scan_items(path, SCHEMA, rows=rows, block_bytes=0))
        for block_bytes in (300, 4096, 256 * 1024):
            found = []
            for item in scan_items(path, SCHEMA, rows=rows, block_bytes=block_bytes):
                if isinstance(item, str):
                    fast = for_schema(SCHEMA, extended=True)
                    found += fast.rows_of(item) if rows else [None] * item.count("\n")
                else:
                    found.append(item)
            assert found == reference, (rows, block_bytes)
    problems = [item for item in expected if isinstance(item, Problem)]
    assert check_files([path], SCHEMA).problem_count == len(problems)
    assert all(problem.line == 352 for problem in problems)
    assert bool(problems) == (at in INVALID_TAILS)


INVALID_TAILS = {2, 4, 6, 8, 13, 14, 15, 17, 18}  # cache parts over prompt_tokens; a credential
