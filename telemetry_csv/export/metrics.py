"""The GenAI client metrics of newly exported rows, as delta histograms.

`gen_ai.client.token.usage` ({token}; one measurement per row for `input` and one for `output`)
and `gen_ai.client.operation.duration` (s), with the bucket boundaries the conventions give.
A metric point cannot be sent twice without being counted twice, so only rows exported for the
first time are measured (the pipeline decides which). Measurements are aggregated the way an SDK
with delta temporality and a 60-second export interval would have sent them when the tasks
ended: one point per attribute set per minute (by the row's end), over that minute.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    Metric,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from telemetry_csv.export.spans import OPERATION, SCHEMA_URL, TASK_FAILED, provider_of

TOKEN_BOUNDS = (
    1,
    4,
    16,
    64,
    256,
    1024,
    4096,
    16384,
    65536,
    262144,
    1048576,
    4194304,
    16777216,
    67108864,
)
DURATION_BOUNDS = (
    0.01,
    0.02,
    0.04,
    0.08,
    0.16,
    0.32,
    0.64,
    1.28,
    2.56,
    5.12,
    10.24,
    20.48,
    40.96,
    81.92,
)
WINDOW_NS = 60 * 1_000_000_000

# (model, token type or error flag): attribute tuple key
_Key = tuple[str, str, int]  # (model, "input"/"output"/"ok"/"failed", window start)


class _Histogram:
    __slots__ = ("buckets", "count", "maximum", "minimum", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.count = 0
        self.total = 0.0
        self.minimum = float("inf")
        self.maximum = float("-inf")
        self.buckets = [0] * (len(bounds) + 1)

    def record(self, value: float, bounds: Sequence[float]) -> None:
        self.count += 1
        self.total += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        self.buckets[bisect_left(bounds, value)] += 1  # buckets are (previous, bound]


class MetricsBatch:
    """The points of one batch of rows."""

    def __init__(self) -> None:
        self._tokens: dict[_Key, _Histogram] = {}
        self._durations: dict[_Key, _Histogram] = {}
        self.rows = 0

    def __len__(self) -> int:
        return len(self._tokens) + len(self._durations)

    def add(
        self,
        model: str,
        input_tokens: int,
        output_tokens: int,
        duration_ms: int,
        success: bool,
        end_ns: int,
    ) -> None:
        window = end_ns - end_ns % WINDOW_NS
        self.rows += 1
        for kind, value in (("input", input_tokens), ("output", output_tokens)):
            histogram = self._tokens.get((model, kind, window))
            if histogram is None:
                histogram = self._tokens[model, kind, window] = _Histogram(TOKEN_BOUNDS)
            histogram.record(value, TOKEN_BOUNDS)
        outcome = "ok" if success else "failed"
        histogram = self._durations.get((model, outcome, window))
        if histogram is None:
            histogram = self._durations[model, outcome, window] = _Histogram(DURATION_BOUNDS)
        histogram.record(duration_ms / 1000, DURATION_BOUNDS)

    def request(
        self, resource: Resource, scope: InstrumentationScope
    ) -> ExportMetricsServiceRequest:
        metrics = [
            _metric(
                "gen_ai.client.token.usage",
                "Number of input and output tokens used.",
                "{token}",
                self._tokens,
                TOKEN_BOUNDS,
                "gen_ai.token.type",
            ),
            _metric(
                "gen_ai.client.operation.duration",
                "GenAI operation duration.",
                "s",
                self._durations,
                DURATION_BOUNDS,
                None,
            ),
        ]
        return ExportMetricsServiceRequest(
            resource_metrics=[
                ResourceMetrics(
                    resource=resource,
                    scope_metrics=[
                        ScopeMetrics(
                            scope=scope,
                            metrics=[metric for metric in metrics if metric.histogram.data_points],
                            schema_url=SCHEMA_URL,
                        )
                    ],
                    schema_url=SCHEMA_URL,
                )
            ]
        )


def _metric(
    name: str,
    description: str,
    unit: str,
    histograms: dict[_Key, _Histogram],
    bounds: Sequence[float],
    kind_attribute: str | None,
) -> Metric:
    points = []
    for (model, kind, window), histogram in sorted(histograms.items()):
        attributes = [_string("gen_ai.operation.name", OPERATION)]
        provider = provider_of(model)
        if provider is not None:
            attributes.append(_string("gen_ai.provider.name", provider))
        attributes.append(_string("gen_ai.request.model", model))
        if kind_attribute is not None:
            attributes.append(_string(kind_attribute, kind))
        elif kind == "failed":
            attributes.append(_string("error.type", TASK_FAILED))
        points.append(
            HistogramDataPoint(
                attributes=attributes,
                start_time_unix_nano=window,
                time_unix_nano=window + WINDOW_NS,
                count=histogram.count,
                sum=histogram.total,
                bucket_counts=histogram.buckets,
                explicit_bounds=[float(bound) for bound in bounds],
                min=histogram.minimum,
                max=histogram.maximum,
            )
        )
    return Metric(
        name=name,
        description=description,
        unit=unit,
        histogram=Histogram(
            data_points=points,
            aggregation_temporality=AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA,
        ),
    )


def _string(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))
