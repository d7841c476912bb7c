"""The report's one streaming pass over rows, and the statistics of every group.

Each row lands in cells (see `cells`, the seam between this pass and the groups): for the default
tables, one of its (model, task type, success) and one of its (local day, success), a few hundred
cells for years of rows; for `--group-by` and the HTML charts, one of its (model, task type, local
day, success). A cell keeps counts, token sums (the cache parts too, where rows know them), the
femto-dollar cost, the sum of the durations and, up to `HELD_DURATIONS` rows in all, the
durations themselves (an `array('q')`, 8 bytes a run), which percentiles need. Every group the
report shows (total, model, task type, model x task type, day, ISO week, and any `--group-by`)
is a union of cells of one kind. A larger log, when its rows can be read again (`build_report`'s
`again`), lets the durations go and has its percentiles worked out in two more passes
(`cells._passes`): memory grows with the number of cells, never with the rows.

The pass is the report's cost, so it is written for it: a run of canonical lines is split on
its commas (no `Row` is built), a stored hour (`YYYY-MM-DDTHH` and its offset) is turned into
its day, instant and day's cells once (`zones.HourBuckets`), and the cell of a row is one
dictionary look-up.
Rows that repeat a `source_id` read before are left out here (`logfile.source_ids.SeenIds`).
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Sequence
from itertools import compress, count, repeat
from operator import gt, lt
from sys import intern
from typing import Any, NamedTuple

from telemetry_csv import compiled
from telemetry_csv.logfile.reading import ExtendedRun, lines_of
from telemetry_csv.logfile.schema import Row, neutralise, restore
from telemetry_csv.logfile.snapshot import LogChanged
from telemetry_csv.logfile.source_ids import NEW, SeenIds
from telemetry_csv.report.cells import (
    DURATION_TOTAL,
    RUNS,
    SUCCESS,
    Appenders,
    Cell,
    CellKey,
    CellTable,
    CellTuple,
    Family,
)
from telemetry_csv.report.costs import ModelPricing, Pricer, Tariff, load_pricer
from telemetry_csv.report.data import Cost, CostInfo, Group, Report, Stats
from telemetry_csv.report.dates import day_label, fraction_ns, week_label, week_of
from telemetry_csv.report.filters import Filters
from telemetry_csv.report.zones import UTC_ZONE, HourBuckets, ReportZone

# How many rows' durations the cells hold at most (8 bytes each, in each of the row's two cells);
# past it, a log that can be read again has its percentiles worked out in passes (the module
# docstring).
HELD_DURATIONS = 1 << 20
_NOWHERE: deque[int] = deque(maxlen=0)
_DISCARD = _NOWHERE.append  # takes a duration and keeps nothing

# The default groups' families (`cells.Family`), in the order they are worked out.
FAMILIES = (
    Family("model_task_type", lambda key: (key.model, key.task_type)),
    Family("model", lambda key: key.model, "model_task_type"),
    Family("task_type", lambda key: key.task_type, "model_task_type"),
    Family("total", lambda key: None, "model_task_type"),
    Family("day", lambda key: key.day),
    Family("week", lambda key: _week(key), "day"),
)


def _week(key: CellKey) -> int:
    assert key.day is not None  # the family's cells are days' (see `cells`)
    return week_of(key.day)


class ReportOptions(NamedTuple):
    filters: Filters = Filters()
    zone: ReportZone = UTC_ZONE
    costs: bool = True  # estimate costs when the `cost` extra is installed
    group_by: tuple[str, ...] = ()  # columns of one more table (`grouping.COLUMNS`)
    chart_series: int = 0  # the HTML charts' data, with at most this many series (0: none)


def build_report(
    rows: Iterable[Row | str],
    options: ReportOptions | None = None,
    *,
    again: Callable[[], Iterable[Row | str]] | None = None,
    held: int = HELD_DURATIONS,
) -> Report:
    """Aggregate `rows` in one pass; see the module docstring for what is kept. A str among
    them is a run of whole canonical lines, each a valid row, as `reading.scan_runs` yields
    (an `ExtendedRun` in the extended header's shape). Rows that repeat a `source_id` count
    once. `again`, if given, reads the same rows once more (each time it is called): then at
    most `held` durations are held, and percentiles come from more passes past that."""
    options = options or ReportOptions()
    pricer = load_pricer() if options.costs else None
    # Cells of a model and task type on a day only for tables that group by any columns.
    fine = bool(options.group_by or options.chart_series)
    scan = _scan(rows, options, pricer, held if again is not None else -1, fine=fine)
    table = _table(scan, options, pricer, again)
    grouped = charts = None
    families = list(FAMILIES)
    if options.group_by:
        from telemetry_csv.report import grouping

        families.append(grouping.family(options.group_by, pricer))
    table.prepare(families)
    if options.group_by or options.chart_series:
        from telemetry_csv.report import grouping

        if options.group_by:
            grouped = grouping.group_cells(table, options.group_by, pricer)
        if options.chart_series:
            charts = grouping.chart_data(table, options.chart_series)
    report = _report(scan, table, options, pricer)
    return report._replace(grouped=grouped, charts=charts)


def scan_cells(rows: Iterable[Row | str], options: ReportOptions | None = None) -> CellTable:
    """Only the pass: a cell of each (model, task type, day, success) of `rows`, for statistics
    of any union of them (`cells`)."""
    options = options or ReportOptions()
    pricer = load_pricer() if options.costs else None
    return _table(_scan(rows, options, pricer, -1, fine=True), options, pricer, None)


# A cell's key in the pass: (model as stored, task type, "true" or "false") for a cell of any
# day, (day, "true" or "false") for a cell of any model and task type, (model, task type, day,
# "true" or "false") for a cell of both (see `cells`).
PassKey = tuple[Any, ...]


class _Scanned(NamedTuple):
    cells: dict[PassKey, Cell]
    rows_read: int
    first: str | None
    last: str | None
    held: bool  # whether the cells hold every duration


def _table(
    scan: _Scanned,
    options: ReportOptions,
    pricer: Pricer | None,
    again: Callable[[], Iterable[Row | str]] | None,
) -> CellTable:
    """The cells by `CellKey` (successes filled in; a day's cell that only rows left out by
    `--since`/`--until` reached is left out); with `again` when they do not hold the
    durations, to read them in passes."""
    cells: dict[CellTuple, Cell] = {}
    given: dict[str, str] = {}
    pairs: dict[Hashable, list[Cell]] = {}
    days: dict[Hashable, list[Cell]] = {}
    for key, cell in scan.cells.items():
        ok = key[-1] == "true"
        cell[1] = cell[RUNS] if ok else 0
        if len(key) == 2:
            if not cell[RUNS]:
                continue
            day = key[0]
            name = kind = None
        else:
            name = given.get(key[0])
            if name is None:
                name = given[key[0]] = restore(key[0])
            kind = key[1]
            day = key[2] if len(key) == 4 else None
            pairs.setdefault((name, kind), []).append(cell)
        if day is not None:
            days.setdefault(day, []).append(cell)
        cells[name, kind, day, ok] = cell
    rows = None
    if not scan.held:
        assert again is not None
        rows = _rereader(scan.cells, options, again)
    table = CellTable(cells, costed=pricer is not None, rows=rows)
    table.know(FAMILIES[0], pairs)
    table.know(FAMILIES[4], days)
    return table


def _cell_key(key: PassKey) -> CellKey:
    if len(key) == 2:
        return CellKey(None, None, key[0], key[1] == "true")
    day = key[2] if len(key) == 4 else None
    return CellKey(restore(key[0]), key[1], day, key[-1] == "true")


def _rereader(
    cells: dict[PassKey, Cell], options: ReportOptions, again: Callable[[], Iterable[Row | str]]
) -> Callable[[Appenders], None]:
    """Reads the rows again through the same pass, handing each cell's durations to the
    appender given for it; the counts and sums of every cell must come out as the first pass
    found them (else the files changed under the report: LogChanged, read again)."""

    def read(appenders: Appenders) -> None:
        fresh: dict[PassKey, Cell] = {}
        for key in cells:
            found = fresh[key] = _new_cell(None, _DISCARD, key[-1] == "true")
            found[7] = _Tally(found, appenders(_cell_key(key)))
        fine = any(len(key) == 4 for key in cells)
        _scan(again(), options, None, -1, fine=fine, cells=fresh)
        if fresh.keys() != cells.keys() or any(
            fresh[key][index] != cell[index]
            for key, cell in cells.items()
            for index in (0, 2, 3, 8, 9, DURATION_TOTAL)
        ):
            raise LogChanged("the rows read again are not those read first")

    return read


def _new_cell(durations: array[int] | None, append: Callable[[int], object], ok: bool) -> Cell:
    return [0, 0, 0, 0, 0, 0, durations, append, 0, 0, 0, None, int(ok)]


class _Tally:
    """What a cell that holds no durations calls with each: it counts the run and adds up its
    duration (a cell that holds them has both worked out from them when the pass ends), and
    hands the duration on, if asked to."""

    __slots__ = ("cell", "then")

    def __init__(self, cell: Cell, then: Callable[[int], object] | None = None):
        self.cell = cell
        self.then = then

    def __call__(self, duration: int) -> None:
        cell = self.cell
        cell[0] += 1
        cell[10] += duration
        if self.then is not None:
            self.then(duration)

    def extend(self, runs: int, total: int, durations: bytes) -> None:
        """Many runs at once: their count, their total duration and the durations."""
        cell = self.cell
        cell[0] += runs
        cell[10] += total
        if self.then is not None:
            for duration in array("q", durations):
                self.then(duration)


# Hours the pass keeps at most (`zones.HourBuckets`: a log of years in many offsets has
# hundreds of thousands); past it, they are forgotten and found again as rows need them.
_HOURS_KEPT = 1 << 14


def _scan(
    rows: Iterable[Row | str],
    options: ReportOptions,
    pricer: Pricer | None,
    held: int,
    *,
    fine: bool = False,
    cells: dict[PassKey, Cell] | None = None,
) -> _Scanned:
    """The one pass over the rows: each lands in its cells (see the module docstring), keyed by
    the model name as stored and success as "true" or "false": with `fine`, one cell of its
    (model, task type, day, success); else a cell of its (model, task type, success) and one
    of its (day, success). `held`: how many durations the cells may hold before letting them
    go (-1: all). `cells`: cells to add to (a later pass: each with what to call with its
    durations)."""
    filters = options.filters
    # Models as stored (`schema.neutralise`): cells are keyed by them, and `_table` gives each
    # its name as given once.
    models = frozenset(map(neutralise, filters.models)) or None
    kinds = frozenset(filters.task_types) or None
    since_day = filters.since.day if filters.since else None
    until_day = filters.until.day if filters.until else None
    since_instant = filters.since.instant if filters.since else None
    until_instant = filters.until.instant if filters.until else None
    by_name = models is not None or kinds is not None
    by_time = filters.since is not None or filters.until is not None
    by_instant = since_instant is not None or until_instant is not None

    buckets = HourBuckets(options.zone)
    locate = buckets.locate
    exact_day = buckets.exact_day
    # Each stored hour's (local day or None, start, the cells of its day by success).
    hours: dict[str, tuple[int | None, int, list[Cell]]] = {}
    if cells is None:
        cells = {}
    keep = held != 0  # whether new cells hold their durations
    every = held < 0  # whether they hold them all, however many
    # A fine pass has no cells of days: their sums go to a cell nobody reads.
    nowhere = _new_cell(None, _DISCARD, False)
    nowhere_pair = [nowhere, nowhere]
    day_cells: dict[int, list[Cell]] = {}
    for key, given in cells.items():
        if len(key) == 2:
            day_cells.setdefault(key[0], [nowhere, nowhere])[given[SUCCESS]] = given

    def cells_of_day(day: int) -> list[Cell]:
        """The cells of a day, made when a row first needs them."""
        if fine:
            return nowhere_pair
        found = day_cells.get(day)
        if found is None:
            found = day_cells[day] = [
                _cell(cells, (day, "false"), keep),
                _cell(cells, (day, "true"), keep),
            ]
        return found

    pricings: dict[str, Any] = {}
    sources: dict[str, Callable[[str, object], object]] = {}  # each source's window of ids
    seen = SeenIds()

    def is_new(source: str, source_id: str) -> bool:
        """Whether this id was not read before (it is now)."""
        remember = sources.get(source)
        if remember is None:
            remember = sources[source] = seen.window(source)
        return remember(source_id, None) is NEW

    # The compiled pass (`_tally.c`) covers the default report: UTC days, no filters.
    tally = None if by_name or by_time or not options.zone.is_utc else _compiled_tally()
    prices: dict[str, tuple[int, ...] | None] | None = None

    def cost_of(
        model: str, start: int, stamp: str, prompt: int, completion: int, read: int, write: int
    ) -> int | None:
        """A row's cost the compiled pass leaves to `_cost`, which may move the price."""
        assert pricer is not None and prices is not None
        femto = _cost(pricings, pricer, model, start, stamp, prompt, completion, read, write)
        _price_snapshot(prices, model, pricings[model])
        return femto

    extremes = _Extremes()
    keep_start, keep_stamp = extremes.starts.append, extremes.stamps.append
    read = 0
    split = str.split
    for item in rows:
        if len(extremes.starts) > _EXTREMES_KEPT:
            extremes.settle()
        # Each row comes as its first seven fields and the rest of its line: its notes, and
        # in the extended shape its source, id and cache parts (which hold no comma).
        batch: Iterable[Sequence[Any]]
        source: Any
        source_id: Any
        cache_read: Any
        cache_write: Any
        if isinstance(item, str) and tally is not None:
            if pricer is not None:
                prices = {}
                for model, pricing in pricings.items():
                    _price_snapshot(prices, model, pricing)
            found = tally(item, type(item) is ExtendedRun, fine, is_new, prices, cost_of)
            if found is not None:
                if held > 0 and keep:
                    held -= item.count("\n")
                    if held <= 0:
                        keep = _let_go(cells)
                counted, by_cell, by_day, first, last = found
                read += counted
                for key, sums in by_cell.items():
                    _add_sums(cells.get(key) or _cell(cells, key, keep), sums)
                for (day, success), sums in by_day.items():
                    _add_sums(cells_of_day(day)[success == "true"], sums)
                if first is not None:  # the run's first and last by instant: see `_Extremes`
                    keep_start(first[0])
                    keep_stamp(first[1])
                    keep_start(last[0])
                    keep_stamp(last[1])
                continue
        if isinstance(item, str):
            lines = lines_of(item)
            read += len(lines)
            extended = type(item) is ExtendedRun
            batch = map(split, lines, repeat(","), repeat(7))
            source = source_id = cache_read = cache_write = ""
            if held > 0 and keep:
                held -= len(lines)
                if held <= 0:
                    keep = _let_go(cells)
        else:
            read += 1
            extended = False
            ok = "true" if item[4] else "false"
            batch = ((item[0], neutralise(item[1]), item[2], item[3], ok, *item[5:7], ""),)
            source, source_id = item.source, item.source_id
            cache_read, cache_write = item.cache_read_tokens, item.cache_write_tokens
            if held > 0 and keep:
                held -= 1
                if held <= 0:
                    keep = _let_go(cells)
        if len(hours) > _HOURS_KEPT:
            hours.clear()
        fields: Sequence[Any]
        of_day: Any
        for fields in batch:
            stamp, model, prompt, completion, success, kind, duration, rest = fields
            if extended:
                _, source, source_id, cache_read, cache_write = rest.rsplit(",", 4)
            if source_id and not is_new(source, source_id):
                read -= 1  # the same usage as a row read before: not read again
                continue
            if by_name and (
                (models is not None and model not in models)
                or (kinds is not None and kind not in kinds)
            ):
                continue
            hour = stamp[:13] if stamp[-1] == "Z" else stamp[:13] + stamp[-6:]  # hour_key, inlined
            entry = hours.get(hour)
            if entry is None:
                day, start = locate(stamp)
                entry = hours[hour] = (
                    day,
                    start,
                    nowhere_pair if day is None else cells_of_day(day),
                )
            day, start, of_day = entry
            if day is None:
                day = exact_day(start, stamp)
                of_day = cells_of_day(day)
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
            keep_start(start)  # first and last by instant: see `_Extremes`
            keep_stamp(stamp)
            cell = cells.get((model, kind, day, success) if fine else (model, kind, success))
            if cell is None:
                cell = _cell(
                    cells, (model, kind, day, success) if fine else (model, kind, success), keep
                )
            # Literal indexes (see cells.RUNS...): a global look-up per field would cost more.
            # The runs and their total duration: see `_Tally`.
            of_day = of_day[cell[12]]
            prompt = int(prompt)
            completion = int(completion)
            duration = int(duration)
            cell[2] += prompt
            cell[3] += completion
            cell[7](duration)
            of_day[2] += prompt
            of_day[3] += completion
            of_day[7](duration)
            if cache_read:
                cache_read = int(cache_read)
                cell[8] += cache_read
                of_day[8] += cache_read
            if cache_write:
                cache_write = int(cache_write)
                cell[9] += cache_write
                of_day[9] += cache_write
            if pricer is not None:
                # A model's price seen before, holding for the row's whole hour, its lowest tier
                # and no cache parts: the common case, inlined; else `_cost`.
                pricing = pricings.get(model)
                if (
                    pricing is not None
                    and pricing.start <= start
                    and start + 3600 <= pricing.end
                    and prompt <= pricing.base_rates[3]
                    and not (cache_read or cache_write)
                ):
                    rates = pricing.base_rates
                    femto = rates[0] * prompt + rates[1] * completion + rates[2]
                else:
                    femto = _cost(
                        pricings,
                        pricer,
                        model,
                        start,
                        stamp,
                        prompt,
                        completion,
                        cache_read,
                        cache_write,
                    )
                if femto is None:
                    cell[5] += 1
                    of_day[5] += 1
                else:
                    cell[4] += femto
                    of_day[4] += femto
    for cell in cells.values():
        _settle(cell)
    extremes.settle()
    return _Scanned(cells, read, extremes.first, extremes.last, keep or every)


def _compiled_tally() -> Callable[..., Any] | None:
    """The compiled pass, where it is built and wanted (`telemetry_csv.compiled`): tally(run,
    extended, fine, is_new, prices, cost_of) gives (rows counted, {cell key: sums}, {(day,
    success): sums}, (hour start, timestamp) of the first and of the last row), or None
    for a run it does not recognise, which is then read here."""
    module = compiled.load("telemetry_csv.report._tally")
    return None if module is None else module.tally


def _add_sums(cell: Cell, sums: list[Any]) -> None:
    """What the compiled pass found for one cell in a run (`_compiled_tally`)."""
    runs, prompt, completion, cache_read, cache_write, femto, unpriced, total, durations = sums
    cell[2] += prompt
    cell[3] += completion
    cell[8] += cache_read
    cell[9] += cache_write
    cell[4] += femto
    cell[5] += unpriced
    if cell[6] is not None:
        cell[6].frombytes(durations)
    else:
        cell[7].extend(runs, total, durations)


# The compiled pass computes in 64-bit integers: a price whose window or rates do not fit is
# left to `_cost`.
_WIDEST = 1 << 62


def _price_snapshot(
    prices: dict[str, tuple[int, ...] | None], model: str, pricing: ModelPricing | None
) -> None:
    """What the compiled pass reads of a model's price as it stands: None when the model has no
    price; (start, end, six base rates) of its current window when they fit; nothing (so that
    it asks `_cost` for every row) when they do not."""
    if pricing is None:
        prices[model] = None
        return
    window = (
        math.ceil(max(pricing.start, -_WIDEST)),
        math.floor(min(pricing.end, _WIDEST)),
        *pricing.base_rates,
    )
    if all(-_WIDEST <= value <= _WIDEST for value in window):
        prices[model] = window
    else:
        prices.pop(model, None)


def _cost(
    pricings: dict[str, Any],
    pricer: Pricer,
    model: str,
    start: int,
    stamp: str,
    prompt: int,
    completion: int,
    cache_read: Any,
    cache_write: Any,
) -> int | None:
    """The femto-dollar cost of one row whose stored hour starts at `start`, or None when it
    cannot be priced; the cache parts are ints, or "" where the row does not know them."""
    pricing = pricings.get(model, False)
    if pricing is False:
        pricing = pricings[model] = pricer.model(restore(model))
    if pricing is None:
        return None
    # Prices rarely change, so most rows' whole hour lies inside the price's window and the
    # row's own second need not be read.
    if not (pricing.start <= start and start + 3600 <= pricing.end):
        second = start + int(stamp[14:16]) * 60 + int(stamp[17:19])
        if not (pricing.start <= second < pricing.end):
            pricing.move_to(second)
    rates: tuple[int, ...] = pricing.base_rates
    tariff: Tariff | None = pricing.tariff
    has_cache = bool(cache_read or cache_write)
    if prompt <= rates[3]:
        if has_cache:
            read_part: int = cache_read or 0
            write_part: int = cache_write or 0
            return (
                rates[0] * (prompt - read_part - write_part)
                + rates[4] * read_part
                + rates[5] * write_part
                + rates[1] * completion
                + rates[2]
            )
        return rates[0] * prompt + rates[1] * completion + rates[2]
    if tariff is not None:
        if has_cache:
            return tariff.cost(prompt, completion, cache_read or 0, cache_write or 0)
        return tariff.cost(prompt, completion)
    return None


class _Extremes:
    """The first and the last row by instant. The pass keeps each row's hour start (`zones.
    HourBuckets`) and timestamp, and `settle` looks at them a few thousand at a time: only rows
    whose hour starts less than an hour after the earliest start (or before the latest) can be
    first (or last), and only those have their instant worked out. Of equal instants the first
    read is first and the last read is last."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.stamps: list[str] = []
        self.first: str | None = None
        self.last: str | None = None
        self._first_moment: tuple[int, int] | None = None
        self._last_moment: tuple[int, int] | None = None

    def settle(self) -> None:
        starts, stamps = self.starts, self.stamps
        if not starts:
            return
        top = max(starts) - 3600
        for index in compress(count(), map(lt, repeat(top), starts)):
            moment = _moment(starts[index], stamps[index])
            if self._last_moment is None or moment >= self._last_moment:
                self._last_moment, self.last = moment, stamps[index]
        low = min(starts) + 3600
        for index in compress(count(), map(gt, repeat(low), starts)):
            moment = _moment(starts[index], stamps[index])
            if self._first_moment is None or moment < self._first_moment:
                self._first_moment, self.first = moment, stamps[index]
        starts.clear()
        stamps.clear()


_EXTREMES_KEPT = 1 << 12  # rows `_Extremes` keeps before it settles them


def _cell(cells: dict[PassKey, Cell], key: PassKey, keep: bool) -> Cell:
    """A new cell, holding its durations if `keep`. Its key holds one copy of each name (a
    log of years has tens of thousands of cells, of a dozen models)."""
    key = tuple(intern(part) if type(part) is str else part for part in key)
    ok = key[-1] == "true"
    if keep:
        durations: array[int] = array("q")
        cell = cells[key] = _new_cell(durations, durations.append, ok)
    else:
        cell = cells[key] = _new_cell(None, _DISCARD, ok)
        cell[7] = _Tally(cell)
    return cell


def _settle(cell: Cell) -> None:
    """A cell's runs and total duration from the durations it holds (the pass adds none)."""
    durations = cell[6]
    if durations is not None and len(durations) > cell[0]:
        cell[0] = len(durations)
        cell[10] = sum(durations)


def _let_go(cells: dict[PassKey, Cell]) -> bool:
    """Past `held` durations: every cell lets its durations go (the pass goes on counting)."""
    for cell in cells.values():
        _settle(cell)
        cell[6] = None
        cell[7] = _Tally(cell)
    return False


def _report(
    scan: _Scanned, table: CellTable, options: ReportOptions, pricer: Pricer | None
) -> Report:
    """Every default group's statistics (`table.prepare`d with FAMILIES), ordered."""
    costed = pricer is not None
    stats: dict[str, dict[Any, Stats]] = {
        family.name: table.stats(family.name) for family in FAMILIES
    }
    by_day = [Group(day_label(day), found) for day, found in sorted(stats["day"].items())]
    by_week = [Group(week_label(week), found) for week, found in sorted(stats["week"].items())]
    by_kind = [Group(kind, found) for kind, found in stats["task_type"].items()]
    by_kind.sort(key=lambda group: (-group.stats.runs, group.key))
    by_pair = [Group(pair, found) for pair, found in stats["model_task_type"].items()]
    by_model = [Group(model, found) for model, found in stats["model"].items()]
    by_model.sort(key=lambda group: (-group.stats.total_tokens, -group.stats.runs, group.key))
    totals = stats["total"].get(None) or Stats(cost=Cost() if costed else None)
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
