"""The compiled helpers (`telemetry_csv.compiled`) give exactly what the pure-Python code gives.

The pure-Python code is the reference (`TELEMETRY_CSV_PURE_PYTHON=1` selects it everywhere).
The secret screen's pass (`_secrets_screen.c`) is compared with `secrets_scan`'s on generated
blocks and the realistic logs. The extended lines' loops (`logfile/_extended.c`) are compared with theirs on generated runs in
the three ways a str stores its characters, and `check` with both on the same files. The
report's pass (`report/_tally.c`): each test reads the same files both ways and compares whole
reports: generated rows with edge values
(fractions of a second of every length, every kind of offset, hours across midnight, counts of
15 digits whose sums pass 64 bits, prompts either side of a price tier, cache parts, repeated
source ids, hostile notes), the realistic logs, costs, fine cells, and durations let go and read
again in passes.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telemetry_csv import compiled, secrets_scan
from telemetry_csv.compiled import PURE_PYTHON
from telemetry_csv.logfile import fastpath, source_ids
from telemetry_csv.logfile.reading import ExtendedRun, scan_items
from telemetry_csv.logfile.schema import EXTENDED_HEADER_LINE, HEADER_LINE, Row, Schema
from telemetry_csv.report.aggregate import ReportOptions, _compiled_tally, build_report
from telemetry_csv.report.data import Report
from testing.logfiles import realistic

SCHEMA = Schema()
COSTS = importlib.util.find_spec("genai_prices") is not None
MODELS = (
    "claude-sonnet-4-20250514",
    "gemini-2.5-pro",  # a higher price above 200,000 prompt tokens
    "gpt-4o-mini",
    "anthropic/claude-3-5-haiku-20241022",
    "a-model-nobody-prices",
    "modèle-été",
)
OFFSETS = ("Z", "+00:00", "-00:00", "+05:30", "-09:30", "+05:45", "+14:00", "-12:00", "+01:00")
NOTES = ('"quoted" at the start', 'a, b, "c"', "=SUM(A1)", "ünïcødé 🚀", "", "plain")


def _compiler() -> bool:
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(compiler) is not None


@pytest.mark.parametrize(
    "name",
    [
        "telemetry_csv.report._tally",
        "telemetry_csv.logfile._extended",
        "telemetry_csv._secrets_screen",
    ],
)
def test_the_compiled_helpers_are_built_where_a_compiler_is(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Where the package could be compiled (CI), it was: the speed goals count on it."""
    monkeypatch.delenv(PURE_PYTHON, raising=False)
    if not _compiler():
        pytest.skip("no C compiler: the package installs with the pure-Python code only")
    assert compiled.load(name) is not None


def test_pure_python_is_chosen_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PURE_PYTHON, "1")
    assert _compiled_tally() is None


@pytest.fixture
def tally() -> Callable[..., Any]:
    found = _compiled_tally()
    if found is None:
        pytest.skip("the compiled pass is not built here")
    return found


def _both(monkeypatch: pytest.MonkeyPatch, make: Callable[[], Report]) -> tuple[Report, Report]:
    monkeypatch.delenv(PURE_PYTHON, raising=False)
    compiled = make()
    monkeypatch.setenv(PURE_PYTHON, "1")
    reference = make()
    monkeypatch.delenv(PURE_PYTHON)
    return compiled, reference


def _stamp(draw: st.DrawFn) -> str:
    year = draw(st.sampled_from((1971, 2000, 2024, 2025, 2026, 2099)))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28))
    hour = draw(st.sampled_from((0, 1, 12, 22, 23)) | st.integers(0, 23))
    minute = draw(st.sampled_from((0, 29, 30, 59)) | st.integers(0, 59))
    second = draw(st.integers(0, 59))
    digits = draw(st.integers(0, 9))
    fraction = (
        "." + "".join(draw(st.lists(st.sampled_from("0159"), min_size=digits, max_size=digits)))
        if digits
        else ""
    )
    return f"{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}{draw(st.sampled_from(OFFSETS))}"


