"""A real OTLP/HTTP receiver on the loopback interface, for the export tests.

It decodes every request with the `opentelemetry-proto` package, as a collector does, keeps what
it received, and answers each request as the test scripts it: a full success by default, or a
status with headers (503, 429 with Retry-After), or a partial success rejecting some spans.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsPartialSuccess,
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    rejected: int = 0  # partial success: this many spans or points rejected
    message: str = ""
    body: bytes | None = None  # sent as is instead of an Export*ServiceResponse


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    raw: bytes  # the body as it came, before any gunzip
    traces: ExportTraceServiceRequest | None
    metrics: ExportMetricsServiceRequest | None
    reply: Reply
    at: float  # time.monotonic() when it arrived

    @property
    def spans(self) -> list[Span]:
        if self.traces is None:
            return []
        return [
            span
            for resource_spans in self.traces.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]


class Receiver:
    """`script(n)` says how to answer the n-th request (1-based) of its path kind."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: Callable[[int, str], Reply] = lambda number, path: Reply()
        self._lock = threading.Lock()
        self.url = ""

    def accepted(self) -> list[Received]:
        """Requests answered with a 2xx."""
        return [item for item in self.received if 200 <= item.reply.status < 300]

    def spans(self, *, accepted_only: bool = True) -> list[Span]:
        items = self.accepted() if accepted_only else self.received
        return [span for item in items for span in item.spans]

    def metric_requests(self) -> list[ExportMetricsServiceRequest]:
        return [item.metrics for item in self.accepted() if item.metrics is not None]

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        body = gzip.decompress(raw) if headers.get("content-encoding") == "gzip" else raw
        traces = metrics = None
        if path.endswith("/v1/metrics"):
            metrics = ExportMetricsServiceRequest.FromString(body)
        else:
            traces = ExportTraceServiceRequest.FromString(body)
        with self._lock:
            kind = "metrics" if metrics is not None else "traces"
            number = 1 + sum(
                1 for item in self.received if (item.metrics is not None) == (kind == "metrics")
            )
            reply = self.script(number, kind)
            self.received.append(
                Received(path, headers, raw, traces, metrics, reply, time.monotonic())
            )
        return reply


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver
    protocol_version = "HTTP/1.1"  # keep-alive, as the exporter expects

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        raw = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.receiver.handle(self.path, headers, raw)
        if reply.body is not None:
            body = reply.body
        elif reply.status >= 300:
            body = b""
        elif self.path.endswith("/v1/metrics"):
            partial = (
                ExportMetricsPartialSuccess(
                    rejected_data_points=reply.rejected, error_message=reply.message
                )
                if reply.rejected or reply.message
                else None
            )
            body = ExportMetricsServiceResponse(partial_success=partial).SerializeToString()
        else:
            partial_spans = (
                ExportTracePartialSuccess(
                    rejected_spans=reply.rejected, error_message=reply.message
                )
                if reply.rejected or reply.message
                else None
            )
            body = ExportTraceServiceResponse(partial_success=partial_spans).SerializeToString()
        self.send_response(reply.status)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def running() -> Iterator[Receiver]:
    """A receiver listening on 127.0.0.1 (a free port) for the duration of the block."""
    receiver = Receiver()
    handler = type("Handler", (_Handler,), {"receiver": receiver})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
