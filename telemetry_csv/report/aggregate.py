"""The report's one streaming pass over rows, and the statistics of every group.

Each row lands in one cell keyed by (model, task type, local day, success); the cell keeps counts,
token sums (the cache parts too, where rows know them), the femto-dollar cost and the durations
(an `array('q')`, 8 bytes a run, which percentiles need). Every group the report shows (total,
model, task type, model x task type, day, ISO week, and any `--group-by`) is a union of cells,
built at the end (see `cells`, the seam between this pass and the groups). So memory grows with
the number of cells and runs, never with
the size of the files, and the work per row is a few dictionary look-ups.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from itertools import repeat
from typing import Any, NamedTuple

from telemetry_csv.logfile.reading import ExtendedRun
from telemetry_csv.logfile.schema import Row, restore
from telemetry_csv.report.cells import Cell, CellTable, combine, statistics
from telemetry_csv.report.costs import Pricer, load_pricer
from telemetry_csv.report.data import Cost, CostInfo, Group, Report, Stats
from telemetry_csv.report.dates import day_label, fraction_ns, week_label, week_of
from telemetry_csv.report.filters import Filters
from telemetry_csv.report.zones import UTC_ZONE, HourBuckets, ReportZone

CellKey = tuple[str, str, int, bool]  # (model, task type, day number, success): cells.CellKey


class ReportOptions(NamedTuple):
    filters: Filters = Filters()
    zone: ReportZone = UTC_ZONE
    costs: bool = True  # estimate costs when the `cost` extra is installed
    group_by: tuple[str, ...] = ()  # columns of one more table (`grouping.COLUMNS`)
    chart_series: int = 0  # the HTML charts' data, with at most this many series (0: none)


def build_report(rows: Iterable[Row | str], options: ReportOptions | None = None) -> Report:
    """Aggregate `rows` in one pass; see the module docstring for what is kept. A str among
    them is a run of whole canonical lines, each a valid row, as `reading.scan_runs` yields
    (an `ExtendedRun` in the extended header's shape)."""
    options = options or ReportOptions()
    pricer = load_pricer() if options.costs else None
    scan = _scan(rows, options, pricer)
    table = CellTable(scan.cells, costed=pricer is not None)
    grouped = charts = None
    if options.group_by or options.chart_series:
        from telemetry_csv.report import grouping

        if options.group_by:
            grouped = grouping.group_cells(table, options.group_by, pricer)
        if options.chart_series:
            charts = grouping.chart_data(table, options.chart_series)
    report = _report(scan._replace(cells=table.release()), options, pricer)
    return report._replace(grouped=grouped, charts=charts)


def scan_cells(rows: Iterable[Row | str], options: ReportOptions | None = None) -> CellTable:
    """Only the pass: every cell of `rows`, for statistics of any union of them (`cells`)."""
    options = options or ReportOptions()
    pricer = load_pricer() if options.costs else None
    return CellTable(_scan(rows, options, pricer).cells, costed=pricer is not None)


class _Scanned(NamedTuple):
    cells: dict[CellKey, Cell]
    rows_read: int
    first: str | None
    last: str | None


def _scan(rows: Iterable[Row | str], options: ReportOptions, pricer: Pricer | None) -> _Scanned:
    """The one pass over the rows: each lands in its cell (see the module docstring)."""
    filters = options.filters
    models = frozenset(filters.models) or None
    kinds = frozenset(filters.task_types) or None
    since_day = filters.since.day if filters.since else None
    until_day = filters.until.day if filters.until else None
    since_instant = filters.since.instant if filters.since else None
    until_instant = filters.until.instant if filters.until else None
    by_name = models is not None or kinds is not None
    by_time = filters.since is not None or filters.until is not None
    by_instant = since_instant is not None or until_instant is not None

    buckets = HourBuckets(options.zone)
    hours = buckets.hours
    new_hour = buckets.entry
    exact_day = buckets.exact_day
    cells: dict[CellKey, Cell] = {}
    pricings: dict[str, Any] = {}
    first: str | None = None
    last: str | None = None
    first_start: float = math.inf
    last_start: float = -math.inf
    read = 0
    split = str.split
    for item in rows:
        # Each row comes as its first seven fields and its cache parts: a (read, write) tuple
        # where the row knows them, anything else (the notes of an 8-column line) where not.
        if isinstance(item, str):
            # A run of canonical lines: the first seven fields end at the first seven commas.
            lines = item[:-1].split("\n")
            read += len(lines)
            # Fields as text from a run, typed values from a Row: the loop reads either.
            batch: Iterable[Sequence[Any]]
            if type(item) is ExtendedRun:
                batch = map(_extended_fields, lines)
            else:
                batch = map(split, lines, repeat(","), repeat(7))
            if ",'" in item:  # perhaps a model name stored neutralised, as `'@cf/…`
                batch = map(_model_as_given, batch)
        else:
            read += 1
            cache = item.cache_read_tokens, item.cache_write_tokens
            batch = (
                (
                    *item[:4],
                    "true" if item[4] else "false",
                    item[5],
                    item[6],
                    (cache[0] or 0, cache[1] or 0) if cache != (None, None) else None,
                ),
            )
        cached: Any
        for stamp, model, prompt, completion, success, kind, duration, cached in batch:
            if by_name and (
                (models is not None and model not in models)
                or (kinds is not None and kind not in kinds)
            ):
                continue
            key = stamp[:13] if stamp[-1] == "Z" else stamp[:13] + stamp[-6:]  # hour_key, inlined
            entry = hours.get(key)
            if entry is None:
                entry = new_hour(key, stamp)
            day, start = entry
            if day is None:
                day = exact_day(start, stamp)
            if by_time:
                if (since_day is not None and day < since_day) or (
                    until_day is not None and day > until_day
                ):
                    continue
                if by_instant:
                    moment = (
                        start + int(stamp[14:16]) * 60 + int(stamp[17:19]),
                        fraction_ns(stamp),
                    )
                    if (since_instant is not None and moment < since_instant) or (
                        until_instant is not None and moment > until_instant
                    ):
                        continue
            # First and last by instant. A row's stored hour starts at `start`; hours that start
            # an hour or more apart are ordered by their starts, the same hour by MM:SS and
            # fraction, and overlapping hours (offsets such as +05:30) by exact instants. Of
            # equal instants the first read is first and the last read is last.
            if start > last_start - 3600:
                if start - last_start >= 3600:
                    last_start, last = start, stamp
                elif start == last_start:
                    clock, last_clock = stamp[14:19], last[14:19]  # type: ignore[index]
                    if clock > last_clock or (
                        clock == last_clock and fraction_ns(stamp) >= fraction_ns(last)  # type: ignore[arg-type]
                    ):
                        last = stamp
                elif _moment(start, stamp) >= _moment(last_start, last):  # type: ignore[arg-type]
                    last_start, last = start, stamp
            if start < first_start + 3600:
                if first_start - start >= 3600:
                    first_start, first = start, stamp
                elif start == first_start:
                    clock, first_clock = stamp[14:19], first[14:19]  # type: ignore[index]
                    if clock < first_clock or (
                        clock == first_clock and fraction_ns(stamp) < fraction_ns(first)  # type: ignore[arg-type]
                    ):
                        first = stamp
                elif _moment(start, stamp) < _moment(first_start, first):  # type: ignore[arg-type]
                    first_start, first = start, stamp
            ok = success == "true"
            cell = cells.get((model, kind, day, ok))
            if cell is None:
                durations = array("q")
                cell = cells[model, kind, day, ok] = [
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    durations,
                    durations.append,
                    0,
                    0,
                ]
            # Literal indexes (see cells.RUNS...): a global look-up per field would cost more.
            prompt = int(prompt)
            completion = int(completion)
            cell[0] += 1
            cell[1] += ok
            cell[2] += prompt
            cell[3] += completion
            cell[7](int(duration))
            has_cache = cached.__class__ is tuple
            if has_cache:
                cell[8] += cached[0]
                cell[9] += cached[1]
            if pricer is not None:
                pricing = pricings.get(model, False)
                if pricing is False:
                    pricing = pricings[model] = pricer.model(model)
                if pricing is None:
                    cell[5] += 1
                    continue
                # Prices rarely change, so most rows' whole hour lies inside the price's window
                # and the row's own second need not be read.
                if not (pricing.start <= start and start + 3600 <= pricing.end):
                    second = start + int(stamp[14:16]) * 60 + int(stamp[17:19])
                    if not (pricing.start <= second < pricing.end):
                        pricing.move_to(second)
                rates = pricing.base_rates
                if prompt <= rates[3]:
                    if has_cache:
                        cache_read, cache_write = cached
                        cell[4] += (
                            rates[0] * (prompt - cache_read - cache_write)
                            + rates[4] * cache_read
                            + rates[5] * cache_write
                            + rates[1] * completion
                            + rates[2]
                        )
                    else:
                        cell[4] += rates[0] * prompt + rates[1] * completion + rates[2]
                elif pricing.tariff is not None:
                    if has_cache:
                        cell[4] += pricing.tariff.cost(prompt, completion, *cached)
                    else:
                        cell[4] += pricing.tariff.cost(prompt, completion)
                else:
                    cell[5] += 1
    return _Scanned(cells, read, first, last)


def _extended_fields(line: str) -> list[Any]:
    """An extended line's first seven fields and its cache parts (see `_scan`): its last four
    fields hold no comma, its first seven end at the first seven commas."""
    head, _, _, cache_read, cache_write = line.rsplit(",", 4)
    fields: list[Any] = head.split(",", 7)
    if cache_read or cache_write:
        fields[7] = (int(cache_read or 0), int(cache_write or 0))
    return fields


def _model_as_given(fields: Sequence[Any]) -> Sequence[Any]:
    """A canonical line's fields with the model name as given, not as stored (`schema.restore`)."""
    return (fields[0], restore(fields[1]), *fields[2:])


def _report(scan: _Scanned, options: ReportOptions, pricer: Pricer | None) -> Report:
    """Every group's statistics, merging sorted duration lists upwards: cells into days and
    (model, task type) pairs, days into weeks, pairs into models and task types, models into
    the total. Each merge joins few sorted runs, which timsort does cheaply, and a list is
    let go as soon as the groups above it are built."""
    costed = pricer is not None
    cells = scan.cells  # durations sorted (CellTable.release)
    by_day_cells: dict[int, list[Cell]] = {}
    by_pair_cells: dict[tuple[str, str], list[Cell]] = {}
    for (model, kind, day, _), cell in cells.items():
        by_day_cells.setdefault(day, []).append(cell)
        by_pair_cells.setdefault((model, kind), []).append(cell)
    days = {day: combine(parts) for day, parts in sorted(by_day_cells.items())}
    pairs = {pair: combine(parts) for pair, parts in by_pair_cells.items()}
    del by_day_cells, by_pair_cells
    cells.clear()

    by_week_days: dict[int, list[Cell]] = {}
    for day, part in days.items():
        by_week_days.setdefault(week_of(day), []).append(part)
    by_day = [Group(day_label(day), statistics(part, costed)) for day, part in days.items()]
    del days
    by_week = [
        Group(week_label(week), statistics(combine(parts), costed))
        for week, parts in by_week_days.items()
    ]
    del by_week_days

    by_model_pairs: dict[str, list[Cell]] = {}
    by_kind_pairs: dict[str, list[Cell]] = {}
    for (model, kind), part in pairs.items():
        by_model_pairs.setdefault(model, []).append(part)
        by_kind_pairs.setdefault(kind, []).append(part)
    by_kind = [
        Group(kind, statistics(combine(parts), costed)) for kind, parts in by_kind_pairs.items()
    ]
    by_kind.sort(key=lambda group: (-group.stats.runs, group.key))
    models = {model: combine(parts) for model, parts in by_model_pairs.items()}
    by_pair = [Group(pair, statistics(part, costed)) for pair, part in pairs.items()]
    del pairs, by_model_pairs, by_kind_pairs
    by_model = [Group(model, statistics(part, costed)) for model, part in models.items()]
    by_model.sort(key=lambda group: (-group.stats.total_tokens, -group.stats.runs, group.key))
    totals = (
        statistics(combine(list(models.values())), costed)
        if models
        else Stats(cost=Cost() if costed else None)
    )
    del models
    model_rank = {group.key: rank for rank, group in enumerate(by_model)}
    kind_rank = {group.key: rank for rank, group in enumerate(by_kind)}
    by_pair.sort(key=lambda group: (model_rank[group.key[0]], kind_rank[group.key[1]]))

    if pricer is not None:
        # A model counts as priced when some of its runs were: a price the library cannot
        # compute at some instants leaves only those runs unpriced.
        priced_as = tuple(
            (group.key, pricer.priced_as(group.key) if _priced(group.stats) else None)
            for group in by_model
        )
        costs = CostInfo("estimated", pricer.price_data, priced_as)
    else:
        costs = CostInfo("unavailable" if options.costs else "off")
    return Report(
        rows_read=scan.rows_read,
        first=scan.first,
        last=scan.last,
        totals=totals,
        by_model=tuple(by_model),
        by_task_type=tuple(by_kind),
        by_model_task_type=tuple(by_pair),
        by_day=tuple(by_day),
        by_week=tuple(by_week),
        costs=costs,
        filters=options.filters,
        zone=options.zone,
    )


def _priced(stats: Stats) -> bool:
    return stats.cost is not None and stats.cost.priced_runs > 0


def _moment(start: int, stamp: str) -> tuple[int, int]:
    """The exact instant of a row whose stored hour starts at `start`: (seconds, nanoseconds)."""
    return start + int(stamp[14:16]) * 60 + int(stamp[17:19]), fraction_ns(stamp)