@st.composite
def rows(draw: st.DrawFn, extended: bool) -> Row:
    prompt = draw(
        st.sampled_from((0, 1, 199_999, 200_000, 200_001, 10**15 - 1)) | st.integers(0, 10**6)
    )
    cache_read = cache_write = None
    source = source_id = ""
    if extended:
        if draw(st.booleans()):
            cache_read = draw(st.integers(0, prompt))
            cache_write = draw(st.integers(0, prompt - cache_read))
        if draw(st.booleans()):
            source = draw(st.sampled_from(("claude-code", "codex")))
            source_id = draw(st.sampled_from(("s1:r1", "s1:r2", "s2:r1", "A.b-c:9")))
    return Row(
        timestamp=_stamp(draw),
        model=draw(st.sampled_from(MODELS)),
        prompt_tokens=prompt,
        completion_tokens=draw(st.sampled_from((0, 10**15 - 1)) | st.integers(0, 10**5)),
        task_success=draw(st.booleans()),
        task_type=draw(st.sampled_from(("plan", "execute", "verify"))),
        duration_ms=draw(st.sampled_from((0, 10**15 - 1)) | st.integers(0, 10**7)),
        notes=draw(st.sampled_from(NOTES)),
        source=source,
        source_id=source_id,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )


@st.composite
def logs(draw: st.DrawFn) -> tuple[bool, list[Row]]:
    extended = draw(st.booleans())
    return extended, draw(st.lists(rows(extended), min_size=1, max_size=60))


OPTIONS = (
    ReportOptions(costs=False),
    ReportOptions(costs=COSTS),
    ReportOptions(costs=COSTS, group_by=("model", "day")),
    ReportOptions(costs=False, chart_series=3),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(log=logs(), options=st.sampled_from(OPTIONS), held=st.sampled_from((None, 1, 7)))
def test_generated_rows_give_the_same_report(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tally: Callable[..., Any],
    log: tuple[bool, list[Row]],
    options: ReportOptions,
    held: int | None,
) -> None:
    extended, written = log
    path = tmp_path / "usage.csv"
    header = EXTENDED_HEADER_LINE if extended else HEADER_LINE
    lines = [SCHEMA.format_line(row, extended=extended) for row in written]
    # Each row five times: cells of several rows, ids repeated across runs of a few lines.
    path.write_text(header + "\n" + "".join(line + "\n" for line in lines * 5), encoding="utf-8")
    items = list(scan_items(path, SCHEMA, block_bytes=1 << 10))
    assert all(isinstance(item, str | Row) for item in items), items[-1]
    # Runs are the compiled pass's input (a model that is not ASCII leaves a line to the
    # line-by-line path, so that the report is of runs and rows together).
    assert any(isinstance(item, str) for item in items) or {row.model for row in written} == {
        "modèle-été"
    }

    def make() -> Report:
        if held is None:
            return build_report(iter(items), options)
        return build_report(iter(items), options, again=lambda: iter(items), held=held)

    compiled, reference = _both(monkeypatch, make)
    assert compiled == reference


@pytest.mark.parametrize("shape", ["legacy", "extended"])
@pytest.mark.parametrize("options", OPTIONS, ids=["no costs", "costs", "grouped", "charts"])
def test_realistic_logs_give_the_same_report(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tally: Callable[..., Any],
    shape: str,
    options: ReportOptions,
) -> None:
    path = tmp_path / "usage.csv"
    realistic().write_realistic_log(path, 1 << 20, seed=7, shape=shape)
    compiled, reference = _both(
        monkeypatch, lambda: build_report(scan_items(path, SCHEMA), options)
    )
    assert compiled == reference
    assert compiled.totals.runs > 5000


def test_the_command_line_prints_the_same_report(tmp_path: Path) -> None:
    """Through the installed command, in a real process each way."""
    path = tmp_path / "usage.csv"
    realistic().write_realistic_log(path, 1 << 19, seed=3, shape="extended")
    command = [sys.executable, "-m", "telemetry_csv", "report", "--file", str(path)]
    outputs = []
    for pure in ("", "1"):
        env = {**os.environ, PURE_PYTHON: pure}
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert "## LLM usage report" in outputs[0]


def _never(*args: object) -> object:
    raise AssertionError(f"called back with {args}")


@pytest.mark.parametrize(
    "run",
    [
        "2026-01-01T10:00:00Z,m,1,2,true,plan,3,",  # no newline at the end
        "2026-01-01T10:00:00Z,m,1,2,yes,plan,3,\n",
        "2026-01-01T10:00:00Z,m,1,2,true,plan,3.5,\n",
        "2026-01-01T10:00:00Z,m,1234567890123456,2,true,plan,3,\n",  # 16 digits
        "2026-01-01T10:00:00z,m,1,2,true,plan,3,\n",
        "2026-01-01 10:00:00Z,m,1,2,true,plan,3,\n",
        "2026-01-01T10:00:00.Z,m,1,2,true,plan,3,\n",
        "2026-01-01T10:00:00.1234567890123456789Z,m,1,2,true,plan,3,\n",  # 19 digits
        "2026-01-01T10:00:00+0100,m,1,2,true,plan,3,\n",
        "2026-13-01T10:00:00Z,m,1,2,true,plan,3,\n",
        "2026-01-01T10:00:00Z,m,1,2,true,plan\n",
    ],
)
def test_a_run_it_does_not_recognise_is_left_to_the_reference(
    tally: Callable[..., Any], run: str
) -> None:
    """Before anything is called back: the run is then read the reference way, from scratch.
    (The valid line first would ask `cost_of` for its model, which `prices` does not know.)"""
    valid = "2026-01-01T10:00:00Z,m,1,2,true,plan,3,\n"
    assert tally(valid + run, False, False, _never, {}, _never) is None
    assert tally("", False, False, _never, {}, _never) is None


def test_the_first_and_last_of_equal_instants_are_the_first_and_last_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tally: Callable[..., Any]
) -> None:
    """The report shows the first and the last row as written: of rows at the same instant
    written differently, the first read and the last read."""
    same = ("10:00:00.5Z", "11:00:00.500+01:00", "05:00:00.50-05:00", "10:00:00.5+00:00")
    path = tmp_path / "usage.csv"
    lines = [f"2026-01-01T{time},m,1,2,true,plan,3," for time in same]
    path.write_text(HEADER_LINE + "\n" + "".join(line + "\n" for line in lines))
    compiled, reference = _both(monkeypatch, lambda: build_report(scan_items(path, SCHEMA)))
    assert compiled == reference
    assert (compiled.first, compiled.last) == (
        "2026-01-01T10:00:00.5Z",
        "2026-01-01T10:00:00.5+00:00",
    )


