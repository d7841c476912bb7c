"""`telemetry-csv report`: summaries of usage rows as Markdown, JSON or CSV.

The core takes rows, not paths: `build_report(rows, options) -> Report` aggregates any iterable of
`Row` in one streaming pass; the renderers turn a `Report` into text. Where rows come from (the log
and its backups, files given, ...) is chosen in one place, `sources.open_source`.

Modules, one job each:
- `sources`: which rows to read, and what to do with invalid ones;
- `filters`: `--since`/`--until`/`--model`/`--task-type`;
- `zones`, `dates`: the report's time zone, day and ISO-week buckets, instants, without datetimes;
- `aggregate`: the streaming pass and the group statistics (`percentiles`);
- `costs`: estimates from the optional `genai-prices` package, each row at its own timestamp;
- `data`: the `Report` data; `numbers`: numbers for people;
- `markdown`, `charts`, `json_format`, `csv_format`: the outputs.
"""

from __future__ import annotations
