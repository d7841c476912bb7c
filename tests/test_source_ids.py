"""Rows that share a source_id are one row: every reader counts the first, check reports two
whose numbers differ (logfile/source_ids.py)."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from otlp_receiver import Receiver, running

from telemetry_csv.logfile import source_ids
from telemetry_csv.logfile.checking import _conflict_problem, check_files
from telemetry_csv.logfile.reading import ExtendedRun
from telemetry_csv.logfile.schema import Row, Schema
from telemetry_csv.logfile.source_ids import SeenIds
from testing.logfiles import commit_all, rows, write_log
from testing.util import BIN, EXTENDED_HEADER, extended, git, git_env, run_cli

SCHEMA = Schema()
LOG = ".telemetry/usage.csv"


def slice_line(hour: str, digest: str, prompt: int = 1000, **changes: str) -> str:
    """An imported slice's line: `hour` is its window (`YYYYMMDDTHH`), `digest` its id's tail."""
    values = {
        "stamp": f"{hour[:4]}-{hour[4:6]}-{hour[6:8]}T{hour[9:11]}:40:00Z",
        "model": "claude-sonnet-4-5",
        "task_type": "execute",
        "duration": "60000",
        "read": "600",
        **changes,
    }
    return (
        f"{values['stamp']},{values['model']},{prompt},20,true,{values['task_type']},"
        f"{values['duration']},,claude-code,{hour}Z-{digest},{values['read']},0\n"
    )


def report(cwd: Path, *args: str) -> dict[str, object]:
    done = run_cli("report", "--format", "json", "--no-costs", *args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    document: dict[str, object] = json.loads(done.stdout)
    return document


# The window.


def test_a_repeated_id_counts_once_and_other_ids_count() -> None:
    seen = SeenIds()
    assert seen.first("claude-code", "20260311T10Z-a")
    assert seen.first("claude-code", "20260311T10Z-b")
    assert seen.first("codex", "20260311T10Z-a")  # another source's id
    assert not seen.first("claude-code", "20260311T10Z-a")
    assert seen.repeats == 1


def test_ids_older_than_the_window_before_the_newest_are_forgotten() -> None:
    seen = SeenIds()
    assert seen.first("codex", "20260101T00Z-old")
    assert seen.first("codex", "20260331T00Z-new")  # 89 days later: the old id is still kept
    assert not seen.first("codex", "20260101T00Z-old")
    assert seen.first("codex", "20260402T00Z-newer")  # 91 days after the old one
    assert seen.first("codex", "20260101T00Z-old")  # beyond the window: counted again
    assert not seen.first("codex", "20260331T00Z-new")


def test_memory_stays_flat_over_years_of_ids() -> None:
    from datetime import UTC, datetime, timedelta

    seen = SeenIds()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    hours = 3 * 365 * 24
    for hour in range(hours):
        stamp = (start + timedelta(hours=hour)).strftime("%Y%m%dT%HZ")
        assert seen.first("claude-code", f"{stamp}-x")
    kept = seen._window._sources["claude-code"]
    assert len(kept.hours) == len(kept.heap) <= source_ids.WINDOW_HOURS + 1
    assert hours > 10 * len(kept.hours)


def test_many_clones_ids_within_the_window_are_packed() -> None:
    """Ids of the same months imported by many clones: the window holds them all, past
    `NAMED_KEPT` as 8-byte numbers, and every one of them is still told apart."""
    seen = SeenIds()
    ids = [
        f"202603{1 + day:02d}T{hour:02d}Z-{(day * 24 + hour) * 1000 + clone:016x}"
        for clone in range(200)
        for day in range(28)
        for hour in range(24)
    ]
    assert len(ids) > 2 * source_ids.NAMED_KEPT
    assert all(seen.first("claude-code", source_id) for source_id in ids)
    kept = seen._window._sources["claude-code"]
    as_text = sum(map(len, kept.hours.values()))
    packed = sum(map(len, kept.packed.values()))
    assert as_text + packed == len(ids)
    assert as_text <= source_ids.NAMED_KEPT < packed
    assert not any(seen.first("claude-code", source_id) for source_id in ids[::7])
    assert seen.first("claude-code", "20260301T00Z-" + "f" * 16)
    assert seen.repeats == len(ids[::7])


hours = st.sampled_from(["20260301T00Z", "20260301T01Z", "20260415T09Z", "20260601T23Z"])
tails = st.one_of(
    st.integers(0, 40).map(lambda number: f"{number:016x}"),  # an importer's: packable
    st.sampled_from(["ABCDEF0123456789", "0000000000000001x", "00000000000000a", "x"]),
)
ids = st.tuples(st.sampled_from(["claude-code", "codex"]), hours, tails).map(
    lambda parts: (parts[0], f"{parts[1]}-{parts[2]}")
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(ids, st.just(("codex", "untimed-id"))), max_size=120))
def test_packing_never_changes_which_ids_count(
    monkeypatch: pytest.MonkeyPatch, sequence: list[tuple[str, str]]
) -> None:
    """Packing after every few ids tells the same rows apart as keeping every id as text
    (a window with values never packs)."""
    monkeypatch.setattr(source_ids, "NAMED_KEPT", 3)
    seen = SeenIds()
    reference = source_ids.IdWindow(values=True)
    for source, source_id in sequence:
        expected = reference.remember(source, source_id, True) is source_ids.NEW
        assert seen.first(source, source_id) is expected, (source, source_id)


def test_ids_without_a_leading_hour_keep_the_newest_ones() -> None:
    seen = SeenIds()
    for number in range(source_ids.UNTIMED_KEPT + 10):
        assert seen.first("other-tool", f"id-{number}")
    assert not seen.first("other-tool", f"id-{source_ids.UNTIMED_KEPT + 9}")
    assert seen.first("other-tool", "id-0")  # the oldest were let go


def test_a_run_loses_exactly_its_repeated_lines() -> None:
    lines = [
        slice_line("20260311T10", "a"),
        extended(rows(1)),
        slice_line("20260311T11", "b"),
        slice_line("20260311T10", "a", task_type="plan"),  # the same slice, another task type
        slice_line("20260311T11", "c"),
    ]
    seen = SeenIds()
    kept = seen.run_without_repeats(ExtendedRun("".join(lines)))
    assert type(kept) is ExtendedRun
    assert kept == "".join(lines[:3] + lines[4:])
    assert seen.run_without_repeats(ExtendedRun(lines[1])) == lines[1]


# Readers.


def test_report_counts_a_repeated_id_once_across_files(repo: Path, log: Path) -> None:
    backup = log.with_name("usage-20260310T000000Z.csv")
    write_log(backup, slice_line("20260311T09", "a") + slice_line("20260311T10", "b"),
              header=EXTENDED_HEADER)  # fmt: skip
    # Two clones imported the same slices with different task types, then were merged.
    write_log(
        log,
        slice_line("20260311T10", "b", task_type="plan")
        + extended(rows(1))
        + slice_line("20260311T09", "a")
        + slice_line("20260311T11", "c"),
        header=EXTENDED_HEADER,
    )
    document = report(repo)
    assert document["rows"] == 4
    totals = document["totals"]
    assert isinstance(totals, dict)
    assert totals["prompt_tokens"] == 3 * 1000 + 1500
    assert totals["cache_read_tokens"] == 3 * 600
    assert [group["task_type"] for group in document["by_task_type"]] == ["execute"]  # type: ignore[index, union-attr]
    assert run_cli("check", cwd=repo).returncode == 0


def test_check_packs_many_clones_ids_and_still_compares_their_numbers() -> None:
    """`check`'s window past `NAMED_KEPT`: an importer's id keeps the digest of its numbers
    (16 bytes instead of its line), a repeat with the same numbers is no conflict, and one with
    other numbers is, its first row to be found again (`resolve`)."""
    finder = source_ids.ConflictFinder()
    numbers = source_ids.Numbers("claude-sonnet-4-5", "1000", "20", "600", "0")
    ids = [
        f"202603{1 + day:02d}T{hour:02d}Z-{(day * 24 + hour) * 1000 + clone:016x}"
        for clone in range(200)
        for day in range(28)
        for hour in range(24)
    ]
    for source_id in ids:
        finder.add("claude-code", source_id, numbers, "usage.csv")
    kept = finder._window._sources["claude-code"]
    as_text = sum(map(len, kept.hours.values()))
    packed = sum(map(len, kept.packed.values()))
    assert as_text + packed == len(ids) and as_text <= source_ids.NAMED_KEPT < packed
    assert sum(map(len, kept.digests.values())) == packed
    for source_id in ids[::7]:
        finder.add("claude-code", source_id, numbers, "again.csv")
    assert finder.conflicts == [] and finder.unresolved == []
    other = numbers._replace(prompt_tokens="1200")
    finder.add("claude-code", ids[0], other, "again.csv")  # packed: its first row is not kept
    finder.add("claude-code", ids[-1], other, "again.csv")  # the newest: still kept as text
    assert [conflict.first for conflict in finder.conflicts] == [None, numbers]
    assert len(finder.unresolved) == 1
    finder.resolve(lambda wanted: [("usage.csv", _row_of(ids[0], numbers))])
    assert finder.unresolved == []
    assert [(c.first, c.first_path) for c in finder.conflicts] == [(numbers, "usage.csv")] * 2


def _row_of(source_id: str, numbers: source_ids.Numbers) -> Row:
    return Row(
        "2026-03-01T00:40:00Z", numbers.model, int(numbers.prompt_tokens),
        int(numbers.completion_tokens), True, "execute", 60000, "", "claude-code", source_id,
        int(numbers.cache_read_tokens), int(numbers.cache_write_tokens),
    )  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(
        st.tuples(
            st.integers(0, 2),  # the file
            st.sampled_from(["20260311T10", "20260311T11", "20260312T00"]),
            st.integers(0, 5),  # the id's tail
            st.sampled_from([1000, 1200]),  # prompt tokens: the same or other numbers
            st.booleans(),  # a quoted note: the line is read field by field
        ),
        min_size=1,
        max_size=40,
    )
)
def test_check_with_packed_ids_reports_what_it_reports_without(
    lines: list[tuple[int, str, int, int, bool]],
) -> None:
    """With ids packed after every few (`NAMED_KEPT` = 3), `check` of files holding repeated
    ids with the same and with other numbers reports exactly the problems it reports when
    every id stays as text: the same lines, the same first lines and files, the same numbers."""
    with tempfile.TemporaryDirectory() as folder:
        bodies = ["", "", ""]
        for file, hour, tail, prompt, quoted in lines:
            line = slice_line(hour, f"{tail:016x}", prompt=prompt)
            if quoted:
                line = line.replace(",,claude-code", ',"a, b",claude-code')
            bodies[file] += line
        paths = [
            write_log(Path(folder) / name, body, header=EXTENDED_HEADER)
            for name, body in zip(
                ("usage-20260101T000000Z.csv", "usage-2.csv", "usage.csv"), bodies, strict=True
            )
        ]
        expected = check_files(paths, SCHEMA).problems
        limit = source_ids.NAMED_KEPT
        source_ids.NAMED_KEPT = 3
        try:
            found = check_files(paths, SCHEMA).problems
        finally:
            source_ids.NAMED_KEPT = limit
    assert found == expected


def test_a_conflict_whose_packed_first_row_is_gone_says_so() -> None:
    finder = source_ids.ConflictFinder()
    numbers = source_ids.Numbers("m", "1", "2", "", "")
    finder._compare("codex", "20260301T00Z-" + "0" * 16, source_ids.Packed(0), numbers, "a.csv")
    finder.resolve(lambda wanted: [])
    [conflict] = finder.conflicts
    problem = _conflict_problem(conflict, {"a.csv": "a.csv"}, SCHEMA)
    assert problem.message.startswith(
        "codex 20260301T00Z-0000000000000000 is also on an earlier line with other numbers "
        "(that line could not be read again to show them); rows with one source_id"
    )


def test_check_reports_one_id_with_other_numbers_on_both_lines(repo: Path, log: Path) -> None:
    write_log(
        log,
        slice_line("20260311T10", "a")
        + slice_line("20260311T10", "a", duration="1000")  # a setting, not a number of the slice
        + extended(rows(1))
        + slice_line("20260311T10", "a", prompt=1200),
        header=EXTENDED_HEADER,
    )
    done = run_cli("check", cwd=repo)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == (
        ".telemetry/usage.csv:5: source_id: claude-code 20260311T10Z-a is also on line 2 with "
        "other numbers (prompt_tokens 1200 here, 1000 there); rows with one source_id are the "
        "same usage and are counted once, so one of them is wrong"
    )
    assert done.stdout.splitlines()[-1].endswith("1 problem(s)")


def test_check_names_the_other_file_of_a_conflict(tmp_path: Path) -> None:
    first = write_log(
        tmp_path / "usage-20260310T000000Z.csv",
        slice_line("20260311T10", "a"),
        header=EXTENDED_HEADER,
    )
    second = write_log(
        tmp_path / "usage.csv",
        extended(rows(1)) + slice_line("20260311T10", "a", read="500"),
        header=EXTENDED_HEADER,
    )
    result = check_files([first, second], SCHEMA)
    [problem] = result.problems
    assert (problem.path, problem.line, problem.field) == (str(second), 3, "source_id")
    assert f"also on line 2 of {first} with other numbers (cache_read_tokens 500 here, 600 " in (
        problem.message
    )


def test_range_leaves_out_ids_its_base_already_has(repo: Path, log: Path) -> None:
    write_log(log, slice_line("20260311T10", "a"), header=EXTENDED_HEADER)
    commit_all(repo, "base")
    write_log(
        log,
        slice_line("20260311T10", "a")
        + slice_line("20260311T10", "a", task_type="plan")  # merged in from another clone
        + slice_line("20260311T11", "b"),
        header=EXTENDED_HEADER,
    )
    commit_all(repo, "more")
    document = report(repo, "--range", "HEAD~1..HEAD")
    assert document["rows"] == 1


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running() as found:
        yield found


def test_export_sends_one_span_and_one_measurement_per_id(
    repo: Path, log: Path, receiver: Receiver
) -> None:
    write_log(log.with_name("usage-20260310T000000Z.csv"), slice_line("20260311T10", "a"),
              header=EXTENDED_HEADER)  # fmt: skip
    write_log(
        log,
        slice_line("20260311T10", "a", task_type="plan") + slice_line("20260311T11", "b"),
        header=EXTENDED_HEADER,
    )
    env = {name: value for name, value in git_env().items() if not name.startswith("OTEL_")}
    done = subprocess.run(
        [str(BIN / "telemetry-csv"), "export", "otlp", "--endpoint", receiver.url, "--metrics"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "exported 2 rows" in done.stdout
    assert "1 repeating a source_id, counted once" in done.stdout
    spans = receiver.spans()
    assert len(spans) == 2 and len({span.span_id for span in spans}) == 2
    [request] = receiver.metric_requests()
    tokens = next(
        metric
        for metric in request.resource_metrics[0].scope_metrics[0].metrics
        if metric.name == "gen_ai.client.token.usage"
    )
    assert sum(point.count for point in tokens.histogram.data_points) == 2 * 2  # in, out


def test_a_row_without_an_id_always_counts() -> None:
    seen = SeenIds()
    row = Row("2026-03-11T10:00:00Z", "m", 1, 1, True, "plan", 1)
    assert seen.counts(row) and seen.counts(row)
    assert seen.repeats == 0
    assert git  # the module's helpers are shared with the clone tests


@pytest.mark.parametrize("slow_first", [True, False], ids=["row first", "run first"])
def test_check_compares_a_line_of_a_run_with_a_row_of_the_same_id(
    tmp_path: Path, slow_first: bool
) -> None:
    """One id on a line the block path reads and on a line only the field-by-field reading
    takes (a model such as `'q`): the numbers of both are compared, whichever comes first, and
    a model stored neutralised (`'@cf/…`) is compared and shown as given."""
    fast = slice_line("20260311T10", "a", model="'@cf/meta/llama")
    slow = slice_line("20260311T10", "a", model="'q")
    path = write_log(
        tmp_path / "usage.csv",
        extended(rows(*range(1, 301))) + (slow + fast if slow_first else fast + slow),
        header=EXTENDED_HEADER,
    )
    [problem] = check_files([path], SCHEMA).problems
    here, there = ("@cf/meta/llama", "'q") if slow_first else ("'q", "@cf/meta/llama")
    assert (problem.line, problem.field) == (303, "source_id")
    assert f"with other numbers (model {here} here, {there} there)" in problem.message
    same = slice_line("20260311T10", "a", model="'@cf/meta/llama", duration="5")
    again = write_log(
        tmp_path / "again.csv", extended(rows(*range(1, 301))) + fast + same, header=EXTENDED_HEADER
    )
    assert check_files([again], SCHEMA).ok


@pytest.mark.parametrize("hours", [source_ids.WINDOW_HOURS, 24, 0, 5, 49])
@pytest.mark.parametrize(
    "hour",
    ["20260311T10Z", "20260301T00Z", "20240229T23Z", "20250229T05Z", "20260311T24Z",
     "20260311T99Z", "00010101T00Z", "00010401T07Z", "00010331T23Z", "99991231T23Z",
     "20261301T00Z", "20260100T00Z"],
)  # fmt: skip
def test_the_hours_before_an_hour_are_those_of_the_calendar(hour: str, hours: int) -> None:
    """The window's edge, remembered per date for whole days: the same hour as reckoned from
    the calendar, and "" for an hour that does not exist or an edge before year 1."""
    expected = source_ids._compute_hours_before(hour, hours)
    if expected:
        stamp = f"{hour[:4]}-{hour[4:6]}-{hour[6:8]}T{hour[9:11]}:00:00"
        edge = datetime.fromisoformat(stamp) - timedelta(hours=hours)
        assert expected == f"{edge.year:04d}{edge:%m%dT%H}Z"
    assert source_ids._hours_before(hour, hours) == expected
    assert source_ids._hours_before(hour, hours) == expected  # remembered