def test_sums_past_64_bits(tally: Callable[..., Any]) -> None:
    """10,000 rows of 15-digit counts in one cell: the sums spill into Python ints."""
    big = 10**15 - 1
    line = f"2026-01-01T10:00:00Z,m,{big},{big},true,plan,{big},\n"
    counted, cells, days, first, last = tally(line * 10_000, False, False, _never, None, _never)
    assert counted == 10_000
    sums = cells["m", "plan", "true"]
    assert sums[:8] == [10_000, big * 10_000, big * 10_000, 0, 0, 0, 0, big * 10_000]
    assert len(sums[8]) == 8 * 10_000
    assert days[20454, "true"][:3] == sums[:3]
    assert first == last == (1767261600, "2026-01-01T10:00:00Z")


def test_costs_past_128_bits(tally: Callable[..., Any]) -> None:
    """Rates as large as a price may be and still reach the compiled sums (2**62 a token):
    the costs of a run spill into Python ints rather than overflow."""
    widest = 1 << 62
    big = 10**15 - 1
    line = f"2026-01-01T10:00:00Z,m,{big},{big},true,plan,1,\n"
    price = (-widest, widest, widest, widest, widest, widest, widest, widest)
    _, cells, _, _, _ = tally(line * 20_000, False, False, _never, {"m": price}, _never)
    assert cells["m", "plan", "true"][5] == 20_000 * (widest * big * 2 + widest)


def test_a_run_no_canonical_line_could_be_is_left_to_the_reference(
    monkeypatch: pytest.MonkeyPatch, tally: Callable[..., Any]
) -> None:
    """A run given through the library with a lone surrogate (no file's line holds one)."""
    run = "2024-01-01T00:00:00Z,m,1,2,true,plan,3,note\udcff\n"
    assert tally(run, False, False, _never, None, _never) is None
    compiled, reference = _both(
        monkeypatch, lambda: build_report([run], ReportOptions(costs=False))
    )
    assert compiled == reference and compiled.rows_read == 1


