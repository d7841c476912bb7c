"""Markdown parsed back (tables well formed, names intact), JSON keys and types, CSV columns,
and the same bytes every time."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from telemetry_csv.logfile.schema import Schema, neutralise
from telemetry_csv.report import markdown
from telemetry_csv.report.aggregate import ReportOptions, build_report
from telemetry_csv.report.csv_format import COLUMNS, render_csv
from telemetry_csv.report.data import Report
from telemetry_csv.report.filters import build_filters
from telemetry_csv.report.json_format import render_json
from telemetry_csv.report.markdown import MarkdownOptions, render_markdown
from telemetry_csv.report.numbers import NOTHING
from testing.report_fixtures import rows
from testing.util import HEADER, row_line

MARKDOWN = MarkdownIt("commonmark").enable("table")

# Valid model names with every character that could break a table or start Markdown syntax.
AWKWARD = ["we|ird", "a`b", "``x", "*bold*", "@org/team", "$x$", "<b>", "a\\|b", "[x](y)", "_u_"]


def build(lines=None, **options) -> Report:
    parsed = rows(lines) if lines is not None else rows()
    return build_report(parsed, ReportOptions(costs=False, **options))


def tables(markdown: str) -> list[dict]:
    """Each table: its raw lines, header cells and body rows (cells as rendered text)."""
    found = []
    tokens = MARKDOWN.parse(markdown)
    lines = markdown.splitlines()
    for index, token in enumerate(tokens):
        if token.type != "table_open":
            continue
        start, end = token.map  # type: ignore[misc]
        table: dict = {"raw": lines[start:end], "header": [], "rows": []}
        row: list[str] | None = None
        for inner in tokens[index + 1 :]:
            if inner.type == "table_close":
                break
            if inner.type == "tr_open":
                row = []
            elif inner.type == "inline" and row is not None:
                row.append("".join(child.content for child in inner.children or []))
            elif inner.type == "tr_close":
                if not table["header"]:
                    table["header"] = row
                else:
                    table["rows"].append(row)
        found.append(table)
    return found


def unescaped_pipes(line: str) -> int:
    """Cell separators as GFM counts them: a `|` right after a backslash is not one, whatever
    comes before that backslash (cmark-gfm's `escaped_char = [\\][|]`)."""
    return sum(
        1
        for index, character in enumerate(line)
        if character == "|" and line[index - 1 : index] != "\\"
    )


def assert_well_formed(markdown: str) -> list[dict]:
    found = tables(markdown)
    assert found
    for table in found:
        widths = {unescaped_pipes(line) for line in table["raw"]}
        assert len(widths) == 1, table["raw"]  # every line has the same number of cells
        assert all(len(row) == len(table["header"]) for row in table["rows"])
    return found


def test_all_sections_are_well_formed_tables() -> None:
    markdown = render_markdown(build())
    found = assert_well_formed(markdown)
    headers = [table["header"][0] for table in found]
    assert headers == ["Metric", "Model", "Task type", "Model", "Day", "Week"]
    by_model = found[1]
    assert [row[0] for row in by_model["rows"]] == ["claude-3-opus", "openai/gpt-4o"]
    assert by_model["rows"][0][1:7] == ["3", "4,100", "950", "5,050", "74.8%", "66.7%"]
    assert by_model["rows"][0][7:] == ["30s", "30s", "48s"]
    matrix = found[3]
    assert matrix["header"] == ["Model", "execute", "plan", "verify"]
    assert matrix["rows"] == [
        ["claude-3-opus", "100.0% (1/1)", "50.0% (1/2)", NOTHING],
        ["openai/gpt-4o", "0.0% (0/1)", NOTHING, "100.0% (1/1)"],
    ]
    overview = dict(found[0]["rows"])
    assert overview["First run"] == "2026-11-20 23:15:00 UTC"
    assert overview["Success rate"] == "60.0% (3 of 5)"
    assert overview["Total duration"] == "2m 30s"


def test_awkward_model_names_stay_intact_and_inert() -> None:
    lines = [row_line(model=neutralise(name)) for name in AWKWARD]
    markdown = render_markdown(build(lines))
    found = assert_well_formed(markdown)
    assert sorted(row[0] for row in found[1]["rows"]) == sorted(AWKWARD)
    html = MARKDOWN.render(markdown)
    for tag in ("<em>", "<strong>", "<a ", "<b>"):
        assert tag not in html
    assert "@org/team" in html


def test_local_times_in_the_overview_follow_the_zone() -> None:
    from telemetry_csv.report.zones import resolve_zone

    markdown = render_markdown(build(zone=resolve_zone("Asia/Kolkata")))
    overview = dict(tables(markdown)[0]["rows"])
    assert overview["First run"] == "2026-11-21 04:45:00 +05:30"
    assert "- Days and weeks in Asia/Kolkata" in markdown


def test_daily_and_weekly_limits_and_charts() -> None:
    markdown = render_markdown(build(), MarkdownOptions(days=2, weeks=1, charts=True))
    found = assert_well_formed(markdown)
    assert [row[0] for row in found[4]["rows"]] == ["2026-11-22", "2026-11-23"]
    assert [row[0] for row in found[5]["rows"]] == ["2026-W48"]
    assert "The most recent 2 of 4 days with data, oldest first" in markdown
    blocks = [token for token in MARKDOWN.parse(markdown) if token.type == "fence"]
    assert [block.info for block in blocks] == ["mermaid", "mermaid"]
    daily, weekly = (block.content for block in blocks)
    assert 'x-axis ["2026-11-22", "2026-11-23"]' in daily and "bar [1100, 150]" in daily
    assert 'x-axis ["2026-W48"]' in weekly and "line [0.0]" in weekly
    assert 'y-axis "Success rate (%)" 0 --> 100' in weekly
    assert "mermaid" not in render_markdown(build())
    hidden = render_markdown(build(), MarkdownOptions(days=0, weeks=0))
    assert "### Daily" not in hidden and "### Weekly" not in hidden


def test_empty_and_no_match_reports_are_short_and_clear() -> None:
    empty = render_markdown(build([]))
    assert "No rows yet" in empty and "|" not in empty
    none = render_markdown(build(filters=build_filters(models=["nope"], since="2026-11-01")))
    assert "No rows match the filters (since 2026-11-01; model `nope`)." in none
    assert "(0 of 5 rows match)" in none and "###" not in none


def test_one_row() -> None:
    found = assert_well_formed(render_markdown(build(rows_one := [row_line()])))
    del rows_one
    by_model = found[1]["rows"][0]
    assert by_model[7:] == ["45s", "45s", "45s"]


def test_same_input_same_bytes() -> None:
    first = build()
    second = build()
    assert render_markdown(first).encode() == render_markdown(second).encode()
    assert render_json(first) == render_json(second)
    assert render_csv(first) == render_csv(second)


def test_json_contract() -> None:
    document = json.loads(
        render_json(
            build(),
        )
    )
    assert list(document) == [
        "format_version", "source", "time_zone", "filters", "rows_read", "skipped", "rows",
        "first", "last", "totals", "by_model", "by_task_type", "by_model_task_type", "by_day",
        "by_week", "costs",
    ]  # fmt: skip
    assert document["rows"] == 5 and document["first"] == "2026-11-21T00:15:00+01:00"
    stats_keys = [
        "runs", "successes", "failures", "success_rate", "prompt_tokens", "completion_tokens",
        "total_tokens", "cache_read_tokens", "cache_write_tokens", "duration_ms", "cost",
    ]  # fmt: skip
    assert list(document["totals"]) == stats_keys
    for name, keys in (
        ("by_model", ["model"]),
        ("by_task_type", ["task_type"]),
        ("by_model_task_type", ["model", "task_type"]),
        ("by_day", ["day"]),
        ("by_week", ["week"]),
    ):
        for group in document[name]:
            assert list(group) == keys + stats_keys
            assert all(isinstance(group[key], str) for key in keys)
            assert isinstance(group["runs"], int) and isinstance(group["success_rate"], float)
            assert 0 <= group["success_rate"] <= 1
            assert list(group["duration_ms"]) == ["total", "mean", "p50", "p95", "max"]
            assert all(isinstance(v, int | float) for v in group["duration_ms"].values())
    assert [group["day"] for group in document["by_day"]] == [
        "2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23",
    ]  # fmt: skip
    assert [group["week"] for group in document["by_week"]] == ["2026-W47", "2026-W48"]
    assert document["totals"]["duration_ms"] == {
        "total": 150000, "mean": 30000.0, "p50": 30000.0, "p95": 48000.0, "max": 50000,
    }  # fmt: skip
    assert document["costs"]["status"] == "off"


def test_json_lists_every_day_and_nulls_for_nothing() -> None:
    document = json.loads(render_json(build([])))
    assert document["rows"] == 0 and document["first"] is None and document["by_day"] == []
    assert document["totals"]["success_rate"] is None
    assert document["totals"]["duration_ms"] == {
        "total": 0, "mean": None, "p50": None, "p95": None, "max": None,
    }  # fmt: skip


def test_csv_has_one_row_per_group() -> None:
    report = build()
    table = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert tuple(table[0]) == COLUMNS
    kinds = [row["group"] for row in table]
    assert (
        kinds
        == ["total"]
        + ["model"] * 2
        + ["task_type"] * 3
        + ["model_task_type"] * 4
        + ["day"] * 4
        + ["week"] * 2
    )
    pair = table[3 + 3]
    assert (pair["model"], pair["task_type"], pair["runs"]) == ("claude-3-opus", "execute", "1")
    assert table[0]["duration_ms_p95"] == "48000.0" and table[0]["cost_usd"] == ""
    assert [row["period"] for row in table if row["group"] == "week"] == ["2026-W47", "2026-W48"]


@pytest.mark.parametrize("name", AWKWARD)
def test_csv_and_json_keep_names_exactly(name: str) -> None:
    report = build([row_line(model=neutralise(name))])
    assert json.loads(render_json(report))["by_model"][0]["model"] == name
    # CSV is for spreadsheets: a name one would run (`@org/team`) is behind an apostrophe there.
    assert list(csv.DictReader(io.StringIO(render_csv(report))))[1]["model"] == neutralise(name)


def test_source_text_is_escaped_for_markdown() -> None:
    report = build()._replace(source="logs/my_*usage*.csv and 2 backups")
    markdown = render_markdown(report)
    assert "- Source: logs/my\\_\\*usage\\*.csv and 2 backups, 5 rows" in markdown
    assert "<em>" not in MARKDOWN.render(markdown)
    assert "my_*usage*.csv" in MARKDOWN.render(markdown)


def test_configured_task_types_render_as_themselves() -> None:
    """Task type names may hold `_` and `-`, enough for emphasis; they are code, like models."""
    kinds = ["a-_b_-c", "x__y__z", "plan"]
    schema = Schema(kinds)
    lines = [row_line(task_type=kind).rstrip("\n") for kind in kinds]
    parsed = [schema.parse_line(line) for line in lines]
    filters = build_filters(task_types=kinds)
    markdown = render_markdown(build_report(parsed, ReportOptions(costs=False, filters=filters)))
    found = assert_well_formed(markdown)
    assert sorted(row[0] for row in found[2]["rows"]) == sorted(kinds)  # By task type
    assert sorted(found[3]["header"][1:]) == sorted(kinds)  # the matrix's columns
    html = MARKDOWN.render(markdown)
    assert "<em>" not in html and "<strong>" not in html
    for kind in kinds:
        assert f"<code>{kind}</code>" in html


# Text tabulate could treat specially: whitespace at either end, booleans, numbers, empty
# values, bars escaped, backticks; and text only tabulate renders (non-ASCII, wide characters,
# control characters, line breaks).
_CELL_TEXT = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
    st.sampled_from(["", " ", "True", "False", "1.5", "-3", " 12 ", "1e5", "`a`", "a\\|b", "nan"]),
    st.text(max_size=6),
    st.sampled_from(["mödel", "模型", "a\tb", "a\nb", "\x1b[31mred\x1b[0m", "\x01"]),
)


