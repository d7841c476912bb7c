"""Cost estimates: each row at its own timestamp, exactly as genai-prices prices it; unknown
models unpriced, never $0; without the `cost` extra, a hint instead of cost columns."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telemetry_csv.logfile.schema import Row
from telemetry_csv.report.aggregate import ReportOptions, build_report
from telemetry_csv.report.data import FEMTO_PER_USD
from telemetry_csv.report.markdown import render_markdown
from testing.report_fixtures import rows as parse
from testing.util import HEADER, row_line

genai_prices = pytest.importorskip("genai_prices")

# Prices that change: claude-sonnet-4-6 drops its >200k-token tier on 2026-03-13 (UTC);
# deepseek-chat costs more from 00:30 to 16:30 UTC every day; deepseek-v4-flash has start dates
# and time-of-day windows; gemini-2.5-pro is tiered above 200k prompt tokens.
MODELS = [
    "claude-sonnet-4-6",
    "deepseek/deepseek-chat",
    "deepseek-v4-flash",
    "gemini-2.5-pro",
    "openai/gpt-4o",
    "anthropic/claude-3-5-haiku-20241022",
    "llama3.1:70b",  # no price known
    "no-such-provider/gpt-4o",  # provider unknown: priced by the model part
]


def library_price(row: Row) -> Decimal | None:
    """What genai-prices says one row costs at its own timestamp, asked the documented way."""
    model = row.model
    attempts = [(None, model)]
    if "/" in model:
        provider, _, reference = model.partition("/")
        attempts = [(provider, reference), (None, model), (None, reference)]
    counts = {"input_tokens": row.prompt_tokens, "output_tokens": row.completion_tokens}
    if row.cache_read_tokens:
        counts["cache_read_tokens"] = row.cache_read_tokens
    if row.cache_write_tokens:
        counts["cache_write_tokens"] = row.cache_write_tokens
    for provider, reference in attempts:
        try:
            calculation = genai_prices.calc_price(
                genai_prices.Usage(**counts),
                reference,
                provider_id=provider,
                genai_request_timestamp=row.when(),
            )
        except LookupError:
            continue
        return calculation.total_price
    return None


def assert_costs_match_library(rows: list[Row]) -> None:
    result = build_report(rows, ReportOptions())
    assert result.costs.status == "estimated"
    for group in result.by_model:
        prices = [library_price(row) for row in rows if row.model == group.key]
        cost = group.stats.cost
        assert cost is not None
        if all(price is None for price in prices):
            assert (cost.priced_runs, cost.unpriced_runs, cost.usd) == (0, len(prices), None)
            continue
        assert None not in prices
        assert cost.femto_usd == int(sum(prices) * FEMTO_PER_USD), group.key  # type: ignore[arg-type]
        assert cost.unpriced_runs == 0


HAND_PICKED = [
    row_line("2026-03-12T23:59:59Z", "claude-sonnet-4-6", "250000", "1000"),  # tier, old
    row_line("2026-03-13T00:59:59+01:00", "claude-sonnet-4-6", "250000", "1000"),  # still old
    row_line("2026-03-13T00:00:00Z", "claude-sonnet-4-6", "250000", "1000"),  # new price
    row_line("2026-03-13T00:00:00Z", "claude-sonnet-4-6", "150000", "1000"),
    row_line("2026-05-01T00:29:59Z", "deepseek/deepseek-chat", "1000000", "1000000"),
    row_line("2026-05-01T00:30:00Z", "deepseek/deepseek-chat", "1000000", "1000000"),
    row_line("2026-05-01T05:59:59+05:30", "deepseek/deepseek-chat", "1000", "1000"),  # 00:29:59Z
    row_line("2026-05-01T06:00:00+05:30", "deepseek/deepseek-chat", "1000", "1000"),  # 00:30Z
    row_line("2026-05-01T22:00:00-05:00", "deepseek/deepseek-chat", "7", "3"),  # 03:00Z next day
    row_line("2026-08-16T23:59:59Z", "deepseek-v4-flash", "1000000", "0"),
    row_line("2026-08-17T00:00:00Z", "deepseek-v4-flash", "1000000", "0"),
    row_line("2026-09-10T01:30:00Z", "deepseek-v4-flash", "1000000", "0"),
    row_line("2026-09-10T06:00:00.5Z", "deepseek-v4-flash", "1000000", "0"),
    row_line("2026-06-01T12:00:00Z", "gemini-2.5-pro", "200000", "10"),
    row_line("2026-06-01T12:00:00Z", "gemini-2.5-pro", "200001", "10"),
    row_line("2026-06-01T12:00:00Z", "openai/gpt-4o", "0", "0"),
    row_line("2026-06-01T12:00:00Z", "anthropic/claude-3-5-haiku-20241022", "2210", "380"),
    row_line("2026-06-01T12:00:00Z", "llama3.1:70b", "6400", "1210"),
    row_line("2026-06-01T12:00:00Z", "no-such-provider/gpt-4o", "1000", "10"),
]


def test_hand_picked_rows_cross_every_kind_of_price_change() -> None:
    lines = HAND_PICKED
    rows = parse(lines)
    prices = [library_price(row) for row in rows]
    assert prices[0] != prices[2] and prices[4] != prices[5] and prices[6] != prices[7]
    assert prices[9] != prices[10] and prices[13] != prices[14] * 200000 / 200001
    assert_costs_match_library(rows)


def test_daily_windows_across_days_and_start_dates_cost_what_the_library_says() -> None:
    """A price is asked of the library once per segment (which start dates have passed, which
    daily window a time of day is in) and reused on other days: every hour of days on both
    sides of deepseek-v4-flash's start dates, and the seconds around deepseek-chat's daily
    window edges, priced as the library prices each row."""
    lines = [
        row_line(f"2026-{day}T{hour:02d}:{minute:02d}:00Z", model, str(1000 + hour), str(hour))
        for day in ("04-30", "05-01", "08-16", "08-17", "08-18", "09-09", "09-10", "09-11")
        for hour in range(24)
        for minute in (0, 29, 30, 59)
        for model in ("deepseek/deepseek-chat", "deepseek-v4-flash")
    ]
    lines += [
        row_line(f"2026-06-0{day}T{moment}Z", "deepseek/deepseek-chat", "777", "55")
        for day in range(1, 4)
        for moment in ("00:29:59", "00:30:00", "16:29:59", "16:30:00")
    ]
    assert_costs_match_library(parse(lines))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(MODELS),
            st.datetimes(min_value=datetime(2025, 6, 1), max_value=datetime(2027, 1, 1)),
            st.sampled_from(["Z", "+05:30", "-09:30", "+01:00"]),
            st.integers(min_value=0, max_value=400_000),
            st.integers(min_value=0, max_value=50_000),
        ),
        min_size=1,
        max_size=15,
    )
)
def test_random_rows_cost_what_the_library_says(cases) -> None:
    lines = [
        row_line(moment.isoformat(timespec="seconds") + offset, model, str(prompt), str(completion))
        for model, moment, offset, prompt, completion in cases
    ]
    assert_costs_match_library(parse(lines))


# Cache reads and writes at the cache rates, worked out by hand from the providers' published
# prices (per million tokens), which the price data holds: claude-sonnet-4-5 $3 input, $15
# output, $0.30 cache read, $3.75 cache write (5 minutes); above 200,000 prompt tokens $6,
# $22.50, $0.60, $7.50. gpt-4o $2.50 input, $1.25 cached input, $10 output.
CACHED = [
    # (model, prompt, of which read, of which written, completion, dollars)
    ("claude-sonnet-4-5", 100_000, 90_000, 8_000, 1_000, "0.078"),  # 2k x 3 + 90k x 0.3 + ...
    ("claude-sonnet-4-5", 300_000, 280_000, 10_000, 2_000, "0.348"),  # the >200k tier
    ("claude-sonnet-4-5", 50_000, None, None, 100, "0.1515"),  # parts unknown: all as input
    ("openai/gpt-4o", 10_000, 8_000, 0, 500, "0.02"),  # 2k x 2.5 + 8k x 1.25 + 500 x 10
    ("openai/gpt-4o", 10_000, 8_000, None, 500, "0.02"),  # OpenAI bills no cache writes
]


@pytest.mark.parametrize(("model", "prompt", "read", "write", "completion", "dollars"), CACHED)
def test_cache_parts_cost_the_cache_rates(
    model: str, prompt: int, read: int | None, write: int | None, completion: int, dollars: str
) -> None:
    row = Row("2025-11-03T10:00:00Z", model, prompt, completion, True, "execute", 1000)
    row = row._replace(
        source="claude-code" if read is not None else "",
        cache_read_tokens=read,
        cache_write_tokens=write,
    )
    result = build_report([row], ReportOptions())
    cost = result.totals.cost
    assert cost is not None and cost.usd == Decimal(dollars)
    assert library_price(row) == Decimal(dollars)  # the library agrees with the hand sums


def test_cache_pricing_over_prices_nothing_any_more() -> None:
    """Before, the report priced the cached part at the full input rate: more than four times
    too much for a typical Claude Code slice, whose input is mostly cache reads."""
    cached = Row("2025-11-03T10:00:00Z", "claude-sonnet-4-5", 100_000, 1_000, True, "execute", 1)
    cached = cached._replace(cache_read_tokens=90_000, cache_write_tokens=8_000)
    unknown = cached._replace(cache_read_tokens=None, cache_write_tokens=None)
    [with_parts, without] = [
        build_report([row], ReportOptions()).totals.cost for row in (cached, unknown)
    ]
    assert with_parts is not None and without is not None
    assert without.femto_usd > 4 * with_parts.femto_usd


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(MODELS),
            st.datetimes(min_value=datetime(2025, 6, 1), max_value=datetime(2027, 1, 1)),
            st.integers(min_value=0, max_value=400_000),
            st.integers(min_value=0, max_value=50_000),
            st.floats(min_value=0, max_value=1),
            st.floats(min_value=0, max_value=1),
        ),
        min_size=1,
        max_size=15,
    )
)
def test_random_rows_with_cache_parts_cost_what_the_library_says(cases) -> None:
    rows = []
    for model, moment, prompt, completion, read_share, write_share in cases:
        read = int(prompt * read_share)
        write = int((prompt - read) * write_share)
        rows.append(
            Row(
                moment.isoformat(timespec="seconds") + "Z",
                model,
                prompt,
                completion,
                True,
                "execute",
                1,
                "",
                "run",
                "",
                read,
                write,
            )
        )
    assert_costs_match_library(rows)


def test_markdown_shows_costs_price_data_and_unpriced_models() -> None:
    lines = [
        row_line("2026-06-01T12:00:00Z", "openai/gpt-4o", "1000000", "100000"),
        row_line("2026-06-01T13:00:00Z", "llama3.1:70b", "6400", "1210"),
    ]
    text = render_markdown(build_report(parse(lines), ReportOptions()))
    overview = {
        cells[0]: cells[1]
        for line in text.split("### By model")[0].splitlines()
        if (cells := [cell.strip() for cell in line.strip("|").split("|")]) and len(cells) == 2
    }
    assert overview["Estimated cost"] == "$3.50 + 1 unpriced"  # 1M x $2.50 + 100k x $10 per M
    assert f"genai-prices {version('genai-prices')} price data" in text
    assert "`llama3.1:70b`" in text.split("No known price (unpriced): ")[1]
    assert "Priced as: `openai/gpt-4o` as `openai/gpt-4o`." in text
    assert "unpriced |" in text and "$0.00" not in text


def test_no_costs_option_leaves_them_out_without_a_hint() -> None:
    result = build_report(parse([row_line()]), ReportOptions(costs=False))
    text = render_markdown(result)
    assert result.costs.status == "off"
    assert "cost" not in text.lower()


BLOCKED = (
    "import sys\n"
    "sys.modules['genai_prices'] = None  # as if the extra were not installed\n"
    "from telemetry_csv.cli.main import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)


def test_without_the_extra_a_one_line_hint_and_no_cost_columns(tmp_path: Path) -> None:
    log = tmp_path / "usage.csv"
    log.write_text(HEADER + row_line(model="openai/gpt-4o"))
    run = [sys.executable, "-c", BLOCKED, "report"]
    markdown = subprocess.run([*run, str(log)], capture_output=True, text=True, check=True).stdout
    assert "Estimated cost" not in markdown
    hints = [line for line in markdown.splitlines() if "cost" in line.lower()]
    # A command for this very interpreter (the package is not on PyPI to be found by name).
    hint = f"{sys.executable} -m pip install 'genai-prices<0.3,>=0.2.3'"
    assert hints == [f"Costs are not estimated: `{hint}` adds estimates."]
    document = json.loads(
        subprocess.run(
            [*run, "--format", "json", str(log)], capture_output=True, text=True, check=True
        ).stdout
    )
    assert document["costs"] == {
        "status": "unavailable",
        "price_data": None,
        "currency": None,
        "models": [],
    }
    assert document["totals"]["cost"] is None
    assert "genai_prices" not in subprocess.run(
        [sys.executable, "-c", "import sys; from telemetry_csv.cli.main import main; "
         "main(['log', '--help']); print(sorted(sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def test_prices_at_extreme_timestamps_do_not_fail() -> None:
    lines = [
        row_line("0001-01-01T00:00:00+01:00", "openai/gpt-4o"),
        row_line("9999-12-31T23:59:59-09:00", "openai/gpt-4o"),
    ]
    result = build_report(parse(lines), ReportOptions())
    assert result.totals.cost is not None and result.totals.cost.priced_runs == 2
    assert [group.key for group in result.by_day] == ["0000-12-31", "10000-01-01"]


class EvenMinutes:
    """A price constraint of a kind the report does not know (the library only calls `active`)."""

    def active(self, moment: datetime) -> bool:
        return moment.minute % 2 == 0


@pytest.fixture
def custom_prices():
    """Price data of our own, through genai-prices' own hook for custom data."""
    from datetime import date

    from genai_prices import data_snapshot
    from genai_prices.types import (
        ClauseEquals,
        ConditionalPrice,
        ModelInfo,
        ModelPrice,
        Provider,
        StartDateConstraint,
    )

    def model(name: str, prices) -> ModelInfo:
        return ModelInfo(id=name, match=ClauseEquals(equals=name), prices=prices)

    providers = [
        Provider(
            id="testco",
            name="Test Co",
            api_pattern="https://test.example",
            models=[
                # a rate finer than a femto-dollar per token: priced row by row by the library
                model(
                    "fine", ModelPrice(input_mtok=Decimal("0.0000000003"), output_mtok=Decimal("1"))
                ),
                model(
                    "odd",
                    [
                        ConditionalPrice(prices=ModelPrice(input_mtok=Decimal("1"))),
                        ConditionalPrice(
                            constraint=EvenMinutes(), prices=ModelPrice(input_mtok=Decimal("2"))
                        ),
                    ],
                ),
                model(
                    "broken-later",
                    [
                        ConditionalPrice(prices=ModelPrice(input_mtok=Decimal("1"))),
                        ConditionalPrice(
                            constraint=StartDateConstraint(start_date=date(2026, 1, 1)),
                            prices=ModelPrice(input_mtok=Decimal("NaN")),
                        ),
                    ],
                ),
            ],
        )
    ]
    data_snapshot.set_custom_snapshot(
        data_snapshot.DataSnapshot(providers=providers, from_auto_update=False)
    )
    yield
    data_snapshot.set_custom_snapshot(None)


