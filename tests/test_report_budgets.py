"""Budgets: how limits are written (flags and configuration), how a report is held to them
(hand-computed boundaries on the fixture rows), and what `report` does when one breaks."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from telemetry_csv.config import load_settings
from telemetry_csv.errors import EXIT_BUDGET, ConfigError, InvalidValueError
from telemetry_csv.limits import Budget, Scope, budget_from_option, combine_budgets
from telemetry_csv.report.aggregate import ReportOptions, build_report
from telemetry_csv.report.budgets import BROKEN, HOLDS, NO_RUNS, broken_line, check_budgets
from telemetry_csv.report.data import Report
from testing.report_fixtures import LINES, rows
from testing.util import HEADER, git, row_line, run_cli

# The fixture rows (report_fixtures): 5 runs, 3 successes, 6,750 tokens; durations 10..50 s,
# p95 48 s; claude-3-opus 3 runs (2 successes, 5,050 tokens, p95 48 s); openai/gpt-4o 2 runs
# (1 success, 1,700 tokens, p95 39 s); plan: 2 runs (1 success, durations 10 s and 50 s).


@pytest.mark.parametrize(
    ("metric", "text", "limit", "scope"),
    [
        ("max_tokens", "2000000", 2_000_000, None),
        ("max_tokens", "2_000_000", 2_000_000, None),
        ("max_tokens", "2,000,000", 2_000_000, None),
        ("max_tokens", "1.5M", 1_500_000, None),
        ("max_tokens", "500k", 500_000, None),
        ("max_tokens", "0", 0, None),
        ("max_cost", "5", 5 * 10**15, None),
        ("max_cost", "$2.50", 25 * 10**14, None),
        ("max_cost", "0.000001", 10**9, None),
        ("max_cost", "model=gpt-4o:2", 2 * 10**15, Scope("model", "gpt-4o")),
        ("max_cost", "model=ollama/llama3:8b:2", 2 * 10**15, Scope("model", "ollama/llama3:8b")),
        ("max_cost", "model=a=b:1", 10**15, Scope("model", "a=b")),
        ("min_success_rate", "80%", Fraction(4, 5), None),
        ("min_success_rate", "0.8", Fraction(4, 5), None),
        ("min_success_rate", "87.5%", Fraction(7, 8), None),
        ("min_success_rate", "1", Fraction(1), None),
        ("min_success_rate", "task_type=verify:90%", Fraction(9, 10), Scope("task_type", "verify")),
        ("min_success_rate", "task-type=verify:0.9", Fraction(9, 10), Scope("task_type", "verify")),
        ("max_p95", "90s", 90_000, None),
        ("max_p95", "1m30s", 90_000, None),
        ("max_p95", "1.5s", 1500, None),
        ("max_p95", "model=claude:2m", 120_000, Scope("model", "claude")),
    ],
)
def test_limits_as_flags(metric: str, text: str, limit: object, scope: Scope | None) -> None:
    budget = budget_from_option(metric, text)
    assert (budget.limit, budget.scope) == (limit, scope)
    assert budget.source == f"--{metric.replace('_', '-')} {text}"


@pytest.mark.parametrize(
    ("metric", "text"),
    [
        ("max_tokens", "-1"),
        ("max_tokens", "1.5"),
        ("max_tokens", "lots"),
        ("max_cost", "-5"),
        ("max_cost", "5 dollars"),
        ("max_cost", "0.0000000000000001"),  # finer than a femto-dollar
        ("max_cost", "gpt-4o:2"),  # the scope needs model=
        ("max_cost", "provider=openai:2"),
        ("max_cost", "model=:2"),
        ("max_cost", "model=gpt-4o"),
        ("min_success_rate", "120%"),
        ("min_success_rate", "1.5"),
        ("min_success_rate", "eighty"),
        ("max_p95", "90"),  # a bare number's unit would be a guess
        ("max_p95", "-1s"),
    ],
)
def test_bad_flags_are_one_line_errors(metric: str, text: str) -> None:
    with pytest.raises(InvalidValueError) as raised:
        budget_from_option(metric, text)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"--{metric.replace('_', '-')}: {text!r} is not allowed; expected")


def test_a_flag_replaces_the_configured_budget_of_the_same_metric_and_scope() -> None:
    configured = (
        Budget("max_cost", 5, None, "pyproject.toml: budgets.max_cost"),
        Budget("max_cost", 2, Scope("model", "x"), "pyproject.toml: budgets.model.x.max_cost"),
    )
    flag = budget_from_option("max_cost", "7")
    other = budget_from_option("max_tokens", "9")
    assert combine_budgets(configured, [flag, other]) == (flag, configured[1], other)
    with pytest.raises(Exception, match="set the same budget"):
        combine_budgets((), [flag, budget_from_option("max_cost", "8")])


CONFIG = """\
[tool.telemetry-csv.budgets]
max_cost = 5
max_tokens = "2M"
min_success_rate = "80%"
model."openai/gpt-4o".max_cost = 2.5
task_type.verify.max_p95 = "10m"
"""


def test_the_budgets_table_of_the_configuration(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(CONFIG)
    budgets = load_settings().budgets
    assert [(b.metric, b.limit, b.scope) for b in budgets] == [
        ("max_cost", 5 * 10**15, None),
        ("max_tokens", 2_000_000, None),
        ("min_success_rate", Fraction(4, 5), None),
        ("max_cost", 25 * 10**14, Scope("model", "openai/gpt-4o")),
        ("max_p95", 600_000, Scope("task_type", "verify")),
    ]
    assert budgets[3].source == 'pyproject.toml: budgets.model."openai/gpt-4o".max_cost'
    (repo / "pyproject.toml").unlink()
    (repo / ".telemetry").mkdir()
    (repo / ".telemetry" / "config.toml").write_text("[budgets]\nmax_p95 = '2m'\n")
    assert load_settings().budgets == (
        Budget("max_p95", 120_000, None, "config.toml: budgets.max_p95"),
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            "max_cost = -1",
            "pyproject.toml: budgets.max_cost = -1 is not allowed; expected US dollars",
        ),
        (
            "max_costs = 1",
            "pyproject.toml: budgets.max_costs is not a budget setting; allowed: max_tokens",
        ),
        (
            "max_p95 = 90",
            "pyproject.toml: budgets.max_p95 = 90 is not allowed; expected a duration",
        ),
        ("max_tokens = 1.5", "pyproject.toml: budgets.max_tokens = 1.5 is not allowed"),
        ("min_success_rate = true", "budgets.min_success_rate = True is not allowed"),
        ("min_success_rate = '101%'", "budgets.min_success_rate = '101%' is not allowed"),
        ("model = 5", "pyproject.toml: budgets.model must be a table of names"),
        ("model.x = 5", "pyproject.toml: budgets.model.x must be a table of limits"),
        ("model.x.max_cost = 'a lot'", "budgets.model.x.max_cost = 'a lot' is not allowed"),
        ("model.x.cost = 1", "budgets.model.x.cost is not a budget setting"),
        ("task_type.review.max_cost = 1", "'review' is not a configured task type"),
    ],
)
def test_bad_budgets_in_the_configuration(repo: Path, table: str, message: str) -> None:
    (repo / "pyproject.toml").write_text(f"[tool.telemetry-csv.budgets]\n{table}\n")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert message in str(raised.value) and "\n" not in str(raised.value)
    done = run_cli("report", cwd=repo)
    assert done.returncode == 2 and message in done.stderr and done.stdout == ""


def fixture_report(costs: bool = False, lines: list[str] = LINES) -> Report:
    return build_report(rows(lines), ReportOptions(costs=costs))


@pytest.mark.parametrize(
    ("metric", "text", "status", "actual"),
    [
        ("max_tokens", "6750", HOLDS, "6,750 tokens"),
        ("max_tokens", "6749", BROKEN, "6,750 tokens"),
        ("min_success_rate", "60%", HOLDS, "60.0% (3 of 5)"),
        ("min_success_rate", "0.6000001", BROKEN, "60% (3 of 5)"),  # exact: 60.0% would tie
        ("max_p95", "48s", HOLDS, "48s"),
        ("max_p95", "47.999s", BROKEN, "48,000ms"),  # shown exactly, since 48s would equal it
        ("max_tokens", "model=claude-3-opus:5050", HOLDS, "5,050 tokens"),
        ("max_tokens", "model=openai/gpt-4o:1699", BROKEN, "1,700 tokens"),
        ("min_success_rate", "model=claude-3-opus:66.7%", BROKEN, "66.6667% (2 of 3)"),
        ("min_success_rate", "model=claude-3-opus:66.6%", HOLDS, "66.7% (2 of 3)"),
        ("max_p95", "model=openai/gpt-4o:39s", HOLDS, "39s"),
        ("max_p95", "task_type=plan:47s", BROKEN, "48s"),  # 10 s and 50 s: p95 is 48 s
        ("min_success_rate", "task_type=plan:51%", BROKEN, "50.0% (1 of 2)"),
        ("max_tokens", "model=never-ran:0", NO_RUNS, "no runs"),
        ("min_success_rate", "task_type=quick:100%", NO_RUNS, "no runs"),
    ],
)
def test_budgets_on_the_fixture_rows(metric: str, text: str, status: str, actual: str) -> None:
    (result,) = check_budgets(fixture_report(), [budget_from_option(metric, text)])
    assert (result.status, result.actual) == (status, actual)
    assert result.broken == (status == BROKEN)


def test_cost_budgets_compare_exact_femto_dollars() -> None:
    report = fixture_report(costs=True)
    assert report.totals.cost is not None
    femto = report.totals.cost.femto_usd
    exact = Budget("max_cost", femto, None, "--max-cost")
    below = Budget("max_cost", femto - 1, None, "--max-cost")
    held, broken = check_budgets(report, [exact, below])
    assert (held.status, broken.status) == (HOLDS, BROKEN)
    assert broken.value == held.value == round(femto / 10**15, 6)


def test_unpriced_runs_break_a_cost_budget_unless_allowed() -> None:
    lines = [*LINES, row_line("2026-11-23T11:00:00Z", "my-local-model", "1", "1")]
    report = fixture_report(costs=True, lines=lines)
    budget = budget_from_option("max_cost", "1000")
    (result,) = check_budgets(report, [budget])
    assert result.status == BROKEN and not result.known
    assert "1 run of all rows has no known price" in result.note
    assert broken_line(result).startswith("budget broken: --max-cost 1000: 1 run of all rows")
    (allowed,) = check_budgets(report, [budget], allow_unpriced=True)
    assert allowed.status == HOLDS and allowed.note == "1 unpriced run left out, --allow-unpriced"
    scoped = budget_from_option("max_cost", "model=claude-3-opus:1000")
    assert check_budgets(report, [scoped])[0].status == HOLDS  # its own runs are all priced


def test_a_cost_budget_without_costs_is_an_error_never_zero() -> None:
    with pytest.raises(Exception, match="needs the price data"):
        check_budgets(fixture_report(costs=False), [budget_from_option("max_cost", "5")])


@pytest.fixture
def log(repo: Path) -> Path:
    path = repo / ".telemetry" / "usage.csv"
    path.parent.mkdir()
    path.write_text(HEADER + "".join(LINES))
    return path


def test_a_broken_budget_prints_the_report_a_line_per_budget_and_exits_5(log: Path) -> None:
    args = ["--max-tokens", "6749", "--min-success-rate", "60%", "--max-p95", "task_type=plan:47s"]
    done = run_cli("report", *args, "--no-costs", cwd=log.parent)
    assert done.returncode == EXIT_BUDGET == 6
    assert done.stderr.splitlines() == [
        "telemetry-csv report: budget broken: --max-tokens 6749: tokens of all rows is "
        "6,750 tokens, over 6,749 tokens",
        "telemetry-csv report: budget broken: --max-p95 task_type=plan:47s: duration p95 of "
        "task type plan is 48s, over 47s",
    ]
    assert "### Budget\n\n**Broken: 2 of 3 budgets.**" in done.stdout
    assert "### Overview" in done.stdout  # the report is all there
    document = json.loads(
        run_cli("report", *args, "--no-costs", "--format", "json", cwd=log.parent).stdout
    )
    assert document["budgets"]["broken"] == 2
    assert [result["status"] for result in document["budgets"]["results"]] == [
        "broken", "holds", "broken"
    ]  # fmt: skip
    html = run_cli("report", *args, "--no-costs", "--format", "html", cwd=log.parent)
    assert html.returncode == EXIT_BUDGET and '<section id="budget"><h2>Budget</h2>' in html.stdout
    csv = run_cli("report", *args, "--no-costs", "--format", "csv", cwd=log.parent)
    assert csv.returncode == EXIT_BUDGET and len(csv.stderr.splitlines()) == 2


def test_budgets_that_hold_exit_0_and_say_so(log: Path) -> None:
    done = run_cli("report", "--max-tokens", "6750", "--no-costs", cwd=log.parent)
    assert done.returncode == 0 and done.stderr == ""
    assert "### Budget\n\nThe budget holds." in done.stdout
    plain = run_cli("report", "--no-costs", cwd=log.parent)
    assert "Budget" not in plain.stdout


def test_configured_budgets_apply_only_with_budgets(log: Path, repo: Path) -> None:
    (repo / "pyproject.toml").write_text(
        "[tool.telemetry-csv.budgets]\nmax_tokens = 100\nmodel.claude-3-opus.max_p95 = '1m'\n"
    )
    assert run_cli("report", "--no-costs", cwd=repo).returncode == 0
    done = run_cli("report", "--no-costs", "--budgets", cwd=repo)
    assert done.returncode == EXIT_BUDGET
    assert done.stderr.splitlines() == [
        "telemetry-csv report: budget broken: pyproject.toml: budgets.max_tokens: tokens of all "
        "rows is 6,750 tokens, over 100 tokens"
    ]
    # A flag for the same metric and scope replaces the configured one.
    done = run_cli("report", "--no-costs", "--budgets", "--max-tokens", "7000", cwd=repo)
    assert done.returncode == 0, done.stderr


def test_budgets_without_a_budgets_table_is_an_error(log: Path) -> None:
    done = run_cli("report", "--budgets", cwd=log.parent)
    assert done.returncode == 2 and done.stdout == ""
    assert "--budgets: the configuration has no budgets table" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-cost", "5", "--no-costs"], "--max-cost 5: a cost budget needs cost estimates"),
        (["--max-p95", "task_type=review:1m"], "--max-p95: 'review' is not allowed"),
        (["--max-cost", "model=x"], "--max-cost: 'model=x' is not allowed"),
        (["--max-tokens", "5", "--max-tokens", "6"], "set the same budget; give one"),
    ],
)
def test_refused_before_anything_is_read(log: Path, args: list[str], message: str) -> None:
    log.write_text("not a log at all\n")  # reading it would fail differently
    done = run_cli("report", *args, cwd=log.parent)
    assert done.returncode == 2 and done.stdout == "" and message in done.stderr


BLOCKED = (
    "import sys\n"
    "sys.modules['genai_prices'] = None  # as if the extra were not installed\n"
    "from telemetry_csv.cli.main import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)


def test_a_cost_budget_without_the_price_data_installed_is_an_error(log: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCKED, "report", "--max-cost", "5"],
        cwd=log.parent, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "telemetry-csv report: error: --max-cost 5: a cost budget needs the price data, which "
        f"is not installed; `{sys.executable} -m pip install 'genai-prices<0.3,>=0.2.3'` adds it "
        "(a cost budget is never checked against $0)\n"
    )
    plain = subprocess.run(
        [sys.executable, "-c", BLOCKED, "report", "--max-tokens", "1M"],
        cwd=log.parent, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr


def test_a_pull_request_job(repo: Path) -> None:
    """`report --range origin/main..HEAD --max-cost ... --min-success-rate 80%` in a clone:
    only the rows the branch added count."""
    origin = repo.parent / "origin.git"
    git(repo.parent, "init", "-q", "--bare", "-b", "main", str(origin))
    log = repo / ".telemetry" / "usage.csv"
    log.parent.mkdir()
    log.write_text(HEADER + "".join(LINES))  # 60% success on main
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "main's rows")
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    git(repo, "checkout", "-q", "-b", "feature")
    extra = [row_line(f"2026-11-24T1{i}:00:00Z", "openai/gpt-4o", "1000", "100") for i in range(4)]
    log.write_text(log.read_text() + "".join(extra))
    git(repo, "commit", "-q", "-am", "four successful runs")
    args = ["--range", "origin/main..HEAD", "--max-cost", "1", "--min-success-rate", "80%"]
    done = run_cli("report", *args, "--format", "json", cwd=repo)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["rows"] == 4
    assert [r["status"] for r in document["budgets"]["results"]] == ["holds", "holds"]
    done = run_cli("report", *args, "--max-tokens", "4399", cwd=repo)
    assert done.returncode == EXIT_BUDGET and "4,400 tokens, over 4,399 tokens" in done.stderr
