"""The report as one self-contained HTML page: charts first, then the Markdown report's tables.

Nothing is fetched when the page is opened: styles are inline, charts are inline SVG drawn by
`svg`, there is no script, font or image from anywhere, and a content-security policy
(`default-src 'none'`, inline styles and `data:` images only) keeps it that way; the icon is an
empty `data:` URL so a browser does not ask a server for /favicon.ico. So it works offline, as
a CI artifact and as a mail attachment, and reads the same with scripts off.

Charts: tokens per day, stacked by model; success rate per ISO week, a small chart per model
with all models dashed behind; duration p50 and p95 per task type; estimated cost per model
(when costs are estimated); and, per task type, success rate against cost per success. Models
keep one colour on every chart; past `SERIES` models, the smaller ones share one series,
`other` (see `grouping`). Light and dark mode follow `prefers-color-scheme`; at phone width the
charts stack and wide tables scroll inside their own box.

Every table cell that shows a number of the JSON output carries it: `data-json` is its place in
the JSON document (`by_model[0].runs`) and `data-value` the JSON value, so the page can be
checked against `--format json` for the same selection. Every text from the data (model names,
task types, paths) is escaped: a model named `<script>` is shown as text.
"""

from __future__ import annotations

import json
import math
from html import escape
from typing import NamedTuple

from telemetry_csv.report import numbers, svg, tables
from telemetry_csv.report.costs import install_hint
from telemetry_csv.report.data import FEMTO_PER_USD, Cost, Report, Stats
from telemetry_csv.report.dates import day_label
from telemetry_csv.report.grouping import OTHER, ChartData
from telemetry_csv.report.markdown import DEFAULT_DAYS, DEFAULT_WEEKS, TITLE, about_lines
from telemetry_csv.report.tables import NO_VALUE

SERIES = 8  # models drawn on their own, `other` included: one colour each (c0..c6, other)
COST_ROWS = 12  # models in the cost chart; past that, the rest are one row, `other`
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


class HtmlOptions(NamedTuple):
    days: int = DEFAULT_DAYS  # as MarkdownOptions: most recent days in the daily table
    weeks: int = DEFAULT_WEEKS


def render_html(report: Report, options: HtmlOptions | None = None) -> str:
    options = options or HtmlOptions()
    title = TITLE.lstrip("# ")
    body = [f"<header><h1>{escape(title)}</h1>{_about(report)}</header>"]
    sections = []
    if report.budgets is not None:
        sections.append(("budget", "Budget", _budget(report)))
    if report.rows:
        sections.append(("charts", "At a glance", _charts(report)))
        if report.grouped is not None:
            grouped = tables.grouped(report)
            sections.append(("tables", grouped.caption, _table(grouped, "grouped")))
        else:
            sections.append(("tables", "Tables", _standard_tables(report, options)))
        if report.recommendations is not None:
            sections.append(("models", "Which model for which task", _recommendations(report)))
    else:
        body.append(f'<p class="note">{escape(_nothing(report))}</p>')
    if len(sections) > 1:
        links = "".join(
            f'<li><a href="#{ident}">{escape(name)}</a></li>' for ident, name, _ in sections
        )
        body.append(f'<nav aria-label="Sections"><ul>{links}</ul></nav>')
    for ident, name, content in sections:
        body.append(f'<section id="{ident}"><h2>{escape(name)}</h2>{content}</section>')
    body.append(f"<footer>{_footer(report)}</footer>")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="color-scheme" content="light dark">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{chr(10).join(body)}\n</main>\n</body>\n</html>\n"
    )


def _about(report: Report) -> str:
    items = about_lines(report, escape, _code)
    if report.skipped:
        items.append(
            f"<strong>Skipped {escape(numbers.skipped(report.skipped))}</strong> (--skip-invalid); "
            "<code>telemetry-csv check</code> lists them"
        )
    return '<ul class="about">' + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def _nothing(report: Report) -> str:
    if report.rows_read == 0:
        return "No rows yet: the log has no rows. Log a task with `telemetry-csv log`."
    return "No rows match the filters."