def test_prices_the_report_cannot_reduce_are_left_to_the_library(custom_prices) -> None:
    from decimal import ROUND_HALF_EVEN

    lines = [
        row_line("2026-06-01T12:00:00Z", "testco/fine", "333", "7"),
        row_line("2026-06-01T12:00:00Z", "testco/fine", "1", "0"),
        row_line("2026-06-01T12:01:59.5Z", "testco/odd", "1000", "0"),
        row_line("2026-06-01T12:02:00Z", "testco/odd", "1000", "0"),
        row_line("2026-06-01T12:33:00+00:30", "testco/odd", "1000", "0"),  # 12:03Z
    ]
    rows = parse(lines)
    result = build_report(rows, ReportOptions())
    costs = {group.key: group.stats.cost for group in result.by_model}
    for model in ("testco/fine", "testco/odd"):
        expected = sum(
            int((library_price(row) * FEMTO_PER_USD).to_integral_value(ROUND_HALF_EVEN))  # type: ignore[operator]
            for row in rows
            if row.model == model
        )
        assert costs[model].femto_usd == expected, model  # type: ignore[union-attr]
    odd = [library_price(row) for row in rows if row.model == "testco/odd"]
    assert odd == [Decimal("0.001"), Decimal("0.002"), Decimal("0.001")]


