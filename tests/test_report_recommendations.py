"""Which model for which task: Wilson intervals against published values, the ranking, when a
model is the pick and when there is not enough data, the section in every format, and
`telemetry_csv.recommend` from Python on a real repository."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

import telemetry_csv
from telemetry_csv.errors import InvalidValueError
from telemetry_csv.logfile.schema import Row, Schema
from telemetry_csv.report.aggregate import ReportOptions, build_report
from telemetry_csv.report.recommendations import (
    MIN_RUNS,
    NO_SUCCESS,
    OFF,
    PRICED,
    UNPRICED,
    Recommendation,
    recommendations_for,
    wilson_interval,
)
from testing.util import HEADER, run_cli


@pytest.mark.parametrize(
    ("successes", "runs", "low", "high"),
    [
        (8, 10, 0.4902, 0.9433),
        (0, 10, 0.0, 0.2775),  # z^2 / (n + z^2)
        (10, 10, 0.7225, 1.0),  # n / (n + z^2)
        (2, 2, 0.3424, 1.0),
        (95, 100, 0.88825, 0.97846),
        (1, 2, 0.0945, 0.9055),
        (500, 1000, 0.4691, 0.5309),
    ],
)
def test_wilson_interval(successes: int, runs: int, low: float, high: float) -> None:
    found = wilson_interval(successes, runs)
    assert found == pytest.approx((low, high), abs=5e-5)
    assert 0 <= found[0] <= successes / runs <= found[1] <= 1


def task_rows(
    model: str, successes: int, failures: int, kind: str = "plan", day: int = 1
) -> list[Row]:
    """Runs of 10,000 prompt and 1,000 completion tokens, successes first, a minute apart."""
    return [
        Row(
            f"2026-03-{day:02d}T{index // 60:02d}:{index % 60:02d}:00Z",
            model,
            10_000,
            1_000,
            index < successes,
            kind,
            1000 * (index + 1),
        )
        for index in range(successes + failures)
    ]


def recommendation(*groups: list[Row], costs: bool = True) -> Recommendation:
    report = build_report([row for group in groups for row in group], ReportOptions(costs=costs))
    (found,) = recommendations_for(report)
    return found


def test_an_interval_above_the_others_is_the_pick() -> None:
    found = recommendation(task_rows("openai/gpt-4o", 45, 5), task_rows("claude-3-opus", 20, 30))
    assert found.pick == "openai/gpt-4o"
    assert found.reason == "its success interval is above every other compared model's"
    assert [c.model for c in found.candidates] == ["openai/gpt-4o", "claude-3-opus"]


def test_a_tie_on_success_goes_to_the_lower_cost_per_success() -> None:
    found = recommendation(
        task_rows("openai/gpt-4o", 45, 5), task_rows("openai/gpt-4o-mini", 44, 6)
    )
    # gpt-4o ranks first (its interval's lower end is higher), but the intervals overlap and
    # gpt-4o-mini costs a fraction as much per success.
    assert [c.model for c in found.candidates] == ["openai/gpt-4o", "openai/gpt-4o-mini"]
    assert found.pick == "openai/gpt-4o-mini"
    assert found.reason == "it ties with openai/gpt-4o on success and costs less per success"
    big, mini = found.candidates
    assert big.cost_status == mini.cost_status == PRICED
    assert mini.cost_per_success is not None and big.cost_per_success is not None
    assert mini.cost_per_success < big.cost_per_success


def test_above_some_and_cheaper_than_the_rest() -> None:
    found = recommendation(
        task_rows("openai/gpt-4o-mini", 48, 2),
        task_rows("claude-3-opus", 20, 30),
        task_rows("openai/gpt-4o", 46, 4),
    )
    assert found.pick == "openai/gpt-4o-mini"
    assert found.reason == (
        "its success interval is above those of claude-3-opus; it ties with openai/gpt-4o "
        "on success and costs less per success"
    )


@pytest.mark.parametrize(
    ("groups", "costs", "reason"),
    [
        (
            [task_rows("openai/gpt-4o", 15, 4), task_rows("claude-3-opus", 10, 2)],
            True,
            f"not enough data yet: no model has {MIN_RUNS} runs of plan",
        ),
        (
            [task_rows("openai/gpt-4o", 20, 10), task_rows("claude-3-opus", 5, 0)],
            True,
            "not enough data yet: only openai/gpt-4o has 20 or more runs of plan; another model "
            "needs 20 to compare with",
        ),
        (
            [task_rows("openai/gpt-4o", 45, 5), task_rows("openai/gpt-4o-mini", 44, 6)],
            False,
            "not enough data yet: openai/gpt-4o and openai/gpt-4o-mini tie on success (their "
            "intervals overlap), and costs are not estimated to settle it",
        ),
        (
            [task_rows("my-local-model", 45, 5), task_rows("openai/gpt-4o", 44, 6)],
            True,
            "not enough data yet: my-local-model and openai/gpt-4o tie on success (their "
            "intervals overlap), and the cost per success of my-local-model is unknown",
        ),
        (
            [task_rows("openai/gpt-4o", 30, 0), task_rows("gpt-4o", 30, 0)],  # one price
            True,
            "not enough data yet: gpt-4o and openai/gpt-4o tie on success (their intervals "
            "overlap), and openai/gpt-4o costs no more per success",
        ),
    ],
    ids=["too few runs", "one compared", "costs off", "unpriced", "equal costs"],
)  # fmt: skip
def test_not_enough_data_yet(groups: list[list[Row]], costs: bool, reason: str) -> None:
    found = recommendation(*groups, costs=costs)
    assert found.pick is None
    assert found.reason == reason


def test_candidates_carry_what_an_orchestrator_needs() -> None:
    found = recommendation(
        task_rows("openai/gpt-4o", 45, 5),
        task_rows("my-local-model", 3, 0),
        task_rows("claude-3-opus", 0, 25),
    )
    by_model = {candidate.model: candidate for candidate in found.candidates}
    gpt = by_model["openai/gpt-4o"]
    assert (gpt.runs, gpt.successes, gpt.success_rate, gpt.compared) == (50, 45, 0.9, True)
    assert gpt.interval == wilson_interval(45, 50)
    assert gpt.median_duration_ms == 25_500.0  # durations 1..50 s
    report = build_report(task_rows("openai/gpt-4o", 45, 5), ReportOptions())
    femto = report.totals.cost.femto_usd  # type: ignore[union-attr]
    assert gpt.cost_per_success_femto == (femto * 2 + 45) // 90  # rounded half up
    assert by_model["my-local-model"].cost_status == UNPRICED
    assert not by_model["my-local-model"].compared
    assert by_model["claude-3-opus"].cost_status == NO_SUCCESS
    assert by_model["claude-3-opus"].cost_per_success is None
    # 3 of 3 (few runs) does not outrank 45 of 50: ranked by the interval's lower end.
    assert [c.model for c in found.candidates] == [
        "openai/gpt-4o",
        "my-local-model",
        "claude-3-opus",
    ]
    off = recommendation(task_rows("openai/gpt-4o", 45, 5), costs=False)
    assert off.candidates[0].cost_status == OFF


@pytest.fixture
def log(repo: Path) -> Path:
    """March: gpt-4o 45 of 50 plan runs, claude 20 of 50. April: the other way round."""
    schema = Schema()
    march = task_rows("openai/gpt-4o", 45, 5) + task_rows("claude-3-opus", 20, 30, day=2)
    april = [
        row._replace(timestamp=row.timestamp.replace("2026-03", "2026-04"))
        for row in task_rows("claude-3-opus", 45, 5) + task_rows("openai/gpt-4o", 20, 30, day=2)
    ]
    path = repo / ".telemetry" / "usage.csv"
    path.parent.mkdir()
    lines = [schema.format_line(row) + "\n" for row in march + april]
    path.write_text(HEADER + "".join(lines))
    return path


def test_recommend_from_python_with_a_time_window(log: Path, repo: Path) -> None:
    assert telemetry_csv.recommend is telemetry_csv.report.recommend
    march = telemetry_csv.recommend("plan", until="2026-03-31", start=repo)
    assert march.pick == "openai/gpt-4o"
    april = telemetry_csv.recommend("plan", since=date(2026, 4, 1), start=repo)
    assert april.pick == "claude-3-opus"
    both = telemetry_csv.recommend("plan", start=repo, costs=False)
    assert both.pick is None and [c.runs for c in both.candidates] == [100, 100]
    exact = telemetry_csv.recommend(
        "PLAN", since=datetime.fromisoformat("2026-04-01T00:00:00+00:00"), files=[log]
    )
    assert exact.pick == "claude-3-opus" and exact.task_type == "plan"
    none = telemetry_csv.recommend("verify", start=repo)
    assert (none.pick, none.candidates) == (None, ())
    assert none.reason == "not enough data yet: no runs of verify"


def test_recommend_refuses_what_it_cannot_answer(log: Path, repo: Path) -> None:
    with pytest.raises(InvalidValueError, match="--task-type: 'review' is not allowed"):
        telemetry_csv.recommend("review", start=repo)
    with pytest.raises(ValueError, match="needs a time zone"):
        telemetry_csv.recommend("plan", since=datetime(2026, 4, 1), start=repo)


def test_the_section_in_markdown_json_and_html(log: Path, repo: Path) -> None:
    markdown = run_cli("report", "--recommend", "--until", "2026-03-31", cwd=repo)
    assert markdown.returncode == 0, markdown.stderr
    assert "### Which model for which task" in markdown.stdout
    assert "#### `plan`\n\n**Pick: `openai/gpt-4o`**: its success interval is above every" in (
        markdown.stdout
    )
    document = json.loads(
        run_cli(
            "report", "--recommend", "--format", "json", "--until", "2026-03-31", cwd=repo
        ).stdout
    )
    (plan,) = document["recommendations"]
    assert (plan["task_type"], plan["pick"], plan["min_runs"]) == ("plan", "openai/gpt-4o", 20)
    assert [m["model"] for m in plan["models"]] == ["openai/gpt-4o", "claude-3-opus"]
    assert plan["models"][0]["interval"] == [round(b, 6) for b in wilson_interval(45, 50)]
    assert "recommendations" not in json.loads(
        run_cli("report", "--format", "json", cwd=repo).stdout
    )
    html = run_cli("report", "--format", "html", cwd=repo).stdout
    assert '<section id="models"><h2>Which model for which task</h2>' in html
    assert 'aria-labelledby="pick-0-t"' in html  # the success-against-cost chart
    refused = run_cli("report", "--recommend", "--format", "csv", cwd=repo)
    assert refused.returncode == 2 and "--recommend: the CSV output has no place" in refused.stderr