def _budget(report: Report) -> str:
    from telemetry_csv.report.markdown import budget_summary

    summary = budget_summary(report).replace("**", "")
    broken = any(result.broken for result in report.budgets or ())
    css = "summary broken" if broken else "summary"
    return f'<p class="{css}">{escape(summary)}</p>' + _table(tables.budgets(report), "budgets")


def _standard_tables(report: Report, options: HtmlOptions) -> str:
    parts = [
        _table(tables.overview(report), "overview"),
        _table(tables.by_model(report), "by-model"),
        _table(tables.by_task_type(report), "by-task-type"),
        _table(tables.matrix(report), "matrix"),
    ]
    for label, noun, shown, groups, option in (
        ("Day", "day", options.days, report.by_day, "--days"),
        ("Week", "ISO week", options.weeks, report.by_week, "--weeks"),
    ):
        if shown > 0:
            data = tables.periods(report, label, shown)
            parts.append(
                f'<p class="note">{escape(_shown(noun, len(data.rows), len(groups), option))}</p>'
            )
            parts.append(_table(data, "daily" if label == "Day" else "weekly"))
    return "".join(parts)


def _shown(noun: str, shown: int, available: int, option: str) -> str:
    if available == 1:
        return f"The one {noun} with data."
    if shown == available:
        return f"All {available:,} {noun}s with data, oldest first."
    return (
        f"The most recent {shown:,} of {available:,} {noun}s with data, oldest first "
        f"({option} N shows more; the JSON output has all)."
    )