def test_what_a_callback_raises_comes_through(tally: Callable[..., Any]) -> None:
    run = "2026-01-01T10:00:00Z,m,1,2,true,plan,3,,codex,s:1,,\n"
    with pytest.raises(AssertionError, match="called back"):
        tally(run, True, False, _never, None, _never)
    plain = "2026-01-01T10:00:00Z,m,1,2,true,plan,3,\n"
    with pytest.raises(AssertionError, match="called back"):
        tally(plain, False, False, _never, {}, _never)  # a model `prices` does not know


def test_runs_are_what_the_fast_path_yields(tmp_path: Path) -> None:
    """The compiled pass reads `reading`'s runs: plain str for 8 columns, ExtendedRun else."""
    path = tmp_path / "usage.csv"
    path.write_text(HEADER_LINE + "\n2026-01-01T10:00:00Z,m,1,2,true,plan,3,\n")
    (item,) = scan_items(path, SCHEMA)
    assert type(item) is str
    path.write_text(EXTENDED_HEADER_LINE + "\n2026-01-01T10:00:00Z,m,1,2,true,plan,3,,,,,\n")
    (item,) = scan_items(path, SCHEMA)
    assert type(item) is ExtendedRun


@pytest.fixture
def extended() -> Any:
    module = compiled.load("telemetry_csv.logfile._extended")
    if module is None:
        pytest.skip("the compiled loops are not built here")
    return module


# Notes whose characters make the run's str store 1, 2 or 4 bytes a character.
WIDE_NOTES = ("café, crème", "日本語", 'emoji 🚀, "quoted"')


@st.composite
def extended_runs(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 30))):
        row = draw(rows(True))
        past = row.prompt_tokens + draw(st.integers(1, 9))
        if draw(st.booleans()) and past < 10**15:  # cache parts past the prompt tokens
            row = row._replace(cache_read_tokens=past)
        if draw(st.booleans()):
            row = row._replace(notes=draw(st.sampled_from(WIDE_NOTES)))
        lines.append(SCHEMA.format_line(row, extended=True) + "\n")
    return "".join(lines)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(run=extended_runs(), before=st.sampled_from(("", "x\n", "日\n", "🚀\n")))
def test_the_compiled_extended_loops_find_what_the_reference_finds(
    extended: Any, run: str, before: str
) -> None:
    text = before + run + "tail"
    start, end = len(before), len(before) + len(run)
    assert extended.excess(text, start, end) == fastpath._cache_excess_lines(text, start, end)[0]
    reference = [
        (source, source_id, line)
        for line in run[:-1].split("\n")
        for _, source, source_id, _, _ in (line.rsplit(",", 4),)
        if source_id
    ]
    assert extended.ids(run) == reference


@pytest.mark.parametrize(
    "run",
    [
        "2026-01-01T10:00:00Z,m,1,2,true,plan,3,,codex,s:1,,",  # no newline at the end
        "2026-01-01T10:00:00Z,m\n",  # no prompt tokens
        "2026-01-01T10:00:00Z,m,x,2,true,plan,3,,codex,s:1,5,\n",
        "2026-01-01T10:00:00Z,m,1,2,true,plan,3,,codex,s:1,1.5,\n",
        "2026-01-01T10:00:00Z,m,1,2,true,plan,3,,codex,s:1,1234567890123456,\n",
    ],
)
def test_a_run_of_another_shape_is_left_to_the_reference(extended: Any, run: str) -> None:
    assert extended.excess(run, 0, len(run)) is None
    if run.count(",") < 11 or not run.endswith("\n"):
        assert extended.ids(run) is None


