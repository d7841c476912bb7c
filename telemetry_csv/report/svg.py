"""Static SVG charts, drawn as text by the tool: no script, no font, nothing fetched.

Each function takes plain numbers and labels and returns one `<svg>` element for an HTML page
(`html_format`), which styles it: colours come from CSS classes (`c0`..`c6`, `other`, `grid`,
...), so light and dark mode are the page's stylesheet's business, not the drawing's.

Charts scale to their container (a `viewBox`, width 100%). They stay legible with many points:
axis labels are thinned to a handful (days, then Mondays, months, quarters, years, whichever is
the finest that fits), long names are clipped (their full text is in a tooltip and in the
tables), and many bars are one path per series, not one element per bar.

Every text that comes from data (model names, task types) is escaped here; callers pass it raw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape
from typing import NamedTuple

from telemetry_csv.report.dates import civil_from_days, day_label, days_from_civil, week_label

WIDTH = 400  # the viewBox width of a chart; its text is 11 units high
WIDE = 720  # of a chart across the page (its text is larger at phone width, see html_format)
LABEL_CHARS = 18  # names longer than this are clipped on an axis
_ROW = 22  # height of a row in the bar charts
_LEFT, _RIGHT, _TOP, _BOTTOM = 46, 10, 10, 24


class Frame(NamedTuple):
    """A drawing area: the viewBox and the plot inside it."""

    width: float
    height: float
    left: float
    right: float  # x of the plot's right edge
    top: float
    bottom: float  # y of the plot's bottom edge


class Point(NamedTuple):
    """One model on an interval plot."""

    label: str  # drawn next to the point (a rank)
    name: str  # for the tooltip
    rate: float  # 0..1
    low: float
    high: float
    cost: float | None  # dollars per success; None: drawn in the strip for unknown costs
    css: str
    marked: bool = False  # the pick


def svg(frame: Frame, ident: str, title: str, body: Sequence[str], css: str = "chart") -> str:
    """The `<svg>` element, labelled for screen readers by its title."""
    return (
        f'<svg class="{css}" viewBox="0 0 {_n(frame.width)} {_n(frame.height)}" role="img" '
        f'aria-labelledby="{ident}-t" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}-t">{escape(title)}</title>{"".join(body)}</svg>'
    )


def stacked_columns(
    ident: str,
    title: str,
    first: int,
    last: int,
    columns: Sequence[tuple[int, Sequence[float]]],
    classes: Sequence[str],
    tips: Sequence[str],
    x_labels: Sequence[tuple[int, str]],
    y_format: Callable[[float], str],
) -> str:
    """A column per x (first..last) that has data, its values stacked in series order; one path
    per series. `tips` (one per column) become tooltips over the whole height."""
    top_value = max((sum(values) for _, values in columns), default=0)
    ticks = nice_ticks(top_value)
    frame = Frame(WIDE, 240, _LEFT, WIDE - _RIGHT, _TOP, 240 - 30)
    step = (frame.right - frame.left) / max(last - first + 1, 1)
    width = step * 0.8 if step >= 3 else step
    scale = (frame.bottom - frame.top) / (ticks[-1] or 1)
    paths: list[list[str]] = [[] for _ in classes]
    hover = []
    for (x, values), tip in zip(columns, tips, strict=True):
        left = frame.left + (x - first) * step + (step - width) / 2
        base = 0.0
        for index, value in enumerate(values):
            if value <= 0:
                continue
            y = frame.bottom - (base + value) * scale
            paths[index].append(
                f"M{_n(left)} {_n(y)}h{_n(width)}v{_n(value * scale)}h{_n(-width)}z"
            )
            base += value
        hover.append(
            f'<rect x="{_n(frame.left + (x - first) * step)}" y="{_n(frame.top)}" '
            f'width="{_n(step)}" height="{_n(frame.bottom - frame.top)}">'
            f"<title>{escape(tip)}</title></rect>"
        )
    body = [*_y_axis(frame, ticks, y_format), *_x_axis(frame, first, last, step, x_labels)]
    body += [
        f'<path class="bar {css}" d="{"".join(parts)}"/>'
        for css, parts in zip(classes, paths, strict=True)
        if parts
    ]
    body.append(f'<g class="hover">{"".join(hover)}</g>')
    return svg(frame, ident, title, body, "chart wide")


def line_panel(
    ident: str,
    title: str,
    first: int,
    last: int,
    values: dict[int, float],
    reference: dict[int, float],
    css: str,
    step: int = 7,
) -> str:
    """A small rate chart (0..100%) of one series over x = first..last (in `step`s), with the
    `reference` series (all models) dashed behind it; no line across an x without data."""
    frame = Frame(200, 96, 34, 194, 6, 78)
    span = max(last - first, 1)

    def x(at: int) -> float:
        return frame.left + (at - first) / span * (frame.right - frame.left)

    def y(rate: float) -> float:
        return frame.bottom - rate * (frame.bottom - frame.top)

    body = []
    for rate in (0.0, 0.5, 1.0):
        body.append(
            f'<line class="grid" x1="{_n(frame.left)}" x2="{_n(frame.right)}" '
            f'y1="{_n(y(rate))}" y2="{_n(y(rate))}"/>'
            f'<text class="tick" x="{_n(frame.left - 3)}" y="{_n(y(rate))}" '
            f'text-anchor="end" dominant-baseline="middle">{int(rate * 100)}%</text>'
        )
    body.append(f'<path class="reference" d="{_polyline(reference, x, y, step)}"/>')
    body.append(f'<path class="line {css}" d="{_polyline(values, x, y, step)}"/>')
    dots = "".join(f"M{_n(x(at))} {_n(y(rate))}h0" for at, rate in sorted(values.items()))
    body.append(f'<path class="dots {css}" d="{dots}"/>')
    for at, anchor in ((first, "start"), (last, "end")):
        body.append(
            f'<text class="tick" x="{_n(x(at))}" y="{_n(frame.bottom + 4)}" '
            f'text-anchor="{anchor}" dominant-baseline="hanging">{escape(week_label(at))}</text>'
        )
    return svg(frame, ident, title, body, "chart panel")


def range_rows(
    ident: str,
    title: str,
    rows: Sequence[tuple[str, float, float, str]],
    x_format: Callable[[float], str] | None = None,
) -> str:
    """A row per label: a bar to the high value (p95), a darker one to the low value (p50), and
    the text at the end. Rows are (label, low, high, text)."""
    top_value = max((high for _, _, high, _ in rows), default=0)
    ticks = duration_ticks(top_value)
    frame = _rows_frame(len(rows))
    scale = (frame.right - frame.left) / (ticks[-1] or 1)
    body = list(_x_ticks(frame, ticks, x_format or short_duration))
    for index, (label, low, high, text) in enumerate(rows):
        top = frame.top + index * _ROW
        body.append(_row_label(frame, top, label))
        body.append(
            f'<rect class="p95" x="{_n(frame.left)}" y="{_n(top + 5)}" width="{_n(high * scale)}" '
            f'height="12"><title>{escape(label)}: {escape(text)}</title></rect>'
            f'<rect class="p50" x="{_n(frame.left)}" y="{_n(top + 5)}" '
            f'width="{_n(low * scale)}" height="12"/>'
        )
        body.append(_row_text(frame, top, text, high * scale))
    return svg(frame, ident, title, body)


def value_rows(
    ident: str,
    title: str,
    rows: Sequence[tuple[str, float | None, str, str]],
    x_format: Callable[[float], str],
) -> str:
    """A bar per label, or none where the value is unknown; rows are (label, value, text,
    css class)."""
    top_value = max((value for _, value, _, _ in rows if value is not None), default=0)
    ticks = nice_ticks(top_value)
    frame = _rows_frame(len(rows))
    scale = (frame.right - frame.left) / (ticks[-1] or 1)
    body = list(_x_ticks(frame, ticks, x_format))
    for index, (label, value, text, css) in enumerate(rows):
        top = frame.top + index * _ROW
        body.append(_row_label(frame, top, label))
        length = (value or 0) * scale
        if value is not None:
            body.append(
                f'<rect class="{css}" x="{_n(frame.left)}" y="{_n(top + 5)}" '
                f'width="{_n(max(length, 0.5))}" height="12">'
                f"<title>{escape(label)}: {escape(text)}</title></rect>"
            )
        body.append(_row_text(frame, top, text, length))
    return svg(frame, ident, title, body)


def interval_plot(
    ident: str, title: str, points: Sequence[Point], y_format: Callable[[float], str]
) -> str:
    """Success rate (x, with its interval as a horizontal bar) against cost per success (y, on a
    log scale when costs span more than a factor of 20). Points without a cost go in a strip
    below the axis; without any cost at all, the points are stacked by rank (a forest plot)."""
    costs = [point.cost for point in points if point.cost is not None and point.cost > 0]
    strip = any(point.cost is None or point.cost <= 0 for point in points)
    plot_height = 150 if costs else 16 * len(points) + 8
    height = _TOP + plot_height + (24 if strip and costs else 0) + _BOTTOM
    frame = Frame(WIDTH, height, 58, WIDTH - 14, _TOP, _TOP + plot_height)

    # The x axis starts at the tenth (or quarter) below the lowest interval, so that close
    # rates do not huddle at the right edge.
    lowest = min((point.low for point in points), default=0.0)
    step = 0.1 if lowest >= 0.5 else 0.25
    start = min(math.floor(lowest / step + 1e-9) * step, 1 - step)

    def x(rate: float) -> float:
        return frame.left + (rate - start) / (1 - start) * (frame.right - frame.left)

    body = []
    for index in range(round((1 - start) / step) + 1):
        rate = start + index * step
        body.append(
            f'<line class="grid" x1="{_n(x(rate))}" x2="{_n(x(rate))}" y1="{_n(frame.top)}" '
            f'y2="{_n(height - _BOTTOM)}"/>'
            f'<text class="tick" x="{_n(x(rate))}" y="{_n(height - _BOTTOM + 5)}" '
            f'text-anchor="middle" dominant-baseline="hanging">{round(rate * 100)}%</text>'
        )
    position: Callable[[int, Point], float]
    if costs:
        low, high = min(costs), max(costs)
        logarithmic = high / low > 20
        ticks = log_ticks(low, high) if logarithmic else nice_ticks(high)
        bottom_value, top_value = ticks[0], ticks[-1]

        def y(value: float) -> float:
            if logarithmic:
                share = (math.log10(value) - math.log10(bottom_value)) / (
                    math.log10(top_value) - math.log10(bottom_value) or 1
                )
            else:
                share = (value - bottom_value) / ((top_value - bottom_value) or 1)
            return frame.bottom - share * (frame.bottom - frame.top - 6)

        for tick in ticks:
            body.append(
                f'<line class="grid" x1="{_n(frame.left)}" x2="{_n(frame.right)}" '
                f'y1="{_n(y(tick))}" y2="{_n(y(tick))}"/>'
                f'<text class="tick" x="{_n(frame.left - 4)}" y="{_n(y(tick))}" '
                f'text-anchor="end" dominant-baseline="middle">{escape(y_format(tick))}</text>'
            )
        strip_y = frame.bottom + 14
        if strip:
            body.append(
                f'<text class="tick" x="{_n(frame.left - 4)}" y="{_n(strip_y)}" '
                f'text-anchor="end" dominant-baseline="middle">no cost</text>'
            )

        def position(_: int, point: Point) -> float:
            return strip_y if point.cost is None or point.cost <= 0 else y(point.cost)
    else:

        def position(index: int, point: Point) -> float:
            return frame.top + 8 + index * 16

    for index, point in enumerate(points):
        at = position(index, point)
        tip = f"{point.label}. {point.name}: {point.rate * 100:.1f}% ({point.low * 100:.1f}%\u2013{point.high * 100:.1f}%)"
        if point.cost is not None:
            tip += f", {y_format(point.cost)} per success"
        ring = " pick" if point.marked else ""
        body.append(
            f'<g class="{point.css}{ring}"><title>{escape(tip)}</title>'
            f'<line class="ci" x1="{_n(x(point.low))}" x2="{_n(x(point.high))}" '
            f'y1="{_n(at)}" y2="{_n(at)}"/>'
            f'<circle cx="{_n(x(point.rate))}" cy="{_n(at)}" r="{4 if point.marked else 3}"/>'
            f'<text class="point" x="{_n(x(point.rate) + 5)}" y="{_n(at - 4)}">'
            f"{escape(point.label)}</text></g>"
        )
    return svg(frame, ident, title, body)


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """0 and evenly spaced round values (1, 2, 2.5 or 5 times a power of ten) up to at least
    `top`, about `count` steps."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    steps = math.ceil(top / step - 1e-9)
    return [step * index for index in range(steps + 1)]


