"""Properties: an import cut anywhere gives the same rows; intervals and instants agree with
their plain definitions."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telemetry_csv import importing
from telemetry_csv.importing import instants, slicing
from testing.agentfixtures import NOW, Layout, instant

LAG = slicing.LAG_MS / 1000

# Files written in time order, as agents write them (each record no earlier than its time).
SCENARIOS = [
    ("claude-code", "basic", "11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa.jsonl"),
    ("claude-code", "errors", "44444444-cccc-4ccc-8ccc-cccccccccccc.jsonl"),
    ("claude-code", "sidechain", "agent-a1b2c3.jsonl"),
    ("codex", "basic", "rollout-2026-03-11T10-00-00-0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b.jsonl"),
    ("codex", "fork", "rollout-2026-03-11T11-00-00-0195a1b2-d000-7000-8000-00000000f0b1.jsonl"),
    ("gemini", "basic", "session-2026-03-11T10-00-3c4d5e6f.jsonl"),
]


def _times(data: bytes) -> list[tuple[int, float | None]]:
    """(end offset, Unix seconds) of each line; None for a line without a time."""
    result = []
    position = 0
    for line in data.split(b"\n")[:-1]:
        position += len(line) + 1
        stamp = json.loads(line).get("timestamp") if line.strip() else None
        ms = instants.parse(stamp)
        result.append((position, None if ms is None else ms / 1000))
    return result


def _one_import(source: str, layout: Layout) -> list[tuple[object, ...]]:
    result = importing.collect(source, root=layout.root, now=NOW, environ=layout.environ)
    return [piece.fields() for piece in result.slices]


@pytest.mark.parametrize(("source", "scenario", "name"), SCENARIOS)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_an_import_cut_at_any_byte_gives_the_same_rows(
    source: str, scenario: str, name: str, data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        layout = Layout(Path(folder))
        layout.install(source, scenario)
        (path,) = [p for p in layout.files(source) if p.name == name]
        whole = path.read_bytes()
        expected = _one_import(source, layout)
        cut = data.draw(st.integers(0, len(whole)), label="cut")
        written = [t for end, t in _times(whole) if end <= cut and t is not None]
        unwritten = [t for end, t in _times(whole) if end > cut and t is not None]
        earliest = max(written, default=instant("2026-03-11T09:00:00Z"))
        latest = min(min(unwritten, default=NOW) + LAG, NOW)
        moment = data.draw(st.floats(earliest, max(earliest, latest)), label="first import")
        path.write_bytes(whole[:cut])
        state = importing.StateFile(Path(folder) / "state.json", "t")
        first = importing.collect(
            source, root=layout.root, now=moment, environ=layout.environ, state=state
        )
        first.save_state()
        path.write_bytes(whole)
        second = importing.collect(
            source, root=layout.root, now=NOW, environ=layout.environ, state=state
        )
        got = [piece.fields() for piece in first.slices + second.slices]
        assert sorted(got, key=repr) == sorted(expected, key=repr)


@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 500)), min_size=1, max_size=40))
def test_intervals_add_up_to_their_union(spans: list[tuple[int, int]]) -> None:
    accumulator = slicing.Accumulator()
    covered: set[int] = set()
    for start, length in spans:
        accumulator.activity("s", None, "m", start, start + length)
        covered.update(range(start, start + length))
    merged = accumulator.intervals[("s", None, "m", 0)]
    assert sum(end - start for start, end in merged) == len(covered)
    assert all(a[1] < b[0] for a, b in pairwise(merged))


@given(
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)),
    st.sampled_from(["Z", "+00:00", "+05:45", "-03:30", "+14:00"]),
    st.sampled_from([0, 1, 3, 6]),
)
def test_instants_agree_with_datetime(moment: datetime, zone: str, digits: int) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{moment.microsecond:06d}"[:digits]
    offset = (
        timedelta(0) if zone == "Z" else datetime.strptime(zone[1:], "%H:%M") - datetime(1900, 1, 1)
    )
    sign = -1 if zone.startswith("-") else 1
    exact = moment.replace(tzinfo=UTC) - sign * offset
    truncated = (
        int(f"{moment.microsecond:06d}"[:digits] or 0)
        * 10 ** (3 - min(digits, 3))
        // (10 ** max(digits - 3, 0))
    )
    expected = int(exact.replace(microsecond=0).timestamp()) * 1000 + truncated
    assert instants.parse(text + zone) == expected