def test_check_says_the_same_both_ways(tmp_path: Path) -> None:
    """`check` in real processes, compiled and not, on a log with cache parts past the
    prompt tokens and ids repeated with other numbers: the same problems, the same summary."""
    rows_written = []
    for number in range(3000):
        prompt = 100 + number
        rows_written.append(
            Row(
                f"2026-01-{1 + number % 28:02}T{number % 24:02}:00:00+05:30",
                "claude-sonnet-4-20250514",
                prompt,
                7,
                True,
                "plan",
                1000,
                WIDE_NOTES[number % 3],
                "codex",
                f"s{number % 1000}:r",  # each id three times
                prompt + 1 if number % 700 == 0 else 3,
                None,
            )
        )
    path = tmp_path / "usage.csv"
    path.write_text(
        EXTENDED_HEADER_LINE
        + "\n"
        + "".join(SCHEMA.format_line(row, extended=True) + "\n" for row in rows_written),
        encoding="utf-8",
    )
    outputs = []
    for pure in ("", "1"):
        env = {**os.environ, PURE_PYTHON: pure}
        command = [sys.executable, "-m", "telemetry_csv", "check", str(path)]
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
        outputs.append((done.returncode, done.stdout, done.stderr))
    assert outputs[0] == outputs[1]
    returncode, stdout, stderr = outputs[0]
    assert returncode != 0 and "cache_read_tokens" in stdout + stderr
    assert "counted once" in stdout  # ids repeated with other numbers


def test_source_ids_read_through_the_compiled_loop(tmp_path: Path) -> None:
    """The conflict finder reads a run's ids through `_lines_with_ids`: the same either way."""
    run = "".join(
        f"2026-01-01T10:00:00Z,m,{n},2,true,plan,3,,codex,s{n % 3}:1,,\n" for n in range(9)
    )
    assert list(source_ids._lines_with_ids(ExtendedRun(run))) == [
        ("codex", f"s{n % 3}:1", line) for n, line in enumerate(run[:-1].split("\n"))
    ]


@pytest.fixture
def screen(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv(PURE_PYTHON, raising=False)
    module = compiled.load("telemetry_csv._secrets_screen")
    if module is None:
        pytest.skip("the compiled screen is not built here")
    return module


def _screened_both_ways(monkeypatch: pytest.MonkeyPatch, block: bytes) -> tuple[set[int], set[int]]:
    monkeypatch.delenv(PURE_PYTHON, raising=False)
    found = secrets_scan.screen_lines(block)
    monkeypatch.setenv(PURE_PYTHON, "1")
    return found, secrets_scan.screen_lines(block)


# Pieces of lines: token characters around the run's length, every literal and its first bytes,
# line breaks, UTF-8 and bytes that are no UTF-8.
SCREEN_PIECES = (
    *(literal[:cut] for literal in secrets_scan.SCREEN_LITERALS for cut in (1, 2, None)),
    *(b"a" * n for n in (1, 7, 15, 16, 17)),
    b"Zz09_+/=",
    b" ",
    b"-",
    b",",
    b"\n",
    "é日🚀".encode(),
    b"\xff\x00",
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pieces=st.lists(st.sampled_from(SCREEN_PIECES), max_size=40))
def test_the_compiled_screen_flags_what_the_reference_flags(
    monkeypatch: pytest.MonkeyPatch, screen: Any, pieces: list[bytes]
) -> None:
    found, reference = _screened_both_ways(monkeypatch, b"".join(pieces))
    assert found == reference


@pytest.mark.parametrize("shape", ["legacy", "extended"])
def test_the_compiled_screen_on_realistic_logs(
    monkeypatch: pytest.MonkeyPatch, screen: Any, tmp_path: Path, shape: str
) -> None:
    path = tmp_path / "usage.csv"
    realistic().write_realistic_log(path, 1 << 20, shape=shape)
    found, reference = _screened_both_ways(monkeypatch, path.read_bytes())
    assert found == reference and found  # importer ids and keys in notes: some lines flagged


def test_the_compiled_screen_refuses_what_it_cannot_screen(screen: Any) -> None:
    tokens = secrets_scan.TOKEN_CHARACTERS.encode()
    with pytest.raises(ValueError, match="line break"):
        screen.lines(b"x", tokens, 16, (b"a\nb",))
    with pytest.raises(ValueError, match="line break"):
        screen.lines(b"x", tokens + b"\n", 16, ())
    with pytest.raises(ValueError, match="at least 1"):
        screen.lines(b"x", tokens, 0, ())
    with pytest.raises(TypeError):
        screen.lines("x", tokens, 16, ())
