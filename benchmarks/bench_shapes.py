"""Speed of `check` and `report` on a log with the extended header against the same rows in the
8-column shape, as ratios measured side by side in one run.

    .venv/bin/python benchmarks/bench_shapes.py [--rounds N]

The 8-column log is report_data's 10 MiB log (months of rows, many offsets, quoted notes). The
extended log holds the same rows as an importer writes them: every row with a source, a
`source_id` that starts with the row's UTC hour (ids ordered in time, several per hour) and
cache parts, so every line goes through the id and cache checks. In one process, CPU time,
interleaved rounds, medians, for `check` (`check_files`) and `report` (read, validate,
aggregate; without and with costs), each as extended / 8-column per row.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from report_data import MIB, write_log

from telemetry_csv.logfile.checking import check_files
from telemetry_csv.logfile.reading import scan_runs
from telemetry_csv.logfile.schema import EXTENDED_HEADER_LINE, Schema
from telemetry_csv.report.aggregate import ReportOptions, build_report
from telemetry_csv.report.sources import ValidRows

SOURCES = ("claude-code", "codex", "gemini")


def extended_copy(legacy: Path, target: Path) -> int:
    """The rows of `legacy` as an importer would write them; the number of rows."""
    chance = random.Random(11)
    lines = legacy.read_text(encoding="utf-8").splitlines()[1:]
    out = [EXTENDED_HEADER_LINE]
    for number, line in enumerate(lines):
        stamp = line.split(",", 1)[0]
        hour = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone()
        utc = hour.utctimetuple()
        window = f"{utc.tm_year:04d}{utc.tm_mon:02d}{utc.tm_mday:02d}T{utc.tm_hour:02d}Z"
        digest = hashlib.sha256(str(number).encode()).hexdigest()[:16]
        prompt = int(line.split(",")[2])
        read = int(prompt * chance.random() * 0.9)
        write = int((prompt - read) * chance.random() * 0.5)
        source = SOURCES[number % 3]
        out.append(f"{line},{source},{window}-{digest},{read},{write}")
    target.write_text("\n".join(out) + "\n", encoding="utf-8")
    return len(lines)


def cpu(work: Callable[[Path], object], path: Path) -> float:
    start = time.process_time()
    work(path)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    schema = Schema()
    with tempfile.TemporaryDirectory(prefix="bench-shapes-") as folder:
        legacy = Path(folder) / "legacy.csv"
        extended = Path(folder) / "extended.csv"
        write_log(legacy, 10 * MIB)
        rows = extended_copy(legacy, extended)
        print(
            f"{rows:,} rows: 8-column {legacy.stat().st_size / MIB:.1f} MiB, "
            f"extended {extended.stat().st_size / MIB:.1f} MiB"
        )
        tasks: dict[str, Callable[[Path], object]] = {
            "check": lambda path: check_files([path], schema),
            "report --no-costs": lambda path: build_report(
                ValidRows(scan_runs(path, schema)), ReportOptions(costs=False)
            ),
            "report": lambda path: build_report(
                ValidRows(scan_runs(path, schema)), ReportOptions(costs=True)
            ),
        }
        for task in tasks.values():  # warm: compiled patterns, price data loaded
            task(legacy)
            task(extended)
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for name, task in tasks.items():
                for shape, path in (("8-column", legacy), ("extended", extended)):
                    times.setdefault((name, shape), []).append(cpu(task, path))
        print(f"rounds: {args.rounds} (CPU time, medians)")
        for name in tasks:
            old = statistics.median(times[name, "8-column"])
            new = statistics.median(times[name, "extended"])
            print(
                f"{name:<18} extended / 8-column: {new / old:.2f}x per row "
                f"({new:.2f} s vs {old:.2f} s)"
            )


if __name__ == "__main__":
    main()
