"""Speed of `log` and `check`, as ratios measured side by side in one run.

    .venv/bin/python benchmarks/bench_log_check.py [--rounds N]

Prints, on a generated 10 MiB log:
- `telemetry-csv log` wall time against `python -c "import filelock"`, the floor for any tool
  that must take a file lock from a fresh interpreter (aim: within 1.5x);
- `log` appending to the 10 MiB log against `log` appending to an empty one (aim: within 1.2x);
- `check` (in-process) against a bare `csv.reader` pass over the same file (aim: under 3x).

Commands are interleaved round by round, so a noisy neighbour slows all of them alike; each
figure is the median over the rounds.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report_data import MIB, write_log

from telemetry_csv.logfile.checking import check_files
from telemetry_csv.logfile.schema import HEADER_LINE, Schema

TEN_MIB = 10 * MIB


# As on a user's machine, modules are loaded from bytecode: some sandboxes set
# PYTHONDONTWRITEBYTECODE, which would make every run recompile this package from source.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def timed_call(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def csv_reader_pass(path: Path) -> None:
    with open(path, newline="", encoding="utf-8") as file:
        for _ in csv.reader(file):
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    tool = str(Path(sys.executable).parent / "telemetry-csv")
    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "big" / "usage.csv"
        big.parent.mkdir()
        rows = write_log(big, TEN_MIB)
        empty = Path(folder) / "empty" / "usage.csv"
        empty.parent.mkdir()
        empty.write_text(HEADER_LINE + "\n")
        print(f"log file: {big.stat().st_size:,} bytes, {rows:,} rows")

        row = ["claude-3-opus", "1500", "3200", "true", "execute", "45000", "bench"]
        # Large enough that the benchmark's own appends never trigger a rotation.
        big_log = [tool, "log", *row, "--file", str(big), "--max-bytes", str(2 * TEN_MIB), "-q"]
        empty_log = [tool, "log", *row, "--file", str(empty), "-q"]
        floor = [sys.executable, "-c", "import filelock"]
        times: dict[str, list[float]] = {"floor": [], "big": [], "empty": []}
        for command in (floor, big_log, empty_log):
            timed(command)  # warm the page cache and .pyc files
        for _ in range(args.rounds):
            times["floor"].append(timed(floor))
            times["big"].append(timed(big_log))
            times["empty"].append(timed(empty_log))
        median = {name: statistics.median(values) for name, values in times.items()}

        schema = Schema()
        check_times, reader_times = [], []
        check_files([big], schema)  # warm
        for _ in range(max(3, args.rounds // 4)):
            reader_times.append(timed_call(lambda: csv_reader_pass(big)))
            result = None

            def run_check() -> None:
                nonlocal result
                result = check_files([big], schema)

            check_times.append(timed_call(run_check))
            assert result is not None and result.ok and result.rows >= rows
        check_median = statistics.median(check_times)
        reader_median = statistics.median(reader_times)

    print(f"rounds: {args.rounds} (medians; ratios are what to compare across machines)")
    print(
        f"log on 10 MiB vs python -c 'import filelock': {median['big'] / median['floor']:.2f}x "
        "(aim: within 1.5x)"
    )
    print(
        f"log on 10 MiB vs log on an empty log:         {median['big'] / median['empty']:.2f}x "
        "(aim: within 1.2x)"
    )
    print(
        f"check vs bare csv.reader pass (10 MiB):       {check_median / reader_median:.2f}x "
        "(aim: under 3x)"
    )


if __name__ == "__main__":
    main()
