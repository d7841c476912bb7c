"""`telemetry-csv export otlp`: the log's rows as OpenTelemetry GenAI spans (and metrics), sent
over OTLP/HTTP to a collector or backend, each row once.

Everything here but `extra` needs the optional `otlp` extra (`opentelemetry-proto`, `protobuf`);
`telemetry-csv log` never imports this package.

Modules, one job each:
- `extra`: the import guard for the extra, and the one-line message saying what to install;
- `fields`: a row's optional columns (source, source id, cache tokens), read the same way whether
  or not the row type has them yet;
- `ids`: trace and span ids derived from the row, and which lines of a selection repeat;
- `spans`: a row as a span per the GenAI semantic conventions, and the resource;
- `metrics`: the GenAI client metrics of newly exported rows;
- `repository`: the repository's URL (without credentials), commit and branch;
- `endpoint`: where to send and how, from flags and the `OTEL_EXPORTER_OTLP_*` variables;
- `otlp_http`: one OTLP/HTTP request with retries, backoff and the receiver's acknowledgement;
- `state`: what was already exported, per file, kept under the git directory;
- `pipeline`: the export itself: two streaming passes, batches, and the state advanced only
  for what the receiver acknowledged.
"""

from __future__ import annotations