def _table(data: tables.Table, ident: str) -> str:
    """A table; each cell with a JSON value carries it (see the module docstring)."""
    head = "".join(
        f'<th scope="col" class="{column.align[0]}">'
        f"{_code(column.header) if column.name else escape(column.header)}</th>"
        for column in data.columns
    )
    rows = []
    for index, row in enumerate(data.rows):
        mark = data.marks[index] if index < len(data.marks) else ""
        cells = []
        for position, (column, cell) in enumerate(zip(data.columns, row, strict=True)):
            tag = "th" if position == 0 else "td"
            attributes = f' class="{column.align[0]}"'
            if tag == "th":
                attributes += ' scope="row"'
            if cell.value is not NO_VALUE:
                value = json.dumps(cell.value, ensure_ascii=False)
                attributes += f' data-json="{escape(cell.path)}" data-value="{escape(value)}"'
            content = escape(cell.prefix) + _code(cell.text) if cell.name else escape(cell.text)
            cells.append(f"<{tag}{attributes}>{content}</{tag}>")
        css = f' class="{mark}"' if mark else ""
        rows.append(f"<tr{css}>{''.join(cells)}</tr>")
    caption = f"<caption>{escape(data.caption)}</caption>" if data.caption else ""
    return (
        f'<div class="table-wrap"><table id="{ident}">{caption}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _charts(report: Report) -> str:
    data = report.charts
    figures = []
    if data is not None and data.by_day:
        figures.append(_tokens_chart(data))
        figures.append(_success_charts(data))
    figures.append(_durations_chart(report))
    if report.costs.estimated:
        figures.append(_cost_chart(report, data))
    return '<div class="charts">' + "".join(figures) + "</div>"


def _series_classes(data: ChartData | None) -> dict[str, str]:
    if data is None:
        return {}
    return {
        name: "other" if name == OTHER else f"c{index}" for index, name in enumerate(data.series)
    }


def _series_name(data: ChartData, name: str) -> str:
    return f"other ({numbers.plural(len(data.other), 'model')})" if name == OTHER else name


def _legend(data: ChartData) -> str:
    classes = _series_classes(data)
    items = "".join(
        f'<li><span class="key {classes[name]}"></span>'
        f"{escape(_series_name(data, name)) if name == OTHER else _code(name)}</li>"
        for name in data.series
    )
    legend = f'<ul class="legend">{items}</ul>'
    if data.other:
        legend += (
            '<p class="note">Other: ' + ", ".join(_code(name) for name in data.other) + ".</p>"
        )
    return legend


def _tokens_chart(data: ChartData) -> str:
    first, last = data.by_day[0][0], data.by_day[-1][0]
    columns = []
    tips = []
    for day, found in data.by_day:
        values = [found[name].total_tokens if name in found else 0 for name in data.series]
        columns.append((day, values))
        detail = "; ".join(
            f"{_series_name(data, name)}: {value:,}"
            for name, value in zip(data.series, values, strict=True)
            if value
        )
        tips.append(f"{day_label(day)}: {sum(values):,} tokens ({detail})")
    classes = _series_classes(data)
    chart = svg.stacked_columns(
        "tokens",
        "Tokens per day by model",
        first,
        last,
        columns,
        [classes[name] for name in data.series],
        tips,
        svg.day_ticks(first, last),
        svg.compact,
    )
    return _figure("Tokens per day, by model", chart + _legend(data), "wide")


def _success_charts(data: ChartData) -> str:
    first, last = data.by_week[0][0], data.by_week[-1][0]
    reference = {}
    for week, found in data.by_week:
        runs = sum(stats.runs for stats in found.values())
        reference[week] = sum(stats.successes for stats in found.values()) / runs
    classes = _series_classes(data)
    panels = []
    for index, name in enumerate(data.series):
        values = {
            week: found[name].successes / found[name].runs
            for week, found in data.by_week
            if name in found and found[name].runs
        }
        shown = _series_name(data, name)
        chart = svg.line_panel(
            f"success-{index}",
            f"Success rate per ISO week: {shown}",
            first,
            last,
            values,
            reference,
            classes[name],
        )
        label = escape(shown) if name == OTHER else _code(name)
        panels.append(f'<div class="panel-box"><p class="panel-title">{label}</p>{chart}</div>')
    note = '<p class="note">Dashed: all models. A gap: no runs that week.</p>'
    return _figure(
        "Success rate per ISO week, by model",
        f'<div class="panels">{"".join(panels)}</div>{note}',
        "wide",
    )


def _durations_chart(report: Report) -> str:
    rows = [
        (
            str(group.key),
            group.stats.durations.p50 or 0.0,
            group.stats.durations.p95 or 0.0,
            f"{numbers.duration(group.stats.durations.p50)} / {numbers.duration(group.stats.durations.p95)}",
        )
        for group in report.by_task_type
    ]
    chart = svg.range_rows("durations", "Duration p50 and p95 per task type", rows)
    legend = (
        '<ul class="legend"><li><span class="key p50"></span>p50 (median)</li>'
        '<li><span class="key p95"></span>p95</li></ul>'
    )
    return _figure("Duration per task type", chart + legend)


def _cost_chart(report: Report, data: ChartData | None) -> str:
    groups = sorted(
        report.by_model,
        key=lambda group: (not _priced(group.stats), -_femto(group.stats), str(group.key)),
    )
    classes = _series_classes(data)
    rows = []
    shown = groups if len(groups) <= COST_ROWS else groups[: COST_ROWS - 1]
    for group in shown:
        cost = group.stats.cost or Cost()
        rows.append(
            (
                str(group.key),
                cost.femto_usd / FEMTO_PER_USD if cost.priced_runs else None,
                numbers.cost(cost),
                classes.get(str(group.key), "other"),
            )
        )
    rest = groups[len(shown) :]
    if rest:
        cost = Cost(
            sum(_femto(group.stats) for group in rest),
            sum((group.stats.cost or Cost()).priced_runs for group in rest),
            sum((group.stats.cost or Cost()).unpriced_runs for group in rest),
        )
        value = cost.femto_usd / FEMTO_PER_USD if cost.priced_runs else None
        rows.append((f"other ({len(rest)} models)", value, numbers.cost(cost), "other"))
    chart = svg.value_rows("costs", "Estimated cost per model", rows, _dollars)
    return _figure("Estimated cost per model", chart)


def _recommendations(report: Report) -> str:
    from telemetry_csv.report.markdown import recommendation_method

    classes = _series_classes(report.charts)
    parts = [f'<p class="note">{escape(recommendation_method(report))}</p>']
    for index, found in enumerate(report.recommendations or ()):
        if found.pick is None:
            verdict = f"No pick: {escape(found.reason)}."
        else:
            verdict = f"<strong>Pick: {_code(found.pick)}</strong>: {escape(found.reason)}."
        points = [
            svg.Point(
                str(rank + 1),
                candidate.model,
                candidate.success_rate,
                candidate.interval[0],
                candidate.interval[1],
                None if candidate.cost_per_success is None else float(candidate.cost_per_success),
                classes.get(candidate.model, "other"),
                candidate.model == found.pick,
            )
            for rank, candidate in enumerate(found.candidates)
        ]
        costed = any(point.cost for point in points)
        what = (
            "Success rate (95% interval) against cost per success"
            if costed
            else ("Success rate (95% interval), by rank")
        )
        chart = svg.interval_plot(f"pick-{index}", f"{what}: {found.task_type}", points, _dollars)
        parts.append(
            f'<article class="task"><h3>{_code(found.task_type)}</h3><p>{verdict}</p>'
            f"{_figure(what, chart)}"
            f"{_table(tables.recommendation(report, index), f'models-{index}')}</article>"
        )
    return "".join(parts)


def _footer(report: Report) -> str:
    costs = report.costs
    if costs.status == "unavailable":
        return (
            f"<p>Costs are not estimated: <code>{escape(install_hint())}</code> adds estimates.</p>"
        )
    if not costs.estimated:
        return ""
    lines = [
        f"Estimated costs use {escape(costs.price_data or '')} price data, each run priced at "
        "its own timestamp; they are estimates, not a bill."
    ]
    priced = [f"{_code(model)} as {_code(label)}" for model, label in costs.priced_as if label]
    unpriced = [_code(model) for model, label in costs.priced_as if not label]
    if priced:
        lines.append("Priced as: " + "; ".join(priced) + ".")
    if unpriced:
        lines.append("No known price (unpriced): " + ", ".join(unpriced) + ".")
    return "".join(f"<p>{line}</p>" for line in lines)


def _figure(caption: str, content: str, css: str = "") -> str:
    attribute = f' class="{css}"' if css else ""
    return f"<figure{attribute}><figcaption>{escape(caption)}</figcaption>{content}</figure>"


def _code(text: str) -> str:
    return f"<code>{escape(text)}</code>"


def _priced(stats: Stats) -> bool:
    return stats.cost is not None and stats.cost.priced_runs > 0


def _femto(stats: Stats) -> int:
    return stats.cost.femto_usd if stats.cost is not None else 0


def _dollars(value: float) -> str:
    """Dollars on an axis or a tooltip: `$120`, `$4.50`, `$0.10`, `$0.0071` (two significant
    digits under a cent)."""
    if value >= 100:
        return f"${value:,.0f}"
    if value == 0:
        return "$0"
    if value >= 1:
        return f"${value:,.2f}"
    digits = max(2, 1 - math.floor(math.log10(value)))
    text = f"{value:.{digits}f}"
    if digits > 2:
        text = text.rstrip("0")
    return "$" + text


STYLE = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;
--panel:#f6f8fa;--bad:#cf222e;--good:#1a7f37;--c0:#0072b2;--c1:#e69f00;--c2:#009e73;
--c3:#cc79a7;--c4:#56b4e9;--c5:#d55e00;--c6:#7f6a3a;--other:#8c959f;--p50:#0072b2;--p95:#9ccbe8}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;
--line:#30363d;--panel:#161b22;--bad:#ff7b72;--good:#56d364;--c0:#58a6ff;--c1:#f2b84b;
--c2:#3fcf9b;--c3:#e59ad0;--c4:#8fd3ff;--c5:#ff8f5a;--c6:#c7a868;--other:#8b949e;
--p50:#58a6ff;--p95:#1f4f7a}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:16px}
h1{font-size:1.6em;margin:0 0 .3em}h2{margin:1.6em 0 .5em;border-bottom:1px solid var(--line)}
h3{margin:1.2em 0 .3em}
a{color:var(--c0)}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere;
background:var(--panel);padding:0 .25em;border-radius:4px}
td code,th code{overflow-wrap:normal;white-space:nowrap}
ul.about{margin:0;padding-left:1.2em;color:var(--muted)}
nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:.4em 1em;padding:0;margin:1em 0 0}
.note{color:var(--muted);font-size:.92em}
.summary{font-weight:600}.summary.broken{color:var(--bad)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,400px),1fr));gap:20px}
figure{margin:0;min-width:0}figure.wide{grid-column:1/-1}
figcaption{font-weight:600;margin-bottom:.3em}
svg.chart{display:block;width:100%;height:auto;max-width:560px}svg.wide{max-width:960px}
@media (max-width:600px){svg.wide text{font-size:20px}}
svg text{fill:var(--muted);font:11px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
svg text.label,svg text.value,svg text.point{fill:var(--fg)}
svg .grid{stroke:var(--line);stroke-width:.6}svg .axis{stroke:var(--muted);stroke-width:.8}
svg .hover rect{fill:transparent}svg .hover rect:hover{fill:var(--fg);fill-opacity:.08}
.c0{fill:var(--c0);stroke:var(--c0);background:var(--c0)}
.c1{fill:var(--c1);stroke:var(--c1);background:var(--c1)}
.c2{fill:var(--c2);stroke:var(--c2);background:var(--c2)}
.c3{fill:var(--c3);stroke:var(--c3);background:var(--c3)}
.c4{fill:var(--c4);stroke:var(--c4);background:var(--c4)}
.c5{fill:var(--c5);stroke:var(--c5);background:var(--c5)}
.c6{fill:var(--c6);stroke:var(--c6);background:var(--c6)}
.other{fill:var(--other);stroke:var(--other);background:var(--other)}
svg path.bar{stroke:none}
.p50{fill:var(--p50);background:var(--p50)}.p95{fill:var(--p95);background:var(--p95)}
svg path.line{fill:none;stroke-width:1.6}svg path.dots{fill:none;stroke-width:3.2;stroke-linecap:round}
svg path.reference{fill:none;stroke:var(--muted);stroke-width:1;stroke-dasharray:3 3}
svg .ci{stroke-width:2.4;stroke-opacity:.55}svg .pick circle{stroke:var(--fg);stroke-width:1.5}
svg text.point{font-size:10px}
.panels{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:10px}
.panel-box{min-width:0}.panel-title{margin:0;font-size:.9em;overflow-wrap:anywhere}
svg.panel{display:block;width:100%;height:auto}
ul.legend{list-style:none;display:flex;flex-wrap:wrap;gap:.2em 1em;padding:0;margin:.4em 0;
font-size:.9em}
ul.legend li{min-width:0;overflow-wrap:anywhere}
.key{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.35em;
vertical-align:-.05em}
.table-wrap{overflow-x:auto;max-width:100%;margin:.6em 0 1.2em}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:.92em}
caption{text-align:left;font-weight:600;padding:.2em 0}
th,td{padding:.3em .6em;border-bottom:1px solid var(--line);vertical-align:top}
thead th{border-bottom:2px solid var(--line);white-space:nowrap}
.l{text-align:left}.r{text-align:right;white-space:nowrap}
tbody th{font-weight:normal}
tr.broken{color:var(--bad);font-weight:600}tr.total{font-weight:600}
tr.pick th,tr.pick td{background:var(--panel);font-weight:600}
article.task{border-top:1px solid var(--line)}
footer{margin-top:2em;color:var(--muted);font-size:.9em}
""".strip()
