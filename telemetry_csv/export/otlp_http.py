"""One OTLP/HTTP export request, retried the way the OTLP specification asks.

- 2xx is an acknowledgement. Its `partial_success` may still reject part of the request
  (`rejected_spans`, `rejected_data_points`); such a request is not retried (the specification
  forbids it) and the caller decides what the rejection means.
- 429, 502, 503 and 504, a connection that fails or a response that never comes are transient:
  the request is tried again after the receiver's `Retry-After` (seconds or an HTTP date) or
  else an exponential backoff with jitter (1 s, 2 s, 4 s, ... each within +-20%).
- Every other status is permanent and raised at once, with the receiver's own message (the
  `google.rpc.Status` it sends back).
- All tries of one request together stay within the destination's timeout, as the exporter
  specification defines it ("maximum time ... for each batch export"), and there are at most
  `max_attempts` of them.

The connection is kept alive between requests. The standard library's http.client is enough
here: the exporter needs one POST, its status, two headers and a small body.
"""

from __future__ import annotations

import gzip
import http.client
import json
import random
import socket
import ssl
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import NamedTuple, Protocol
from urllib.parse import urlsplit

from telemetry_csv import __version__
from telemetry_csv.errors import EXIT_SEND, TelemetryError
from telemetry_csv.export.endpoint import Destination

RETRYABLE = frozenset({429, 502, 503, 504})
MAX_RESPONSE_BYTES = 4 * 1024 * 1024  # the specification's recommended limit
USER_AGENT = f"telemetry-csv/{__version__} (OTLP/HTTP exporter, Python)"


class SendError(TelemetryError):
    """The receiver could not be reached, or refused the data, after every allowed try."""

    exit_code = EXIT_SEND


class Acknowledgement(NamedTuple):
    rejected: int  # spans or data points the receiver says it rejected
    message: str  # its partial_success.error_message ("" when none)


class _Response(Protocol):
    """What is read from an Export*ServiceResponse (generated protobuf class)."""

    def ParseFromString(self, data: bytes) -> object: ...


