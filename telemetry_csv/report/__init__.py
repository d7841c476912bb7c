"""`telemetry-csv report`: summaries of usage rows as Markdown, JSON, CSV or HTML.

The core takes rows, not paths: `build_report(rows, options) -> Report` aggregates any iterable of
`Row` in one streaming pass; the renderers turn a `Report` into text. Where rows come from (the log
and its backups, files given, ...) is chosen in one place, `sources.open_source`.

Modules, one job each:
- `sources`: which rows to read, and what to do with invalid ones;
- `filters`: `--since`/`--until`/`--model`/`--task-type`;
- `zones`, `dates`: the report's time zone, day and ISO-week buckets, instants, without datetimes;
- `aggregate`: the streaming pass and the default groups' statistics (`percentiles`);
- `cells`: the pass's cells and the statistics of any union of them, the seam every other
  grouping is built on;
- `grouping`: `--group-by` any columns, and the HTML charts' series;
- `costs`: estimates from the optional `genai-prices` package, each row at its own timestamp;
- `budgets`: a report held to budgets (`telemetry_csv.limits` reads them);
- `recommendations`: which model for which task (Wilson intervals, the pick), also `recommend`;
- `data`: the `Report` data; `numbers`: numbers for people; `tables`: the tables, once;
- `markdown`, `charts`, `json_format`, `csv_format`, `html_format` (with `svg`): the outputs;
  `legacy_json`: the old shell script's JSON, for scripts that read it.

`recommend` is importable from here (and from `telemetry_csv`), loaded on first use.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name in ("recommend", "Recommendation", "Candidate"):
        from telemetry_csv.report import recommendations

        return getattr(recommendations, name)
    raise AttributeError(f"module 'telemetry_csv.report' has no attribute {name!r}")