def log_ticks(low: float, high: float) -> list[float]:
    """Powers of ten around [low, high]; with 1, 2 and 5 times them when there are few."""
    first = math.floor(math.log10(low))
    last = math.ceil(math.log10(high))
    ticks = [10.0**power for power in range(first, last + 1)]
    if len(ticks) <= 3:
        ticks = [m * 10.0**power for power in range(first, last + 1) for m in (1, 2, 5)]
        ticks = [tick for tick in ticks if tick <= 10.0**last]
        below = [tick for tick in ticks if tick <= low]
        above = [tick for tick in ticks if tick >= high]
        ticks = [tick for tick in ticks if (below[-1] if below else 0) <= tick <= above[0]]
    return ticks


_DURATION_STEPS = [
    *(m * 1000 for m in (1, 2, 5, 10, 15, 30)),
    *(m * 60_000 for m in (1, 2, 5, 10, 15, 30)),
    *(m * 3_600_000 for m in (1, 2, 3, 6, 12, 24)),
]


def duration_ticks(top: float, count: int = 4) -> list[float]:
    """0 and round durations (1s, 2s, 5s, ... 1m, 2m, ... 1h, ...) up to at least `top` ms."""
    if top <= 0:
        return [0.0, 1000.0]
    raw = top / count
    step = next((s for s in _DURATION_STEPS if s >= raw), None)
    if step is None or raw < 1000:
        return nice_ticks(top, count)
    return [float(step * index) for index in range(math.ceil(top / step - 1e-9) + 1)]