@pytest.mark.parametrize("order", ["good first", "broken first"])
def test_a_price_the_library_cannot_compute_leaves_only_its_runs_unpriced(
    custom_prices, order: str
) -> None:
    """Only the runs under the broken price are unpriced, whatever the order of the rows; the
    model is still shown as priced, since some of its runs were."""
    lines = [
        row_line("2025-12-31T23:59:59Z", "testco/broken-later", "1000000", "0"),
        row_line("2026-01-01T00:00:00Z", "testco/broken-later", "1000000", "0"),
        row_line("2025-12-30T10:00:00Z", "testco/broken-later", "1000000", "0"),
        row_line("2026-02-01T10:00:00Z", "testco/broken-later", "1000000", "0"),
    ]
    if order == "broken first":
        lines = lines[1:2] + lines[3:] + lines[:1] + lines[2:3]
    result = build_report(parse(lines), ReportOptions())
    cost = result.totals.cost
    assert cost is not None
    assert (cost.priced_runs, cost.unpriced_runs, cost.usd) == (2, 2, Decimal(2))
    assert result.costs.priced_as == (("testco/broken-later", "testco/broken-later"),)
    markdown = render_markdown(result)
    assert "$2.00 + 2 unpriced" in markdown
    assert "Priced as: `testco/broken-later` as `testco/broken-later`." in markdown
    assert "No known price" not in markdown


