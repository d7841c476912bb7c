"""fmt streams: whatever the file and wherever its blocks end, it gives the bytes and the
problems of the plain whole-file reading (the oracle below, fmt as it was before it streamed),
and writes nothing when nothing changes."""

from __future__ import annotations

from codecs import BOM_UTF8
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz_reading import hostile_files

from telemetry_csv.logfile.canonical import canonical_line, header_shape
from telemetry_csv.logfile.reading import Problem, scan_bytes, split_lines
from telemetry_csv.logfile.rewriting import _COPY_BYTES, _LINE_LIMIT, format_bytes, format_file
from telemetry_csv.logfile.schema import Schema
from testing.logfiles import row, rows
from testing.util import HEADER

SCHEMA = Schema()


def oracle(data: bytes) -> tuple[bytes, list[Problem]]:
    """The whole-file reading: every line in memory, each made canonical or left."""
    lines = split_lines(data)
    torn = b""
    if data and not data.endswith(b"\n"):
        lines.pop()
        torn = data[data.rfind(b"\n") + 1 :]
    else:
        while lines and lines[-1] == "":
            lines.pop()
    left = {len(lines) + 1} if torn else set()
    out = []
    extended = header_shape(lines[0]) if lines else False  # the first line decides the shape
    for number, text in enumerate(lines, start=1):
        canonical = canonical_line(text, SCHEMA, first=number == 1, extended=extended)
        if canonical is None:
            left.add(number)
            canonical = text
        out.append(canonical)
    problems = [
        Problem(item.path, item.line, item.field, f"{item.message}; left as it is")
        for item in scan_bytes(data, SCHEMA, "usage.csv")
        if type(item) is Problem and item.line in left and item.field != "file"
    ]
    return "".join(f"{line}\n" for line in out).encode("utf-8", "surrogateescape") + torn, problems


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=hostile_files(), block=st.sampled_from([1, 7, 64, 300, 4096, 256 * 1024]))
def test_streaming_agrees_with_the_whole_file_reading(data: bytes, block: int) -> None:
    formatted = format_bytes(data, SCHEMA, "usage.csv", block_bytes=block)
    assert (formatted.data, formatted.problems) == oracle(data)


@pytest.mark.parametrize(
    "data",
    [
        (HEADER + rows(1, 2, 3)).encode(),
        (HEADER + rows(1, 2)).replace("\n", "\r\n").encode(),
        BOM_UTF8 + (HEADER + rows(1)).encode(),
        (HEADER + rows(1) + "\n\n").encode(),
        (HEADER + rows(1) + "x" * 100_000 + "\n" + rows(2)).encode(),
        (HEADER + rows(1) + "torn,row").encode(),
        b"",
        b"\n\n",
        BOM_UTF8 + b"\n" + row(1).encode(),
    ],
    ids=[
        "canonical",
        "crlf",
        "bom",
        "blank-end",
        "long-line",
        "torn",
        "empty",
        "blanks",
        "bom-only",
    ],
)
def test_the_file_gets_the_same_bytes_and_is_written_only_if_they_change(
    tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / "usage-20260101T000000Z.csv"  # a backup: no lock needed
    path.write_bytes(data)
    inode = path.stat().st_ino
    expected, problems = oracle(data)
    result = format_file(path, SCHEMA, display="usage.csv")
    assert path.read_bytes() == expected
    assert result.changed is (expected != data)
    assert (path.stat().st_ino == inode) is (not result.changed)  # untouched, or replaced whole
    assert result.problems == problems
    assert result.left == len({problem.line for problem in problems})
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary file left


def test_problems_kept_are_bounded_and_all_lines_counted(tmp_path: Path) -> None:
    path = tmp_path / "usage-20260101T000000Z.csv"
    path.write_bytes((HEADER + "x\n" * 5000 + rows(1)).encode())
    result = format_file(path, SCHEMA, max_problems=7)
    assert len(result.problems) == 7 and result.left == 5000
    assert [p.line for p in result.problems] == list(range(2, 9))


@pytest.mark.parametrize("start", [BOM_UTF8, b""])
@pytest.mark.parametrize(
    "length", [_LINE_LIMIT - 1, _LINE_LIMIT, _LINE_LIMIT + _COPY_BYTES - 1, 300_000]
)
@pytest.mark.parametrize("after", [b"\n" + HEADER.encode(), b"\r\n", b"\r\nrest\n", b""])
def test_a_line_longer_than_any_row_is_left_as_the_whole_file_reading_leaves_it(
    start: bytes, length: int, after: bytes
) -> None:
    """A first line too long to be a row loses its byte order mark as any first line does
    (unless it is torn, the file's last), and a CRLF whose CR ends one read and whose LF starts
    the next is an LF, as the whole-file reading has it (both found by hypothesis)."""
    data = start + b"x" * length + after
    for block in (1, 4096):
        formatted = format_bytes(data, SCHEMA, "usage.csv", block_bytes=block)
        assert (formatted.data, formatted.problems) == oracle(data)
