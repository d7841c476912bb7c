"""The export: rows read in two streaming passes, sent in batches, the state advanced only for
batches the receiver acknowledged.

Pass 1 reads every selected row once: it finds the lines that repeat (for occurrence numbers,
see `ids`), each file's first row, and whether the prefix the state says was exported still reads
the same. Pass 2 reads them again and sends: rows already exported are passed over (all are sent
with `--all`), the others become spans, `batch_size` to a request. After each acknowledged
request the state records how far each file is done; a request the receiver rejects, wholly or
in part, stops the export with the state at the last acknowledged batch, so a rerun sends the
rest (and, with the same ids, any row the receiver did take). Memory holds one batch, the
Bloom filter and the suspected repeats, never the log.

Rows are counted as stored (so the progress of a file does not depend on other files); a row
that repeats a `source_id` read before is the same usage (`logfile.source_ids.SeenIds`, the rule
every reader shares) and is not sent or measured again, in pass 2. A row's line here is its key
(`canonical.line_key`): the same whether its file has the 8-column or the extended header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from telemetry_csv.export.fields import BASE_FIELDS, Extras, extras_of
from telemetry_csv.export.ids import Occurrences, RepeatedLines, ids_of, line_identity, row_key
from telemetry_csv.export.metrics import MetricsBatch
from telemetry_csv.export.otlp_http import Sender, SendError
from telemetry_csv.export.selection import Part, RowFilter, Selection
from telemetry_csv.export.spans import SCHEMA_URL, Mapper, scope, span_times
from telemetry_csv.export.state import ExportState, FileProgress, line_digest, new_digest
from telemetry_csv.logfile.reading import ExtendedRun, run_fast_path
from telemetry_csv.logfile.schema import HEADER, Row, Schema
from telemetry_csv.logfile.source_ids import SeenIds
from telemetry_csv.report.data import Skipped
from telemetry_csv.report.sources import ValidRows

# Whether the canonical line of a row in an 8-column file (a plain run's line) is its identity.
LINES_ARE_IDENTITIES = len(HEADER) == BASE_FIELDS
DEFAULT_BATCH_SIZE = 512  # spans per request: the SDK batch processor's default
_NO_EXTRA_FIELDS = ",,,,"


class Options(NamedTuple):
    include_notes: bool = False
    metrics: bool = False
    resend_all: bool = False  # --all: send rows the state says were exported, too
    dry_run: bool = False
    skip_invalid: bool = False
    batch_size: int = DEFAULT_BATCH_SIZE


class Summary(NamedTuple):
    read: int  # valid rows read
    sent: int  # spans sent and acknowledged (or, dry, that would be sent)
    already: int  # rows passed over as exported before
    filtered: int  # rows outside --since/--until/--model/--task-type
    out_of_range: int  # rows OTLP cannot date (before 1970)
    requests: int  # trace requests acknowledged
    metric_points: int
    rewritten: tuple[str, ...]  # files whose exported prefix changed, sent again whole
    skipped: Skipped
    repeats: int = 0  # rows repeating a source_id read before: the same usage, not sent again


class _Scan(NamedTuple):
    """What pass 1 learned about one part."""

    first: str | None  # digest of its first row's line
    done: int  # rows already exported (a prefix); 0 when none or unknown
    rewritten: bool  # the state knew the file, but its prefix no longer matches


def _rows(schema: Schema, items: Iterable[str | Row]) -> Iterator[tuple[str, Row]]:
    """(key, row) of each valid row: the key is its canonical line in the shortest shape."""
    format_line = schema.format_line
    for item in items:
        if isinstance(item, str):
            lines = item[:-1].split("\n")
            if type(item) is ExtendedRun:
                lines = [_key(line) for line in lines]
            yield from zip(lines, run_fast_path(schema, item).rows_of(item), strict=True)
        else:
            yield format_line(item), item


def _key(line: str) -> str:
    """An extended line's key: its 8-column form when its extra fields are empty."""
    return line[: -len(_NO_EXTRA_FIELDS)] if line.endswith(_NO_EXTRA_FIELDS) else line


def _rows_after(schema: Schema, items: ValidRows, skip: int) -> Iterator[tuple[str, Row | None]]:
    """`_rows`, but the first `skip` rows come as (line, None) where a run of 8-column lines
    holds them (the row is not needed then, only its line, which is its identity)."""
    if not (skip and LINES_ARE_IDENTITIES):
        yield from _rows(schema, items)
        return
    format_line = schema.format_line
    seen = 0
    for item in items:
        if type(item) is ExtendedRun:
            for pair in _rows(schema, [item]):
                seen += 1
                yield pair
        elif isinstance(item, str):
            rows_of = run_fast_path(schema, item).rows_of
            lines = item[:-1].split("\n")
            if seen + len(lines) <= skip:
                for line in lines:
                    yield line, None
            else:
                yield from zip(lines, rows_of(item), strict=True)
            seen += len(lines)
        else:
            seen += 1
            yield format_line(item), item


