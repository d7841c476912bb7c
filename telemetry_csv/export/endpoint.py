"""Where and how to send each signal, from flags and the standard OTLP exporter variables.

As the OpenTelemetry specification defines them (specification/protocol/exporter.md):
- `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `..._METRICS_ENDPOINT` are used as they are (an empty
  path becomes `/`); `OTEL_EXPORTER_OTLP_ENDPOINT` is a base URL to which `v1/traces` or
  `v1/metrics` is appended; the default is `http://localhost:4318`. `--endpoint` is a base URL
  like the generic variable, and wins over both variables.
- `..._HEADERS`, `..._TIMEOUT` (milliseconds; 0: no limit) and `..._COMPRESSION` (`gzip` or
  `none`): the signal's own variable replaces the generic one. `--header K=V` adds to them and
  wins over them, key by key. Header values are never printed: they carry API keys.
- Only `http/protobuf` is spoken; a `..._PROTOCOL` asking for another is refused, not ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, NamedTuple
from urllib.parse import unquote, urlsplit

from telemetry_csv.errors import InvalidValueError, TelemetryError

Signal = Literal["traces", "metrics"]
DEFAULT_ENDPOINT = "http://localhost:4318"
DEFAULT_TIMEOUT = 10.0  # seconds, the specification's default
_PREFIX = "OTEL_EXPORTER_OTLP_"
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP header name (RFC 9110 token)
_URL_ALLOWED = "expected an http:// or https:// URL with a host, such as http://localhost:4318"


class Destination(NamedTuple):
    """How one signal is sent."""

    url: str
    headers: tuple[tuple[str, str], ...]  # lower-case names
    timeout: float | None  # seconds for each request, and for all tries of one batch; None: none
    compression: str  # "gzip" or "none"

    @property
    def shown(self) -> str:
        """The URL as printed: without user, password, query or fragment, which may be secret."""
        return shown_url(self.url)

    @property
    def header_names(self) -> list[str]:
        return [name for name, _ in self.headers]


def shown_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}{parts.path}"


def resolve(
    signal: Signal,
    *,
    endpoint: str | None = None,
    headers: Sequence[str] = (),
    environ: Mapping[str, str],
    warn: Callable[[str], None],
) -> Destination:
    """The destination of `signal` from the `--endpoint` and `--header` flags and `environ`."""
    specific = f"{_PREFIX}{signal.upper()}_"
    _require_protocol(environ, specific)
    if endpoint is not None:
        url = _base_url("--endpoint", endpoint, signal)
    elif environ.get(f"{specific}ENDPOINT", "").strip():
        name = f"{specific}ENDPOINT"
        url = _checked_url(name, environ[name].strip())
        if not urlsplit(url).path:
            url += "/"
    else:
        name = f"{_PREFIX}ENDPOINT"
        url = _base_url(name, environ.get(name, "").strip() or DEFAULT_ENDPOINT, signal)
    found = _setting(environ, specific, "HEADERS")
    merged = dict(parse_env_headers(*found)) if found else {}
    merged.update(parse_flag_headers(headers))
    return Destination(
        url=url,
        headers=tuple(merged.items()),
        timeout=_timeout(environ, specific, warn),
        compression=_compression(environ, specific, warn),
    )


def _setting(environ: Mapping[str, str], specific: str, key: str) -> tuple[str, str] | None:
    """(variable name, value) of the signal's own variable, else of the generic one."""
    for name in (f"{specific}{key}", f"{_PREFIX}{key}"):
        value = environ.get(name, "").strip()
        if value:
            return name, value
    return None


def _require_protocol(environ: Mapping[str, str], specific: str) -> None:
    found = _setting(environ, specific, "PROTOCOL")
    if found and found[1].lower() != "http/protobuf":
        name, value = found
        raise InvalidValueError(
            name,
            value,
            "telemetry-csv sends OTLP over http/protobuf only; unset it or set http/protobuf, "
            "and point the endpoint at the receiver's OTLP/HTTP port (usually 4318)",
        )


def _checked_url(option: str, text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidValueError(option, shown_url(text) if parts.hostname else text, _URL_ALLOWED)
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise InvalidValueError(option, shown_url(text), _URL_ALLOWED) from None
    return text


def _base_url(option: str, text: str, signal: Signal) -> str:
    url = _checked_url(option, text.strip())
    path = urlsplit(url).path.rstrip("/")
    if path.endswith(("/v1/traces", "/v1/metrics")):
        raise InvalidValueError(
            option,
            shown_url(url),
            "give the base URL: /v1/traces and /v1/metrics are appended to it (for one exact URL "
            f"set {_PREFIX}TRACES_ENDPOINT instead)",
        )
    base, _, rest = url.partition("?")
    query = f"?{rest}" if rest else ""
    return f"{base.rstrip('/')}/v1/{signal}{query}"


def parse_env_headers(variable: str, text: str) -> list[tuple[str, str]]:
    """`key1=value1,key2=value2` as the W3C Baggage format writes it (values percent-decoded).
    An entry that is not `key=value` is refused, naming the variable but not the value."""
    headers = []
    for number, entry in enumerate(text.split(","), 1):
        if not entry.strip():
            continue
        key, equals, value = entry.partition("=")
        key = unquote(key).strip()
        if not equals or not _TOKEN.fullmatch(key):
            raise TelemetryError(
                f"{variable}: entry {number} is not key=value with a header name as key "
                "(values are not shown: they may be secret)"
            )
        headers.append((key.lower(), _header_value(variable, unquote(value).strip())))
    return headers


def parse_flag_headers(flags: Sequence[str]) -> list[tuple[str, str]]:
    """The `--header K=V` flags, in order (a later one wins)."""
    headers = []
    for flag in flags:
        key, equals, value = flag.partition("=")
        key = key.strip()
        if not equals or not _TOKEN.fullmatch(key):
            raise TelemetryError(
                "--header: expected NAME=VALUE with an HTTP header name, e.g. "
                "--header 'Authorization=Bearer ...' (the value given is not shown)"
            )
        headers.append((key.lower(), _header_value("--header", value.strip())))
    return headers


def _header_value(option: str, value: str) -> str:
    if re.search(r"[\x00-\x1f\x7f]", value):
        raise TelemetryError(f"{option}: a header value holds a control character (not shown)")
    return value


def _timeout(
    environ: Mapping[str, str], specific: str, warn: Callable[[str], None]
) -> float | None:
    found = _setting(environ, specific, "TIMEOUT")
    if found is None:
        return DEFAULT_TIMEOUT
    name, value = found
    if not (value.isascii() and value.isdigit()):
        warn(
            f"{name}={value!r} is not a whole number of milliseconds; "
            f"using {DEFAULT_TIMEOUT:g} seconds"
        )
        return DEFAULT_TIMEOUT
    milliseconds = int(value)
    return None if milliseconds == 0 else milliseconds / 1000


def _compression(environ: Mapping[str, str], specific: str, warn: Callable[[str], None]) -> str:
    found = _setting(environ, specific, "COMPRESSION")
    if found is None:
        return "none"
    name, value = found
    if value.lower() not in ("gzip", "none"):
        warn(f"{name}={value!r} is not gzip or none; sending uncompressed")
        return "none"
    return value.lower()
