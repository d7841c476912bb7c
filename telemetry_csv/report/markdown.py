"""The report as GitHub-flavoured Markdown, for pull requests and job summaries.

Tables are `tabulate`'s pipe format. Model names and task types go in code spans, so no character
in a name can start emphasis, a link, maths or an @-mention; inside tables every `|` is escaped as `\\|`, which
GitHub turns back into `|` even inside a code span.

Sort orders: models by total tokens (most first), then runs, then name; task types by runs, then
name; the model x task type table follows both; days and weeks oldest first. The daily and weekly
tables show the most recent `days`/`weeks` with data (the JSON has them all).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from telemetry_csv.characters import escape
from telemetry_csv.report import charts, numbers, tables
from telemetry_csv.report.costs import install_hint
from telemetry_csv.report.data import Report

if TYPE_CHECKING:
    from telemetry_csv.report.recommendations import Recommendation

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
    if report.budgets is not None:
        parts += ["### Budget", budget_summary(report), render_table(tables.budgets(report))]
    if not report.rows:
        parts.append(_nothing(report))
        return "\n\n".join(parts) + "\n"
    if report.grouped is not None:
        grouped = tables.grouped(report)
        parts += [f"### {grouped.caption}", render_table(grouped)]
    else:
        parts += _standard(report, options)
    if report.recommendations is not None:
        parts += ["### Which model for which task", recommendation_method(report)]
        for index, found in enumerate(report.recommendations):
            parts += [f"#### {code(found.task_type)}", _verdict(found)]
            parts.append(render_table(tables.recommendation(report, index)))
    parts += _footer(report)
    return "\n\n".join(parts) + "\n"


def _standard(report: Report, options: MarkdownOptions) -> list[str]:
    """The sections of the default report."""
    parts = ["### Overview", render_table(tables.overview(report))]
    parts += ["### By model", render_table(tables.by_model(report))]
    parts += ["### By task type", render_table(tables.by_task_type(report))]
    parts += ["### Success rate by model and task type", render_table(tables.matrix(report))]
    if options.days > 0:
        shown = report.by_day[-options.days :]
        parts += ["### Daily", _shown("day", len(shown), len(report.by_day), "--days")]
        parts.append(render_table(tables.periods(report, "Day", options.days)))
        if options.charts:
            parts.append(charts.daily_tokens_chart(shown))
    if options.weeks > 0:
        shown = report.by_week[-options.weeks :]
        parts += ["### Weekly", _shown("ISO week", len(shown), len(report.by_week), "--weeks")]
        parts.append(render_table(tables.periods(report, "Week", options.weeks)))
        if options.charts:
            parts.append(charts.weekly_success_chart(shown))
    return parts


def budget_summary(report: Report) -> str:
    results = report.budgets or ()
    broken = sum(result.broken for result in results)
    if not results:
        return "No budgets are set."
    if broken:
        return f"**Broken: {broken:,} of {numbers.plural(len(results), 'budget')}.**"
    if len(results) == 1:
        return "The budget holds."
    return f"All {len(results):,} budgets hold."


def recommendation_method(report: Report) -> str:
    found = report.recommendations or ()
    least = found[0].min_runs if found else 0
    return (
        "For each task type, the models ranked by the lower end of their 95% Wilson interval "
        f"for success. A pick needs two models with at least {least:,} runs of the type, and "
        "one whose interval is above each other's, or overlaps it (a tie) with a lower cost "
        "per success."
    )


def _verdict(found: Recommendation) -> str:
    if found.pick is None:
        return f"No pick: {text(found.reason)}."
    return f"**Pick: {code(found.pick)}**: {text(found.reason)}."


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
    """A pipe table, as tabulate's "pipe" format writes it (`align`: "left" or "right" for
    each column)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    head = [cell(header) for header in headers]
    body = [[cell(value) for value in row] for row in rows]
    if _plain(head, body, align):
        return pipe_table(head, body, align)
    from tabulate import tabulate

    return tabulate(
        body, headers=head, tablefmt="pipe", disable_numparse=True, colalign=tuple(align)
    )


