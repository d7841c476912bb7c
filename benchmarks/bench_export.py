"""Speed and memory of `telemetry-csv export otlp` against a real OTLP/HTTP receiver.

    .venv/bin/python benchmarks/bench_export.py [--rounds N] [--big-rounds N] [--skip-big]

The receiver runs in its own process on 127.0.0.1 and decodes every request with
opentelemetry-proto (`ExportTraceServiceRequest.FromString`), as a collector would, then answers
200. Each export is a fresh `telemetry-csv export otlp ... --all` process (start-up included);
its peak memory is its own max RSS (os.wait4), not the benchmark's.

Logs are generated like real ones: two years of rows with irregular gaps (bursts a few
seconds apart, hours, and days off), 12 models, 11 UTC offsets interleaved, about 20% notes
with commas, quotes (some starting with one) and non-ASCII text, 15% failures. 10 MiB is one
file (about 135,000 rows); 100 MiB is ten 10 MiB files as rotation leaves them, over the
same two years (a team ten times as busy).

Printed, as medians over interleaved rounds:
- rows per second exporting 10 MiB and 100 MiB, and their ratio (flat = 1.0);
- peak RSS of the export process for both, and of `python -c "import opentelemetry.proto..."`
  (the floor any exporter pays), so the growth from 10 to 100 MiB is visible;
- an export when nothing is new (state up to date), against `telemetry-csv report` on the
  same 10 MiB.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
TOOL = str(Path(sys.executable).parent / "telemetry-csv")
MIB = 1024 * 1024

MODELS = (
    "claude-sonnet-4-5-20250929",
    "claude-opus-4-1-20250805",
    "claude-3-5-haiku-20241022",
    "gpt-4o",
    "gpt-5-codex",
    "o4-mini",
    "gemini-2.5-pro",
    "anthropic/claude-3.5-sonnet",
    "llama3.1:70b",
    "deepseek-chat",
    "mistral-large-latest",
    "@cf/meta/llama-3-8b-instruct",
)
OFFSETS = (
    "Z", "+01:00", "+02:00", "-05:00", "-04:00", "+05:30", "+09:00", "-08:00", "+10:00",
    "-03:00", "+05:45",
)  # fmt: skip
TYPES = ("plan", "execute", "verify", "discuss", "quick")
NOTES = (
    "refactor store.py, keep the lock",
    'review: "looks good", ship it',
    '"quoted" start, then more',
    "fix flaky login test",
    "Übergabe an das Team — naïve Lösung verworfen",
    "修复登录测试",
    "rewrite the parser; 3 files, 2 tests",
    '""double"" quotes, and a comma',
    "=SUM(A1) pasted from a sheet",
    "emoji ✅ done",
)
START = 1_704_067_200  # 2024-01-01T00:00:00Z


def generate(
    path: Path, size: int, *, seed: int, start: int = START, scale: float = 1.0
) -> tuple[int, int]:
    """`write_log` in a process of its own, so that this one stays small: a child forked from
    a large parent would count the parent's pages in its peak RSS until it execs."""
    out = subprocess.run(
        [PYTHON, __file__, "--generate", str(path), str(size), str(seed), str(start), str(scale)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    rows, after = out.stdout.split()
    return int(rows), int(after)


def write_log(
    path: Path, size: int, *, seed: int, start: int = START, scale: float = 1.0
) -> tuple[int, int]:
    """A valid log of at most `size` bytes, gaps multiplied by `scale`; (rows, the Unix second
    after the last row)."""
    sys.path.insert(0, str(HERE.parent))
    from telemetry_csv.logfile.schema import HEADER_LINE, Row, Schema

    rng = random.Random(seed)
    schema = Schema()
    lines = [HEADER_LINE]
    total = len(HEADER_LINE) + 1
    moment = start
    while True:
        # Bursts seconds apart, pauses of minutes, now and then a night or a weekend off:
        # about 450 s between rows on average, so 135,000 rows span about two years.
        gap = rng.random()
        moment += int(scale * (
            rng.randrange(2, 60) if gap < 0.8 else rng.randrange(60, 1200) if gap < 0.997
            else rng.randrange(8 * 3600, 48 * 3600)
        ))  # fmt: skip
        offset = rng.choice(OFFSETS)
        shift = (
            0
            if offset == "Z"
            else (1 if offset[0] == "+" else -1) * (int(offset[1:3]) * 3600 + int(offset[4:]) * 60)
        )
        fraction = f".{rng.randrange(1000):03d}" if rng.random() < 0.3 else ""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment + shift)) + fraction + offset
        row = Row(
            stamp,
            rng.choice(MODELS),
            rng.randrange(50, 60_000),
            rng.randrange(5, 9_000),
            rng.random() < 0.85,
            rng.choice(TYPES),
            rng.randrange(200, 600_000),
            rng.choice(NOTES) if rng.random() < 0.2 else "",
        )
        line = schema.format_line(row)
        size_of = len(line.encode()) + 1
        if total + size_of > size:
            break
        lines.append(line)
        total += size_of
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1, moment + 1