def _base_line(schema: Schema, line: str, row: Row) -> str:
    """The 8-column canonical line: what identifies a row with its optional columns apart."""
    if len(row) <= BASE_FIELDS or not row.has_extras:
        return line
    return schema.format_line(
        row._replace(source="", source_id="", cache_read_tokens=None, cache_write_tokens=None)
    )


class Exporter:
    def __init__(
        self,
        schema: Schema,
        selection: Selection,
        row_filter: RowFilter,
        options: Options,
        *,
        resource: Resource,
        traces: Sender | None,
        metrics: Sender | None,
        state: ExportState | None,
        notice: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.schema = schema
        self.selection = selection
        self.row_filter = row_filter
        self.options = options
        self.resource = resource
        self.scope = scope()
        self.traces = traces
        self.metrics = metrics
        self.state = state
        self.notice = notice
        self._skipped = Skipped()
        self._matched: set[FileProgress] = set()  # state records pass 1 matched to a file
        self._acknowledged: list[FileProgress] = []  # per tracked part, as far as acknowledged

    def run(self) -> Summary:
        parts = self.selection.parts
        repeated = RepeatedLines()
        scans = [self._first_pass(part, repeated) for part in parts]
        before = self._before(repeated)
        occurrences = Occurrences(repeated.repeated | set(before), before)
        return self._second_pass(scans, occurrences)

    # Pass 1.

    def _valid(self, part: Part) -> ValidRows:
        # Every row as stored: repeats of a source_id are passed over when sending (pass 2).
        return ValidRows(part.items(), skip_invalid=self.options.skip_invalid, dedupe=False)

    def _first_pass(self, part: Part, repeated: RepeatedLines) -> _Scan:
        if (self.state is None or not part.tracked) and LINES_ARE_IDENTITIES:
            self._repeats_only(part, repeated)
            return _Scan(None, 0, False)
        known = self.state is not None and part.tracked
        candidates: dict[int, list[FileProgress]] = {}
        digest = new_digest()
        first = None
        count = 0
        matched: FileProgress | None = None
        schema = self.schema
        add = repeated.add
        for line, row in _rows(schema, self._valid(part)):
            extras = extras_of(row) if len(row) > BASE_FIELDS else None
            if extras is None or not extras.source_id:
                add(_identity(schema, line, row, extras))
            if self.state is None or not known:
                continue
            count += 1
            digest.update(line.encode("utf-8", "surrogateescape") + b"\n")
            if first is None:
                first = line_digest(line)
                for progress in self.state.candidates(first):
                    if progress not in self._matched:
                        candidates.setdefault(progress.rows, []).append(progress)
            found = candidates.get(count)
            if found:
                hexdigest = digest.hexdigest()
                matched = next((p for p in found if p.digest == hexdigest), matched)
        if matched is not None:
            self._matched.add(matched)  # a record stands for one file only
        return _Scan(first, matched.rows if matched else 0, bool(candidates) and matched is None)

    def _repeats_only(self, part: Part, repeated: RepeatedLines) -> None:
        """Pass 1 when no progress is kept: runs of canonical lines are their rows' identities,
        so only rows read line by line are built."""
        add, add_all, format_line = repeated.add, repeated.add_all, self.schema.format_line
        schema = self.schema
        for item in self._valid(part):
            if type(item) is ExtendedRun:
                for line, row in _rows(schema, [item]):
                    extras = extras_of(row)
                    if not extras.source_id:
                        add(_identity(schema, line, row, extras))
            elif isinstance(item, str):
                add_all(item[:-1].split("\n"))
            else:
                add(format_line(item))

    def _before(self, repeated: RepeatedLines) -> dict[str, int]:
        """How many copies of the selection's repeatable lines come before it: for a commit
        range, the copies already at its base (so ids match an export of the whole log)."""
        if self.selection.before is None:
            return {}
        counts: dict[str, int] = {}
        schema = self.schema
        for row in self.selection.before():
            extras = extras_of(row) if len(row) > BASE_FIELDS else None
            if extras is not None and extras.source_id:
                continue
            identity = _identity(schema, schema.format_line(row), row, extras)
            if identity in repeated.repeated or repeated.might_contain(identity):
                counts[identity] = counts.get(identity, 0) + 1
        return counts

    # Pass 2.

    def _second_pass(self, scans: list[_Scan], occurrences: Occurrences) -> Summary:
        options = self.options
        mapper = Mapper(include_notes=options.include_notes)
        schema = self.schema
        selected = self.row_filter
        batch: list[Span] = []
        points = MetricsBatch() if options.metrics else None
        progress: list[FileProgress] = []  # tracked parts finished in this pass
        read = sent = already = filtered = out_of_range = requests = metric_points = 0
        rewritten = []
        seen = SeenIds()
        try:
            for part, scan in zip(self.selection.parts, scans, strict=True):
                if scan.rewritten:
                    rewritten.append(part.name)
                    self.notice(
                        f"{part.name}: rows were inserted before rows already exported (a "
                        "merge?); sending it again whole, with the same ids, and no metrics"
                    )
                skip = 0 if options.resend_all else scan.done
                measure = points is not None and not scan.rewritten
                tracked = part.tracked and self.state is not None and scan.first is not None
                first = scan.first or ""
                digest = new_digest()
                index = 0
                valid = self._valid(part)
                for line, found in _rows_after(schema, valid, skip):
                    read += 1
                    index += 1
                    if tracked:
                        digest.update(line.encode("utf-8", "surrogateescape") + b"\n")
                    if found is None:  # exported before, and its line is its identity
                        occurrences.next(line)
                        already += 1
                        continue
                    row = found
                    extras = extras_of(row) if len(row) > BASE_FIELDS else None
                    if extras is not None and extras.source_id:
                        occurrence = 0
                        if not seen.first(extras.source, extras.source_id):
                            continue  # the same usage as a row read before: sent with it
                    else:
                        occurrence = occurrences.next(_identity(schema, line, row, extras))
                    if index <= skip:
                        already += 1
                        continue
                    if not selected(row):
                        filtered += 1
                        continue
                    times = span_times(row)
                    if times is None:
                        out_of_range += 1
                        continue
                    extras = extras or _NO_EXTRAS
                    key = row_key(_base_line(schema, line, row), occurrence, extras)
                    trace_id, span_id = ids_of(key)
                    batch.append(mapper.span(row, extras, times, trace_id, span_id))
                    if measure and points is not None and index > scan.done:
                        points.add(
                            row.model,
                            row.prompt_tokens,
                            row.completion_tokens,
                            row.duration_ms,
                            row.task_success,
                            times.end,
                        )
                    if len(batch) >= options.batch_size:
                        here = FileProgress(first, index, digest.hexdigest()) if tracked else None
                        metric_points += self._flush(batch, points, [*progress, *_one(here)])
                        sent += len(batch)
                        requests += 1
                        batch = []
                        points = MetricsBatch() if options.metrics else None
                self._skipped = _add(self._skipped, valid.skipped)
                if tracked:
                    progress.append(FileProgress(first, index, digest.hexdigest()))
            if batch or progress:
                metric_points += self._flush(batch, points, progress)
                sent += len(batch)
                requests += 1 if batch else 0
        finally:
            self._save(final=True)
        return Summary(
            read,
            sent,
            already,
            filtered,
            out_of_range,
            requests if not options.dry_run else 0,
            metric_points,
            tuple(rewritten),
            self._skipped,
            seen.repeats,
        )

    def _flush(
        self, batch: list[Span], points: MetricsBatch | None, progress: list[FileProgress]
    ) -> int:
        """Send one batch (spans, then their metrics) and, once acknowledged, record `progress`.
        The number of metric points sent."""
        if self.options.dry_run:
            return len(points) if points is not None else 0
        sent_points = 0
        if batch:
            assert self.traces is not None
            request = ExportTraceServiceRequest(
                resource_spans=[
                    ResourceSpans(
                        resource=self.resource,
                        scope_spans=[
                            ScopeSpans(scope=self.scope, spans=batch, schema_url=SCHEMA_URL)
                        ],
                        schema_url=SCHEMA_URL,
                    )
                ]
            )
            what = f"{len(batch)} span{'s' if len(batch) != 1 else ''}"
            ack = self.traces.post(
                request.SerializeToString(), ExportTraceServiceResponse(), "rejected_spans", what
            )
            if ack.rejected:
                raise SendError(
                    f"{self.traces.destination.shown} rejected {ack.rejected} of {what}"
                    + (f": {_one_line(ack.message)}" if ack.message else "")
                    + "; rows acknowledged before this batch stay exported, rerun to send the rest"
                )
            if ack.message:
                self.notice(f"the receiver says: {_one_line(ack.message)}")
        if points is not None and len(points):
            assert self.metrics is not None
            request_metrics = points.request(self.resource, self.scope)
            ack = self.metrics.post(
                request_metrics.SerializeToString(),
                ExportMetricsServiceResponse(),
                "rejected_data_points",
                f"{len(points)} metric points",
            )
            # Points cannot be sent twice without being counted twice: a rejection is reported,
            # and the rows are not measured again.
            if ack.rejected:
                self.notice(
                    f"{self.metrics.destination.shown} rejected {ack.rejected} of {len(points)} "
                    f"metric points" + (f": {_one_line(ack.message)}" if ack.message else "")
                )
            sent_points = len(points) - ack.rejected
        self._acknowledged = progress
        self._save(final=False)
        return sent_points

    def _save(self, *, final: bool) -> None:
        if self.state is None or self.options.dry_run or not self._acknowledged:
            return
        self.state.save(self._acknowledged, durable=final or self.options.metrics)


_NO_EXTRAS = Extras()


def _identity(schema: Schema, line: str, row: Row, extras: Extras | None) -> str:
    if extras is None:
        return line
    return line_identity(_base_line(schema, line, row), extras)


def _add(first: Skipped, second: Skipped) -> Skipped:
    return Skipped(first.rows + second.rows, first.file_problems + second.file_problems)


def _one(progress: FileProgress | None) -> list[FileProgress]:
    return [] if progress is None else [progress]


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
