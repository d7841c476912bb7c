"""Hostile files for `check` and the reader under `report`: random bytes, truncation, huge
fields and lines, NUL bytes, BOMs, CRLF, mixed encodings. Always a clear answer (exit 0 or 1,
`PATH:LINE: field: message`), never a traceback, in bounded time and memory."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telemetry_csv.errors import InvalidLogError
from telemetry_csv.logfile.checking import check_files
from telemetry_csv.logfile.reading import Problem, read_rows, scan_file
from telemetry_csv.logfile.schema import Row, Schema
from testing.platforms import FIFOS, MACOS, posix_only
from testing.util import HEADER, git_env, run_cli

pytestmark = pytest.mark.slow  # real processes, huge files or many generated inputs

SCHEMA = Schema()
CLI = str(Path(sys.executable).parent / "telemetry-csv")
ROW = "2026-02-23T22:19:12+01:00,claude-3-opus,1500,3200,true,execute,45000,Phase 6 tests\n"
PROBLEM_LINE = re.compile(
    r".+:\d+: (header|line|file|timestamp|model|prompt_tokens|"
    r"completion_tokens|task_success|task_type|duration_ms|notes|"
    # A file without a header whose first line has twelve fields is read in the extended shape.
    r"source|source_id|cache_read_tokens|cache_write_tokens): .+"
)

pieces = st.one_of(
    st.just(HEADER.encode()),
    st.just(ROW.encode()),
    st.just(ROW.replace("\n", "\r\n").encode()),
    st.just(b"\xef\xbb\xbf"),
    st.just(b"\x00"),
    st.just(b"\n"),
    st.just(b'"'),
    st.just("Phase 6 tests é".encode("latin-1")),
    st.just(b"=1+1,'=2,ghp_" + b"aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0zA1234"),
    st.binary(max_size=64),
    st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.integers(1, 20_000).map(lambda n: b"x" * n),  # huge fields and lines
)


@st.composite
def hostile_files(draw: st.DrawFn) -> bytes:
    data = b"".join(draw(st.lists(pieces, max_size=12)))
    if data and draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]  # truncated anywhere
    return data


@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=hostile_files())
def test_scan_check_and_read_rows_never_raise_anything_else(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "usage.csv"
    path.write_bytes(data)
    items = list(scan_file(path, SCHEMA))
    assert all(type(item) in (Row, Problem) for item in items)
    lines = data.count(b"\n") + (not data.endswith(b"\n") and bool(data))
    for problem in (item for item in items if type(item) is Problem):
        assert 0 <= problem.line <= lines and "\n" not in str(problem)
        assert PROBLEM_LINE.fullmatch(str(problem)), str(problem)
    result = check_files([path], SCHEMA)
    assert result.rows == sum(type(item) is Row for item in items)
    assert result.ok == (result.rows == len(items))
    try:
        rows = list(read_rows([path], SCHEMA))
    except InvalidLogError as error:
        assert "\n" not in str(error) and not result.ok
    else:
        assert result.ok and len(rows) == result.rows


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=hostile_files())
def test_check_command_answers_every_hostile_file_clearly(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "usage.csv"
    path.write_bytes(data)
    done = run_cli("check", str(path), cwd=tmp_path, timeout=60)
    assert done.returncode in (0, 1) and done.stderr == ""
    *problems, summary = done.stdout.splitlines()
    assert summary.startswith("checked 1 file, ")
    assert all(PROBLEM_LINE.fullmatch(line) for line in problems), problems
    assert (done.returncode == 0) == summary.endswith("no problems")


# ru_maxrss is in KiB on Linux, in bytes on macOS.
MEASURE = f"""
import resource, subprocess, sys, time

started = time.monotonic()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(done.returncode, round(time.monotonic() - started, 2),
      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // {1024 * 1024 if MACOS else 1024})
print(done.stdout)
print(done.stderr[-2000:])
"""


def peak(*command: str, cwd: Path) -> tuple[int, float, int, str]:
    """Exit status, seconds and peak RSS (MiB) of one command, measured by a fresh parent."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=git_env(),
        check=True,
    )
    first, _, output = done.stdout.partition("\n")
    status, seconds, rss = first.split()
    return int(status), float(seconds), int(rss), output


@functools.cache
def baseline_rss(module: str) -> int:
    """Peak RSS (MiB) of an interpreter that only imports `module`: what a command costs before
    it reads anything. Measured once per session."""
    return peak(sys.executable, "-c", f"import {module}", cwd=Path.cwd())[2]


@pytest.mark.parametrize(
    ("name", "problem", "summary"),
    [
        ("one 64 MiB line", ":2: line: longer than 16,384 bytes", "0 valid rows: 2 problem(s)"),
        ("64 MiB of NUL", ":1: line: longer than 16,384 bytes", "0 valid rows: 2 problem(s)"),
        (
            "a million blank lines",
            ":6: line: blank line; delete it",
            "0 valid rows: 1,000,000 problem(s) (first 5 shown)",
        ),
        ("400,000 CRLF rows", ":1: file: CRLF line endings (400,001 lines)", "400,000 valid rows"),
    ],
    ids=["one 64 MiB line", "64 MiB of NUL", "a million blank lines", "400,000 CRLF rows"],
)
@posix_only("resource.getrusage, which measures the peak memory here")
def test_huge_files_are_checked_in_bounded_time_and_memory(
    huge_file, name: str, problem: str, summary: str
) -> None:
    path = huge_file(name)
    status, seconds, rss, output = peak(
        CLI, "check", path.name, "--max-problems", "5", cwd=path.parent
    )
    baseline = baseline_rss("telemetry_csv.logfile.checking")
    assert status == 1 and "Traceback" not in output
    assert f"\n{path.name}{problem}" in output and f"checked 1 file, {summary}" in output, output
    assert rss < baseline + 60, f"check held the file in memory: {rss} MiB (baseline {baseline})"
    assert seconds < 60


@posix_only(FIFOS)
def test_a_fifo_is_reported_not_waited_on(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "usage.csv"
    os.mkfifo(fifo)
    started = time.monotonic()
    done = subprocess.run(
        [CLI, "check", str(fifo)],
        capture_output=True,
        text=True,
        env=git_env(),
        timeout=30,
        check=False,
    )
    assert done.returncode == 1 and "not a regular file" in done.stdout
    assert time.monotonic() - started < 10
