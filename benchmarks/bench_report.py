"""Speed and memory of `telemetry-csv report`, as ratios measured side by side in one run.

    .venv/bin/python benchmarks/bench_report.py [--rounds N] [--skip-memory] [--baseline EXE]

pandas is raced against but is not a dependency of telemetry-csv; install it into the same
environment for the benchmark only:

    .venv/bin/pip install pandas

Prints, on a generated 10 MiB log (every command a fresh process, start-up included):
- `report` (Markdown) against a bare `csv.reader` pass over the same file (aim: under 3x),
  with and without cost estimates (costs need the `cost` extra, genai-prices);
- `report` against pandas `read_csv` + groupby computing the same summary (aim: faster); the
  run also checks that both agree on every group's runs, tokens, p50 and p95;
- peak memory (max RSS of the `report` process) on a 100 MiB set of log backups (aim: under
  150 MB), against the same for the csv.reader pass.

Then, in one process (CPU time, best of the rounds), where the report's time goes: reading and
validating every row into `Row`s, aggregating, rendering, each against the csv.reader pass.

`--baseline EXE` times another telemetry-csv executable (say, an older version installed in
another virtual environment) in the same rounds, so a change is measured side by side.

Commands are interleaved round by round, so a noisy neighbour slows all of them alike; each
figure is the median over the rounds. They run without PYTHONDONTWRITEBYTECODE, so that
telemetry-csv's modules load from .pyc files as an installed package's do (a wheel install
compiles them; this environment may set the variable for its own reasons).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report_data import MIB, write_backups, write_log  # noqa: E402

PYTHON = sys.executable
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
TOOL = str(Path(sys.executable).parent / "telemetry-csv")
CSV_PASS = (
    "import csv, sys\n"
    "with open(sys.argv[1], newline='', encoding='utf-8') as file:\n"
    "    for _ in csv.reader(file):\n"
    "        pass\n"
)
PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def peak_rss_mb(command: list[str]) -> float:
    """Max RSS of `command`, measured in a fresh parent so no earlier child counts."""
    done = subprocess.run(
        [PYTHON, "-c", PEAK_RSS, *command], check=True, capture_output=True, text=True, env=ENV
    )
    return int(done.stdout) / 1024  # Linux reports KiB


def cpu_time(function) -> float:
    start = time.process_time()
    function()
    return time.process_time() - start


def breakdown(logs: dict[str, Path], rounds: int) -> dict[str, float]:
    """Best CPU time of each stage of a report, in this process, as `report` runs them."""
    from telemetry_csv.logfile.schema import Schema
    from telemetry_csv.report.aggregate import ReportOptions, build_report
    from telemetry_csv.report.markdown import render_markdown
    from telemetry_csv.report.sources import ValidRows, open_source

    schema = Schema()

    def csv_pass(log: Path) -> None:
        with open(log, newline="", encoding="utf-8") as file:
            for _ in csv.reader(file):
                pass

    def read(log: Path) -> list:
        return list(ValidRows(open_source(schema, files=[str(log)], log_path=log).items))

    def read_and_aggregate(log: Path, costs: bool = False):
        rows = ValidRows(open_source(schema, files=[str(log)], log_path=log).items)
        return build_report(rows, ReportOptions(costs=costs))

    log = logs["10 MiB log"]
    report = read_and_aggregate(log)
    stages = {
        "csv.reader": lambda: csv_pass(log),
        "read and validate (scan_runs)": lambda: read(log),
        "... and aggregate (build_report)": lambda: read_and_aggregate(log),
        "... with costs": lambda: read_and_aggregate(log, costs=True),
        "render Markdown": lambda: render_markdown(report),
    }
    for name, other in logs.items():
        if other != log:
            stages[f"csv.reader, {name}"] = lambda other=other: csv_pass(other)
            stages[f"read and aggregate, {name}"] = lambda other=other: read_and_aggregate(other)
    cpu_time(stages["... with costs"])  # the price data's import, once, outside the timings
    return {name: min(cpu_time(stage) for _ in range(rounds)) for name, stage in stages.items()}


def has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def check_against_pandas(log: Path) -> str:
    """Compare the report's JSON with pandas on the same file; returns a one-line verdict."""
    sys.path.insert(0, str(HERE))
    from pandas_summary import summarise

    done = subprocess.run(
        [TOOL, "report", "--format", "json", "--no-costs", str(log)],
        check=True,
        capture_output=True,
        text=True,
    )
    report = json.loads(done.stdout)
    tables = summarise(str(log))
    compared = 0
    for name, keys in (
        ("by_model", ["model"]),
        ("by_task_type", ["task_type"]),
        ("by_model_task_type", ["model", "task_type"]),
        ("by_day", ["day"]),
        ("by_week", ["week"]),
    ):
        table = tables[name]
        assert len(table) == len(report[name]), f"{name}: {len(table)} vs {len(report[name])}"
        for group in report[name]:
            key = tuple(group[k] for k in keys)
            expected = table.loc[key if len(key) > 1 else key[0]]
            for field in ("runs", "successes", "prompt_tokens", "completion_tokens"):
                assert int(expected[field]) == group[field], (name, key, field)
            for field in ("p50", "p95"):
                assert abs(float(expected[field]) - group["duration_ms"][field]) < 1e-3, (
                    name,
                    key,
                    field,
                )
            compared += 1
    return f"report and pandas agree on all {compared} groups (runs, tokens, p50, p95)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--skip-memory", action="store_true", help="skip the 100 MiB set")
    parser.add_argument(
        "--baseline",
        metavar="TELEMETRY_CSV",
        help="another telemetry-csv executable (an older version) to time in the same rounds",
    )
    args = parser.parse_args()
    costs = has("genai_prices")
    pandas = has("pandas")
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "ten" / "usage.csv"
        log.parent.mkdir()
        rows = write_log(log, 10 * MIB)
        print(f"log file: {log.stat().st_size:,} bytes, {rows:,} rows")
        commands = {
            "csv.reader": [PYTHON, "-c", CSV_PASS, str(log)],
            "report --no-costs": [TOOL, "report", "--no-costs", str(log)],
        }
        if costs:
            commands["report (with costs)"] = [TOOL, "report", str(log)]
        if args.baseline:
            commands["report --no-costs, baseline"] = [
                args.baseline,
                "report",
                "--no-costs",
                str(log),
            ]
            if costs:
                commands["report (with costs), baseline"] = [args.baseline, "report", str(log)]
        if pandas:
            commands["pandas"] = [PYTHON, str(HERE / "pandas_summary.py"), str(log)]
        for command in commands.values():
            timed(command)  # warm the page cache and .pyc files
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, command in commands.items():
                times[name].append(timed(command))
        median = {name: statistics.median(values) for name, values in times.items()}
        verdict = check_against_pandas(log) if pandas else None
        dashes = Path(folder) / "dashes" / "usage.csv"
        dashes.parent.mkdir()
        write_log(dashes, 10 * MIB, dash_notes=49)
        stages = breakdown(
            {"10 MiB log": log, "one note in 49 starting with '-'": dashes},
            max(3, args.rounds // 2),
        )

        memory = {}
        if not args.skip_memory:
            backups = Path(folder) / "hundred" / ".telemetry"
            big_log, big_rows = write_backups(backups, 100 * MIB)
            files = sorted(backups.glob("usage*.csv"))
            size = sum(path.stat().st_size for path in files)
            print(f"backup set: {len(files)} files, {size:,} bytes, {big_rows:,} rows")
            memory["csv.reader (one 10 MiB file)"] = peak_rss_mb(
                [PYTHON, "-c", CSV_PASS, str(files[0])]
            )
            memory["report --no-costs"] = peak_rss_mb(
                [TOOL, "report", "--no-costs", "--file", str(big_log)]
            )
            if costs:
                memory["report (with costs)"] = peak_rss_mb(
                    [TOOL, "report", "--file", str(big_log)]
                )
            memory["report --format json --no-costs"] = peak_rss_mb(
                [TOOL, "report", "--format", "json", "--no-costs", "--file", str(big_log)]
            )

    base = median["csv.reader"]
    print(f"rounds: {args.rounds} (medians; ratios are what to compare across machines)")
    width = max(len(name) for name in median)
    for name, value in median.items():
        if name.startswith("report"):
            print(f"{name:{width}s} vs csv.reader pass: {value / base:5.2f}x (aim: under 3x)")
    if pandas:
        print(
            f"{'pandas':{width}s} vs csv.reader pass: {median['pandas'] / base:5.2f}x (for scale)"
        )
        for name in median:
            if name.startswith("report"):
                print(
                    f"{name:{width}s} vs pandas:           {median[name] / median['pandas']:5.2f}x "
                    "(aim: under 1x, faster)"
                )
        print(verdict)
    else:
        print("pandas is not installed: `.venv/bin/pip install pandas` to race against it")
    if not costs:
        print("genai-prices is not installed: `.venv/bin/pip install -e '.[cost]'` to time costs")
    print("in one process, CPU time against the csv.reader pass over the same log:")
    for name, seconds in stages.items():
        if name.startswith("csv.reader"):
            continue
        base_name = "csv.reader" + (f", {name.split(', ', 1)[1]}" if ", " in name else "")
        print(f"  {name:48s} {seconds / stages[base_name]:5.2f}x")
    for name, megabytes in memory.items():
        aim = "for comparison" if name.startswith("csv") else "aim: under 150 MB"
        print(f"peak RSS, 100 MiB of backups, {name}: {megabytes:.0f} MB ({aim})")


if __name__ == "__main__":
    main()