def short_duration(ms: float) -> str:
    """0, 500ms, 30s, 5m, 1.5h: axis labels (the tables have `format_duration`'s)."""
    if ms == 0:
        return "0"
    for size, unit in ((3_600_000, "h"), (60_000, "m"), (1000, "s")):
        if ms >= size:
            return f"{ms / size:.1f}".removesuffix(".0") + unit
    return f"{ms:.0f}ms"


def compact(value: float) -> str:
    """12, 950, 1.2k, 35k, 1.5M, 2B: axis labels."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            shown = f"{value / size:.1f}".removesuffix(".0")
            return shown + suffix
    return f"{value:.1f}".removesuffix(".0")


def day_ticks(first: int, last: int, most: int = 5) -> list[tuple[int, str]]:
    """Labelled days between `first` and `last` (day numbers), at most `most` of them: every day,
    every other, Mondays, every other Monday, month starts, quarters, half years or years,
    whichever is the finest that fits."""
    span = last - first + 1
    for every in (1, 2):
        if span <= most * every:
            return [(day, day_label(day)) for day in range(first, last + 1, every)]
    monday = first + (-(first + 3)) % 7  # day 0 was a Thursday
    for every in (7, 14):
        days = list(range(monday, last + 1, every))
        if len(days) <= most:
            return [(day, day_label(day)) for day in days]
    for months in (1, 2, 3, 6, 12):
        starts = _month_starts(first, last, months)
        if len(starts) <= max(most, 6):
            return [(day, _month_label(day, months)) for day in starts]
    years = _month_starts(first, last, 12)
    every = math.ceil(len(years) / most)
    return [(day, _month_label(day, 12)) for day in years[::every]]


def clip(name: str, limit: int = LABEL_CHARS) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "\u2026"


def _month_starts(first: int, last: int, months: int) -> list[int]:
    year, month, day = civil_from_days(first)
    index = year * 12 + month - 1 + (day != 1)
    index += (-index) % months
    starts: list[int] = []
    while True:
        start = days_from_civil(index // 12, index % 12 + 1, 1)
        if start > last:
            return starts
        starts.append(start)
        index += months


def _month_label(day: int, months: int) -> str:
    year, month, _ = civil_from_days(day)
    return f"{year:04d}" if months == 12 else f"{year:04d}-{month:02d}"


def _y_axis(frame: Frame, ticks: Sequence[float], y_format: Callable[[float], str]) -> list[str]:
    scale = (frame.bottom - frame.top) / (ticks[-1] or 1)
    parts = []
    for tick in ticks:
        y = frame.bottom - tick * scale
        parts.append(
            f'<line class="grid" x1="{_n(frame.left)}" x2="{_n(frame.right)}" '
            f'y1="{_n(y)}" y2="{_n(y)}"/>'
            f'<text class="tick" x="{_n(frame.left - 4)}" y="{_n(y)}" '
            f'text-anchor="end" dominant-baseline="middle">{escape(y_format(tick))}</text>'
        )
    return parts


def _x_axis(
    frame: Frame, first: int, last: int, step: float, labels: Sequence[tuple[int, str]]
) -> list[str]:
    parts = []
    width = frame.right - frame.left
    for at, label in labels:
        x = frame.left + (at - first + 0.5) * step
        share = (x - frame.left) / width
        anchor = "start" if share < 0.12 else "end" if share > 0.88 else "middle"
        parts.append(
            f'<line class="axis" x1="{_n(x)}" x2="{_n(x)}" y1="{_n(frame.bottom)}" '
            f'y2="{_n(frame.bottom + 3)}"/>'
            f'<text class="tick" x="{_n(x)}" y="{_n(frame.bottom + 5)}" '
            f'text-anchor="{anchor}" dominant-baseline="hanging">{escape(label)}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{_n(frame.left)}" x2="{_n(frame.right)}" '
        f'y1="{_n(frame.bottom)}" y2="{_n(frame.bottom)}"/>'
    )
    return parts


def _rows_frame(count: int) -> Frame:
    height = _TOP + count * _ROW + _BOTTOM
    return Frame(WIDTH, height, 112, WIDTH - 118, _TOP, _TOP + count * _ROW)


def _x_ticks(frame: Frame, ticks: Sequence[float], x_format: Callable[[float], str]) -> list[str]:
    scale = (frame.right - frame.left) / (ticks[-1] or 1)
    parts = []
    for tick in ticks:
        x = frame.left + tick * scale
        parts.append(
            f'<line class="grid" x1="{_n(x)}" x2="{_n(x)}" y1="{_n(frame.top)}" '
            f'y2="{_n(frame.bottom)}"/>'
            f'<text class="tick" x="{_n(x)}" y="{_n(frame.bottom + 5)}" '
            f'text-anchor="middle" dominant-baseline="hanging">{escape(x_format(tick))}</text>'
        )
    return parts


def _row_label(frame: Frame, top: float, label: str) -> str:
    return (
        f'<text class="label" x="{_n(frame.left - 6)}" y="{_n(top + 15)}" text-anchor="end">'
        f"<title>{escape(label)}</title>{escape(clip(label, 17))}</text>"
    )


def _row_text(frame: Frame, top: float, text: str, length: float) -> str:
    return (
        f'<text class="value" x="{_n(frame.left + length + 4)}" y="{_n(top + 15)}">'
        f"{escape(text)}</text>"
    )


def _polyline(
    values: dict[int, float], x: Callable[[int], float], y: Callable[[float], float], step: int
) -> str:
    parts = []
    previous: int | None = None
    for at in sorted(values):
        command = "L" if previous is not None and at - previous == step else "M"
        parts.append(f"{command}{_n(x(at))} {_n(y(values[at]))}")
        previous = at
    return "".join(parts)


def _n(value: float) -> str:
    """A coordinate, to 0.01 of a unit: enough for any screen, and short."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