# A report run by `main`, after importing the module named first ("-": none); prints to stderr
# which of pydantic and importlib.metadata the run imported.
IMPORTED_FIRST = (
    "import sys\n"
    "if sys.argv[1] != '-':\n"
    "    __import__(sys.argv[1])\n"
    "from telemetry_csv.cli.main import main\n"
    "try:\n"
    "    code = main(sys.argv[2:])\n"
    "finally:\n"
    "    print([name for name in ('pydantic', 'importlib.metadata') if name in sys.modules],\n"
    "          file=sys.stderr)\n"
    "raise SystemExit(code)\n"
)


@pytest.mark.parametrize("form", ["markdown", "json"])
def test_the_price_data_without_pydantic_prices_as_the_whole_package(
    tmp_path: Path, form: str
) -> None:
    """`report` imports the price data without pydantic (only the package's JSON reading needs
    it); every price, window and tier comes out as with the package imported the usual way."""
    log = tmp_path / "usage.csv"
    more = [
        row_line(f"2026-{month:02d}-{day:02d}T{hour:02d}:17:00{offset}", model, prompt, "900")
        for month in (1, 3, 6, 9, 12)
        for day, hour, offset in ((1, 0, "Z"), (13, 5, "+05:30"), (28, 23, "-04:00"))
        for model in MODELS
        for prompt in ("1200", "210000")
    ]
    log.write_text(HEADER + "".join(HAND_PICKED) + "".join(more))

    def report(first: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", IMPORTED_FIRST, first, "report", "--format", form]
        return subprocess.run([*command, str(log)], capture_output=True, text=True, check=True)

    late, usual = report("-"), report("genai_prices")
    assert late.stdout == usual.stdout
    assert (
        ("Estimated cost" in late.stdout)
        if form == "markdown"
        else (json.loads(late.stdout)["costs"]["status"] == "estimated")
    )
    assert "pydantic" not in late.stderr and "pydantic" in usual.stderr
    if form == "json":  # (the Markdown table's library imports it for its own version)
        assert "importlib.metadata" not in late.stderr


# A report run by `main` while another thread waits; prints to stderr whether pydantic was
# imported.
WITH_A_THREAD = (
    "import sys, threading\n"
    "done = threading.Event()\n"
    "threading.Thread(target=done.wait).start()\n"
    "from telemetry_csv.cli.main import main\n"
    "try:\n"
    "    code = main(sys.argv[1:])\n"
    "finally:\n"
    "    done.set()\n"
    "    print('pydantic' in sys.modules, file=sys.stderr)\n"
    "raise SystemExit(code)\n"
)


def test_with_other_threads_running_the_price_data_is_imported_the_usual_way(
    tmp_path: Path,
) -> None:
    """The stand-in for pydantic sits in `sys.modules` while the price data is imported, where
    another thread's import could meet it: with another thread running, pydantic is imported,
    and the prices are the same."""
    log = tmp_path / "usage.csv"
    log.write_text(HEADER + "".join(HAND_PICKED))
    command = [sys.executable, "-c"]
    threaded = subprocess.run(
        [*command, WITH_A_THREAD, "report", "--format", "json", str(log)],
        capture_output=True,
        text=True,
        check=True,
    )
    alone = subprocess.run(
        [*command, IMPORTED_FIRST, "-", "report", "--format", "json", str(log)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert threaded.stdout == alone.stdout
    assert json.loads(threaded.stdout)["costs"]["status"] == "estimated"
    assert threaded.stderr.strip() == "True" and "pydantic" not in alone.stderr


def test_a_program_using_the_library_imports_the_price_data_the_usual_way(
    tmp_path: Path,
) -> None:
    """Only the command line's own process imports the price data without pydantic: a program
    that calls the library gets genai-prices as it is, and the same prices."""
    log = tmp_path / "usage.csv"
    log.write_text(HEADER + "".join(HAND_PICKED))
    program = (
        "import json, sys\n"
        "from telemetry_csv.logfile.reading import read_rows\n"
        "from telemetry_csv.report.aggregate import build_report\n"
        "from telemetry_csv.report.json_format import render_json\n"
        "report = build_report(read_rows([sys.argv[1]]))\n"
        "print(json.dumps(json.loads(render_json(report))['costs']))\n"
        "print('pydantic' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(log)], capture_output=True, text=True, check=True
    )
    assert done.stderr.strip() == "True"
    command = [sys.executable, "-c", IMPORTED_FIRST, "-", "report", "--format", "json"]
    cli = subprocess.run([*command, str(log)], capture_output=True, text=True, check=True)
    assert "pydantic" not in cli.stderr
    assert json.loads(done.stdout) == json.loads(cli.stdout)["costs"]
    assert json.loads(done.stdout)["status"] == "estimated"


# Reads price data the way the package's updater does (JSON-shaped data through pydantic,
# clauses told apart by their tag), after importing the package the usual way or after a report
# imported its price data without pydantic ("late"); prints what came out.
READS_RAW_PRICES = """
import sys
if sys.argv[1] == "late":
    from telemetry_csv.report.costs import import_prices_lean, load_pricer
    import_prices_lean()  # as the command line's process does
    print(load_pricer().price_data)
    assert "pydantic" not in sys.modules
import genai_prices
from genai_prices import types
if sys.argv[1] != "late":
    print("genai-prices", genai_prices.__version__)
raw = [{
    "id": "acme", "name": "Acme", "api_pattern": "https://acme",
    "model_match": {"or": [{"starts_with": "acme-"}, {"equals": "a1"}]},
    "models": [{
        "id": "a1", "match": {"and": [{"contains": "a"}, {"regex": "a1$"}]},
        "prices": [
            {"prices": {"input_mtok": "1.5",
                        "output_mtok": {"base": "2", "tiers": [{"start": 1000, "price": "3"}]}}},
            {"constraint": {"start_date": "2025-01-01"},
             "prices": {"input_mtok": 2, "output_mtok": 4}},
        ],
    }],
}]
providers = types._providers_from_raw(raw)
print(repr(providers))
print(providers[0].models[0].is_match("xa1"), providers[0].model_match.is_match("acme-x"))
print(types._model_price_mapping_schema.validate_python({"input_mtok": "0.5"}))
try:
    types._providers_from_raw([{**raw[0], "model_match": {"nearly": "x"}}])
except Exception as error:
    print(type(error).__name__, error)
usage = genai_prices.Usage(input_tokens=2000, output_tokens=500)
print(genai_prices.calc_price(usage, "gpt-4o", provider_id="openai").total_price)
"""


def test_the_package_reads_json_prices_as_usual_after_a_report() -> None:
    """The stand-in for pydantic is gone once the price data is imported: the package's own
    reading of price data (its updater's) builds the real adapters, with the real tags."""
    outputs = [
        subprocess.run(
            [sys.executable, "-c", READS_RAW_PRICES, how],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for how in ("usual", "late")
    ]
    assert outputs[0] == outputs[1]
    assert "ClauseOr(or_=[ClauseStartsWith(" in outputs[0] and "ValidationError" in outputs[0]


def test_a_pydantic_name_the_stand_in_does_not_know_imports_the_usual_way() -> None:
    """Should genai-prices use pydantic for something the stand-in does not record (here: as if
    it did not know `Tag`), the price data is imported again with pydantic, and prices as
    before."""
    script = (
        "import sys\n"
        "from telemetry_csv.report import costs\n"
        "if sys.argv[1] == 'unknown':\n"
        "    costs._LatePydantic._MARKS = frozenset({'Discriminator', 'Field', 'ConfigDict'})\n"
        "costs.import_prices_lean()\n"
        "pricer = costs.load_pricer()\n"
        "pricing = pricer.model('deepseek/deepseek-chat')\n"
        "pricing.move_to(1_780_000_000)\n"
        "print(pricer.price_data, pricing.label, pricing.base_rates, pricing.start, pricing.end)\n"
        "print('pydantic' in sys.modules)\n"
    )
    known, unknown = (
        subprocess.run(
            [sys.executable, "-c", script, how], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        for how in ("known", "unknown")
    )
    assert known[0] == unknown[0] and "deepseek" in known[0]
    assert (known[1], unknown[1]) == ("False", "True")