@settings(max_examples=400, deadline=None)
@given(
    st.integers(min_value=1, max_value=5).flatmap(
        lambda width: st.tuples(
            st.lists(_CELL_TEXT, min_size=width, max_size=width),
            st.lists(st.lists(_CELL_TEXT, min_size=width, max_size=width), max_size=6),
            st.lists(st.sampled_from(["left", "right"]), min_size=width, max_size=width),
        )
    )
)
def test_pipe_tables_are_tabulates(table: tuple[list[str], list[list[str]], list[str]]) -> None:
    """Markdown tables are written without tabulate where the text is plain; byte for byte
    what tabulate writes, which renders the rest."""
    from tabulate import tabulate

    headers, rows, align = table
    escaped = [[value.replace("|", "\\|") for value in row] for row in rows]
    expected = tabulate(
        escaped,
        headers=[header.replace("|", "\\|") for header in headers],
        tablefmt="pipe",
        disable_numparse=True,
        colalign=tuple(align),
    )
    assert markdown.table(headers, rows, align) == expected


def test_a_report_of_plain_names_does_not_import_tabulate(tmp_path) -> None:
    """tabulate (and the `importlib.metadata` it imports for its version) is for the tables
    `pipe_table` does not write."""
    import subprocess
    import sys

    log = tmp_path / "usage.csv"
    log.write_text(HEADER + row_line(model="openai/gpt-4o") + row_line(model="mödel"))
    script = (
        "import sys\n"
        "from telemetry_csv.cli.main import main\n"
        "main(['report', '--no-costs', '--model', sys.argv[1], sys.argv[2]])\n"
        "print('tabulate' in sys.modules, file=sys.stderr)\n"
    )
    for model, imported in (("openai/gpt-4o", "False"), ("mödel", "True")):
        done = subprocess.run(
            [sys.executable, "-c", script, model, str(log)], capture_output=True, text=True
        )
        assert done.returncode == 0 and done.stderr.strip() == imported, done.stderr
        assert f"| `{model}` |" in done.stdout
