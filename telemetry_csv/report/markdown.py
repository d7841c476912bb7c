"""The report as GitHub-flavoured Markdown, for pull requests and job summaries.

Tables are `tabulate`'s pipe format. Model names and task types go in code spans, so no character
in a name can start emphasis, a link, maths or an @-mention; inside tables every `|` is escaped as `\\|`, which
GitHub turns back into `|` even inside a code span.

Sort orders: models by total tokens (most first), then runs, then name; task types by runs, then
name; the model x task type table follows both; days and weeks oldest first. The daily and weekly
tables show the most recent `days`/`weeks` with data (the JSON has them all).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from telemetry_csv.characters import escape
from telemetry_csv.report import charts, numbers
from telemetry_csv.report.costs import INSTALL_HINT
from telemetry_csv.report.data import Group, Report
from telemetry_csv.report.filters import Filters

TITLE = "## LLM usage report"
DEFAULT_DAYS = 14
DEFAULT_WEEKS = 8


class MarkdownOptions(NamedTuple):
    days: int = DEFAULT_DAYS  # most recent days with data in the daily table (0: no table)
    weeks: int = DEFAULT_WEEKS
    charts: bool = False


def render_markdown(report: Report, options: MarkdownOptions | None = None) -> str:
    options = options or MarkdownOptions()
    parts = [TITLE, _about(report)]
    if report.skipped:
        parts.append(_skipped(report))
    if not report.rows:
        parts.append(_nothing(report))
        return "\n\n".join(parts) + "\n"
    costs = report.costs.estimated
    parts += ["### Overview", _overview(report)]
    parts += ["### By model", _by_model(report.by_model, report.totals.total_tokens, costs)]
    parts += ["### By task type", _by_task_type(report.by_task_type)]
    parts += ["### Success rate by model and task type", _matrix(report)]
    if options.days > 0:
        shown = report.by_day[-options.days :]
        parts += ["### Daily", _shown("day", len(shown), len(report.by_day), "--days")]
        parts.append(_periods("Day", shown, costs))
        if options.charts:
            parts.append(charts.daily_tokens_chart(shown))
    if options.weeks > 0:
        shown = report.by_week[-options.weeks :]
        parts += ["### Weekly", _shown("ISO week", len(shown), len(report.by_week), "--weeks")]
        parts.append(_periods("Week", shown, costs))
        if options.charts:
            parts.append(charts.weekly_success_chart(shown))
    parts += _footer(report)
    return "\n\n".join(parts) + "\n"


def code(text: str) -> str:
    """`text` as a code span, with a fence longer than any run of backticks inside it. An
    invisible or control character is shown escaped (`\u00ad`), so that two model names that
    differ only in one never look the same."""
    text = escape(text)
    longest = run = 0
    for character in text:
        run = run + 1 if character == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text[:1] == "`" or text[-1:] == "`" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str]) -> str:
    from tabulate import tabulate

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    return tabulate(
        [[cell(value) for value in row] for row in rows],
        headers=[cell(header) for header in headers],
        tablefmt="pipe",
        disable_numparse=True,
        colalign=tuple(align),
    )


def text(value: str) -> str:
    """Plain text (a path, a sentence, a zone's name) with every character that could start
    Markdown syntax escaped, and every control or invisible character shown escaped (a line
    break would start a block); paths like `.telemetry/usage.csv` need none and stay as they
    are."""
    marked = "".join("\\" + character if character in _SYNTAX else character for character in value)
    return escape(marked)


_SYNTAX = frozenset("\\`*_[]<>|~$&!#@")


def _about(report: Report) -> str:
    source = text(report.source) if report.source else "rows given"
    lines = [f"- Source: {source}, {numbers.plural(report.rows_read, 'row')}"]
    if report.filters.active:
        lines.append(
            f"- Filters: {describe_filters(report.filters)} "
            f"({report.rows:,} of {report.rows_read:,} rows match)"
        )
    lines.append(f"- Days and weeks in {text(report.zone.name)}")
    return "\n".join(lines)


def describe_filters(filters: Filters) -> str:
    parts = []
    if filters.since:
        parts.append(f"since {filters.since.text}")
    if filters.until:
        parts.append(f"until {filters.until.text}")
    if filters.models:
        parts.append(("model " if len(filters.models) == 1 else "models ") + _names(filters.models))
    if filters.task_types:
        noun = "task type " if len(filters.task_types) == 1 else "task types "
        parts.append(noun + _names(filters.task_types))
    return "; ".join(parts)


def _names(names: Sequence[str]) -> str:
    return ", ".join(code(name) for name in names)


def _skipped(report: Report) -> str:
    skipped = report.skipped
    parts = []
    if skipped.rows:
        parts.append(numbers.plural(skipped.rows, "invalid row"))
    if skipped.file_problems:
        parts.append(numbers.plural(skipped.file_problems, "file problem"))
    return (
        f"**Skipped {' and '.join(parts)}** (`--skip-invalid`); `telemetry-csv check` lists them."
    )


def _nothing(report: Report) -> str:
    if report.rows_read == 0:
        return "No rows yet: the log has no rows. Log a task with `telemetry-csv log`."
    return f"No rows match the filters ({describe_filters(report.filters)})."


def _overview(report: Report) -> str:
    totals = report.totals
    durations = totals.durations
    rows = [
        ["Runs", numbers.count(totals.runs)],
        [
            "First run",
            numbers.local_time(report.first, report.zone) if report.first else numbers.NOTHING,
        ],
        [
            "Last run",
            numbers.local_time(report.last, report.zone) if report.last else numbers.NOTHING,
        ],
        ["Prompt tokens", numbers.count(totals.prompt_tokens)],
        ["Completion tokens", numbers.count(totals.completion_tokens)],
        ["Total tokens", numbers.count(totals.total_tokens)],
        [
            "Success rate",
            f"{numbers.percent(totals.successes, totals.runs)} "
            f"({totals.successes:,} of {totals.runs:,})",
        ],
        ["Total duration", numbers.duration(durations.total)],
        ["Median duration", numbers.duration(durations.p50)],
    ]
    if report.costs.estimated:
        rows.append(["Estimated cost", numbers.cost(totals.cost)])
    return table(["Metric", "Value"], rows, ["left", "right"])


def _by_model(groups: Sequence[Group[str]], all_tokens: int, costs: bool) -> str:
    headers = ["Model", "Runs", "Prompt", "Completion", "Total tokens", "Share", "Success"]
    headers += ["Mean duration", "p50", "p95"]
    rows = []
    for group in groups:
        stats = group.stats
        row = [
            code(str(group.key)),
            numbers.count(stats.runs),
            numbers.count(stats.prompt_tokens),
            numbers.count(stats.completion_tokens),
            numbers.count(stats.total_tokens),
            numbers.percent(stats.total_tokens, all_tokens),
            numbers.percent(stats.successes, stats.runs),
            numbers.duration(stats.durations.mean),
            numbers.duration(stats.durations.p50),
            numbers.duration(stats.durations.p95),
        ]
        rows.append(row)
    return _numbers_table(headers, rows, groups, costs)


def _numbers_table(
    headers: list[str], rows: list[list[str]], groups: Sequence[Group[str]], costs: bool
) -> str:
    """A table of one row per group, label left and numbers right, with each group's
    estimated cost last when costs are on."""
    if costs:
        headers = [*headers, "Estimated cost"]
        rows = [
            [*row, numbers.cost(group.stats.cost)] for row, group in zip(rows, groups, strict=True)
        ]
    return table(headers, rows, ["left"] + ["right"] * (len(headers) - 1))


def _by_task_type(groups: Sequence[Group[str]]) -> str:
    headers = ["Task type", "Runs", "Successes", "Failures", "Success rate"]
    headers += ["Mean duration", "p50", "p95", "Tokens"]
    rows = [
        [
            code(str(group.key)),
            numbers.count(group.stats.runs),
            numbers.count(group.stats.successes),
            numbers.count(group.stats.failures),
            numbers.percent(group.stats.successes, group.stats.runs),
            numbers.duration(group.stats.durations.mean),
            numbers.duration(group.stats.durations.p50),
            numbers.duration(group.stats.durations.p95),
            numbers.count(group.stats.total_tokens),
        ]
        for group in groups
    ]
    return table(headers, rows, ["left"] + ["right"] * (len(headers) - 1))


def _matrix(report: Report) -> str:
    kinds = [str(group.key) for group in report.by_task_type]
    cells = {group.key: group.stats for group in report.by_model_task_type}
    rows = []
    for model_group in report.by_model:
        row = [code(str(model_group.key))]
        for kind in kinds:
            stats = cells.get((model_group.key, kind))
            if stats is None:
                row.append(numbers.NOTHING)
            else:
                rate = numbers.percent(stats.successes, stats.runs)
                row.append(f"{rate} ({stats.successes:,}/{stats.runs:,})")
        rows.append(row)
    headers = ["Model", *(code(kind) for kind in kinds)]
    return table(headers, rows, ["left"] + ["right"] * len(kinds))


def _shown(noun: str, shown: int, available: int, option: str) -> str:
    if available == 1:
        return f"The one {noun} with data."
    if shown == available:
        return f"All {available:,} {noun}s with data, oldest first."
    return (
        f"The most recent {shown:,} of {available:,} {noun}s with data, oldest first "
        f"(`{option} N` shows more; the JSON output has all)."
    )


def _periods(label: str, groups: Sequence[Group[str]], costs: bool) -> str:
    headers = [label, "Runs", "Tokens", "Success rate", "Median duration"]
    rows = []
    for group in groups:
        stats = group.stats
        row = [
            str(group.key),
            numbers.count(stats.runs),
            numbers.count(stats.total_tokens),
            numbers.percent(stats.successes, stats.runs),
            numbers.duration(stats.durations.p50),
        ]
        rows.append(row)
    return _numbers_table(headers, rows, groups, costs)


def _footer(report: Report) -> list[str]:
    costs = report.costs
    if costs.status == "unavailable":
        return [f"Costs are not estimated: `{INSTALL_HINT}` adds estimates."]
    if not costs.estimated:
        return []
    lines = [
        f"Estimated costs use {costs.price_data} price data, each run priced at its own "
        "timestamp; they are estimates, not a bill."
    ]
    priced = [f"{code(model)} as {code(label)}" for model, label in costs.priced_as if label]
    unpriced = [model for model, label in costs.priced_as if not label]
    if priced:
        lines.append("Priced as: " + "; ".join(priced) + ".")
    if unpriced:
        lines.append("No known price (unpriced): " + _names(unpriced) + ".")
    return lines