class Sender:
    """Posts serialized requests to one destination, with retries (see the module docstring)."""

    def __init__(
        self,
        destination: Destination,
        *,
        max_attempts: int = 6,
        initial_backoff: float = 1.0,
        max_backoff: float = 32.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        notice: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.destination = destination
        self._parts = urlsplit(destination.url)
        self._target = self._parts.path + (f"?{self._parts.query}" if self._parts.query else "")
        self._max_attempts = max_attempts
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._sleep = sleep
        self._clock = clock
        self._notice = notice
        self._connection: http.client.HTTPConnection | None = None
        self.requests = 0  # HTTP requests made, retries included
        self.retries = 0

    def post(self, body: bytes, response: _Response, field: str, what: str) -> Acknowledgement:
        """Send one request body; the acknowledgement, with what `partial_success` rejected
        (`field` names its count, e.g. rejected_spans); SendError when it cannot be delivered.
        `what` says what the body holds, for messages ("512 spans")."""
        compressed = self.destination.compression == "gzip"
        data = gzip.compress(body, compresslevel=6) if compressed else body
        headers = dict(self.destination.headers)
        headers.update(
            {
                "content-type": "application/x-protobuf",
                "user-agent": headers.get("user-agent", USER_AGENT),
            }
        )
        if compressed:
            headers["content-encoding"] = "gzip"
        timeout = self.destination.timeout
        deadline = None if timeout is None else self._clock() + timeout
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                status, reason, reply_headers, reply = self._request(data, headers, deadline)
            except (OSError, http.client.HTTPException) as error:
                self._close()
                problem = _describe(error)
                reachable = False
            else:
                if 200 <= status < 300:
                    return _acknowledgement(reply, reply_headers, response, field)
                problem = f"HTTP {status} {reason}".rstrip() + _status_message(reply)
                if status not in RETRYABLE:
                    raise SendError(
                        f"{self.destination.shown} refused {what}: {problem} (not retried)"
                    )
                retry_after = _retry_after(reply_headers.get("retry-after"), time.time())
                reachable = True
            wait = retry_after if retry_after is not None else self._backoff(attempt)
            out_of_time = deadline is not None and self._clock() + wait > deadline
            if attempt >= self._max_attempts or out_of_time:
                tries = f"{attempt} tr{'y' if attempt == 1 else 'ies'}"
                if not reachable:
                    raise SendError(f"cannot reach {self.destination.shown}: {problem} ({tries})")
                raise SendError(
                    f"{self.destination.shown} did not accept {what}: {problem} ({tries}"
                    + (f"; it asked to wait {wait:g} s more" if retry_after is not None else "")
                    + ")"
                )
            self.retries += 1
            self._notice(f"{problem}; trying again in {wait:.1f} s")
            self._sleep(wait)

    def _backoff(self, attempt: int) -> float:
        base: float = min(self._initial_backoff * 2.0 ** (attempt - 1), self._max_backoff)
        return base * random.uniform(0.8, 1.2)

    def _request(
        self, data: bytes, headers: dict[str, str], deadline: float | None
    ) -> tuple[int, str, dict[str, str], bytes]:
        remaining = None if deadline is None else max(deadline - self._clock(), 0.001)
        connection = self._connect(remaining)
        if connection.sock is not None:
            connection.sock.settimeout(remaining)
        self.requests += 1
        connection.request("POST", self._target, body=data, headers=headers)
        reply = connection.getresponse()
        body = reply.read(MAX_RESPONSE_BYTES + 1)
        if len(body) > MAX_RESPONSE_BYTES:
            self._close()
            raise http.client.HTTPException("response larger than 4 MiB")
        reply_headers = {name.lower(): value for name, value in reply.getheaders()}
        if reply.will_close:
            self._close()
        return reply.status, reply.reason, reply_headers, body

    def _connect(self, timeout: float | None) -> http.client.HTTPConnection:
        if self._connection is None:
            host, port = self._parts.hostname or "", self._parts.port
            if self._parts.scheme.lower() == "https":
                context = ssl.create_default_context()
                self._connection = http.client.HTTPSConnection(
                    host, port, timeout=timeout, context=context
                )
            else:
                self._connection = http.client.HTTPConnection(host, port, timeout=timeout)
        return self._connection

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        self._close()


def _describe(error: BaseException) -> str:
    if isinstance(error, socket.timeout | TimeoutError):
        return "no response in time"
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror or error})"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed ({error.reason or error})"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror[:1].lower() + error.strerror[1:]
    if isinstance(error, http.client.RemoteDisconnected):
        return "the connection closed without a response"
    return str(error) or type(error).__name__


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP date), or None."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(float(moment.timestamp()) - now, 0.0)


def _acknowledgement(
    body: bytes, headers: dict[str, str], response: _Response, field: str
) -> Acknowledgement:
    """What a 2xx response says about rejected items; an empty or unreadable body rejects none."""
    if not body:
        return Acknowledgement(0, "")
    kind = headers.get("content-type", "application/x-protobuf").lower()
    if "json" in kind:
        try:
            partial = json.loads(body).get("partialSuccess") or {}
            camel = "".join(
                part.capitalize() if i else part for i, part in enumerate(field.split("_"))
            )
            return Acknowledgement(int(partial.get(camel, 0)), str(partial.get("errorMessage", "")))
        except (ValueError, AttributeError, TypeError):
            return Acknowledgement(0, "")
    try:
        response.ParseFromString(body)
    except Exception:  # protobuf raises its own DecodeError; a 2xx still accepted the data
        return Acknowledgement(0, "")
    partial = getattr(response, "partial_success", None)
    if partial is None:
        return Acknowledgement(0, "")
    return Acknowledgement(int(getattr(partial, field, 0)), str(partial.error_message))


def _status_message(body: bytes) -> str:
    """`: message` from a google.rpc.Status body (field 2, a string), or "" when there is none.
    Decoded by hand: the status type is not part of opentelemetry-proto."""
    position = 0
    try:
        while position < len(body):
            key, position = _varint(body, position)
            number, kind = key >> 3, key & 7
            if kind == 0:
                _, position = _varint(body, position)
            elif kind == 2:
                length, position = _varint(body, position)
                value = body[position : position + length]
                position += length
                if number == 2:
                    text = value.decode("utf-8", "replace")
                    text = " ".join(text.split())
                    return f": {text[:300]}" if text else ""
            else:
                return ""
    except IndexError:
        return ""
    return ""


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
        if shift > 63:
            raise IndexError("varint too long")