# The receiver process.


def serve() -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
        ExportTraceServiceResponse,
    )

    ok = ExportTraceServiceResponse().SerializeToString()
    spans = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            request = ExportTraceServiceRequest.FromString(body)
            spans[0] += sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(ok)))
            self.end_headers()
            self.wfile.write(ok)

        def do_GET(self) -> None:
            text = str(spans[0]).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


def spans_received(url: str) -> int:
    import urllib.request

    with urllib.request.urlopen(url + "/count") as reply:
        return int(reply.read())


# Measuring.


def measure(args: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed with {process.returncode}")
    return elapsed, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--big-rounds", type=int, default=1)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=5, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        serve()
        return
    if options.generate:
        path, size, seed, start, scale = options.generate
        print(
            *write_log(Path(path), int(size), seed=int(seed), start=int(start), scale=float(scale))
        )
        return

    receiver = subprocess.Popen(
        [PYTHON, __file__, "--serve"], stdout=subprocess.PIPE, text=True, env=ENV
    )
    try:
        assert receiver.stdout is not None
        url = f"http://127.0.0.1:{receiver.stdout.readline().strip()}"
        with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
            run(Path(folder), url, options)
    finally:
        receiver.terminate()
        receiver.wait()


def run(folder: Path, url: str, options: argparse.Namespace) -> None:
    small = folder / "small"
    small.mkdir()
    subprocess.run(["git", "init", "-q", str(small)], check=True)
    small_rows, _ = generate(small / "usage.csv", 10 * MIB, seed=16)
    big = folder / "big"
    big.mkdir()
    subprocess.run(["git", "init", "-q", str(big)], check=True)
    big_files = []
    big_rows = 0
    moment = START
    for number in range(10):
        name = "usage.csv" if number == 9 else f"usage-2025{number + 1:02d}01T000000Z.csv"
        # A bigger team, not a longer history: the same two years, ten times the rows.
        rows, moment = generate(big / name, 10 * MIB, seed=100 + number, start=moment, scale=0.1)
        big_rows += rows
        big_files.append(name)
    big_files = [*big_files[:-1], "usage.csv"]
    print(f"10 MiB: {small_rows:,} rows; 100 MiB: {big_rows:,} rows in 10 files")

    export = [TOOL, "export", "otlp", "--endpoint", url]
    floor = [PYTHON, "-c", "import opentelemetry.proto.collector.trace.v1.trace_service_pb2"]
    times: dict[str, list[float]] = {"small": [], "big": [], "nothing new": [], "report": []}
    peaks: dict[str, list[int]] = {"small": [], "big": [], "floor": []}

    # State for the "nothing new" case: one export without --all records everything.
    measure([*export, "usage.csv"], small)
    for number in range(max(options.rounds, options.big_rounds)):
        if number < options.rounds:
            before = spans_received(url)
            elapsed, peak = measure([*export, "--all", "usage.csv"], small)
            assert spans_received(url) - before == small_rows
            times["small"].append(elapsed)
            peaks["small"].append(peak)
            times["nothing new"].append(measure([*export, "usage.csv"], small)[0])
            times["report"].append(measure([TOOL, "report", "usage.csv"], small)[0])
            peaks["floor"].append(measure(floor, small)[1])
        if not options.skip_big and number < options.big_rounds:
            before = spans_received(url)
            elapsed, peak = measure([*export, "--all", *big_files], big)
            assert spans_received(url) - before == big_rows
            times["big"].append(elapsed)
            peaks["big"].append(peak)

    small_rate = small_rows / statistics.median(times["small"])
    print(f"export 10 MiB:  {statistics.median(times['small']):6.2f} s  {small_rate:9,.0f} rows/s  "
          f"peak RSS {statistics.median(peaks['small']) / MIB:6.1f} MiB")  # fmt: skip
    if times["big"]:
        big_rate = big_rows / statistics.median(times["big"])
        print(f"export 100 MiB: {statistics.median(times['big']):6.2f} s  {big_rate:9,.0f} rows/s  "
              f"peak RSS {statistics.median(peaks['big']) / MIB:6.1f} MiB")  # fmt: skip
        print(f"rate 100 MiB / 10 MiB: {big_rate / small_rate:.2f}x; "
              f"peak RSS 100 MiB / 10 MiB: {statistics.median(peaks['big']) / statistics.median(peaks['small']):.2f}x")  # fmt: skip
    print(f"floor (python importing opentelemetry-proto): peak RSS "
          f"{statistics.median(peaks['floor']) / MIB:.1f} MiB")  # fmt: skip
    nothing, report = statistics.median(times["nothing new"]), statistics.median(times["report"])
    print(
        f"export with nothing new, 10 MiB: {nothing:.2f} s; report: {report:.2f} s; "
        f"ratio {nothing / report:.2f}x"
    )


if __name__ == "__main__":
    main()