def _plain(headers: list[str], rows: list[list[str]], align: Sequence[str]) -> bool:
    """Whether `pipe_table` writes this table as tabulate would: some rows, every row as wide as
    the headers, every column aligned left or right, and every text printable ASCII (one
    column per character, with or without `wcwidth`, and nothing tabulate reads as a line
    break, a colour code or a separating line)."""
    width = len(headers)
    return (
        bool(rows)
        and len(align) == width
        and all(len(row) == width for row in rows)
        and all(side in ("left", "right") for side in align)
        and all(text.isascii() and text.isprintable() for text in headers)
        and all(text.isascii() and text.isprintable() for row in rows for text in row)
    )


def pipe_table(headers: list[str], rows: list[list[str]], align: Sequence[str]) -> str:
    """tabulate's "pipe" table of `_plain` text, without importing tabulate (whose import costs
    a report more than rendering every table): each column as wide as its widest value (values
    stripped, headers not) and its header plus two, values padded on the side away from their
    alignment, one space inside each bar, a colon marking the alignment under the headers."""
    columns = [[value.strip() for value in column] for column in zip(*rows, strict=True)]
    widths = [
        max(len(header) + 2, *map(len, column))
        for header, column in zip(headers, columns, strict=True)
    ]
    lefts = [side == "left" for side in align]

    def line(cells: Iterable[str]) -> str:
        padded = (
            text.ljust(width) if left else text.rjust(width)
            for text, width, left in zip(cells, widths, lefts, strict=True)
        )
        return "| " + " | ".join(padded) + " |"

    rule = "|".join(
        ":" + "-" * (width + 1) if left else "-" * (width + 1) + ":"
        for width, left in zip(widths, lefts, strict=True)
    )
    return "\n".join([line(headers), f"|{rule}|", *map(line, zip(*columns, strict=True))])


def render_table(data: tables.Table) -> str:
    """A table as a pipe table: names in code spans, every `|` escaped."""
    headers = [code(column.header) if column.name else column.header for column in data.columns]
    rows = [
        [text(cell.prefix) + code(cell.text) if cell.name else cell.text for cell in row]
        for row in data.rows
    ]
    return table(headers, rows, [column.align for column in data.columns])


def text(value: str) -> str:
    """Plain text (a path, a sentence, a zone's name) with every character that could start
    Markdown syntax escaped, and every control or invisible character shown escaped (a line
    break would start a block); paths like `.telemetry/usage.csv` need none and stay as they
    are."""
    marked = "".join("\\" + character if character in _SYNTAX else character for character in value)
    return escape(marked)


_SYNTAX = frozenset("\\`*_[]<>|~$&!#@")


def _about(report: Report) -> str:
    return "\n".join(f"- {line}" for line in about_lines(report, text, code))


def about_lines(
    report: Report, text: Callable[[str], str], name: Callable[[str], str]
) -> list[str]:
    """What a report covers, in every format's words: its source and rows, its filters, its
    zone; `text` escapes plain text for the format and `name` marks a model or task type."""
    source = text(report.source) if report.source else "rows given"
    lines = [f"Source: {source}, {numbers.plural(report.rows_read, 'row')}"]
    if report.filters.active:
        lines.append(
            f"Filters: {report.filters.describe(text, name)} "
            f"({report.rows:,} of {report.rows_read:,} rows match)"
        )
    lines.append(f"Days and weeks in {text(report.zone.name)}")
    return lines


def _names(names: Sequence[str]) -> str:
    return ", ".join(code(name) for name in names)


def _skipped(report: Report) -> str:
    counted = numbers.skipped(report.skipped)
    return f"**Skipped {counted}** (`--skip-invalid`); `telemetry-csv check` lists them."


def _nothing(report: Report) -> str:
    if report.rows_read == 0:
        return "No rows yet: the log has no rows. Log a task with `telemetry-csv log`."
    return f"No rows match the filters ({report.filters.describe(str, code)})."


def _shown(noun: str, shown: int, available: int, option: str) -> str:
    if available == 1:
        return f"The one {noun} with data."
    if shown == available:
        return f"All {available:,} {noun}s with data, oldest first."
    return (
        f"The most recent {shown:,} of {available:,} {noun}s with data, oldest first "
        f"(`{option} N` shows more; the JSON output has all)."
    )


def _footer(report: Report) -> list[str]:
    costs = report.costs
    if costs.status == "unavailable":
        return [f"Costs are not estimated: `{install_hint()}` adds estimates."]
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
